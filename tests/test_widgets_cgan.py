"""The notebook-08 explorers, driven from Python with small fake models (no training needed)."""

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import pytest
from flax import nnx

from course_utils.widgets import cgan_explorer, decode_png, inpainting_explorer


def fake_generator(z, labels):
    """Draws the label as a bright pixel in row 0 (column = label) and the noise's sign below."""
    z, labels = np.asarray(z), np.asarray(labels)
    x = -np.ones((len(z), 28, 28, 1), np.float32)
    x[np.arange(len(z)), 0, labels, 0] = 1.0
    x[:, 5, : z.shape[1], 0] = np.sign(z)
    return x


def read_row_zero(images):
    """A 'classifier' that reads fake_generator's label pixel."""
    return np.asarray(images)[:, 0, :10].argmax(axis=1)


class TinyGenerator(nnx.Module):
    """An NNX module with the notebook's call signature G(z, labels), tanh output."""

    def __init__(self, z_dim, *, rngs):
        self.fc = nnx.Linear(z_dim + 10, 784, rngs=rngs)

    def __call__(self, z, labels):
        h = jnp.concatenate([z, jax.nn.one_hot(labels, 10)], axis=-1)
        return jnp.tanh(self.fc(h)).reshape(-1, 28, 28, 1)


@pytest.fixture
def explorer():
    return cgan_explorer(fake_generator, z_dim=6, n=5, classify=read_row_zero)


def test_the_digit_menu_changes_the_samples_and_the_numbers(explorer):
    assert "asked for <b>0</b>" in explorer.info.value
    before = explorer.images["samples"].value
    explorer.controls["digit"].value = 7
    assert explorer.images["samples"].value != before
    assert "asked for <b>7</b>" in explorer.info.value and "<b>5 of 5</b>" in explorer.info.value
    frame = explorer.frames["samples"]
    assert frame.shape == (28, 5 * 29 - 1)
    # the label pixel of every sample sits in column 7 of its tile
    assert all(frame[0, i * 29 + 7] == 1.0 for i in range(5))
    assert "10 of 10 read as asked" in explorer.info.value


def test_the_noise_slider_redraws_both_rows_and_the_style_row_shows_every_digit(explorer):
    before = {k: v.value for k, v in explorer.images.items()}
    explorer.controls["seed"].value = 3
    assert all(explorer.images[k].value != before[k] for k in before)
    assert "noise seed 3" in explorer.info.value
    styles = explorer.frames["styles"]
    assert styles.shape == (28, 10 * 29 - 1)
    assert [int(np.argmax(styles[0, i * 29 : i * 29 + 10])) for i in range(10)] == list(range(10))
    # the style row repeats the first sample's noise
    first = explorer.frames["samples"][5, :6]
    assert all(np.array_equal(styles[5, i * 29 : i * 29 + 6], first) for i in range(10))


def test_images_hold_the_frames_they_claim(explorer):
    for name, image in explorer.images.items():
        np.testing.assert_allclose(decode_png(image.value, explorer.scale), explorer.frames[name],
                                   atol=1 / 255 + 1e-6)


def test_an_nnx_generator_is_jitted_and_its_tanh_output_mapped_to_zero_one():
    G = TinyGenerator(4, rngs=nnx.Rngs(0))
    exp = cgan_explorer(G, z_dim=4, n=3, classify=lambda x: np.zeros(len(x), int))
    frame = exp.frames["samples"]
    assert 0.0 <= frame.min() and frame.max() <= 1.0
    z = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    want = (np.asarray(G(jnp.asarray(z), jnp.zeros(3, jnp.int32)))[..., 0] + 1) / 2
    np.testing.assert_allclose(frame[:, :28], want[0], atol=1e-5)
    assert "<b>3 of 3</b>" in exp.info.value  # the fake classifier always says 0, asked 0


def test_a_move_draws_no_matplotlib_figure(explorer):
    figures = plt.get_fignums()
    explorer.controls["digit"].value = 4
    explorer.controls["seed"].value = 9
    assert plt.get_fignums() == figures


