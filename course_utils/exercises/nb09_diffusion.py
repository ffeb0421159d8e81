"""Exercise checks for notebook 09, diffusion models (the 2-D ring and the VAE's latent codes).

The three formula checks take small schedules and batches drawn by ``fresh_rng``; the "build
it" check trains a small noise-prediction MLP on notebook 06's ring with the student's
training step and judges the samples of a correct ancestral sampler by the modes they cover.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from course_utils.exercises.core import (
    close,
    draw_apart,
    exercise_check,
    expect,
    fresh_rng,
    train_with_step,
)
from course_utils.gan import mode_coverage, sample_ring

__all__ = [
    "BUILD_DDPM",
    "NoiseMLP",
    "check_ddpm_loss",
    "check_ddpm_training",
    "check_forward_sample",
    "check_reverse_step",
    "linear_schedule",
]


def linear_schedule(T: int, beta_1: float = 1e-4, beta_T: float = 0.2
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The linear noise schedule: ``(betas, alphas, alpha_bar)``, each ``float32[T]``.

    betas rise linearly from ``beta_1`` to ``beta_T``; alphas = 1 − betas; alpha_bar is their
    running product, so ``alpha_bar[t]`` is ᾱ_t of q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I), with
    the steps counted 0..T−1.
    """
    if not (isinstance(T, int) and T >= 2):
        raise ValueError(f"T must be an int ≥ 2, got {T!r} (try 100)")
    if not 0.0 < beta_1 <= beta_T < 1.0:
        raise ValueError(f"need 0 < beta_1 ≤ beta_T < 1, got {beta_1} and {beta_T}")
    betas = np.linspace(beta_1, beta_T, T, dtype=np.float64)
    alphas = 1.0 - betas
    return (betas.astype(np.float32), alphas.astype(np.float32),
            np.cumprod(alphas).astype(np.float32))


