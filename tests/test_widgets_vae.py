"""The β slider and the 2-D latent explorer, driven from Python: the images shown (decoded from
their PNG bytes) must be the chosen model's outputs and the decoder's image of the chosen z."""

import math

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import pytest
from flax import nnx

from course_utils.viz import image_mosaic
from course_utils.widgets import beta_explorer, decode_png, prior_mass_within, vae_latent_explorer

ATOL = 1 / 255 + 1e-6  # PNG holds 8-bit pixels
BETAS = (0.1, 1.0, 10.0)


@pytest.fixture(scope="module")
def beta_models():
    rng = np.random.default_rng(0)
    originals = rng.random((4, 784), dtype=np.float32)
    recs = {b: rng.random((4, 784), dtype=np.float32) for b in BETAS}
    samples = {b: rng.random((12, 784), dtype=np.float32) for b in BETAS}
    stats = {b: {"KL (nats)": 30.0 / (i + 1), "reconstruction (nats)": 80.0 + 20 * i}
             for i, b in enumerate(BETAS)}
    return originals, recs, samples, stats


def test_beta_slider_shows_the_chosen_models_reconstructions_and_samples(beta_models):
    originals, recs, samples, stats = beta_models
    explorer = beta_explorer(originals, recs, samples, stats, value=1.0, sample_columns=6)
    assert explorer.controls["beta"].value == 1.0
    shown = set()
    for beta in (10.0, 0.1, 1.0):
        before = (explorer.images["digits"].value, explorer.images["samples"].value)
        explorer.controls["beta"].value = beta
        after = (explorer.images["digits"].value, explorer.images["samples"].value)
        assert after[0] != before[0] and after[1] != before[1]
        np.testing.assert_allclose(decode_png(after[0], explorer.scale),
                                   image_mosaic(np.concatenate([originals, recs[beta]]), ncols=4),
                                   atol=ATOL)
        np.testing.assert_allclose(decode_png(after[1], explorer.scale),
                                   image_mosaic(samples[beta], ncols=6), atol=ATOL)
        assert f"β = {beta:g}</b>" in explorer.info.value
        assert f"KL (nats) <b>{stats[beta]['KL (nats)']:.4g}</b>" in explorer.info.value
        shown.add(after)
    assert len(shown) == 3


def test_the_beta_slider_moves_without_drawing_a_matplotlib_figure(beta_models):
    explorer = beta_explorer(*beta_models)
    figures = plt.get_fignums()
    explorer.controls["beta"].value = 10.0
    assert plt.get_fignums() == figures


def test_beta_explorer_refuses_mismatched_inputs(beta_models):
    originals, recs, samples, _ = beta_models
    with pytest.raises(ValueError, match="empty"):
        beta_explorer(originals, {}, {})
    with pytest.raises(ValueError, match="same β keys"):
        beta_explorer(originals, recs, {0.1: samples[0.1]})
    with pytest.raises(ValueError, match="one of the β values"):
        beta_explorer(originals, recs, samples, value=2.0)
    with pytest.raises(ValueError, match="shape"):
        beta_explorer(originals[:2], recs, samples)


# ------------------------------------------------------------------ the latent explorer
def blob_decoder(z):
    """A stand-in decoder whose image shows where z is: a bright 3x3 blob at a z-dependent place."""
    z = np.asarray(z, np.float32)
    out = np.zeros((len(z), 28, 28), np.float32)
    for n, (a, b) in enumerate(z):
        row, col = int(round(13 - 4 * b)), int(round(13 + 4 * a))
        out[n, row - 1 : row + 2, col - 1 : col + 2] = 1.0
    return out.reshape(len(z), 784)


def fake_classifier(images):
    """Says 'digit = row of the brightest pixel mod 10' with probability 0.8."""
    probs = np.full((len(images), 10), 0.2 / 9, np.float32)
    for n, img in enumerate(np.asarray(images).reshape(-1, 28, 28)):
        probs[n, int(np.argmax(img.max(axis=1))) % 10] = 0.8
    return probs


@pytest.fixture(scope="module")
def codes():
    rng = np.random.default_rng(3)
    return rng.normal(size=(300, 2)).astype(np.float32), rng.integers(0, 10, 300)


