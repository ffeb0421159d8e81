"""Exercise checks for notebook 06, GANs (toy data and the MNIST DCGAN)."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from course_utils.exercises.core import (
    close,
    exercise_check,
    expect,
    fresh_rng,
    train_ring_gan,
)
from course_utils.gan import mode_coverage

__all__ = [
    "BUILD_GAN",
    "check_d_loss",
    "check_gan_training",
    "check_nonsaturating_g_loss",
    "check_optimal_discriminator",
    "check_slerp",
]


def _gan_logits(rng: np.random.Generator, n_real: int, n_fake: int
                ) -> tuple[jax.Array, jax.Array]:
    """Fresh real and fake logits of two batch sizes, each with one logit of −120."""
    real = np.concatenate([rng.normal(1.0, 3.0, size=n_real - 1), [-120.0]])
    fake = np.concatenate([rng.normal(-2.0, 3.0, size=n_fake - 1), [-120.0]])
    return (jnp.asarray(rng.permutation(real), jnp.float32),
            jnp.asarray(rng.permutation(fake), jnp.float32))


@exercise_check("discriminator loss")
def check_d_loss(d_loss: Callable[[jax.Array, jax.Array], jax.Array]) -> str:
    """``d_loss(real_logits, fake_logits)``: −E[log D(x)] − E[log(1 − D(G(z)))], D = sigmoid."""
    rng = fresh_rng()
    for n_real, n_fake in ((64, 48), (40, 56)):
        real, fake = _gan_logits(rng, n_real, n_fake)
        want = -jnp.mean(jax.nn.log_sigmoid(real)) - jnp.mean(jax.nn.log_sigmoid(-fake))
        got = d_loss(real, fake)
        expect(np.ndim(got) == 0, f"return one number (the mean over the batch), got shape "
               f"{np.shape(got)}.")
        expect(np.isfinite(float(got)), "the loss is not finite: a logit of −120 makes "
               "sigmoid(·) underflow to 0 and log(0) = −inf. Use jax.nn.log_sigmoid(l) for "
               "log D and jax.nn.log_sigmoid(−l) for log(1 − D).")
        expect(not close(got, -want), "the sign is flipped: D *maximises* V, so its loss to "
               "minimise is −V.")
        swapped = -jnp.mean(jax.nn.log_sigmoid(fake)) - jnp.mean(jax.nn.log_sigmoid(-real))
        expect(not close(got, swapped), "real and fake are swapped: D should say 1 on real "
               "data and 0 on generated samples.")
        expect(close(got, want), "expected −mean(log D(x_real)) − mean(log(1 − D(x_fake))) "
               "with D = sigmoid(logit); 1 − sigmoid(l) = sigmoid(−l).")
    zero = d_loss(jnp.zeros(4), jnp.zeros(4))
    expect(close(zero, 2 * np.log(2)), "with all logits 0 (D = 1/2 everywhere) the loss "
           "must be 2 ln 2.")
    return "correct! At the equilibrium D = 1/2 it equals 2 ln 2 ≈ 1.386."


@exercise_check("non-saturating generator loss")
def check_nonsaturating_g_loss(g_loss: Callable[[jax.Array], jax.Array]) -> str:
    """``g_loss(fake_logits)``: the non-saturating generator loss −E[log D(G(z))]."""
    rng = fresh_rng()
    for n_fake in (64, 40):
        _, fake = _gan_logits(rng, 8, n_fake)
        want = -jnp.mean(jax.nn.log_sigmoid(fake))
        got = g_loss(fake)
        expect(np.ndim(got) == 0, f"return one number (the mean over the batch), got shape "
               f"{np.shape(got)}.")
        expect(np.isfinite(float(got)), "the loss is not finite: a logit of −120 makes "
               "sigmoid underflow to 0. Use "
               "jax.nn.log_sigmoid(l), not jnp.log(jax.nn.sigmoid(l)).")
        saturating = jnp.mean(jax.nn.log_sigmoid(-fake))
        expect(not close(got, saturating), "that is the *saturating* loss log(1 − D(G(z))); "
               "the non-saturating one is −log D(G(z)).")
        expect(not close(got, -want), "the sign is flipped: G *maximises* log D(G(z)), so "
               "the loss to minimise is −log D(G(z)).")
        expect(close(got, want), "expected −mean(log D(G(z))) with D = sigmoid(logit).")
    grad = jax.grad(g_loss)(jnp.array([-8.0, 0.0]))
    expect(close(grad, [-(1 - jax.nn.sigmoid(-8.0)) / 2, -0.25], 1e-3),
           "the value is right but the gradient is not; avoid stop_gradient and rounding.")
    return ("correct! Its gradient w.r.t. the logit is −(1 − D)/N: largest where D "
            "rejects the sample, exactly where the generator needs it.")


@exercise_check("optimal discriminator")
def check_optimal_discriminator(d_star: Callable[[np.ndarray, np.ndarray], np.ndarray]
                                ) -> str:
    """``d_star(p_data, p_g)``: D*(x) = p_data / (p_data + p_g) at each point."""
    rng = fresh_rng()
    for n in (5, 8):
        p, q = rng.uniform(0.05, 2.0, n), rng.uniform(0.05, 2.0, n)
        p[0], q[1] = 0.0, 0.0  # no real data at one point, no samples at another
        q[2] = p[2]  # the densities agree at a third
        got = np.asarray(d_star(p, q), np.float64)
        expect(got.shape == p.shape, f"return one value per point, shape {p.shape}, got "
               f"{got.shape}.")
        expect(not close(got, q / (p + q)), "that is the probability of *fake*: D* is the "
               "share of the real density, p_data / (p_data + p_g).")
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = p / q
        expect(not close(got[q > 0], ratio[q > 0]), "that is a density ratio p_data / p_g; "
               "D* divides by the sum p_data + p_g.")
        expect(close(got, p / (p + q)), "expected p_data / (p_data + p_g) elementwise; "
               "it is in [0, 1] and equals 1/2 where the densities agree.")
    return ("correct! Where p_g = p_data it is 1/2 everywhere: the lecture's equilibrium.")


# --------------------------------------------------------------------------- the MNIST DCGAN
@exercise_check("spherical interpolation")
def check_slerp(slerp: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]) -> str:
    """``slerp(z0, z1, t)``: z0, z1: float[D], t: float[n] in [0, 1] → float[n, D], the points
    at ``t`` on the great-circle arc from z0 to z1 (spherical linear interpolation)."""
    rng = fresh_rng()
    for dim, n in ((16, 7), (10, 5)):  # fresh vectors and t, two shapes
        a = rng.normal(size=dim) * rng.uniform(0.5, 2.0)
        b = rng.normal(size=dim) * rng.uniform(0.5, 2.0)
        tt = np.concatenate([[0.0], np.sort(rng.uniform(0.05, 0.95, n - 2)), [1.0]])
        got = np.asarray(slerp(jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32),
                               jnp.asarray(tt, jnp.float32)), np.float64)
        expect(got.shape != (dim, n), f"the axes are swapped: return float[n, D], one row "
               f"per t (shape ({n}, {dim}) here), not (D, n).")
        expect(got.shape == (n, dim), f"return one row per value of t: for {n} values of t "
               f"and {dim}-D vectors the shape is ({n}, {dim}), got {got.shape}.")
        tt = tt[:, None]
        omega = np.arccos(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
        want = (np.sin((1 - tt) * omega) * a + np.sin(tt * omega) * b) / np.sin(omega)
        expect(not close(got[0], b, 1e-3), "t = 0 must give z0 and t = 1 must give z1: the "
               "two weights are swapped.")
        expect(close(got[0], a, 1e-3) and close(got[-1], b, 1e-3), "the ends are wrong: "
               "slerp(z0, z1, 0) must be z0 and slerp(z0, z1, 1) must be z1.")
        expect(not close(got, (1 - tt) * a + tt * b, 1e-3), "that is linear interpolation: "
               "its midpoint is shorter than both ends. Weight z0 by sin((1 − t)Ω)/sin Ω and "
               "z1 by sin(tΩ)/sin Ω.")
        expect(close(got, want, 1e-3), "the ends are right but the points between are not: "
               "Ω is the angle between z0 and z1, arccos(z0·z1 / (‖z0‖ ‖z1‖)) (in radians).")
    # two vectors of one norm: every point on the arc keeps that norm
    c = 3.0 * a / np.linalg.norm(a)
    d = 3.0 * b / np.linalg.norm(b)
    arc = np.asarray(slerp(jnp.asarray(c, jnp.float32), jnp.asarray(d, jnp.float32),
                           jnp.asarray([0.25, 0.5, 0.75])), np.float64)
    expect(close(np.linalg.norm(arc, axis=1), [3.0, 3.0, 3.0], 1e-3),
           "between two vectors of norm 3 every point should have norm 3.")
    return ("correct! Between vectors of equal norm the path keeps that norm: every point "
            "is a z of the size the generator was trained on.")



# The "build it" exercise: the budget and the targets the check holds a student's round to.
BUILD_GAN = {"rounds": 3000, "batch_size": 256, "learning_rate": 1e-3, "hidden": 128,
             "n_samples": 2000, "target_modes": 7, "target_near": 0.4, "seed": 13}


@exercise_check("build it: one round of GAN training")
def check_gan_training(gan_round: Callable[..., tuple[jax.Array, jax.Array]]) -> str:
    """``gan_round(G, D, opt_g, opt_d, x_real, z_d, z_g) -> (d_loss, g_loss)``: one round.

    x_real: float32[B, 2], a batch of ring samples; z_d, z_g: float32[B, 2], noise for D's and
    for G's step. The round must take one Adam step of D on −V (real batch against ``G(z_d)``,
    G frozen), then one step of G on the non-saturating loss at ``z_g`` (D frozen), updating
    both in place through their optimizers, and return both losses. Judged by outcome: fresh
    MLPs (notebook 06's, 128 hidden units, Adam 1e-3 with β1 = 0.5 for both) train on the ring
    for 3,000 rounds of 256 samples (a fixed seed) with your round; then 2,000 samples of G
    must cover at least 7 of the 8 modes (with other seeds a right round drops a mode now and
    then) and at least 40 % of them must lie within 3σ of a mode (``mode_coverage``). About
    15 s on a 2-core CPU. (The minimax, saturating generator loss also passes here: from these
    initial weights it trains; notebook 06's race shows the start from which it does not.)
    """
    b = BUILD_GAN
    seed = b["seed"]  # fixed: a right round then passes every time (fresh seeds dropped modes)
    G = train_ring_gan(gan_round, seed, rounds=b["rounds"], batch_size=b["batch_size"],
                       learning_rate=b["learning_rate"], hidden=b["hidden"])
    samples = np.asarray(G(jax.random.normal(jax.random.key(seed + 1), (b["n_samples"], 2))))
    expect(bool(np.all(np.isfinite(samples))), "G's samples are not finite after training.")
    cov = mode_coverage(samples)
    modes, near = cov["modes_covered"], cov["share_near_a_mode"]
    expect(modes >= b["target_modes"] and near >= b["target_near"],
           f"after {b['rounds']:,} rounds G covers {modes} of 8 modes with {near:.0%} of its "
           f"samples near a mode (target: at least {b['target_modes']} modes and "
           f"{b['target_near']:.0%}). Check the signs: D's step minimises -E[log D(x)] - "
           "E[log(1 - D(G(z)))], G's step -E[log D(G(z))]; D's step must not move G, G's step "
           "must not move D.")
    return (f"correct! After {b['rounds']:,} rounds G covers {modes} of 8 modes with "
            f"{near:.0%} of its samples within 3σ of a mode (target: at least "
            f"{b['target_modes']} modes and {b['target_near']:.0%}).")
