"""The conda environment and pyproject.toml pin the same packages at the same versions."""
import pathlib
import re
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _pyproject_pins() -> dict[str, str]:
    proj = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = proj["dependencies"] + [r for extra in proj["optional-dependencies"].values() for r in extra]
    return dict(r.split("==") for r in reqs)


def _conda_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"\s*-\s*([A-Za-z0-9_.\-]+)==(\S+)\s*$", line)
        if m:
            pins[m.group(1)] = m.group(2)
    return pins


def test_every_dependency_is_pinned_exactly():
    proj = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for req in proj["dependencies"]:
        assert "==" in req, f"{req} in pyproject.toml is not pinned with =="


def test_environment_yml_matches_pyproject():
    assert _conda_pins() == _pyproject_pins()


def test_torch_pin_is_the_cpu_wheel_version():
    assert _pyproject_pins()["torch"] == "2.13.0"
