"""The GAN step-through, driven from Python with a fake session (no training needed)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils.gan import ring_centers, sample_ring
from course_utils.widgets import decode_png, gan_lab_explorer, render_field


class FakeSession:
    """G's samples move towards the ring by a fixed fraction per generator step."""

    def __init__(self, d_lr, g_lr):
        self.rates, self.t, self.calls = (d_lr, g_lr), 0, []
        self.noise = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32) * 0.3

    def train(self, rounds, k, loss):
        self.calls.append((rounds, k, loss))
        self.t += rounds
        return np.full(rounds, 1.3), np.full(rounds, 0.7)

    def discriminate(self, points):
        return 1 / (1 + np.exp(-(np.linalg.norm(points, axis=1) - 1.0 - 0.01 * self.t)))

    def generate(self, n):
        target = ring_centers()[np.arange(n) % 8]
        a = min(1.0, self.t / 100)
        return (1 - a) * self.noise[:n] + a * target


@pytest.fixture
def explorer():
    return gan_lab_explorer(FakeSession, sample_ring(64, seed=0), resolution=60,
                            rounds_per_frame=10)


def test_clicking_step_trains_and_changes_the_picture_and_counter(explorer):
    before = explorer.images["field"].value
    assert explorer.step_count == 0 and "generator step 0" in explorer.info.value
    explorer.controls["k"].value = 3
    explorer.controls["loss"].value = "saturating"
    explorer.controls["step"].click()
    assert explorer.step_count == 10 and "generator step 10" in explorer.info.value
    assert explorer.session.calls == [(10, 3, "saturating")]
    assert explorer.images["field"].value != before
    assert "D loss <b>1.300</b>" in explorer.info.value
    picture = decode_png(explorer.images["field"].value, explorer.scale)
    np.testing.assert_allclose(picture, explorer.frames["field"], atol=1 / 255 + 1e-6)


def test_play_ticks_step_and_reset_applies_the_rates(explorer):
    explorer.controls["play"].value += 1
    explorer.controls["play"].value += 1
    assert explorer.step_count == 20
    for _ in range(8):
        explorer.step()
    assert "modes covered <b>8 of 8</b>" in explorer.info.value
    explorer.controls["d_lr"].value = 1e-2
    explorer.controls["reset"].click()
    assert explorer.step_count == 0 and explorer.session.rates == (1e-2, 1e-3)


def test_render_field_colours_both_sides_draws_the_contour_and_points():
    prob = np.zeros((40, 40), np.float32)
    prob[:, 20:] = 1.0  # right half says "real"
    img = render_field(prob, real=[[1.5, 1.5]], fake=[[-1.5, -1.5]], extent=3.0)
    assert img.shape == (40, 40, 3) and 0 <= img.min() and img.max() <= 1
    assert img[5, 35, 2] > img[5, 35, 0]  # blue-ish on the real side
    assert img[5, 5, 0] > img[5, 5, 2]  # red-ish on the fake side
    np.testing.assert_allclose(img[5, 20], 0.25)  # the 0.5 contour
    row, col = round((3 - 1.5) / 6 * 39), round((1.5 + 3) / 6 * 39)
    assert not np.allclose(img[row, col], img[row, col + 3])  # a real point is drawn


def test_a_step_draws_no_matplotlib_figure(explorer):
    figures = plt.get_fignums()
    explorer.step()
    assert plt.get_fignums() == figures


def test_bad_arguments_say_what_was_wrong():
    with pytest.raises(ValueError, match=r"float\[n, 2\]"):
        gan_lab_explorer(FakeSession, np.zeros(5))
    with pytest.raises(ValueError, match="d_lr must be one of"):
        gan_lab_explorer(FakeSession, np.zeros((5, 2)), d_lr=0.5)


@pytest.mark.parametrize("kwargs, match", [
    ({"resolution": 10**9}, r"resolution must be an int in 10\.\.1000"),
    ({"resolution": 0}, r"resolution must be an int in 10\.\.1000"),
    ({"extent": 0}, r"extent must be a number in \(0, 1000\]"),
    ({"extent": float("nan")}, r"extent must be a number in \(0, 1000\]"),
    ({"rounds_per_frame": 2.5}, "rounds_per_frame must be an int"),
    ({"scale": 10**9}, r"scale must be an int in 1\.\.16"),
])
def test_out_of_range_settings_give_a_message_not_a_memory_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gan_lab_explorer(FakeSession, np.zeros((5, 2), np.float32), **kwargs)
