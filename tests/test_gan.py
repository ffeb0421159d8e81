"""Toy data, the optimal discriminator, mode coverage, the training guard and the sample-quality
report of notebook 06."""

import numpy as np
import pytest

from course_utils.gan import (
    RING_STD,
    DiscriminatorCollapseError,
    GANGuard,
    NonFiniteLossError,
    kde_1d,
    mixture_density_1d,
    mode_coverage,
    optimal_discriminator,
    ring_centers,
    ring_density,
    ring_js_divergence,
    sample_mixture_1d,
    sample_quality_report,
    sample_ring,
)


def test_mixture_samples_match_the_mixture_moments():
    comps = ((0.25, -2.0, 0.5), (0.75, 1.0, 0.3))
    x = sample_mixture_1d(200_000, seed=0, components=comps)
    assert x.dtype == np.float32 and x.shape == (200_000,)
    mean = 0.25 * -2.0 + 0.75 * 1.0
    var = 0.25 * (0.25 + 4.0) + 0.75 * (0.09 + 1.0) - mean**2
    assert abs(x.mean() - mean) < 0.01 and abs(x.var() - var) < 0.02


def test_mixture_density_integrates_to_one_and_is_seed_free():
    grid = np.linspace(-8, 8, 4001)
    assert abs(np.trapezoid(mixture_density_1d(grid), grid) - 1) < 1e-6
    np.testing.assert_array_equal(sample_mixture_1d(5, seed=3), sample_mixture_1d(5, seed=3))


def test_kde_of_many_samples_approaches_the_density():
    grid = np.linspace(-4, 4, 161)
    est = kde_1d(sample_mixture_1d(20_000, seed=1), grid)
    assert abs(np.trapezoid(est, grid) - 1) < 0.01
    assert np.max(np.abs(est - mixture_density_1d(grid))) < 0.03


def test_optimal_discriminator_is_half_where_densities_agree_and_in_unit_interval():
    p = np.array([0.2, 0.0, 0.3, 0.0])
    q = np.array([0.2, 0.5, 0.1, 0.0])
    np.testing.assert_allclose(optimal_discriminator(p, q), [0.5, 0.0, 0.75, 0.5])
    with pytest.raises(ValueError, match="same shape"):
        optimal_discriminator(p, q[:2])


def test_ring_samples_sit_on_their_modes_and_are_all_covered():
    centers = ring_centers()
    assert centers.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(centers, axis=1), 2.0, rtol=1e-6)
    cov = mode_coverage(sample_ring(4000, seed=0))
    assert cov["modes_covered"] == 8 and cov["share_near_a_mode"] > 0.98
    np.testing.assert_allclose(cov["share_per_mode"], 1 / 8, atol=0.02)


def test_ring_density_peaks_at_the_centres():
    centers = ring_centers()
    assert ring_density(centers).min() > 1000 * ring_density(np.zeros((1, 2)))[0]


def test_a_collapsed_generator_covers_one_mode_and_far_samples_none():
    rng = np.random.default_rng(0)
    one = ring_centers()[3] + RING_STD * rng.standard_normal((1000, 2))
    cov = mode_coverage(one)
    assert cov["modes_covered"] == 1 and cov["share_per_mode"][3] > 0.97
    assert mode_coverage(np.zeros((100, 2)))["modes_covered"] == 0
    nan = np.full((10, 2), np.nan)
    assert mode_coverage(nan)["share_near_a_mode"] == 0.0


def test_a_mode_counts_only_above_the_minimum_share():
    centers = ring_centers()
    samples = np.concatenate([np.repeat(centers[:1], 97, axis=0), centers[1:4]])  # 1 % each
    assert mode_coverage(samples, min_share=0.025)["modes_covered"] == 1
    assert mode_coverage(samples, min_share=0.01)["modes_covered"] == 4


def test_guard_stops_on_nan_and_names_the_step():
    guard = GANGuard()
    guard.check([1.3, 1.4], [0.7, 0.7])
    with pytest.raises(NonFiniteLossError, match="step 4"):
        guard.check([1.3, np.nan], [0.7, 0.7])


def test_guard_stops_a_collapsed_discriminator_after_patience_steps_only():
    guard = GANGuard(d_loss_floor=1e-3, patience=50)
    guard.check(np.full(49, 1e-5), np.full(49, 9.0))
    guard.check(0.5, 1.0)  # one normal step resets the count
    guard.check(np.full(49, 1e-5), np.full(49, 9.0))
    with pytest.raises(DiscriminatorCollapseError, match="50 steps"):
        guard.check(1e-5, 9.0)


