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
LESSON_TESTS = ROOT / "tests" / "lessons"
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


def pytest_collection_modifyitems(session, config, items):
    """The browser tests run last in a session (in their own order): notebook 03 then reuses the
    quick lessons that tests/lessons trained into the session's LABKIT_LESSONS_ROOT, instead of
    training them in the browser. Run alone, they train them (a few minutes more)."""
    here = pathlib.Path(__file__).resolve().parent
    items.sort(key=lambda item: here in pathlib.Path(str(item.fspath)).resolve().parents)  # a stable sort


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


def _has_outputs(path: pathlib.Path) -> bool:
    """True when a notebook holds outputs or execution counts: saved from a running lab, not
    edited by hand (committed notebooks have neither)."""
    cells = json.loads(path.read_text()).get("cells", [])
    return any(c.get("outputs") or c.get("execution_count") for c in cells if c.get("cell_type") == "code")


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
def lab(tmp_path_factory, request):
    jupyter = pathlib.Path(sys.prefix) / "bin" / "jupyter"
    if not jupyter.exists():
        pytest.skip(f"{jupyter} is missing: run `make setup`")
    home = tmp_path_factory.mktemp("lab")
    for plugin, values in LAB_SETTINGS.items():
        f = home / "settings" / f"{plugin}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(values))
    originals = {p: p.read_bytes() for p in NOTEBOOK_DIR.glob("*.ipynb")}
    # LABKIT_LESSONS_ROOT: with tests/lessons in the session (make test), its one folder of lesson
    # runs (tests/conftest.py), trained there and reused by notebooks 03 and 06 here; without it,
    # the notebooks' own default (../runs/lessons, git-ignored): trained once, then reused
    env = dict(os.environ, LABKIT_FAST="1", PYTHONWARNINGS="ignore", LABKIT_CACHE=str(home / "cache"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    if not any(LESSON_TESTS in pathlib.Path(str(item.fspath)).resolve().parents for item in request.session.items):
        env.pop("LABKIT_LESSONS_ROOT", None)
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
            if path.exists() and path.read_bytes() != content and _has_outputs(path):
                path.write_bytes(content)  # saved by the lab; an edit made meanwhile (no outputs) stays
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


VIEWPORT = {"width": 1400, "height": 1700}


def _tab(context):
    tab = context.new_page()
    tab.console_errors = []
    tab.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))
    return tab


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    yield _tab(context)
    context.close()


# ---- driving a notebook as a student does: menus, clicks, keys ---------------------------------
IMG_DIR = ROOT / "docs" / "img"
MAX_SCREENSHOT_BYTES = 500_000
SLACK_PX = 1  # sub-pixel rounding
# Each visible plotly figure's svg and title next to the output area that holds it (page pixels).
PLOT_BOXES = """() => [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output')].flatMap(out => {
    const area = out.getBoundingClientRect();
    const plots = out.matches('.js-plotly-plot') ? [out] : [...out.querySelectorAll('.js-plotly-plot')];
    return plots.filter(p => p.offsetParent !== null).map(plot => {
        const svg = plot.querySelector('.main-svg').getBoundingClientRect();
        const title = plot.querySelector('.gtitle');
        const t = title ? title.getBoundingClientRect() : null;
        return {area_left: area.left, area_right: area.right, left: svg.left, right: svg.right,
                width: svg.width, title: title ? title.textContent : '',
                title_left: t ? t.left : svg.left, title_right: t ? t.right : svg.right};
    });
})"""


