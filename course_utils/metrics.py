"""Pure functions that measure models: reconstruction error, PSNR, classifier probes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _pair(x: object, x_rec: object) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(x, dtype=np.float32)
    b = np.asarray(x_rec, dtype=np.float32)
    if a.shape[0] != b.shape[0] or a.size != b.size:
        raise ValueError(
            f"x and x_rec must hold the same images, got shapes {a.shape} and {b.shape}"
        )
    return a.reshape(a.shape[0], -1), b.reshape(b.shape[0], -1)


def reconstruction_error(x: object, x_rec: object) -> np.ndarray:
    """Per-image mean squared error: ``x, x_rec: float[N, ...]`` → ``float32[N]`` (per pixel)."""
    a, b = _pair(x, x_rec)
    return np.mean((a - b) ** 2, axis=1)


def mse_per_pixel(x: object, x_rec: object) -> float:
    """Mean squared error per pixel over all images (pixels in [0, 1], so 0 is perfect)."""
    return float(np.mean(reconstruction_error(x, x_rec)))


def psnr(x: object, x_rec: object, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB, averaged over images: 10·log10(range² / MSE)."""
    err = np.maximum(reconstruction_error(x, x_rec), 1e-12)
    return float(np.mean(10.0 * np.log10(data_range**2 / err)))


def batched_apply(fn: Callable, x: np.ndarray, batch_size: int = 2000) -> np.ndarray:
    """``np.concatenate([fn(x[i:i+batch_size]) ...])``: apply a model over a large array."""
    if len(x) == 0:
        raise ValueError("x is empty")
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
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

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
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(n_neighbors=k)
    clf.fit(np.asarray(train_features), np.asarray(train_labels))
    return float(clf.score(np.asarray(test_features), np.asarray(test_labels)))
