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


# ---------------------------------------------------------------- Fréchet distance
from course_utils.metrics import frechet_distance  # noqa: E402


def test_frechet_distance_of_a_set_with_itself_is_zero():
    f = np.random.default_rng(0).normal(size=(500, 6))
    assert frechet_distance(f, f) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_of_a_shift_is_the_squared_shift():
    f = np.random.default_rng(1).normal(size=(400, 5))
    shift = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    assert frechet_distance(f, f + shift) == pytest.approx(np.sum(shift**2), rel=1e-6)


@pytest.mark.parametrize("s1, s2", [(1.0, 2.0), (0.5, 3.0), (2.0, 2.0)])
def test_frechet_distance_matches_the_one_dimensional_closed_form(s1, s2):
    # For 1-D Gaussians: (μ1 − μ2)² + (σ1 − σ2)², with the sample moments of the sets
    rng = np.random.default_rng(2)
    a, b = rng.normal(0.0, s1, size=(3000, 1)), rng.normal(1.0, s2, size=(2000, 1))
    expected = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_matches_the_commuting_covariance_closed_form():
    # Diagonal covariances commute: Tr(Σa + Σb − 2(ΣaΣb)^½) = Σ_i (σa_i − σb_i)²
    rng = np.random.default_rng(3)
    a = rng.normal(size=(20000, 3)) * [1.0, 2.0, 3.0]
    b = rng.normal(size=(20000, 3)) * [2.0, 2.0, 1.0] + 1.0
    expected = 3 * 1.0 + (1 - 2) ** 2 + 0 + (3 - 1) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.03)


def test_frechet_distance_is_symmetric_and_grows_with_the_difference():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(300, 8)), rng.normal(size=(300, 8)) * 1.5
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-6)
    assert frechet_distance(a, a * 1.1) < frechet_distance(a, a * 2.0)


@pytest.mark.parametrize("a, b, match", [
    (np.zeros((1, 3)), np.zeros((5, 3)), "features_a must be float\\[N, F\\] with N ≥ 2"),
    (np.zeros((5, 3)), np.zeros((5, 4)), "same number of features"),
    (np.full((5, 3), np.nan), np.zeros((5, 3)), "features_a holds NaN"),
    (np.zeros(5), np.zeros((5, 1)), "features_a must be float\\[N, F\\]"),
])
def test_frechet_distance_refuses_bad_input(a, b, match):
    with pytest.raises(ValueError, match=match):
        frechet_distance(a, b)


@pytest.mark.parametrize("fn", [psnr, mse_per_pixel, reconstruction_error])
def test_0_255_images_say_divide_by_255(fn):
    x = np.random.default_rng(0).random((8, 784), dtype=np.float32)
    with pytest.raises(ValueError, match=r"must hold pixels in \[0, 1\].*/ ?255"):
        fn(x * 255, np.clip(x * 255 + 10, 0, 255))
    with pytest.raises(ValueError, match=r"x must hold pixels in \[0, 1\].*/ ?255"):
        fn(np.rint(x * 255).astype(np.uint8), x)


def test_psnr_with_data_range_255_still_measures_0_255_images():
    x = np.random.default_rng(0).random((8, 784), dtype=np.float32)
    y = np.clip(x + 0.05, 0, 1)
    assert psnr(x * 255, y * 255, data_range=255) == pytest.approx(psnr(x, y), abs=1e-3)
    with pytest.raises(ValueError, match="data_range must be a positive number"):
        psnr(x, y, data_range=0)


def test_unclipped_noisy_images_and_tanh_outputs_are_still_measured():
    rng = np.random.default_rng(0)
    x = rng.random((8, 784), dtype=np.float32)
    noisy = x + rng.standard_normal(x.shape, dtype=np.float32)
    assert mse_per_pixel(x, noisy) == pytest.approx(float(np.mean((x - noisy) ** 2)))
    assert mse_per_pixel(2 * x - 1, x) == pytest.approx(float(np.mean((x - 1) ** 2)))
