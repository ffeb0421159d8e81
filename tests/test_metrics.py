import numpy as np
import pytest

from course_utils.metrics import (
    batched_apply,
    knn_accuracy,
    linear_probe_accuracy,
    mse_per_pixel,
    psnr,
    reconstruction_error,
)


def test_reconstruction_error_is_zero_on_a_perfect_reconstruction():
    x = np.random.default_rng(0).random((4, 28, 28), dtype=np.float32)
    assert np.all(reconstruction_error(x, x) == 0)
    assert mse_per_pixel(x, x.reshape(4, 784)) == 0


def test_reconstruction_error_is_the_per_image_mean_squared_error():
    x = np.zeros((2, 4), np.float32)
    r = np.array([[1, 0, 0, 0], [1, 1, 1, 1]], np.float32)
    np.testing.assert_allclose(reconstruction_error(x, r), [0.25, 1.0])
    assert mse_per_pixel(x, r) == pytest.approx(0.625)


def test_psnr_of_a_known_error():
    x = np.zeros((3, 100), np.float32)
    r = np.full((3, 100), 0.1, np.float32)  # MSE 0.01 → 20 dB
    assert psnr(x, r) == pytest.approx(20.0, abs=1e-4)


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="same images"):
        reconstruction_error(np.zeros((2, 784)), np.zeros((3, 784)))


def test_probes_separate_separable_classes_and_not_noise():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 600)
    f = rng.normal(size=(600, 5)) + 4 * np.eye(3, 5)[y]
    assert linear_probe_accuracy(f[:400], y[:400], f[400:], y[400:]) > 0.95
    assert knn_accuracy(f[:400], y[:400], f[400:], y[400:]) > 0.95
    noise = rng.normal(size=(600, 5))
    assert linear_probe_accuracy(noise[:400], y[:400], noise[400:], y[400:]) < 0.6


def test_probe_rejects_features_and_labels_of_different_lengths():
    with pytest.raises(ValueError, match="train_labels"):
        linear_probe_accuracy(np.zeros((5, 2)), np.zeros(4), np.zeros((2, 2)), np.zeros(2))


def test_batched_apply_equals_one_big_call():
    x = np.arange(25, dtype=np.float32).reshape(5, 5)
    np.testing.assert_array_equal(batched_apply(lambda a: a * 2, x, batch_size=2), x * 2)
