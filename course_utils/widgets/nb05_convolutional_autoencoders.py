"""The convolution-arithmetic diagram of notebook 05, in the spirit of Dumoulin & Visin (2016).

    diagram = conv_diagram(4, 3, s=1, p=0, out_cell=(1, 0))   # the lecture's example
    diagram.image                  # float32[H, W, 3] in [0, 1]: input grid left, output right
    explorer = conv_arithmetic_explorer()
    explorer                       # sliders for i, k, s, p, the output cell; one image
    explorer.controls["p"].value = 1        # what a slider does, from Python (tests)
    explorer.frames["diagram"]     # the image now shown

Left: the grid the kernel slides over. For a convolution that is the input (blue) with ``p``
cells of zero padding (white) around it; for a transposed convolution it is the input with
``s - 1`` zeros inserted between its cells (light grey) and ``k - 1 - p`` cells of padding, over
which a stride-1 convolution runs. The red frame is the ``k × k`` window that computes the chosen
output cell (red, right); the input cells inside it are dark blue. Drawn with numpy, encoded by
``course_utils.widgets.core.png_bytes``: a move costs about a millisecond, no matplotlib figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from course_utils import checks
from course_utils.conv_arithmetic import (
    conv_output_size,
    conv_sources,
    conv_transpose_output_size,
    conv_transpose_sources,
    pytorch_to_flax_padding,
)
from course_utils.viz import DATA_COLOR, MODEL_COLOR
from course_utils.widgets.core import Explorer, hex_rgb

__all__ = ["CELL_COLORS", "Diagram", "conv_arithmetic_explorer", "conv_diagram"]


def _tint(color: np.ndarray, amount: float) -> np.ndarray:
    return (1 - amount) + amount * color


CELL_COLORS = {
    "padding": np.ones(3, np.float32),                 # white
    "zero": np.full(3, 0.86, np.float32),              # light grey: inserted zeros
    "input": _tint(hex_rgb(DATA_COLOR), 0.35),         # light blue
    "feeding": hex_rgb(DATA_COLOR),                    # blue: inputs inside the window
    "output": _tint(hex_rgb(MODEL_COLOR), 0.25),       # light red
    "chosen": hex_rgb(MODEL_COLOR),                    # red: the chosen output cell
}
GRID_LINE = np.full(3, 0.55, np.float32)


@dataclass
class Diagram:
    """One drawing: ``image: float32[H, W, 3]`` in [0, 1] and where things are in it.

    kinds: ``str[n, n]`` — "input", "zero" or "padding" for each cell of the grid the kernel
    slides over; window: the (row, col) of the window's top-left cell on that grid;
    feeding: the input cells ``(row, col)`` (in input coordinates) that feed the chosen output
    cell; input_origin / output_origin: pixel (y, x) of the two grids' top-left corners.
    """

    image: np.ndarray
    kinds: np.ndarray
    output_size: int
    out_cell: tuple[int, int]
    window: tuple[int, int] | None
    feeding: list[tuple[int, int]]
    input_origin: tuple[int, int]
    output_origin: tuple[int, int]
    cell_px: int

    def input_cell_center(self, row: int, col: int) -> tuple[int, int]:
        """Pixel (y, x) of the centre of cell (row, col) of the left grid."""
        return (self.input_origin[0] + row * self.cell_px + self.cell_px // 2,
                self.input_origin[1] + col * self.cell_px + self.cell_px // 2)

    def output_cell_center(self, row: int, col: int) -> tuple[int, int]:
        """Pixel (y, x) of the centre of output cell (row, col)."""
        return (self.output_origin[0] + row * self.cell_px + self.cell_px // 2,
                self.output_origin[1] + col * self.cell_px + self.cell_px // 2)


def _grid_kinds(i: int, k: int, s: int, p: int, transposed: bool, output_padding: int):
    """The 1-D layout of the left grid: kinds and, per grid position, the input index or -1."""
    if not transposed:
        index = np.arange(i + 2 * p) - p
        kinds = np.where((index >= 0) & (index < i), "input", "padding")
        return kinds, np.where(kinds == "input", index, -1)
    lo, hi = pytorch_to_flax_padding(k, p, output_padding)
    n = (i - 1) * s + 1 + lo + hi
    pos = np.arange(n) - lo  # position in the zero-inserted input
    inside = (pos >= 0) & (pos <= (i - 1) * s)
    is_input = inside & (pos % s == 0)
    kinds = np.where(is_input, "input", np.where(inside, "zero", "padding"))
    return kinds, np.where(is_input, pos // s, -1)


def _cell_px(value: object) -> int:
    return checks.int_in_range("cell_px", value, 4, 100, "screen pixels per cell; try 24")


def _check(i: int, k: int, s: int, p: int, transposed: bool, output_padding: int) -> None:
    for name, v in (("i", i), ("k", k), ("s", s)):
        checks.positive_int(name, v)
    if not 0 <= p <= k - 1:
        raise ValueError(f"p must be in 0 .. k-1 = {k - 1} for this diagram, got {p!r}")
    if not 0 <= output_padding < (s if transposed else 1):
        raise ValueError(f"output_padding must be 0 for a convolution and in 0 .. s-1 for a "
                         f"transposed one, got {output_padding!r}")


def conv_diagram(
    i: int,
    k: int,
    s: int = 1,
    p: int = 0,
    out_cell: tuple[int, int] = (0, 0),
    *,
    transposed: bool = False,
    output_padding: int = 0,
    cell_px: int = 24,
) -> Diagram:
    """Draw an ``i × i`` input, a ``k × k`` kernel, stride ``s``, padding ``p`` (PyTorch's
    convention for a transposed conv: ``p`` and ``output_padding`` are those of the convolution
    it transposes) and which input cells feed output cell ``out_cell``.

    Returns a ``Diagram`` (image and layout). When the kernel does not fit (``i + 2p < k``) the
    output is empty and only the input grid is drawn.
    """
    _check(i, k, s, p, transposed, output_padding)
    kinds_1d, index_1d = _grid_kinds(i, k, s, p, transposed, output_padding)
    n = len(kinds_1d)
    n_out = (conv_transpose_output_size(i, k, s, p, output_padding) if transposed
             else conv_output_size(i, k, s, p))
    kinds = np.where((kinds_1d[:, None] == "input") & (kinds_1d[None, :] == "input"), "input",
                     np.where((kinds_1d[:, None] == "padding") | (kinds_1d[None, :] == "padding"),
                              "padding", "zero"))
    window, feeding = None, []
    r, c = out_cell
    if n_out > 0:
        if not (0 <= r < n_out and 0 <= c < n_out):
            raise ValueError(f"out_cell must be in 0 .. {n_out - 1} on both axes, got {out_cell}")
        window = (r, c) if transposed else (r * s, c * s)
        sources = conv_transpose_sources if transposed else conv_sources
        args = (i, k, s, p, output_padding) if transposed else (i, k, s, p)
        rows = [j for j, _ in sources(r, *args)]
        cols = [j for j, _ in sources(c, *args)]
        feeding = [(a, b) for a in rows for b in cols]

    margin, gap = cell_px // 2, 2 * cell_px
    height = 2 * margin + max(n, n_out) * cell_px
    width = 2 * margin + n * cell_px + (gap + n_out * cell_px if n_out else 0)
    image = np.ones((height, width, 3), np.float32)
    y0 = margin + (max(n, n_out) - n) * cell_px // 2
    oy = margin + (max(n, n_out) - n_out) * cell_px // 2
    ox = margin + n * cell_px + gap

    def fill(y: int, x: int, rows: int, cols: int, color: np.ndarray) -> None:
        image[y:y + rows * cell_px + 1, x:x + cols * cell_px + 1] = GRID_LINE
        for a in range(rows):
            for b in range(cols):
                image[y + a * cell_px + 1:y + (a + 1) * cell_px,
                      x + b * cell_px + 1:x + (b + 1) * cell_px] = color

    fill(y0, margin, n, n, CELL_COLORS["padding"])
    for a in range(n):
        for b in range(n):
            if kinds[a, b] != "padding":
                fill(y0 + a * cell_px, margin + b * cell_px, 1, 1, CELL_COLORS[kinds[a, b]])
    for a, b in feeding:  # input (a, b) sits at grid position where index_1d == a, b
        ga, gb = int(np.flatnonzero(index_1d == a)[0]), int(np.flatnonzero(index_1d == b)[0])
        fill(y0 + ga * cell_px, margin + gb * cell_px, 1, 1, CELL_COLORS["feeding"])
    if n_out:
        fill(oy, ox, n_out, n_out, CELL_COLORS["output"])
        fill(oy + r * cell_px, ox + c * cell_px, 1, 1, CELL_COLORS["chosen"])
        wy, wx = y0 + window[0] * cell_px, margin + window[1] * cell_px
        red, size, t = CELL_COLORS["chosen"], k * cell_px, max(cell_px // 10, 2)
        for y, x, h, w in ((wy - 1, wx - 1, t, size + 2), (wy + size - t + 2, wx - 1, t, size + 2),
                           (wy - 1, wx - 1, size + 2, t), (wy - 1, wx + size - t + 2, size + 2, t)):
            image[max(y, 0):y + h, max(x, 0):x + w] = red
    return Diagram(image, kinds, n_out, (r, c), window, feeding, (y0, margin), (oy, ox), cell_px)


def _describe(d: Diagram, i: int, k: int, s: int, p: int, transposed: bool, a: int) -> str:
    if transposed:
        lo, hi = pytorch_to_flax_padding(k, p, a)
        text = (f"<b>transposed convolution</b>: o = (i − 1)·s − 2p + k + a = ({i} − 1)·{s} − "
                f"2·{p} + {k} + {a} = <b>{d.output_size}</b> &nbsp; (PyTorch: "
                f"ConvTranspose2d(k={k}, stride={s}, padding={p}, output_padding={a}); Flax: "
                f"nnx.ConvTranspose(padding=(({lo}, {hi}), ({lo}, {hi}))) on the grid with "
                f"{s - 1} zero(s) inserted between inputs)")
    else:
        text = (f"<b>convolution</b>: o = ⌊(i + 2p − k) / s⌋ + 1 = ⌊({i} + 2·{p} − {k}) / {s}⌋ "
                f"+ 1 = <b>{d.output_size}</b>")
    if d.output_size == 0:
        return text + "<br>the kernel is larger than the padded input: no output cell."
    n_pad = k * k - len(d.feeding) - (
        int(np.sum(d.kinds[d.window[0]:d.window[0] + k, d.window[1]:d.window[1] + k] == "zero"))
        if transposed else 0)
    cells = ", ".join(f"({a},{b})" for a, b in d.feeding)
    return (text + f"<br>output cell {d.out_cell} ← {len(d.feeding)} input cell(s): {cells}"
            + (f"; {n_pad} of the {k}×{k} taps fall on padding" if n_pad else ""))


def conv_arithmetic_explorer(
    i: int = 4, k: int = 3, s: int = 1, p: int = 0, *, transposed: bool = False,
    max_size: int = 8, cell_px: int = 24,
) -> Explorer:
    """Sliders for ``i, k, s, p`` (and ``output_padding``), a convolution / transposed
    convolution menu and sliders for the output cell; one image (``conv_diagram``) and a line
    with the output-size formula. Starts at the lecture's example (4×4 input, 3×3 kernel).

    ``explorer.diagram`` is the ``Diagram`` now shown (its cells, window and feeding inputs).
    """
    max_size = checks.int_in_range("max_size", max_size, 1, 32, "try 8")
    i = checks.int_in_range("i", i, 1, max_size, f"the input size; max_size is {max_size}")
    k = checks.int_in_range("k", k, 1, 5, "the kernel size; try 3")
    s = checks.int_in_range("s", s, 1, 3, "the stride; try 1 or 2")
    p = checks.int_in_range("p", p, 0, k - 1, "the padding; at most k - 1")
    cell_px = _cell_px(cell_px)
    ints = dict(continuous_update=True, style={"description_width": "initial"})
    kind = widgets.Dropdown(options=["convolution", "transposed convolution"],
                            value="transposed convolution" if transposed else "convolution",
                            description="operation")
    ci = widgets.IntSlider(value=i, min=1, max=max_size, description="input size i", **ints)
    ck = widgets.IntSlider(value=k, min=1, max=5, description="kernel k", **ints)
    cs = widgets.IntSlider(value=s, min=1, max=3, description="stride s", **ints)
    cp = widgets.IntSlider(value=p, min=0, max=k - 1, description="padding p", **ints)
    ca = widgets.IntSlider(value=0, min=0, max=max(s - 1, 0), description="output_padding a",
                           **ints)
    row = widgets.IntSlider(value=0, min=0, max=0, description="output row", **ints)
    col = widgets.IntSlider(value=0, min=0, max=0, description="output col", **ints)
    image, info = widgets.Image(format="png"), widgets.HTML()
    layout = widgets.VBox([kind, widgets.HBox([ci, ck, cs]), widgets.HBox([cp, ca]),
                           widgets.HBox([row, col]), info, image])
    controls = {"kind": kind, "i": ci, "k": ck, "s": cs, "p": cp, "output_padding": ca,
                "out_row": row, "out_col": col}
    explorer = Explorer(layout, controls, {"diagram": image}, info, scale=1)
    busy = [False]

    def update(change=None) -> None:
        if busy[0]:
            return
        busy[0] = True
        try:  # bring the dependent sliders' ranges up to date without redrawing in between
            tr = kind.value == "transposed convolution"
            cp.max = ck.value - 1
            ca.max = cs.value - 1 if tr else 0
            ca.disabled = not tr
            args = (ci.value, ck.value, cs.value, cp.value)
            n_out = (conv_transpose_output_size(*args, ca.value) if tr
                     else conv_output_size(*args))
            for slider in (row, col):
                slider.max = max(n_out - 1, 0)
                slider.disabled = n_out <= 1
        finally:
            busy[0] = False
        d = conv_diagram(*args, (row.value, col.value), transposed=tr, output_padding=ca.value,
                         cell_px=cell_px)
        explorer.diagram = d
        explorer.show("diagram", d.image)
        info.value = _describe(d, *args, tr, ca.value)

    for control in controls.values():
        control.observe(update, names="value")
    update()
    return explorer
