import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from course_utils import colab, data

REPO = Path(__file__).resolve().parent.parent


def test_every_badge_setup_cell_and_readme_link_points_to_the_one_repository():
    assert colab.check(REPO) == []
    assert data.DATA_BASE_URL == colab.raw_data_url()


def copy_of_checkout(tmp_path: Path) -> Path:
    root = tmp_path / "fork"
    shutil.copytree(REPO / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (root / "course_utils").mkdir()
    shutil.copy(REPO / "course_utils" / "colab.py", root / "course_utils" / "colab.py")
    shutil.copy(REPO / "README.md", root / "README.md")
    return root


def test_repoint_moves_every_link_to_the_fork_and_nothing_else(tmp_path):
    root = copy_of_checkout(tmp_path)
    changed = colab.repoint(root, "my-lab/ae-course", "spring-2027")
    assert root / "README.md" in changed and root / "course_utils" / "colab.py" in changed
    assert colab.check(root, "my-lab/ae-course", "spring-2027") == []
    for path in root.rglob("*"):
        if path.is_file():
            assert colab.REPO not in path.read_text(encoding="utf-8"), path
    own = (root / "course_utils" / "colab.py").read_text()
    assert 'REPO = "my-lab/ae-course"' in own and 'BRANCH = "spring-2027"' in own
    # outputs and every other cell are untouched
    for path in (REPO / "notebooks").glob("*.ipynb"):
        before = json.loads(path.read_text())["cells"]
        after = json.loads((root / "notebooks" / path.name).read_text())["cells"]
        assert before[2:] == after[2:]
        assert before[1]["outputs"] == after[1]["outputs"]
    # pointing back restores the files byte for byte
    colab.repoint(root, colab.REPO, colab.BRANCH)
    for path in (REPO / "notebooks").glob("*.ipynb"):
        assert (root / "notebooks" / path.name).read_bytes() == path.read_bytes()
    assert (root / "README.md").read_bytes() == (REPO / "README.md").read_bytes()


@pytest.mark.parametrize("repo", ["nope", "a/b/c", "a b/c", "", "../x"])
def test_bad_repository_names_are_refused(repo):
    with pytest.raises(ValueError, match="repo must look like OWNER/NAME"):
        colab.colab_url("01_autoencoder_basics.ipynb", repo, "main")


def test_bad_branch_names_are_refused():
    with pytest.raises(ValueError, match="branch must be"):
        colab.raw_data_url("a/b", "../main")


def test_the_setup_cell_does_nothing_outside_colab(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the setup cell ran a command outside Colab")

    monkeypatch.setattr(subprocess, "run", forbidden)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    namespace: dict = {}
    exec(colab.setup_cell_source(), namespace)
    assert {k for k in namespace if not k.startswith("__")} == {
        "sys", "COURSE_REPO", "COURSE_BRANCH"}


def test_in_colab_the_setup_cell_installs_from_the_repository_and_enables_widgets(monkeypatch):
    calls = []
    google = types.ModuleType("google")
    google_colab = types.ModuleType("google.colab")
    google_colab.output = types.SimpleNamespace(
        enable_custom_widget_manager=lambda: calls.append("widgets"))
    google.colab = google_colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", google_colab)
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append(cmd))
    exec(colab.setup_cell_source("my-lab/ae-course", "dev"), {})
    pip, widgets = calls
    assert pip[1:] == ["-m", "pip", "install", "--quiet",
                       "git+https://github.com/my-lab/ae-course@dev"]
    assert "--upgrade" not in pip  # keep what Colab ships wherever the ranges allow
    assert widgets == "widgets"


def test_command_line_checks_and_repoints(tmp_path):
    root = copy_of_checkout(tmp_path)
    run = [sys.executable, "-m", "course_utils.colab", "--root", str(root)]
    ok = subprocess.run(run + ["--check"], capture_output=True, text=True)
    assert ok.returncode == 0 and "all links point to" in ok.stdout
    moved = subprocess.run(run + ["--repo", "my-lab/ae-course"], capture_output=True, text=True)
    assert moved.returncode == 0 and "my-lab/ae-course@main" in moved.stdout
    stale = subprocess.run(run + ["--check"], capture_output=True, text=True)
    assert stale.returncode == 1  # the installed package still names the original repository
    bad = subprocess.run(run + ["--repo", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "OWNER/NAME" in bad.stderr
