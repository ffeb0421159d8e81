import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_utils.cgan import (
    ERASED_FROM_ROW,
    bold_ink,
    erase_lower_half,
    from_tanh,
    gray_share,
    receptive_field,
    run_steps,
    to_tanh,
    unpaired_domains,
)
from course_utils.data import load_mnist
from course_utils.gan import DiscriminatorCollapseError, GANGuard, NonFiniteLossError
from course_utils.layers import conv2d


@pytest.fixture(scope="module")
def digits():
    return load_mnist("test", limit=64)


def test_to_tanh_and_from_tanh_are_inverse_and_map_the_ranges(digits):
    x, _ = digits
    t = to_tanh(x)
    assert t.shape == (64, 28, 28, 1) and t.dtype == np.float32
    assert t.min() >= -1 and t.max() <= 1
    np.testing.assert_allclose(t[..., 0], 2 * x - 1, atol=1e-6)
    np.testing.assert_allclose(from_tanh(t), x, atol=1e-6)
    np.testing.assert_allclose(to_tanh(x.reshape(64, 784)), t)  # flat input, same result


def test_from_tanh_clips_a_linear_output_and_refuses_nan():
    out = from_tanh(np.array([[-3.0, 0.0, 2.5] + [0.0] * 781], np.float32))
    assert out.shape == (1, 28, 28)
    np.testing.assert_allclose(out.reshape(-1)[:3], [0.0, 0.5, 1.0])
    with pytest.raises(ValueError, match="NaN"):
        from_tanh(np.full((1, 28, 28, 1), np.nan, np.float32))


def test_to_tanh_refuses_images_already_in_minus_one_one(digits):
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        to_tanh(2 * digits[0] - 1)
    with pytest.raises(ValueError, match=r"\[N, 28, 28\]"):
        to_tanh(np.zeros((3, 27, 28)))


@pytest.mark.parametrize("array", [np.asarray, jnp.asarray], ids=["numpy", "jax"])
def test_erase_lower_half_blanks_exactly_the_lower_rows_and_keeps_the_input(digits, array):
    t = to_tanh(digits[0])
    before = t.copy()
    erased = erase_lower_half(array(t))
    assert type(erased) is type(array(t))
    erased = np.asarray(erased)
    assert np.all(erased[:, ERASED_FROM_ROW:] == -1.0)
    np.testing.assert_array_equal(erased[:, :ERASED_FROM_ROW], t[:, :ERASED_FROM_ROW])
    np.testing.assert_array_equal(t, before)  # the caller's array is not changed
    assert np.all(np.asarray(erase_lower_half(array(t[:2]), background=0.5))[:, 20] == 0.5)


def test_erase_lower_half_wants_a_channel_axis(digits):
    with pytest.raises(ValueError, match="to_tanh adds the channel axis"):
        erase_lower_half(digits[0])


def test_bold_ink_thickens_by_one_pixel_and_inverts():
    x = np.zeros((1, 28, 28), np.float32)
    x[0, 10, 12] = 1.0  # a single white pixel
    y = bold_ink(x)
    assert y.shape == (1, 28, 28) and y.dtype == np.float32
    ink = y[0] < 0.5
    assert ink.sum() == 9 and ink[9:12, 11:14].all()  # a black 3x3 square on white paper
    assert np.all(y[0][~ink] == 1.0)


def test_bold_ink_covers_the_original_strokes_with_more_ink(digits):
    x, _ = digits
    y = bold_ink(x)
    assert np.all(1 - y >= x - 1e-6)  # dilation never removes ink
    assert (1 - y).sum() > 1.5 * x.sum()


def test_unpaired_domains_come_from_disjoint_halves(digits):
    x, labels = digits
    xs, ys, lx, ly = unpaired_domains(x, labels, seed=3)
    assert xs.shape == ys.shape == (32, 28, 28) and lx.shape == ly.shape == (32,)
    # every x-domain image is a test digit; no y-domain image is bold_ink of an x-domain one
    bold_of_x = bold_ink(xs).reshape(32, -1)
    flat_y = ys.reshape(32, -1)
    assert not any(np.array_equal(a, b) for a in bold_of_x for b in flat_y)
    rows = {x[i].tobytes(): labels[i] for i in range(len(x))}
    assert all(rows[img.tobytes()] == lab for img, lab in zip(xs, lx, strict=True))
    xs2, ys2 = unpaired_domains(x, seed=3)
    np.testing.assert_array_equal(xs, xs2)
    np.testing.assert_array_equal(ys, ys2)
    with pytest.raises(ValueError, match="labels must have shape"):
        unpaired_domains(x, labels[:3])


def test_gray_share_counts_only_values_strictly_between_the_bounds():
    x = np.zeros((2, 28, 28), np.float32)
    x[0, 0, :4] = [0.2, 0.5, 0.8, 1.0]
    assert gray_share(x) == pytest.approx(1 / (2 * 784))
    assert gray_share(x, rows=slice(0, 1)) == pytest.approx(1 / 56)
    assert gray_share(x, rows=slice(14, 28)) == 0.0
    with pytest.raises(ValueError, match="low < high"):
        gray_share(x, low=0.8, high=0.2)


