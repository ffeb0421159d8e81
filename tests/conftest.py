"""Shared test set-up: a non-interactive matplotlib backend, a private cache folder, and a real
HTTP server on loopback for the download tests."""

import os
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Models trained by tests go to a throw-away cache, never the user's."""
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt  # noqa: PLC0415 (only after matplotlib.use("Agg") above)

    plt.close("all")


class _QuietHandler(SimpleHTTPRequestHandler):
    requests_seen: list[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.requests_seen.append(self.path)
        super().do_GET()


@pytest.fixture
def server(tmp_path, monkeypatch) -> Iterator[tuple[str, Path, list[str]]]:
    """An HTTP server on 127.0.0.1 serving a tmp folder: (base URL, folder, request paths)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    root = tmp_path / "served"
    root.mkdir()
    seen: list[str] = []
    handler = type("Handler", (_QuietHandler,), {"requests_seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", root, seen
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
