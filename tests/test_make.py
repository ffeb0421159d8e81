"""The Makefile's own behaviour: `make lab`'s access token and the Python that builds `.venv`.

These run `make` for real: `make lab` serves JupyterLab on a free loopback port (its settings,
checkpoints and runtime files in a tmp folder), and `make install` runs in a tmp copy of the
files it needs, with pip kept offline so that no test installs anything.
"""

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
STAMP = ".venv/.installed"
URL_LINE = re.compile(r"^JupyterLab: (http://127\.0\.0\.1:(\d+)/lab\?token=(\S*))$", re.M)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def lab_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The user's environment without any token, with JupyterLab's files and the model cache
    in ``tmp_path`` (nothing is written to notebooks/ or the user's Jupyter folders)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("COURSE_LAB_TOKEN", "JUPYTER_TOKEN", "TOKEN", "MAKEFLAGS", "MFLAGS")}
    config = tmp_path / "jupyter-config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(json.dumps(
        {"FileCheckpoints": {"checkpoint_dir": str(tmp_path / "checkpoints")}}))
    env.update(JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               COURSE_CACHE_DIR=str(tmp_path / "cache"), NO_PROXY="127.0.0.1",
               no_proxy="127.0.0.1", **extra)
    return env


def make_lab_command(port: int) -> list[str]:
    """`make lab PORT=...`, as the README says. `make test` installs before the tests run; when
    pyproject.toml or the lock changed since, the install is not redone here (``-o``)."""
    cmd = ["make", "--no-print-directory", "lab", f"PORT={port}"]
    up_to_date = subprocess.run(["make", "--question", "install"], cwd=REPO,
                                capture_output=True).returncode == 0
    return cmd if up_to_date else cmd[:1] + ["-o", STAMP] + cmd[1:]


