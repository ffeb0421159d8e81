"""Browser tests: the course's JupyterLab, driven by Playwright in Debian's Chromium.

Run by ``make test-browser`` (which sets ``COURSE_BROWSER_TESTS=1`` and installs what is missing);
a plain ``pytest tests`` (``make unit``, ``make test-colab``) skips them. One JupyterLab server
(like ``make lab``: loopback, a random token, ``notebooks/`` as root, fast mode) and one Chromium
serve the whole session. Screenshots and ``latency.json`` go to ``artifacts/browser/``.

Playwright is imported inside the fixtures only, so that environments without it (Colab's
versions) can still collect this folder and skip it.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "artifacts" / "browser"
ENABLE_VAR = "COURSE_BROWSER_TESTS"
# The launch flags that work on the course's closed-network CI machines: without the
# background-networking ones, Chromium's own connections get refused, many at a time.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Settings of the test's own JupyterLab: never autosave (the notebooks are the course's files,
# executed here in fast mode), attach every cell to the DOM, fetch no news from the network.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
}
LAB_START_S = 90
RUN_ALL_S = 600  # a generous limit: CI runs another test suite beside this one
LATENCY_KEY = pytest.StashKey[dict]()
RUN_SECONDS_KEY = pytest.StashKey[dict]()


def pytest_collection_modifyitems(config, items):
    if os.environ.get(ENABLE_VAR) == "1":
        return
    skip = pytest.mark.skip(reason="browser tests run with `make test-browser`")
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(skip)


def pytest_generate_tests(metafunc):
    """``notebook_name``: every notebook, one module-wide run each (Run All Cells, then its
    explorers, if it shows any)."""
    if "notebook_name" in metafunc.fixturenames:
        names = [nb.name for nb in sorted(NOTEBOOKS.glob("*.ipynb"))]
        metafunc.parametrize("notebook_name", names, scope="module")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    tr = terminalreporter
    runs = config.stash.get(RUN_SECONDS_KEY, None)
    if runs:
        tr.section("JupyterLab: Run All Cells, fast mode")
        for name, seconds in runs.items():
            tr.write_line(f"{name:<40} {seconds:6.1f} s")
    report = config.stash.get(LATENCY_KEY, None)
    if not report:
        return
    tr.section("explorers: control → new image in the browser (target p95 ≤ 150 ms)")
    for key, row in report.items():
        tr.write_line(f"{key:<56} n {row['moves']:>3}  p50 {row['p50_ms']:6.1f} ms  "
                      f"p95 {row['p95_ms']:6.1f} ms  max {row['max_ms']:6.1f} ms  "
                      f"({row['measured']})")
    tr.write_line(f"written to {ARTIFACTS.relative_to(REPO) / 'latency.json'}")


# ----------------------------------------------------------------------------- notebooks
def explorer_names() -> set[str]:
    """The ``*_explorer`` functions that course_utils' widget modules define."""
    names = set()
    for module in (REPO / "course_utils" / "widgets").glob("*.py"):
        names |= set(re.findall(r"^def (\w+_explorer)\(", module.read_text(), re.M))
    return names


def explorer_calls(notebook: Path) -> list[str]:
    """The explorer calls in a notebook's code cells, in order (one shown per call)."""
    names = explorer_names()
    cells = json.loads(notebook.read_text())["cells"]
    calls = []
    for cell in cells:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            calls += [n for n in re.findall(r"(?<!def )\b(\w+_explorer)\(", source) if n in names]
    return calls


def notebooks_with_explorers() -> list[Path]:
    return [nb for nb in sorted(NOTEBOOKS.glob("*.ipynb")) if explorer_calls(nb)]


