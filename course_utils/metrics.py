"""Pure functions that measure models: reconstruction error, PSNR, classifier probes, and the
Fréchet distance between feature sets."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_utils import checks

__all__ = [
    "reconstruction_error",
    "mse_per_pixel",
    "psnr",
    "batched_apply",
    "linear_probe_accuracy",
    "knn_accuracy",
    "frechet_distance",
]


def _pair(x: object, x_rec: object, data_range: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    limit = checks.UNIT_RANGE_LIMIT * data_range
    checks.images_in_unit_range("x", np.asarray(x), limit=limit)
    checks.images_in_unit_range("x_rec", np.asarray(x_rec), limit=limit)
    a = np.asarray(x, dtype=np.float32)
    b = np.asarray(x_rec, dtype=np.float32)
    if a.shape[0] != b.shape[0] or a.size != b.size:
        raise ValueError(
            f"x and x_rec must hold the same images, got shapes {a.shape} and {b.shape}"
        )
    return a.reshape(a.shape[0], -1), b.reshape(b.shape[0], -1)


def reconstruction_error(x: object, x_rec: object) -> np.ndarray:
    """Per-image mean squared error: ``x, x_rec: float[N, ...]`` → ``float32[N]`` (per pixel).

    Pixels are in [0, 1]; images that look like 0–255 are refused (divide by 255).
    """
    return _errors(x, x_rec)


def _errors(x: object, x_rec: object, data_range: float = 1.0) -> np.ndarray:
    a, b = _pair(x, x_rec, data_range)
    return np.mean((a - b) ** 2, axis=1)


def mse_per_pixel(x: object, x_rec: object) -> float:
    """Mean squared error per pixel over all images (pixels in [0, 1], so 0 is perfect)."""
    return float(np.mean(reconstruction_error(x, x_rec)))


def psnr(x: object, x_rec: object, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB, averaged over images: 10·log10(range² / MSE).

    ``x, x_rec: float[N, ...]`` with pixels in [0, data_range]; 0–255 images with the default
    ``data_range=1`` are refused (divide by 255, or pass ``data_range=255``).
    """
    data_range = checks.positive_float("data_range", data_range, "1.0 for pixels in [0, 1]")
    err = np.maximum(_errors(x, x_rec, data_range), 1e-12)
    return float(np.mean(10.0 * np.log10(data_range**2 / err)))


def batched_apply(fn: Callable, x: np.ndarray, batch_size: int = 2000) -> np.ndarray:
    """``np.concatenate([fn(x[i:i+batch_size]) ...])``: apply a model over a large array."""
    if len(x) == 0:
        raise ValueError("x is empty")
    batch_size = checks.positive_int("batch_size", batch_size, "try 2000")
    return np.concatenate(
        [np.asarray(fn(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
    )


def linear_probe_accuracy(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    test_features: np.ndarray,
    test_labels: np.ndarray,
    *,
    max_iter: int = 500,
) -> float:
    """Test accuracy in [0, 1] of a logistic-regression classifier fit on ``train_features``.

    Features are standardised with the training set's mean and std first, so codes,
    PCA components and raw pixels are compared on the same footing.
    """
    # scikit-learn takes about 2 s to import: only the probes load it
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.pipeline import make_pipeline  # noqa: PLC0415
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415

    for name, f, y in (("train", train_features, train_labels),
                       ("test", test_features, test_labels)):
        if len(f) != len(y):
            raise ValueError(f"{name}_features has {len(f)} rows but {name}_labels has {len(y)}")
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    clf.fit(np.asarray(train_features), np.asarray(train_labels))
    return float(clf.score(np.asarray(test_features), np.asarray(test_labels)))


def knn_accuracy(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    test_features: np.ndarray,
    test_labels: np.ndarray,
    k: int = 5,
) -> float:
    """Test accuracy in [0, 1] of a k-nearest-neighbour classifier (Euclidean distance)."""
    from sklearn.neighbors import KNeighborsClassifier  # noqa: PLC0415 (slow import, as above)

    clf = KNeighborsClassifier(n_neighbors=k)
    clf.fit(np.asarray(train_features), np.asarray(train_labels))
    return float(clf.score(np.asarray(test_features), np.asarray(test_labels)))


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (as in FID).

    features_a: float[N, F], features_b: float[M, F] (N, M ≥ 2). With means μ and covariances
    Σ of the rows: ‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^½). 0 for identical sets; in the
    squared units of the features. Computed in float64 with a symmetric square root.
    """
    a = np.asarray(features_a, dtype=np.float64)
    b = np.asarray(features_b, dtype=np.float64)
    for name, f in (("features_a", a), ("features_b", b)):
        if f.ndim != 2 or f.shape[0] < 2:
            raise ValueError(f"{name} must be float[N, F] with N ≥ 2 rows, got shape {f.shape}")
        if not np.all(np.isfinite(f)):
            raise ValueError(f"{name} holds NaN or inf values")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"features_a and features_b must have the same number of features, "
                         f"got {a.shape[1]} and {b.shape[1]}")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # Tr((Σa Σb)^½) = Tr((Σa^½ Σb Σa^½)^½): the inner matrix is symmetric positive semidefinite.
    vals, vecs = np.linalg.eigh(np.atleast_2d(cov_a))
    root_a = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    inner = root_a @ np.atleast_2d(cov_b) @ root_a
    trace_root = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0, None)))
    value = np.sum((mu_a - mu_b) ** 2) + np.trace(np.atleast_2d(cov_a)) \
        + np.trace(np.atleast_2d(cov_b)) - 2 * trace_root
    return float(max(value, 0.0))