def test_latent_explorer_draws_the_decoders_image_of_the_chosen_point(codes):
    c, y = codes
    explorer = vae_latent_explorer(blob_decoder, c, y, classify=fake_classifier, limit=2.5)
    for z1, z2 in ((1.0, -0.5), (-2.0, 2.0), (0.0, 0.0)):
        explorer.controls["z1"].value = z1
        explorer.controls["z2"].value = z2
        want = blob_decoder(np.array([[z1, z2]])).reshape(28, 28)
        np.testing.assert_allclose(explorer.frames["digit"], want)
        np.testing.assert_allclose(decode_png(explorer.images["digit"].value, 6), want,
                                   atol=ATOL)
        # the marker: the plane differs from the background only around to_pixel(z)
        row, col = explorer.to_pixel(z1, z2)
        changed = np.argwhere(np.any(explorer.frames["plane"] != explorer.background, axis=-1))
        assert len(changed) > 0
        assert np.all(np.abs(changed - [row, col]).max(axis=1) <= 8)
        np.testing.assert_allclose(decode_png(explorer.images["plane"].value),
                                   explorer.frames["plane"], atol=ATOL)
        radius = math.hypot(z1, z2)
        info = explorer.info.value
        assert f"z = ({z1:.2f}, {z2:.2f})" in info and f"‖z‖ = {radius:.2f}" in info
        assert f"{prior_mass_within(radius):.0%} of the prior's draws" in info
        digit = int(np.argmax(want.max(axis=1))) % 10
        assert f"reads a <b>{digit}</b> (p = 0.80)" in info


def test_latent_explorer_jits_an_nnx_decoder_and_calls_the_named_method(codes):
    class TinyDecoder(nnx.Module):
        def __init__(self):
            self.linear = nnx.Linear(2, 784, rngs=nnx.Rngs(0))

        def generate(self, z):
            return nnx.sigmoid(self.linear(z))

    decoder = TinyDecoder()
    explorer = vae_latent_explorer(decoder, *codes, method="generate")
    explorer.controls["z1"].value = 1.2
    want = np.asarray(decoder.generate(jnp.array([[1.2, 0.0]], jnp.float32))).reshape(28, 28)
    np.testing.assert_allclose(explorer.frames["digit"], want, atol=1e-5)
    assert "classifier" not in explorer.info.value
    layout = explorer.images["digit"].layout  # a fixed square: the plane's height cannot stretch it
    assert layout.width == layout.height == f"{28 * 6}px"


def test_latent_explorer_background_holds_the_prior_circles(codes):
    explorer = vae_latent_explorer(blob_decoder, *codes, limit=3.0)
    for r in (1.0, 2.0, 3.0):
        row, col = explorer.to_pixel(0.0, r)
        assert np.allclose(explorer.background[row, col], 0.35)


def test_latent_explorer_moves_without_drawing_a_matplotlib_figure(codes):
    explorer = vae_latent_explorer(blob_decoder, *codes)
    figures = plt.get_fignums()
    explorer.controls["z2"].value = 1.0
    assert plt.get_fignums() == figures


def test_latent_explorer_refuses_bad_inputs(codes):
    c, y = codes
    with pytest.raises(ValueError, match=r"\[N, 2\]"):
        vae_latent_explorer(blob_decoder, np.zeros((5, 3)), np.zeros(5, int))
    with pytest.raises(ValueError, match="labels"):
        vae_latent_explorer(blob_decoder, c, y[:10])
    with pytest.raises(ValueError, match="method"):
        vae_latent_explorer(blob_decoder, c, y, method="generate")
    with pytest.raises(ValueError, match="limit"):
        vae_latent_explorer(blob_decoder, c, y, limit=0)


def test_prior_mass_within_matches_the_two_dimensional_normal():
    rng = np.random.default_rng(0)
    radii = np.hypot(*rng.normal(size=(2, 200_000)))
    for r in (0.5, 1.0, 2.0, 3.0):
        assert prior_mass_within(r) == pytest.approx(np.mean(radii <= r), abs=0.005)
    assert prior_mass_within(0.0) == 0.0


@pytest.mark.parametrize("kwargs, match", [
    ({"limit": 0}, r"limit must be a number in \(0, 100\]"),
    ({"limit": True}, r"limit must be a number in \(0, 100\]"),
    ({"digit_scale": 10**9}, r"digit_scale must be an int in 1\.\.32"),
    ({"size_px": 10**9}, r"size_px must be an int in 100\.\.2000"),
])
def test_latent_explorer_settings_are_bounded(codes, kwargs, match):
    with pytest.raises(ValueError, match=match):
        vae_latent_explorer(blob_decoder, *codes, **kwargs)


def test_beta_explorer_columns_and_scale_are_bounded(beta_models):
    x, recs, samples, _ = beta_models
    with pytest.raises(ValueError, match=r"sample_columns must be an int in 1\.\.100"):
        beta_explorer(x, recs, samples, sample_columns=0)
    with pytest.raises(ValueError, match=r"scale must be an int in 1\.\.16"):
        beta_explorer(x, recs, samples, scale=10**9)
