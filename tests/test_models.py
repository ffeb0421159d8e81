import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from course_utils.models import (
    MLPAutoencoder,
    MLPDecoder,
    MLPEncoder,
    apply_jitted,
    count_params,
)


@pytest.mark.parametrize("latent_dim", [1, 2, 32, 900])
def test_autoencoder_shapes_and_range(latent_dim):
    model = MLPAutoencoder(latent_dim, hidden=(64,), rngs=nnx.Rngs(0))
    x = jnp.asarray(np.random.default_rng(0).random((5, 784), dtype=np.float32))
    h = model.encode(x)
    r = model(x)
    assert h.shape == (5, latent_dim)
    assert r.shape == (5, 784)
    assert bool(jnp.all((r > 0) & (r < 1)))
    np.testing.assert_allclose(model.decode(h), r, rtol=1e-6)


def test_encoder_and_decoder_other_sizes():
    enc = MLPEncoder(8, hidden=(32, 16), in_features=196, rngs=nnx.Rngs(1))
    dec = MLPDecoder(8, hidden=(16, 32), out_features=196, rngs=nnx.Rngs(1))
    assert dec(enc(jnp.zeros((3, 196)))).shape == (3, 196)


def test_count_params_matches_the_layer_formula():
    model = MLPAutoencoder(4, hidden=(10,), in_features=20, rngs=nnx.Rngs(0))
    # encoder 20→10→4, decoder 4→10→20: weights plus biases
    expected = (20 * 10 + 10) + (10 * 4 + 4) + (4 * 10 + 10) + (10 * 20 + 20)
    assert count_params(model) == expected


def test_same_seed_same_parameters_other_seed_different():
    a = MLPAutoencoder(3, hidden=(8,), rngs=nnx.Rngs(0))
    b = MLPAutoencoder(3, hidden=(8,), rngs=nnx.Rngs(0))
    c = MLPAutoencoder(3, hidden=(8,), rngs=nnx.Rngs(1))
    x = jnp.ones((2, 784))
    np.testing.assert_array_equal(a(x), b(x))
    assert not np.allclose(a(x), c(x))


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "16", None])
def test_bad_latent_dim_is_named_with_a_suggestion(bad):
    with pytest.raises(ValueError, match=r"latent_dim must be a positive int.*try 2"):
        MLPAutoencoder(bad, rngs=nnx.Rngs(0))


@pytest.mark.parametrize("bad", [512, "512", (512, 0), (64, 2.0)])
def test_bad_hidden_is_named(bad):
    with pytest.raises(ValueError, match="hidden"):
        MLPAutoencoder(8, hidden=bad, rngs=nnx.Rngs(0))


def test_sizes_accept_numpy_and_jax_ints():
    for d in np.arange(2, 5):  # np.int64, as a loop over np.arange gives
        model = MLPAutoencoder(d, hidden=(np.int64(16),), in_features=np.int64(784),
                               rngs=nnx.Rngs(0))
        assert model.latent_dim == int(d) and type(model.latent_dim) is int
        assert model(jnp.zeros((2, 784))).shape == (2, 784)
    assert MLPEncoder(jnp.int32(3), rngs=nnx.Rngs(0)).latent_dim == 3


@pytest.mark.parametrize("bad", [0, -2, 2.0, True, "2", np.float32(2)])
def test_a_bad_latent_dim_names_the_argument_and_suggests_sizes(bad):
    with pytest.raises(ValueError, match=r"latent_dim must be a positive int, got .* \(try 2, 5"):
        MLPAutoencoder(bad, rngs=nnx.Rngs(0))


def _x(n=5, d=784, seed=0):
    return jnp.asarray(np.random.default_rng(seed).random((n, d), dtype=np.float32))


def test_apply_jitted_equals_the_eager_call_and_each_method():
    model, x = MLPAutoencoder(3, hidden=(16,), rngs=nnx.Rngs(0)), _x()
    np.testing.assert_allclose(apply_jitted(model, x), model(x), atol=1e-6)
    h = apply_jitted(model, x, method="encode")
    np.testing.assert_allclose(h, model.encode(x), atol=1e-6)
    np.testing.assert_allclose(apply_jitted(model, h, method="decode"), model.decode(h), atol=1e-6)

    def code_norm(m, a):
        return jnp.linalg.norm(m.encode(a), axis=-1)

    np.testing.assert_allclose(apply_jitted(model, x, method=code_norm),
                               jnp.linalg.norm(model.encode(x), axis=-1), rtol=1e-5)


def test_apply_jitted_uses_the_weights_at_the_time_of_the_call():
    model, x = MLPAutoencoder(3, hidden=(16,), rngs=nnx.Rngs(0)), _x()
    before = np.asarray(apply_jitted(model, x))
    params = nnx.state(model, nnx.Param)
    nnx.update(model, jax.tree_util.tree_map(lambda p: p * 1.5 + 0.1, params))
    after = np.asarray(apply_jitted(model, x))
    np.testing.assert_allclose(after, model(x), atol=1e-6)
    assert np.max(np.abs(after - before)) > 1e-3


def test_models_of_one_structure_share_one_compilation_and_keep_their_own_weights():
    traces = []

    def forward(m, a):
        traces.append(1)  # runs only while tracing
        return m(a)

    x = _x()
    outputs = {}
    for seed in (0, 1, 2):
        model = MLPAutoencoder(3, hidden=(16,), rngs=nnx.Rngs(seed))
        outputs[seed] = np.asarray(apply_jitted(model, x, method=forward))
        np.testing.assert_allclose(outputs[seed], model(x), atol=1e-6)
        del model
    assert len(traces) == 1
    assert np.max(np.abs(outputs[0] - outputs[1])) > 1e-3
    other = MLPAutoencoder(4, hidden=(16,), rngs=nnx.Rngs(0))  # another structure: its own
    np.testing.assert_allclose(apply_jitted(other, x, method=forward), other(x), atol=1e-6)
    assert len(traces) == 2


def test_apply_jitted_names_a_bad_model_or_method():
    model = MLPAutoencoder(3, hidden=(16,), rngs=nnx.Rngs(0))
    with pytest.raises(TypeError, match="model must be a flax.nnx.Module"):
        apply_jitted(lambda a: a, _x())
    with pytest.raises(ValueError, match="method='decoed'"):
        apply_jitted(model, _x(), method="decoed")
    with pytest.raises(TypeError, match="method must be None"):
        apply_jitted(model, _x(), method=3)
