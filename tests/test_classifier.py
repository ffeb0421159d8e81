"""Tests for course_utils.classifier: the shipped MNIST classifier and the sample scores."""

import gc

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from course_utils import classifier
from course_utils.classifier import (
    MNISTClassifier,
    classifier_features,
    load_classifier,
    predict_proba,
    score_samples,
    test_accuracy,
    train_classifier,
)
from course_utils.data import load_mnist
from course_utils.layers import Conv


@pytest.fixture(scope="module")
def mnist_test():
    return load_mnist("test")


def test_shipped_classifier_is_at_least_99_percent_accurate():
    assert test_accuracy() >= 0.99


def test_classifier_is_built_from_the_course_conv_layers():
    model = MNISTClassifier(rngs=nnx.Rngs(0))
    assert all(isinstance(c, Conv) for c in (model.conv1, model.conv2, model.conv3))
    assert model(jnp.zeros((2, 28, 28))).shape == (2, 10)


@pytest.mark.parametrize("shape", [(5, 28, 28), (5, 28, 28, 1), (5, 784)])
def test_every_image_layout_gives_the_same_probabilities(shape, mnist_test):
    x = mnist_test[0][:5]
    probs = predict_proba(x.reshape(shape))
    assert probs.shape == (5, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(probs, predict_proba(x), rtol=1e-5, atol=1e-6)
    assert classifier_features(x.reshape(shape)).shape == (5, classifier.FEATURES)


def test_chunked_evaluation_equals_one_batch(mnist_test):
    x = mnist_test[0][:1500]  # one full chunk of 1,000 and a padded one of 500
    model = load_classifier()
    direct = np.asarray(jax.nn.softmax(model(jnp.asarray(x)), axis=-1))
    np.testing.assert_allclose(predict_proba(x), direct, rtol=1e-4, atol=1e-5)


def test_real_test_images_score_like_real_data(mnist_test):
    x, y = mnist_test
    scores = score_samples(x[:1000], labels=y[:1000])
    assert scores["n"] == 1000
    assert scores["label_accuracy"] >= 0.98
    assert scores["confident_share"] >= 0.95
    np.testing.assert_allclose(scores["class_shares"].sum(), 1.0)
    true_shares = np.bincount(y[:1000], minlength=10) / 1000
    assert np.abs(scores["class_shares"] - true_shares).max() <= 0.02
    # real test images are about as far from the test set as real train images are
    assert scores["frechet"] <= 2 * scores["frechet_floor"]


def test_noise_and_a_collapsed_generator_score_badly(mnist_test):
    rng = np.random.default_rng(0)
    noise = score_samples(rng.random((500, 28, 28), dtype=np.float32))
    x, y = mnist_test
    ones = x[y == 1][:5]
    collapsed = score_samples(np.repeat(ones, 100, axis=0))  # 500 samples, five distinct 1s
    real = score_samples(x[:500])
    assert noise["frechet"] > 10 * real["frechet_floor"]
    assert collapsed["frechet"] > 5 * real["frechet_floor"]
    assert collapsed["class_shares"][1] == 1.0
    # The classifier is confidently wrong on noise (as classifiers are off their data): the
    # class shares and the Fréchet distance give it away, the confidence alone does not.
    assert noise["class_shares"].max() > 0.5


def test_floor_is_computed_at_the_sample_size(mnist_test):
    small = score_samples(mnist_test[0][:200])["frechet_floor"]
    large = score_samples(mnist_test[0][:2000])["frechet_floor"]
    assert small > large > 0  # fewer samples, larger finite-sample distance


@pytest.mark.parametrize("images, match", [
    (np.zeros((3, 28, 27), np.float32), "images must be float32\\[N, 28, 28\\]"),
    (np.zeros((0, 28, 28), np.float32), "N ≥ 1"),
    (np.full((3, 28, 28), -1.0, np.float32), "pass \\(x \\+ 1\\) / 2"),
    (np.full((3, 28, 28), np.nan, np.float32), "NaN or inf"),
])
def test_bad_images_are_refused_with_a_clear_error(images, match):
    with pytest.raises(ValueError, match=match):
        score_samples(images)


@pytest.mark.parametrize("labels, match", [
    (np.zeros(4, np.int32), "labels must be int\\[3\\]"),
    (np.zeros(3, np.float32), "labels must be int\\[3\\]"),
    (np.array([0, 1, 10]), "digits 0..9"),
])
def test_bad_labels_are_refused_with_a_clear_error(labels, match, mnist_test):
    with pytest.raises(ValueError, match=match):
        score_samples(mnist_test[0][:3], labels=labels)


def test_random_shifts_move_digits_without_losing_ink(mnist_test):
    x = jnp.asarray(mnist_test[0][:16])
    shifted = classifier._random_shifts(x, jax.random.key(0))
    assert shifted.shape == x.shape
    # MNIST digits sit in the central 20x20 box, so a shift of up to 2 pixels keeps every pixel
    np.testing.assert_allclose(shifted.sum(axis=(1, 2)), x.sum(axis=(1, 2)), rtol=1e-5)
    assert not np.allclose(shifted, x)
    np.testing.assert_array_equal(classifier._random_shifts(x, jax.random.key(0), 0), x)


def test_a_short_training_run_learns_far_above_chance():
    model = MNISTClassifier(rngs=nnx.Rngs(1))
    accuracy = train_classifier(model, epochs=1, limit=2560, seed=1)
    assert accuracy > 0.5  # chance is 0.1


def test_training_needs_at_least_one_batch():
    with pytest.raises(ValueError, match="no full batch"):
        train_classifier(MNISTClassifier(rngs=nnx.Rngs(0)), epochs=1, limit=10)


def _eager_proba(model, images):
    return np.asarray(jax.nn.softmax(model(jnp.asarray(images, jnp.float32)), axis=-1))


def test_a_model_changed_after_it_was_scored_is_scored_with_its_new_weights(mnist_test):
    x = mnist_test[0][:64]
    model = MNISTClassifier(rngs=nnx.Rngs(3))
    before = predict_proba(x, model)
    np.testing.assert_allclose(before, _eager_proba(model, x), atol=1e-5)
    params = nnx.state(model, nnx.Param)
    noise = jax.random.normal(jax.random.key(0), (len(jax.tree_util.tree_leaves(params)),))
    nnx.update(model, jax.tree_util.tree_map(
        lambda p, k: p + 0.5 * k, params,
        jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(params), list(noise))))
    after = predict_proba(x, model)
    np.testing.assert_allclose(after, _eager_proba(model, x), atol=1e-5)
    assert np.max(np.abs(after - before)) > 1e-3


