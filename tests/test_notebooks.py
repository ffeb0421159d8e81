"""Static checks of the committed notebooks (nbval executes them; see `make nbval`)."""

import ast
import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def cells(path):
    return json.loads(path.read_text())["cells"]


def source(cell):
    return "".join(cell["source"])


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS][:1] == ["01_autoencoder_basics.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs_come_from_one_clean_full_run(path):
    counts = []
    for cell in cells(path):
        if cell["cell_type"] != "code":
            continue
        assert cell["execution_count"] is not None, f"a cell was not run: {source(cell)[:80]}"
        counts.append(cell["execution_count"])
        for out in cell["outputs"]:
            assert out["output_type"] != "error", f"error output in: {source(cell)[:80]}"
            text = "".join(out.get("text", ""))
            assert "Traceback" not in text
            assert "mode: fast" not in text, "committed outputs must come from full mode"
    assert counts == list(range(1, len(counts) + 1)), "cells ran out of order"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_opens_with_title_badge_and_a_colab_only_setup_cell(path):
    first, second = cells(path)[:2]
    assert source(first).startswith("# ")
    assert f"notebooks/{path.name})" in source(first) and "colab-badge.svg" in source(first)
    setup = source(second)
    assert 'if "google.colab" in sys.modules:' in setup
    tree = ast.parse(setup)
    # outside Colab the cell only imports sys and assigns a constant
    top = [type(node).__name__ for node in tree.body]
    assert top == ["Import", "Assign", "If"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_stub_is_unsolved_and_checked(path):
    stubs = [source(c) for c in cells(path) if c["cell_type"] == "code"
             and "raise NotImplementedError" in source(c)]
    assert len(stubs) >= 3
    for stub in stubs:
        assert re.search(r"^check_\w+\(", stub, re.M), f"a stub has no check call:\n{stub}"


def test_readme_lists_every_notebook():
    readme = (REPO / "README.md").read_text()
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in readme, f"README does not list {path.name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_sections_are_numbered_in_order_and_every_exercise_has_its_title(path):
    all_cells = cells(path)
    numbers = [int(m.group(1)) for c in all_cells if c["cell_type"] == "markdown"
               for m in re.finditer(r"^## (\d+)\. ", source(c), re.M)]
    assert numbers == list(range(1, len(numbers) + 1)), f"section numbers {numbers}"
    titles = [int(m.group(1)) for c in all_cells if c["cell_type"] == "markdown"
              for m in re.finditer(r"^### Exercise (\d+) ", source(c), re.M)]
    stubs = [i for i, c in enumerate(all_cells) if c["cell_type"] == "code"
             and "raise NotImplementedError" in source(c)]
    assert titles == list(range(1, len(stubs) + 1)), f"exercise titles {titles}, {len(stubs)} stubs"
    for i in stubs:  # the nearest markdown cell above a stub is its exercise's task
        above = next(source(c) for c in reversed(all_cells[:i]) if c["cell_type"] == "markdown")
        assert "### Exercise" in above and "Solution" not in above[:200], \
            f"{path.name}: the stub in cell {i} has no exercise text above it"
