"""Exercise checks for notebook 03, denoising."""

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
from course_utils.metrics import batched_apply, mse_per_pixel
from course_utils.models import MLPAutoencoder
from course_utils.noise import add_noise

__all__ = ["BUILD_DAE", "check_dae_loss", "check_dae_training", "check_masking_noise", "check_psnr"]

# The "build it" exercise: the budget and the target the check holds a student's training step to.
BUILD_DAE = {"level": 0.4, "steps": 800, "batch_size": 128, "learning_rate": 2e-3,
             "n_test": 1000, "target_ratio": 0.7}


@exercise_check("denoising loss")
def check_dae_loss(dae_loss: Callable[[nnx.Module, jax.Array, jax.Array], jax.Array]
                   ) -> str:
    """``dae_loss(model, x_clean, x_noisy)`` = L(x, g(f(x̃))): ‖x − model(x̃)‖² summed over
    pixels, averaged over the batch. x_clean, x_noisy: float32[N, 784] in [0, 1]."""
    rng = fresh_rng()

    def sq_error(model, target, inp):
        return float(np.mean(np.sum((np.asarray(target) - np.asarray(model(inp))) ** 2, -1)))

    def draw():  # a small model whose output depends on its input enough to tell the cases apart
        model = MLPAutoencoder(4, hidden=(16,), rngs=nnx.Rngs(int(rng.integers(1 << 30))))
        x = jnp.asarray(rng.random((6, 784), dtype=np.float32))
        x_noisy = jnp.asarray(np.clip(np.asarray(x) + rng.normal(0, 0.3, x.shape), 0, 1),
                              jnp.float32)
        diff = np.asarray(x) - np.asarray(model(x_noisy))
        return (model, x, x_noisy), [sq_error(model, x, x_noisy),
                                     sq_error(model, x_noisy, x_noisy), sq_error(model, x, x),
                                     sq_error(model, x_noisy, x), np.mean(diff**2)]

    model, x, x_noisy = draw_apart(draw)
    out = dae_loss(model, x, x_noisy)
    expect(np.ndim(out) == 0, f"return one number for the batch, got shape {np.shape(out)}.")

    def sq(target, inp):
        return sq_error(model, target, inp)

    expect(not close(out, sq(x_noisy, x_noisy)), "the target must be the CLEAN image: "
           "compare model(x_noisy) with x_clean, not with x_noisy (that would teach the "
           "model to reproduce the noise).")
    expect(not close(out, sq(x, x)), "feed the model the NOISY image: the loss is "
           "L(x, g(f(x̃))) — the input is x̃, only the target is clean.")
    expect(not close(out, sq(x_noisy, x)), "input and target are swapped: the model "
           "sees x_noisy and must output x_clean.")
    diff = np.asarray(x) - np.asarray(model(x_noisy))
    expect(not close(out, np.mean(diff**2)), "sum the squared errors over the 784 pixels "
           "of each image, then average over the images.")
    right = sq(x, x_noisy)
    expect(close(out, right), f"expected {right:.4f}, got {float(out):.4f}.")
    grads = nnx.grad(lambda m: dae_loss(m, x, x_noisy))(model)
    leaves = jax.tree_util.tree_leaves(grads)
    expect(any(float(jnp.abs(g).sum()) > 0 for g in leaves), "the loss has no gradient "
           "with respect to the model: compute it with jnp operations on model(x_noisy).")
    return "correct! The model is asked to undo the corruption, not to copy its input."


