"""The reverse-process explorer of notebook 09, driven from Python: the images shown (decoded from
their PNG bytes) must be the frames recorded for the chosen step."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils.viz import image_mosaic
from course_utils.widgets import decode_png, render_points, reverse_process_explorer

ATOL = 1 / 255 + 1e-6  # PNG holds 8-bit pixels
STEPS = (20, 10, 0)


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(0)
    points = {t: rng.normal(scale=1 + t / 10, size=(50, 2)).astype(np.float32) for t in STEPS}
    digits = {t: rng.random((6, 784), dtype=np.float32) for t in STEPS}
    grid = rng.uniform(-2, 2, size=(9, 2)).astype(np.float32)
    fields = {t: (grid, -grid * (t + 1)) for t in STEPS}
    stats = {t: {"noise level": t / 20} for t in STEPS}
    return points, digits, fields, stats


def test_the_slider_shows_the_chosen_steps_points_and_digits(frames):
    points, digits, fields, stats = frames
    explorer = reverse_process_explorer(STEPS, points, digits, fields=fields, stats=stats,
                                        size_px=160, digit_columns=3, digit_scale=2)
    assert explorer.controls["step"].value == 20
    seen = set()
    for t in (0, 10, 20):
        explorer.controls["step"].value = t
        np.testing.assert_allclose(decode_png(explorer.images["digits"].value, 2),
                                   image_mosaic(digits[t], ncols=3), atol=ATOL)
        np.testing.assert_allclose(decode_png(explorer.images["toy"].value),
                                   render_points(points[t], field=fields[t], size_px=160,
                                                 title=f"toy model: samples x_t at t = {t}"),
                                   atol=ATOL)
        assert f"<b>t = {t}</b>" in explorer.info.value
        assert f"noise level <b>{t / 20:.3g}</b>" in explorer.info.value
        seen.add((explorer.images["toy"].value, explorer.images["digits"].value))
    assert len(seen) == 3


def test_render_points_draws_the_points_where_they_are():
    far = render_points(np.array([[2.5, 2.5]] * 20, np.float32), size_px=120)
    near = render_points(np.array([[-2.5, -2.5]] * 20, np.float32), size_px=120)
    assert far.shape == near.shape == (120, 120, 3)
    h, w, _ = far.shape
    red = lambda im: (im[..., 0] > 0.6) & (im[..., 1] < 0.4)  # noqa: E731  the model colour
    rows, cols = np.nonzero(red(far))
    assert rows.mean() < h / 2 and cols.mean() > w / 2  # top right
    rows, cols = np.nonzero(red(near))
    assert rows.mean() > h / 2 and cols.mean() < w / 2  # bottom left


def test_moving_the_slider_draws_no_matplotlib_figure(frames):
    points, digits, _, _ = frames
    explorer = reverse_process_explorer(STEPS, points, digits, size_px=120)
    figures = plt.get_fignums()
    explorer.controls["step"].value = 0
    assert plt.get_fignums() == figures


def test_the_explorer_refuses_missing_or_mismatched_inputs(frames):
    points, digits, fields, _ = frames
    with pytest.raises(ValueError, match="empty"):
        reverse_process_explorer([], points, digits)
    with pytest.raises(ValueError, match="no entry for the steps \\[5\\]"):
        reverse_process_explorer((20, 5), points, digits)
    with pytest.raises(ValueError, match="distinct"):
        reverse_process_explorer((20, 20), points, digits)
    with pytest.raises(ValueError, match="one of the steps"):
        reverse_process_explorer(STEPS, points, digits, value=7)
    with pytest.raises(ValueError, match="fields"):
        reverse_process_explorer(STEPS, points, digits, fields={0: fields[0]})
    with pytest.raises(ValueError, match=r"shape \[n, 2\]"):
        render_points(np.zeros((4, 3)))
