"""The explorers' shared plumbing: the ``Explorer`` view, PNG images, checks and common panels.

An explorer is a few controls and images; moving a control from Jupyter or from Python
(``explorer.controls["latent_dim"].value = 5``) redraws its images, and ``explorer.frames[name]``
holds the ``float32`` array in [0, 1] each image shows.

Why it is fast: the images are ``ipywidgets.Image`` widgets holding PNG bytes that are encoded
straight from a numpy array with Pillow (about a millisecond), and everything costly (models'
outputs, the scatter plot's background) is computed once when the explorer is built. No
matplotlib figure is drawn per move (that would cost 100–200 ms) and ipympl is not needed.
Works with ipywidgets 7.7 (Colab) and 8.x: only ``Image``, ``HTML``, sliders, ``Dropdown``,
``HBox``/``VBox`` and ``observe(..., names="value")`` are used.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import ipywidgets as widgets
import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
from flax import nnx
from IPython.display import display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image as PILImage

from course_utils import checks
from course_utils.models import apply_jitted
from course_utils.viz import MODEL_COLOR, image_mosaic
from course_utils.widgets import static

__all__ = [
    "Explorer",
    "PerValue",
    "PerValueStats",
    "check_digit_scale",
    "check_size_px",
    "decode_png",
    "draw_marker",
    "flat_images",
    "hex_rgb",
    "jitted_function",
    "png_bytes",
    "scatter_background",
    "trained_models_explorer",
]


MAX_SCALE = 16  # screen pixels per image pixel, for the explorers' images
MAX_DIGIT_SCALE = 32  # the same for a single enlarged digit
SIZE_PX_RANGE = (100, 2000)  # the side of a latent-plane picture, in screen pixels


def check_digit_scale(value: object) -> int:
    """``value`` as the screen pixels per pixel of an enlarged digit: an int in 1..32."""
    return checks.int_in_range("digit_scale", value, 1, MAX_DIGIT_SCALE, "try 6")


def check_size_px(value: object) -> int:
    """``value`` as the side of a latent-plane picture in screen pixels: an int in 100..2000."""
    return checks.int_in_range("size_px", value, *SIZE_PX_RANGE, "try 360")


def _columns(name: str, value: object) -> int:
    return checks.int_in_range(name, value, 1, 100, "images per row; try 10")


def hex_rgb(color: str) -> np.ndarray:
    """``color`` written ``"#rrggbb"`` as ``float32[3]`` in [0, 1]."""
    return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], np.float32) / 255.0


def png_bytes(image: np.ndarray, scale: int = 1) -> bytes:
    """Encode ``image: float[H, W]`` (gray) or ``float[H, W, 3]`` (RGB) in [0, 1] as PNG bytes.

    scale: each pixel becomes a ``scale × scale`` block (nearest neighbour, so digits stay sharp).
    """
    a = np.asarray(image, dtype=np.float32)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] != 3):
        raise ValueError(f"image must have shape [H, W] or [H, W, 3], got {a.shape}")
    scale = checks.int_in_range("scale", scale, 1, MAX_DIGIT_SCALE, "try 2")
    a = np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)
    if scale != 1:
        a = np.repeat(np.repeat(a, scale, axis=0), scale, axis=1)
    buffer = io.BytesIO()
    PILImage.fromarray(a).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def decode_png(data: bytes, scale: int = 1) -> np.ndarray:
    """Inverse of ``png_bytes``: ``float32[H, W]`` or ``[H, W, 3]`` in [0, 1] (8-bit precision)."""
    a = np.asarray(PILImage.open(io.BytesIO(data)), dtype=np.float32) / 255.0
    return a[::scale, ::scale]


@dataclass
class Explorer:
    """An interactive view: its ``controls``, its ``images`` and the arrays they show.

    controls: name → slider or dropdown; setting ``.value`` from Python updates the view.
    images: name → ``ipywidgets.Image`` holding PNG bytes; frames: name → the ``float32``
    array in [0, 1] behind each image (before scaling); info: an HTML line of numbers.
    """

    widget: widgets.Widget
    controls: dict[str, widgets.Widget]
    images: dict[str, widgets.Image]
    info: widgets.HTML
    frames: dict[str, np.ndarray] = field(default_factory=dict)
    scale: int = 2

    def __post_init__(self) -> None:
        self.scale = checks.int_in_range("scale", self.scale, 1, MAX_SCALE,
                                         "screen pixels per image pixel; try 2")

    def show(self, name: str, frame: np.ndarray) -> None:
        """Put ``frame`` (float in [0, 1]) into the image called ``name``."""
        self.frames[name] = frame
        self.images[name].value = png_bytes(frame, self.scale)

    def _ipython_display_(self) -> None:
        """The live widget; with ``COURSE_STATIC_EXPLORERS=1`` and ipywidgets 8 also its static
        HTML (``course_utils.widgets.static``), which web pages show instead of the widget."""
        bundle = getattr(self.widget, "_repr_mimebundle_", None)  # ipywidgets 8 only
        if not (static.enabled() and callable(bundle)):
            display(self.widget)
            return
        data = dict(bundle() or {})
        data["text/html"] = static.static_html(self)
        display(data, raw=True)


def jitted_function(model: nnx.Module | Callable, method: str | None = None) -> Callable:
    """``x -> model(x)`` (or ``model.<method>(x)``), jitted, using the weights at each call.

    x: ``float[N, ...]``, cast to float32. A plain function (not an NNX module) is returned as is.
    """
    if not isinstance(model, nnx.Module):
        return model

    def apply(x: object) -> jax.Array:
        return apply_jitted(model, jnp.asarray(x, jnp.float32), method=method)

    return apply


def flat_images(name: str, images: object) -> np.ndarray:
    """``images: float[N, 784]`` or ``float[N, 28, 28]`` as ``float32[N, 784]``; N ≥ 1.

    name: the argument's name, for the error message.
    """
    a = np.asarray(images, dtype=np.float32)
    if a.ndim < 2 or a.shape[0] == 0:
        raise ValueError(f"{name} must be float[N, 784] or [N, 28, 28] with N ≥ 1, got {a.shape}")
    return a.reshape(a.shape[0], -1)


def scatter_background(
    codes: np.ndarray,
    labels: np.ndarray,
    limits: tuple[tuple[float, float], tuple[float, float]],
    size_px: int,
) -> tuple[np.ndarray, Callable[[float, float], tuple[int, int]]]:
    """Render the 2-D codes once with matplotlib; return RGB float[H, W, 3] and a mapping
    ``(z1, z2) -> (row, col)`` from code coordinates to pixels of that image.

    codes: ``float[N, 2]``; labels: ``int[N]`` in 0..9;
    limits: ``((z1_lo, z1_hi), (z2_lo, z2_hi))``.
    """
    dpi = 100
    fig = Figure(figsize=(size_px / dpi, size_px / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.12, 0.1, 0.85, 0.85))
    cmap = matplotlib.colormaps["tab10"]
    ax.scatter(codes[:, 0], codes[:, 1], s=2, c=[cmap(int(k) % 10) for k in labels], alpha=0.5)
    (x0, x1), (y0, y1) = limits
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("code dimension 1")
    ax.set_ylabel("code dimension 2")
    ax.set_title("test codes, coloured by digit", fontsize=9)
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(np.float32) / 255.0
    height = rgb.shape[0]
    transform = ax.transData

    def to_pixel(z1: float, z2: float) -> tuple[int, int]:
        px, py = transform.transform((z1, z2))
        return int(round(height - py)), int(round(px))

    return rgb, to_pixel


def draw_marker(rgb: np.ndarray, row: int, col: int, radius: int = 6) -> np.ndarray:
    """A copy of ``rgb: float[H, W, 3]`` in [0, 1] with a model-coloured cross at (row, col)."""
    out = rgb.copy()
    h, w, _ = out.shape
    color = hex_rgb(MODEL_COLOR)
    for dr in range(-radius, radius + 1):
        for r, c in ((row + dr, col), (row, col + dr)):
            if 0 <= r < h and 0 <= c < w:
                out[max(r - 1, 0):r + 2, max(c - 1, 0):c + 2] = color
    return out


# What a slider over trained models is given: one entry per slider value (λ, β, ...).
PerValue = Mapping[float, object]  # value → images, e.g. float[n, 784] in [0, 1]
PerValueStats = Mapping[float, Mapping[str, float]]  # value → numbers for the info line


def trained_models_explorer(
    control: str,
    symbol: str,
    originals: object,
    reconstructions: PerValue,
    panel: PerValue,
    *,
    panel_name: str,
    panel_title: str,
    digits_title: str,
    stats: PerValueStats | None = None,
    value: float | None = None,
    panel_columns: int = 10,
    panel_first: bool = False,
    scale: int = 2,
) -> Explorer:
    """A slider over one hyperparameter (λ, β, ...) of models trained beforehand.

    For each value the models' outputs were computed in advance, so a move only swaps images:
    originals ``float[n, 784]`` in [0, 1] over that model's ``reconstructions[v]`` (frame
    ``"digits"``), and a second panel of images ``panel[v]`` (frame ``panel_name``, e.g. decoder
    features or samples), under the HTML titles ``digits_title`` and ``panel_title``.
    stats: v → numbers for the info line. The slider is
    ``controls[control]``, labelled ``symbol``; the keys of ``reconstructions`` and ``panel`` must
    match.
    """
    x = flat_images("originals", originals)
    panel_columns = _columns(f"{panel_name[:-1]}_columns", panel_columns)
    if not reconstructions:
        raise ValueError(f"reconstructions is empty: pass {{{control}: float[n, 784]}}")
    keys = sorted(float(k) for k in reconstructions)
    recs = {float(k): flat_images(f"reconstructions[{k}]", r) for k, r in reconstructions.items()}
    other = {float(k): flat_images(f"{panel_name}[{k}]", f) for k, f in panel.items()}
    if sorted(other) != keys:
        raise ValueError(f"{panel_name} and reconstructions must have the same {symbol} keys, "
                         f"got {sorted(other)} and {keys}")
    for k, r in recs.items():
        if r.shape != x.shape:
            raise ValueError(f"reconstructions[{k:g}] has shape {r.shape}, originals {x.shape}")
    value = keys[0] if value is None else checks.as_number("value", value)
    if value not in recs:
        raise ValueError(f"value must be one of the {symbol} values {keys}, got {value!r}")

    slider = widgets.SelectionSlider(options=[(f"{k:g}", k) for k in keys], value=value,
                                     description=symbol, continuous_update=True)
    digit_image, panel_image = widgets.Image(format="png"), widgets.Image(format="png")
    info = widgets.HTML()
    boxes = [widgets.VBox([widgets.HTML(digits_title), digit_image]),
             widgets.VBox([widgets.HTML(panel_title), panel_image])]
    layout = widgets.VBox([slider, info, widgets.HBox(boxes[::-1] if panel_first else boxes)])
    explorer = Explorer(layout, {control: slider},
                        {"digits": digit_image, panel_name: panel_image}, info, scale=scale)

    def update(change=None) -> None:
        k = slider.value
        explorer.show(panel_name, image_mosaic(other[k], ncols=panel_columns))
        explorer.show("digits", image_mosaic(np.concatenate([x, recs[k]]), ncols=len(x)))
        numbers = "; ".join(f"{name} <b>{v:.4g}</b>" for name, v in (stats or {}).get(
            k, {}).items())
        info.value = f"<b>{symbol} = {k:g}</b>" + (f": {numbers}" if numbers else "")

    slider.observe(update, names="value")
    update()
    return explorer
