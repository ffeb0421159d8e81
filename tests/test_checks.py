"""course_utils.checks: every kind of number and image a student passes, checked one way."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_utils import checks

INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
FLOAT_DTYPES = [np.float16, np.float32, np.float64]


def int_forms(v):
    """The same integer as every scalar a student can end up with."""
    forms = [v, np.int64(v), np.int32(v), np.asarray(v), jnp.int32(v), jnp.asarray(v)]
    if v >= 0:
        forms += [np.uint8(v), np.uint64(v)]
    return forms


def float_forms(v):
    return [v, np.float64(v), np.float32(v), np.asarray(v), jnp.float32(v), jnp.asarray(v)]


# --------------------------------------------------------------------------- integers
@pytest.mark.parametrize("v", [1, 2, 4, 127])
def test_positive_int_accepts_python_numpy_and_jax_ints_as_a_python_int(v):
    for form in int_forms(v):
        out = checks.positive_int("latent_dim", form)
        assert out == v and type(out) is int, form


@pytest.mark.parametrize("v", [0, -1, -100])
def test_positive_int_refuses_zero_and_negatives_in_every_form(v):
    for form in [v, np.int64(v), np.asarray(v), jnp.int32(v)]:
        with pytest.raises(ValueError, match=rf"latent_dim must be a positive int, got .*{v}"):
            checks.positive_int("latent_dim", form)


@pytest.mark.parametrize("bad", [True, False, np.bool_(True), jnp.asarray(True), 2.0,
                                 np.float32(3.0), jnp.float32(2.0), "4", None, [4], (4,),
                                 np.array([4]), 1 + 0j])
def test_positive_int_refuses_bools_floats_and_containers(bad):
    with pytest.raises(ValueError, match="latent_dim must be a positive int"):
        checks.positive_int("latent_dim", bad)


def test_the_message_names_the_argument_the_value_and_what_to_do():
    with pytest.raises(ValueError) as err:
        checks.positive_int("latent_dim", 0, "try 2, 5, 16 or 32")
    assert str(err.value) == "latent_dim must be a positive int, got 0 (try 2, 5, 16 or 32)"


@pytest.mark.parametrize("low, high", [(0, 9), (1, 20), (2, None), (None, 5), (-3, 3)])
def test_int_in_range_accepts_exactly_the_closed_range(low, high):
    for v in range(-6, 25):
        inside = (low is None or v >= low) and (high is None or v <= high)
        for form in (v, np.int64(v), jnp.int32(v)):
            if inside:
                assert checks.int_in_range("n", form, low, high) == v
            else:
                with pytest.raises(ValueError, match=r"^n must be an int"):
                    checks.int_in_range("n", form, low, high)


def test_as_int_raises_type_error_for_non_integers():
    for bad in (True, 1.0, np.float32(1), "1", None, np.zeros(2, int)):
        with pytest.raises(TypeError, match="seed must be an int"):
            checks.as_int("seed", bad)


# --------------------------------------------------------------------------- floats
@pytest.mark.parametrize("v", [1e-4, 1e-3, 0.5, 3.0])
def test_positive_float_accepts_every_float_and_int_scalar(v):
    for form in float_forms(v):
        out = checks.positive_float("learning_rate", form)
        assert type(out) is float and out == pytest.approx(v, rel=1e-6), form
    assert checks.positive_float("learning_rate", np.int64(2)) == 2.0


@pytest.mark.parametrize("bad", [0, 0.0, -1e-3, np.float32(-1.0), float("nan"), float("inf"),
                                 np.float32("nan"), jnp.float32(float("inf")), True, "1e-3",
                                 None, np.array([1e-3]), 1j])
def test_positive_float_refuses_non_positive_non_finite_and_non_numbers(bad):
    with pytest.raises(ValueError, match="learning_rate must be a positive number"):
        checks.positive_float("learning_rate", bad, "try 1e-3")


def test_probability_closed_and_open_ends():
    grid = np.linspace(-0.5, 1.5, 41)
    for low_open, high_open in itertools.product([False, True], repeat=2):
        for v in grid:
            inside = (v > 0 if low_open else v >= 0) and (v < 1 if high_open else v <= 1)
            for form in (float(v), np.float32(v), jnp.float32(v)):
                if inside and float(form) == float(v):
                    assert checks.probability("p", form, low_open=low_open,
                                              high_open=high_open) == pytest.approx(v)
                elif not inside:
                    with pytest.raises(ValueError, match=r"p must be a number in [\[(]0, 1[\])]"):
                        checks.probability("p", form, low_open=low_open, high_open=high_open)


def test_number_checks_run_only_outside_jit():
    seen = []
    jax.jit(lambda v: seen.append(checks.is_traced(v)) or v)(0.3)
    assert seen == [True]
    assert not checks.is_traced(jnp.float32(0.3))


# --------------------------------------------------------------------------- image ranges
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("seed", range(5))
def test_float_images_in_0_1_pass_unchanged(dtype, seed):
    x = np.random.default_rng(seed).random((7, 28, 28)).astype(dtype)
    assert checks.images_in_unit_range("x", x) is x
    jx = jnp.asarray(x)
    assert checks.images_in_unit_range("x", jx) is jx


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + [d for d in INT_DTYPES if np.iinfo(d).max >= 255])
def test_images_in_0_255_are_refused_with_divide_by_255(dtype):
    x = np.random.default_rng(0).integers(0, 256, (5, 784)).astype(dtype)
    x[0, 0] = 255
    for arr in (x, jnp.asarray(x)):
        with pytest.raises(ValueError, match=r"x must hold pixels in \[0, 1\].*/ ?255"):
            checks.images_in_unit_range("x", arr)


@pytest.mark.parametrize("dtype", INT_DTYPES + [np.bool_])
def test_binary_integer_and_bool_images_pass(dtype):
    x = (np.random.default_rng(1).random((4, 784)) > 0.5).astype(dtype)
    assert checks.images_in_unit_range("x", x) is x


@pytest.mark.parametrize("level", [0.1, 0.5, 1.0])
def test_valid_inputs_slightly_outside_0_1_never_trip_the_check(level):
    """Unclipped Gaussian noise (level ≤ 1) on 200,000 pixels and a linear model's overshoot."""
    rng = np.random.default_rng(0)
    x = rng.random((250, 784), dtype=np.float32)
    noisy = x + level * rng.standard_normal(x.shape, dtype=np.float32)
    assert checks.images_in_unit_range("x_noisy", noisy) is noisy
    overshoot = 1.6 * x - 0.3
    assert checks.images_in_unit_range("x_rec", overshoot) is overshoot
    tanh = 2 * x - 1
    assert checks.images_in_unit_range("x", tanh) is tanh


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_pixels_are_named(bad):
    x = np.zeros((2, 784), np.float32)
    x[1, 3] = bad
    with pytest.raises(ValueError, match=r"x must hold pixels in \[0, 1\], got NaN or inf"):
        checks.images_in_unit_range("x", x)


