"""The explorers' sliders, driven from Python: the image shown must be the model's answer."""

import jax
import numpy as np
import pytest
from flax import nnx

from course_utils import widgets
from course_utils.models import MLPAutoencoder
from course_utils.noise import add_noise
from course_utils.viz import image_mosaic
from course_utils.widgets import (
    core,
    decode_png,
    hex_rgb,
    latent_plane_explorer,
    latent_size_explorer,
    nb02_latent_dimension,
    nb03_denoising,
    nb04_regularized_autoencoders,
    nb05_convolutional_autoencoders,
    nb06_gans,
    nb07_variational_autoencoders,
    nb08_conditional_gans,
    nb09_diffusion,
    noise_explorer,
    png_bytes,
)

ATOL = 1 / 255 + 1e-6  # PNG holds 8-bit pixels


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((6, 784), dtype=np.float32)


def small_ae(d, seed=0):
    return MLPAutoencoder(d, hidden=(16,), rngs=nnx.Rngs(seed))


def test_png_round_trip_keeps_8_bit_pixels_and_scales_by_whole_pixels():
    a = np.random.default_rng(1).random((5, 7), dtype=np.float32)
    back = decode_png(png_bytes(a, scale=3), scale=3)
    assert back.shape == (5, 7)
    np.testing.assert_allclose(back, a, atol=ATOL)
    rgb = np.random.default_rng(2).random((4, 4, 3), dtype=np.float32)
    np.testing.assert_allclose(decode_png(png_bytes(rgb)), rgb, atol=ATOL)
    with pytest.raises(ValueError, match=r"shape \[H, W\]"):
        png_bytes(np.zeros((2, 2, 2)))


def test_latent_size_slider_shows_the_chosen_models_reconstructions(images):
    recs = {d: np.asarray(small_ae(d)(images)) for d in (2, 5, 32)}
    explorer = latent_size_explorer(images, recs, {2: 0.05, 5: 0.03, 32: 0.008}, value=2)
    shown = {}
    for d in (5, 32, 2):
        before = explorer.images["digits"].value
        explorer.controls["latent_dim"].value = d
        assert explorer.images["digits"].value != before
        want = image_mosaic(np.concatenate([images, recs[d]]), ncols=len(images))
        np.testing.assert_allclose(decode_png(explorer.images["digits"].value, explorer.scale),
                                   want, atol=ATOL)
        assert f"D = {d}</b>" in explorer.info.value
        shown[d] = explorer.images["digits"].value
    assert "test MSE per pixel <b>0.0500</b>" in explorer.info.value  # the last choice, D = 2
    assert len(set(shown.values())) == 3


def test_latent_size_explorer_refuses_mismatched_inputs(images):
    with pytest.raises(ValueError, match="empty"):
        latent_size_explorer(images, {})
    with pytest.raises(ValueError, match=r"reconstructions\[2\] has shape"):
        latent_size_explorer(images, {2: images[:3]})
    with pytest.raises(ValueError, match="one of the latent sizes"):
        latent_size_explorer(images, {2: images}, value=7)


def test_latent_plane_sliders_show_the_decoders_image_of_the_point(images):
    model = small_ae(2)
    codes = np.random.default_rng(3).normal(size=(300, 2)).astype(np.float32)
    labels = np.arange(300) % 10
    explorer = latent_plane_explorer(model.decoder, codes, labels)
    z1, z2 = explorer.controls["z1"], explorer.controls["z2"]
    for a, b in ((z1.min, z2.max), (0.5 * (z1.min + z1.max), z2.min)):
        before = (explorer.images["digit"].value, explorer.images["plane"].value)
        z1.value, z2.value = float(a), float(b)
        after = (explorer.images["digit"].value, explorer.images["plane"].value)
        assert after[0] != before[0] and after[1] != before[1]
        want = np.asarray(model.decode(np.array([[z1.value, z2.value]], np.float32)))
        np.testing.assert_allclose(explorer.frames["digit"], want.reshape(28, 28), atol=1e-5)
        np.testing.assert_allclose(decode_png(explorer.images["digit"].value, 6),
                                   want.reshape(28, 28), atol=ATOL)
    with pytest.raises(ValueError, match=r"shape \[N, 2\]"):
        latent_plane_explorer(model.decoder, np.zeros((5, 3)), np.zeros(5))


