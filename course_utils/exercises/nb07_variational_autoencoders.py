"""Exercise checks for notebook 07, variational autoencoders."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from course_utils.exercises.core import close, exercise_check, expect, fresh_rng

__all__ = [
    "diag_gaussian_kl",
    "check_diagonal_gaussian_kl",
    "check_bernoulli_log_likelihood",
    "check_gaussian_nll",
]


def diag_gaussian_kl(mq: np.ndarray, lq: np.ndarray, mp: np.ndarray,
                                   lp: np.ndarray) -> np.ndarray:
    """KL(N(mq, diag exp(lq)) ‖ N(mp, diag exp(lp))) in nats, the answer the check compares with.

    mq, lq, mp, lp: float[N, D] (means and log-variances); returns float[N], summed over D.
    """
    return 0.5 * np.sum(lp - lq + (np.exp(lq) + (mq - mp) ** 2) / np.exp(lp) - 1.0, axis=-1)


@exercise_check("KL between diagonal Gaussians")
def check_diagonal_gaussian_kl(kl: Callable[..., jax.Array]) -> str:
    """``kl(mean_q, logvar_q, mean_p, logvar_p)``: KL(N(μ_q, diag σ_q²) ‖ N(μ_p, diag σ_p²)) in
    nats, summed over the last axis. All inputs float32[N, D] (log-variances); returns [N]."""
    rng = fresh_rng()
    for n, d in ((6, 4), (5, 3)):  # fresh values, two shapes
        mq, mp = rng.normal(size=(n, d)), rng.normal(size=(n, d))
        lq, lp = rng.normal(size=(n, d)) - 0.5, rng.normal(size=(n, d)) * 0.5
        args = [jnp.asarray(a, jnp.float32) for a in (mq, lq, mp, lp)]
        mq, lq, mp, lp = (np.asarray(a, np.float64) for a in args)
        got = np.asarray(kl(*args), np.float64)
        right = diag_gaussian_kl(mq, lq, mp, lp)
        expect(got.shape != (n, d), "sum over the D latent dimensions: one KL per example, "
               "shape (N,), not one per dimension.")
        expect(got.shape == (n,), f"return one KL per example, shape ({n},), got "
               f"{got.shape}: sum over the last axis only, not over the batch.")
        expect(not close(got, diag_gaussian_kl(mp, lp, mq, lq)), "the arguments are "
               "swapped: that is KL(p ‖ q). KL is not symmetric; the expectation is taken "
               "under q.")
        expect(not close(got, right / d), "sum over the dimensions instead of averaging "
               "them.")
        expect(not close(got, 2 * right), "the factor 1/2 is missing.")
        expect(not close(got, right + d / 2), "the −1 per dimension is missing (with it, "
               "KL(q ‖ q) = 0).")
        expect(not close(got, diag_gaussian_kl(mq, lq, 0 * mp, 0 * lp)), "you computed the "
               "KL to N(0, I): use the second Gaussian's mean and log-variance too (the "
               "prior N(0, I) is the special case mean_p = 0, logvar_p = 0).")
        expect(not close(got, diag_gaussian_kl(mq, 2 * lq, mp, 2 * lp)), "logvar is log σ², "
               "so the variance is exp(logvar), not exp(2·logvar).")
        expect(close(got, right), f"for the first example the KL is {right[0]:.4f}, yours "
               f"{got[0]:.4f}. Per dimension: ½[log σ_p² − log σ_q² + (σ_q² + (μ_q − μ_p)²)/"
               "σ_p² − 1].")
    same = np.asarray(kl(args[0], args[1], args[0], args[1]), np.float64)
    expect(close(same, np.zeros(n)), "the KL of a Gaussian to itself must be 0.")
    grad = jax.grad(lambda m: jnp.sum(kl(m, args[1], args[2], args[3])))(args[0])
    expect(close(grad, (mq - mp) / np.exp(lp), rtol=1e-3), "the value is right but JAX "
           "cannot differentiate it correctly: use jnp operations.")
    return ("correct! With mean_p = 0 and logvar_p = 0 it is the notebook's gaussian_kl: "
            "½ Σ (μ² + σ² − log σ² − 1).")


@exercise_check("Bernoulli log-likelihood")
def check_bernoulli_log_likelihood(log_likelihood: Callable[[jax.Array, jax.Array], jax.Array]
                                   ) -> str:
    """``log_likelihood(logits, x)``: log p(x | z) = Σ_i [x_i log π_i + (1 − x_i) log(1 − π_i)]
    with π = sigmoid(logits), summed over pixels. logits, x: float32[N, P]; returns float[N]."""
    rng = fresh_rng()
    for n, p in ((5, 30), (4, 24)):  # fresh values, two shapes
        logits = np.asarray(rng.normal(size=(n, p)) * 3, np.float32).astype(np.float64)
        x = (rng.random((n, p)) < rng.uniform(0.2, 0.6)).astype(np.float64)
        got = np.asarray(log_likelihood(jnp.asarray(logits, jnp.float32),
                                        jnp.asarray(x, jnp.float32)), np.float64)
        right = np.sum(x * logits - np.logaddexp(0.0, logits), axis=-1)
        expect(got.shape == (n,), f"return one log-likelihood per image, shape ({n},), got "
               f"{got.shape}: sum over the pixels (the last axis) only.")
        expect(not close(got, -right), "the sign is flipped: that is the binary "
               "cross-entropy, −log p(x|z). Return log p(x|z), which is ≤ 0.")
        expect(not close(got, right / p), "sum over the pixels instead of averaging: the "
               "pixels are independent given z, so their log-probabilities add up.")
        probs = 1 / (1 + np.exp(-logits))
        expect(not close(got, np.sum(x * probs - np.logaddexp(0.0, probs), -1)),
               "the inputs are logits: the probability of a 1 is sigmoid(logits).")
        expect(close(got, right), f"for the first image log p(x|z) is {right[0]:.4f}, yours "
               f"{got[0]:.4f}. Use x·log σ(ℓ) + (1 − x)·log σ(−ℓ).")
    extreme = jnp.asarray([[200.0, -200.0, 200.0, -200.0]], jnp.float32)
    ones = jnp.asarray([[0.0, 1.0, 1.0, 0.0]], jnp.float32)
    value = np.asarray(log_likelihood(extreme, ones), np.float64)
    expect(np.all(np.isfinite(value)), "not finite for logits of ±200: sigmoid(±200) rounds "
           "to 1 or 0 in float32 and log(0) = −inf. Compute log σ(ℓ) with "
           "jax.nn.log_sigmoid(ℓ) and log(1 − σ(ℓ)) with jax.nn.log_sigmoid(−ℓ).")
    expect(close(value, [-400.0], rtol=1e-3), f"for logits ±200 the answer is −400 "
           f"(two pixels 200 nats wrong each), yours {value[0]:.2f}.")
    return ("correct! It is exactly −optax.sigmoid_binary_cross_entropy(logits, x) summed "
            "over pixels, and stays finite for any logit.")


@exercise_check("Gaussian negative log-likelihood")
def check_gaussian_nll(nll: Callable[[jax.Array, jax.Array, float], jax.Array]) -> str:
    """``nll(x, mean, s)``: −log N(x; mean, s² I) in nats, summed over pixels, for a scalar
    standard deviation ``s > 0``. x, mean: float32[N, P]; returns float[N]."""
    rng = fresh_rng()
    n, p = 4, 25
    x = np.asarray(rng.random((n, p)), np.float32).astype(np.float64)
    mean = np.asarray(rng.random((n, p)), np.float32).astype(np.float64)
    sq = np.sum((x - mean) ** 2, axis=-1)
    half = 0.7071067811865476
    results = {}
    for s in (float(rng.uniform(0.05, 0.4)), half, float(rng.uniform(1.3, 3.0))):
        got = np.asarray(nll(jnp.asarray(x, jnp.float32), jnp.asarray(mean, jnp.float32), s),
                         np.float64)
        expect(got.shape == (n,), f"return one value per image, shape ({n},), got "
               f"{got.shape}: sum over the pixels only.")
        results[s] = got
    for s, got in results.items():
        if s == half:
            continue
        right = sq / (2 * s**2) + p / 2 * np.log(2 * np.pi * s**2)
        expect(not close(got, -right), "the sign is flipped: return the NEGATIVE "
               "log-likelihood, which grows with the squared error.")
        expect(not close(got, sq), "that is the plain squared error ‖x − mean‖²: divide it "
               "by 2s² and add the log of the Gaussian's normaliser, (P/2)·log(2π s²).")
        expect(not close(got, sq / (2 * s**2)), "the normalising constant is missing: "
               "−log N includes (P/2)·log(2π s²). It does not change the gradient with "
               "respect to the mean, but it is part of the nats and it depends on s.")
        expect(not close(got, sq / s**2 + p / 2 * np.log(2 * np.pi * s**2)),
               "the squared error is divided by 2s², not s².")
        expect(not close(got, sq / (2 * s) + p / 2 * np.log(2 * np.pi * s)), "s is the "
               "standard deviation: the variance is s².")
        expect(not close(got, right / p), "sum over the pixels instead of averaging them.")
        expect(close(got, right), f"for s = {s:.3f} and the first image −log p is "
               f"{right[0]:.3f}, yours {got[0]:.3f}. Per pixel: (x − mean)²/(2s²) + "
               "½·log(2π s²).")
    expect(close(results[half] - p / 2 * np.log(np.pi), sq), "with s² = 1/2 your value "
           "minus (P/2)·log π should be the squared error ‖x − mean‖²; check the formula "
           "for other s.")
    return ("correct! With s² = ½ it is the lecture's ‖x − x'‖² plus a constant: minimising "
            "the squared error is maximum likelihood under this Gaussian.")
