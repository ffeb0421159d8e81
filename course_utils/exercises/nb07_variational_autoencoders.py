"""Exercise checks for notebook 07, variational autoencoders."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from course_utils.data import load_mnist, random_subset
from course_utils.exercises.core import (
    close,
    exercise_check,
    expect,
    fresh_rng,
    train_with_step,
)
from course_utils.vae import binarize

__all__ = [
    "BUILD_VAE",
    "BuildVAE",
    "check_vae_training",
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


# The "build it" exercise: the budget and the target the check holds a student's loss to.
BUILD_VAE = {"latent_dim": 16, "hidden": 256, "steps": 1000, "batch_size": 128,
             "learning_rate": 1e-3, "n_test": 1000, "target_elbo": -120.0}


class BuildVAE(nnx.Module):
    """The VAE the build-it check trains: notebook 07's interface, one hidden layer per side.

    ``encode(x)`` → (mean, logvar) of q(z|x), float32[N, D] each; ``decode(z)`` → the logits of
    p(x|z) = Bernoulli(sigmoid(logits)), float32[N, 784]; x: float32[N, 784] in {0, 1}.
    """

    def __init__(self, latent_dim: int, hidden: int, *, rngs: nnx.Rngs):
        self.encoder = nnx.Linear(784, hidden, rngs=rngs)
        self.to_mean = nnx.Linear(hidden, latent_dim, rngs=rngs)
        self.to_logvar = nnx.Linear(hidden, latent_dim, rngs=rngs)
        self.hidden = nnx.Linear(latent_dim, hidden, rngs=rngs)
        self.to_logits = nnx.Linear(hidden, 784, rngs=rngs)

    def encode(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        h = nnx.relu(self.encoder(x))
        return self.to_mean(h), self.to_logvar(h)

    def decode(self, z: jax.Array) -> jax.Array:
        return self.to_logits(nnx.relu(self.hidden(z)))


def _negative_elbo(model: BuildVAE, x: jax.Array, key: jax.Array) -> jax.Array:
    """The yardstick: a one-sample estimate of −ELBO per image, in nats: float32[N]."""
    mean, logvar = model.encode(x)
    z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(key, mean.shape)
    reconstruction = optax.sigmoid_binary_cross_entropy(model.decode(z), x).sum(axis=-1)
    return reconstruction + 0.5 * jnp.sum(mean**2 + jnp.exp(logvar) - logvar - 1.0, axis=-1)


@exercise_check("build it: the VAE's loss")
def check_vae_training(negative_elbo: Callable[[nnx.Module, jax.Array, jax.Array], jax.Array]
                       ) -> str:
    """``negative_elbo(model, x, key) -> loss``: the VAE's training loss, −ELBO averaged over x.

    x: float32[B, 784] in {0, 1} (binarized digits); key: a JAX key, new at every step, for the
    draw z ~ q(z|x) by the reparameterisation trick; model: ``encode(x)`` → (mean, logvar),
    ``decode(z)`` → Bernoulli logits, as in notebook 07. Judged by outcome: a fresh
    ``BuildVAE(16, 256)`` is trained with your loss (1,000 steps of 128 digits, Adam 1e-3), then
    its ELBO is measured with the right formula on 1,000 random binarized test digits. It passes
    at ``BUILD_VAE["target_elbo"]`` (−120 nats) or above. About 15 s on a 2-core CPU.
    """
    b = BUILD_VAE
    seed = int(fresh_rng().integers(1 << 30))
    x_train = binarize(load_mnist("train", flatten=True)[0], seed=0)
    (x_eval,) = random_subset(binarize(load_mnist("test", flatten=True)[0], seed=1),
                              n=b["n_test"], seed=seed)

    def step(model: nnx.Module, optimizer: nnx.Optimizer, x: jax.Array, key: jax.Array
             ) -> jax.Array:
        loss, grads = nnx.value_and_grad(lambda m: negative_elbo(m, x, key))(model)
        optimizer.update(model, grads)
        return loss

    model = train_with_step(BuildVAE(b["latent_dim"], b["hidden"], rngs=nnx.Rngs(seed)), step,
                            x_train, steps=b["steps"], batch_size=b["batch_size"],
                            learning_rate=b["learning_rate"], seed=seed, who="your loss")
    elbo = -float(jnp.mean(jax.jit(_negative_elbo)(model, jnp.asarray(x_eval),
                                                  jax.random.PRNGKey(seed))))
    figures = (f"after {b['steps']} steps your VAE's test ELBO is {elbo:.1f} nats per digit on "
               f"{b['n_test']:,} random test digits (target: {b['target_elbo']:.0f} or above)")
    expect(elbo >= b["target_elbo"], f"{figures}. Check the three parts: the reconstruction "
           "term is the Bernoulli negative log-likelihood of x under the decoder's logits "
           "(optax.sigmoid_binary_cross_entropy, summed over the 784 pixels), not a squared "
           "error; the decoder sees a sample z = mean + exp(logvar / 2) · eps, eps from key, not "
           "the mean; and the KL term ½ Σ (mean² + exp(logvar) − logvar − 1) is added, then "
           "both are averaged over the batch.")
    return f"correct! {figures[0].upper()}{figures[1:]}."
