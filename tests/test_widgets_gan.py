"""The GAN step-through, driven from Python with a fake session (no training needed)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils.gan import ring_centers, sample_ring
from course_utils.widgets import decode_png, gan_lab_explorer, nb06_gans, render_field
from course_utils.widgets.nb06_gans import (
    ARROW_SHADE,
    ARROW_SHARE,
    GRID_SHADE,
    generator_forces,
    noise_grid,
    render_curve,
)


class OldSession:
    """G's samples move towards the ring by a fixed fraction per generator step; D's boundary
    (a circle) grows with each discriminator step. No one-player training, no noise input."""

    def __init__(self, d_lr, g_lr):
        self.rates, self.td, self.tg, self.calls = (d_lr, g_lr), 0, 0, []
        self.noise = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32) * 0.3

    def train(self, rounds, k, loss):
        self.calls.append((rounds, k, loss))
        self.td += rounds
        self.tg += rounds
        return np.full(rounds, 1.3), np.full(rounds, 0.7)

    def discriminate(self, points):
        return 1 / (1 + np.exp(-(np.linalg.norm(points, axis=1) - 1.0 - 0.01 * self.td)))

    def generate(self, n):
        target = ring_centers()[np.arange(n) % 8]
        a = min(1.0, self.tg / 100)
        return (1 - a) * self.noise[:n] + a * target


class FakeSession(OldSession):
    """``OldSession`` with one-player training and G applied to given noise (a fixed linear
    map that widens with each generator step)."""

    sizes = {"batch_size": 8, "z_dim": 3}

    def train_d(self, steps):
        self.calls.append(("train_d", steps))
        self.td += steps
        return 1.25

    def train_g(self, steps, loss):
        self.calls.append(("train_g", steps, loss))
        self.tg += steps
        return np.full(steps, 0.5)

    def generate_from(self, z):
        z = np.asarray(z)
        assert z.ndim == 2 and z.shape[1] == self.sizes["z_dim"]
        return z[:, :2] * (0.5 + 0.005 * self.tg) + z[:, 2:] * 100.0  # z3 must be 0


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


def _drawn(explorer, points, shade):
    """Whether the picture's pixel at each data point ``float[m, 2]`` has the gray ``shade``."""
    img = explorer.frames["field"]
    h, w = img.shape[:2]
    e = explorer.extent
    cols = np.rint((points[:, 0] + e) / (2 * e) * (w - 1)).astype(int)
    rows = np.rint((e - points[:, 1]) / (2 * e) * (h - 1)).astype(int)
    return np.all(np.abs(img[rows, cols] - shade) < 1e-6, axis=1)


@pytest.fixture
def old_explorer():
    return gan_lab_explorer(OldSession, sample_ring(64, seed=0), resolution=60,
                            rounds_per_frame=10)


def test_d_step_trains_only_d_redraws_and_says_so(explorer):
    before = (explorer.images["field"].value, explorer.images["curve"].value, explorer.info.value)
    explorer.controls["D step"].click()
    assert explorer.session.calls == [("train_d", 10)]
    assert explorer.step_count == 0 and explorer.d_step_count == 10
    assert explorer.images["field"].value != before[0]
    assert explorer.images["curve"].value != before[1]
    assert explorer.info.value != before[2]
    assert "<b>D</b> trained alone" in explorer.info.value
    assert "generator step 0<" in explorer.info.value
    assert "discriminator step 10" in explorer.info.value
    assert "D loss <b>1.250</b>" in explorer.info.value


def test_g_step_trains_only_g_with_the_chosen_loss_and_counts_g_steps(explorer):
    explorer.controls["loss"].value = "saturating"
    before = (explorer.images["field"].value, explorer.info.value)
    explorer.controls["G step"].click()
    assert explorer.session.calls == [("train_g", 10, "saturating")]
    assert explorer.step_count == 10 and explorer.d_step_count == 0
    assert explorer.images["field"].value != before[0] and explorer.info.value != before[1]
    assert "<b>G</b> trained alone" in explorer.info.value
    assert "G loss <b>0.500</b>" in explorer.info.value and "D loss" not in explorer.info.value


