"""A real JupyterLab on loopback, driven by Debian's headless Chromium through Playwright.

`lab` starts `.venv/bin/jupyter lab` on `notebooks/` with a random token, fast notebooks
(LABKIT_FAST=1), autosave off (running must never rewrite the committed notebooks; they are
restored byte for byte afterwards anyway) and every cell kept in the DOM. `page` is a fresh
Chromium tab. Chromium is Debian's package: installed with apt when missing and we are root,
never Playwright's own download.
"""
from __future__ import annotations

import json
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
CHROMIUM = pathlib.Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
# JupyterLab user settings for the test: no autosave, no news/update checks, no kernel dialog,
# no virtualised cells (a widget far down the page must still render).
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none", "autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def _ensure_chromium() -> pathlib.Path:
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0:
        pytest.skip(f"{CHROMIUM} is missing and installing Debian's chromium needs root: "
                    "run `sudo apt-get install -y chromium` once")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"`{' '.join(cmd)}` failed ({done.returncode}); install Debian's chromium by hand:\n"
                        f"{(done.stdout + done.stderr)[-2000:]}")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running JupyterLab: `url(path)` gives an authenticated address."""

    def __init__(self, port: int, token: str, proc: subprocess.Popen, log: pathlib.Path):
        self.port, self.token, self.proc, self.log = port, token, proc, log

    def url(self, path: str = "lab") -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def wait_ready(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(self.url("api/status"), timeout=2)
                return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"jupyter lab did not answer in {timeout_s} s:\n{self.log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def chromium_path() -> pathlib.Path:
    return _ensure_chromium()


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    jupyter = pathlib.Path(sys.prefix) / "bin" / "jupyter"
    if not jupyter.exists():
        pytest.skip(f"{jupyter} is missing: run `make setup`")
    home = tmp_path_factory.mktemp("lab")
    for plugin, values in LAB_SETTINGS.items():
        f = home / "settings" / f"{plugin}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(values))
    originals = {p: p.read_bytes() for p in NOTEBOOK_DIR.glob("*.ipynb")}
    env = dict(os.environ, LABKIT_FAST="1", PYTHONWARNINGS="ignore", LABKIT_CACHE=str(home / "cache"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    port, token, log = _free_port(), secrets.token_hex(16), home / "lab.log"
    cmd = [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--ServerApp.token={token}", f"--notebook-dir={NOTEBOOK_DIR}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    server = Lab(port, token, proc, log)
    try:
        server.wait_ready()
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for path, content in originals.items():  # running never changes what is committed
            if path.read_bytes() != content:
                path.write_bytes(content)
        for leftover in (NOTEBOOK_DIR / ".ipynb_checkpoints", NOTEBOOK_DIR / ".virtual_documents"):
            if leftover.exists() and not any(leftover.iterdir()):
                shutil.rmtree(leftover)


@pytest.fixture(scope="session")
def browser(chromium_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1700})
    tab = context.new_page()
    tab.console_errors = []
    tab.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))
    yield tab
    context.close()
