"""No number a notebook prints is computed on a leading slice of the test set.

MNIST's test set is not shuffled (its first and second halves were written by different groups
of people), so ``x_test[:1000]`` is not a representative sample. Notebooks evaluate on
``course_utils.data.random_subset(x_test, y_test, n=..., seed=...)`` instead. A leading slice
(``[:n]``, ``[0:n]``, ``[:N_EVAL]``) of anything named with ``test`` is allowed only for display:
inside a call to a display function (its name starts with ``show_``, ``plot_`` or ``display``,
or contains ``grid``) or on a statement that carries a ``# display only`` comment. The same holds
for ``load_mnist("test", limit=n)``, which returns the first n test images.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

DISPLAY_PREFIXES = ("show_", "plot_", "display")
DISPLAY_COMMENT = re.compile(r"#\s*display only", re.I)
_MAGIC = re.compile(r"^([ \t]*)[%!].*$", re.M)


@dataclass(frozen=True)
class LeadingSlice:
    """A leading slice of a test array outside display code.

    line: 1-based line in the cell's source; code: that line, stripped; expression: the slice.
    """

    line: int
    code: str
    expression: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.expression}  ←  {self.code}"


PYTHON_CELL_MAGICS = ("%%time", "%%timeit", "%%capture")


def python_source(cell_source: str) -> str:
    """A code cell's source as Python: IPython magics and shell lines (``%…``, ``!…``) become
    ``pass`` at the same indentation, so that line numbers stay the same. A cell in another
    language (``%%bash``, ``%%html``, …) gives ``""``."""
    first = cell_source.lstrip().split(maxsplit=1)[0] if cell_source.strip() else ""
    if first.startswith("%%") and first not in PYTHON_CELL_MAGICS:
        return ""
    return _MAGIC.sub(lambda m: f"{m.group(1)}pass", cell_source)


def _is_leading(node: ast.expr) -> bool:
    """``[:n]`` or ``[0:n]``, also as the first index of a tuple (``[:n, 0]``)."""
    if isinstance(node, ast.Tuple) and node.elts:
        node = node.elts[0]
    if not isinstance(node, ast.Slice) or node.upper is None:
        return False
    lower = node.lower
    return lower is None or (isinstance(lower, ast.Constant) and lower.value == 0)


def _names_test(node: ast.expr) -> bool:
    """Whether the sliced expression names something with ``test`` in it (a variable, an
    attribute or a string key: ``x_test``, ``data.test_images``, ``d["x_test"]``)."""
    for sub in ast.walk(node):
        name = None
        if isinstance(sub, ast.Name):
            name = sub.id
        elif isinstance(sub, ast.Attribute):
            name = sub.attr
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            name = sub.value
        if name is not None and "test" in name.lower():
            return True
    return False


def _called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def is_display_function(name: str) -> bool:
    """A function whose output is a figure or widget, not a number: ``show_…``, ``plot_…``,
    ``display…`` or a name containing ``grid``."""
    lowered = name.lower()
    return lowered.startswith(DISPLAY_PREFIXES) or "grid" in lowered


def leading_test_slices(cell_source: str) -> list[LeadingSlice]:
    """Every leading slice of a test array in one code cell that is not display-only.

    cell_source: the cell's code (IPython magics allowed). Raises SyntaxError when it is not
    Python.
    """
    source = python_source(cell_source)
    tree = ast.parse(source)
    lines = source.splitlines()
    parents: dict[ast.AST, ast.AST] = {}
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            parents[child] = parent
    found: list[LeadingSlice] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            if not (_is_leading(node.slice) and _names_test(node.value)):
                continue
        elif not (isinstance(node, ast.Call) and _loads_first_test_images(node)):
            continue
        if _inside_display_call(node, parents) or _has_display_comment(node, parents, lines):
            continue
        code = lines[node.lineno - 1].strip()
        found.append(LeadingSlice(node.lineno, code, ast.unparse(node)))
    return sorted(found, key=lambda s: s.line)


def _loads_first_test_images(call: ast.Call) -> bool:
    """``load_mnist("test", limit=n)`` (or ``split="test"``, or ``limit`` as the second
    argument) with ``n`` anything but ``None``: the first n images of MNIST's test set."""
    if _called_name(call) != "load_mnist":
        return False
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    split = call.args[0] if call.args else keywords.get("split")
    limit = call.args[1] if len(call.args) > 1 else keywords.get("limit")
    is_test = isinstance(split, ast.Constant) and split.value == "test"
    no_limit = limit is None or (isinstance(limit, ast.Constant) and limit.value is None)
    return is_test and not no_limit


def _inside_display_call(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.Call) and is_display_function(_called_name(node)):
            return True
    return False


def _has_display_comment(node: ast.expr, parents: dict[ast.AST, ast.AST], lines: list[str]) -> bool:
    """The statement holding ``node`` carries ``# display only`` on one of its lines (for a
    compound statement such as ``for``, on the lines of its header)."""
    statement: ast.AST = node
    while not isinstance(statement, ast.stmt) and statement in parents:
        statement = parents[statement]
    first = getattr(statement, "lineno", node.lineno)
    if hasattr(statement, "body"):
        last = node.end_lineno or node.lineno
    else:
        last = getattr(statement, "end_lineno", None) or node.lineno
    return any(DISPLAY_COMMENT.search(line) for line in lines[first - 1 : last])