def test_bad_arguments_say_what_was_wrong():
    with pytest.raises(ValueError, match="z_dim must be a positive int"):
        cgan_explorer(fake_generator, z_dim=0)
    with pytest.raises(ValueError, match="digit must be one of 0..9"):
        cgan_explorer(fake_generator, z_dim=4, digit=10)
    with pytest.raises(ValueError, match="n must be an int in 1..20"):
        cgan_explorer(fake_generator, z_dim=4, n=0)


# ------------------------------------------------------------------------ inpainting explorer
@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    targets = rng.uniform(size=(20, 28, 28)).astype(np.float32)
    inputs = targets.copy()
    inputs[:, 14:] = 0.0
    good, bad = targets.copy(), targets.copy()
    bad[:, 14:] = 0.5
    labels = np.arange(20) % 10
    return inputs, {"good": good, "bad": bad}, targets, labels


def test_inpainting_slider_moves_through_the_digits(arrays):
    inputs, outputs, targets, labels = arrays
    exp = inpainting_explorer(inputs, outputs, targets, per_view=8, labels=labels,
                              classify=lambda x: np.arange(len(x)) % 10)
    assert exp.controls["view"].max == 1  # 20 digits, 8 per view: 2 full views
    frame = exp.frames["digits"]
    assert frame.shape == (4 * 29 - 1, 8 * 29 - 1)  # input, two models, original
    np.testing.assert_allclose(frame[29 * 3 : 29 * 3 + 28, :28], targets[0])
    assert "good: error on the erased rows 0.000" in exp.info.value
    assert "read as the true digit 8/8" in exp.info.value
    before = exp.images["digits"].value
    exp.controls["view"].value = 1
    assert exp.images["digits"].value != before and "digits 8–15" in exp.info.value
    np.testing.assert_allclose(exp.frames["digits"][:28, :28], inputs[8])


def test_inpainting_errors_are_measured_on_the_erased_rows_only(arrays):
    inputs, outputs, targets, _ = arrays
    exp = inpainting_explorer(inputs, outputs, targets, per_view=20)
    want = np.mean(np.abs(outputs["bad"] - targets)[:, 14:])
    assert f"bad: error on the erased rows {want:.3f}" in exp.info.value
    assert "read as" not in exp.info.value  # no labels, no classifier


def test_inpainting_explorer_refuses_mismatched_arrays(arrays):
    inputs, outputs, targets, labels = arrays
    with pytest.raises(ValueError, match="outputs is empty"):
        inpainting_explorer(inputs, {}, targets)
    with pytest.raises(ValueError, match=r"outputs\['good'\] has shape"):
        inpainting_explorer(inputs, {"good": outputs["good"][:5]}, targets)
    with pytest.raises(ValueError, match="labels must have shape"):
        inpainting_explorer(inputs, outputs, targets, labels=labels[:3])


@pytest.mark.parametrize("kwargs, match", [
    ({"z_dim": 10**9}, "z_dim must be a positive int up to 10000"),
    ({"seeds": 10**9}, r"seeds must be an int in 2\.\.10000"),
    ({"digit": True}, "digit must be one of 0..9"),
    ({"scale": 10**9}, r"scale must be an int in 1\.\.16"),
])
def test_out_of_range_settings_give_a_message_not_a_memory_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cgan_explorer(fake_generator, **{"z_dim": 4, **kwargs})


def test_numpy_ints_are_accepted_for_the_sizes():
    explorer = cgan_explorer(fake_generator, z_dim=np.int64(4), n=np.int64(3),
                             digit=np.int64(7), classify=read_row_zero)
    assert explorer.controls["digit"].value == 7


def test_inpainting_per_view_and_scale_are_bounded(arrays):
    inputs, outputs, targets, _ = arrays
    with pytest.raises(ValueError, match="per_view must be a positive int up to 100"):
        inpainting_explorer(inputs, outputs, targets, per_view=10**9)
    with pytest.raises(ValueError, match=r"scale must be an int in 1\.\.16"):
        inpainting_explorer(inputs, outputs, targets, scale=10**9)
