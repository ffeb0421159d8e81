"""Exercise checks for notebook 02, latent dimension."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from course_utils.data import load_mnist, random_subset
from course_utils.exercises.core import (
    Hint,
    close,
    exercise_check,
    expect,
    fresh_rng,
    train_with_step,
)
from course_utils.metrics import mse_per_pixel

__all__ = [
    "BUILD_2D",
    "check_auroc",
    "check_beat_pca_2d",
    "check_pca_reconstruction",
    "check_subspace_overlap",
]

# The "build it" exercise: the budget and the target the check holds a student's model to.
BUILD_2D = {"steps": 1000, "batch_size": 128, "learning_rate": 2e-3, "n_pca": 10_000,
            "n_test": 1000, "target_ratio": 0.85}


def _reference_pca_reconstruction(x_train: np.ndarray, x: np.ndarray, d: int) -> np.ndarray:
    mean = x_train.mean(0)
    _, _, vt = np.linalg.svd(x_train - mean, full_matrices=False)
    components = vt[:d]
    return mean + (x - mean) @ components.T @ components


@exercise_check("PCA reconstruction")
def check_pca_reconstruction(pca_reconstruct: Callable[..., object]) -> str:
    """``pca_reconstruct(x_train, x, D)``: project ``x: float[N, n]`` onto the top-D principal
    subspace of ``x_train: float[M, n]`` (centred with the training mean), map back to ``[N, n]``.
    """
    rng = fresh_rng()
    for d in (1, 3, int(rng.integers(2, 5))):
        n = int(rng.integers(12, 25))
        basis = rng.normal(size=(6, n))
        scales = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 0.5])[:, None]
        offset = rng.uniform(1.0, 4.0, size=n)
        m = int(rng.integers(200, 320))
        x_train = offset + rng.normal(size=(m, 6)) @ (scales * basis) + 0.05 * rng.normal(
            size=(m, n))
        x = offset + rng.normal(size=(int(rng.integers(20, 50)), 6)) @ (scales * basis)
        out = np.asarray(pca_reconstruct(x_train, x, d), np.float64)
        expect(out.shape == x.shape, f"return one reconstruction per row of x: expected "
               f"shape {x.shape}, got {out.shape}.")
        right = _reference_pca_reconstruction(x_train, x, d)
        if close(out, right, rtol=1e-3):
            continue
        vt_raw = np.linalg.svd(x_train, full_matrices=False)[2][:d]
        raw = x @ vt_raw.T @ vt_raw
        expect(not close(out, raw, rtol=1e-3), "centre first: subtract the training mean "
               "before the SVD and before projecting, and add it back at the end.")
        expect(not close(out, _reference_pca_reconstruction(x, x, d), rtol=1e-3),
               "you fitted the components on x: fit them (and the mean) on x_train only, "
               "then apply them to x.")
        neighbours = [_reference_pca_reconstruction(x_train, x, k) for k in (d - 1, d + 1)
                      if k >= 1]
        expect(not any(close(out, n, rtol=1e-3) for n in neighbours),
               "off by one component: keep exactly the first D rows of Vᵀ.")
        raise Hint(f"for D={d} the reconstruction differs from PCA's. With the SVD "
                   "x_train - mean = U S Vᵀ and C = Vᵀ[:D]: mean + (x - mean) @ C.T @ C.")
    return "correct! This is the best any linear D-number code can do (in squared error)."


def _reference_auroc(scores_in: np.ndarray, scores_out: np.ndarray) -> float:
    """Mann-Whitney's statistic: P(outlier score > inlier score) + P(equal) / 2, in [0, 1]."""
    higher = scores_out[:, None] > scores_in[None, :]
    equal = scores_out[:, None] == scores_in[None, :]
    return float(np.mean(higher + 0.5 * equal))


@exercise_check("AUROC")
def check_auroc(auroc: Callable[[np.ndarray, np.ndarray], float]) -> str:
    """``auroc(scores_in, scores_out)``: the probability that a random outlier scores higher
    than a random inlier (ties count one half), i.e. the area under the ROC curve."""
    rng = fresh_rng()
    cases = [(rng.normal(0, 1, int(rng.integers(40, 60))),
              rng.normal(1, 1, int(rng.integers(20, 40)))),
             (rng.integers(0, 4, int(rng.integers(30, 50))).astype(float),
              rng.integers(1, 5, int(rng.integers(20, 30))).astype(float)),
             (rng.normal(0.5, 1, int(rng.integers(20, 40))),
              rng.normal(0, 1, int(rng.integers(20, 40))))]
    for s_in, s_out in cases:
        out = float(auroc(s_in, s_out))
        right = _reference_auroc(s_in, s_out)
        expect(not (close(out, 1 - right) and not close(right, 0.5)), "the roles are "
               "swapped: a high score (a large reconstruction error) should mean 'outlier'.")
        if not close(out, right):
            strict = np.mean(s_out[:, None] > s_in[None, :])
            expect(not close(out, strict), "ties: a pair with equal scores counts 1/2, "
                   "not 0 (the second test case has many ties).")
            raise Hint(f"expected {right:.4f}, got {out:.4f}. Compare every outlier score "
                       "with every inlier score: mean of (out > in) + 0.5 · (out == in).")
    expect(close(float(auroc(np.zeros(3), np.ones(4))), 1.0), "perfectly separated scores "
           "must give an AUROC of 1.")
    return "correct! 0.5 means the score cannot tell the two sets apart, 1.0 means always."


def _orthonormal_rows(a: np.ndarray) -> np.ndarray:
    q, _ = np.linalg.qr(np.asarray(a, np.float64).T)
    return q.T