def _schedule(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    T = int(rng.integers(20, 60))
    return linear_schedule(T, float(rng.uniform(1e-4, 1e-3)), float(rng.uniform(0.1, 0.3)))


def _batch(rng: np.random.Generator, T: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    n, d = int(rng.integers(5, 12)), int(rng.integers(2, 6))
    x0 = jnp.asarray(rng.normal(1.0, 2.0, size=(n, d)), jnp.float32)
    t = rng.integers(0, T, size=n)
    t[0], t[1] = 0, T - 1  # both ends of the chain
    eps = jnp.asarray(rng.normal(size=(n, d)), jnp.float32)
    return x0, jnp.asarray(t, jnp.int32), eps


@exercise_check("the forward process q(x_t | x_0)")
def check_forward_sample(q_sample: Callable[..., jax.Array]) -> str:
    """``q_sample(x0, t, eps, alpha_bar) -> x_t``: √ᾱ_t x0 + √(1 − ᾱ_t) ε, row by row.

    x0, eps: ``float32[N, D]``; t: ``int32[N]`` in 0..T−1 (each row its own step);
    alpha_bar: ``float32[T]``. Returns ``float32[N, D]``.
    """
    rng = fresh_rng()
    for _ in range(2):
        betas, alphas, alpha_bar = _schedule(rng)
        x0, t, eps = _batch(rng, len(betas))
        ab = jnp.asarray(alpha_bar)[t][:, None]
        want = jnp.sqrt(ab) * x0 + jnp.sqrt(1 - ab) * eps
        got = q_sample(x0, t, eps, jnp.asarray(alpha_bar))
        expect(np.shape(got) == x0.shape, f"return one noisy row per row of x0: shape "
               f"{x0.shape}, got {np.shape(got)}. Pick ᾱ_t per row with alpha_bar[t] and give "
               "it a trailing axis, alpha_bar[t][:, None], so that it multiplies whole rows.")
        got = np.asarray(got)
        if close(got, jnp.sqrt(jnp.asarray(alpha_bar)[0]) * x0
                 + jnp.sqrt(1 - jnp.asarray(alpha_bar)[0]) * eps):
            expect(False, "every row got the same noise level: use each row's own step, "
                   "alpha_bar[t] with the array t, not one ᾱ for the batch.")
        expect(not close(got, ab * x0 + (1 - ab) * eps), "the weights are ᾱ_t and 1 − ᾱ_t "
               "themselves: they are variances, so the mean is scaled by √ᾱ_t and the noise by "
               "√(1 − ᾱ_t).")
        b = jnp.asarray(betas)[t][:, None]
        expect(not close(got, jnp.sqrt(1 - b) * x0 + jnp.sqrt(b) * eps), "that is one step "
               "of the chain, q(x_t | x_{t-1}) with β_t: the closed form jumps from x_0 to x_t "
               "with the running product ᾱ_t = α_1 ⋯ α_t.")
        expect(not close(got, jnp.sqrt(1 - ab) * x0 + jnp.sqrt(ab) * eps), "the weights are "
               "swapped: at t = 0 x_t must be almost x_0, so x_0 gets √ᾱ_t (close to 1 there).")
        expect(close(got, want, rtol=1e-4), "x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε, with ᾱ_t = "
               "alpha_bar[t] for each row's own t.")
    return "correct! One line jumps to any step t: no need to run the chain."


def _toy_eps_model(rng: np.random.Generator, d: int, T: int) -> Callable[[jax.Array, jax.Array],
                                                                         jax.Array]:
    """A fixed nonlinear ε-model(x, t) -> float32[N, d] that depends on both inputs."""
    w = jnp.asarray(rng.normal(size=(d, d)) / np.sqrt(d), jnp.float32)
    c = jnp.asarray(rng.normal(size=d), jnp.float32)

    def model(x: jax.Array, t: jax.Array) -> jax.Array:
        s = (jnp.asarray(t, jnp.float32) / T)[:, None]
        return jnp.tanh(x @ w) + s * c

    return model


@exercise_check("the DDPM loss")
def check_ddpm_loss(ddpm_loss: Callable[..., jax.Array]) -> str:
    """``ddpm_loss(eps_model, x0, t, eps, alpha_bar) -> loss``: ‖ε − ε_θ(x_t, t)‖².

    x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε; the loss is averaged over the batch (summed or averaged over
    the D coordinates: a constant factor does not change where Adam goes). One number.
    """
    rng = fresh_rng()

    def draw():  # a case on which the right loss and each mistake's give different numbers
        _, _, alpha_bar = _schedule(rng)
        x0, t, eps = _batch(rng, len(alpha_bar))
        model = _toy_eps_model(rng, x0.shape[1], len(alpha_bar))
        ab = jnp.asarray(alpha_bar)[t][:, None]
        x_t = jnp.sqrt(ab) * x0 + jnp.sqrt(1 - ab) * eps
        values = [jnp.mean(jnp.sum((target - model(inp, steps)) ** 2, -1)) for target, inp, steps
                  in ((eps, x_t, t), (x0, x_t, t), (eps, x0, t), (eps, x_t, 0 * t),
                      (eps, ab * x0 + (1 - ab) * eps, t))]
        return (alpha_bar, x0, t, eps, model), values + [v / x0.shape[1] for v in values]

    for _ in range(2):
        alpha_bar, x0, t, eps, model = draw_apart(draw)
        ab = jnp.asarray(alpha_bar)[t][:, None]
        x_t = jnp.sqrt(ab) * x0 + jnp.sqrt(1 - ab) * eps
        per_row = jnp.sum((eps - model(x_t, t)) ** 2, axis=-1)
        got = ddpm_loss(model, x0, t, eps, jnp.asarray(alpha_bar))
        expect(np.ndim(got) == 0, f"return one number, the mean over the batch; got shape "
               f"{np.shape(got)}.")
        got = float(got)
        d = x0.shape[1]
        if close(got, jnp.mean(jnp.sum((x0 - model(x_t, t)) ** 2, -1))) or close(
                got, jnp.mean((x0 - model(x_t, t)) ** 2)):
            expect(False, "the network predicts the noise ε that was added, not x_0: compare "
                   "its output with eps.")
        if close(got, jnp.mean(jnp.sum((eps - model(x0, t)) ** 2, -1))) or close(
                got, jnp.mean((eps - model(x0, t)) ** 2)):
            expect(False, "the network must see the noisy x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε, "
                   "not the clean x0.")
        zero_t = jnp.zeros_like(t)
        if close(got, jnp.mean(jnp.sum((eps - model(x_t, zero_t)) ** 2, -1))):
            expect(False, "pass each row's step t to the network: it must know how much noise "
                   "x_t holds.")
        no_sqrt = ab * x0 + (1 - ab) * eps
        if close(got, jnp.mean(jnp.sum((eps - model(no_sqrt, t)) ** 2, -1))):
            expect(False, "x_t scales x0 by √ᾱ_t and ε by √(1 − ᾱ_t), not by ᾱ_t and 1 − ᾱ_t.")
        expect(close(got, jnp.mean(per_row)) or close(got, jnp.mean(per_row) / d),
               "the loss is the squared error between ε and eps_model(x_t, t), summed (or "
               "averaged) over the coordinates and averaged over the batch.")
    return "correct! The whole training signal of a DDPM: predict the noise that was added."


@exercise_check("one reverse (ancestral) step")
def check_reverse_step(reverse_step: Callable[..., jax.Array]) -> str:
    """``reverse_step(eps_model, x_t, t, z, betas, alpha_bar) -> x_{t-1}``, t a Python int.

    x_{t-1} = (x_t − β_t / √(1 − ᾱ_t) · ε_θ(x_t, t)) / √α_t + √β_t · z, without the noise term
    at t = 0. x_t, z: ``float32[N, D]``; betas, alpha_bar: ``float32[T]``.
    """
    rng = fresh_rng()
    for _ in range(2):
        betas, alphas, alpha_bar = _schedule(rng)
        T = len(betas)
        x, _, z = _batch(rng, T)
        model = _toy_eps_model(rng, x.shape[1], T)
        # t from 2 to T/2, where each mistake moves the result by more than the tolerance: at
        # t = 1, ᾱ_t = (1 − β_0) α_t is within it of α_t when β_0 is tiny, and near t = T,
        # 1 − ᾱ_t is so close to 1 that its square root is too
        for t in (int(rng.integers(2, T // 2 + 1)), 0):
            eps = model(x, jnp.full((len(x),), t, jnp.int32))
            b, a, ab = float(betas[t]), float(alphas[t]), float(alpha_bar[t])
            mean = (x - b / np.sqrt(1 - ab) * eps) / np.sqrt(a)
            want = mean + (np.sqrt(b) * z if t > 0 else 0.0)
            got = reverse_step(model, x, t, z, jnp.asarray(betas), jnp.asarray(alpha_bar))
            expect(np.shape(got) == x.shape, f"return x_(t-1) with the shape of x_t, {x.shape}; "
                   f"got {np.shape(got)}.")
            got = np.asarray(got)
            if t > 0:
                expect(not close(got, mean), "add the noise √β_t · z: without it every sample "
                       "follows the mean and the samples collapse towards the modes' centres.")
                expect(not close(got, mean + b * z), "the noise's standard deviation is √β_t "
                       "(its variance is β_t).")
                expect(not close(got, (x - b / (1 - ab) * eps) / np.sqrt(a) + np.sqrt(b) * z),
                       "ε's coefficient is β_t / √(1 − ᾱ_t): the square root of 1 − ᾱ_t.")
                expect(not close(got, (x - b / np.sqrt(1 - ab) * eps) / np.sqrt(ab)
                                 + np.sqrt(b) * z), "divide by √α_t, one step's α_t = 1 − β_t, "
                       "not by √ᾱ_t.")
            else:
                expect(not close(got, mean + np.sqrt(b) * z), "at t = 0 the step returns the "
                       "mean: no noise is added to the final sample.")
            expect(close(got, want, rtol=1e-4), "x_(t-1) = (x_t − β_t / √(1 − ᾱ_t) · "
                   "eps_model(x_t, t)) / √α_t + √β_t · z, and no noise at t = 0; pass t to the "
                   "model as an int32 array of shape [N].")
    return "correct! T such steps turn Gaussian noise into samples."


class NoiseMLP(nnx.Module):
    """A noise-prediction MLP ε_θ(x_t, t): float32[N, d], int32[N] in 0..T−1 -> float32[N, d].

    The step t enters as a sinusoidal embedding of ``embed`` numbers, concatenated to x_t; three
    hidden layers of ``hidden`` SiLU units (notebook 09's model, in the size of the check).
    """

    def __init__(self, d: int, *, hidden: int = 128, embed: int = 32, rngs: nnx.Rngs):
        self.embed = embed
        self.net = nnx.Sequential(
            nnx.Linear(d + embed, hidden, rngs=rngs), nnx.silu,
            nnx.Linear(hidden, hidden, rngs=rngs), nnx.silu,
            nnx.Linear(hidden, hidden, rngs=rngs), nnx.silu,
            nnx.Linear(hidden, d, rngs=rngs),
        )

    def __call__(self, x: jax.Array, t: jax.Array) -> jax.Array:
        half = self.embed // 2
        freqs = jnp.exp(-jnp.log(1000.0) * jnp.arange(half) / half)
        angles = jnp.asarray(t, jnp.float32)[:, None] * freqs[None]
        return self.net(jnp.concatenate([x, jnp.sin(angles), jnp.cos(angles)], axis=-1))


# The "build it" exercise: the budget and the target the check holds a student's step to.
BUILD_DDPM = {"T": 100, "beta_1": 1e-4, "beta_T": 0.2, "steps": 2000, "batch_size": 256,
              "learning_rate": 2e-3, "hidden": 128, "n_samples": 2000, "target_modes": 7,
              "target_near": 0.4, "seed": 7}


def ancestral_samples(model: Callable[[jax.Array, jax.Array], jax.Array], n: int, d: int,
                      betas: np.ndarray, alpha_bar: np.ndarray, key: jax.Array) -> np.ndarray:
    """``n`` samples ``float32[n, d]`` of a trained ε-model by DDPM's ancestral sampling."""
    betas_j, alpha_bar_j = jnp.asarray(betas), jnp.asarray(alpha_bar)
    T = len(betas)
    key, first = jax.random.split(key)

    def step(x, inputs):
        t, k = inputs
        eps = model(x, jnp.full((n,), t, jnp.int32))
        mean = (x - betas_j[t] / jnp.sqrt(1 - alpha_bar_j[t]) * eps) / jnp.sqrt(1 - betas_j[t])
        noise = jnp.where(t > 0, jnp.sqrt(betas_j[t]), 0.0) * jax.random.normal(k, x.shape)
        return mean + noise, None

    x, _ = jax.lax.scan(step, jax.random.normal(first, (n, d)),
                        (jnp.arange(T - 1, -1, -1), jax.random.split(key, T)))
    return np.asarray(x)


@exercise_check("build it: the DDPM training step")
def check_ddpm_training(ddpm_step: Callable[..., jax.Array]) -> str:
    """``ddpm_step(model, optimizer, x0, key, alpha_bar) -> loss``: one Adam step of DDPM.

    x0: ``float32[B, 2]``, a batch of ring samples; key: a new JAX key each step;
    alpha_bar: ``float32[T]``. The step draws t uniformly in 0..T−1 and ε ~ N(0, I), forms x_t,
    and takes one step on the mean of ‖ε − model(x_t, t)‖² (``nnx.value_and_grad``,
    ``optimizer.update(model, grads)``). Judged by outcome: a fresh ``NoiseMLP(2)`` trained with
    the step for ``BUILD_DDPM["steps"]`` steps (Adam, a fixed seed), then 2,000 ancestral samples
    must cover at least 7 of the 8 ring modes, with at least 40 % of them within 3σ of a mode.
    About 20 s on a 2-core CPU.
    """
    b = BUILD_DDPM
    betas, _, alpha_bar = linear_schedule(b["T"], b["beta_1"], b["beta_T"])
    alpha_bar_j = jnp.asarray(alpha_bar)
    model = NoiseMLP(2, hidden=b["hidden"], rngs=nnx.Rngs(b["seed"]))

    def step(m: nnx.Module, optimizer: nnx.Optimizer, x: jax.Array, key: jax.Array) -> jax.Array:
        return ddpm_step(m, optimizer, x, key, alpha_bar_j)

    train_with_step(model, step, sample_ring(50_000, seed=b["seed"]), steps=b["steps"],
                    batch_size=b["batch_size"], learning_rate=b["learning_rate"],
                    seed=b["seed"], who="your step")
    samples = ancestral_samples(model, b["n_samples"], 2, betas, alpha_bar,
                                jax.random.key(b["seed"] + 1))
    expect(bool(np.all(np.isfinite(samples))), "the samples are not finite after training.")
    cov = mode_coverage(samples)
    modes, near = cov["modes_covered"], cov["share_near_a_mode"]
    expect(modes >= b["target_modes"] and near >= b["target_near"],
           f"after {b['steps']:,} steps the samples cover {modes} of 8 modes with {near:.0%} "
           f"near a mode (target: at least {b['target_modes']} modes and "
           f"{b['target_near']:.0%}). The step must draw t uniformly in 0..T−1 for each row, "
           "mix x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε, and regress the network's output on ε (not on x0).")
    return (f"correct! After {b['steps']:,} steps the sampler covers {modes} of 8 modes with "
            f"{near:.0%} of its samples within 3σ of a mode (target: at least "
            f"{b['target_modes']} modes and {b['target_near']:.0%}).")
