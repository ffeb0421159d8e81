"""Exercise checks for notebook 02, latent dimension."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_utils.exercises.core import Hint, close, exercise_check, expect, fresh_rng

__all__ = ["check_pca_reconstruction", "check_auroc", "check_subspace_overlap"]


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