def test_a_model_given_a_new_output_layer_after_it_was_scored_is_scored_with_it(mnist_test):
    x = mnist_test[0][:64]
    model = MNISTClassifier(rngs=nnx.Rngs(4))
    before = predict_proba(x, model)
    model.out = nnx.Linear(model.out.in_features, 10, rngs=nnx.Rngs(5))  # a new head
    after = predict_proba(x, model)
    np.testing.assert_allclose(after, _eager_proba(model, x), atol=1e-5)
    assert np.max(np.abs(after - before)) > 1e-3


def test_two_models_built_one_after_the_other_each_get_their_own_scores(mnist_test):
    x = mnist_test[0][:64]
    first = MNISTClassifier(rngs=nnx.Rngs(10))
    p_first, expected_first = predict_proba(x, first), _eager_proba(first, x)
    del first
    gc.collect()  # the second model may now get the first one's id
    second = MNISTClassifier(rngs=nnx.Rngs(11))
    p_second = predict_proba(x, second)
    np.testing.assert_allclose(p_first, expected_first, atol=1e-5)
    np.testing.assert_allclose(p_second, _eager_proba(second, x), atol=1e-5)
    assert np.max(np.abs(p_second - p_first)) > 1e-3


def test_training_gives_the_weights_and_losses_of_a_hand_written_loop(capsys):
    """Same batches, same random shifts, same optimizer: the same weights, bit for bit."""
    model = MNISTClassifier(rngs=nnx.Rngs(3))
    train_classifier(model, epochs=2, limit=384, seed=5)
    printed = capsys.readouterr().out

    reference = MNISTClassifier(rngs=nnx.Rngs(3))
    x, y = load_mnist("train", limit=384)
    batch = classifier.CLASSIFIER_CONFIG["batch_size"]
    steps_per_epoch = len(x) // batch
    schedule = optax.cosine_decay_schedule(classifier.CLASSIFIER_CONFIG["learning_rate"],
                                           2 * steps_per_epoch)
    optimizer = nnx.Optimizer(reference, optax.adam(schedule), wrt=nnx.Param)
    graphdef, state = nnx.split((reference, optimizer))

    def loss_fn(m, images, labels):
        return optax.softmax_cross_entropy_with_integer_labels(m(images), labels).mean()

    @jax.jit
    def step(state, images, labels, key):
        m, opt = nnx.merge(graphdef, state)
        loss, grads = nnx.value_and_grad(loss_fn)(m, classifier._random_shifts(images, key),
                                                  labels)
        opt.update(m, grads)
        return nnx.state((m, opt)), loss

    x_dev, y_dev, key = jnp.asarray(x), jnp.asarray(y), jax.random.key(5)
    for epoch in range(2):
        order = np.random.default_rng([5, epoch]).permutation(len(x))
        losses = []
        for i in range(steps_per_epoch):
            idx = order[i * batch : (i + 1) * batch]
            key, sub = jax.random.split(key)
            state, loss = step(state, x_dev[idx], y_dev[idx], sub)
            losses.append(float(loss))
        assert f"epoch {epoch + 1}/2: mean training cross-entropy {np.mean(losses):.4f}" in printed
    nnx.update((reference, optimizer), state)
    for a, b in zip(jax.tree.leaves(nnx.state(model, nnx.Param)),
                    jax.tree.leaves(nnx.state(reference, nnx.Param)), strict=True):
        np.testing.assert_array_equal(a, b)
