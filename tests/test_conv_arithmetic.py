"""The output-size formulas equal real layers' output shapes; the source cells equal the
layers' Jacobians."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from course_utils import layers
from course_utils.conv_arithmetic import (
    conv_output_size,
    conv_sources,
    conv_transpose_output_size,
    conv_transpose_sources,
    flax_conv_transpose_output_size,
    pytorch_to_flax_padding,
    same_padding,
)

SIZES = range(1, 8)
KERNELS = range(1, 6)
STRIDES = range(1, 4)
GRID = [(i, k, s, p) for i, k, s in itertools.product(SIZES, KERNELS, STRIDES)
        for p in range(0, k) if i + 2 * p >= k]


def _out_height(layer, i):
    x = jax.ShapeDtypeStruct((1, i, 3, 1), jnp.float32)
    return jax.eval_shape(lambda v: layer(v), x).shape[1]


def _conv_layers(k, s, padding):
    pad = padding if isinstance(padding, str) else (padding, (1, 1))
    kw = dict(strides=(s, 1), padding=pad, rngs=nnx.Rngs(0))
    return (nnx.Conv(1, 1, (k, 3), **kw), layers.Conv(1, 1, (k, 3), **kw))


def _transpose_layers(k, s, padding):
    pad = padding if isinstance(padding, str) else (padding, (1, 1))
    kw = dict(strides=(s, 1), padding=pad, rngs=nnx.Rngs(0))
    return (nnx.ConvTranspose(1, 1, (k, 3), **kw), layers.ConvTranspose(1, 1, (k, 3), **kw))


def test_lecture_example_gives_two_by_two():
    assert conv_output_size(4, 3, 1, 0) == 2


@pytest.mark.parametrize("k, s, p", sorted({(k, s, p) for _, k, s, p in GRID}))
def test_conv_formula_equals_nnx_conv_and_course_conv_output_size(k, s, p):
    conv_layers = _conv_layers(k, s, (p, p))
    for i in [i for i in SIZES if i + 2 * p >= k]:
        want = conv_output_size(i, k, s, p)
        assert want == (i + 2 * p - k) // s + 1
        for layer in conv_layers:
            assert _out_height(layer, i) == want, (type(layer).__name__, i, k, s, p)


@pytest.mark.parametrize("k, s", list(itertools.product(KERNELS, STRIDES)))
def test_same_and_valid_conv_formulas_equal_layer_output_sizes(k, s):
    for padding in ("SAME", "VALID"):
        conv_layers = _conv_layers(k, s, padding)
        for i in SIZES:
            if padding == "VALID" and i < k:
                continue
            for layer in conv_layers:
                assert _out_height(layer, i) == conv_output_size(i, k, s, padding)
    for i in SIZES:
        lo, hi = same_padding(i, k, s)
        assert conv_output_size(i, k, s, (lo, hi)) == conv_output_size(i, k, s, "SAME")
        assert layers.conv_padding((i, i), (k, k), (s, s), "SAME")[0] == (lo, hi)


@pytest.mark.parametrize("k, s", list(itertools.product(KERNELS, STRIDES)))
def test_flax_transposed_formula_equals_nnx_and_course_layers(k, s):
    for padding in ("SAME", "VALID", (0, 0), (k - 1, k - 1), (k - 1, 0)):
        t_layers = _transpose_layers(k, s, padding)
        for i in SIZES:
            want = flax_conv_transpose_output_size(i, k, s, padding)
            # an empty output (padding < k - 1 on a tiny input): only nnx.ConvTranspose is
            # asked, the course's layer is for real decoders
            for layer in t_layers if want > 0 else t_layers[:1]:
                assert _out_height(layer, i) == want, (type(layer).__name__, padding, i, k, s)
    for i in SIZES:
        assert flax_conv_transpose_output_size(i, k, s, "SAME") == s * i


@pytest.mark.parametrize("k, s, p", sorted({(k, s, p) for _, k, s, p in GRID}))
def test_pytorch_transposed_formula_equals_flax_layers_with_converted_padding(k, s, p):
    for a in range(s):
        t_layers = _transpose_layers(k, s, pytorch_to_flax_padding(k, p, a))
        for i in SIZES:
            want = conv_transpose_output_size(i, k, s, p, a)
            if want <= 0:
                continue
            assert want == (i - 1) * s - 2 * p + k + a
            for layer in t_layers:
                assert _out_height(layer, i) == want


@pytest.mark.parametrize("i, k, s, p", GRID)
def test_transposed_conv_undoes_the_size_change_of_its_conv(i, k, s, p):
    o = conv_output_size(i, k, s, p)
    sizes = {conv_transpose_output_size(o, k, s, p, a) for a in range(s)}
    assert i in sizes


def _jacobian_1d(layer, i):
    """d out[o] / d x[j] of a layer acting on the height axis of a [1, i, 1, 1] input."""
    jac = jax.jacobian(lambda v: layer(v.reshape(1, i, 1, 1))[0, :, 0, 0])(jnp.ones(i))
    return np.asarray(jac)


@pytest.mark.parametrize("i, k, s, p", GRID[::7])
def test_conv_sources_are_the_nonzeros_of_the_layers_jacobian(i, k, s, p):
    layer = nnx.Conv(1, 1, (k, 1), strides=(s, 1), padding=((p, p), (0, 0)), use_bias=False,
                     rngs=nnx.Rngs(0))
    layer.kernel[...] = jnp.arange(1.0, k + 1).reshape(k, 1, 1, 1)
    jac = _jacobian_1d(layer, i)
    for o in range(conv_output_size(i, k, s, p)):
        sources = conv_sources(o, i, k, s, p)
        assert {j for j, _ in sources} == set(np.flatnonzero(jac[o]))
        for j, t in sources:
            assert jac[o, j] == t + 1


@pytest.mark.parametrize("i, k, s, p", GRID[::7])
def test_transposed_sources_are_the_nonzeros_of_the_layers_jacobian(i, k, s, p):
    a = s - 1
    if conv_transpose_output_size(i, k, s, p, a) == 0:
        return  # p crops away everything: nothing to compare
    layer = nnx.ConvTranspose(1, 1, (k, 1), strides=(s, 1), use_bias=False,
                              padding=(pytorch_to_flax_padding(k, p, a), (0, 0)),
                              rngs=nnx.Rngs(0))
    layer.kernel[...] = jnp.arange(1.0, k + 1).reshape(k, 1, 1, 1)
    jac = _jacobian_1d(layer, i)
    assert jac.shape[0] == conv_transpose_output_size(i, k, s, p, a)
    for o in range(jac.shape[0]):
        sources = conv_transpose_sources(o, i, k, s, p, a)
        assert {j for j, _ in sources} == set(np.flatnonzero(jac[o]))
        for j, t in sources:
            assert jac[o, j] == k - t  # Flax's tap k - 1 - t, weights 1 .. k


def test_bad_arguments_say_what_was_wrong():
    with pytest.raises(ValueError, match="k must be a positive int"):
        conv_output_size(4, 0)
    with pytest.raises(ValueError, match="output_padding"):
        conv_transpose_output_size(4, 3, 2, 0, output_padding=2)
    with pytest.raises(ValueError, match="padding"):
        conv_output_size(4, 3, 1, "FULL")
    with pytest.raises(ValueError, match="o must be in 0 .. 1"):
        conv_sources(2, 4, 3)