def stop_group(proc: subprocess.Popen) -> None:
    """Stop ``make`` and everything it started (its own process group)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=15)
            break
        except subprocess.TimeoutExpired:
            continue
    if proc.stdout:
        proc.stdout.close()


def lines_of(proc: subprocess.Popen) -> "queue.Queue[str]":
    out: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            out.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return out


def group_members(pgid: int) -> Iterator[int]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the ")"
            if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
                yield int(entry.name)


@pytest.fixture
def jupyter_available():
    if not (REPO / ".venv" / "bin" / "jupyter").exists():
        pytest.skip("make lab's environment .venv is not installed (make install)")
    if not Path("/proc/self/cmdline").exists():
        pytest.skip("needs /proc to read the server's command line")


def test_make_lab_prints_the_one_working_token_and_keeps_it_off_the_command_line(
        tmp_path, jupyter_available):
    port = free_port()
    proc = subprocess.Popen(make_lab_command(port), cwd=REPO, env=lab_env(tmp_path),
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen: list[str] = []
    try:
        out, deadline, url = lines_of(proc), time.monotonic() + 90, None
        while url is None and time.monotonic() < deadline:
            try:
                seen.append(out.get(timeout=1))
            except queue.Empty:
                assert proc.poll() is None, f"make lab stopped:\n{''.join(seen)}"
                continue
            url = URL_LINE.search(seen[-1])
        assert url, f"make lab printed no URL:\n{''.join(seen)}"
        link, token = url.group(1), url.group(3)
        assert int(url.group(2)) == port and len(token) >= 32
        base = f"http://127.0.0.1:{port}"
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = http_status(link)  # the printed URL, exactly
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        assert status == 200, f"the printed URL answered {status}:\n{''.join(seen)}"
        assert http_status(f"{base}/api/contents") in (401, 403)
        assert http_status(f"{base}/api/contents?token=wrong{token}") in (401, 403)
        with urllib.request.urlopen(f"{base}/api/contents?token={token}", timeout=5) as r:
            names = {item["name"] for item in json.load(r)["content"]}
        assert {p.name for p in (REPO / "notebooks").glob("*.ipynb")} <= names
        # the token is on no command line of make, its shell or JupyterLab...
        commands = {pid: (Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                          .decode(errors="replace")) for pid in group_members(proc.pid)}
        labs = [pid for pid, c in commands.items() if re.search(r"jupyter[- ]lab ", c)]
        assert labs, f"no JupyterLab among make's processes: {commands}"
        for pid, command in commands.items():
            assert token not in command, f"the token is on process {pid}'s command line"
        # ...JupyterLab reads it from its environment
        environ = Path(f"/proc/{labs[0]}/environ").read_bytes().split(b"\0")
        assert f"JUPYTER_TOKEN={token}".encode() in environ
        # bound to loopback only: no other local address answers
        other = socket.gethostbyname(socket.gethostname())
        if not other.startswith("127."):
            with pytest.raises(OSError), socket.create_connection((other, port), timeout=2):
                pass
    finally:
        stop_group(proc)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass  # the server is gone


def printed_token(tmp_path: Path, **env: str) -> str:
    """The token in the URL `make lab` prints with ``env`` added; the server is then stopped."""
    proc = subprocess.Popen(make_lab_command(free_port()), cwd=REPO,
                            env=lab_env(tmp_path, **env), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, deadline, url, seen = lines_of(proc), time.monotonic() + 60, None, []
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                seen.append(out.get(timeout=1))
            except queue.Empty:
                continue
            url = URL_LINE.search(seen[-1])
        assert url, f"make lab printed no URL:\n{''.join(seen)}"
        return url.group(3)
    finally:
        stop_group(proc)


def test_make_lab_uses_the_token_chosen_in_course_lab_token(tmp_path, jupyter_available):
    chosen = "chosen-" + os.urandom(16).hex()
    assert printed_token(tmp_path, COURSE_LAB_TOKEN=chosen) == chosen


def test_make_lab_ignores_a_generic_token_in_the_environment(tmp_path, jupyter_available):
    generic = "some-other-secret-" + os.urandom(8).hex()
    token = printed_token(tmp_path, TOKEN=generic)
    assert generic not in token and len(token) >= 32


@pytest.mark.parametrize("value", ["", "  "])
def test_make_lab_refuses_an_empty_course_lab_token(tmp_path, value):
    port = free_port()
    proc = subprocess.Popen(["make", "--no-print-directory", "lab", f"PORT={port}"], cwd=REPO,
                            env=lab_env(tmp_path, COURSE_LAB_TOKEN=value),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        stop_group(proc)
        pytest.fail("make lab started with an empty COURSE_LAB_TOKEN instead of refusing it")
    assert proc.returncode != 0
    assert "COURSE_LAB_TOKEN is empty" in output and "unset it" in output
    assert "pip install" not in output  # refused before anything else runs
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


# --- the Python that builds .venv ------------------------------------------------------------

def python310() -> str:
    found = sorted(Path.home().glob(".pyenv/versions/3.10*/bin/python3.10"))
    path = str(found[-1]) if found else shutil.which("python3.10")
    if not path:
        pytest.skip("no Python 3.10 on this machine to build a venv the course does not support")
    return path


def offline_make(root: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``make`` in ``root`` with pip unable to download anything: each test stops before or at
    the first pip command, so nothing gets installed."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PIP_") and k not in ("MAKEFLAGS", "MFLAGS", "VIRTUAL_ENV")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return subprocess.run(["make", "--no-print-directory", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def checkout(tmp_path) -> Path:
    """The files `make install` reads, in a fresh folder with no .venv."""
    root = tmp_path / "course"
    (root / "requirements").mkdir(parents=True)
    for name in ("Makefile", "pyproject.toml", "requirements/lock.txt"):
        shutil.copy(REPO / name, root / name)
    return root


def venv_python_version(root: Path) -> tuple[int, int]:
    out = subprocess.run([str(root / ".venv" / "bin" / "python"), "-c",
                          "import sys; print(*sys.version_info[:2])"],
                         capture_output=True, text=True, check=True).stdout
    major, minor = out.split()
    return int(major), int(minor)


def test_make_install_with_an_unsupported_python_fails_fast_and_leaves_no_venv(checkout):
    started = time.monotonic()
    result = offline_make(checkout, "install", f"PYTHON={python310()}")
    seconds = time.monotonic() - started
    assert result.returncode != 0
    assert "is Python 3.10" in result.stderr and "Python >= 3.11" in result.stderr
    assert "make install PYTHON=python3.11" in result.stderr
    assert not (checkout / ".venv").exists(), "a venv later runs would reuse was left behind"
    assert seconds < 20, f"took {seconds:.1f} s"


def test_a_venv_made_by_an_unsupported_python_is_refused_with_a_way_out(checkout):
    py310 = python310()
    subprocess.run([py310, "-m", "venv", "--without-pip", str(checkout / ".venv")], check=True)
    result = offline_make(checkout, "install", f"PYTHON={py310}")
    assert result.returncode != 0
    assert ".venv was made by Python 3.10" in result.stderr
    assert "make install PYTHON=python3.11" in result.stderr and "make clean" in result.stderr
    assert "pip" not in result.stdout + result.stderr  # stopped before installing anything


def test_a_venv_made_by_an_unsupported_python_is_rebuilt_with_a_supported_one(checkout):
    subprocess.run([python310(), "-m", "venv", "--without-pip", str(checkout / ".venv")],
                   check=True)
    assert venv_python_version(checkout) == (3, 10)
    # the rebuild happens before pip, which then fails offline: nothing is installed
    result = offline_make(checkout, "install", f"PYTHON={sys.executable}")
    assert re.search(r"\.venv was made by Python 3\.10\.\d+, older than the course's "
                     r"Python 3\.11: rebuilding it with ", result.stdout), result.stdout
    assert venv_python_version(checkout) >= (3, 11)
    assert not (checkout / STAMP).exists()
