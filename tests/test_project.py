"""The project's own files: set-up commands, CI entry, conda environment, `make lab`."""

import os
import re
import signal
import socket
import subprocess
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parent.parent
# conda-forge names that differ from PyPI's (none today; kept explicit so a new one is noticed)
CONDA_NAMES: dict[str, str] = {}


def pyproject():
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def pyproject_requirements() -> dict[str, Requirement]:
    project = pyproject()["project"]
    reqs = list(project["dependencies"])
    for extra in ("lab", "test"):
        reqs += project["optional-dependencies"][extra]
    return {Requirement(r).name.lower(): Requirement(r) for r in reqs}


def conda_requirements() -> tuple[dict[str, str], list]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    specs, pip = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep["pip"]
            continue
        m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", dep)
        specs[m.group(1).lower()] = m.group(2).replace(" ", "")
    return specs, pip


def test_environment_yml_has_the_same_ranges_as_pyproject():
    specs, pip = conda_requirements()
    for name, req in pyproject_requirements().items():
        conda_name = CONDA_NAMES.get(name, name)
        assert conda_name in specs, f"{name} is in pyproject.toml but not in environment.yml"
        assert set(specs[conda_name].split(",")) == set(str(req.specifier).split(",")), name
    # jaxlib comes with jax on PyPI; conda needs it named, in the same range
    assert specs["jaxlib"] == specs["jax"]
    assert specs["python"] == pyproject()["project"]["requires-python"]
    assert pip == ["-e ."]
    extra = set(specs) - {CONDA_NAMES.get(n, n) for n in pyproject_requirements()}
    assert extra == {"python", "jaxlib", "pip"}


def test_ranges_admit_the_versions_colab_ships():
    colab = {"jax": "0.7.2", "flax": "0.11.2", "optax": "0.2.8", "ipywidgets": "7.7.1",
             "matplotlib": "3.10.0", "tqdm": "4.67.1", "numpy": "2.1.3"}
    reqs = pyproject_requirements()
    for name, version in colab.items():
        assert reqs[name].specifier.contains(version), f"{name} {version} (Colab) is excluded"
    assert Requirement("python" + pyproject()["project"]["requires-python"]).specifier.contains(
        "3.13")


def test_lock_pins_every_dependency_inside_its_range():
    pins = {}
    for line in (REPO / "requirements" / "lock.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    for name, req in pyproject_requirements().items():
        assert name in pins, f"{name} is not pinned in requirements/lock.txt"
        assert req.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {req}"


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    readme = (REPO / "README.md").read_text()
    assert re.search(r"^make test(\s|$)", ci, re.M)
    assert "make test" in readme and "make lab" in readme


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_make_lab_serves_jupyterlab_on_loopback_behind_a_token():
    port, token = _free_port(), "t0k3n" + os.urandom(8).hex()
    proc = subprocess.Popen(["make", "--no-print-directory", "lab", f"PORT={port}",
                             f"TOKEN={token}"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = _get(f"{base}/api/status?token={token}")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        assert status == 200, f"JupyterLab did not answer in time (make lab exit: {proc.poll()})"
        assert _get(f"{base}/api/status") == 403
        assert _get(f"{base}/api/status?token=wrong") == 403
        assert _get(f"{base}/api/contents?token={token}") == 200
        with urllib.request.urlopen(f"{base}/api/contents?token={token}") as r:
            names = {item["name"] for item in __import__("json").load(r)["content"]}
        notebooks = {p.name for p in (REPO / "notebooks").glob("*.ipynb")}
        assert notebooks <= names, "make lab should open on the notebooks/ folder"
        # bound to loopback only: no other local address answers
        other = socket.gethostbyname(socket.gethostname())
        if not other.startswith("127."):
            with pytest.raises(OSError), socket.create_connection((other, port), timeout=2):
                pass
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    assert _free_port()  # the server is gone
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_install_is_skipped_when_nothing_changed():
    # `make test` installed the environment before running this file: it must be up to date
    result = subprocess.run(["make", "--question", "install"], cwd=REPO, capture_output=True)
    assert result.returncode == 0, "make would reinstall although nothing changed"
    dry = subprocess.run(["make", "--dry-run", "unit"], cwd=REPO, capture_output=True, text=True)
    assert "pip install" not in dry.stdout
