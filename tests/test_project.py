"""The project's own files: set-up commands, CI entry, conda environment (`make lab` and
`make install` are tested in test_make.py)."""

import re
import subprocess
import tomllib
from pathlib import Path

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


def test_install_is_skipped_when_nothing_changed():
    # `make test` installed the environment before running this file: it must be up to date
    result = subprocess.run(["make", "--question", "install"], cwd=REPO, capture_output=True)
    assert result.returncode == 0, "make would reinstall although nothing changed"
    dry = subprocess.run(["make", "--dry-run", "unit"], cwd=REPO, capture_output=True, text=True)
    assert "pip install" not in dry.stdout
