"""The λ slider of notebook 04: how a sparsity penalty changes features and reconstructions.

    explorer = sparsity_explorer(x_test[:10], reconstructions, features, stats)
    explorer                                   # the slider and two images in Jupyter
    explorer.controls["lam"].value = 0.03      # what the slider does, from Python (tests)
    explorer.frames["features"]                # float32[H, W] in [0, 1]: the image now shown

Every model is trained and evaluated once, before the explorer is built; a move of the slider
only switches between precomputed arrays and re-encodes two PNGs (a few milliseconds). The
plumbing (``Explorer``, PNG encoding) comes from ``course_utils.widgets``.
"""

from __future__ import annotations

from collections.abc import Mapping

import ipywidgets as widgets
import numpy as np

from course_utils.viz import image_mosaic
from course_utils.widgets import Explorer

__all__ = ["feature_images", "sparsity_explorer"]


def _rows(name: str, images: object) -> np.ndarray:
    a = np.asarray(images, dtype=np.float32)
    if a.ndim < 2 or a.shape[0] == 0:
        raise ValueError(f"{name} must be float[N, 784] or [N, 28, 28] with N ≥ 1, got {a.shape}")
    return a.reshape(a.shape[0], -1)


def feature_images(vectors: object) -> np.ndarray:
    """Rescale each row of ``vectors: float[K, 784]`` to [0, 1] so it can be drawn as an image.

    Used for decoder features (rows of the decoder's kernel): each row is shifted and scaled by
    its own minimum and maximum, so the pattern shows whatever its overall size. A constant row
    becomes mid-gray. Returns ``float32[K, 784]``.
    """
    v = _rows("vectors", vectors)
    lo, hi = v.min(axis=1, keepdims=True), v.max(axis=1, keepdims=True)
    span = np.where(hi > lo, hi - lo, 1.0)
    return np.where(hi > lo, (v - lo) / span, 0.5).astype(np.float32)


def _label(lam: float) -> str:
    return f"{lam:g}"


def sparsity_explorer(
    originals: object,
    reconstructions: Mapping[float, object],
    features: Mapping[float, object],
    stats: Mapping[float, Mapping[str, float]] | None = None,
    *,
    value: float | None = None,
    feature_columns: int = 10,
    scale: int = 2,
) -> Explorer:
    """A slider over penalty weights λ; shows that λ's decoder features and reconstructions.

    originals: ``float[n, 784]`` test images in [0, 1]; reconstructions: λ → ``float[n, 784]``
    (that model's outputs for the originals); features: λ → ``float[K, 784]`` in [0, 1] (e.g.
    ``feature_images`` of decoder rows); stats: λ → numbers shown in the info line, e.g.
    ``{"test MSE per pixel": 0.012, "active units": 0.08}``. The λ keys must match.
    """
    x = _rows("originals", originals)
    if not reconstructions:
        raise ValueError("reconstructions is empty: pass {lam: float[n, 784]}")
    lams = sorted(float(k) for k in reconstructions)
    recs = {float(k): _rows(f"reconstructions[{k}]", r) for k, r in reconstructions.items()}
    feats = {float(k): _rows(f"features[{k}]", f) for k, f in features.items()}
    if sorted(feats) != lams:
        raise ValueError(f"features and reconstructions must have the same λ keys, got "
                         f"{sorted(feats)} and {lams}")
    for lam, r in recs.items():
        if r.shape != x.shape:
            raise ValueError(f"reconstructions[{lam:g}] has shape {r.shape}, originals {x.shape}")
    value = lams[0] if value is None else float(value)
    if value not in recs:
        raise ValueError(f"value must be one of the λ values {lams}, got {value!r}")

    slider = widgets.SelectionSlider(options=[(_label(lam), lam) for lam in lams], value=value,
                                     description="λ", continuous_update=True)
    feature_image, digit_image = widgets.Image(format="png"), widgets.Image(format="png")
    info = widgets.HTML()
    titles = [widgets.HTML("<b>decoder features</b> (one unit's weights each)"),
              widgets.HTML("<b>test digits</b> (top) and reconstructions (bottom)")]
    layout = widgets.VBox([slider, info, widgets.HBox([
        widgets.VBox([titles[0], feature_image]), widgets.VBox([titles[1], digit_image])])])
    explorer = Explorer(layout, {"lam": slider},
                        {"features": feature_image, "digits": digit_image}, info, scale=scale)

    def update(change=None) -> None:
        lam = slider.value
        explorer.show("features", image_mosaic(feats[lam], ncols=feature_columns))
        explorer.show("digits", image_mosaic(np.concatenate([x, recs[lam]]), ncols=len(x)))
        numbers = "; ".join(f"{name} <b>{v:.4g}</b>" for name, v in (stats or {}).get(
            lam, {}).items())
        info.value = f"<b>λ = {_label(lam)}</b>" + (f": {numbers}" if numbers else "")

    slider.observe(update, names="value")
    update()
    return explorer