@exercise_check("masking noise")
def check_masking_noise(mask: Callable[[jax.Array, float, jax.Array], jax.Array]
                        ) -> str:
    """``mask(x, level, key)``: each pixel of ``x: float32[N, 784]`` becomes 0 with probability
    ``level``, independently; the other pixels are unchanged. Must work under ``jax.jit``."""
    rng = fresh_rng()
    x = jnp.asarray(rng.uniform(0.1, 1.0, (100, 784)), jnp.float32)  # no pixel is 0
    kept_or_zero = "a pixel is either kept as it is or set to 0: do not scale the kept " \
        "pixels (this is not dropout's 1/(1-p)) and do not add noise."
    key = jax.random.PRNGKey(int(rng.integers(1 << 30)))
    first = np.asarray(mask(x, 0.5, key))
    expect(first.shape == x.shape, f"keep the shape {x.shape}, got {first.shape}.")
    rows = first == 0.0
    expect(not np.all(rows == rows[:1]), "every image got the same mask: draw an "
           "independent random number for every pixel of every image (shape x.shape).")
    for level in (0.0, 0.25, 0.7, float(rng.uniform(0.1, 0.9))):
        key = jax.random.PRNGKey(int(rng.integers(1 << 30)))
        out = np.asarray(mask(x, level, key))
        expect(out.shape == x.shape, f"keep the shape {x.shape}, got {out.shape}.")
        zero = out == 0.0
        expect(np.array_equal(out[~zero], np.asarray(x)[~zero]), kept_or_zero)
        frac = float(np.mean(zero))
        expect(abs(frac - (1 - level)) > 0.02 or abs(level - 0.5) < 0.02,
               f"with level={level:.2f} you zeroed {frac:.0%} of the pixels: level is the "
               "probability of being MASKED, not of being kept.")
        expect(abs(frac - level) < 0.02, f"with level={level:.2f} about {level:.0%} of the "
               f"pixels should be 0, you zeroed {frac:.0%}.")
    other = np.asarray(mask(x, 0.5, jax.random.fold_in(key, 1))) == 0.0
    expect(not np.array_equal(rows, other), "two different keys gave the same mask: draw "
           "the random numbers with the key you are given, jax.random.uniform(key, x.shape).")
    jitted = jax.jit(mask)
    expect(np.array_equal(np.asarray(jitted(x, 0.3, key)), np.asarray(mask(x, 0.3, key))),
           "the function should give the same result under jax.jit: use jax.random with "
           "the key, not numpy's random generator.")
    return "correct! Masking noise is what Vincent et al. (2008) used for the first DAEs."


@exercise_check("PSNR")
def check_psnr(psnr_fn: Callable[[np.ndarray, np.ndarray], float]) -> str:
    """``psnr_fn(x, x_rec)`` in dB for pixels in [0, 1]: the mean over images of
    10·log10(1 / MSE_i), MSE_i the mean squared error of image i."""
    rng = fresh_rng()
    answers: list[float] = []  # the right answers of the rounds so far

    def draw(n: int) -> tuple[tuple, list[float]]:
        x = rng.random((n, 784)).astype(np.float32)
        sigma = rng.uniform(0.005, 0.3, n).astype(np.float32)
        x_rec = x + rng.normal(size=(n, 784)).astype(np.float32) * sigma[:, None]
        mse = np.mean((x - x_rec).astype(np.float64) ** 2, axis=1)
        right = float(np.mean(10 * np.log10(1.0 / mse)))
        pooled = float(10 * np.log10(1.0 / mse.mean()))
        # kept apart: the mistakes named below, and each earlier round's answer (an answer that
        # repeats its first output must fail the second round)
        return (x, x_rec, mse, right, pooled), [right, pooled, right / 2, 2 * right, -right,
                                                right + 20 * np.log10(255.0), *answers]

    for n in rng.choice(np.arange(3, 9), size=2, replace=False):
        x, x_rec, mse, right, pooled = draw_apart(lambda n=int(n): draw(n))
        answers.append(right)
        out = float(psnr_fn(x, x_rec))
        expect(not close(out, pooled), "average the PSNR of each image, not the MSE over "
               "all images first: the log of a mean is not the mean of the logs.")
        expect(not close(out, right / 2) and not close(out, float(np.mean(
            20 * np.log10(1.0 / mse)))), "10·log10 of the ratio of squares: "
               "10·log10(1 / MSE), equivalently 20·log10(1 / RMSE).")
        expect(not close(out, -right), "the sign is flipped: a smaller error must give a "
               "LARGER PSNR.")
        expect(not close(out, right + 20 * np.log10(255.0), rtol=1e-3), "the peak value "
               "is 1 for pixels in [0, 1]: 10·log10(1 / MSE), not 10·log10(255² / MSE).")
        expect(close(out, right, rtol=1e-3), f"expected {right:.3f} dB, got {out:.3f}.")
    return "correct! +10 dB means 10 times smaller squared error."


