"""The instructor guide (docs/instructor-guide.md) covers every notebook, links only real files.

Fast: reads the guide and the notebooks' JSON, executes nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "instructor-guide.md"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

SECTION = re.compile(r"^## (\d\d) — (.+)$", re.MULTILINE)
LEVEL2 = re.compile(r"^## ", re.MULTILINE)
CHECK_CALL = re.compile(r"\b(check_\w+)\s*\(")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def guide_text() -> str:
    return GUIDE.read_text(encoding="utf-8")


def guide_sections(text: str) -> dict[str, str]:
    """Map each notebook number ("01") to its section's text, up to the next level-2 heading."""
    sections = {}
    for match in SECTION.finditer(text):
        following = LEVEL2.search(text, match.end())
        sections[match.group(1)] = text[match.start():following.start() if following else None]
    return sections


def stub_checks(notebook: Path) -> list[str]:
    """The check_… functions called by the notebook's exercise stubs (cells with the stub's
    `raise NotImplementedError`), in order of appearance, without repeats."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    names: list[str] = []
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "raise NotImplementedError" in source:
            names += [n for n in CHECK_CALL.findall(source) if n not in names]
    return names


def missing_sections(text: str, notebook_stems: list[str]) -> list[str]:
    """Notebook numbers without a `## NN — …` section, and sections out of notebook order."""
    wanted = [stem[:2] for stem in notebook_stems]
    found = [m.group(1) for m in SECTION.finditer(text)]
    missing = [n for n in wanted if n not in found]
    if not missing and found != wanted:
        missing = [f"order: {found} instead of {wanted}"]
    return missing


def test_guide_exists_and_notebooks_are_found():
    assert GUIDE.is_file(), f"{GUIDE.relative_to(ROOT)} is missing"
    assert len(NOTEBOOKS) >= 8, "the notebooks folder should hold the course's notebooks"


def test_one_section_per_notebook_in_order():
    assert missing_sections(guide_text(), [nb.stem for nb in NOTEBOOKS]) == []


def test_a_new_notebook_without_a_section_is_reported():
    stems = [nb.stem for nb in NOTEBOOKS]
    next_number = f"{int(stems[-1][:2]) + 1:02d}"
    assert missing_sections(guide_text(), [*stems, f"{next_number}_new_topic"]) == [next_number]


def test_sections_out_of_order_are_reported():
    text = "## 02 — Second\n\n## 01 — First\n"
    assert missing_sections(text, ["01_a", "02_b"]) == ["order: ['02', '01'] instead of "
                                                        "['01', '02']"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda nb: nb.stem)
def test_section_links_its_notebook_and_names_every_check(notebook: Path):
    section = guide_sections(guide_text()).get(notebook.stem[:2])
    assert section is not None, f"no '## {notebook.stem[:2]} — …' section for {notebook.name}"
    assert f"../notebooks/{notebook.name}" in section, f"the section should link {notebook.name}"
    checks = stub_checks(notebook)
    assert len(checks) >= 3, f"{notebook.name}: expected at least three exercise checks"
    missing = [name for name in checks if name not in section]
    assert missing == [], f"the section on {notebook.name} does not name {missing}"


def test_stub_checks_reads_only_stub_cells(tmp_path: Path):
    cells = [
        {"cell_type": "code", "source": ["from x import check_a, check_b\n", "check_b(f)\n"]},
        {"cell_type": "code", "source": ["def f():\n", "    raise NotImplementedError\n",
                                         "check_a(f)\n"]},
        {"cell_type": "markdown", "source": ["raise NotImplementedError; check_c(f)"]},
    ]
    notebook = tmp_path / "09_x.ipynb"
    notebook.write_text(json.dumps({"cells": cells}), encoding="utf-8")
    assert stub_checks(notebook) == ["check_a"]


def test_relative_links_point_to_existing_files():
    broken = []
    for target in LINK.findall(guide_text()):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a web address or an anchor in the guide itself
        path = (GUIDE.parent / target.split("#", 1)[0]).resolve()
        if not path.exists():
            broken.append(target)
    assert broken == [], f"links to files that do not exist: {broken}"


# A quoted measurement: a code span of numbers (with ±, %, "s" or "ms"), or a quoted run-time line.
QUOTE = re.compile(r"`([^`\n]+)`")
MEASUREMENT = re.compile(r"^(?:notebook ran in .*|[\d.,±%\s−-]+(?:\s?(?:ms|s))?)$")
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def printed_text(notebook: Path) -> str:
    """Everything the notebook's stored outputs print (streams and plain-text results)."""
    parts = []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            parts.append("".join(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def unprinted_quotes(section: str, printed: str) -> list[tuple[str, str]]:
    """(quote, number) for each number of a quoted measurement that the outputs do not print."""
    missing = []
    for quote in QUOTE.findall(section):
        if not MEASUREMENT.match(quote.strip()) or not re.search(r"\d", quote):
            continue
        for number in NUMBER.findall(quote):
            if not re.search(rf"(?<![\d.]){re.escape(number)}(?!\d)", printed):
                missing.append((quote, number))
    return missing


def test_unprinted_quotes_finds_a_stale_number():
    printed = "test MSE 0.0085 ± 0.0007\nnotebook ran in 145 s (full mode)\n"
    section = ("error `0.0085 ± 0.0007`, stale `0.0068 ± 0.0004`; `notebook ran in 225 s (full "
               "mode)`; code `x_test[:100]` is not a measurement")
    assert unprinted_quotes(section, printed) == [
        ("0.0068 ± 0.0004", "0.0068"), ("0.0068 ± 0.0004", "0.0004"),
        ("notebook ran in 225 s (full mode)", "225")]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda nb: nb.stem)
def test_every_quoted_measurement_is_printed_by_its_notebook(notebook: Path):
    section = guide_sections(guide_text())[notebook.name[:2]]
    assert QUOTE.search(section), "the section quotes nothing"
    missing = unprinted_quotes(section, printed_text(notebook))
    assert not missing, (f"{notebook.name}: the guide quotes numbers its outputs do not print "
                         f"(re-read the section against the new outputs): {missing}")
