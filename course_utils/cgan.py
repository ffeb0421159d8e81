"""Data sets and measurements for notebook 08: conditional GANs and image-to-image translation.

    x = to_tanh(images)                      # [N, 28, 28] in [0, 1] -> [N, 28, 28, 1] in [-1, 1]
    images = from_tanh(generator_output)     # and back, clipped to [0, 1]
    inputs = erase_lower_half(x)             # the inpainting task's input (jax or numpy)
    y_domain = bold_ink(images)              # the second domain of the unpaired section
    xs, ys = unpaired_domains(images)        # two disjoint halves: plain digits, bold-ink digits
    gray_share(images, rows=slice(14, 28))   # share of pixels that are neither ink nor paper
    state, losses = run_steps(step, state, 600, guard=GANGuard())   # a checked training loop

Nothing here trains anything on its own: notebook 08 writes out its models, losses and training
steps itself, and this module only supplies data and measurements.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from course_utils import checks
from course_utils.data import as_digit_images
from course_utils.gan import GANGuard
from course_utils.train import run_loop

__all__ = [
    "ERASED_FROM_ROW",
    "bold_ink",
    "erase_lower_half",
    "from_tanh",
    "gray_share",
    "receptive_field",
    "run_steps",
    "to_tanh",
    "unpaired_domains",
]

ERASED_FROM_ROW = 14  # the inpainting task erases rows 14..27: the lower half of the digit


def to_tanh(images: object) -> np.ndarray:
    """Images in [0, 1] → ``float32[N, 28, 28, 1]`` in [-1, 1], the range of a tanh generator.

    images: ``float[N, 28, 28]`` (or ``[N, 28, 28, 1]`` or ``[N, 784]``) in [0, 1].
    """
    checks.images_in_unit_range("images", np.asarray(images))
    a = as_digit_images(images, "images")
    lo, hi = float(a.min()), float(a.max())
    if lo < -1e-6 or hi > 1 + 1e-6:
        raise ValueError(f"images must be in [0, 1], got values in [{lo:.3f}, {hi:.3f}]; "
                         "they may be in [-1, 1] already")
    return (2.0 * a - 1.0)[..., None]


def from_tanh(x: object) -> np.ndarray:
    """A generator's output ``float[N, 28, 28, 1]`` in [-1, 1] → ``float32[N, 28, 28]`` in [0, 1].

    Values outside [-1, 1] (a generator with a linear output layer) are clipped.
    """
    a = as_digit_images(x, "x")
    if not np.all(np.isfinite(a)):
        raise ValueError("x holds NaN or inf values: the model that made them diverged")
    return np.clip((a + 1.0) / 2.0, 0.0, 1.0)


def erase_lower_half(x, background: float = -1.0):
    """The inpainting input: rows ``ERASED_FROM_ROW`` to 27 of every image set to ``background``.

    x: ``float32[N, 28, 28, 1]`` (numpy or jax; the result has the same type), in [-1, 1] by
    default (``background=-1.0`` is the paper colour there; use 0.0 for images in [0, 1]).
    Usable inside ``jax.jit``.
    """
    if getattr(x, "ndim", None) != 4 or tuple(x.shape[1:]) != (28, 28, 1):
        raise ValueError(f"x must be float32[N, 28, 28, 1], got shape {getattr(x, 'shape', None)}"
                         " (to_tanh adds the channel axis)")
    if isinstance(x, np.ndarray):
        out = x.copy()
        out[:, ERASED_FROM_ROW:] = background
        return out
    return x.at[:, ERASED_FROM_ROW:].set(background)


def bold_ink(images: object) -> np.ndarray:
    """The second domain of the unpaired section: bold black ink on white paper.

    Each white-on-black digit is thickened by one pixel in every direction (a 3 × 3 maximum
    filter, i.e. a morphological dilation) and its colours are inverted.
    images: ``float[N, 28, 28]`` in [0, 1] → ``float32[N, 28, 28]`` in [0, 1].
    """
    a = as_digit_images(images, "images")
    padded = np.pad(a, ((0, 0), (1, 1), (1, 1)))
    thick = a.copy()
    for r in range(3):
        for c in range(3):
            np.maximum(thick, padded[:, r : r + 28, c : c + 28], out=thick)
    return (1.0 - thick).astype(np.float32)


def unpaired_domains(images: object, labels: object | None = None, *, seed: int = 0
                     ) -> tuple[np.ndarray, ...]:
    """Two domains without pairs: plain digits from one half of ``images``, ``bold_ink`` digits
    made from the *other* half, so that no image of one domain has its twin in the other.

    images: ``float[N, 28, 28]`` in [0, 1] with N ≥ 2, shuffled with ``seed`` before the split.
    Returns ``(x_domain, y_domain)``, each ``float32[N // 2, 28, 28]`` in [0, 1]; with
    ``labels: int[N]`` also their labels: ``(x_domain, y_domain, x_labels, y_labels)``.
    """
    a = as_digit_images(images, "images")
    if len(a) < 2:
        raise ValueError(f"images must hold at least 2 images to split, got {len(a)}")
    order = np.random.default_rng(seed).permutation(len(a))
    half = len(a) // 2
    first, second = order[:half], order[half : 2 * half]
    if labels is None:
        return a[first], bold_ink(a[second])
    y = np.asarray(labels)
    if y.shape != (len(a),):
        raise ValueError(f"labels must have shape [{len(a)}], got {y.shape}")
    return a[first], bold_ink(a[second]), y[first], y[second]


def gray_share(images: object, *, rows: slice = slice(None), low: float = 0.2,
               high: float = 0.8) -> float:
    """Share of pixels that are neither paper nor ink: ``low < value < high`` (a blur measure).

    MNIST digits are nearly binary: only their strokes' edges are gray. A model that hedges
    between several possible strokes draws faint, gray ones, and this share goes up.
    images: ``float[N, 28, 28]`` in [0, 1]; rows: which rows to count (``slice(14, 28)``: the
    lower half). Returns a float in [0, 1].
    """
    a = as_digit_images(images, "images")
    if not 0 <= low < high <= 1:
        raise ValueError(f"need 0 ≤ low < high ≤ 1, got low={low}, high={high}")
    part = a[:, rows]
    if part.size == 0:
        raise ValueError(f"rows={rows} selects no pixels of a 28-row image")
    return float(np.mean((part > low) & (part < high)))


def receptive_field(layers: object) -> int:
    """The side of the input patch that one output of a stack of convolutions sees.

    layers: ``[(kernel_size, stride), ...]`` from the input to the output. Each layer widens the
    field by ``(k − 1)`` times the product of the strides before it:
    ``r = 1 + Σ_l (k_l − 1) · Π_{j<l} s_j``.
    """
    pairs = [tuple(p) for p in layers]  # type: ignore[union-attr]
    if not pairs or any(len(p) != 2 or int(p[0]) < 1 or int(p[1]) < 1 for p in pairs):
        raise ValueError(f"layers must be a non-empty list of (kernel_size, stride) pairs of "
                         f"positive ints, got {layers!r}; e.g. [(4, 2), (4, 2), (3, 1)]")
    field, jump = 1, 1
    for k, s in pairs:
        field += (int(k) - 1) * jump
        jump *= int(s)
    return field


def run_steps(step: Callable[[Any, int], tuple[Any, jax.Array, jax.Array]], state: Any,
              steps: int, *, guard: GANGuard | None = None, check_every: int = 100
              ) -> tuple[Any, np.ndarray]:
    """Run ``state, loss_a, loss_b = step(state, i)`` for ``i = 0, 1, ..., steps - 1``.

    The course's one loop, ``course_utils.train.run_loop``: every ``check_every`` steps the
    losses are copied to the host (the only wait for the device in the loop) and checked: a NaN
    or infinite loss stops training with ``NonFiniteLossError`` naming the step ``i``, and a
    ``guard`` (``GANGuard``, with ``loss_a`` the discriminator's loss) adds its own checks.
    Returns the last state and the losses ``float32[steps, 2]``.
    """

    def both(state: Any, i: int) -> tuple[Any, tuple[jax.Array, jax.Array]]:
        state, loss_a, loss_b = step(state, i)
        return state, (loss_a, loss_b)

    def check(chunk: np.ndarray) -> None:
        if guard is not None:
            guard.check(chunk[:, 0], chunk[:, 1])

    return run_loop(both, state, steps, check_every=check_every, on_checked=check,
                    where=lambda i: f"step {i}",
                    hint="Lower the learning rates, or compute log D with log_sigmoid.")
