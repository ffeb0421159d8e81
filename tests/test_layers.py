"""course_utils.layers computes what nnx.Conv / nnx.ConvTranspose compute: values and gradients."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from course_utils import layers

CONV_METHODS = ("xla", "im2col", "space_to_depth")  # "auto" picks one of these
CONV_T_METHODS = ("xla", "subpixel", "col2im")
PADDINGS = ("SAME", "VALID", 1, ((1, 0), (2, 1)))


def _cases(seed: int, count: int) -> list[tuple]:
    """A deterministic sample of (height, width, kernel, stride, padding, c_in, c_out, batch)."""
    rng = np.random.default_rng(seed)
    grid = list(itertools.product((1, 2, 3, 4, 5), (1, 2, 3), PADDINGS))
    picks = rng.choice(len(grid), size=count, replace=False)
    cases = []
    for i in picks:
        k, s, pad = grid[i]
        h, w = (int(v) for v in rng.integers(k, k + 6, size=2))  # incl. odd sizes
        ci, co, n = (int(v) for v in rng.integers(1, 4, size=3))
        cases.append((h, w, k, s, pad, ci, co, n))
    return cases


def _layer(cls, k, s, pad, ci, co, **kwargs) -> nnx.Module:
    layer = cls(ci, co, k, s, padding=pad, rngs=nnx.Rngs(3), **kwargs)
    layer.bias[...] = jnp.linspace(-1.0, 1.0, co)  # non-zero, so that the bias path is tested
    return layer


def _output_and_grads(layer: nnx.Module, x: jax.Array, probe: jax.Array):
    """y = layer(x) and the gradients of <y, probe> wrt x and the parameters (one jit)."""
    graphdef, params = nnx.split(layer)

    @jax.jit
    def run(x, params, probe):
        y, vjp = jax.vjp(lambda x, p: nnx.merge(graphdef, p)(x), x, params)
        return y, vjp(probe)

    return run(x, params, probe)


def _assert_equivalent(ref: nnx.Module, ours: list[nnx.Module], x: jax.Array) -> None:
    """Same output, and same gradients of <y, probe> wrt input, kernel and bias."""
    shape = jax.eval_shape(ref, x).shape
    probe = jax.random.normal(jax.random.key(1), shape)
    y_ref, (gx_ref, gp_ref) = _output_and_grads(ref, x, probe)
    for layer in ours:
        y, (gx, gp) = _output_and_grads(layer, x, probe)
        msg = f"method={layer.method!r}"
        assert y.shape == y_ref.shape, msg
        np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5, err_msg=f"output, {msg}")
        np.testing.assert_allclose(gx, gx_ref, rtol=1e-4, atol=1e-4,
                                   err_msg=f"gradient wrt input, {msg}")
        for name in ("kernel", "bias"):
            np.testing.assert_allclose(gp[name][...], gp_ref[name][...], rtol=1e-4, atol=1e-4,
                                       err_msg=f"gradient wrt {name}, {msg}")


@pytest.mark.parametrize(("h", "w", "k", "s", "pad", "ci", "co", "n"), _cases(0, 8))
def test_conv_matches_flax_values_and_gradients(h, w, k, s, pad, ci, co, n):
    ref = _layer(nnx.Conv, (k, k), (s, s), pad, ci, co)
    ours = [_layer(layers.Conv, k, s, pad, ci, co, method=m) for m in CONV_METHODS]
    _assert_equivalent(ref, ours, jax.random.normal(jax.random.key(0), (n, h, w, ci)))


@pytest.mark.parametrize(("h", "w", "k", "s", "pad", "ci", "co", "n"), _cases(1, 8))
def test_conv_transpose_matches_flax_values_and_gradients(h, w, k, s, pad, ci, co, n):
    ref = _layer(nnx.ConvTranspose, (k, k), (s, s), pad, ci, co)
    ours = [_layer(layers.ConvTranspose, k, s, pad, ci, co, method=m) for m in CONV_T_METHODS]
    _assert_equivalent(ref, ours, jax.random.normal(jax.random.key(0), (n, h, w, ci)))


@pytest.mark.parametrize(("flax_cls", "ours_cls", "h", "ci", "co"), [
    (nnx.Conv, layers.Conv, 28, 1, 32), (nnx.Conv, layers.Conv, 14, 32, 64),
    (nnx.ConvTranspose, layers.ConvTranspose, 7, 64, 32),
    (nnx.ConvTranspose, layers.ConvTranspose, 14, 32, 1)])
@pytest.mark.parametrize("k", [3, 4])
def test_course_layers_match_flax(flax_cls, ours_cls, h, ci, co, k):
    """The layers of the course's models: 28x28 MNIST, stride 2, 'SAME', 3x3 and 4x4 kernels."""
    ref = _layer(flax_cls, (k, k), (2, 2), "SAME", ci, co)
    ours = _layer(ours_cls, k, 2, "SAME", ci, co)
    _assert_equivalent(ref, [ours], jax.random.normal(jax.random.key(0), (2, h, h, ci)))


