"""Exercise checks for notebook 04, regularized autoencoders."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from course_utils.data import load_mnist, random_subset
from course_utils.exercises.core import (
    close,
    draw_apart,
    exercise_check,
    expect,
    fresh_rng,
    train_with_step,
)
from course_utils.metrics import mse_per_pixel
from course_utils.models import MLPAutoencoder, apply_jitted
from course_utils.penalties import contractive_penalty

__all__ = ["BUILD_SPARSE", "check_contractive_penalty", "check_kl_sparsity", "check_sparse_loss",
           "check_sparse_training"]

# The "build it" exercise: the budget and the two targets the check holds a student's sparse
# loss to. The right loss reaches a test MSE of about 0.0047 with about 15 % of the code entries
# active; an L2 penalty leaves about 40 % active, no penalty about 75 %.
BUILD_SPARSE = {"code_dim": 1024, "lam": 0.03, "steps": 400, "batch_size": 128,
                "learning_rate": 3e-3, "n_test": 1000, "target_mse": 0.008,
                "target_active": 0.25}


def _small_autoencoder(seed: int) -> nnx.Module:
    return MLPAutoencoder(6, hidden=(16,), rngs=nnx.Rngs(seed))


def _sparse_draw(rng: np.random.Generator, n: int
                 ) -> tuple[nnx.Module, jax.Array, float, float, np.ndarray]:
    """A small model, a batch x: float32[n, 784] in [0, 1] and a weight lam on which every
    mistake the sparse loss check names gives a value at least 0.1 % away from the right loss and
    from each other mistake (a random draw can make, say, the signed sum of h almost 0, and then
    "no absolute value" would look like "no penalty"). Returns the model, x, lam, the
    reconstruction error and h = model.encode(x)."""

    def draw():
        model = _small_autoencoder(int(rng.integers(1 << 30)))
        x = jnp.asarray(rng.random((n, 784), dtype=np.float32))
        h = np.asarray(model.encode(x), np.float64)
        rec = float(np.mean(np.sum((np.asarray(x, np.float64) - np.asarray(model(x))) ** 2,
                                   1)))
        lam = float(rng.uniform(0.2, 3.0))
        l1 = np.mean(np.sum(np.abs(h), 1))
        values = [rec, rec + lam * np.mean(np.sum(h**2, 1)), rec + lam * np.mean(np.sum(h, 1)),
                  rec + lam * np.mean(np.abs(h)), lam * rec + l1, rec + lam * l1]
        return (model, x, lam, rec, h), values

    return draw_apart(draw)


@exercise_check("sparse autoencoder loss")
def check_sparse_loss(sparse_loss: Callable[[nnx.Module, jax.Array, float], jax.Array]
                      ) -> str:
    """``sparse_loss(model, x, lam)`` = ‖x − g(f(x))‖² + λ‖f(x)‖₁, each summed over pixels or
    code units and averaged over the batch. ``model.encode``/``model.decode`` give f and g."""
    rng = fresh_rng()
    for n in (8, 5):  # fresh values, two batch sizes (each shape compiles once)
        model, x, lam, rec, h = _sparse_draw(rng, n)
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

    def draw(p, d, n):  # a case on which the right penalty and each mistake's differ
        kernel = rng.normal(0, 0.4, (p, d)).astype(np.float32)
        bias = rng.normal(0, 0.5, d).astype(np.float32)
        x = rng.random((n, p)).astype(np.float32)
        h = 1 / (1 + np.exp(-(x.astype(np.float64) @ kernel + bias)))
        norms, slope = (kernel.astype(np.float64) ** 2).sum(0), h * (1 - h)
        right = np.mean(np.sum(slope**2 * norms, 1))
        values = [right, np.mean(np.sum(slope * norms, 1)),
                  np.mean(np.sum(slope**2 * np.sqrt(norms), 1)), np.sqrt(right), right * n,
                  np.mean(np.sum(h**2 * norms, 1))]
        return tuple(jnp.asarray(a) for a in (kernel, bias, x)), values

    for p, d, n in ((12, 5, 6), (9, 4, 5)):  # fresh values, two shapes
        kernel, bias, x = draw_apart(lambda p=p, d=d, n=n: draw(p, d, n))
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

    answers: list[float] = []  # the right answers of the rounds so far

    def draw(rho: float, shape: tuple[int, int]) -> tuple[np.ndarray, list[float]]:
        hh = np.asarray(1 / (1 + np.exp(-rng.normal(-1, 1.5, shape))), np.float32)
        hh = hh.astype(np.float64)
        rho_hat = hh.mean(0)
        # the right answer, each mistake named below and the earlier rounds' answers, kept apart
        return hh, [np.sum(kl_of(rho, rho_hat)), np.mean(np.sum(kl_of(rho, hh), 1)),
                    np.sum(kl_of(rho_hat, rho)), np.mean(kl_of(rho, rho_hat)),
                    np.sum(rho * np.log(rho / rho_hat)), *answers]

    rhos = rng.choice([0.02, 0.05, 0.1, 0.2, 0.3], size=2, replace=False)
    for rho, shape in zip(rhos.tolist(), ((16, 6), (10, 4)), strict=True):
        hh = draw_apart(lambda rho=rho, shape=shape: draw(rho, shape))
        h = jnp.asarray(hh, jnp.float32)
        out = kl(h, rho)
        expect(np.ndim(out) == 0, f"return one number, got shape {np.shape(out)}: sum the "
               "KL divergences of the units.")
        rho_hat = hh.mean(0)
        right = float(np.sum(kl_of(rho, rho_hat)))
        answers.append(right)
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


class _ShallowAutoencoder(nnx.Module):
    """Notebook 04's model with a ReLU code: h = relu(x W_e + b_e), x' = sigmoid(h W_d + b_d).

    ``encode``: float32[N, 784] → float32[N, code_dim] ≥ 0; ``decode``: back to [N, 784] in (0, 1).
    """

    def __init__(self, code_dim: int, *, rngs: nnx.Rngs):
        self.encoder = nnx.Linear(784, code_dim, rngs=rngs)
        self.decoder = nnx.Linear(code_dim, 784, rngs=rngs)

    def encode(self, x: jax.Array) -> jax.Array:
        return nnx.relu(self.encoder(x))

    def decode(self, h: jax.Array) -> jax.Array:
        return nnx.sigmoid(self.decoder(h))

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.decode(self.encode(x))


def _encode_and_reconstruct(model: nnx.Module, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    h = model.encode(x)
    return h, model.decode(h)


@exercise_check("build it: a sparse autoencoder's loss")
def check_sparse_training(sparse_loss: Callable[[nnx.Module, jax.Array, float], jax.Array]
                          ) -> str:
    """``sparse_loss(model, x, lam) -> loss``: ‖x − g(h)‖² + lam · ‖h‖₁ with h = model.encode(x),
    each term summed per image (over pixels, over code units) and averaged over the batch.

    x: float32[B, 784] in [0, 1]; model: notebook 04's ``ShallowAutoencoder`` with a ReLU code
    (``encode``, ``decode``). Judged by outcome: a fresh overcomplete model with 1,024 code units
    is trained with your loss at lam = 0.03 (``BUILD_SPARSE``: 400 steps of 128 digits, Adam
    3e-3), then measured on 1,000 random test digits. It passes when BOTH the test MSE per pixel
    is at most ``BUILD_SPARSE["target_mse"]`` (0.008) and the fraction of active code entries
    (h > 0) is at most ``BUILD_SPARSE["target_active"]`` (0.25); the notebook's loss reaches
    about 0.0047 and 15 %. About 15 s on a 2-core CPU.
    """
    b = BUILD_SPARSE
    seed = int(fresh_rng().integers(1 << 30))
    x_train = load_mnist("train", flatten=True)[0]
    (x_eval,) = random_subset(load_mnist("test", flatten=True)[0], n=b["n_test"], seed=seed)
    model = _ShallowAutoencoder(b["code_dim"], rngs=nnx.Rngs(seed))

    # the penalty's effect on an untrained model, for the hints that a number can give
    x = jnp.asarray(x_train[:16])
    with_penalty = float(sparse_loss(model, x, b["lam"]))
    without = float(sparse_loss(model, x, 0.0))
    expect(with_penalty != without, "your loss does not change with lam: add lam times the L1 "
           "norm of the code, lam * jnp.mean(jnp.sum(jnp.abs(h), axis=-1)) with "
           "h = model.encode(x).")
    expect(with_penalty > without, "your loss falls when lam grows: the penalty is subtracted. "
           "ADD lam · ‖h‖₁, so that large codes cost more.")

    def step(model: nnx.Module, optimizer: nnx.Optimizer, x: jax.Array, key: jax.Array
             ) -> jax.Array:
        loss, grads = nnx.value_and_grad(lambda m: sparse_loss(m, x, b["lam"]))(model)
        optimizer.update(model, grads)
        return loss

    model = train_with_step(model, step, x_train, steps=b["steps"], batch_size=b["batch_size"],
                            learning_rate=b["learning_rate"], seed=seed, who="your loss")
    h, out = (np.asarray(a) for a in apply_jitted(model, jnp.asarray(x_eval),
                                                    method=_encode_and_reconstruct))
    mse, active = mse_per_pixel(x_eval, out), float(np.mean(h > 0))
    figures = (f"after {b['steps']} steps at lam = {b['lam']} your model's test MSE is {mse:.4f} "
               f"per pixel (target: {b['target_mse']} or below) and {active:.0%} of its code "
               f"entries are active (target: {b['target_active']:.0%} or below), on "
               f"{b['n_test']:,} random test digits")
    expect(active > 0.02 or mse <= b["target_mse"], f"{figures}. The penalty is far too strong: "
           "the code switched off to save the penalty. Multiply the L1 norm by lam, and add it "
           "once, averaged over the batch, not summed over it.")
    expect(active <= b["target_active"], f"{figures}. The code is not sparse: the penalty must "
           "be the L1 norm of the CODE h = model.encode(x) — Σ_j |h_j|, not its square (an L2 "
           "penalty shrinks codes but does not push them to exactly 0), not the weights, not "
           "the output — summed over the code units and averaged over the batch.")
    expect(mse <= b["target_mse"], f"{figures}. Check the reconstruction term: ‖x − "
           "model.decode(h)‖² summed over the 784 pixels, averaged over the batch.")
    return f"correct! {figures[0].upper()}{figures[1:]}."
