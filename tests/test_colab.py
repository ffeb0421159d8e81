import json
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
import repoint_colab

import course_utils
from course_utils import colab, data

REPO = Path(__file__).resolve().parent.parent


def test_every_badge_setup_cell_and_readme_link_points_to_the_one_release():
    assert repoint_colab.check(REPO) == []


def test_the_release_is_v_plus_the_package_version():
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert colab.RELEASE == f"v{version}"
    assert repoint_colab.package_version(REPO) == version
    assert course_utils.__version__ == version


def test_code_data_and_notebooks_all_come_from_the_release():
    at = f"{colab.REPO}/{colab.RELEASE}/"
    assert data.DATA_BASE_URL == f"https://raw.githubusercontent.com/{at}data/"
    assert colab.install_url() == f"git+https://github.com/{colab.REPO}@{colab.RELEASE}"
    assert f'"{colab.REPO}", "{colab.RELEASE}"' in colab.setup_cell_source()
    assert f"/github/{colab.REPO}/blob/{colab.RELEASE}/notebooks/" in colab.colab_url("x.ipynb")


def copy_of_checkout(tmp_path: Path) -> Path:
    root = tmp_path / "fork"
    shutil.copytree(REPO / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (root / "course_utils").mkdir()
    for name in ("course_utils/release.json", "README.md", "pyproject.toml"):
        shutil.copy(REPO / name, root / name)
    return root


def set_version(root: Path, version: str) -> None:
    path = root / "pyproject.toml"
    old = tomllib.loads(path.read_text())["project"]["version"]
    path.write_text(path.read_text().replace(f'version = "{old}"', f'version = "{version}"', 1))


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_repoint_moves_every_link_to_the_fork_and_release_and_nothing_else(tmp_path):
    root = copy_of_checkout(tmp_path)
    repoint_colab.repoint(root)  # the current repository and release, written everywhere
    pointed = snapshot(root)
    set_version(root, "0.9.1")
    changed = repoint_colab.repoint(root, "my-lab/ae-course", "v0.9.1")
    assert root / "README.md" in changed and root / "course_utils" / "release.json" in changed
    assert not [p for p in changed if p.suffix == ".py"], "code is never rewritten, only data"
    assert repoint_colab.check(root, "my-lab/ae-course", "v0.9.1") == []
    assert repoint_colab.check(root) != []
    for path in root.rglob("*"):
        if path.is_file() and path.name != "pyproject.toml":
            text = path.read_text(encoding="utf-8")
            assert colab.REPO not in text and f"/{colab.RELEASE}/" not in text, path
    assert repoint_colab.pinned(root) == ("my-lab/ae-course", "v0.9.1")
    # outputs and every other cell are untouched
    for path in (REPO / "notebooks").glob("*.ipynb"):
        before = json.loads(path.read_text())["cells"]
        after = json.loads((root / "notebooks" / path.name).read_text())["cells"]
        assert before[2:] == after[2:]
        assert before[1]["outputs"] == after[1]["outputs"]
        assert after[1]["source"] == colab.setup_cell_source("my-lab/ae-course", "v0.9.1"
                                                             ).splitlines(keepends=True)
    # pointing back restores the files byte for byte
    set_version(root, colab.RELEASE.removeprefix("v"))
    repoint_colab.repoint(root, colab.REPO, colab.RELEASE)
    assert snapshot(root) == pointed


def test_repoint_refuses_a_release_that_is_not_the_package_version(tmp_path):
    root = copy_of_checkout(tmp_path)
    before = snapshot(root)
    with pytest.raises(ValueError, match=r'set version = "0\.9\.1" there'):
        repoint_colab.repoint(root, release="v0.9.1")
    assert snapshot(root) == before
    set_version(root, "0.9.1")
    assert any("pyproject.toml" in p for p in repoint_colab.check(root))


@pytest.mark.parametrize("repo", ["nope", "a/b/c", "a b/c", "", "../x"])
def test_bad_repository_names_are_refused(repo):
    with pytest.raises(ValueError, match="repo must look like OWNER/NAME"):
        colab.colab_url("01_autoencoder_basics.ipynb", repo, "v0.2.0")


@pytest.mark.parametrize("release", ["main", "0.2.0", "v0.2.0/../x", "", "v", "v0.2.0 "])
def test_releases_that_are_not_version_tags_are_refused(release):
    with pytest.raises(ValueError, match="release must be a version tag"):
        colab.raw_data_url("a/b", release)


def test_the_setup_cell_does_nothing_outside_colab(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the setup cell ran a command outside Colab")

    monkeypatch.setattr(subprocess, "run", forbidden)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    namespace: dict = {}
    exec(colab.setup_cell_source(), namespace)
    assert {k for k in namespace if not k.startswith("__")} == {
        "sys", "COURSE_REPO", "COURSE_RELEASE"}


def run_setup_cell_in_colab(tmp_path: Path, installed: str | None, imported: bool = False,
                            repo: str = "my-lab/ae-course", release: str = "v0.3.0"):
    """Run the setup cell in a fresh Python whose only packages are a stand-in for
    ``google.colab`` and, when ``installed`` is a version, a course-utils distribution of that
    version (real metadata that ``importlib.metadata`` reads). ``sys.executable`` is a script
    that records its arguments instead of running pip. Returns (pip argument lists, widget
    manager enabled, printed text)."""
    site = tmp_path / "site"
    (site / "google" / "colab").mkdir(parents=True)
    (site / "google" / "__init__.py").write_text("")
    (site / "google" / "colab" / "__init__.py").write_text(textwrap.dedent(f"""
        import types
        def _enable():
            open({str(tmp_path / "widgets")!r}, "w").close()
        output = types.SimpleNamespace(enable_custom_widget_manager=_enable)
    """))
    if installed:
        info = site / f"course_utils-{installed}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: course-utils\nVersion: {installed}\n")
    calls = tmp_path / "calls"
    fake_python = tmp_path / "python"
    fake_python.write_text(f'#!/bin/sh\nprintf "%s\\t" "$@" >> {calls}\necho >> {calls}\n')
    fake_python.chmod(0o755)
    cell = tmp_path / "setup_cell.py"
    cell.write_text(colab.setup_cell_source(repo, release))
    # Colab's runtime has imported google.colab before any cell runs
    program = (f"import sys\nimport google.colab\nsys.executable = {str(fake_python)!r}\n"
               + ("sys.modules['course_utils'] = type(sys)('course_utils')\n" if imported else "")
               + f"exec(compile(open({str(cell)!r}).read(), 'setup', 'exec'), {{}})\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    # -S and a cwd of its own: neither the course's installation nor its egg-info is seen
    result = subprocess.run([sys.executable, "-S", "-c", program], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    pip = ([line.rstrip("\t").split("\t") for line in calls.read_text().splitlines()]
           if calls.exists() else [])
    return pip, (tmp_path / "widgets").exists(), result.stdout


def test_in_colab_the_setup_cell_installs_the_release_and_enables_widgets(tmp_path):
    pip, widgets, printed = run_setup_cell_in_colab(tmp_path, installed=None)
    assert pip == [["-m", "pip", "install", "-q", "git+https://github.com/my-lab/ae-course@v0.3.0"]]
    assert widgets and printed == ""


def test_in_colab_the_setup_cell_replaces_an_older_release(tmp_path):
    # pip alone would keep it when the version number is equal, so the cell compares versions
    pip, widgets, _ = run_setup_cell_in_colab(tmp_path, installed="0.2.0")
    assert pip == [["-m", "pip", "install", "-q", "git+https://github.com/my-lab/ae-course@v0.3.0"]]
    assert "--upgrade" not in pip[0]  # keep what Colab ships wherever the ranges allow
    assert widgets


def test_in_colab_the_setup_cell_keeps_the_release_it_already_has(tmp_path):
    pip, widgets, _ = run_setup_cell_in_colab(tmp_path, installed="0.3.0")
    assert pip == [] and widgets


def test_in_colab_the_setup_cell_asks_for_a_restart_when_old_code_is_loaded(tmp_path):
    pip, _, printed = run_setup_cell_in_colab(tmp_path, installed="0.2.0", imported=True)
    assert len(pip) == 1 and "restart the session" in printed


def test_command_line_checks_and_repoints(tmp_path, capsys):
    root = copy_of_checkout(tmp_path)
    repoint_colab.repoint(root)
    # the script runs as a program (one subprocess: importing course_utils starts JAX)...
    ok = subprocess.run([sys.executable, str(REPO / "scripts" / "repoint_colab.py"), "--root",
                         str(root), "--check"], capture_output=True, text=True, cwd=tmp_path)
    assert ok.returncode == 0 and "all links point to" in ok.stdout, ok.stdout + ok.stderr

    # ...and the rest goes through the same main() in this process
    def run(*args: str) -> tuple[int, str]:
        try:
            code = repoint_colab.main(["--root", str(root), *args])
        except SystemExit as stop:  # argparse's errors
            code = stop.code
        out = capsys.readouterr()
        return code, out.out + out.err

    code, out = run("--repo", "my-lab/ae-course")
    assert code == 0 and f"my-lab/ae-course@{colab.RELEASE}" in out
    code, out = run("--check")  # judged by the checkout's own colab.py
    assert code == 0 and f"all links point to my-lab/ae-course@{colab.RELEASE}" in out
    set_version(root, "0.9.1")
    code, out = run("--check")
    assert code == 1 and "pyproject.toml" in out
    code, out = run("--release", "v0.9.1")
    assert code == 0 and "my-lab/ae-course@v0.9.1" in out
    assert run("--check")[0] == 0
    code, out = run("--release", "v1.0.0")
    assert code == 2 and 'set version = "1.0.0"' in out
    code, out = run("--repo", "nope")
    assert code == 2 and "OWNER/NAME" in out
    code, out = run("--branch", "main")
    assert code == 2 and "--release" in out
    code, out = run("--root", str(tmp_path), "--check")  # the last --root counts
    assert code == 2 and "has no notebooks/ folder" in out


def test_the_package_holds_no_command_line():
    """Re-pointing is the maintainers' script; the students' package only names the release."""
    assert not hasattr(colab, "main") and not hasattr(colab, "repoint")
    source = (REPO / "course_utils" / "colab.py").read_text()
    assert "__main__" not in source and "argparse" not in source


def test_the_release_is_package_data_that_ships_with_the_package():
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["course_utils"]
    assert colab.RELEASE_FILE in package_data
    assert colab.read_release() == (colab.REPO, colab.RELEASE)
    assert json.loads((REPO / "course_utils" / colab.RELEASE_FILE).read_text()) == {
        "repo": colab.REPO, "release": colab.RELEASE}
