"""The student and instructor editions (scripts/build_editions.py, `make editions`).

Builds both editions of every notebook and checks what each holds. Both are also executed whole
in CI, with ``COURSE_EXPECT_CHECKS`` making any other outcome of a check an error: the instructor
edition by ``make test-colab`` (every check must pass; for the "build it" checks, which train
models, that run is their right-answer test), the notebooks as students get them by the browser
tests (or ``make nbval``), where every stub must be reported "not attempted yet".
"""

from __future__ import annotations

import re
from pathlib import Path

import build_editions as editions
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("editions")
    written = editions.build(NOTEBOOKS, out)
    assert len(written) == 2 * len(NOTEBOOKS)
    return out


def solutions(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [editions.solution_parts(c) for c in nb.cells if editions.is_solution(c)]


def distinctive_lines(text: str) -> list[str]:
    """Lines of a solution long enough that finding one elsewhere means it leaked."""
    return [line.strip() for line in text.splitlines() if len(line.strip()) >= 25
            and not line.strip().startswith(("check_", "def my_", "#"))]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_student_edition_has_no_solution_text(path: Path, built: Path):
    source = nbformat.read(path, as_version=4)
    student = nbformat.read(built / "student" / path.name, as_version=4)
    text = "\n".join([cell.source for cell in student.cells] + [
        "".join(out.get("text", "")) for cell in student.cells for out in cell.get("outputs", [])])
    assert "<details>" not in text and "Solution" not in text  # no folded solution, tagged or not
    # a solution line may stand in the lesson too (a loss written out in a section); any other
    # line of a solution found in the student edition (e.g. in an output) has leaked
    lesson = "\n".join(c.source for c in source.cells if not editions.is_solution(c))
    leaked = [line for code, prose in solutions(source)
              for line in distinctive_lines(code) + distinctive_lines(prose)
              if line in text and line not in lesson]
    assert not leaked, f"solution text in the student edition: {leaked[:3]}"
    # everything else is kept, stubs and their stored outputs included
    kept = [c for c in source.cells if not editions.is_solution(c)]
    assert [c.source for c in student.cells] == [c.source for c in kept]
    stubs = [c for c in student.cells if c.cell_type == "code" and editions.STUB_MARK in c.source]
    assert len(stubs) == len(solutions(source)) >= 3
    assert all(re.search(r"^check_\w+\(", c.source, re.M) for c in stubs)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_instructor_edition_has_every_solution_in_place_of_its_stub(path: Path, built: Path):
    source = nbformat.read(path, as_version=4)
    instructor = nbformat.read(built / "instructor" / path.name, as_version=4)
    text = "\n".join(cell.source for cell in instructor.cells)
    assert editions.STUB_MARK not in text and "<details>" not in text
    code_cells = [c.source for c in instructor.cells if c.cell_type == "code"]
    for code, prose in solutions(source):
        assert code in code_cells, f"a solution is not a code cell:\n{code[:200]}"
        assert not prose or prose in text
        replaced = instructor.cells[[c.source for c in instructor.cells].index(code)]
        assert replaced.outputs == [] and replaced.execution_count is None


def test_a_stub_without_a_solution_is_an_error():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        f"def f():\n    {editions.STUB_MARK}\n\n\ncheck_f(f)")])
    with pytest.raises(ValueError, match="has no solution cell"):
        editions.student_edition(nb)


def test_a_solution_without_code_is_an_error():
    stub = nbformat.v4.new_code_cell(f"def f():\n    {editions.STUB_MARK}\n")
    answer = nbformat.v4.new_markdown_cell("<details>no code</details>")
    answer.metadata["tags"] = [editions.SOLUTION_TAG]
    nb = nbformat.v4.new_notebook(cells=[stub, answer])
    with pytest.raises(ValueError, match="no ```python block"):
        editions.instructor_edition(nb)


def test_the_output_folder_may_not_be_the_repository():
    with pytest.raises(ValueError, match="a folder of its own"):
        editions.build(NOTEBOOKS[:1], ROOT)
