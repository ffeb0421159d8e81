"""Build the student and the instructor edition of every notebook (`make editions`).

    python scripts/build_editions.py [--out editions] [notebooks/01_autoencoder_basics.ipynb ...]

The notebooks in ``notebooks/`` are the one source: each exercise is a task (markdown), a stub
(a code cell with ``raise NotImplementedError`` that calls the exercise's check) and, right after
it, its solution with the model answers, folded in a ``<details>`` markdown cell tagged
``solution``. From them this script writes, nothing re-executed:

- ``<out>/student/<name>.ipynb`` — every ``solution`` cell removed: the stubs stay, with their
  stored "❌ not attempted yet" outputs; no solution code or model answer is left.
- ``<out>/instructor/<name>.ipynb`` — every stub replaced by its solution's code (outputs
  cleared: run the notebook to see each check's ✅), and the rest of each solution cell (the
  model answers, the wrong variants and why they fail) shown unfolded below it.

``editions/`` is a build output (git ignores it); it is rebuilt from scratch each time.
"""

from __future__ import annotations

import argparse
import copy
import re
import shutil
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
SOLUTION_TAG = "solution"
STUB_MARK = "raise NotImplementedError"
CODE_BLOCK = re.compile(r"```python\n(.*?)```\n?", re.S)
FOLD = re.compile(r"</?details>|<summary>.*?</summary>", re.S)

__all__ = ["build", "instructor_edition", "main", "solution_parts", "student_edition"]


def is_solution(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "markdown" and SOLUTION_TAG in cell.metadata.get("tags", [])


def solution_parts(cell: nbformat.NotebookNode) -> tuple[str, str]:
    """``(code, prose)`` of a solution cell: its Python block and the text around it, unfolded."""
    found = CODE_BLOCK.search(cell.source)
    if found is None:
        raise ValueError(f"a solution cell has no ```python block:\n{cell.source[:200]}")
    prose = FOLD.sub("", CODE_BLOCK.sub("", cell.source, count=1)).strip()
    return found.group(1).rstrip() + "\n", prose


def _check_pairs(nb: nbformat.NotebookNode, name: str) -> None:
    """Every solution cell follows its exercise's stub, and every stub has a solution."""
    cells = nb.cells
    for i, cell in enumerate(cells):
        if is_solution(cell):
            stub = cells[i - 1] if i else None
            if stub is None or stub.cell_type != "code" or STUB_MARK not in stub.source:
                raise ValueError(f"{name}: solution cell {i} does not follow an exercise stub")
        elif cell.cell_type == "code" and STUB_MARK in cell.source:
            if i + 1 >= len(cells) or not is_solution(cells[i + 1]):
                raise ValueError(f"{name}: the stub in cell {i} has no solution cell after it")


def student_edition(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """A copy of ``nb`` without its solution cells."""
    _check_pairs(nb, name)
    out = copy.deepcopy(nb)
    out.cells = [cell for cell in out.cells if not is_solution(cell)]
    return out


def instructor_edition(nb: nbformat.NotebookNode, name: str = "notebook"
                       ) -> nbformat.NotebookNode:
    """A copy of ``nb`` with each stub replaced by its solution and the model answers shown."""
    _check_pairs(nb, name)
    out = copy.deepcopy(nb)
    cells = []
    for cell in out.cells:
        if not is_solution(cell):
            cells.append(cell)
            continue
        code, prose = solution_parts(cell)
        stub = cells[-1]
        stub.source, stub.outputs, stub.execution_count = code, [], None
        if prose:
            answer = nbformat.v4.new_markdown_cell("**Model answer (instructor edition).** "
                                                   + prose)
            answer.metadata["tags"] = ["model-answer"]
            cells.append(answer)
    out.cells = cells
    return out


def build(notebooks: list[Path], out: Path) -> list[Path]:
    """Write both editions of ``notebooks`` under ``out`` (emptied first); return the files."""
    if out.resolve() in (REPO, REPO / "notebooks") or out.resolve() in REPO.parents:
        raise ValueError(f"--out must be a folder of its own (it is emptied), got {out}")
    if out.exists():
        shutil.rmtree(out)
    written = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for edition, make in (("student", student_edition), ("instructor", instructor_edition)):
            target = out / edition / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(make(nb, path.name), target)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/build_editions.py",
                                     description="Build the student and instructor editions.")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to build (default: all in notebooks/)")
    parser.add_argument("--out", type=Path, default=REPO / "editions",
                        help="output folder, emptied first (default: editions/)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    written = build(notebooks, args.out)
    print(f"wrote {len(written)} notebooks: {len(notebooks)} student and {len(notebooks)} "
          f"instructor editions under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