# ----------------------------------------------------------------------------- JupyterLab
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running JupyterLab: ``url(path)`` gives an address with the token."""

    def __init__(self, base: str, token: str, log: Path):
        self.base, self.token, self.log = base, token, log

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}?token={self.token}"


@pytest.fixture(scope="session")
def chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser")
    if not path:
        pytest.skip("Chromium is not installed: `sudo apt-get install chromium` (Debian), "
                    "or as root `make test-browser` installs it")
    return path


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> Lab:
    """The project's JupyterLab as ``make lab`` starts it, on a free port, fast mode."""
    home = tmp_path_factory.mktemp("lab")
    for plugin, values in LAB_SETTINGS.items():
        target = home / "settings" / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    port, token = _free_port(), secrets.token_hex(16)
    jupyter = Path(sys.prefix) / "bin" / "jupyter"
    cmd = [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--ServerApp.root_dir={NOTEBOOKS}", f"--IdentityProvider.token={token}",
           # window.jupyterapp, for running commands (as JupyterLab's own UI tests do)
           "--LabApp.expose_app_in_browser=True",
           f"--LabApp.user_settings_dir={home / 'settings'}",
           f"--LabApp.workspaces_dir={home / 'workspaces'}",
           # opening a notebook makes a checkpoint: keep it out of the repository
           f"--FileCheckpoints.checkpoint_dir={home / 'checkpoints'}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    # models trained here go to the test's own folder, never the user's cache; the notebooks are
    # run as a student gets them, so every exercise check must say "not attempted yet"
    env = dict(os.environ, COURSE_FAST="1", JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               PYTHONUNBUFFERED="1", COURSE_CACHE_DIR=str(home / "cache"),
               COURSE_EXPECT_CHECKS="not-attempted")
    env.setdefault("COURSE_COMPILE_CACHE_DIR", str(home / "compiled"))
    log = home / "jupyter.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + LAB_START_S
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start (exit {proc.poll()}):\n"
                                f"{log.read_text()[-3000:]}")
                time.sleep(0.3)
        yield Lab(base, token, log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    with sync_playwright() as pw:
        # a persistent context gives Chromium a fresh --user-data-dir of our own
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1300})
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def latency_report(request, artifacts):
    """``{"<notebook> / <explorer>": {moves, p50_ms, p95_ms, max_ms, samples_ms}}``, written to
    ``artifacts/browser/latency.json`` and printed at the end of the run."""
    report: dict = {}
    request.config.stash[LATENCY_KEY] = report
    yield report
    if report:
        (artifacts / "latency.json").write_text(json.dumps(report, indent=2) + "\n")


# ----------------------------------------------------------------------------- a page
# JavaScript run in the page; _JS_NOTEBOOK is the notebook panel that the page opened.
_JS_NOTEBOOK = "window.jupyterapp.shell.currentWidget"

_JS_KERNEL_READY = """() => {
    const app = window.jupyterapp;
    const nb = app && app.shell.currentWidget;
    const kernel = nb && nb.sessionContext && nb.sessionContext.session
        && nb.sessionContext.session.kernel;
    return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle'
        && nb.content.widgets.length > 0;
}"""

_JS_RUN_ALL = f"""async (timeoutMs) => {{
    const app = window.jupyterapp;
    const nb = {_JS_NOTEBOOK};
    await nb.revealed;
    const timeout = new Promise((_, reject) => setTimeout(
        () => reject(new Error('Run All Cells took more than ' + timeoutMs + ' ms')), timeoutMs));
    return await Promise.race([app.commands.execute('notebook:run-all-cells'), timeout]);
}}"""

_JS_OUTPUTS = f"""() => {{
    const cells = {_JS_NOTEBOOK}.model.cells;
    const out = [];
    for (let i = 0; i < cells.length; i++) {{
        const cell = cells.get(i);
        if (cell.type !== 'code') continue;
        out.push({{index: i, count: cell.executionCount, source: cell.sharedModel.getSource(),
                   outputs: cell.outputs.toJSON()}});
    }}
    return out;
}}"""


class NotebookPage:
    """One notebook open in JupyterLab in its own browser tab (and its own workspace)."""

    def __init__(self, page, name: str, run_seconds: dict):
        self.page, self.name, self._run_seconds = page, name, run_seconds
        self.explorers = explorer_calls(NOTEBOOKS / name)  # the explorer calls, in order
        self.run_seconds = math.nan

    def run_all(self) -> float:
        """Run → Run All Cells; return the seconds it took once the kernel is idle again."""
        start = time.monotonic()
        self.page.evaluate(_JS_RUN_ALL, RUN_ALL_S * 1000)
        self.page.wait_for_function(_JS_KERNEL_READY, timeout=60_000)
        self.run_seconds = self._run_seconds[self.name] = time.monotonic() - start
        return self.run_seconds

    def code_cells(self) -> list[dict]:
        return self.page.evaluate(_JS_OUTPUTS)

    def shutdown_kernel(self) -> None:
        self.page.evaluate(f"() => {_JS_NOTEBOOK}.sessionContext.shutdown()")


@pytest.fixture(scope="session")
def open_notebook(request, browser, lab):
    """``open_notebook("02_latent_dimension.ipynb")`` → a NotebookPage with an idle kernel."""
    opened: list[NotebookPage] = []
    run_seconds = request.config.stash.setdefault(RUN_SECONDS_KEY, {})

    def _open(name: str) -> NotebookPage:
        page = browser.new_page()
        page.set_default_timeout(30_000)
        nb = NotebookPage(page, name, run_seconds)
        # a workspace of its own, so that the tab restores no other notebook (and its kernel)
        workspace = "w" + secrets.token_hex(4)
        page.goto(lab.url(f"lab/workspaces/{workspace}/tree/{name}"))
        page.wait_for_function(_JS_KERNEL_READY, timeout=LAB_START_S * 1000)
        opened.append(nb)
        return nb

    yield _open
    for nb in opened:
        if not nb.page.is_closed():
            try:
                nb.shutdown_kernel()
            finally:
                nb.page.close()
