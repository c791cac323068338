"""The package's shape, as DESIGN.md states it: layers import only downwards, functions stay short,
and no public function hides a module of the same name."""
from __future__ import annotations

import ast
import importlib
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "labkit"
MAX_FUNCTION_LINES = 60  # docstring aside
# who may import whom (DESIGN.md's table); cli and bench sit on top of everything
LOWER = {
    "data": set(),
    "models": set(),
    "runs": {"data", "models"},
    "train": {"data", "models", "runs"},
    "explain": {"data", "models"},
    "lessons": {"data", "models", "train", "explain", "runs"},
    "viz": {"data", "models", "explain", "runs", "lessons"},
    "widgets": {"data", "models", "runs", "train", "explain", "lessons", "viz"},
}
TOP = {"cli", "bench"}
SOURCES = sorted(ROOT.rglob("*.py"))


def _layer(path: pathlib.Path) -> str | None:
    rel = path.relative_to(ROOT).parts
    return rel[0] if len(rel) > 1 else None


def _imported_layers(path: pathlib.Path) -> set[str]:
    """The labkit sub-packages a module imports (absolute or relative imports)."""
    tree = ast.parse(path.read_text())
    package = ["labkit", *path.relative_to(ROOT).parts[:-1]]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            names = [module] if node.module else [f"{module}.{a.name}" for a in node.names]
            if module == "labkit":
                names = [f"labkit.{a.name}" for a in node.names]
        else:
            continue
        found |= {n.split(".")[1] for n in names if n.startswith("labkit.") and len(n.split(".")) > 1}
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_layers_import_only_downwards(path):
    layer = _layer(path)
    if layer is None or layer in TOP:
        return
    allowed = LOWER[layer] | {layer, "__version__", "errors"}  # labkit.errors: every layer's error types
    wrong = _imported_layers(path) - allowed
    assert not wrong, f"labkit.{layer} may not import labkit.{', labkit.'.join(sorted(wrong))}"


def _long_functions(path: pathlib.Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = node.end_lineno - node.lineno + 1
            doc = node.body[0] if node.body and isinstance(node.body[0], ast.Expr) and \
                isinstance(getattr(node.body[0], "value", None), ast.Constant) and \
                isinstance(node.body[0].value.value, str) else None
            if doc is not None:
                lines -= doc.end_lineno - doc.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                out.append(f"{node.name} ({lines} lines, line {node.lineno})")
    return out


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_function_is_longer_than_sixty_lines(path):
    assert not _long_functions(path), f"{path.name}: {_long_functions(path)}"


PACKAGES = sorted(p.parent for p in ROOT.rglob("__init__.py"))


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_no_public_name_hides_a_module(package):
    name = ".".join(package.relative_to(ROOT.parent).parts)
    mod = importlib.import_module(name)
    modules = {p.stem for p in package.glob("*.py")} | {p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    hidden = sorted(n for n in modules - {"__init__", "__main__"}
                    if hasattr(mod, n) and not isinstance(getattr(mod, n), type(mod)))
    assert not hidden, f"{name}: {hidden} name both a module and something else in the package"
