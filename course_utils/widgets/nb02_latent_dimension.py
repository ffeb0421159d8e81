"""Explorers of notebook 02: a slider over latent sizes, and a point moved in a 2-D latent plane.

    explorer = latent_size_explorer(x_test[:10], reconstructions, errors)
    explorer.controls["latent_dim"].value = 5   # what the slider does, from Python (tests)
    explorer.frames["digits"]                   # float32[H, W] in [0, 1]: the image now shown

    explorer = latent_plane_explorer(model_2d.decoder, codes_2d, y_test)
    explorer.controls["z1"].value = 1.5         # move the point; the decoder draws g(z)

The reconstructions are computed before the explorer is built; the latent plane's scatter plot
is drawn once, and a move runs one jitted decoder call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ipywidgets as widgets
import numpy as np
from flax import nnx

from course_utils import checks
from course_utils.viz import image_mosaic
from course_utils.widgets.core import (
    Explorer,
    check_digit_scale,
    check_size_px,
    draw_marker,
    flat_images,
    jitted_function,
    png_bytes,
    scatter_background,
)

__all__ = ["latent_plane_explorer", "latent_size_explorer"]


def latent_size_explorer(
    originals: object,
    reconstructions: Mapping[int, object],
    errors: Mapping[int, float] | None = None,
    *,
    value: int | None = None,
    scale: int = 2,
) -> Explorer:
    """A slider over latent sizes D: originals (top row) and their reconstructions (bottom).

    originals: ``float[n, 784]`` in [0, 1]; reconstructions: D → ``float[n, 784]`` (computed
    once, so a move only switches arrays); errors: D → that model's test MSE per pixel.
    """
    x = flat_images("originals", originals)
    if not reconstructions:
        raise ValueError("reconstructions is empty: pass {latent_dim: float[n, 784]}")
    recs = {checks.positive_int("each latent size in reconstructions", d, "the model's D"):
            flat_images(f"reconstructions[{d}]", r) for d, r in reconstructions.items()}
    for d, r in recs.items():
        if r.shape != x.shape:
            raise ValueError(f"reconstructions[{d}] has shape {r.shape}, originals {x.shape}")
    dims = sorted(recs)
    value = dims[0] if value is None else value
    if value not in recs:
        raise ValueError(f"value must be one of the latent sizes {dims}, got {value!r}")
    slider = widgets.SelectionSlider(options=dims, value=value, description="latent D",
                                     continuous_update=True)
    image = widgets.Image(format="png")
    info = widgets.HTML()
    explorer = Explorer(widgets.VBox([slider, info, image]), {"latent_dim": slider},
                        {"digits": image}, info, scale=scale)

    def update(change=None) -> None:
        d = slider.value
        explorer.show("digits", image_mosaic(np.concatenate([x, recs[d]]), ncols=len(x)))
        text = f"<b>D = {d}</b> ({784 / d:.0f}× compression): top originals, bottom rebuilt"
        if errors is not None and d in errors:
            text += f"; test MSE per pixel <b>{float(errors[d]):.4f}</b>"
        info.value = text

    slider.observe(update, names="value")
    update()
    return explorer


def latent_plane_explorer(
    decoder: nnx.Module | Callable,
    codes: object,
    labels: object,
    *,
    size_px: int = 360,
    digit_scale: int = 6,
) -> Explorer:
    """Two sliders place a point z = (z1, z2) in the 2-D latent plane; the decoder draws g(z).

    decoder: maps ``float32[N, 2]`` → ``float32[N, 784]`` (an NNX module is jitted once).
    codes: ``float[N, 2]`` test codes and ``labels: int[N]``, drawn once as the background.
    """
    size_px, digit_scale = check_size_px(size_px), check_digit_scale(digit_scale)
    c = np.asarray(codes, dtype=np.float32)
    if c.ndim != 2 or c.shape[1] != 2 or len(c) == 0:
        raise ValueError(f"codes must have shape [N, 2], got {c.shape}: use a 2-D model")
    if not np.all(np.isfinite(c)):
        raise ValueError("codes hold NaN or inf values: the model that made them diverged")
    y = np.asarray(labels)
    if y.shape != (len(c),):
        raise ValueError(f"labels must have shape [{len(c)}], got {y.shape}")
    lo, hi = np.percentile(c, 0.5, axis=0), np.percentile(c, 99.5, axis=0)
    pad = np.where(hi > lo, 0.1 * (hi - lo), 1.0)  # all codes equal: a box of side 2
    lo, hi = lo - pad, hi + pad
    background, to_pixel = scatter_background(c, y, ((lo[0], hi[0]), (lo[1], hi[1])), size_px)
    decode = jitted_function(decoder)
    start = np.median(c, axis=0)
    sliders = [widgets.FloatSlider(value=float(start[i]), min=float(lo[i]), max=float(hi[i]),
                                   step=float((hi[i] - lo[i]) / 200), description=f"z{i + 1}",
                                   continuous_update=True, readout_format=".2f")
               for i in range(2)]
    plane, digit = widgets.Image(format="png"), widgets.Image(format="png")
    info = widgets.HTML()
    explorer = Explorer(widgets.VBox([widgets.HBox(sliders), info, widgets.HBox([plane, digit])]),
                        {"z1": sliders[0], "z2": sliders[1]}, {"plane": plane, "digit": digit},
                        info, scale=1)

    def update(change=None) -> None:
        z = np.array([[sliders[0].value, sliders[1].value]], np.float32)
        decoded = np.asarray(decode(z)).reshape(28, 28)
        explorer.frames["digit"] = decoded
        digit.value = png_bytes(decoded, digit_scale)
        explorer.show("plane", draw_marker(background, *to_pixel(*z[0])))
        info.value = f"z = ({z[0, 0]:.2f}, {z[0, 1]:.2f}) → the decoder's image g(z), right"

    decode(np.zeros((1, 2), np.float32))  # compile before the first move
    for s in sliders:
        s.observe(update, names="value")
    update()
    return explorer