def test_step_counts_k_discriminator_steps_per_generator_step(explorer):
    explorer.controls["k"].value = 3
    explorer.controls["step"].click()
    explorer.controls["D step"].click()
    assert (explorer.step_count, explorer.d_step_count) == (10, 40)
    assert "discriminator step 40" in explorer.info.value
    explorer.controls["reset"].click()
    assert (explorer.step_count, explorer.d_step_count) == (0, 0)
    assert "fresh G and D" in explorer.info.value and len(explorer.history) == 1


def test_an_old_session_still_works_without_the_one_player_buttons_or_grid(old_explorer):
    assert "D step" not in old_explorer.controls and "G step" not in old_explorer.controls
    assert "noise grid" not in old_explorer.controls and "gradients" in old_explorer.controls
    labels = [c.description for c in old_explorer.widget.children[0].children]
    assert labels == ["play", "step", "reset"]
    old_explorer.controls["step"].click()
    assert old_explorer.step_count == 10
    assert old_explorer.session.calls == [(10, 1, "non-saturating")]
    assert old_explorer.frames["curve"].shape == (20, 60, 3)
    assert not np.any(np.all(np.abs(old_explorer.frames["field"] - GRID_SHADE) < 1e-6, axis=2))


def test_new_buttons_sit_after_step_so_step_is_the_first_button_named_step(explorer):
    labels = [c.description for c in explorer.widget.children[0].children]
    assert labels == ["play", "step", "D step", "G step", "reset"]


class SpreadSession(FakeSession):
    """Six generated points far apart, so that each arrow can be told from the others."""

    POINTS = np.array([[0.5, 0.0], [0.0, 1.5], [-2.2, 0.3], [0.8, -0.8], [-1.0, -2.0],
                       [1.6, 1.6]])

    def generate(self, n):
        return self.POINTS[np.arange(n) % len(self.POINTS)]


def test_arrows_point_along_grad_d_over_d_with_the_longest_at_eight_percent():
    explorer = gan_lab_explorer(SpreadSession, np.full((6, 2), 2.9), resolution=120,
                                noise_grid=False)
    explorer.controls["D step"].click()
    fake = SpreadSession.POINTS
    c = 1.0 + 0.01 * explorer.session.td
    d = 1 / (1 + np.exp(-(np.linalg.norm(fake, axis=1) - c)))
    outward = fake / np.linalg.norm(fake, axis=1, keepdims=True)
    force = (1 - d)[:, None] * outward  # ∇D / D for D = sigmoid(|x| - c)
    arrows = force * ARROW_SHARE * 2 * explorer.extent / np.linalg.norm(force, axis=1).max()
    along = _drawn(explorer, fake + 0.6 * arrows, ARROW_SHADE)
    against = _drawn(explorer, fake - 0.6 * arrows, ARROW_SHADE)
    assert along.all() and not against.any()
    assert _drawn(explorer, fake + arrows, ARROW_SHADE).all()  # the tips
    long = np.linalg.norm(arrows, axis=1) > 0.25  # the tip's cross reaches one pixel on
    assert long.sum() >= 2 and not _drawn(explorer, (fake + 1.3 * arrows)[long],
                                          ARROW_SHADE).any()
    assert "longest arrow |∇D/D|" in explorer.info.value
    before = (explorer.images["field"].value, explorer.info.value)
    explorer.controls["gradients"].value = False  # redraws at once
    assert explorer.images["field"].value != before[0] and explorer.info.value != before[1]
    assert not _drawn(explorer, fake + 0.6 * arrows, ARROW_SHADE).any()
    assert "longest arrow" not in explorer.info.value
    explorer.controls["gradients"].value = True
    before = explorer.images["field"].value
    explorer.controls["loss"].value = "saturating"  # ∇D / (1 - D) = D · outward: redrawn
    assert explorer.images["field"].value != before
    force = d[:, None] * outward
    arrows = force * ARROW_SHARE * 2 * explorer.extent / np.linalg.norm(force, axis=1).max()
    assert _drawn(explorer, fake + arrows, ARROW_SHADE).all()
    assert "longest arrow |∇D/(1−D)|" in explorer.info.value


