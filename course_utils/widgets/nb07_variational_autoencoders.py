"""Explorers of notebook 07: a β slider over trained β-VAEs and the latent space of a 2-D VAE.

    explorer = beta_explorer(x_test[:10], reconstructions, samples, stats)
    explorer.controls["beta"].value = 4.0        # what the slider does, from Python (tests)
    explorer.frames["digits"], explorer.frames["samples"]

    explorer = vae_latent_explorer(vae, codes, y_test, method="generate", classify=predict_proba)
    explorer.controls["z1"].value = 1.5          # move the point; the decoder draws g(z)
    explorer.frames["digit"], explorer.frames["plane"]

Both are built on ``course_utils.widgets.core`` (``Explorer``, PNG images, the latent-plane
background): every model output the β slider shows is computed before it is built, and the
latent explorer runs one jitted decoder call per move. No matplotlib figure is drawn per move.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as widgets
import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from course_utils import checks
from course_utils.models import apply_jitted
from course_utils.widgets.core import (
    Explorer,
    PerValue,
    PerValueStats,
    check_digit_scale,
    check_size_px,
    draw_marker,
    png_bytes,
    scatter_background,
    trained_models_explorer,
)

__all__ = ["LatentExplorer", "beta_explorer", "prior_mass_within", "vae_latent_explorer"]

CIRCLE_SHADE = 0.35  # grey level of the prior's 1σ, 2σ, 3σ circles on the latent map


def beta_explorer(originals: object, reconstructions: PerValue, samples: PerValue,
                  stats: PerValueStats | None = None, *, value: float | None = None,
                  sample_columns: int = 10, scale: int = 2) -> Explorer:
    """A slider over β; shows that β-VAE's reconstructions and its samples from the prior.

    originals: ``float[n, 784]`` test images in [0, 1]; reconstructions: β → ``float[n, 784]``,
    that model's decoded reconstructions of the originals; samples: β → ``float[m, 784]``, its
    decoder's images of m draws z ~ N(0, I) (use the same draws for every β, so the slider
    changes only the model); stats: β → numbers for the info line, e.g.
    ``{"reconstruction (nats)": 80.1, "KL (nats)": 25.3}``. The β keys must match.
    """
    return trained_models_explorer(
        "beta", "β", originals, reconstructions, samples, panel_name="samples",
        panel_title="<b>samples</b>: the decoder's image of z ~ N(0, I)",
        digits_title="<b>test digits</b> (top) and their reconstructions (bottom)", stats=stats,
        value=value, panel_columns=sample_columns, scale=scale)


def prior_mass_within(radius: float) -> float:
    """P(‖z‖ ≤ radius) for z ~ N(0, I) in two dimensions: 1 − exp(−radius² / 2)."""
    return 1.0 - math.exp(-0.5 * float(radius) ** 2)


def _draw_circles(rgb: np.ndarray, to_pixel: Callable[[float, float], tuple[int, int]],
                  radii: tuple[float, ...]) -> np.ndarray:
    """The circles ‖z‖ = r for each r in ``radii``, drawn in grey onto a copy of ``rgb``."""
    out = rgb.copy()
    h, w, _ = out.shape
    for r in radii:
        for angle in np.linspace(0.0, 2 * np.pi, 720, endpoint=False):
            row, col = to_pixel(r * np.cos(angle), r * np.sin(angle))
            if 0 <= row < h and 0 <= col < w:
                out[row, col] = CIRCLE_SHADE
    return out


@dataclass
class LatentExplorer(Explorer):
    """An ``Explorer`` that also keeps its latent map without the marker (``background``) and
    the map from codes to its pixels (``to_pixel(z1, z2) -> (row, col)``)."""

    background: np.ndarray | None = None
    to_pixel: Callable[[float, float], tuple[int, int]] | None = None


def vae_latent_explorer(
    decoder: nnx.Module | Callable,
    codes: object,
    labels: object,
    *,
    method: str | None = None,
    classify: Callable[[np.ndarray], np.ndarray] | None = None,
    limit: float = 3.0,
    size_px: int = 360,
    digit_scale: int = 6,
) -> LatentExplorer:
    """Sliders z1, z2 pick a point of a 2-D VAE's latent space; the decoder draws its image.

    decoder: an NNX module (jitted once; ``method`` names the method that maps ``float32[N, 2]``
        to ``float32[N, 784]`` in [0, 1], e.g. ``"generate"``), or any such callable.
    codes: ``float[N, 2]``, the encoder's means of test digits, and ``labels: int[N]``: drawn
        once, coloured by digit, over the prior's 1σ, 2σ and 3σ circles, in the square
        ``[-limit, limit]²`` that the sliders span.
    classify: optional ``images float32[N, 784] -> probabilities float[N, 10]`` (e.g.
        ``course_utils.classifier.predict_proba``): the info line then says which digit a
        classifier reads in the decoded image.
    """
    c = np.asarray(codes, dtype=np.float32)
    if c.ndim != 2 or c.shape[1] != 2:
        raise ValueError(f"codes must have shape [N, 2], got {c.shape}: use a 2-D VAE")
    y = np.asarray(labels)
    if y.shape != (len(c),):
        raise ValueError(f"labels must have shape [{len(c)}], got {y.shape}")
    limit = checks.number_in_range("limit", limit, 0.0, 100.0, "try 3: three prior σ",
                                   low_open=True)
    size_px, digit_scale = check_size_px(size_px), check_digit_scale(digit_scale)
    box = ((-limit, limit), (-limit, limit))
    background, to_pixel = scatter_background(c, y, box, size_px)
    background = _draw_circles(background, to_pixel, tuple(r for r in (1.0, 2.0, 3.0)
                                                           if r <= limit))
    if isinstance(decoder, nnx.Module):
        def decode(z: object) -> jax.Array:
            return apply_jitted(decoder, jnp.asarray(z, jnp.float32), method=method)
    elif method is None:
        decode = decoder
    else:
        raise ValueError("method applies to an nnx.Module decoder; pass the callable itself")
    sliders = [widgets.FloatSlider(value=0.0, min=-limit, max=limit, step=limit / 100,
                                   description=f"z{i + 1}", continuous_update=True,
                                   readout_format=".2f") for i in range(2)]
    side = f"{28 * digit_scale}px"  # a fixed square, so the row's height does not stretch it
    plane = widgets.Image(format="png")
    digit = widgets.Image(format="png", layout=widgets.Layout(width=side, height=side))
    info = widgets.HTML()
    explorer = LatentExplorer(
        widgets.VBox([widgets.HBox(sliders), info,
                      widgets.HBox([plane, digit], layout=widgets.Layout(align_items="center"))]),
        {"z1": sliders[0], "z2": sliders[1]}, {"plane": plane, "digit": digit}, info, scale=1,
        background=background, to_pixel=to_pixel)

    def update(change=None) -> None:
        z = np.array([[sliders[0].value, sliders[1].value]], np.float32)
        decoded = np.clip(np.asarray(decode(z), np.float32).reshape(28, 28), 0.0, 1.0)
        explorer.frames["digit"] = decoded
        digit.value = png_bytes(decoded, digit_scale)
        explorer.show("plane", draw_marker(background, *to_pixel(*z[0])))
        radius = float(np.hypot(*z[0]))
        text = (f"z = ({z[0, 0]:.2f}, {z[0, 1]:.2f}): ‖z‖ = {radius:.2f} prior σ from the "
                f"centre; {prior_mass_within(radius):.0%} of the prior's draws fall closer")
        if classify is not None:
            probs = np.asarray(classify(decoded.reshape(1, 784)))[0]
            text += (f" · a classifier reads a <b>{int(probs.argmax())}</b> "
                     f"(p = {float(probs.max()):.2f})")
        info.value = text

    decode(np.zeros((1, 2), np.float32))  # compile before the first move
    for s in sliders:
        s.observe(update, names="value")
    update()
    return explorer
