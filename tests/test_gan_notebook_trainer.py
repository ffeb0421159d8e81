"""Notebook 06's GANTrainer options that train the shipped DCGAN: the lazy D loss, the running
average of G's weights (`ema_step`, `averaged_generator`), G's loss with InfoGAN's term, and
the R1 penalty on images.

The code under test is the notebook's own (its cells tagged ``defines``, run by
``scripts/notebook_defines.py``), on the small ring MLPs so that each test takes a second.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from notebook_defines import notebook_defines

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "06_gans.ipynb"


@pytest.fixture(scope="module")
def nb():
    return notebook_defines(NOTEBOOK, ["GANTrainer", "MLP", "d_loss_fn", "x_ring", "r1_penalty",
                                       "make_dcgan", "DCGAN_CONFIG", "Discriminator",
                                       "Generator", "g_loss_info", "g_loss_non_saturating",
                                       "INFO_WEIGHT"])


def ring_trainer(nb, **options):
    return nb.GANTrainer(nb.MLP(2, 2, 16, rngs=nnx.Rngs(0)), nb.MLP(2, 1, 16, rngs=nnx.Rngs(1)),
                         nb.x_ring, z_dim=2, batch_size=32, guard=False, **options)


def params(model):
    return jax.tree.leaves(nnx.state(model, nnx.Param))


def test_weight_average_moves_a_fraction_one_minus_decay_towards_g_each_round(nb):
    trainer = ring_trainer(nb, ema_decay=0.75)
    start = params(trainer.models()[0])
    trainer.train(1)
    after_one = params(trainer.models()[0])
    expected = [0.75 * a + 0.25 * b for a, b in zip(start, after_one, strict=True)]
    averaged = params(trainer.averaged_generator())
    assert not np.allclose(start[0], after_one[0])  # G did move
    for got, want in zip(averaged, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    trainer.train(1)
    after_two = params(trainer.models()[0])
    for got, e, w in zip(params(trainer.averaged_generator()), expected, after_two, strict=True):
        np.testing.assert_allclose(got, 0.75 * e + 0.25 * w, rtol=1e-6, atol=1e-7)


def test_averaged_generator_is_a_copy_that_leaves_the_trainer_alone(nb):
    trainer = ring_trainer(nb, ema_decay=0.9)
    trainer.train(3)
    before = params(trainer.models()[0])
    averaged = trainer.averaged_generator()
    assert any(not np.array_equal(a, b) for a, b in zip(params(averaged), before, strict=True))
    for a, b in zip(params(trainer.models()[0]), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_without_ema_decay_no_average_is_kept(nb):
    trainer = ring_trainer(nb)
    trainer.train(2)
    assert trainer.ema is None


def test_lazy_loss_replaces_the_d_loss_on_every_kth_d_step_only(nb):
    def marked_loss(D, x_real, x_fake):  # the usual loss plus 100: its steps stand out
        return nb.d_loss_fn(D, x_real, x_fake) + 100.0

    trainer = ring_trainer(nb, lazy=(3, marked_loss))
    losses = [float(trainer.train_d(1)) for _ in range(7)]
    marked = [i + 1 for i, loss in enumerate(losses) if loss > 50]
    assert marked == [3, 6]
    d_losses, _ = trainer.train(2)  # D steps 8 and 9: the 9th is marked
    assert d_losses[0] < 50 < d_losses[1]


def test_train_uses_the_trainers_g_loss_unless_given_one_by_name(nb):
    def marked_loss(G, D, z):  # the non-saturating loss plus 100: its steps stand out
        return nb.g_loss_non_saturating(G, D, z) + 100.0

    trainer = ring_trainer(nb, g_loss=marked_loss)
    assert float(trainer.train_g(1)) > 50
    assert (trainer.train(2)[1] > 50).all()
    assert float(trainer.train_g(1, loss="non-saturating")) < 50
    assert (trainer.train(2, loss="non-saturating")[1] < 50).all()


def test_r1_penalty_sums_the_squared_gradient_over_every_pixel(nb):
    class Linear:  # D(x) = <w, x>: its gradient is w for every image
        def __init__(self, w):
            self.w = w

        def __call__(self, x):
            return jnp.sum(x * self.w, axis=(1, 2, 3))[:, None]

    w = jax.random.normal(jax.random.key(0), (28, 28, 1))
    x = jax.random.uniform(jax.random.key(1), (5, 28, 28, 1))
    np.testing.assert_allclose(nb.r1_penalty(Linear(w), x), jnp.sum(w**2), rtol=1e-5)


def test_make_dcgan_stabilised_matches_the_config_and_plain_has_neither(nb):
    config = nb.DCGAN_CONFIG
    stabilised = nb.make_dcgan(stabilised=True)
    every, loss = stabilised.lazy
    assert (every, stabilised.ema_decay) == (config["r1_every"], config["ema_decay"])
    assert loss is not stabilised.d_loss
    plain = nb.make_dcgan(stabilised=False)
    assert plain.lazy is None and plain.ema is None
    assert stabilised.models()[0].categories == config["categories"] > 0
    assert plain.models()[0].categories == 0
    assert stabilised.g_loss is nb.g_loss_info and config["info_weight"] == nb.INFO_WEIGHT
    assert plain.g_loss is nb.g_loss_non_saturating


def test_categorical_noise_uses_only_which_of_the_first_entries_is_largest(nb):
    k = 4
    G = nb.Generator(z_dim=10, width=4, categories=k, rngs=nnx.Rngs(0))
    G.eval()
    z = jax.random.normal(jax.random.key(0), (6, 10))
    # the same largest entry among the first k, other values there changed: the same images
    same = z.at[:, :k].set(z[:, :k] - 0.5 * (z[:, :k] < z[:, :k].max(1, keepdims=True)))
    # the largest entry moved to the next place (a roll): other images
    other = z.at[:, :k].set(jnp.roll(z[:, :k], 1, axis=1))
    apply = nnx.jit(lambda G, z: G(z))  # compiled once: the three batches have one shape
    np.testing.assert_array_equal(np.asarray(apply(G, z)), np.asarray(apply(G, same)))
    diff = np.abs(np.asarray(apply(G, z)) - np.asarray(apply(G, other))).reshape(6, -1).max(1)
    assert (diff > 1e-4).all()


def test_info_loss_adds_the_readers_cross_entropy_and_trains_the_reader(nb):
    k = 4
    G = nb.Generator(z_dim=10, width=4, categories=k, rngs=nnx.Rngs(0))
    D = nb.Discriminator(width=4, rngs=nnx.Rngs(1))
    z = jax.random.normal(jax.random.key(0), (8, 10))

    @nnx.jit
    def everything(G, D, z):  # one compiled call: eager convolutions are slow
        logits = G.reader(D.features(G(z)))  # float32[8, k]: the reader's guesses
        picked = jnp.argmax(z[:, :k], axis=1)
        cross_entropy = -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(8), picked])
        return (nb.g_loss_info(G, D, z), nb.g_loss_non_saturating(G, D, z), cross_entropy,
                D(G(z)), D.logit(D.features(G(z))),
                nnx.grad(nb.g_loss_info)(G, D, z).reader.kernel[...],
                nnx.grad(nb.g_loss_non_saturating)(G, D, z).reader.kernel[...])

    info, plain, cross_entropy, d_of_g, logit_of_features, info_grad, plain_grad = everything(
        G, D, z)
    np.testing.assert_allclose(info, plain + nb.INFO_WEIGHT * cross_entropy, rtol=1e-5)
    np.testing.assert_allclose(d_of_g, logit_of_features, rtol=1e-6)
    # the reader learns from the InfoGAN term only
    assert np.abs(info_grad).max() > 1e-6
    assert np.abs(plain_grad).max() == 0
