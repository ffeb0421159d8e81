"""Test runs never touch a student's saved models: every test entry point of the Makefile runs with
a cache folder of its own, and a notebook run under nbval leaves the user's cache as it was."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent

# Saves a model under a name the notebooks use, as notebook 02 does in fast mode.
PROBE = """\
import os
from flax import nnx
from course_utils.checkpoints import cache_dir, load_or_train

model = nnx.Linear(4, 2, rngs=nnx.Rngs(0))
load_or_train(model, "nb02_mlp_ae_D2", lambda m: None, config={"probe": 1})
home = os.path.expanduser("~")
assert not str(cache_dir()).startswith(home), f"saved under the user's home: {cache_dir()}"
print("saved under", cache_dir())
"""


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_nbval_entry_point_leaves_the_users_cache_untouched(tmp_path):
    home = tmp_path / "home"
    user_cache = home / ".cache" / "course-utils"
    (user_cache / "checkpoints").mkdir(parents=True)
    for name in ("nb02_mlp_ae_D2.msgpack", "nb02_mlp_ae_D2.full.msgpack",
                 "nb02_mlp_ae_D2.fast.msgpack"):
        (user_cache / "checkpoints" / name).write_bytes(b"a model the student trained")
    before = snapshot(user_cache)

    notebook = tmp_path / "probe.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    nbformat.write(nb, notebook)
    env = {k: v for k, v in os.environ.items()
           if k not in {"COURSE_CACHE_DIR", "COURSE_COMPILE_CACHE_DIR", "XDG_CACHE_HOME",
                        "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    env["HOME"] = str(home)
    done = subprocess.run(["make", "--no-print-directory", "nbval",
                           f"NBVAL_NOTEBOOKS={notebook}"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"\b1 passed\b", done.stdout), done.stdout[-2000:]
    assert snapshot(user_cache) == before, "the test run changed the user's cache"


def test_every_test_target_runs_pytest_with_a_private_cache():
    makefile = (REPO / "Makefile").read_text()
    pytest_lines = [line.strip() for line in re.split(r"(?<!\\)\n", makefile)
                    if "-m pytest" in line and line.startswith("\t")]
    assert len(pytest_lines) >= 5, pytest_lines  # unit, nbval, browser, Colab unit and nbval
    for line in pytest_lines:
        assert line.startswith("$(TEST_CACHE)"), f"a test command without a private cache: {line}"
    assert 'export COURSE_CACHE_DIR="$$tmp"' in makefile
