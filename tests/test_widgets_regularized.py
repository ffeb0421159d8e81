"""The λ slider, driven from Python: the images shown must be the chosen λ's model's."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils.viz import image_mosaic
from course_utils.widgets import decode_png, feature_images, sparsity_explorer

ATOL = 1 / 255 + 1e-6  # PNG holds 8-bit pixels
LAMS = (0.0, 0.01, 0.1)


@pytest.fixture(scope="module")
def cached():
    rng = np.random.default_rng(0)
    originals = rng.random((5, 784), dtype=np.float32)
    recs = {lam: rng.random((5, 784), dtype=np.float32) for lam in LAMS}
    feats = {lam: feature_images(rng.normal(size=(20, 784))) for lam in LAMS}
    stats = {lam: {"test MSE per pixel": 0.01 * (i + 1), "active units": 0.5 / (i + 1)}
             for i, lam in enumerate(LAMS)}
    return originals, recs, feats, stats


def test_feature_images_rescale_each_row_to_the_unit_interval():
    v = np.array([[-2.0, 0.0, 2.0], [1.0, 1.0, 1.0]])
    np.testing.assert_allclose(feature_images(v), [[0.0, 0.5, 1.0], [0.5, 0.5, 0.5]])


def test_lambda_slider_shows_the_chosen_models_features_and_reconstructions(cached):
    originals, recs, feats, stats = cached
    explorer = sparsity_explorer(originals, recs, feats, stats)
    assert explorer.controls["lam"].value == 0.0
    shown = set()
    for lam in (0.1, 0.01, 0.0):
        before = (explorer.images["features"].value, explorer.images["digits"].value)
        explorer.controls["lam"].value = lam
        after = (explorer.images["features"].value, explorer.images["digits"].value)
        assert after[0] != before[0] and after[1] != before[1]
        want_digits = image_mosaic(np.concatenate([originals, recs[lam]]), ncols=5)
        np.testing.assert_allclose(decode_png(after[1], explorer.scale), want_digits, atol=ATOL)
        np.testing.assert_allclose(decode_png(after[0], explorer.scale),
                                   image_mosaic(feats[lam], ncols=10), atol=ATOL)
        assert f"λ = {lam:g}</b>" in explorer.info.value
        shown.add(after)
    assert "test MSE per pixel <b>0.01</b>" in explorer.info.value  # λ = 0, the last choice
    assert len(shown) == 3


def test_the_slider_moves_without_drawing_a_matplotlib_figure(cached):
    originals, recs, feats, stats = cached
    explorer = sparsity_explorer(originals, recs, feats, stats, value=0.01)
    figures = plt.get_fignums()
    explorer.controls["lam"].value = 0.1
    assert plt.get_fignums() == figures


def test_sparsity_explorer_refuses_mismatched_inputs(cached):
    originals, recs, feats, _ = cached
    with pytest.raises(ValueError, match="empty"):
        sparsity_explorer(originals, {}, {})
    with pytest.raises(ValueError, match="same λ keys"):
        sparsity_explorer(originals, recs, {0.0: feats[0.0]})
    with pytest.raises(ValueError, match="one of the λ values"):
        sparsity_explorer(originals, recs, feats, value=0.5)
    with pytest.raises(ValueError, match="shape"):
        sparsity_explorer(originals[:3], recs, feats)
