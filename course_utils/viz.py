"""Figures used across the notebooks: image grids, reconstructions, loss curves, embeddings.

Colours are shared by every notebook: data in ``DATA_COLOR``, the model in ``MODEL_COLOR``,
a baseline in ``BASELINE_COLOR``. Digits are drawn in grayscale with no ticks.
Every function returns its ``matplotlib.figure.Figure``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from course_utils import checks

__all__ = [
    "DATA_COLOR",
    "MODEL_COLOR",
    "BASELINE_COLOR",
    "image_mosaic",
    "plot_image_grid",
    "show_reconstructions",
    "compare_rows",
    "plot_loss_curves",
    "plot_embedding",
    "plot_bars",
]

DATA_COLOR = "#1f77b4"      # blue: real data, originals
MODEL_COLOR = "#d62728"     # red: the model being taught, reconstructions, samples
BASELINE_COLOR = "#7f7f7f"  # grey: baselines such as PCA or raw pixels


def _as_images(name: str, images: object) -> np.ndarray:
    """Turn ``float[N, 784]`` or ``float[N, 28, 28]`` (or ``[N, H, W, 1]``) into ``[N, H, W]``."""
    a = np.asarray(images, dtype=np.float32)
    if a.ndim == 4 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim == 2:
        side = int(round(np.sqrt(a.shape[1])))
        if side * side != a.shape[1]:
            raise ValueError(
                f"{name} of shape {a.shape} is flat but {a.shape[1]} is not a square number "
                "of pixels; pass images of shape [N, H, W]"
            )
        a = a.reshape(a.shape[0], side, side)
    if a.ndim != 3:
        raise ValueError(f"{name} must have shape [N, H, W] or [N, H*W], got {a.shape}")
    return a


def image_mosaic(images: object, ncols: int = 10, pad: int = 1) -> np.ndarray:
    """Tile ``images: float[N, H, W]`` into one ``float32[rows*(H+pad)-pad, ncols*(W+pad)-pad]``.

    Padding pixels are 1.0 (white on the gray colormap's scale of [0, 1]).
    """
    a = _as_images("images", images)
    ncols = checks.positive_int("ncols", ncols, "images per row; try 10")
    pad = checks.int_in_range("pad", pad, 0, 100, "pixels between images; try 1")
    n, h, w = a.shape
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    out = np.ones((nrows * (h + pad) - pad, ncols * (w + pad) - pad), np.float32)
    for i in range(n):
        r, c = divmod(i, ncols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = a[i]
    return out


def _hide_ticks(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def plot_image_grid(
    images: object,
    *,
    ncols: int = 10,
    title: str | None = None,
    labels: Sequence[object] | None = None,
    ax=None,
    scale: float = 0.9,
) -> Figure:
    """Draw ``images: float[N, 28, 28]`` (or ``[N, 784]``) in [0, 1] as a grid.

    labels: optional per-image captions (e.g. digit labels), drawn above each image.
    """
    a = _as_images("images", images)
    if labels is not None and len(labels) != len(a):
        raise ValueError(f"labels has {len(labels)} entries for {len(a)} images")
    ncols = min(ncols, len(a))
    nrows = -(-len(a) // ncols)
    if labels is None:
        if ax is None:
            fig, ax = plt.subplots(figsize=(scale * ncols, scale * nrows + (0.4 if title else 0)))
        else:
            fig = ax.figure
        ax.imshow(image_mosaic(a, ncols), cmap="gray", vmin=0, vmax=1)
        _hide_ticks(ax)
        if title:
            ax.set_title(title)
        return fig
    # each row: an image and its caption above it; the figure's title needs room of its own
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, figsize=(
        scale * ncols, (scale + 0.3) * nrows + (0.45 if title else 0.1)))
    for i, axi in enumerate(axes.flat):
        _hide_ticks(axi)
        axi.axis("off")
        if i < len(a):
            axi.imshow(a[i], cmap="gray", vmin=0, vmax=1)
            axi.set_title(str(labels[i]), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_reconstructions(
    originals: object,
    reconstructions: object | Callable,
    *,
    n: int = 10,
    title: str = "Originals (top) and reconstructions (bottom)",
    row_labels: Sequence[str] = ("original", "reconstruction"),
) -> Figure:
    """Two rows: ``n`` originals above their reconstructions.

    originals: ``float[N, 28, 28]`` or ``[N, 784]`` in [0, 1].
    reconstructions: an array of the same shape, or a model (any callable) that maps
        ``float32[n, 784]`` to ``float32[n, 784]`` — it is applied to the first ``n`` originals.
    """
    x = _as_images("originals", originals)[:n]
    if callable(reconstructions):
        flat = x.reshape(len(x), -1)
        rec = _as_images("reconstructions", np.asarray(reconstructions(flat)))
    else:
        rec = _as_images("reconstructions", reconstructions)[:n]
    if rec.shape != x.shape:
        raise ValueError(f"reconstructions have shape {rec.shape}, originals {x.shape}")
    return compare_rows({row_labels[0]: x, row_labels[1]: rec}, title=title)


def compare_rows(rows: Mapping[str, object], *, title: str | None = None) -> Figure:
    """One labelled row of images per entry, e.g. ``{"noisy": x1, "denoised": x2}``."""
    arrays = {k: _as_images(k, v) for k, v in rows.items()}
    n = max(len(a) for a in arrays.values())
    fig, axes = plt.subplots(len(arrays), 1, figsize=(0.9 * n + 1.2, 1.0 * len(arrays) + 0.4),
                             squeeze=False)
    for ax, (label, a) in zip(axes[:, 0], arrays.items(), strict=True):
        ax.imshow(image_mosaic(a, ncols=n), cmap="gray", vmin=0, vmax=1)
        _hide_ticks(ax)
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_loss_curves(
    curves: Mapping[str, object],
    *,
    title: str = "Training loss",
    xlabel: str = "epoch",
    ylabel: str = "loss",
    logy: bool = False,
    ax=None,
) -> Figure:
    """One line per entry of ``curves`` (name → ``float[T]`` or a ``History``, whose
    ``epoch_loss`` is drawn, plus its ``val_loss`` dashed when present)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.5))
    else:
        fig = ax.figure
    for i, (name, curve) in enumerate(curves.items()):
        color = MODEL_COLOR if i == 0 else f"C{i + 1}"
        if hasattr(curve, "epoch_loss"):
            epochs = np.arange(1, len(curve.epoch_loss) + 1)
            ax.plot(epochs, curve.epoch_loss, "-o", color=color, label=f"{name} (train)", ms=3)
            if len(curve.val_loss):
                ax.plot(epochs, curve.val_loss, "--s", color=color, label=f"{name} (test)", ms=3)
        else:
            y = np.asarray(curve, dtype=np.float64)
            ax.plot(np.arange(1, len(y) + 1), y, color=color, label=name)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_embedding(
    codes: object,
    labels: object,
    *,
    title: str = "Codes coloured by digit",
    xlabel: str = "code dimension 1",
    ylabel: str = "code dimension 2",
    ax=None,
    class_names: Sequence[str] | None = None,
    s: float = 3.0,
) -> Figure:
    """Scatter ``codes: float[N, 2]`` coloured by ``labels: int[N]`` (10-colour map)."""
    c = np.asarray(codes, dtype=np.float32)
    y = np.asarray(labels)
    if c.ndim != 2 or c.shape[1] != 2:
        raise ValueError(f"codes must have shape [N, 2], got {c.shape}; project them to 2-D first")
    if y.shape != (c.shape[0],):
        raise ValueError(f"labels must have shape [{c.shape[0]}], got {y.shape}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 5))
    else:
        fig = ax.figure
    cmap = plt.get_cmap("tab10")
    for k in np.unique(y):
        sel = y == k
        name = class_names[int(k)] if class_names is not None else str(k)
        ax.scatter(c[sel, 0], c[sel, 1], s=s, color=cmap(int(k) % 10), label=name, alpha=0.7,
                   rasterized=True)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(markerscale=4, fontsize=8, loc="best", ncol=2, frameon=True)
    fig.tight_layout()
    return fig


def plot_bars(
    values: Mapping[str, float],
    *,
    errors: Mapping[str, float] | None = None,
    title: str,
    ylabel: str,
    highlight: Sequence[str] = (),
    fmt: str = "{:.1%}",
    ylim: tuple[float, float] | None = None,
    ax=None,
) -> Figure:
    """One labelled bar per entry (e.g. accuracy per method), its value written on top.

    highlight: names drawn in ``MODEL_COLOR`` (the model being taught); the rest are baselines.
    errors: optional ± values (e.g. a standard deviation over runs) drawn as error bars.
    """
    if not values:
        raise ValueError("values is empty: pass a dict such as {'codes': 0.9, 'pixels': 0.88}")
    names = list(values)
    # each line of a name wrapped at 16 characters; a line break written in the name is kept
    ticks = ["\n".join(textwrap.fill(line, 16) for line in str(k).split("\n")) for k in names]
    heights = [float(values[k]) for k in names]
    yerr = [float(errors[k]) for k in names] if errors else None
    if ax is None:
        fig, ax = plt.subplots(figsize=(1.4 * len(names) + 2, 3.5))
    else:
        fig = ax.figure
    colors = [MODEL_COLOR if k in highlight else BASELINE_COLOR for k in names]
    bars = ax.bar(ticks, heights, color=colors, yerr=yerr, capsize=4)
    for i, (bar, h) in enumerate(zip(bars, heights, strict=True)):
        top = h + (yerr[i] if yerr else 0.0)  # write the value above the error bar
        ax.annotate(fmt.format(h), (bar.get_x() + bar.get_width() / 2, top), ha="center",
                    va="bottom", xytext=(0, 3), textcoords="offset points")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
