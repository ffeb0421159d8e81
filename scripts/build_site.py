"""Build the course's web site (`make site`): every notebook as a page, readable without Jupyter.

    python scripts/build_site.py [--out build/site]

The pages show the student edition of each notebook (``build_editions.student_edition``: no
solutions) with its committed outputs; nothing is executed. Sphinx (MyST-NB, the
sphinx-book-theme, MathJax shipped by ``sphinx-mathjax-offline``) is configured in
``docs/site/conf.py``. The home page is the README's table of notebooks; each notebook page
links to Colab (the notebook's own badge address) and to its ``.ipynb``; the instructor guide
is a page too. Every page loads only files of the site, so the folder can be served as it is
(GitHub Pages, any static server) or opened offline.

The build fails on any Sphinx warning (``-W --keep-going``) and, afterwards, on any link
(``<a href>``, ``<img src>``, ``<script src>``, ``<link href>``) inside the site whose file or
anchor is missing, and on any image, script or style sheet loaded from another server.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_editions import student_edition  # noqa: E402

CONF_DIR = REPO / "docs" / "site"
NOTEBOOKS = REPO / "notebooks"
GUIDE = REPO / "docs" / "instructor-guide.md"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
DOWNLOADS = "notebook-files"  # the student editions offered for download (not pages)
BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\((https://colab\.research\.google\.com/"
                   r"[^)]+)\)")
TABLE_ROW = re.compile(r"^\| \[`notebooks/(?P<name>[^`]+\.ipynb)`\]\([^)]*\) \| (?P<what>.*?) \| "
                       r"(?P<badge>.*) \|$")
WIDGET_NOTE = ('<p class="course-widget-note">An interactive explorer: open the notebook in '
               "Colab (link at the top of the page) or in JupyterLab to move its controls.</p>")

__all__ = ["build_site", "check_links", "home_page", "main", "notebook_page", "readme_rows",
           "sphinx_build", "write_sources"]


def release() -> tuple[str, str]:
    """``(repo, release)`` from ``course_utils/release.json``."""
    pinned = json.loads((REPO / "course_utils" / "release.json").read_text())
    return pinned["repo"], pinned["release"]


def readme_rows(readme: str) -> list[tuple[str, str, str]]:
    """The README's table of notebooks as ``(file name, what you learn, Colab URL)`` rows."""
    rows = []
    for line in readme.splitlines():
        found = TABLE_ROW.match(line)
        if found:
            badge = BADGE.search(found["badge"])
            rows.append((found["name"], found["what"], badge.group(1) if badge else ""))
    if not rows:
        raise ValueError("README.md has no table of notebooks (rows '| [`notebooks/...`](...) |')")
    return rows


def home_page(readme: str) -> str:
    """The site's index page (MyST): the README's title and first paragraph, its table of
    notebooks with links to the pages, and the table of contents."""
    lines = readme.splitlines()
    title = lines[0].lstrip("# ").strip()
    intro = []
    for line in lines[1:]:
        if line.startswith("#"):
            break
        intro.append(line)
    rows = readme_rows(readme)
    table = ["| notebook | what you learn | |", "| --- | --- | --- |"]
    for name, what, colab in rows:
        stem = Path(name).stem
        table.append(f"| [{stem}]({stem}.ipynb) | {what} | [Open in Colab]({colab}) |")
    toc = "\n".join(Path(name).stem for name, _, _ in rows)
    return (f"# {title}\n\n" + "\n".join(intro).strip() + "\n\n## Notebooks\n\n"
            + "\n".join(table) + "\n\nEach page shows the notebook with its stored outputs, as a "
            "student receives it (exercises without their solutions); the explorers' sliders "
            "move over stored views. To run the code, open the notebook in Colab or download it."
            "\n\nFor instructors: [the instructor guide](instructor-guide.md).\n\n"
            f"```{{toctree}}\n:hidden:\n:caption: Notebooks\n\n{toc}\n```\n\n"
            "```{toctree}\n:hidden:\n:caption: Teaching\n\ninstructor-guide\n```\n")