@exercise_check("subspace overlap")
def check_subspace_overlap(overlap: Callable[[np.ndarray, np.ndarray], float]) -> str:
    """``overlap(A, B)`` for bases ``A, B: float[D, n]`` (rows span each subspace, not
    necessarily orthonormal): the mean squared cosine of the principal angles, in [0, 1]."""
    rng = fresh_rng()
    for d, n in ((3, int(rng.integers(8, 16))), (int(rng.integers(2, 6)), 7)):
        a = rng.normal(size=(d, n))
        mix = rng.normal(size=(d, d)) + 3 * np.eye(d)  # another basis of the same subspace
        expect(close(float(overlap(a, mix @ a)), 1.0), "the same subspace written in "
               "another basis must give 1: orthonormalise each basis first (np.linalg.qr "
               "of A.T).")
        b = rng.normal(size=(d, n)) + 0.5 * a  # neither orthogonal nor the same
        qa, qb = _orthonormal_rows(a), _orthonormal_rows(b)
        right = float(np.sum((qa @ qb.T) ** 2) / d)
        out = float(overlap(a, b))
        expect(not close(out, np.sqrt(right)), "square the cosines: the answer is "
               "||Qa Qbᵀ||_F² / D, not its square root.")
        expect(close(out, right), f"expected {right:.4f}, got {out:.4f}. With orthonormal "
               "rows Qa, Qb the answer is the squared Frobenius norm of Qa @ Qb.T divided "
               "by D.")
    e = np.eye(12)
    expect(close(float(overlap(e[:3], e[3:6])), 0.0), "orthogonal subspaces must give 0.")
    return "correct! 1 means the same subspace, about D/n means unrelated random ones."


def _sum_squared_error_step(model: nnx.Module, optimizer: nnx.Optimizer, x: jax.Array,
                            key: jax.Array) -> jax.Array:
    """One Adam step on notebook 02's loss, ||x - g(f(x))||^2 summed over pixels."""
    def loss_fn(model: nnx.Module) -> jax.Array:
        return jnp.mean(jnp.sum((x - model(x)) ** 2, axis=-1))

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return loss


@exercise_check("build it: a 2-number code that beats PCA")
def check_beat_pca_2d(make_model: Callable[[nnx.Rngs], nnx.Module]) -> str:
    """``make_model(rngs)``: a fresh autoencoder whose code has 2 numbers.

    The model must have ``encode(x)``: float32[N, 784] -> [N, 2], ``decode(h)``: [N, 2] ->
    [N, 784] in [0, 1], and ``model(x) = decode(encode(x))``. Judged by outcome: the check
    trains it (1,000 steps of 128 training digits, Adam 2e-3, notebook 02's loss) and measures
    the error per pixel on 1,000 random test digits; PCA with 2 components, fit on 10,000
    random training digits, is measured on the same digits. It passes when the model's error is
    at most 0.85 times PCA's. About 15 s on a 2-core CPU.
    """
    b = BUILD_2D
    seed = int(fresh_rng().integers(1 << 30))
    model = make_model(nnx.Rngs(seed))
    for name in ("encode", "decode"):
        expect(callable(getattr(model, name, None)), f"give the model a method `{name}` (and "
               "`__call__` = decode(encode(x))): the check reads the 2 numbers of the code.")
    x_train = load_mnist("train", flatten=True)[0]
    (x_probe,) = random_subset(x_train, n=64, seed=seed)
    h = np.asarray(model.encode(jnp.asarray(x_probe)))
    expect(h.shape == (64, 2), f"encode must give 2 numbers per image: float32[N, 2]; for "
           f"N = 64 it gave shape {h.shape}.")
    out = np.asarray(model(jnp.asarray(x_probe)))
    expect(out.shape == (64, 784), f"the model must return one 784-pixel image per input, got "
           f"shape {out.shape}.")
    expect(bool(np.all((out >= 0) & (out <= 1))), "the reconstructions must lie in [0, 1], "
           "like the pixels: end the decoder with a sigmoid.")
    through_code = np.asarray(model.decode(jnp.asarray(h)))
    expect(np.allclose(out, through_code, atol=1e-5), "model(x) must be decode(encode(x)): "
           "the reconstruction has to pass through the 2-number code.")
    model = train_with_step(model, _sum_squared_error_step, x_train, steps=b["steps"],
                            batch_size=b["batch_size"], learning_rate=b["learning_rate"],
                            seed=seed, who="your model")
    (x_fit,) = random_subset(x_train, n=b["n_pca"], seed=seed)
    (x_test,) = random_subset(load_mnist("test", flatten=True)[0], n=b["n_test"], seed=seed)
    mean = x_fit.mean(axis=0)
    components = np.linalg.svd(x_fit - mean, full_matrices=False)[2][:2]
    pca_error = mse_per_pixel(x_test, mean + (x_test - mean) @ components.T @ components)
    yours = mse_per_pixel(x_test, np.asarray(model(jnp.asarray(x_test))))
    ratio = yours / pca_error
    figures = (f"error per pixel {yours:.4f} against PCA's {pca_error:.4f}, ratio {ratio:.2f} "
               f"(target: at most {b['target_ratio']})")
    expect(ratio <= 1.05 or ratio <= b["target_ratio"], f"{figures}: worse than PCA, the best "
           "linear 2-D code. Does the decoder use the code, and does every layer get trained?")
    expect(ratio <= b["target_ratio"], f"{figures}. A code that is (nearly) a linear function "
           "of the pixels cannot beat PCA, which is the best linear 2-D code: give the encoder "
           "and the decoder hidden layers with a nonlinearity (e.g. 784 → 256 → 128 → 2 with "
           "ReLU, and back).")
    return f"correct! After {b['steps']:,} steps: {figures}."