@pytest.mark.parametrize(("flax_cls", "ours_cls"), [
    (nnx.Conv, layers.Conv), (nnx.ConvTranspose, layers.ConvTranspose)])
def test_parameters_and_state_are_interchangeable_with_flax(flax_cls, ours_cls):
    ref = flax_cls(3, 5, (3, 3), (2, 2), rngs=nnx.Rngs(7))
    ours = ours_cls(3, 5, (3, 3), (2, 2), rngs=nnx.Rngs(7))
    ref_state, ours_state = nnx.state(ref, nnx.Param), nnx.state(ours, nnx.Param)
    # compare plain dicts: flax 0.11's State also compares variable metadata
    assert (jax.tree.map(jnp.shape, nnx.to_pure_dict(ref_state))
            == jax.tree.map(jnp.shape, nnx.to_pure_dict(ours_state)))
    for a, b in zip(jax.tree.leaves(ref_state), jax.tree.leaves(ours_state), strict=True):
        np.testing.assert_array_equal(a, b)  # same initialisers, same rngs draws
    # Flax's trained state loads into ours and gives Flax's output.
    ref.kernel[...] = ref.kernel[...] * 2.0 + 0.1
    nnx.update(ours, nnx.state(ref, nnx.Param))
    x = jax.random.normal(jax.random.key(0), (2, 6, 6, 3))
    np.testing.assert_allclose(ours(x), ref(x), rtol=1e-5, atol=1e-5)


def test_use_bias_false_has_no_bias_like_flax():
    ref = nnx.ConvTranspose(2, 3, (3, 3), (2, 2), use_bias=False, rngs=nnx.Rngs(0))
    ours = layers.ConvTranspose(2, 3, 3, 2, use_bias=False, rngs=nnx.Rngs(0))
    assert ours.bias is None
    x = jax.random.normal(jax.random.key(0), (1, 4, 5, 2))
    np.testing.assert_allclose(ours(x), ref(x), rtol=1e-5, atol=1e-5)


def test_depth_to_space_inverts_space_to_depth_and_places_phases():
    x = jnp.arange(2 * 4 * 6 * 3, dtype=jnp.float32).reshape(2, 4, 6, 3)
    z = layers.space_to_depth(x, 2)
    assert z.shape == (2, 2, 3, 12)
    np.testing.assert_array_equal(layers.depth_to_space(z, 2), x)
    # Channel group i*bw + j of low-res pixel (p, q) is output pixel (2p + i, 2q + j).
    np.testing.assert_array_equal(z[:, 1, 2, 3:6], x[:, 2, 5, :])


def test_regrouped_kernels_compute_the_same_convolutions():
    """The teaching identities: strided conv == s2d conv; transposed conv == sub-pixel conv."""
    x = jax.random.normal(jax.random.key(0), (2, 8, 8, 3))
    k = jax.random.normal(jax.random.key(1), (4, 4, 3, 5))
    dn = ("NHWC", "HWIO", "NHWC")
    strided = jax.lax.conv_general_dilated(x, k, (2, 2), ((1, 1), (1, 1)), dimension_numbers=dn)
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    s2d = jax.lax.conv_general_dilated(layers.space_to_depth(xp, 2),
                                       layers.strided_conv_kernel_to_s2d(k, (2, 2)), (1, 1),
                                       "VALID", dimension_numbers=dn)
    np.testing.assert_allclose(s2d, strided, rtol=1e-5, atol=1e-5)
    pads = layers.conv_transpose_padding((4, 4), (2, 2), "SAME")
    sub, (dh, dw) = layers.transpose_kernel_to_subpixel(k, (2, 2), pads)
    assert (dh, dw) == (-1, -1) and sub.shape == (3, 3, 3, 4 * 5)
    z = jax.lax.conv_general_dilated(x, sub, (1, 1), ((1, 1), (1, 1)), dimension_numbers=dn)
    ref = jax.lax.conv_transpose(x, k, (2, 2), "SAME", dimension_numbers=dn)
    np.testing.assert_allclose(layers.depth_to_space(z, 2), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"kernel_size": 0}, "kernel_size"), ({"kernel_size": (3, 3, 3)}, "kernel_size"),
    ({"strides": 0}, "strides"), ({"strides": (2, -1)}, "strides"),
    ({"padding": "CIRCULAR"}, "padding"), ({"padding": "same-ish"}, "padding"),
    ({"padding": (1, 2, 3)}, "padding"), ({"in_features": 0}, "in_features"),
    ({"out_features": -2}, "out_features"), ({"method": "fft"}, "method")])
@pytest.mark.parametrize("cls", [layers.Conv, layers.ConvTranspose])
def test_bad_arguments_raise_errors_naming_the_argument(cls, kwargs, name):
    args = {"in_features": 2, "out_features": 3, "kernel_size": 3, "strides": 2} | kwargs
    with pytest.raises(ValueError, match=name):
        cls(**args, rngs=nnx.Rngs(0))
