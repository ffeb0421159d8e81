"""Exercise checks for notebook 04, regularized autoencoders."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from course_utils.exercises.core import close, exercise_check, expect, fresh_rng
from course_utils.models import MLPAutoencoder
from course_utils.penalties import contractive_penalty

__all__ = ["check_sparse_loss", "check_contractive_penalty", "check_kl_sparsity"]


def _small_autoencoder(seed: int) -> nnx.Module:
    return MLPAutoencoder(6, hidden=(16,), rngs=nnx.Rngs(seed))


@exercise_check("sparse autoencoder loss")
def check_sparse_loss(sparse_loss: Callable[[nnx.Module, jax.Array, float], jax.Array]
                      ) -> str:
    """``sparse_loss(model, x, lam)`` = ‖x − g(f(x))‖² + λ‖f(x)‖₁, each summed over pixels or
    code units and averaged over the batch. ``model.encode``/``model.decode`` give f and g."""
    rng = fresh_rng()
    model = _small_autoencoder(int(rng.integers(1 << 30)))
    for n in (8, 5):  # fresh values, two batch sizes (each shape compiles once)
        x = jnp.asarray(rng.random((n, 784), dtype=np.float32))
        h = np.asarray(model.encode(x), np.float64)
        rec = float(np.mean(np.sum((np.asarray(x, np.float64) - np.asarray(model(x))) ** 2,
                                   1)))
        lam = float(rng.uniform(0.2, 3.0))
        out = sparse_loss(model, x, lam)
        expect(np.ndim(out) == 0, f"return one number for the batch, got shape "
               f"{np.shape(out)}.")
        expect(not close(out, rec), "that is the reconstruction loss alone: add lam times "
               "the L1 norm of the code h = model.encode(x).")
        expect(not close(out, rec + lam * np.mean(np.sum(h**2, 1))), "‖h‖₁ sums the "
               "absolute values |h_j|, not their squares (that would be an L2 penalty).")
        expect(not close(out, rec + lam * np.mean(np.sum(h, 1))), "take the absolute value: "
               "codes can be negative, and −3 is not sparser than 0.")
        expect(not close(out, rec + lam * np.mean(np.abs(h))), "sum |h_j| over the code "
               "units (as the reconstruction error sums over pixels), then average over the "
               "batch.")
        expect(not close(out, lam * rec + np.mean(np.sum(np.abs(h), 1))), "λ multiplies the "
               "penalty, not the reconstruction error.")
        right = rec + lam * np.mean(np.sum(np.abs(h), 1))
        expect(close(out, right), f"for this batch (lam = {lam:.3f}) the loss should be "
               f"{right:.4f}, yours gives {float(out):.4f}: reconstruction error (sum over "
               "pixels) + lam · Σ_j |h_j|, both averaged over the batch.")
    expect(close(sparse_loss(model, x, 0.0), rec), "with lam = 0 the loss must equal the "
           "reconstruction error.")
    grads = nnx.grad(lambda m: sparse_loss(m, x, lam))(model)
    expect(all(np.all(np.isfinite(np.asarray(g))) for g in jax.tree_util.tree_leaves(grads)),
           "the gradient is not finite: use jnp operations.")
    return "correct! λ trades reconstruction error for a sparser code."


@exercise_check("contractive penalty (closed form)")
def check_contractive_penalty(penalty: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]
                              ) -> str:
    """``penalty(kernel, bias, x)``: the closed form of ‖∂h/∂x‖²_F for h = σ(x·W + b),
    averaged over the batch. kernel: float32[P, D], bias: float32[D], x: float32[N, P]."""
    rng = fresh_rng()
    for p, d, n in ((12, 5, 6), (9, 4, 5)):  # fresh values, two shapes
        kernel = jnp.asarray(rng.normal(0, 0.4, (p, d)), jnp.float32)
        bias = jnp.asarray(rng.normal(0, 0.5, d), jnp.float32)
        x = jnp.asarray(rng.random((n, p)), jnp.float32)
        out = penalty(kernel, bias, x)
        expect(np.ndim(out) == 0, f"return one number for the batch, got shape "
               f"{np.shape(out)}: sum over units, average over examples.")
        k = np.asarray(kernel, np.float64)
        h = 1 / (1 + np.exp(-(np.asarray(x, np.float64) @ k + np.asarray(bias, np.float64))))
        norms = (k**2).sum(0)
        right = float(contractive_penalty(
            lambda v, w=kernel, b=bias: jax.nn.sigmoid(v @ w + b), x))
        expect(not close(out, np.mean(np.sum(h * (1 - h) * norms, 1))), "square the "
               "sigmoid's derivative too: (∂h_j/∂x_i)² = (h_j(1 − h_j))² W_ij².")
        expect(not close(out, np.mean(np.sum((h * (1 - h)) ** 2 * np.sqrt(norms), 1))),
               "use the SQUARED norm of each column of W, Σ_i W_ij².")
        expect(not close(out, np.sqrt(right)), "the penalty is the squared Frobenius norm: "
               "no square root.")
        expect(not close(out, right * len(x)), "average over the examples, do not sum: the "
               "penalty must not grow with the batch size.")
        expect(not close(out, np.mean(np.sum(h**2 * norms, 1))), "the sigmoid's derivative "
               "is σ'(z) = h(1 − h), not h.")
        expect(close(out, right, rtol=1e-4), f"autodiff gives {right:.5f} for this batch, "
               f"yours {float(out):.5f}. Unit j's gradient is h_j(1 − h_j) times column j "
               "of W.")
    jitted = jax.jit(penalty)(kernel, bias, x)
    expect(close(jitted, right, rtol=1e-4), "the function should work under jax.jit: use "
           "jnp, not numpy.")
    return "correct! It matches jax.jacrev to float precision, at a fraction of the cost."


@exercise_check("KL sparsity penalty")
def check_kl_sparsity(kl: Callable[[jax.Array, float], jax.Array]) -> str:
    """``kl(h, rho)`` = Σ_j KL(ρ ‖ ρ̂_j), ρ̂_j = the mean of unit j over the batch.

    h: float32[N, D] in (0, 1) (sigmoid codes); rho: the target mean activation."""
    rng = fresh_rng()

    def kl_of(p, q):
        return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))

    rhos = rng.choice([0.02, 0.05, 0.1, 0.2, 0.3], size=2, replace=False)
    for rho, shape in zip(rhos.tolist(), ((16, 6), (10, 4)), strict=True):
        h = jnp.asarray(1 / (1 + np.exp(-rng.normal(-1, 1.5, shape))), jnp.float32)
        out = kl(h, rho)
        expect(np.ndim(out) == 0, f"return one number, got shape {np.shape(out)}: sum the "
               "KL divergences of the units.")
        hh = np.asarray(h, np.float64)
        rho_hat = hh.mean(0)
        right = float(np.sum(kl_of(rho, rho_hat)))
        expect(not close(out, np.mean(np.sum(kl_of(rho, hh), 1))), "average each unit's "
               "activation over the batch FIRST (ρ̂_j = mean over examples of h_j), then "
               "take KL(ρ ‖ ρ̂_j): the penalty is about how often a unit fires, not each "
               "activation.")
        expect(not close(out, np.sum(kl_of(rho_hat, rho))), "the arguments are swapped: "
               "KL(ρ ‖ ρ̂_j) = ρ log(ρ/ρ̂_j) + (1−ρ) log((1−ρ)/(1−ρ̂_j)).")
        expect(not close(out, np.mean(kl_of(rho, rho_hat))), "sum over the units, do not "
               "average: each unit pays its own penalty.")
        expect(not close(out, np.sum(rho * np.log(rho / rho_hat))), "the second term is "
               "missing: a unit's activation is a Bernoulli variable, "
               "(1−ρ) log((1−ρ)/(1−ρ̂_j)).")
        expect(close(out, right, rtol=1e-4), f"for ρ = {rho} expected {right:.5f}, got "
               f"{float(out):.5f}.")
        expect(close(kl(jnp.full((4, 3), rho), rho), 0.0), "a unit whose mean activation "
               "is exactly ρ must cost nothing.")
    return "correct! This is the sparsity penalty of Ng's sparse-autoencoder notes."
