"""Where the course lives on GitHub, and the tool that re-points a fork's Colab links.

``REPO`` and ``BRANCH`` below are the one place that names the repository. Every notebook's
"Open in Colab" badge, every notebook's setup cell, the README's badges and the address the
data files are downloaded from (``course_utils.data.DATA_BASE_URL``) follow them. A fork
re-points all of them with one command, run from the repository's root::

    python -m course_utils.colab --repo OWNER/NAME [--branch BRANCH]
    python -m course_utils.colab --check      # report links that do not match REPO/BRANCH

The setup cell (the second cell of every notebook) does something only inside Google Colab:
it installs this package from the repository with pip, which keeps the versions Colab already
has wherever the package's ranges allow, and turns on Colab's manager for custom widgets so the
course's sliders render. Anywhere else it only defines two names.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO = "autoencoders-gans-course/course"
BRANCH = "main"

_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_BRANCH_RE = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_./-]*$")
_BADGE_RE = re.compile(
    r"https://colab\.research\.google\.com/github/(?P<repo>[^/\s)]+/[^/\s)]+)/blob/"
    r"(?P<branch>[^\s)]+?)/notebooks/(?P<name>[^/\s)]+\.ipynb)"
)
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def _check(repo: str, branch: str) -> None:
    if (not isinstance(repo, str) or not _REPO_RE.match(repo)
            or any(part in (".", "..") for part in repo.split("/"))):
        raise ValueError(
            f"repo must look like OWNER/NAME (e.g. my-lab/ae-gans-course), got {repo!r}"
        )
    if not isinstance(branch, str) or not _BRANCH_RE.match(branch) or ".." in branch:
        raise ValueError(f"branch must be a git branch name such as main, got {branch!r}")


def colab_url(notebook: str, repo: str = REPO, branch: str = BRANCH) -> str:
    """The Colab address that opens ``notebooks/<notebook>`` of ``repo`` at ``branch``."""
    _check(repo, branch)
    return f"https://colab.research.google.com/github/{repo}/blob/{branch}/notebooks/{notebook}"


def badge_markdown(notebook: str, repo: str = REPO, branch: str = BRANCH) -> str:
    """The "Open in Colab" badge (Markdown) for ``notebooks/<notebook>``."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(notebook, repo, branch)})"


def raw_data_url(repo: str = REPO, branch: str = BRANCH) -> str:
    """The address of the repository's ``data/`` folder, for downloads without a clone."""
    _check(repo, branch)
    return f"https://raw.githubusercontent.com/{repo}/{branch}/data/"


def setup_cell_source(repo: str = REPO, branch: str = BRANCH) -> str:
    """The source of every notebook's setup cell for ``repo`` at ``branch``."""
    _check(repo, branch)
    return (
        "# Setup: in Google Colab this installs the course's helpers and turns on its widgets;\n"
        "# anywhere else it does nothing.\n"
        "import sys\n"
        "\n"
        f'COURSE_REPO, COURSE_BRANCH = "{repo}", "{branch}"\n'
        'if "google.colab" in sys.modules:\n'
        "    import subprocess\n"
        "\n"
        "    from google.colab import output\n"
        "\n"
        '    url = f"git+https://github.com/{COURSE_REPO}@{COURSE_BRANCH}"\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", url], check=True)\n'
        "    output.enable_custom_widget_manager()"
    )


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _set_source(cell: dict, text: str) -> None:
    cell["source"] = text.splitlines(keepends=True)


def _notebooks(root: Path) -> list[Path]:
    return sorted((root / "notebooks").glob("*.ipynb"))


def _repoint_text(text: str, repo: str, branch: str) -> str:
    return _BADGE_RE.sub(lambda m: colab_url(m.group("name"), repo, branch), text)


def repoint(root: str | Path, repo: str, branch: str = "main") -> list[Path]:
    """Point every badge, setup cell and the README of the checkout at ``root`` to ``repo``.

    Also rewrites ``REPO``/``BRANCH`` in this file, the one place that names the repository.
    Returns the files that changed.
    """
    _check(repo, branch)
    root = Path(root)
    changed: list[Path] = []
    for path in _notebooks(root):
        raw = path.read_text(encoding="utf-8")
        nb = json.loads(raw)
        cells = nb["cells"]
        if len(cells) < 2:
            raise ValueError(f"{path} has fewer than two cells: no badge and setup cell to point")
        _set_source(cells[0], _repoint_text(_source(cells[0]), repo, branch))
        _set_source(cells[1], setup_cell_source(repo, branch))
        new = json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
        if new != raw:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    readme = root / "README.md"
    if readme.is_file():
        text = readme.read_text(encoding="utf-8")
        new = _repoint_text(text, repo, branch)
        if new != text:
            readme.write_text(new, encoding="utf-8")
            changed.append(readme)
    here = root / "course_utils" / "colab.py"
    if here.is_file():
        text = here.read_text(encoding="utf-8")
        new = re.sub(r'^REPO = ".*"$', f'REPO = "{repo}"', text, count=1, flags=re.M)
        new = re.sub(r'^BRANCH = ".*"$', f'BRANCH = "{branch}"', new, count=1, flags=re.M)
        if new != text:
            here.write_text(new, encoding="utf-8")
            changed.append(here)
    return changed


def check(root: str | Path, repo: str = REPO, branch: str = BRANCH) -> list[str]:
    """Problems with the links of the checkout at ``root``: an empty list when all point to
    ``repo`` at ``branch`` and every notebook has its badge and its setup cell."""
    root = Path(root)
    problems = []
    for path in _notebooks(root):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        first = _source(cells[0]) if cells else ""
        if badge_markdown(path.name, repo, branch) not in first:
            problems.append(f"{path.name}: the first cell lacks the badge {colab_url(path.name)}")
        if len(cells) < 2 or _source(cells[1]) != setup_cell_source(repo, branch):
            problems.append(f"{path.name}: the second cell is not the setup cell for {repo}")
    readme = root / "README.md"
    if readme.is_file():
        for m in _BADGE_RE.finditer(readme.read_text(encoding="utf-8")):
            if (m.group("repo"), m.group("branch")) != (repo, branch):
                where = f"{m.group('repo')}@{m.group('branch')}"
                problems.append(f"README.md: a badge points to {where}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.colab",
        description="Re-point the course's Colab badges, setup cells and data address to a fork.",
    )
    parser.add_argument("--repo", help="the fork on GitHub, as OWNER/NAME")
    parser.add_argument("--branch", default="main", help="the branch Colab opens (default: main)")
    parser.add_argument("--root", default=".", help="the repository checkout (default: here)")
    parser.add_argument("--check", action="store_true", help="only report mismatched links")
    args = parser.parse_args(argv)
    root = Path(args.root)
    if not (root / "notebooks").is_dir():
        parser.error(f"{root.resolve()} has no notebooks/ folder: run it from the repository root")
    if args.check:
        problems = check(root)
        for line in problems:
            print(line)
        print("all links point to" if not problems else "links to fix for", f"{REPO}@{BRANCH}")
        return 1 if problems else 0
    if not args.repo:
        parser.error("--repo OWNER/NAME is required (or --check)")
    try:
        changed = repoint(root, args.repo, args.branch)
    except ValueError as err:
        parser.error(str(err))
    for path in changed:
        print(f"updated {path}")
    print(f"Colab badges, setup cells and the data address now point to {args.repo}@{args.branch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
