import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from course_utils.models import MLPAutoencoder
from course_utils.train import (
    History,
    NonFiniteLossError,
    fit,
    iterate_batches,
    mse_loss,
    run_training,
)


def low_rank_images(n=1024, rank=3, seed=0):
    """Images that a 3-d code explains exactly: sigmoid of a rank-3 product."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, rank)).astype(np.float32)
    w = rng.normal(size=(rank, 784)).astype(np.float32)
    return 1 / (1 + np.exp(-z @ w))


def small_model(seed=0, latent=3):
    return MLPAutoencoder(latent, hidden=(64,), rngs=nnx.Rngs(seed))


def test_iterate_batches_is_a_deterministic_permutation_without_the_ragged_tail():
    batches = list(iterate_batches(10, 3, seed=1, epoch=0))
    assert [len(b) for b in batches] == [3, 3, 3]
    flat = np.concatenate(batches)
    assert len(set(flat.tolist())) == 9 and flat.max() < 10
    again = np.concatenate(list(iterate_batches(10, 3, seed=1, epoch=0)))
    other_epoch = np.concatenate(list(iterate_batches(10, 3, seed=1, epoch=1)))
    np.testing.assert_array_equal(flat, again)
    assert not np.array_equal(flat, other_epoch)


def test_iterate_batches_with_fewer_examples_than_a_batch_gives_one_batch():
    (only,) = list(iterate_batches(5, 256))
    assert sorted(only.tolist()) == [0, 1, 2, 3, 4]


def test_training_reduces_the_loss_and_records_history():
    x = low_rank_images()
    model = small_model()
    before = float(mse_loss(model, jnp.asarray(x)))
    history = fit(model, x, mse_loss, epochs=8, batch_size=128, learning_rate=3e-3,
                  validation=x[:200], progress=False)
    after = float(mse_loss(model, jnp.asarray(x)))
    assert isinstance(history, History)
    assert history.steps_per_epoch == 8
    assert history.step_loss.shape == (64,)
    assert history.epoch_loss.shape == history.val_loss.shape == (8,)
    assert after < 0.25 * before
    assert history.final_loss == pytest.approx(history.epoch_loss[-1])


def test_same_seed_gives_identical_training_and_other_seed_does_not():
    x = low_rank_images(512)
    runs = []
    for shuffle_seed in (0, 0, 1):
        model = small_model(seed=0)
        h = fit(model, x, mse_loss, epochs=2, batch_size=64, seed=shuffle_seed, progress=False)
        runs.append((h.step_loss, np.asarray(model(jnp.asarray(x[:4])))))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert not np.array_equal(runs[0][0], runs[2][0])


def test_a_nan_loss_stops_training_with_a_clear_error():
    x = low_rank_images(512)

    def exploding_loss(model, x):
        return mse_loss(model, x) * jnp.nan

    with pytest.raises(NonFiniteLossError, match=r"nan at epoch 1, step 1.*learning rate"):
        fit(small_model(), x, exploding_loss, epochs=50, batch_size=64, progress=False)


def test_an_infinite_loss_stops_training_within_a_few_steps():
    calls = []

    def step(state, batch):
        calls.append(1)
        return state, jnp.asarray(jnp.inf if len(calls) > 13 else 1.0)

    with pytest.raises(NonFiniteLossError, match="inf at epoch 2, step 4"):
        run_training(step, None, np.zeros((400, 2)), epochs=5, batch_size=40, progress=False)
    assert len(calls) == 20  # checked after every 10 steps: stops at step 20 of 50


def test_run_training_passes_tuples_of_arrays_batch_by_batch():
    seen = []

    def step(state, batch):
        x, y = batch
        seen.append((x.shape, y.shape))
        np.testing.assert_array_equal(x[:, 0], y)
        return state + 1, jnp.asarray(0.0)

    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    state, history = run_training(step, 0, (x, x[:, 0].copy()), epochs=2, batch_size=5,
                                  progress=False)
    assert state == 4 and seen == [((5, 2), (5,))] * 4


@pytest.mark.parametrize("kwargs, match", [
    ({"epochs": 0}, "epochs must be a positive int"),
    ({"epochs": 1, "batch_size": "64"}, "batch_size must be a positive int"),
    ({"epochs": 1, "learning_rate": -1.0}, "learning_rate must be a positive number"),
    ({"epochs": 1, "learning_rate": float("nan")}, "learning_rate must be a positive number"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit(small_model(), low_rank_images(64), mse_loss, progress=False, **kwargs)


def test_images_must_be_an_array():
    with pytest.raises(TypeError, match="data must be a numpy or jax array"):
        fit(small_model(), [[0.0] * 784], mse_loss, epochs=1, progress=False)


def test_mismatched_tuple_lengths_are_refused():
    with pytest.raises(ValueError, match="same number of examples"):
        run_training(lambda s, b: (s, 0.0), None, (np.zeros((4, 1)), np.zeros((5, 1))), epochs=1)


def test_empty_history_has_no_final_loss():
    with pytest.raises(ValueError, match="empty"):
        _ = History().final_loss


def test_progress_bar_prints_text_outside_a_notebook():
    code = (
        "import numpy as np; from flax import nnx\n"
        "from course_utils.models import MLPAutoencoder\n"
        "from course_utils.train import fit, mse_loss\n"
        "x = np.random.default_rng(0).random((256, 784), dtype=np.float32)\n"
        "h = fit(MLPAutoencoder(2, hidden=(8,), rngs=nnx.Rngs(0)), x, mse_loss, epochs=2,"
        " batch_size=64, desc='demo run')\n"
        "print('done', len(h.step_loss))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"}  # the bar must be on
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "demo run: 2 epochs (8 steps) in" in result.stdout
    assert result.stdout.strip().endswith("done 8")
    assert "demo run" in result.stderr and "8/8" in result.stderr


def test_training_runs_on_the_default_device():
    x = low_rank_images(256)
    model = small_model()
    fit(model, x, mse_loss, epochs=1, batch_size=64, progress=False)
    kernel = model.encoder.net.layers[0].kernel
    assert kernel[...].devices() == {jax.devices()[0]}


def test_fit_trains_a_classifier_on_image_label_tuples():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 600).astype(np.int32)
    x = (rng.normal(size=(600, 8)) + 3 * np.eye(3, 8)[y]).astype(np.float32)
    model = nnx.Linear(8, 3, rngs=nnx.Rngs(0))

    def cross_entropy(model, batch):
        xb, yb = batch
        return optax.softmax_cross_entropy_with_integer_labels(model(xb), yb).mean()

    history = fit(model, (x[:500], y[:500]), cross_entropy, epochs=20, batch_size=100,
                  learning_rate=1e-2, validation=(x[500:], y[500:]), progress=False)
    accuracy = float((np.argmax(np.asarray(model(x[500:])), 1) == y[500:]).mean())
    assert accuracy > 0.9
    assert history.val_loss[-1] < 0.5 * history.val_loss[0]


def test_tqdm_disable_hides_the_bar_but_keeps_the_summary():
    code = (
        "import numpy as np\n"
        "from course_utils.train import run_training\n"
        "run_training(lambda s, b: (s, np.float32(1.0)), 0, np.zeros((64, 2)), epochs=2,"
        " batch_size=8, desc='quiet run')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "TQDM_DISABLE": "1"}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "quiet run: 2 epochs (16 steps)" in result.stdout
    assert "16/16" not in result.stderr


# ------------------------------------------------------------------ the inputs students get wrong
def params(model):
    return [np.asarray(v) for v in jax.tree_util.tree_leaves(nnx.state(model, nnx.Param))]


def test_learning_rate_accepts_numpy_scalar():
    x = low_rank_images(256)
    h_np = fit(small_model(), x, mse_loss, epochs=1, batch_size=64, progress=False,
               learning_rate=np.float32(1e-3))
    h_jnp = fit(small_model(), x, mse_loss, epochs=1, batch_size=64, progress=False,
                learning_rate=jnp.float32(1e-3))
    h_py = fit(small_model(), x, mse_loss, epochs=1, batch_size=64, progress=False,
               learning_rate=float(np.float32(1e-3)))
    np.testing.assert_array_equal(h_np.step_loss, h_py.step_loss)
    np.testing.assert_array_equal(h_jnp.step_loss, h_py.step_loss)


def test_epochs_and_batch_size_accept_numpy_ints():
    x = low_rank_images(256)
    epochs, batch = np.arange(1, 3)[0], np.int64(128)
    history = fit(small_model(), x, mse_loss, epochs=epochs, batch_size=batch, progress=False)
    assert history.steps_per_epoch == 2 and len(history.epoch_loss) == 1


@pytest.mark.parametrize("bad, match", [
    (0.0, "learning_rate must be a positive number"),
    (True, "learning_rate must be a positive number"),
    (float("nan"), "learning_rate must be a positive number"),
])
def test_bad_learning_rates_are_named(bad, match):
    with pytest.raises(ValueError, match=match):
        fit(small_model(), low_rank_images(64), mse_loss, epochs=1, learning_rate=bad,
            progress=False)


def test_validation_shape_checked_before_first_step():
    calls = []

    def counting_loss(model, x):
        calls.append(1)  # runs when the step is traced, i.e. at the first step
        return mse_loss(model, x)

    model = small_model()
    before = params(model)
    x = low_rank_images(256)
    with pytest.raises(ValueError, match=r"validation must have the shape of the training data "
                                         r"after the batch axis: \[N, 784\], got \(16, 28, 28\) "
                                         r"\(flatten with x\.reshape\(len\(x\), -1\)\)"):
        fit(model, x, counting_loss, epochs=1, validation=x[:16].reshape(16, 28, 28),
            progress=False)
    assert calls == [] and all(np.array_equal(a, b)
                               for a, b in zip(before, params(model), strict=True))
    with pytest.raises(ValueError, match="validation must have the form of data"):
        fit(model, (x, np.zeros(256)), counting_loss, epochs=1, validation=x[:16],
            progress=False)
    assert calls == []


def test_fit_on_unflattened_images_says_how_to_flatten():
    x = low_rank_images(256).reshape(-1, 28, 28)
    with pytest.raises(ValueError, match=r"expects flat images \[N, 784\]; flatten with "
                                         r"x\.reshape\(len\(x\), -1\)"):
        fit(small_model(), x, mse_loss, epochs=1, batch_size=64, progress=False)


def test_fit_gives_the_losses_of_a_hand_written_loop_over_the_same_batches():
    x = low_rank_images(300)
    loss_fn = mse_loss
    model = small_model(seed=4)
    history = fit(model, x, loss_fn, epochs=2, batch_size=64, learning_rate=2e-3, seed=7,
                  progress=False)

    reference = small_model(seed=4)
    optimizer = nnx.Optimizer(reference, optax.adam(2e-3), wrt=nnx.Param)
    graphdef, state = nnx.split((reference, optimizer))

    @jax.jit
    def step(state, batch):
        m, opt = nnx.merge(graphdef, state)
        loss, grads = nnx.value_and_grad(loss_fn)(m, batch)
        opt.update(m, grads)
        return nnx.state((m, opt)), loss

    losses = []
    for epoch in range(2):
        order = np.random.default_rng([7, epoch]).permutation(len(x))
        for start in range(0, len(x) - 64 + 1, 64):
            state, loss = step(state, x[order[start : start + 64]])
            losses.append(float(loss))
    np.testing.assert_array_equal(history.step_loss, np.asarray(losses, np.float32))
    nnx.update((reference, optimizer), state)
    for a, b in zip(jax.tree.leaves(nnx.state(model, nnx.Param)),
                    jax.tree.leaves(nnx.state(reference, nnx.Param)), strict=True):
        np.testing.assert_array_equal(a, b)


def test_fit_on_0_255_images_says_divide_by_255():
    model = MLPAutoencoder(4, hidden=(8,), rngs=nnx.Rngs(0))
    x = np.random.default_rng(0).integers(0, 256, (32, 784)).astype(np.float32)
    with pytest.raises(ValueError, match=r"data must hold pixels in \[0, 1\].*/ ?255"):
        fit(model, x, mse_loss, epochs=1, batch_size=16, progress=False)