def notebook_page(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The student edition of ``nb`` as a page: the Colab badge replaced by text links to Colab
    and to the student edition's ``.ipynb`` (under ``DOWNLOADS``; no image from another server),
    live widget views that have no stored HTML replaced by a note, and the widgets' saved state
    dropped."""
    page = student_edition(nb, name)
    page.metadata.pop("widgets", None)
    first = next(c for c in page.cells if c.cell_type == "markdown")
    if not BADGE.search(first.source):
        raise ValueError(f"{name}: the first markdown cell has no Open-in-Colab badge")
    first.source = BADGE.sub(
        lambda m: f"[Open in Colab]({m.group(1)}) · {{download}}`Download the notebook "
                  f"<{DOWNLOADS}/{name}>`", first.source, count=1)
    for cell in page.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and "text/html" not in data:
                data["text/html"] = WIDGET_NOTE
    return page


def write_sources(src: Path) -> list[str]:
    """Write the site's sources into ``src``; return the notebooks' page names in order."""
    readme = (REPO / "README.md").read_text()
    rows = readme_rows(readme)
    names = [name for name, _, _ in rows]
    on_disk = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if sorted(names) != on_disk:
        raise ValueError(f"README's table lists {names}, notebooks/ holds {on_disk}")
    src.mkdir(parents=True, exist_ok=True)
    (src / "index.md").write_text(home_page(readme))
    (src / DOWNLOADS).mkdir()
    for name in names:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.write(notebook_page(nb, name), src / name)
        nbformat.write(student_edition(nb, name), src / DOWNLOADS / name)  # as handed out
    repo, tag = release()
    guide = GUIDE.read_text()
    guide = re.sub(r"\]\(\.\./notebooks/([^)]+\.ipynb)\)", r"](\1)", guide)
    guide = re.sub(r"\]\(\.\./([^)#]+)\)",
                   lambda m: f"](https://github.com/{repo}/blob/{tag}/{m.group(1)})", guide)
    (src / "instructor-guide.md").write_text(guide)
    return [Path(n).stem for n in names]


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str]] = []  # (tag, address)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key) and (key == "id" or tag == "a"):
                self.ids.add(a[key])
        attr = {"a": "href", "img": "src", "script": "src", "link": "href"}.get(tag)
        if attr and a.get(attr):
            self.refs.append((tag, a[attr]))


def check_links(site: Path) -> list[str]:
    """Every broken reference inside the built ``site``: a missing file or anchor of an
    ``<a href>``, an ``<img src>``, ``<script src>`` or ``<link href>`` (style sheets, icons),
    and any image, script or style sheet loaded from another server. Empty when all resolve."""
    pages = {}
    for page in sorted(site.rglob("*.html")):
        if "_static" in page.relative_to(site).parts:  # the theme's templates, not pages
            continue
        parser = _Refs()
        parser.feed(page.read_text(encoding="utf-8"))
        pages[page.resolve()] = parser
    problems = []
    for page, parser in pages.items():
        where = page.relative_to(site.resolve())
        for tag, ref in parser.refs:
            parts = urlsplit(ref)
            if parts.scheme in ("data", "mailto", "javascript") or ref.startswith("#") and not (
                    ref[1:] and ref[1:] not in parser.ids):
                continue
            if parts.scheme or parts.netloc:
                if tag != "a":
                    problems.append(f"{where}: <{tag}> loads {ref} from another server")
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{where}: <{tag}> {ref} → no file {target.name}")
            elif parts.fragment and target in pages and unquote(parts.fragment) not in pages[
                    target].ids:
                problems.append(f"{where}: <{tag}> {ref} → no anchor #{parts.fragment}")
    return problems


def sphinx_build(src: Path, out: Path, *, quiet: bool = True) -> Path:
    """Build the Sphinx sources in ``src`` with the site's configuration into ``out`` (emptied
    first); raise ``RuntimeError`` on a warning or a broken reference. Returns ``out``."""
    if out.exists():
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory(prefix="course-doctrees-") as doctrees:
        cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-c",
               str(CONF_DIR), "-d", doctrees, str(src), str(out)]
        if quiet:
            cmd.append("-q")
        done = subprocess.run(cmd, cwd=REPO, check=False)
    if done.returncode:
        raise RuntimeError(f"sphinx-build failed (exit {done.returncode}): see its warnings "
                           "above")
    problems = check_links(out)
    if problems:
        raise RuntimeError(f"{len(problems)} broken reference(s) in the site:\n"
                           + "\n".join(problems[:50]))
    return out


def build_site(out: Path, *, quiet: bool = True) -> Path:
    """Build the course's site into ``out`` (emptied first); raise ``RuntimeError`` on a
    warning or a broken reference. Returns ``out``."""
    if out.resolve() in (REPO, *REPO.parents) or out.resolve() == NOTEBOOKS:
        raise ValueError(f"--out must be a folder of its own (it is emptied), got {out}")
    with tempfile.TemporaryDirectory(prefix="course-site-") as tmp:
        src = Path(tmp) / "src"
        write_sources(src)
        return sphinx_build(src, out, quiet=quiet)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/build_site.py",
                                     description="Build the course's web site.")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "site",
                        help="output folder, emptied first (default: build/site)")
    args = parser.parse_args(argv)
    start = time.monotonic()
    try:
        build_site(args.out)
    except (RuntimeError, ValueError) as err:
        print(err, file=sys.stderr)
        return 1
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"site written to {args.out} ({size / 2**20:.0f} MiB) in "
          f"{time.monotonic() - start:.0f} s; open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