def _plain_step(model: nnx.Module, optimizer: nnx.Optimizer, x: jax.Array, key: jax.Array
                ) -> jax.Array:
    """The plain autoencoder's step, the yardstick: reconstruct x from x itself."""
    def loss_fn(m: nnx.Module) -> jax.Array:
        return jnp.mean(jnp.sum((x - m(x)) ** 2, axis=-1))

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return loss


def _train_with(step: Callable[..., jax.Array], x_train: np.ndarray, seed: int,
                who: str) -> nnx.Module:
    """A fresh MLPAutoencoder(32, hidden=(256, 128)) trained by ``step`` on BUILD_DAE's budget."""
    b = BUILD_DAE
    model = MLPAutoencoder(32, hidden=(256, 128), rngs=nnx.Rngs(seed))
    return train_with_step(model, step, x_train, steps=b["steps"], batch_size=b["batch_size"],
                           learning_rate=b["learning_rate"], seed=seed, who=who)


@exercise_check("build it: a denoising training step")
def check_dae_training(dae_step: Callable[[nnx.Module, nnx.Optimizer, jax.Array, jax.Array],
                                          jax.Array]) -> str:
    """``dae_step(model, optimizer, x, key) -> loss``: one training step of a masking-noise DAE.

    x: float32[B, 784] in [0, 1], a batch of clean digits; key: a JAX key, new at every step.
    The step must erase a fraction ``BUILD_DAE["level"]`` (0.4) of the pixels of x with that
    key, update the model (in place, through ``optimizer.update``) to reconstruct the clean x,
    and return the loss. Judged by outcome: a fresh ``MLPAutoencoder(32, hidden=(256, 128))``
    is trained with your step and, on the same batches, a plain autoencoder with the plain step
    (800 steps of 128 digits each, Adam 2e-3); both are then measured on 1,000 random test
    digits with 40 % of their pixels erased. It passes when your model's error to the clean
    digits is at most 0.7 times the plain one's. About half a minute on a 2-core CPU.
    """
    b = BUILD_DAE
    seed = int(fresh_rng().integers(1 << 30))
    x_train = load_mnist("train", flatten=True)[0]
    (x_eval,) = random_subset(load_mnist("test", flatten=True)[0], n=b["n_test"], seed=seed)
    x_masked = np.asarray(add_noise(x_eval, "masking", b["level"], seed=seed))
    yours = _train_with(dae_step, x_train, seed, "your step")
    plain = _train_with(_plain_step, x_train, seed, "the plain step")
    out = batched_apply(yours, x_masked)
    mine, base = mse_per_pixel(x_eval, out), mse_per_pixel(x_eval, batched_apply(plain, x_masked))
    ratio = mine / base
    figures = (f"on {b['n_test']:,} test digits with {b['level']:.0%} of their pixels erased, "
               f"your model's error to the clean digits is {mine:.4f} per pixel, the plain "
               f"autoencoder's {base:.4f}: {ratio:.2f} times (target: at most "
               f"{b['target_ratio']})")
    expect(not (ratio > b["target_ratio"] and mse_per_pixel(x_masked, out) < mine),
           f"{figures}. Your model reproduces the masked input more closely than the clean "
           "digit: it learned to copy. Feed it a masked copy of x and compare its output with "
           "the CLEAN x.")
    expect(ratio <= b["target_ratio"], f"{figures}. Feed the model a masked copy of x (a fresh "
           "mask from key at every step: add_noise(x, 'masking', 0.4, key=key) or your "
           "my_masking_noise) and compare its output with the clean x.")
    return f"correct! {figures[0].upper()}{figures[1:]}: your DAE fills in erased strokes."
