"""A small MNIST classifier: the judge behind the course's numbers for generated digits.

    clf = load_classifier()                       # shipped weights: data/mnist_classifier.msgpack
    probs = predict_proba(images)                 # float32[N, 10]
    scores = score_samples(samples)               # Fréchet distance, class shares, confidence
    scores = score_samples(samples, labels=asked) # ... and how often the asked digit came out

A generative model's samples are judged by what a good classifier sees in them (Salimans et al.
2016; Heusel et al. 2017, whose FID uses an ImageNet network; here a network trained on MNIST):

* **Fréchet distance** between Gaussians fitted to the classifier's 128-d features of the samples
  and of the real MNIST test images. It is computed from a finite sample, so even two real sets are
  not at 0: the *floor* (as many real training images as there are samples, against the test set)
  is printed next to it.
* **class shares** of the predicted digits (mode coverage: a collapsed generator makes few digits);
* **confident share**: the fraction classified with probability ≥ 0.9 (recognisable digits).

The classifier (``MNISTClassifier``, three convolutions and two dense layers, ≥ 99 % test accuracy)
is trained by ``train_classifier``; ``python scripts/train_pretrained.py mnist_classifier``
rebuilds the shipped file.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from course_utils import checks
from course_utils.checkpoints import load_pretrained
from course_utils.data import as_digit_images, load_mnist
from course_utils.layers import Conv
from course_utils.metrics import frechet_distance
from course_utils.models import apply_jitted
from course_utils.train import run_training

__all__ = [
    "CLASSIFIER_CONFIG",
    "MNISTClassifier",
    "classifier_features",
    "load_classifier",
    "predict_proba",
    "score_samples",
    "test_accuracy",
    "train_classifier",
]

# What built and trained data/mnist_classifier.msgpack (load_pretrained checks it).
CLASSIFIER_CONFIG: dict[str, Any] = {
    "model": "MNISTClassifier: conv3x3 32, conv3x3/2 64, conv3x3/2 64, dense 128, dense 10; ReLU",
    "epochs": 4,
    "batch_size": 128,
    "learning_rate": 1e-3,
    "schedule": "cosine",
    "augment": "random shifts of up to 2 pixels",
    "seed": 0,
}
FEATURES = 128
CONFIDENT = 0.9


class MNISTClassifier(nnx.Module):
    """x: float32[N, 28, 28] (or [N, 28, 28, 1] or [N, 784]) in [0, 1] → logits float32[N, 10]."""

    def __init__(self, *, rngs: nnx.Rngs):
        self.conv1 = Conv(1, 32, 3, rngs=rngs)  # 28x28
        self.conv2 = Conv(32, 64, 3, strides=2, rngs=rngs)  # -> 14x14
        self.conv3 = Conv(64, 64, 3, strides=2, rngs=rngs)  # -> 7x7
        self.hidden = nnx.Linear(7 * 7 * 64, FEATURES, rngs=rngs)
        self.out = nnx.Linear(FEATURES, 10, rngs=rngs)

    def features(self, x: jax.Array) -> jax.Array:
        """The 128 penultimate activations (ReLU): float32[N, 128] ≥ 0."""
        h = jnp.reshape(x, (x.shape[0], 28, 28, 1))
        h = nnx.relu(self.conv1(h))
        h = nnx.relu(self.conv2(h))
        h = nnx.relu(self.conv3(h))
        return nnx.relu(self.hidden(h.reshape(h.shape[0], -1)))

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.out(self.features(x))


# ----------------------------------------------------------------------------- training
def _random_shifts(x: jax.Array, key: jax.Array, max_shift: int = 2) -> jax.Array:
    """Shift each image of x: float32[N, 28, 28] by up to ``max_shift`` pixels (zeros fill in)."""
    pad = max_shift
    padded = jnp.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    offsets = jax.random.randint(key, (x.shape[0], 2), 0, 2 * pad + 1)

    def crop(img: jax.Array, off: jax.Array) -> jax.Array:
        return jax.lax.dynamic_slice(img, (off[0], off[1]), (28, 28))

    return jax.vmap(crop)(padded, offsets)


def train_classifier(model: MNISTClassifier, *, epochs: int | None = None,
                     limit: int | None = None, seed: int | None = None) -> float:
    """Train ``model`` in place on MNIST train as ``CLASSIFIER_CONFIG`` says; return test accuracy.

    ``epochs``, ``limit`` (the first ``limit`` training images) and ``seed`` override the config
    for quick runs (tests); the shipped checkpoint uses the config's values.
    """
    cfg = CLASSIFIER_CONFIG
    epochs = cfg["epochs"] if epochs is None else epochs
    seed = cfg["seed"] if seed is None else seed
    x, y = load_mnist("train", limit=limit)
    batch = cfg["batch_size"]
    steps_per_epoch = len(x) // batch
    if steps_per_epoch == 0:
        raise ValueError(f"limit={limit} leaves no full batch of {batch} images")
    schedule = optax.cosine_decay_schedule(cfg["learning_rate"], epochs * steps_per_epoch)
    optimizer = nnx.Optimizer(model, optax.adam(schedule), wrt=nnx.Param)
    graphdef, state = nnx.split((model, optimizer))

    def loss_fn(m: MNISTClassifier, images: jax.Array, labels: jax.Array) -> jax.Array:
        return optax.softmax_cross_entropy_with_integer_labels(m(images), labels).mean()

    @jax.jit
    def step(state: Any, images: jax.Array, labels: jax.Array, key: jax.Array):
        m, opt = nnx.merge(graphdef, state)
        loss, grads = nnx.value_and_grad(loss_fn)(m, _random_shifts(images, key), labels)
        opt.update(m, grads)
        return nnx.state((m, opt)), loss

    def train_step(carry: tuple[Any, jax.Array], batch: tuple[jax.Array, jax.Array]):
        state, key = carry
        key, sub = jax.random.split(key)  # one key per step, for the random shifts
        state, loss = step(state, *batch, sub)
        return (state, key), loss

    (state, _), history = run_training(
        train_step, (state, jax.random.key(seed)), (jnp.asarray(x), jnp.asarray(y)),
        epochs=epochs, batch_size=batch, seed=seed, desc="training the MNIST classifier")
    for epoch, mean in enumerate(history.epoch_loss):
        print(f"epoch {epoch + 1}/{epochs}: mean training cross-entropy {mean:.4f}")
    nnx.update((model, optimizer), state)
    acc = test_accuracy(model)
    print(f"MNIST test accuracy: {acc:.2%}")
    return acc


# ----------------------------------------------------------------------------- using it
_LOADED: list[MNISTClassifier] = []
_REFERENCE: dict[tuple, np.ndarray] = {}


def load_classifier() -> MNISTClassifier:
    """The shipped classifier (data/mnist_classifier.msgpack, checksum-checked), loaded once."""
    if not _LOADED:
        model = MNISTClassifier(rngs=nnx.Rngs(0))
        _LOADED.append(load_pretrained(model, "mnist_classifier", config=CLASSIFIER_CONFIG))
    return _LOADED[0]


def _as_images(images: object) -> np.ndarray:
    checks.images_in_unit_range("images", np.asarray(images))
    x = as_digit_images(images)
    if not np.all(np.isfinite(x)):
        raise ValueError("images hold NaN or inf values: the model that made them diverged")
    lo, hi = float(x.min()), float(x.max())
    if lo < -0.01 or hi > 1.01:
        raise ValueError(f"images must be in [0, 1], got values in [{lo:.3f}, {hi:.3f}]; a "
                         f"generator with a tanh output makes [-1, 1]: pass (x + 1) / 2")
    return np.clip(x, 0.0, 1.0)


def _logits_and_features_of(m: MNISTClassifier, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(logits float32[N, 10], features float32[N, 128]) of ``x: float32[N, 28, 28]``."""
    h = m.features(x)
    return m.out(h), h


