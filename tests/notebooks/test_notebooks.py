"""Every notebook runs top to bottom, headless, in fast mode (LABKIT_FAST=1), with no cell errors.

Each notebook is executed with nbclient on the "python3" kernel of this interpreter's prefix
(the .venv kernelspec that `make setup` installs), from `notebooks/` as working directory, and
the widgets it displays must serialise their state into the notebook's metadata (what a saved
notebook needs to show them again).
"""
from __future__ import annotations

import pathlib
import sys
import time

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(p.name for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
CELL_TIMEOUT_S = 240
# notebooks whose apps (ModelBuilder, TrainingDashboard, SaliencyExplorer, RunsBoard) must display
WIDGET_NOTEBOOKS = {"02_model.ipynb", "03_train.ipynb", "04_explain.ipynb", "05_experiments.ipynb"}


def _venv_kernels() -> KernelSpecManager:
    """Kernelspecs of this interpreter's prefix only, so a user-wide "python3" cannot shadow the venv's."""
    return KernelSpecManager(kernel_dirs=[str(pathlib.Path(sys.prefix) / "share" / "jupyter" / "kernels")])


def _widget_views(nb) -> set[str]:
    """model_ids of every widget the executed notebook displays."""
    return {
        out["data"][WIDGET_VIEW]["model_id"]
        for cell in nb.cells if cell.cell_type == "code"
        for out in cell.get("outputs", []) if WIDGET_VIEW in out.get("data", {})
    }


def test_the_six_notebooks_exist():
    assert NOTEBOOKS == ["01_data.ipynb", "02_model.ipynb", "03_train.ipynb", "04_explain.ipynb",
                         "05_experiments.ipynb", "06_scarce_and_small.ipynb"]


def test_kernel_is_this_venv():
    spec = _venv_kernels().get_kernel_spec("python3")
    assert pathlib.Path(spec.argv[0]).resolve() == pathlib.Path(sys.executable).resolve(), (
        f"kernel 'python3' runs {spec.argv[0]}, not {sys.executable}; run `make setup`")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_clean(name):
    """Committed notebooks carry no outputs or execution counts, and open with a `parameters` cell."""
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), f"{name} has outputs"
    assert "parameters" in code[0].metadata.get("tags", []), f"{name}: first code cell is not tagged parameters"
    assert 'LABKIT_FAST' in code[0].source


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_fast_mode(name, monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_FAST", "1")
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "cache"))  # decoded clips of temp folders stay out of data/
    monkeypatch.setenv("PYTHONWARNINGS", "ignore")  # deprecation noise from dependencies is not a failure
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=_venv_kernels())
    client = NotebookClient(
        nb, km=km, timeout=CELL_TIMEOUT_S, allow_errors=False, store_widget_state=True,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError naming the cell on the first error
    print(f"{name}: {time.perf_counter() - start:.1f} s")

    views = _widget_views(nb)
    assert views or name not in WIDGET_NOTEBOOKS, f"{name} displayed no widget"
    if views:
        state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
        missing = views - set(state)
        assert not missing, f"{name}: displayed widgets without saved state: {sorted(missing)[:5]}"