def test_noise_slider_and_menu_show_noisy_plain_denoised_and_clean_rows(images):
    plain = small_ae(8, seed=0)
    daes = {"gaussian": small_ae(8, seed=1), "masking": small_ae(8, seed=2)}
    explorer = noise_explorer(images, plain, daes, level=0.2, seed=5)
    for kind, level in (("gaussian", 0.6), ("masking", 0.6), ("masking", 0.1)):
        before = explorer.images["digits"].value
        explorer.controls["kind"].value = kind
        explorer.controls["level"].value = level
        assert explorer.images["digits"].value != before
        noisy = np.asarray(add_noise(images, kind, level, key=jax.random.PRNGKey(5)))
        rows = [noisy, np.asarray(plain(noisy)), np.asarray(daes[kind](noisy)), images]
        want = image_mosaic(np.concatenate(rows), ncols=len(images))
        np.testing.assert_allclose(explorer.frames["digits"], want, atol=1e-5)
        np.testing.assert_allclose(decode_png(explorer.images["digits"].value, explorer.scale),
                                   want, atol=ATOL)
        mse_dae = float(np.mean((rows[2] - images) ** 2))
        assert f"DAE {mse_dae:.4f}" in explorer.info.value


def test_noise_explorer_refuses_unknown_kinds(images):
    with pytest.raises(ValueError, match="noise kinds"):
        noise_explorer(images, small_ae(2), {"speckle": small_ae(2)})
    with pytest.raises(ValueError, match="kind must be one of"):
        noise_explorer(images, small_ae(2), {"gaussian": small_ae(2)}, kind="masking")


# ------------------------------------------------------------------------ argument bounds
def identity(x):
    return x


@pytest.mark.parametrize("scale", [0, -1, 10**9, 2.5, True, "2"])
def test_an_out_of_range_scale_gives_a_message_not_a_memory_error(images, scale):
    with pytest.raises(ValueError, match=r"scale must be an int in 1\.\.16"):
        latent_size_explorer(images, {2: images}, scale=scale)
    with pytest.raises(ValueError, match=r"scale must be an int in 1\.\.16"):
        noise_explorer(images, identity, {"gaussian": identity}, scale=scale)


def test_explorers_accept_numpy_ints_for_their_sizes(images):
    explorer = latent_size_explorer(images, {np.int64(2): images}, scale=np.int64(3))
    assert explorer.scale == 3 and list(explorer.controls["latent_dim"].options) == [2]


def test_a_latent_size_of_zero_gives_a_message_not_a_zero_division_error(images):
    with pytest.raises(ValueError, match="each latent size in reconstructions must be a "
                                         "positive int, got 0"):
        latent_size_explorer(images, {0: images, 2: images})


@pytest.mark.parametrize("name, bad", [("digit_scale", 10**9), ("digit_scale", 0),
                                       ("size_px", 10**6), ("size_px", 0)])
def test_latent_plane_sizes_are_bounded(name, bad):
    codes = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    with pytest.raises(ValueError, match=rf"{name} must be an int in"):
        latent_plane_explorer(identity, codes, np.arange(20) % 10, **{name: bad})


def test_latent_plane_with_identical_codes_still_spans_a_box():
    codes = np.ones((20, 2), np.float32)
    explorer = latent_plane_explorer(lambda z: np.zeros((len(z), 784), np.float32), codes,
                                     np.arange(20) % 10)
    z1 = explorer.controls["z1"]
    assert z1.min < 1.0 < z1.max and z1.step > 0


@pytest.mark.parametrize("kwargs, match", [
    ({"level": 1.5}, r"level must be a number in \[0, 1\]"),
    ({"level": float("nan")}, r"level must be a number in \[0, 1\]"),
    ({"seed": 0.5}, "seed must be an int"),
    ({"levels": []}, "levels is empty"),
    ({"levels": [0.0, 2.0]}, r"each of levels must be a number in \[0, 1\]"),
])
def test_noise_explorer_settings_are_checked(images, kwargs, match):
    with pytest.raises(ValueError, match=match):
        noise_explorer(images, identity, {"gaussian": identity}, **kwargs)


def test_noise_explorer_refuses_0_255_images(images):
    with pytest.raises(ValueError, match="divide by 255"):
        noise_explorer(images * 255, identity, {"gaussian": identity})


def test_the_package_re_exports_every_public_name_of_its_modules():
    modules = [core, nb02_latent_dimension, nb03_denoising, nb04_regularized_autoencoders,
               nb05_convolutional_autoencoders, nb06_gans, nb07_variational_autoencoders,
               nb08_conditional_gans, nb09_diffusion]
    for module in modules:
        for name in module.__all__:
            assert name in widgets.__all__, f"{module.__name__}.{name} is not re-exported"
            assert getattr(widgets, name) is getattr(module, name)


def test_hex_rgb_reads_each_channel_as_a_fraction_of_255():
    np.testing.assert_array_equal(hex_rgb("#ff8000"), np.array([1.0, 128 / 255, 0.0], np.float32))
    assert hex_rgb("#000000").dtype == np.float32
