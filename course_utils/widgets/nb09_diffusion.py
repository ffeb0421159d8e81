"""Explorer of notebook 09: a slider over the steps of a diffusion model's reverse process.

    explorer = reverse_process_explorer(steps, points, digits, fields=fields)
    explorer.controls["step"].value = 40        # what the slider does, from Python (tests)
    explorer.frames["toy"], explorer.frames["digits"]

Every frame is computed before the explorer is built: the toy model's samples at each recorded
step (drawn once with matplotlib, with the learned score field when given), and the digits that
the VAE's decoder makes of the latent model's codes at the same steps. A move only swaps PNG
images.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from course_utils import checks
from course_utils.viz import DATA_COLOR, MODEL_COLOR, image_mosaic
from course_utils.widgets.core import (
    Explorer,
    check_digit_scale,
    check_size_px,
    flat_images,
    png_bytes,
)

__all__ = ["render_points", "reverse_process_explorer"]

Field = tuple[np.ndarray, np.ndarray]  # (grid float[G, 2], vectors float[G, 2])


def render_points(points: object, *, field: Field | None = None, reference: object | None = None,
                  limit: float = 3.0, size_px: int = 300, title: str = "") -> np.ndarray:
    """Draw 2-D samples (and optionally a vector field) once: RGB ``float32[H, W, 3]`` in [0, 1].

    points: ``float[n, 2]``, drawn in the model colour; reference: optional ``float[m, 2]``
    (e.g. data samples) drawn faintly in the data colour below them; field: optional
    ``(grid float[G, 2], vectors float[G, 2])`` drawn as arrows, each scaled to the same length
    (directions only); limit: the square ``[-limit, limit]²`` shown.
    """
    p = np.asarray(points, np.float32)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"points must have shape [n, 2], got {p.shape}")
    limit = checks.number_in_range("limit", limit, 0.0, 100.0, "try 3", low_open=True)
    size_px = check_size_px(size_px)
    dpi = 100
    fig = Figure(figsize=(size_px / dpi, size_px / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.12, 0.1, 0.85, 0.8))
    if reference is not None:
        r = np.asarray(reference, np.float32)
        ax.scatter(r[:, 0], r[:, 1], s=2, color=DATA_COLOR, alpha=0.15)
    if field is not None:
        grid, vectors = (np.asarray(a, np.float32) for a in field)
        if grid.shape != vectors.shape or grid.ndim != 2 or grid.shape[1] != 2:
            raise ValueError(f"field must be (grid, vectors), both float[G, 2]; got shapes "
                             f"{grid.shape} and {vectors.shape}")
        unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        ax.quiver(grid[:, 0], grid[:, 1], unit[:, 0], unit[:, 1], color="0.55", angles="xy",
                  width=0.004)
    ax.scatter(p[:, 0], p[:, 1], s=3, color=MODEL_COLOR, alpha=0.6)
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(title, fontsize=9)
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(np.float32) / 255.0


def reverse_process_explorer(
    steps: Sequence[int],
    points: Mapping[int, object],
    digits: Mapping[int, object],
    *,
    fields: Mapping[int, Field] | None = None,
    reference: object | None = None,
    stats: Mapping[int, Mapping[str, float]] | None = None,
    value: int | None = None,
    limit: float = 3.0,
    size_px: int = 300,
    digit_columns: int = 10,
    digit_scale: int = 2,
) -> Explorer:
    """A slider over the reverse process's step t, from T (noise) down to 0 (samples).

    steps: the recorded steps, e.g. ``[100, 80, ..., 0]``; points: t → ``float[n, 2]``, the toy
    model's samples x_t; digits: t → ``float[m, 784]`` in [0, 1], images at step t (notebook
    09: the pixel model's x_t); fields: optional t → ``(grid, vectors)``, the learned score at
    step t, drawn as arrows; reference: optional ``float[k, 2]`` data samples drawn faintly;
    stats: t → numbers for the info line (e.g. ``{"noise level √(1 − ᾱ_t)": 0.98}``). The slider
    is ``controls["step"]``; the frames are ``"toy"`` (RGB) and ``"digits"``.
    """
    keys = [int(t) for t in steps]
    if not keys:
        raise ValueError("steps is empty: pass the recorded steps, e.g. [100, 50, 0]")
    if len(set(keys)) != len(keys):
        raise ValueError(f"steps must be distinct, got {keys}")
    for name, mapping in (("points", points), ("digits", digits)):
        missing = [t for t in keys if t not in mapping]
        if missing:
            raise ValueError(f"{name} has no entry for the steps {missing}: record every step")
    if fields is not None and [t for t in keys if t not in fields]:
        raise ValueError("fields must have an entry for every step (or pass fields=None)")
    value = keys[0] if value is None else int(value)
    if value not in keys:
        raise ValueError(f"value must be one of the steps {keys}, got {value!r}")
    digit_scale = check_digit_scale(digit_scale)
    columns = checks.int_in_range("digit_columns", digit_columns, 1, 100, "try 10")
    toy = {t: render_points(points[t], field=None if fields is None else fields[t],
                            reference=reference, limit=limit, size_px=size_px,
                            title=f"toy model: samples x_t at t = {t}") for t in keys}
    mosaics = {t: image_mosaic(flat_images(f"digits[{t}]", digits[t]), ncols=columns)
               for t in keys}
    slider = widgets.SelectionSlider(options=[(str(t), t) for t in keys], value=value,
                                     description="step t", continuous_update=True)
    toy_image, digit_image, info = (widgets.Image(format="png"), widgets.Image(format="png"),
                                    widgets.HTML())
    layout = widgets.VBox([slider, info, widgets.HBox([
        widgets.VBox([widgets.HTML("<b>the ring</b>: samples on their way to the 8 modes"),
                      toy_image]),
        widgets.VBox([widgets.HTML("<b>latent diffusion</b>: the decoder's image of z_t"),
                      digit_image])])])
    explorer = Explorer(layout, {"step": slider}, {"toy": toy_image, "digits": digit_image},
                        info, scale=1)

    def update(change=None) -> None:
        t = slider.value
        explorer.show("toy", toy[t])
        explorer.frames["digits"] = mosaics[t]
        digit_image.value = png_bytes(mosaics[t], digit_scale)
        numbers = "; ".join(f"{name} <b>{v:.3g}</b>"
                            for name, v in (stats or {}).get(t, {}).items())
        info.value = f"<b>t = {t}</b>" + (f": {numbers}" if numbers else "")

    slider.observe(update, names="value")
    update()
    return explorer