def test_blurring_digits_raises_their_gray_share(digits):
    x, _ = digits
    blurred = (x + np.roll(x, 1, axis=2) + np.roll(x, -1, axis=2)) / 3
    assert gray_share(blurred) > 2 * gray_share(x)


def _field_by_probing(layers):
    """The receptive field measured on real strided convolutions: the input rows that the
    gradient of one output reaches."""
    def centre(x):
        for k, s in layers:
            x = conv2d(x, jnp.ones((k, k, 1, 1)), s, "VALID", method="xla")
        return x[0, x.shape[1] // 2, x.shape[2] // 2, 0]

    grad = np.asarray(jax.grad(centre)(jnp.zeros((1, 64, 64, 1))))[0, ..., 0]
    rows = np.flatnonzero(grad.any(axis=1))
    return int(rows.max() - rows.min() + 1)


@pytest.mark.parametrize("layers", [[(3, 1)], [(4, 2), (4, 2), (3, 1)], [(5, 1), (3, 2)],
                                    [(3, 2), (3, 2), (3, 2)], [(7, 3), (2, 2), (1, 1)]])
def test_receptive_field_matches_the_gradient_of_real_convolutions(layers):
    assert receptive_field(layers) == _field_by_probing(layers)


def test_receptive_field_rejects_bad_layers():
    with pytest.raises(ValueError, match="kernel_size, stride"):
        receptive_field([])
    with pytest.raises(ValueError, match="kernel_size, stride"):
        receptive_field([(3, 0)])


def counting_step(state, i):
    """A fake training step: the state counts calls and remembers the indices it was given."""
    return state + [i], jnp.float32(1.0 + i), jnp.float32(-i)


@pytest.mark.parametrize("steps, every", [(1, 100), (250, 100), (7, 3), (100, 100)])
def test_run_steps_calls_every_step_in_order_and_returns_all_losses(steps, every):
    state, losses = run_steps(counting_step, [], steps, check_every=every)
    assert state == list(range(steps))
    assert losses.shape == (steps, 2) and losses.dtype == np.float32
    np.testing.assert_array_equal(losses[:, 0], 1.0 + np.arange(steps))
    np.testing.assert_array_equal(losses[:, 1], -np.arange(steps))


def test_run_steps_stops_at_the_first_non_finite_loss_and_names_its_step():
    def step(state, i):
        return state + 1, jnp.float32(np.nan if i >= 42 else 1.0), jnp.float32(0.0)

    with pytest.raises(NonFiniteLossError, match=r"losses became \[nan, 0.0\] at step 42:"):
        run_steps(step, 0, 300, check_every=50)


def test_run_steps_applies_the_guard_to_a_discriminator_that_has_won():
    def step(state, i):
        return state, jnp.float32(1e-5), jnp.float32(9.0)  # D's loss at 0: it wins outright

    with pytest.raises(DiscriminatorCollapseError):
        run_steps(step, None, 400, guard=GANGuard(patience=150))
    run_steps(step, None, 400)  # without a guard a winning D is allowed (an L1-only baseline)


def test_run_steps_rejects_bad_counts():
    with pytest.raises(ValueError, match="steps must be a positive int"):
        run_steps(counting_step, [], 0)
    with pytest.raises(ValueError, match="check_every"):
        run_steps(counting_step, [], 5, check_every=0)


def test_run_steps_gives_the_losses_of_a_hand_written_loop_of_a_real_gan_step():
    """A tiny GAN on 2-D points, its noise drawn from a key folded with the step index."""
    real = jax.random.normal(jax.random.key(1), (64, 2)) * 0.5 + 2.0

    def losses_fn(params, key):
        z = jax.random.normal(key, (64, 2))
        fake = z @ params["g"]
        d = lambda x: x @ params["d"][:, 0] + params["d"][0, 1]  # noqa: E731
        d_loss = jnp.mean(jax.nn.softplus(-d(real)) + jax.nn.softplus(d(fake)))
        g_loss = jnp.mean(jax.nn.softplus(-d(fake)))
        return d_loss, g_loss

    @jax.jit
    def step_at(params, i):
        key = jax.random.fold_in(jax.random.key(0), i)
        d_grad = jax.grad(lambda p: losses_fn(p, key)[0])(params)["d"]
        g_grad = jax.grad(lambda p: losses_fn(p, key)[1])(params)["g"]
        d_loss, g_loss = losses_fn(params, key)
        return {"d": params["d"] - 0.05 * d_grad, "g": params["g"] - 0.05 * g_grad}, d_loss, g_loss

    start = {"d": jnp.zeros((2, 2)), "g": jnp.eye(2)}
    state, losses = run_steps(step_at, start, 25, guard=GANGuard(), check_every=10)

    params, expected = start, []
    for i in range(25):
        params, d_loss, g_loss = step_at(params, i)
        expected.append((float(d_loss), float(g_loss)))
    np.testing.assert_array_equal(losses, np.asarray(expected, np.float32))
    np.testing.assert_array_equal(state["g"], params["g"])