def test_images_in_unit_range_refuses_non_arrays():
    for bad in ("x", None, 3, {"a": 1}):
        with pytest.raises(TypeError, match="must be a numpy or jax array"):
            checks.images_in_unit_range("x", bad)


# --------------------------------------------------------------------------- image shapes
@pytest.mark.parametrize("n", [1, 3, 64])
def test_as_flat_images_flattens_every_digit_layout_to_the_same_rows(n):
    x = np.random.default_rng(n).random((n, 28, 28), dtype=np.float32)
    for layout in (x, x[..., None], x.reshape(n, 784)):
        flat = checks.as_flat_images("x", layout)
        assert flat.shape == (n, 784)
        np.testing.assert_array_equal(np.asarray(flat), x.reshape(n, 784))
    j = checks.as_flat_images("x", jnp.asarray(x))
    assert isinstance(j, jax.Array) and j.shape == (n, 784)


@pytest.mark.parametrize("shape", [(784,), (0, 784), (5, 783), (5, 27, 28), (5, 28, 28, 3),
                                   (5, 10)])
def test_as_flat_images_names_the_expected_shape_and_the_fix(shape):
    with pytest.raises(ValueError, match=r"x must be \[N, 784\].*x\.reshape\(len\(x\), -1\)"):
        checks.as_flat_images("x", np.zeros(shape, np.float32))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + [np.uint8, np.int64])
def test_as_image_batch_gives_float32_n_28_28_from_every_layout(dtype):
    x = (np.random.default_rng(0).random((3, 28, 28)) > 0.5).astype(dtype)
    for layout in (x, x[..., None], x.reshape(3, 784), list(x)):
        out = checks.as_image_batch("images", layout)
        assert out.dtype == np.float32 and out.shape == (3, 28, 28)
        np.testing.assert_array_equal(out, x.astype(np.float32))


@pytest.mark.parametrize("shape", [(0, 28, 28), (28, 28), (3, 28, 27), (3, 28, 28, 2), (3, 785)])
def test_as_image_batch_refuses_other_shapes_with_the_expected_one(shape):
    with pytest.raises(ValueError, match=r"images must be float32\[N, 28, 28\]"):
        checks.as_image_batch("images", np.zeros(shape, np.float32))
