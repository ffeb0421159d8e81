"""Every number in a notebook's prose is printed by that notebook's stored outputs, at the
precision written, or listed with its reason in ``tests/prose_numbers/<notebook stem>.toml``.

The rule (see ``tests/prose_numbers/README.md``):

- Scanned: markdown cells, LaTeX included. Not scanned: fenced code blocks, inline code spans,
  URLs and link targets, HTML tags and their attributes, arXiv/doi identifiers, the notebook
  number on the title line.
- A number is digits with optional thousands commas, an optional decimal part and an optional
  exponent (``10,000``, ``0.0071``, ``5e-4``); ``−`` or ``-`` after a space, ``(`` or ``=`` is a
  sign, a ``%`` after it makes it a percentage (both ends of "97–98 %"). Digits glued to a
  preceding letter, digit, ``_`` or ``.`` are not numbers (``L1``, ``β1``, ``x_test``,
  ``Conv2D``), nor are digits after a word and a hyphen (``SHA-256``); ``$28\times28$`` gives
  two numbers.
- Integers 0–10 written without a decimal point are not checked.
- A number written with k decimals matches a printed number x when |x − p| ≤ 0.5·10^−k (either
  sign); a percentage also matches x/100 at k + 2 decimals ("89.21 %" matches 0.8921).
- An allow-list entry that no prose number uses is an error.
"""

from __future__ import annotations

import bisect
import html
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ALLOW_DIR = Path(__file__).resolve().parent / "prose_numbers"

SMALL_INTEGER_LIMIT = 10  # integers 0..10 without a decimal point are not checked
CONTEXT_CHARS = 80

# --- the checker ---------------------------------------------------------------------------------

# A number: digits (thousands commas allowed), decimal part, exponent. Not glued to a preceding
# letter, digit, "_" or "." (\w covers letters of every script, digits and "_"), nor to a word of
# two or more letters and a hyphen (names such as SHA-256 or ResNet-50; "x-1.5" is a number).
_NUMBER = re.compile(
    r"(?<![\w.])(?<![^\W\d_]{2}-)"
    r"(?P<int>\d{1,3}(?:,\d{3})+(?![\d,]\d)|\d+)"
    r"(?:\.(?P<frac>\d+))?"
    r"(?:[eE](?P<exp>[+\-−]?\d+))?"
)
_PERCENT = re.compile(r"[ \u00a0\u202f\u2009]?\\?%")
_RANGE_DASH = re.compile(r"[ \u00a0\u202f\u2009]*[-\u2013\u2014][ \u00a0\u202f\u2009]*")

# A number in an output: looser (``D=32``, ``loss0.5`` count), but never a piece of a longer number.
_OUTPUT_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?:[eE][+\-]?\d+)?")
_OUTPUT_GROUPED = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,]\d)")

_FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?(?:^[ \t]*\1[^\n]*$|\Z)", re.M | re.S)
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(?:(?!\n[ \t]*\n).)+?(?<!`)\1(?!`)", re.S)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_LINK_TARGET = re.compile(r"\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)")
_LINK_DEFINITION = re.compile(r"^[ \t]*\[[^\]\n]+\]:[ \t]*\S+.*$", re.M)
_URL = re.compile(r"(?:https?://|ftp://|www\.)[^\s)\]>]+")
_IDENTIFIER = re.compile(
    r"\b(?:arXiv|doi):[ \t]?[^\s)\]]+|\barXiv[ \t]+\d{4}\.\d{4,5}(?:v\d+)?", re.I
)
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")
_TITLE_NUMBER = re.compile(r"\A\s*#[ \t]+(?:Notebook[ \t]+)?(\d+)")
# A sentence ends after "." "!" "?" that follows a lower-case letter, digit or closing mark (not
# after an initial such as "G. Hinton"), at a blank line, and before a list item or heading.
_SENTENCE_END = re.compile(
    r"(?<=[a-z0-9)\]*$_][.!?])\s+(?=[A-Z*$(\[])|\n\s*\n|\n(?=[ \t]*(?:[-*+]|\d+\.|#+)[ \t])"
)


