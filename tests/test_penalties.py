import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_utils.penalties import (
    active_fraction,
    contractive_penalty,
    contractive_penalty_sigmoid,
    encoder_jacobian,
    kl_sparsity,
    l1_sparsity,
)


@pytest.fixture(scope="module")
def sigmoid_layer():
    rng = np.random.default_rng(0)
    kernel = jnp.asarray(rng.normal(0, 0.3, (12, 5)), jnp.float32)
    bias = jnp.asarray(rng.normal(0, 0.5, 5), jnp.float32)
    x = jnp.asarray(rng.random((4, 12)), jnp.float32)
    return kernel, bias, x


def test_l1_sparsity_sums_over_units_and_averages_over_examples():
    h = jnp.array([[1.0, -2.0, 0.0], [0.5, 0.5, 0.0]])
    assert float(l1_sparsity(h)) == pytest.approx((3.0 + 1.0) / 2)
    assert float(l1_sparsity(jnp.zeros((3, 4)))) == 0.0


def test_kl_sparsity_is_zero_at_the_target_and_positive_elsewhere():
    at_target = jnp.full((10, 6), 0.05)
    assert float(kl_sparsity(at_target, 0.05)) == pytest.approx(0.0, abs=1e-6)
    busy = jnp.full((10, 6), 0.5)
    want = 6 * (0.05 * np.log(0.05 / 0.5) + 0.95 * np.log(0.95 / 0.5))
    assert float(kl_sparsity(busy, 0.05)) == pytest.approx(want, rel=1e-5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        kl_sparsity(busy, 0.0)


def test_active_fraction_counts_entries_above_the_threshold():
    h = jnp.array([[0.0, 0.2], [0.0, 0.0]])
    assert float(active_fraction(h)) == 0.25
    assert float(active_fraction(h, threshold=0.5)) == 0.0


def test_encoder_jacobian_of_a_linear_map_is_its_matrix():
    w = jnp.asarray(np.random.default_rng(1).normal(size=(7, 3)), jnp.float32)
    x = jnp.ones((2, 7))
    jac = encoder_jacobian(lambda v: v @ w, x)
    assert jac.shape == (2, 3, 7)
    np.testing.assert_allclose(jac[1], w.T, rtol=1e-6)
    assert float(contractive_penalty(lambda v: v @ w, x)) == pytest.approx(
        float(jnp.sum(w**2)), rel=1e-5)


def test_contractive_penalty_matches_closed_form(sigmoid_layer):
    kernel, bias, x = sigmoid_layer
    exact = contractive_penalty(lambda v: jax.nn.sigmoid(v @ kernel + bias), x)
    closed = contractive_penalty_sigmoid(kernel, bias, x)
    assert float(exact) == pytest.approx(float(closed), rel=1e-5)


def test_contractive_penalty_matches_finite_differences(sigmoid_layer):
    kernel, bias, x = sigmoid_layer
    x64 = np.asarray(x, np.float64)
    k64, b64 = np.asarray(kernel, np.float64), np.asarray(bias, np.float64)

    def encode(v):
        return 1 / (1 + np.exp(-(v @ k64 + b64)))

    step, total = 1e-6, 0.0
    for i in range(x64.shape[1]):  # central differences, one input coordinate at a time
        e = np.zeros(x64.shape[1])
        e[i] = step
        total += np.sum(((encode(x64 + e) - encode(x64 - e)) / (2 * step)) ** 2)
    finite_diff = total / len(x64)
    assert float(contractive_penalty_sigmoid(kernel, bias, x)) == pytest.approx(finite_diff,
                                                                                rel=1e-4)


def test_penalties_are_means_over_the_batch(sigmoid_layer):
    kernel, bias, x = sigmoid_layer
    twice = jnp.concatenate([x, x])
    assert float(contractive_penalty_sigmoid(kernel, bias, twice)) == pytest.approx(
        float(contractive_penalty_sigmoid(kernel, bias, x)), rel=1e-6)
    assert float(l1_sparsity(twice)) == pytest.approx(float(l1_sparsity(x)), rel=1e-6)


def test_contractive_penalty_is_differentiable_and_jittable(sigmoid_layer):
    kernel, bias, x = sigmoid_layer
    grad = jax.jit(jax.grad(lambda k: contractive_penalty(
        lambda v: jax.nn.sigmoid(v @ k + bias), x)))(kernel)
    grad_closed = jax.grad(lambda k: contractive_penalty_sigmoid(k, bias, x))(kernel)
    np.testing.assert_allclose(grad, grad_closed, rtol=1e-4, atol=1e-6)


def test_penalties_refuse_unflattened_input_with_a_hint(sigmoid_layer):
    kernel, bias, _ = sigmoid_layer
    with pytest.raises(ValueError, match="flatten"):
        l1_sparsity(jnp.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="kernel"):
        contractive_penalty_sigmoid(kernel, bias, jnp.zeros((2, 11)))