def _logits_and_features(images: object, model: MNISTClassifier | None,
                         chunk: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    x = _as_images(images)
    model = model if model is not None else load_classifier()
    logits, feats = [], []
    for i in range(0, len(x), chunk):
        part = x[i : i + chunk]
        n = len(part)
        if n < chunk and len(x) > chunk:  # keep one compiled shape for the last chunk
            part = np.concatenate([part, np.zeros((chunk - n, 28, 28), np.float32)])
        lg, ft = apply_jitted(model, jnp.asarray(part), method=_logits_and_features_of)
        logits.append(np.asarray(lg)[:n])
        feats.append(np.asarray(ft)[:n])
    return np.concatenate(logits), np.concatenate(feats)


def predict_proba(images: object, model: MNISTClassifier | None = None) -> np.ndarray:
    """Class probabilities float32[N, 10] for images float32[N, 28, 28] in [0, 1]."""
    logits, _ = _logits_and_features(images, model)
    return np.asarray(jax.nn.softmax(logits, axis=-1))


def classifier_features(images: object, model: MNISTClassifier | None = None) -> np.ndarray:
    """The classifier's 128 penultimate features float32[N, 128] of images in [0, 1]."""
    return _logits_and_features(images, model)[1]


def test_accuracy(model: MNISTClassifier | None = None) -> float:
    """Accuracy in [0, 1] on the 10,000 MNIST test images."""
    x, y = load_mnist("test")
    return float(np.mean(predict_proba(x, model).argmax(axis=1) == y))


test_accuracy.__test__ = False  # a function named test_*, not a test for pytest


def _reference_features(split: str, n: int | None) -> np.ndarray:
    """Features of MNIST ``split`` images (all, or ``n`` drawn without replacement, seed 0)."""
    key = (split, n)
    if key not in _REFERENCE:
        x, _ = load_mnist(split)
        if n is not None:
            x = x[np.random.default_rng(0).choice(len(x), size=min(n, len(x)), replace=False)]
        _REFERENCE[key] = classifier_features(x)
    return _REFERENCE[key]


def score_samples(images: object, *, labels: object | None = None) -> dict[str, Any]:
    """How a generator's samples look to the shipped classifier.

    images: float32[N, 28, 28] (or [N, 28, 28, 1] or [N, 784]) in [0, 1] — a GAN's tanh output x
        is passed as (x + 1) / 2. Use at least a few hundred samples for a stable Fréchet distance.
    labels: optional int[N] in 0..9, the digit each sample was asked to be (conditional models).

    Returns a dict: ``n``; ``frechet`` (Fréchet distance of the features to the 10,000 MNIST test
    images); ``frechet_floor`` (the same for ``n`` real training images: what a perfect generator
    would get at this sample size); ``class_shares`` float[10] (share predicted as each digit,
    sums to 1); ``confident_share`` (share with top probability ≥ 0.9); ``mean_confidence``;
    ``predicted`` int[N]; and, with ``labels``, ``label_accuracy`` (share predicted as asked).
    """
    x = _as_images(images)
    logits, feats = _logits_and_features(x, None)
    probs = np.asarray(jax.nn.softmax(logits, axis=-1))
    predicted = probs.argmax(axis=1)
    confidence = probs.max(axis=1)
    test_feats = _reference_features("test", None)
    scores: dict[str, Any] = {
        "n": len(x),
        "frechet": frechet_distance(feats, test_feats),
        "frechet_floor": frechet_distance(_reference_features("train", len(x)), test_feats),
        "class_shares": np.bincount(predicted, minlength=10) / len(x),
        "confident_share": float(np.mean(confidence >= CONFIDENT)),
        "mean_confidence": float(np.mean(confidence)),
        "predicted": predicted,
    }
    if labels is not None:
        asked = np.asarray(labels)
        if asked.shape != (len(x),) or not np.issubdtype(asked.dtype, np.integer):
            raise ValueError(f"labels must be int[{len(x)}] (one asked-for digit per image), "
                             f"got {asked.dtype} array of shape {asked.shape}")
        if asked.min() < 0 or asked.max() > 9:
            raise ValueError(f"labels must be digits 0..9, got values in [{asked.min()}, "
                             f"{asked.max()}]")
        scores["label_accuracy"] = float(np.mean(predicted == asked))
    return scores