def test_generator_forces_match_the_closed_forms_of_both_losses():
    a = np.array([1.5, -0.5])

    def discriminate(x):  # D(x) = sigmoid(a · x): ∇D = D (1 - D) a
        return 1 / (1 + np.exp(-(np.asarray(x, np.float64) @ a)))

    x = np.random.default_rng(0).normal(size=(20, 2))
    d = discriminate(x)[:, None]
    np.testing.assert_allclose(generator_forces(discriminate, x, "non-saturating"),
                               (1 - d) * a, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(generator_forces(discriminate, x, "saturating"), d * a,
                               rtol=1e-3, atol=1e-5)
    with pytest.raises(ValueError, match="loss must be one of"):
        generator_forces(discriminate, x, "wasserstein")


def test_the_noise_grid_draws_g_of_the_noise_lines_and_its_toggle_redraws(explorer):
    explorer.controls["gradients"].value = False
    z = noise_grid(3)
    assert z.shape == (22, 41, 3) and np.all(z[..., 2] == 0)
    np.testing.assert_allclose(z[:11, :, 1], np.linspace(-2, 2, 11)[:, None] + 0 * z[:11, :, 1])
    # G(z) = 0.5 z[:2] (fake): the lines at z1 = ±2, z2 = ±2 are the square of side 2
    square = np.array([[x, 1.0] for x in np.linspace(-0.95, 0.95, 20)]
                      + [[1.0, y] for y in np.linspace(-0.95, 0.95, 20)])
    assert _drawn(explorer, square, GRID_SHADE).mean() > 0.8
    before = explorer.images["field"].value
    explorer.controls["noise grid"].value = False
    assert explorer.images["field"].value != before
    assert _drawn(explorer, square, GRID_SHADE).mean() == 0.0


def test_the_curve_grows_with_frames_and_reads_modes_and_divergence(explorer):
    def right_end():  # the last column with a curve's colour (not white, not a gray rule)
        img = explorer.frames["curve"]
        curve = np.any(np.abs(img - img[..., :1]) > 0.05, axis=2) | np.all(img < 0.5, axis=2)
        return int(np.flatnonzero(curve.any(axis=0)).max())

    ends = [right_end()]
    for _ in range(4):
        explorer.step()
        ends.append(right_end())
    assert np.all(np.diff(ends) > 0)
    assert len(explorer.history) == 5 and [h[0] for h in explorer.history] == [0, 10, 20, 30, 40]
    explorer.controls["gradients"].value = False  # a redraw without training adds no point
    assert len(explorer.history) == 5
    js = [h[3] for h in explorer.history]
    assert js[-1] < js[0]  # the fake generator moves onto the ring


def test_render_curve_puts_values_on_their_rows():
    img = render_curve([0, 8], [np.log(2), 0.0], width=100, height=41)
    red, dark = nb06_gans.hex_rgb(nb06_gans.COVERAGE_COLOR), nb06_gans.hex_rgb(
        nb06_gans.DIVERGENCE_COLOR)
    np.testing.assert_allclose(img[39, 0], red)  # 0 modes: at the bottom
    np.testing.assert_allclose(img[0, 0], dark)  # ln 2: at the top
    x1 = round(1 / (nb06_gans.CURVE_WINDOW - 1) * 99)
    np.testing.assert_allclose(img[0, x1], red)
    assert np.all(img[:, x1 + 2:] >= 0.85)  # nothing drawn right of the last frame
    with pytest.raises(ValueError, match="one length"):
        render_curve([1, 2], [0.1], width=10, height=10)
