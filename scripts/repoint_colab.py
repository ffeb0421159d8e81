"""Point the course's Colab links at a repository and release (a git tag).

Run from the repository's root, after setting the new ``version`` in pyproject.toml::

    python scripts/repoint_colab.py --release v0.3.0                  # a new release
    python scripts/repoint_colab.py --repo OWNER/NAME --release TAG    # a fork's own release
    python scripts/repoint_colab.py --check    # list every link that does not match; exit 1 then

It rewrites every notebook's "Open in Colab" badge (first cell) and setup cell (second cell,
``course_utils.colab.setup_cell_source``), the README's badges, and the data file
``course_utils/release.json``, the one place the package reads ``REPO``/``RELEASE`` from (and so
the address the data files are downloaded from). ``--check`` judges a checkout by the repository
and release written in its own ``course_utils/release.json``, and also that the release is
``"v"`` + the version in its pyproject.toml.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

from course_utils.colab import (
    RELEASE,
    RELEASE_FILE,
    REPO,
    badge_markdown,
    colab_url,
    setup_cell_source,
    validate,
)

__all__ = ["check", "main", "package_version", "pinned", "repoint"]

_BADGE_RE = re.compile(
    r"https://colab\.research\.google\.com/github/(?P<repo>[^/\s)]+/[^/\s)]+)/blob/"
    r"(?P<ref>[^\s)]+?)/notebooks/(?P<name>[^/\s)]+\.ipynb)"
)

def package_version(root: str | Path) -> str | None:
    """The ``version`` in ``root``/pyproject.toml, or None when there is no pyproject.toml."""
    path = Path(root) / "pyproject.toml"
    if not path.is_file():
        return None
    return tomllib.loads(path.read_text(encoding="utf-8"))["project"]["version"]


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _set_source(cell: dict, text: str) -> None:
    cell["source"] = text.splitlines(keepends=True)


def _notebooks(root: Path) -> list[Path]:
    return sorted((root / "notebooks").glob("*.ipynb"))


def _repoint_text(text: str, repo: str, release: str) -> str:
    return _BADGE_RE.sub(lambda m: colab_url(m.group("name"), repo, release), text)


def _version_problem(root: Path, release: str) -> str | None:
    version = package_version(root)
    if version is None or release == f"v{version}":
        return None
    return (f"release {release} is not 'v' + version = \"{version}\" in pyproject.toml: set "
            f"version = \"{release.removeprefix('v')}\" there (the setup cell compares the "
            f"installed version with the release), or use --release v{version}")


def repoint(root: str | Path, repo: str | None = None, release: str | None = None) -> list[Path]:
    """Point every badge, setup cell and README badge of the checkout at ``root`` to ``repo``
    at tag ``release`` (each defaults to the current ``REPO``/``RELEASE``).

    Also rewrites ``REPO``/``RELEASE`` in ``course_utils/colab.py``, the one place that names
    them, and so the data address. ``release`` must be ``"v"`` + the version in
    ``root``/pyproject.toml. Returns the files that changed.
    """
    repo, release = repo or REPO, release or RELEASE
    validate(repo, release)
    root = Path(root)
    problem = _version_problem(root, release)
    if problem:
        raise ValueError(problem)
    changed: list[Path] = []
    for path in _notebooks(root):
        raw = path.read_text(encoding="utf-8")
        nb = json.loads(raw)
        cells = nb["cells"]
        if len(cells) < 2:
            raise ValueError(f"{path} has fewer than two cells: no badge and setup cell to point")
        _set_source(cells[0], _repoint_text(_source(cells[0]), repo, release))
        _set_source(cells[1], setup_cell_source(repo, release))
        new = json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
        if new != raw:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    readme = root / "README.md"
    if readme.is_file():
        text = readme.read_text(encoding="utf-8")
        new = _repoint_text(text, repo, release)
        if new != text:
            readme.write_text(new, encoding="utf-8")
            changed.append(readme)
    pinned_file = root / "course_utils" / RELEASE_FILE
    new = json.dumps({"repo": repo, "release": release}) + "\n"
    old = pinned_file.read_text(encoding="utf-8") if pinned_file.is_file() else None
    if new != old:
        pinned_file.parent.mkdir(parents=True, exist_ok=True)
        pinned_file.write_text(new, encoding="utf-8")
        changed.append(pinned_file)
    return changed


def check(root: str | Path, repo: str = REPO, release: str = RELEASE) -> list[str]:
    """Problems with the links of the checkout at ``root``: an empty list when every badge and
    setup cell points to ``repo`` at ``release``, every notebook has both, and ``release`` is
    ``"v"`` + pyproject.toml's version."""
    root = Path(root)
    problems = []
    version_problem = _version_problem(root, release)
    if version_problem:
        problems.append(f"pyproject.toml: {version_problem}")
    for path in _notebooks(root):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        first = _source(cells[0]) if cells else ""
        if badge_markdown(path.name, repo, release) not in first:
            problems.append(f"{path.name}: the first cell lacks the badge "
                            f"{colab_url(path.name, repo, release)}")
        if len(cells) < 2 or _source(cells[1]) != setup_cell_source(repo, release):
            problems.append(f"{path.name}: the second cell is not the setup cell for "
                            f"{repo}@{release}")
    readme = root / "README.md"
    if readme.is_file():
        for m in _BADGE_RE.finditer(readme.read_text(encoding="utf-8")):
            if (m.group("repo"), m.group("ref")) != (repo, release):
                problems.append(f"README.md: a badge points to {m.group('repo')}@{m.group('ref')}")
    return problems


def pinned(root: str | Path) -> tuple[str, str]:
    """``(REPO, RELEASE)`` as written in ``root``/course_utils/release.json (the imported
    package's values when that file is missing), so that ``--check --root`` judges the checkout
    it is given."""
    path = Path(root) / "course_utils" / RELEASE_FILE
    if not path.is_file():
        return REPO, RELEASE
    values = json.loads(path.read_text(encoding="utf-8"))
    return values["repo"], values["release"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python scripts/repoint_colab.py",
        description="Point the course's Colab badges, setup cells and data address to a "
                    "repository and release (a git tag).",
    )
    parser.add_argument("--repo", help=f"the repository on GitHub, as OWNER/NAME (now {REPO})")
    parser.add_argument("--release", help=f"the tag Colab installs and opens, 'v' + pyproject's "
                                          f"version (now {RELEASE})")
    parser.add_argument("--branch", help=argparse.SUPPRESS)
    parser.add_argument("--root", default=".", help="the repository checkout (default: here)")
    parser.add_argument("--check", action="store_true", help="only report mismatched links")
    args = parser.parse_args(argv)
    if args.branch is not None:
        parser.error("Colab installs a tagged release, not a branch: use --release vX.Y.Z "
                     "('v' + the version in pyproject.toml)")
    root = Path(args.root)
    if not (root / "notebooks").is_dir():
        parser.error(f"{root.resolve()} has no notebooks/ folder: run it from the repository root")
    current_repo, current_release = pinned(root)
    if args.check:
        problems = check(root, current_repo, current_release)
        for line in problems:
            print(line)
        print("all links point to" if not problems else "links to fix for",
              f"{current_repo}@{current_release}")
        return 1 if problems else 0
    if not args.repo and not args.release:
        parser.error("give --repo OWNER/NAME and/or --release vX.Y.Z (or --check)")
    repo, release = args.repo or current_repo, args.release or current_release
    try:
        changed = repoint(root, repo, release)
    except ValueError as err:
        parser.error(str(err))
    for path in changed:
        print(f"updated {path}")
    print(f"Colab badges, setup cells and the data address now point to {repo}@{release}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
