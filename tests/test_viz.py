import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from course_utils import viz
from course_utils.train import History


def digits(n=12):
    return np.random.default_rng(0).random((n, 28, 28), dtype=np.float32)


def test_mosaic_tiles_images_with_white_padding():
    m = viz.image_mosaic(digits(12), ncols=5, pad=1)
    assert m.shape == (3 * 29 - 1, 5 * 29 - 1)
    np.testing.assert_array_equal(m[:28, :28], digits(12)[0])
    assert np.all(m[28, :] == 1.0)


@pytest.mark.parametrize("shape", [(12, 784), (12, 28, 28), (12, 28, 28, 1)])
def test_image_grid_accepts_flat_square_and_channel_images(shape):
    fig = viz.plot_image_grid(digits(12).reshape(shape), title="digits")
    assert isinstance(fig, Figure)
    assert fig.axes[0].get_title() == "digits"


def test_image_grid_with_labels_draws_one_captioned_axis_per_image():
    fig = viz.plot_image_grid(digits(4), labels=[1, 2, 3, 4], ncols=2)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["1", "2", "3", "4"]


def test_flat_images_of_non_square_size_are_refused():
    with pytest.raises(ValueError, match="not a square number"):
        viz.plot_image_grid(np.zeros((3, 700)))


def test_label_count_must_match():
    with pytest.raises(ValueError, match="labels has 2 entries for 4 images"):
        viz.plot_image_grid(digits(4), labels=[1, 2])


def test_show_reconstructions_takes_arrays_or_a_model():
    x = digits(10)
    fig = viz.show_reconstructions(x, 1 - x)
    assert [ax.get_ylabel() for ax in fig.axes] == ["original", "reconstruction"]
    shown = fig.axes[1].images[0].get_array()
    np.testing.assert_allclose(shown[:28, :28], 1 - x[0])
    fig2 = viz.show_reconstructions(x, lambda flat: 1 - flat, n=4)
    np.testing.assert_allclose(fig2.axes[1].images[0].get_array()[:28, :28], 1 - x[0])


def test_show_reconstructions_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="reconstructions have shape"):
        viz.show_reconstructions(digits(10), digits(10)[:, :14, :14])


def test_loss_curves_draw_train_and_test_lines_for_histories():
    h = History(epoch_loss=np.array([3.0, 2.0, 1.0]), val_loss=np.array([3.5, 2.5, 1.5]))
    fig = viz.plot_loss_curves({"AE": h, "baseline": [4.0, 3.0]}, logy=True)
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels == ["AE (train)", "AE (test)", "baseline"]
    assert fig.axes[0].get_yscale() == "log"


def test_embedding_scatter_has_one_legend_entry_per_class():
    rng = np.random.default_rng(0)
    fig = viz.plot_embedding(rng.normal(size=(100, 2)), rng.integers(0, 10, 100))
    assert len(fig.axes[0].get_legend().get_texts()) == 10


def test_embedding_needs_two_dimensional_codes():
    with pytest.raises(ValueError, match=r"shape \[N, 2\]"):
        viz.plot_embedding(np.zeros((5, 3)), np.zeros(5))


def test_bars_write_values_and_colour_the_highlighted_model():
    fig = viz.plot_bars({"codes": 0.9, "pixels": 0.8}, errors={"codes": 0.01, "pixels": 0.02},
                        title="t", ylabel="accuracy", highlight=["codes"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["90.0%", "80.0%"]
    assert [to_hex(p.get_facecolor()) for p in ax.patches] == [viz.MODEL_COLOR,
                                                                viz.BASELINE_COLOR]


def test_bar_names_wrap_at_16_characters_and_keep_their_own_line_breaks():
    fig = viz.plot_bars({"plain\n10k steps": 1.0, "a long name for one bar here": 2.0},
                        title="t", ylabel="y")
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["plain\n10k steps", "a long name for\none bar here"]


def test_bars_need_values():
    with pytest.raises(ValueError, match="values is empty"):
        viz.plot_bars({}, title="t", ylabel="y")
