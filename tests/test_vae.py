"""course_utils.vae: binarization, batched evaluation with keys, the prior grid, latent measures."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from course_utils.vae import (
    active_units,
    binarize,
    empty_cells,
    evaluate_batched,
    in_empty_cell,
    nats_to_bits,
    prior_grid,
)


def test_binarize_draws_each_pixel_with_its_grey_level_and_is_fixed_by_the_seed():
    grey = np.tile(np.array([0.0, 0.25, 0.5, 0.9, 1.0], np.float32), (4000, 1))
    a, b, c = binarize(grey, seed=0), binarize(grey, seed=0), binarize(grey, seed=1)
    assert a.shape == grey.shape and a.dtype == np.float32
    assert set(np.unique(a)) <= {0.0, 1.0}
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.all(a[:, 0] == 0) and np.all(a[:, 4] == 1)  # black stays black, white stays white
    np.testing.assert_allclose(a.mean(axis=0), grey[0], atol=0.03)  # P(pixel = 1) = grey level


@pytest.mark.parametrize("bad, match", [(np.array([[0.5, 1.5]]), r"\[0, 1\]"),
                                        (np.zeros((0, 4)), "N ≥ 1"),
                                        (np.array([[np.nan]]), r"\[0, 1\]")])
def test_binarize_refuses_images_outside_the_unit_interval(bad, match):
    with pytest.raises(ValueError, match=match):
        binarize(bad, seed=0)


def test_binarize_refuses_a_seed_that_is_not_an_int():
    with pytest.raises(ValueError, match="seed must be an int"):
        binarize(np.zeros((2, 3)), seed=0.5)


class Scale(nnx.Module):
    def __init__(self):
        self.w = nnx.Param(jnp.asarray(2.0))


def deterministic(model, x, key):
    return x.sum(-1) * model.w[...], jnp.stack([x[:, 0], x[:, 1]])  # ([n], [2, n])


def noisy(model, x, key):
    return x[:, 0] + jax.random.normal(key, (x.shape[0],))


@pytest.mark.parametrize("n, batch_size", [(10, 3), (10, 10), (7, 100), (1, 1)])
def test_evaluate_batched_joins_batches_on_the_last_axis_like_one_big_call(n, batch_size):
    x = np.random.default_rng(0).random((n, 5), dtype=np.float32)
    total, pair = evaluate_batched(deterministic, Scale(), x, batch_size=batch_size)
    np.testing.assert_allclose(total, 2 * x.sum(-1), rtol=1e-6)
    assert pair.shape == (2, n)
    np.testing.assert_allclose(pair, x[:, :2].T)


def test_evaluate_batched_keys_depend_on_the_seed_and_batch_only():
    x = np.zeros((9, 2), np.float32)
    a = evaluate_batched(noisy, Scale(), x, seed=3, batch_size=4)
    b = evaluate_batched(noisy, Scale(), x, seed=3, batch_size=4)
    c = evaluate_batched(noisy, Scale(), x, seed=4, batch_size=4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert len(set(np.round(a, 5))) == 9  # every image of every batch gets its own draw


def test_evaluate_batched_uses_the_models_current_parameters():
    model, x = Scale(), np.ones((3, 2), np.float32)
    evaluate_batched(deterministic, model, x)
    model.w[...] = jnp.asarray(5.0)
    total, _ = evaluate_batched(deterministic, model, x)
    np.testing.assert_allclose(total, 10.0)


def test_evaluate_batched_refuses_a_bad_batch_size_or_empty_input():
    with pytest.raises(ValueError, match="batch_size"):
        evaluate_batched(deterministic, Scale(), np.ones((3, 2)), batch_size=0)
    with pytest.raises(ValueError, match="at least one"):
        evaluate_batched(deterministic, Scale(), np.ones((0, 2)))


@pytest.mark.parametrize("n, coverage", [(2, 0.5), (5, 0.94), (15, 0.94), (8, 0.99)])
def test_prior_grid_holds_evenly_spaced_quantiles_of_the_standard_normal(n, coverage):
    grid = prior_grid(n, coverage=coverage)
    assert grid.shape == (n * n, 2) and grid.dtype == np.float32
    rows = grid.reshape(n, n, 2)
    assert np.all(np.diff(rows[:, :, 1], axis=0) < 0)  # z2 falls going down the rows
    assert np.all(np.diff(rows[:, :, 0], axis=1) > 0)  # z1 grows along a row
    axis = rows[0, :, 0]
    cdf = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in axis])
    tail = (1 - coverage) / 2
    np.testing.assert_allclose(cdf, np.linspace(tail, 1 - tail, n), atol=1e-5)
    np.testing.assert_allclose(axis, -axis[::-1], atol=1e-5)  # symmetric about 0


def test_prior_grid_refuses_bad_arguments():
    with pytest.raises(ValueError, match="n must be"):
        prior_grid(1)
    with pytest.raises(ValueError, match="coverage"):
        prior_grid(5, coverage=1.0)


def test_active_units_counts_the_dimensions_whose_mean_varies_over_inputs():
    rng = np.random.default_rng(0)
    means = np.concatenate([rng.normal(size=(500, 3)), np.full((500, 2), 0.7),
                            0.05 * rng.normal(size=(500, 1))], axis=1)  # var 1, 0, 0.0025
    assert active_units(means) == 3
    assert active_units(means, threshold=1e-4) == 4
    with pytest.raises(ValueError, match="float"):
        active_units(np.zeros(5))


def test_empty_cells_marks_exactly_the_cells_without_codes():
    codes = np.array([[0.1, 0.1], [0.6, 0.1], [0.6, 0.9]])
    holes = empty_cells(codes, ((0, 1), (0, 1)), cells=2)
    np.testing.assert_array_equal(holes, [[False, True], [False, False]])  # [i along z1, j z2]
    assert holes.mean() == 0.25


def test_in_empty_cell_agrees_with_a_brute_force_check():
    rng = np.random.default_rng(1)
    codes = rng.normal(size=(300, 2)) * 0.6
    limits = ((-2.0, 2.0), (-1.5, 2.5))
    points = rng.uniform((-2, -1.5), (2, 2.5), size=(500, 2))
    cells = 10
    got = in_empty_cell(points, codes, limits, cells=cells)
    w1, w2 = 4.0 / cells, 4.0 / cells
    for p, hole in zip(points, got, strict=True):
        i, j = int((p[0] + 2) // w1), int((p[1] + 1.5) // w2)
        inside = ((codes[:, 0] >= -2 + i * w1) & (codes[:, 0] < -2 + (i + 1) * w1)
                  & (codes[:, 1] >= -1.5 + j * w2) & (codes[:, 1] < -1.5 + (j + 1) * w2))
        assert hole == (not inside.any())


def test_empty_cells_refuses_bad_limits_and_shapes():
    with pytest.raises(ValueError, match="low < high"):
        empty_cells(np.zeros((3, 2)), ((1, 0), (0, 1)))
    with pytest.raises(ValueError, match=r"\[N, 2\]"):
        empty_cells(np.zeros((3, 3)), ((0, 1), (0, 1)))
    with pytest.raises(ValueError, match="limits"):
        empty_cells(np.zeros((3, 2)), (0, 1))


def test_nats_to_bits():
    assert nats_to_bits(math.log(2)) == pytest.approx(1.0)
    assert nats_to_bits(784 * math.log(2)) == pytest.approx(784)
