"""The conv-arithmetic diagram, driven from Python: the image shows the right cells."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils.conv_arithmetic import conv_sources, conv_transpose_sources
from course_utils.widgets import CELL_COLORS, conv_arithmetic_explorer, conv_diagram, decode_png

ATOL = 1 / 255 + 1e-6  # PNG holds 8-bit pixels


def _color(d, center):
    return d.image[center[0], center[1]]


def _assert_cells(d, i, feeding):
    """Each input cell of the left grid is dark blue iff it feeds the chosen output cell."""
    rows, cols = np.nonzero(d.kinds == "input")
    grid_rows, grid_cols = sorted(set(rows)), sorted(set(cols))
    assert len(grid_rows) == len(grid_cols) == i
    for a, ga in enumerate(grid_rows):
        for b, gb in enumerate(grid_cols):
            want = "feeding" if (a, b) in feeding else "input"
            np.testing.assert_allclose(_color(d, d.input_cell_center(ga, gb)), CELL_COLORS[want])
    np.testing.assert_allclose(_color(d, d.output_cell_center(*d.out_cell)), CELL_COLORS["chosen"])


def test_lecture_example_four_by_four_input_three_by_three_kernel_gives_two_by_two():
    for cell in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        d = conv_diagram(4, 3, 1, 0, cell)
        assert d.output_size == 2 and d.kinds.shape == (4, 4)
        feeding = {(cell[0] + a, cell[1] + b) for a in range(3) for b in range(3)}
        assert set(d.feeding) == feeding
        _assert_cells(d, 4, feeding)


@pytest.mark.parametrize("i, k, s, p, a", [(5, 3, 2, 1, 0), (3, 3, 2, 1, 1), (2, 4, 2, 1, 0),
                                           (3, 2, 3, 0, 2)])
def test_transposed_diagram_marks_the_sources_and_inserts_s_minus_1_zeros(i, k, s, p, a):
    d = conv_diagram(i, k, s, p, (1, 0), transposed=True, output_padding=a)
    rows = [j for j, _ in conv_transpose_sources(1, i, k, s, p, a)]
    cols = [j for j, _ in conv_transpose_sources(0, i, k, s, p, a)]
    feeding = {(r, c) for r in rows for c in cols}
    assert set(d.feeding) == feeding
    _assert_cells(d, i, feeding)
    assert d.kinds.shape[0] == (i - 1) * s + 1 + 2 * (k - 1 - p) + a
    inner = d.kinds[k - 1 - p:k - 1 - p + (i - 1) * s + 1, k - 1 - p]
    assert list(inner[: s + 1]) == ["input"] + ["zero"] * (s - 1) + ["input"]


def test_sliders_change_the_image_and_the_formula():
    explorer = conv_arithmetic_explorer()
    assert "<b>2</b>" in explorer.info.value  # the lecture's 4×4, 3×3 → 2×2
    before = explorer.images["diagram"].value
    explorer.controls["p"].value = 1
    assert explorer.images["diagram"].value != before
    assert "⌊(4 + 2·1 − 3) / 1⌋ + 1 = <b>4</b>" in explorer.info.value
    assert explorer.controls["out_row"].max == 3
    explorer.controls["out_row"].value = 3
    explorer.controls["out_col"].value = 2
    d = explorer.diagram
    assert set(d.feeding) == {(r, c) for r, _ in conv_sources(3, 4, 3, 1, 1)
                              for c, _ in conv_sources(2, 4, 3, 1, 1)}
    np.testing.assert_allclose(decode_png(explorer.images["diagram"].value), d.image, atol=ATOL)
    np.testing.assert_allclose(explorer.frames["diagram"], d.image)


def test_dependent_sliders_follow_kernel_stride_and_operation():
    explorer = conv_arithmetic_explorer(i=5, k=3, s=2, p=1)
    c = explorer.controls
    assert c["output_padding"].disabled and c["out_row"].max == 2  # ⌊(5 + 2 − 3)/2⌋ + 1 = 3
    c["k"].value = 2
    assert c["p"].max == 1
    c["kind"].value = "transposed convolution"
    assert not c["output_padding"].disabled and c["output_padding"].max == 1
    c["output_padding"].value = 1
    assert "= <b>9</b>" in explorer.info.value  # (5 − 1)·2 − 2 + 2 + 1
    assert explorer.diagram.output_size == 9
    c["i"].value = 1
    c["kind"].value = "convolution"
    c["p"].value = 0
    assert explorer.diagram.output_size == 0 and "no output" in explorer.info.value


def test_the_sliders_move_without_drawing_a_matplotlib_figure():
    explorer = conv_arithmetic_explorer()
    figures = plt.get_fignums()
    explorer.controls["s"].value = 2
    assert plt.get_fignums() == figures


def test_bad_arguments_say_what_was_wrong():
    with pytest.raises(ValueError, match="p must be in 0 .. k-1"):
        conv_diagram(4, 3, 1, 3)
    with pytest.raises(ValueError, match="out_cell"):
        conv_diagram(4, 3, 1, 0, (2, 0))
    with pytest.raises(ValueError, match="output_padding"):
        conv_diagram(4, 3, 2, 0, transposed=True, output_padding=2)


@pytest.mark.parametrize("kwargs, match", [
    ({"k": 0}, r"k must be an int in 1\.\.5"),
    ({"k": -1}, r"k must be an int in 1\.\.5"),
    ({"max_size": 0}, r"max_size must be an int in 1\.\.32"),
    ({"i": 10**9}, r"i must be an int in 1\.\.8"),
    ({"s": 0}, r"s must be an int in 1\.\.3"),
    ({"p": 3}, r"p must be an int in 0\.\.2"),
    ({"i": "x"}, r"i must be an int in 1\.\.8"),
    ({"cell_px": 10**9}, r"cell_px must be an int in 4\.\.100"),
])
def test_explorer_arguments_out_of_range_give_a_message(kwargs, match):
    with pytest.raises(ValueError, match=match):
        conv_arithmetic_explorer(**kwargs)
