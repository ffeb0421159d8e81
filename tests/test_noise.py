import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_utils.noise import NOISE_KINDS, add_noise


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((16, 784), dtype=np.float32)


@pytest.mark.parametrize("kind", NOISE_KINDS)
@pytest.mark.parametrize("level", [0.0, 0.1, 0.5, 1.0])
def test_output_keeps_shape_dtype_and_the_pixel_range(images, kind, level):
    out = add_noise(images, kind, level, seed=0)
    assert out.shape == images.shape and out.dtype == images.dtype
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_level_zero_leaves_the_images_unchanged(images, kind):
    np.testing.assert_array_equal(add_noise(images, kind, 0.0, seed=3), images)


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_the_same_key_gives_the_same_noise_and_another_key_other_noise(images, kind):
    a = add_noise(images, kind, 0.5, key=jax.random.PRNGKey(1))
    b = add_noise(images, kind, 0.5, seed=1)
    c = add_noise(images, kind, 0.5, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("level", [0.1, 0.3, 0.7])
def test_masking_zeroes_about_level_of_the_pixels_and_keeps_the_rest(level):
    x = np.full((200, 784), 0.5, np.float32)
    out = np.asarray(add_noise(x, "masking", level, seed=0))
    assert set(np.unique(out)) <= {0.0, 0.5}
    assert abs(np.mean(out == 0.0) - level) < 0.01


@pytest.mark.parametrize("level", [0.1, 0.4])
def test_salt_and_pepper_sets_about_level_of_the_pixels_to_0_or_1_equally(level):
    x = np.full((200, 784), 0.5, np.float32)
    out = np.asarray(add_noise(x, "salt_and_pepper", level, seed=0))
    assert abs(np.mean(out != 0.5) - level) < 0.01
    assert abs(np.mean(out == 1.0) - np.mean(out == 0.0)) < 0.01


def test_gaussian_level_is_the_standard_deviation_before_clipping():
    x = np.full((200, 784), 0.5, np.float32)
    out = np.asarray(add_noise(x, "gaussian", 0.1, seed=0))  # 5 sigma from the clip
    assert abs(np.std(out - x) - 0.1) < 0.002 and abs(np.mean(out - x)) < 0.002


@pytest.mark.parametrize("kind", ["salt_and_pepper", "masking"])
def test_a_higher_level_corrupts_a_superset_of_the_pixels(images, kind):
    low = np.asarray(add_noise(images, kind, 0.2, seed=0)) != images
    high = np.asarray(add_noise(images, kind, 0.6, seed=0)) != images
    assert np.all(high[low])


def test_works_inside_jit_with_a_traced_level(images):
    @jax.jit
    def corrupt(x, level, key):
        return add_noise(x, "gaussian", level, key=key)

    key = jax.random.PRNGKey(0)
    np.testing.assert_allclose(corrupt(images, 0.3, key), add_noise(images, level=0.3, key=key),
                               atol=1e-6)


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_gradients_flow_to_the_clean_images(images, kind):
    grad = jax.grad(lambda x: jnp.sum(add_noise(x, kind, 0.3, seed=0)))(jnp.asarray(images))
    assert grad.shape == images.shape and bool(jnp.all(jnp.isfinite(grad)))


def test_an_unknown_kind_names_the_argument_and_the_allowed_values(images):
    with pytest.raises(ValueError, match=r"kind must be one of 'gaussian', 'salt_and_pepper', "
                                         r"'masking', got 'speckle'"):
        add_noise(images, "speckle", 0.3, seed=0)


@pytest.mark.parametrize("level", [-0.1, 1.5, float("nan"), "high"])
def test_a_level_outside_0_1_names_the_argument_and_the_range(images, level):
    with pytest.raises(ValueError, match=r"level must be a number in \[0, 1\]"):
        add_noise(images, "gaussian", level, seed=0)


def test_key_and_seed_are_exclusive_and_one_is_required(images):
    with pytest.raises(ValueError, match="exactly one of key"):
        add_noise(images, "gaussian", 0.3)
    with pytest.raises(ValueError, match="exactly one of key"):
        add_noise(images, "gaussian", 0.3, key=jax.random.PRNGKey(0), seed=0)


def test_integer_images_are_refused():
    with pytest.raises(ValueError, match="float pixels"):
        add_noise(np.zeros((2, 4), np.uint8), "gaussian", 0.3, seed=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_add_noise_on_0_255_images_says_divide_by_255(dtype):
    x = np.random.default_rng(0).integers(0, 256, (4, 784)).astype(dtype)
    x[0, 0] = 255
    with pytest.raises(ValueError, match=r"x must hold pixels in \[0, 1\].*/ ?255"):
        add_noise(x, "gaussian", 0.3, seed=0)


def test_numpy_and_jax_scalars_are_accepted_for_level_and_seed(images):
    expected = add_noise(images, "masking", 0.3, seed=2)
    for level, seed in ((np.float32(0.3), np.int64(2)), (jnp.float32(0.3), jnp.int32(2)),
                        (np.asarray(0.3), np.arange(3)[2])):
        np.testing.assert_array_equal(add_noise(images, "masking", level, seed=seed), expected)


def test_seed_must_be_an_int_not_a_bool_or_float(images):
    for bad in (True, 0.5, "0"):
        with pytest.raises(ValueError, match="seed must be an int"):
            add_noise(images, "gaussian", 0.3, seed=bad)