class Notebook:
    """One notebook of `notebooks/` open in the lab's tab `page`.

    `open()` loads it in a fresh workspace and waits for its kernel; `menu("Run", "Run All Cells")`
    clicks through the menu bar; `cell(i)` is the i-th code cell, `prompts()` their prompts,
    `wait_ran(cells)` waits for them to have run; `run_below(i, code)` types a new cell after
    cell i and runs it (its output text back); `screenshot(locator, name)` writes docs/img/<name>.
    """

    def __init__(self, page, lab, name: str):
        self.page, self.lab, self.name = page, lab, name

    def open(self) -> "Notebook":
        # a workspace of its own per notebook: tabs of one session never restore each other's
        workspace = pathlib.Path(self.name).stem.strip("_")
        self.page.goto(self.lab.url(f"lab/workspaces/{workspace}/tree/{self.name}").replace("?", "?reset&"))
        self.wait_idle(90_000)
        return self

    def wait_idle(self, timeout_ms: int = 60_000) -> None:
        self.page.wait_for_selector(".jp-StatusBar-TextItem:has-text('| Idle')", timeout=timeout_ms)

    def menu(self, menu: str, item: str) -> None:
        self.page.click(f".lm-MenuBar-itemLabel:text-is('{menu}')")
        self.page.click(f".lm-Menu-itemLabel:text-is('{item}')")

    def cell(self, i: int):
        return self.page.locator(".jp-Notebook .jp-CodeCell").nth(i)

    def select(self, i: int) -> None:
        """Select code cell i (command mode), as a click on its prompt does."""
        self.cell(i).locator(".jp-InputPrompt").click()

    def prompts(self) -> list[str]:
        return self.page.eval_on_selector_all(".jp-Notebook .jp-CodeCell .jp-InputPrompt",
                                              "ps => ps.map(p => p.textContent.trim())")

    def wait_ran(self, cells=None, timeout_ms: int = 300_000) -> None:
        """Wait until the code cells `cells` (default: all) show an execution count, then for idle."""
        self.page.wait_for_function(
            """(cells) => {
                const ps = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')];
                const chosen = cells === null ? ps : cells.map(i => ps[i]);
                return ps.length > 0 && chosen.every(p => p && /\\[\\d+\\]/.test(p.textContent));
            }""", arg=None if cells is None else list(cells), timeout=timeout_ms, polling=500)
        self.wait_idle()

    def run_all(self, timeout_ms: int = 900_000) -> None:
        self.menu("Run", "Run All Cells")
        self.wait_ran(timeout_ms=timeout_ms)
        self.page.wait_for_timeout(1500)  # plotly and the widgets lay out after the kernel went idle

    def run_below(self, i: int, code: str, timeout_ms: int = 120_000) -> str:
        """Insert a code cell after code cell i, type `code`, run it; the new cell's output text."""
        self.select(i)
        self.page.keyboard.press("b")  # a new cell below, selected
        self.page.keyboard.press("Enter")  # edit it
        self.page.keyboard.type(code)
        self.page.keyboard.press("Shift+Enter")
        self.wait_ran([i + 1], timeout_ms)
        return self.cell(i + 1).locator(".jp-OutputArea").inner_text()

    def index_of(self, text: str) -> int:
        """The index of the first code cell whose source contains `text`."""
        sources = self.page.eval_on_selector_all(".jp-Notebook .jp-CodeCell .jp-InputArea-editor",
                                                 "es => es.map(e => e.textContent)")
        found = [i for i, s in enumerate(sources) if text in s]
        assert found, f"{self.name}: no code cell contains {text!r}"
        return found[0]

    def press_slider(self, app, label: str, key: str, times: int = 1) -> str:
        """Focus the handle of `app`'s slider labelled `label`, press `key` `times` times; its value after."""
        handle = app.locator(f".widget-slider:has(.widget-label:text-is('{label}')) .noUi-handle").first
        handle.scroll_into_view_if_needed()
        handle.focus()
        for _ in range(times):
            self.page.keyboard.press(key)
            self.page.wait_for_timeout(250)
        return handle.get_attribute("aria-valuenow")

    def errors(self) -> str:
        """Widget and cell errors shown in the notebook ("" when none)."""
        text = self.page.inner_text(".jp-Notebook")
        found = [m for m in ("Error displaying widget", "Failed to load model class", "Traceback") if m in text]
        return f"{self.name}: {found} in the page:\n{text[-2000:]}" if found else ""

    def figures(self) -> tuple[list[dict], list[dict]]:
        """(every visible plotly figure's box, those wider than their output area or with a cut title)."""
        boxes = self.page.evaluate(PLOT_BOXES)
        wide = [b for b in boxes if b["left"] < b["area_left"] - SLACK_PX or b["right"] > b["area_right"] + SLACK_PX]
        cut = [b for b in boxes if b["title_left"] < b["left"] - SLACK_PX or b["title_right"] > b["right"] + SLACK_PX]
        print(f"{self.name}: {len(boxes)} figures, widths", [round(b["width"]) for b in boxes], "in output areas of",
              sorted({round(b["area_right"] - b["area_left"]) for b in boxes}))
        return boxes, wide + cut

    def screenshot(self, locator, name: str) -> pathlib.Path:
        """docs/img/<name>: a screenshot of `locator` (an app), kept small for the README."""
        # an app taller than the notebook's view would be cut by the lab's status bar: a taller window
        height = locator.bounding_box()["height"]
        if height + 250 > VIEWPORT["height"]:
            self.page.set_viewport_size({**VIEWPORT, "height": int(height) + 250})
        locator.scroll_into_view_if_needed()
        self.page.wait_for_timeout(800)
        IMG_DIR.mkdir(parents=True, exist_ok=True)
        path = IMG_DIR / name
        try:
            locator.screenshot(path=str(path))
        finally:
            self.page.set_viewport_size(VIEWPORT)
        size = path.stat().st_size
        assert size < MAX_SCREENSHOT_BYTES, f"{path} is {size} bytes; keep screenshots small"
        return path

    def close(self) -> None:
        """Shut down this notebook's kernel (the notebooks other tests share keep theirs)."""
        for session in json.load(urllib.request.urlopen(self.lab.url("api/sessions"))):
            if session.get("path") == self.name:
                urllib.request.urlopen(urllib.request.Request(self.lab.url(f"api/sessions/{session['id']}"),
                                                              method="DELETE"))


