"""The λ slider of notebook 04: how a sparsity penalty changes features and reconstructions.

    explorer = sparsity_explorer(x_test[:10], reconstructions, features, stats)
    explorer                                   # the slider and two images in Jupyter
    explorer.controls["lam"].value = 0.03      # what the slider does, from Python (tests)
    explorer.frames["features"]                # float32[H, W] in [0, 1]: the image now shown

Every model is trained and evaluated once, before the explorer is built; a move of the slider
only switches between precomputed arrays and re-encodes two PNGs (a few milliseconds). The
plumbing (``Explorer``, PNG encoding) comes from ``course_utils.widgets.core``.
"""

from __future__ import annotations

import numpy as np

from course_utils.widgets.core import (
    Explorer,
    PerValue,
    PerValueStats,
    flat_images,
    trained_models_explorer,
)

__all__ = ["feature_images", "sparsity_explorer"]


def feature_images(vectors: object) -> np.ndarray:
    """Rescale each row of ``vectors: float[K, 784]`` to [0, 1] so it can be drawn as an image.

    Used for decoder features (rows of the decoder's kernel): each row is shifted and scaled by
    its own minimum and maximum, so the pattern shows whatever its overall size. A constant row
    becomes mid-gray. Returns ``float32[K, 784]``.
    """
    v = flat_images("vectors", vectors)
    lo, hi = v.min(axis=1, keepdims=True), v.max(axis=1, keepdims=True)
    span = np.where(hi > lo, hi - lo, 1.0)
    return np.where(hi > lo, (v - lo) / span, 0.5).astype(np.float32)


def sparsity_explorer(originals: object, reconstructions: PerValue, features: PerValue,
                      stats: PerValueStats | None = None, *, value: float | None = None,
                      feature_columns: int = 10, scale: int = 2) -> Explorer:
    """A slider over penalty weights λ; shows that λ's decoder features and reconstructions.

    originals: ``float[n, 784]`` test images in [0, 1]; reconstructions: λ → ``float[n, 784]``
    (that model's outputs for the originals); features: λ → ``float[K, 784]`` in [0, 1] (e.g.
    ``feature_images`` of decoder rows); stats: λ → numbers shown in the info line, e.g.
    ``{"test MSE per pixel": 0.012, "active units": 0.08}``. The λ keys must match.
    """
    return trained_models_explorer(
        "lam", "λ", originals, reconstructions, features, panel_name="features",
        panel_title="<b>decoder features</b> (one unit's weights each)",
        digits_title="<b>test digits</b> (top) and reconstructions (bottom)", stats=stats,
        value=value, panel_columns=feature_columns, panel_first=True, scale=scale)