def test_bad_arguments_say_what_was_wrong():
    with pytest.raises(ValueError, match="positive int"):
        sample_ring(0)
    with pytest.raises(ValueError, match="weight, mean, std"):
        sample_mixture_1d(5, components=(1.0, 2.0))
    with pytest.raises(ValueError, match=r"shape \[n, 2\]"):
        mode_coverage(np.zeros(5))
    with pytest.raises(ValueError, match="d_loss_floor"):
        GANGuard(d_loss_floor=0)


def _scores(shares, confident=0.95):
    return {"n": 1000, "frechet": 12.34, "frechet_floor": 5.67,
            "class_shares": np.asarray(shares, np.float64), "confident_share": confident}


def test_quality_report_states_each_number_and_whether_it_meets_its_target():
    report = sample_quality_report(_scores(np.full(10, 0.1), confident=0.93)).splitlines()
    assert len(report) == 3
    assert "12.3" in report[0] and "5.7" in report[0] and "1,000" in report[0]
    assert "all 10 between 5% and 15%: yes" in report[1] and "9: 10.0%" in report[1]
    assert "93.0%" in report[2] and report[2].endswith("yes")


def test_quality_report_says_no_for_a_dropped_class_or_few_confident_samples():
    shares = np.array([0.0, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    report = sample_quality_report(_scores(shares, confident=0.5)).splitlines()
    assert report[1].endswith("NO") and report[2].endswith("NO")
    edge = sample_quality_report(_scores(np.full(10, 0.1)), share_range=(0.1, 0.2))
    assert edge.splitlines()[1].endswith("yes")  # the range includes its ends


def test_quality_report_rejects_other_dicts_and_bad_ranges():
    with pytest.raises(ValueError, match="score_samples"):
        sample_quality_report({"frechet": 1.0})
    with pytest.raises(ValueError, match="share_range"):
        sample_quality_report(_scores(np.full(10, 0.1)), share_range=(0.2, 0.1))


def test_ring_js_divergence_is_near_zero_for_ring_samples_and_ln2_for_a_centre_blob():
    for seed in range(3):
        assert ring_js_divergence(sample_ring(500, seed=seed)) < 0.01
    assert ring_js_divergence(sample_ring(4000, seed=0)) < 0.002
    blob = 0.3 * np.random.default_rng(0).standard_normal((500, 2))
    assert abs(ring_js_divergence(blob) - np.log(2)) < 0.005


def test_ring_js_divergence_of_one_mode_matches_the_closed_form():
    # all mass on one of 8 equal modes: p = (1/8, ..., 1/8), q = (1, 0, ..., 0) over the modes
    one = ring_centers()[3] + RING_STD * np.random.default_rng(1).standard_normal((500, 2))
    p, q = np.full(8, 1 / 8), np.eye(8)[3]
    m = (p + q) / 2
    exact = 0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.log(q[3] / m[3])
    assert abs(ring_js_divergence(one) - exact) < 0.01 and 0.45 < exact < 0.55


def test_ring_js_divergence_falls_as_samples_move_onto_the_ring():
    blob = 0.3 * np.random.default_rng(2).standard_normal((500, 2))
    ring = sample_ring(500, seed=3)
    values = [ring_js_divergence((1 - a) * blob + a * ring) for a in np.linspace(0, 1, 11)]
    assert np.all(np.diff(values) <= 1e-6) and values[0] - values[-1] > 0.6


def test_ring_js_divergence_ignores_lost_samples_and_checks_its_arguments():
    assert ring_js_divergence(np.full((5, 2), 100.0)) == pytest.approx(np.log(2))
    ring = sample_ring(500, seed=0)
    with_nan = np.concatenate([ring, np.full((3, 2), np.nan)])
    assert ring_js_divergence(with_nan) == pytest.approx(ring_js_divergence(ring))
    with pytest.raises(ValueError, match=r"samples must have shape \[n, 2\]"):
        ring_js_divergence(np.zeros(4))
    with pytest.raises(ValueError, match="bandwidth"):
        ring_js_divergence(ring, bandwidth=0)
    with pytest.raises(ValueError, match="resolution"):
        ring_js_divergence(ring, resolution=10**6)