@pytest.fixture(scope="session")
def ran(lab, browser):
    """ran(name) -> the `Notebook` notebooks/<name> after Run All, in a tab of its own. Each
    notebook runs once per session (the judged checks of one notebook share its run, which keeps
    the browser tests fast); its kernel stays up until the session ends."""
    context = browser.new_context(viewport=VIEWPORT)
    done = {}

    def run(name: str) -> Notebook:
        if name not in done:
            done[name] = nb = Notebook(_tab(context), lab, name)
            started = time.monotonic()
            try:
                nb.open().run_all()
            except Exception as e:  # the tests that look at this notebook fail at once, not after a rerun
                nb.failed = f"{name} did not run to its end in the browser: {type(e).__name__}: {e}"
                raise
            finally:
                print(f"{name}: Run All took {time.monotonic() - started:.0f} s")
        if getattr(done[name], "failed", None):
            pytest.fail(done[name].failed)
        done[name].page.bring_to_front()
        return done[name]

    yield run
    for nb in done.values():
        nb.close()
    context.close()


@pytest.fixture
def notebook(lab, page):
    """notebook(name) -> an opened `Notebook`; every kernel is shut down afterwards."""
    opened = []

    def open_notebook(name: str) -> Notebook:
        opened.append(Notebook(page, lab, name).open())
        return opened[-1]

    yield open_notebook
    for nb in opened:
        nb.close()


@pytest.fixture
def scratch_notebook():
    """scratch_notebook(name, cells) writes notebooks/<name> (code cells from source strings) for
    one test and removes it afterwards; returns the name."""
    import nbformat

    written = []

    def write(name: str, cells: list[str]) -> str:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in cells])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (labkit)", "language": "python"}
        path = NOTEBOOK_DIR / name
        nbformat.write(nb, path)
        written.append(path)
        return name

    yield write
    for path in written:
        path.unlink(missing_ok=True)
        (NOTEBOOK_DIR / ".ipynb_checkpoints" / f"{path.stem}-checkpoint.ipynb").unlink(missing_ok=True)