@dataclass(frozen=True)
class Token:
    """One number in prose.

    text: as written (``"60,000"``, ``"−99.6"``); key: the allow-list key (commas removed,
    ``−`` as ``-``, no ``%``); value: the unsigned value; decimals: how many decimals the
    written precision has (exponent included: ``5e-4`` has 4); percent: a ``%`` follows;
    start, end: the character span in the markdown source.
    """

    text: str
    key: str
    value: Decimal
    decimals: int
    percent: bool
    start: int
    end: int


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a notebook's prose numbers.

    kind: ``"unmatched"`` (a prose number no output prints and the allow-list lacks) or
    ``"unused"`` (an allow-list entry no prose number uses); cell: the index in ``nb.cells``
    (None for unused entries); number: the number as written (or the allow-list key);
    context: ~80 characters of its sentence (or the entry's reason).
    """

    kind: str
    cell: int | None
    number: str
    context: str

    def __str__(self) -> str:
        if self.kind == "unused":
            return f"allow-list entry {self.number!r} is used by no prose number ({self.context})"
        return f"cells[{self.cell}]: {self.number!r} is printed by no output: «{self.context}»"


def _mask(text: str, pattern: re.Pattern[str], group: int = 0) -> str:
    """Replace every match of ``pattern`` (or its ``group``) by spaces, keeping offsets."""

    def blank(m: re.Match[str]) -> str:
        if group == 0:
            return re.sub(r"[^\n]", " ", m.group(0))
        s, e = m.span(group)
        whole = m.group(0)
        a, b = s - m.start(), e - m.start()
        return whole[:a] + " " * (b - a) + whole[b:]

    return pattern.sub(blank, text)


def scannable(markdown: str, *, title: bool = False) -> str:
    """The markdown with everything not scanned blanked out (same length, same offsets).

    markdown: one cell's source. title: mask the notebook number on a leading ``# 01 ·`` line.
    """
    text = markdown
    text = _mask(text, _FENCE)
    text = _mask(text, _CODE_SPAN)
    text = _mask(text, _HTML_COMMENT)
    text = _mask(text, _LINK_DEFINITION)
    text = _mask(text, _LINK_TARGET)
    text = _mask(text, _HTML_TAG)
    text = _mask(text, _URL)
    text = _mask(text, _IDENTIFIER)
    text = _mask(text, _LATEX_COMMAND)
    if title:
        text = _mask(text, _TITLE_NUMBER, group=1)
    return text


def normalise_key(key: str) -> str:
    """An allow-list key in canonical form: no spaces or commas, ``−`` as ``-``, no ``%``."""
    key = key.strip().replace("\u2212", "-").replace(",", "")
    key = re.sub(r"[\s\u00a0\u202f\u2009]", "", key)
    return key.removesuffix("\\%").removesuffix("%")


def _decimal_places(frac: str | None, exp: str | None) -> int:
    return len(frac or "") - int((exp or "0").replace("\u2212", "-"))


def prose_numbers(markdown: str, *, title: bool = False) -> list[Token]:
    """Every checked number in one markdown cell, in order.

    markdown: the cell's source. title: the cell holds the notebook's title line (its notebook
    number is not a number). Integers 0–10 without a decimal point are left out.
    """
    text = scannable(markdown, title=title)
    tokens: list[Token] = []
    for m in _NUMBER.finditer(text):
        integer, frac, exp = m.group("int", "frac", "exp")
        start, end = m.span()
        sign = ""
        if start > 0 and text[start - 1] in "\u2212-":
            before = text[start - 2] if start > 1 else " "
            if text[start - 1] == "\u2212" or before.isspace() or before in "(=" or start == 1:
                sign, start = "-", start - 1
        body = integer.replace(",", "") + (f".{frac}" if frac else "")
        mantissa = Decimal(body)
        value = mantissa.scaleb(int(exp.replace("\u2212", "-"))) if exp else mantissa
        percent = bool(_PERCENT.match(text, end))
        key = sign + body + (f"e{exp.replace(chr(0x2212), '-')}" if exp else "")
        places = _decimal_places(frac, exp)
        tokens.append(Token(markdown[start:end], key, value, places, percent, start, end))
    # In a range such as "97–98 %" the first number is a percentage too.
    for i in range(len(tokens) - 2, -1, -1):
        first, second = tokens[i], tokens[i + 1]
        gap = text[first.end : second.start]
        if second.percent and not first.percent and _RANGE_DASH.fullmatch(gap):
            tokens[i] = replace(first, percent=True)
    return [t for t in tokens if not _is_small_integer(t)]


def _is_small_integer(token: Token) -> bool:
    """An integer 0–10 written without a decimal point or exponent."""
    plain = token.key.lstrip("-").isdigit()
    return plain and token.value <= SMALL_INTEGER_LIMIT


def _output_texts(outputs: Iterable[Mapping[str, object]]) -> Iterable[str]:
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            yield _joined(output.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            assert isinstance(data, Mapping)
            for mime in ("text/plain", "text/markdown"):
                if mime in data:
                    yield _joined(data[mime])
            if "text/html" in data:
                page = _HTML_TAG.sub(" ", _HTML_COMMENT.sub(" ", _joined(data["text/html"])))
                yield html.unescape(page)


def _joined(text: object) -> str:
    return "".join(text) if isinstance(text, list) else str(text)


def output_numbers(cell_outputs: Iterable[Mapping[str, object]]) -> list[Decimal]:
    """Every unsigned number in the text outputs of code cells (stream, text/plain,
    text/markdown, text/html without tags); images are not read. A Decimal keeps the printed
    precision (``Decimal("0.0070")``). ``60,000`` counts as 60000 and as its pieces 60 and 0.
    """
    numbers: list[Decimal] = []
    for text in _output_texts(cell_outputs):
        for m in _OUTPUT_NUMBER.finditer(text):
            try:
                numbers.append(Decimal(m.group(0)))
            except InvalidOperation:  # pragma: no cover - the regex admits only valid numbers
                continue
        for m in _OUTPUT_GROUPED.finditer(text):
            numbers.append(Decimal(m.group(0).replace(",", "")))
    return numbers


def _matches(token: Token, printed: Sequence[Decimal]) -> bool:
    """printed: sorted unsigned output numbers."""
    candidates = [(token.value, token.decimals)]
    if token.percent:
        candidates.append((token.value / 100, token.decimals + 2))
    for value, decimals in candidates:
        tolerance = Decimal(5).scaleb(-decimals - 1)
        i = bisect.bisect_left(printed, value - tolerance)
        if i < len(printed) and printed[i] <= value + tolerance:
            return True
    return False


def _context(markdown: str, start: int, end: int) -> str:
    """~80 characters of the sentence around markdown[start:end], whitespace collapsed."""
    begin = 0
    finish = len(markdown)
    for m in _SENTENCE_END.finditer(markdown):
        if m.end() <= start:
            begin = m.end()
        elif m.start() >= end:
            finish = m.start()
            break
    half = (CONTEXT_CHARS - (end - start)) // 2
    lo = max(begin, start - half)
    hi = min(finish, end + half)
    extra = CONTEXT_CHARS - (hi - lo)
    if extra > 0:
        lo = max(begin, lo - extra)
        hi = min(finish, hi + (CONTEXT_CHARS - (hi - lo)))
    return " ".join(markdown[lo:hi].split())


def unmatched(notebook: nbformat.NotebookNode, allowed: Mapping[str, str]) -> list[Finding]:
    """Prose numbers that no output prints and the allow-list lacks, then unused allow-list
    entries. notebook: an nbformat v4 notebook with its stored outputs. allowed: the
    allow-list, ``{number as written: reason}``.
    """
    printed: list[Decimal] = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            printed.extend(output_numbers(cell.get("outputs", [])))
    printed = sorted(set(printed))
    allow = {normalise_key(k): (k, v) for k, v in allowed.items()}
    used: set[str] = set()
    findings: list[Finding] = []
    first_markdown = True
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        for token in prose_numbers(cell.source, title=first_markdown):
            if token.key in allow:
                used.add(token.key)
            elif not _matches(token, printed):
                context = _context(cell.source, token.start, token.end)
                findings.append(Finding("unmatched", index, token.text, context))
        first_markdown = False
    for key, (written, reason) in allow.items():
        if key not in used:
            findings.append(Finding("unused", None, written, reason))
    return findings


def load_allowed(path: Path) -> dict[str, str]:
    """The ``[allowed]`` table of an allow-list file; {} when the file does not exist."""
    if not path.exists():
        return {}
    with path.open("rb") as f:
        table = tomllib.load(f)
    unknown = set(table) - {"allowed"}
    assert not unknown, f"{path.name}: only an [allowed] table is read, found {sorted(unknown)}"
    allowed = table.get("allowed", {})
    for key, reason in allowed.items():
        assert not isinstance(reason, dict), (
            f"{path.name}: write each number in quotes: {key}.… = … is read as a table; "
            f'use "{key}.…" = "reason"'
        )
        assert isinstance(reason, str) and reason.strip(), (
            f'{path.name}: entry {key!r} needs a reason string, e.g. {key!r} = "pixels per image"'
        )
    return dict(allowed)


# --- tests of the checker on synthetic notebooks ---------------------------------------------


def _notebook(markdown: str | Sequence[str], printed: str = "") -> nbformat.NotebookNode:
    """A notebook: a title cell, the markdown cell(s), one code cell printing ``printed``."""
    cells = [nbformat.v4.new_markdown_cell("# 01 · A title")]
    for source in [markdown] if isinstance(markdown, str) else markdown:
        cells.append(nbformat.v4.new_markdown_cell(source))
    code = nbformat.v4.new_code_cell("print(...)")
    if printed:
        code.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    cells.append(code)
    return nbformat.v4.new_notebook(cells=cells)


def _numbers(
    notebook: nbformat.NotebookNode, allowed: Mapping[str, str] | None = None
) -> list[str]:
    return [f.number for f in unmatched(notebook, allowed or {})]


def test_a_planted_number_fails_with_its_cell_and_sentence():
    nb = _notebook(["Some text first.", "The model reaches a test MSE of 0.0123 after training."])
    findings = unmatched(nb, {})
    assert [(f.kind, f.cell, f.number) for f in findings] == [("unmatched", 2, "0.0123")]
    assert "test MSE of 0.0123 after training" in findings[0].context
    assert "cells[2]" in str(findings[0]) and "0.0123" in str(findings[0])


def test_a_printed_number_passes():
    nb = _notebook(
        "The model reaches a test MSE of 0.0123.", printed="test MSE (mean per pixel): 0.0123\n"
    )
    assert _numbers(nb) == []


def test_precision_as_written():
    printed = "test MSE: 0.0068\n"
    assert _numbers(_notebook("an MSE of 0.007 here", printed)) == []
    assert _numbers(_notebook("an MSE of 0.0070 here", printed)) == ["0.0070"]
    # more decimals than printed is a claim the output cannot back
    assert _numbers(_notebook("an MSE of 0.00684 here", printed)) == ["0.00684"]
    assert _numbers(_notebook("about 0.01 per pixel", printed)) == []
    assert _numbers(_notebook("about 0.02 per pixel", printed)) == ["0.02"]


def test_integers_and_exponents_match_at_their_precision():
    assert _numbers(_notebook("after 1404 steps", "6 epochs (1404 steps)\n")) == []
    assert _numbers(_notebook("after 1405 steps", "6 epochs (1404 steps)\n")) == ["1405"]
    assert _numbers(_notebook("a rate of 5e-4 works", "learning rate: 0.0005\n")) == []
    assert _numbers(_notebook("a rate of 5e-4 works", "learning rate: 0.0006\n")) == ["5e-4"]
    assert _numbers(_notebook("a rate of 5e-4 works", "learning rate: 5e-04\n")) == []


def test_percentages_match_the_value_or_the_fraction():
    assert _numbers(_notebook("accuracy 89.21 % on test", "accuracy: 0.8921\n")) == []
    assert _numbers(_notebook("accuracy 89.21% on test", "accuracy: 89.21 %\n")) == []
    assert _numbers(_notebook("accuracy 89.2 % on test", "accuracy: 0.8921\n")) == []
    assert _numbers(_notebook("accuracy 89.3 % on test", "accuracy: 0.8921\n")) == ["89.3"]
    # without a % sign the fraction is not a match
    assert _numbers(_notebook("accuracy 89.21 on test", "accuracy: 0.8921\n")) == ["89.21"]
    assert prose_numbers("share $76.3\\%$ confident")[0].percent


def test_thousands_commas():
    tokens = prose_numbers("trained on 60,000 images for 10,000 steps")
    assert [(t.text, t.key, t.value) for t in tokens] == [
        ("60,000", "60000", Decimal(60000)),
        ("10,000", "10000", Decimal(10000)),
    ]
    assert _numbers(_notebook("60,000 images", "training images: 60000\n")) == []
    assert _numbers(_notebook("60000 images", "training images: 60,000\n")) == []
    assert _numbers(_notebook("60,000 images", "training images: 6000\n")) == ["60,000"]
    # a list of small numbers is not one big number
    assert [t.text for t in prose_numbers("sizes 16,32,64")] == ["16", "32", "64"]


def test_sign_is_part_of_the_key_but_not_of_the_match():
    tokens = prose_numbers("a test ELBO of −99.6 nats (-85.2) and x =-12.5, but 3-40 is a range")
    assert [t.key for t in tokens] == ["-99.6", "-85.2", "-12.5", "40"]
    assert _numbers(_notebook("ELBO of −99.6 nats", "test ELBO: -99.6 nats\n")) == []
    assert _numbers(_notebook("a loss of 99.6", "test ELBO: -99.6 nats\n")) == []
    assert (
        _numbers(
            _notebook(
                "ELBO of −99.6 nats",
                "",
            ),
            {"-99.6": "x"},
        )
        == []
    )
    assert _numbers(_notebook("ELBO of −99.6 nats", ""), {"−99.6": "x"}) == []


def test_small_integers_are_ignored_but_not_small_decimals():
    assert _numbers(_notebook("Train 2, 5 or 10 models for 3 epochs, 0 or 1.")) == []
    assert _numbers(_notebook("a rate of 0.5 and 10.0 and 11 models")) == ["0.5", "10.0", "11"]


def test_code_fences_urls_links_and_html_are_not_scanned():
    markdown = (
        "Call `fit(model, epochs=20)` or ``x[:1000]`` first.\n\n"
        "```python\nmodel = Autoencoder(784, 32)\n```\n\n"
        "See [the 2006 paper](https://example.org/paper/123456?v=77) and "
        "<https://arxiv.org/abs/1406.2661> or https://doi.org/10.1126/science.1127647.\n\n"
        '<img src="fig.png" width="400" height="300"> <!-- 999 -->\n\n'
        "[ref]: https://example.org/555\n"
    )
    assert [t.text for t in prose_numbers(markdown)] == ["2006"]
    # a lone backtick does not hide the paragraphs after it
    assert [t.text for t in prose_numbers("a stray ` here\n\nthen 0.25 and ` there")] == ["0.25"]


def test_the_title_number_is_not_a_number():
    assert prose_numbers("# 12 · Notebook title", title=True) == []
    assert [t.text for t in prose_numbers("# 12 · Notebook title")] == ["12"]
    assert _numbers(_notebook("# 42 · not the first cell")) == ["42"]


def test_digits_glued_to_words_are_not_numbers():
    markdown = (
        "L1 and L2 losses, β1 = 0.9 is Adam's, x_test, nb02, Conv2D, MNIST784, v1.25 and 0.3.1"
    )
    assert [t.text for t in prose_numbers(markdown)] == ["0.9", "0.3"]


def test_names_with_a_hyphen_are_not_numbers_but_differences_are():
    markdown = "its SHA-256, a ResNet-50, the mid-70s, but $x-1.5$ and 3-40"
    assert [t.text for t in prose_numbers(markdown)] == ["1.5", "40"]


def test_the_first_number_of_a_percentage_range_is_a_percentage():
    tokens = prose_numbers("between 97–98 % and 4.4-14.6 %, but 12–30 epochs and 13 to 20 %")
    assert [(t.text, t.percent) for t in tokens] == [
        ("97", True),
        ("98", True),
        ("4.4", True),
        ("14.6", True),
        ("12", False),
        ("30", False),
        ("13", False),
        ("20", True),
    ]
    assert _numbers(_notebook("shares 4.4–14.6 %", "class shares: 0.044 ... 0.146\n")) == []


def test_ranges_units_and_products_give_every_number():
    markdown = "a 32-D code, 28×28 images, rates 0.3–0.85, and $\\mathbb{R}^{784}$, 12 px"
    assert [t.text for t in prose_numbers(markdown)] == [
        "32",
        "28",
        "28",
        "0.3",
        "0.85",
        "784",
        "12",
    ]


def test_latex_is_scanned():
    assert [t.text for t in prose_numbers("$$\\lambda = 0.001, \\; d = 784$$")] == ["0.001", "784"]
    assert [t.text for t in prose_numbers("$28\\times28$ and $2\\ln 2 \\approx 1.39$")] == [
        "28",
        "28",
        "1.39",
    ]


def test_paper_identifiers_are_not_numbers():
    markdown = (
        "Mirza & Osindero (2014). arXiv:1411.1784, also arXiv 1712.02950 and doi:10.1126/x.55"
    )
    assert [t.text for t in prose_numbers(markdown)] == ["2014"]


def test_the_context_is_the_sentence_around_the_number():
    markdown = (
        "A first sentence about nothing at all.\n\n- G. E. Hinton and R. R. Salakhutdinov (2006). "
        "*Reducing the dimensionality.* Science.\n- Another item (1998)."
    )
    findings = unmatched(_notebook(markdown), {})
    assert [f.context for f in findings] == [
        "- G. E. Hinton and R. R. Salakhutdinov (2006).",
        "- Another item (1998).",
    ]


def test_an_allowed_number_passes_and_an_unused_entry_fails():
    nb = _notebook("Each image has 784 pixels (Hinton, 2006).")
    assert _numbers(nb) == ["784", "2006"]
    allowed = {"784": "pixels in a 28 × 28 image", "2006": "year of the citation"}
    assert unmatched(nb, allowed) == []
    findings = unmatched(nb, {**allowed, "1998": "year of LeCun et al."})
    assert [(f.kind, f.number) for f in findings] == [("unused", "1998")]
    assert "1998" in str(findings[0]) and "used by no prose number" in str(findings[0])


def test_outputs_are_read_from_text_but_not_images():
    nb = _notebook("values 0.25 and 12.5 and 77.7 and 33.3")
    code = nb.cells[-1]
    code.outputs = [
        nbformat.v4.new_output("execute_result", data={"text/plain": "0.25"}, execution_count=1),
        nbformat.v4.new_output("display_data", data={"text/markdown": "**mean** 12.5"}),
        nbformat.v4.new_output("display_data", data={"text/html": "<td class='x77'>33.3</td>"}),
        nbformat.v4.new_output(
            "display_data", data={"image/png": "77.7", "text/plain": "<Figure>"}
        ),
    ]
    assert _numbers(nb) == ["77.7"]
    assert output_numbers(code.outputs).count(Decimal("77")) == 0


def test_load_allowed_reads_the_table_and_needs_reasons(tmp_path):
    path = tmp_path / "nb.toml"
    path.write_text('# header\n[allowed]\n"784" = "pixels"\n', encoding="utf-8")
    assert load_allowed(path) == {"784": "pixels"}
    assert load_allowed(tmp_path / "missing.toml") == {}
    path.write_text('[allowed]\n"784" = ""\n', encoding="utf-8")
    with pytest.raises(AssertionError, match="needs a reason"):
        load_allowed(path)
    path.write_text('[allowed]\n0.5 = "Adam\'s beta1"\n', encoding="utf-8")
    with pytest.raises(AssertionError, match="in quotes"):
        load_allowed(path)
    path.write_text('[allowed]\n"−99.6" = "x"\n"60,000" = "training images"\n', encoding="utf-8")
    nb = _notebook("ELBO −99.6 on 60,000 images")
    assert unmatched(nb, load_allowed(path)) == []


# --- the committed notebooks -------------------------------------------------------------------


def check_notebook(path: Path, allow_dir: Path = ALLOW_DIR) -> list[Finding]:
    """The findings for one notebook file against its allow-list ``allow_dir/<stem>.toml``."""
    notebook = nbformat.read(path, as_version=4)
    return unmatched(notebook, load_allowed(allow_dir / f"{path.stem}.toml"))


def failure_message(path: Path, findings: Sequence[Finding]) -> str:
    """What a notebook's failing check says: every finding on its own line, then what to do."""
    allow = f"tests/prose_numbers/{path.stem}.toml"
    numbers = sum(f.kind == "unmatched" for f in findings)
    unused = len(findings) - numbers
    return (
        f"{path.name}: {numbers} prose number(s) printed by no output at the precision written "
        f"and not in {allow}; {unused} unused allow-list entr(y/ies).\n"
        + "\n".join(f"  {f}" for f in findings)
        + "\nPrint the value (with its meaning and unit), refer to the printed value instead of "
        f"copying it, or list a constant or citation with its reason in {allow}; remove unused "
        "entries."
    )


def test_a_notebook_file_is_read_with_its_allow_list_or_an_empty_one(tmp_path: Path):
    path = tmp_path / "99_example.ipynb"
    nbformat.write(_notebook("Each image has 784 pixels."), path)
    lists = tmp_path / "lists"
    lists.mkdir()
    assert [f.number for f in check_notebook(path, lists)] == ["784"]
    (lists / "99_example.toml").write_text('[allowed]\n"784" = "pixels"\n', encoding="utf-8")
    assert check_notebook(path, lists) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_prose_numbers_are_printed_or_allowed(path: Path):
    findings = check_notebook(path)
    assert not findings, failure_message(path, findings)


@pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks in notebooks/")
def test_a_number_planted_in_a_copy_of_a_notebook_is_caught(tmp_path: Path):
    original = NOTEBOOKS[0]
    notebook = nbformat.read(original, as_version=4)
    index = max(i for i, c in enumerate(notebook.cells) if c.cell_type == "markdown")
    notebook.cells[index].source += "\n\nAfter training, the test MSE is 0.98765 per pixel."
    copy = tmp_path / original.name
    nbformat.write(notebook, copy)
    before = check_notebook(original)
    after = check_notebook(copy)
    planted = [f for f in after if f not in before]
    assert [(f.kind, f.cell, f.number) for f in planted] == [("unmatched", index, "0.98765")]
    assert "the test MSE is 0.98765 per pixel" in planted[0].context
    assert f"cells[{index}]: '0.98765'" in failure_message(copy, after)


def test_every_allow_list_belongs_to_a_notebook():
    stems = {p.stem for p in NOTEBOOKS}
    orphans = [p.name for p in ALLOW_DIR.glob("*.toml") if p.stem not in stems]
    assert not orphans, f"allow-lists without a notebook in notebooks/: {orphans}"