# --- the rule on small snippets ----------------------------------------------------------------


def _flagged(code: str) -> list[str]:
    return [s.expression for s in leading_test_slices(code)]


def test_a_metric_on_a_leading_slice_fails():
    code = "mse = float(jnp.mean((model(x_test[:1000]) - x_test[:1000]) ** 2))\nprint(mse)\n"
    assert _flagged(code) == ["x_test[:1000]", "x_test[:1000]"]


def test_every_spelling_of_a_leading_slice_fails():
    code = (
        "N_EVAL = 2000\n"
        "a = x_test[0:500]\n"
        "b = y_test[:N_EVAL]\n"
        "c = x_test_grey[:100, :]\n"
        "d = data.test_images[:64]\n"
        "e = arrays['x_test'][:10]\n"
        "f = jnp.asarray(x_test)[:256]\n"
        "g = test_rec[2][:50]\n"
    )
    assert [s.line for s in leading_test_slices(code)] == [2, 3, 4, 5, 6, 7, 8]
    assert leading_test_slices(code)[1].code == "b = y_test[:N_EVAL]"


def test_loading_the_first_test_images_fails():
    code = (
        "x_test, y_test = load_mnist('test', limit=N_EVAL, flatten=True)\n"
        "x_t, _ = data.load_mnist(split='test', limit=2000)\n"
        "x_u, _ = load_mnist('test', 500)\n"
        "x_all, y_all = load_mnist('test', flatten=True)\n"
        "x_none, _ = load_mnist('test', limit=None)\n"
        "x_train, _ = load_mnist('train', limit=N_TRAIN)\n"
        "x_show, _ = load_mnist('test', limit=16)  # display only\n"
    )
    assert [s.line for s in leading_test_slices(code)] == [1, 2, 3]
    assert leading_test_slices(code)[0].expression.startswith("load_mnist('test', limit=N_EVAL")


def test_a_slice_inside_a_display_call_passes():
    code = (
        "show_reconstructions(model, x_test[:16])\n"
        "plot_image_grid(np.asarray(model(x_test[:32])), title='digits')\n"
        "fig = image_grid(x_test[:64])\n"
        "display(x_test[:5])\n"
        "viz.show_digits(x_test[:8])\n"
    )
    assert _flagged(code) == []


def test_a_display_only_comment_passes_on_any_line_of_its_statement():
    code = (
        "x_show = x_test[:16]  # display only\n"
        "rows = {'original': x_test[:12],  # display only\n"
        "        'rebuilt': rec[:12]}\n"
        "compare_rows(\n    x_test[:10],\n)  # Display only\n"
        "for img in x_test[:4]:  # display only\n    ax.imshow(img)\n"
    )
    assert _flagged(code) == []


def test_a_display_comment_on_a_loop_header_does_not_cover_its_body():
    code = "for i in range(3):  # display only\n    errors.append(mse(x_test[:100]))\n"
    assert _flagged(code) == ["x_test[:100]"]


def test_random_subsets_other_slices_and_other_arrays_pass():
    code = (
        "x_eval, y_eval = random_subset(x_test, y_test, n=1000, seed=0)\n"
        "acc = accuracy(model, x_eval[:500], y_eval[:500])\n"
        "x_small = x_train[:1000]\n"
        "tail = x_test[1000:]\n"
        "middle = x_test[5000:6000]\n"
        "one = x_test[0]\n"
        "every = x_test[:]\n"
    )
    assert _flagged(code) == []


def test_a_computed_metric_named_like_a_display_is_still_caught():
    code = "show = x_test[:1000]\nprint('test MSE', mse(model, show))\n"
    assert _flagged(code) == ["x_test[:1000]"]


def test_magics_and_shell_lines_do_not_break_parsing():
    code = "%matplotlib inline\nif IN_COLAB:\n    !pip install -q course\nm = x_test[:10]\n"
    assert [s.line for s in leading_test_slices(code)] == [4]
    timed = "%%time\nscore = mse(x_test[:100])\n"
    assert [s.line for s in leading_test_slices(timed)] == [2]
    assert leading_test_slices("%%bash\nhead -c 100 x_test[:3] | wc\n") == []


# --- the committed notebooks -------------------------------------------------------------------


def notebook_leading_slices(path: Path) -> list[tuple[int, LeadingSlice]]:
    """(cell index in nb.cells, slice) for every leading test slice in a notebook's code."""
    notebook = nbformat.read(path, as_version=4)
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            found.extend((index, s) for s in leading_test_slices(cell.source))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_evaluates_on_random_test_subsets(path: Path):
    found = notebook_leading_slices(path)
    assert not found, (
        f"{path.name}: {len(found)} leading slice(s) of the test set outside display code. "
        "MNIST's test set is not shuffled: load it whole and compute numbers on "
        "course_utils.data.random_subset(x_test, y_test, n=..., seed=...); for figures, pass "
        "the slice to a show_/plot_/display/…grid function or end the line with "
        "'# display only':\n" + "\n".join(f"  cells[{i}] {s}" for i, s in found)
    )
