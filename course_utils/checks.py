"""Argument and image checks shared by every function a notebook calls.

Each check returns the value in a normal form and raises a ``ValueError`` (or a ``TypeError``
for a value of the wrong kind) whose message names the argument, shows what it got and says what
to do, e.g. ``latent_dim must be a positive int, got 0 (try 2, 5, 16 or 32)``.

Numbers: Python numbers, NumPy scalars (``np.int64(4)``, ``np.float32(1e-3)``), 0-d arrays and
JAX scalars are all accepted where a number is expected; ``True``/``False`` are not numbers here.

Images: pixels in [0, 1] are the contract of the autoencoders' inputs. Integer pixels above 1
(``uint8`` MNIST as stored on disk) and float pixels far above 1 are refused with the fix
(``x.astype(np.float32) / 255``); the float bound is loose on purpose (``UNIT_RANGE_LIMIT``) so
that valid inputs slightly outside [0, 1] (a linear model's output, unclipped noise) pass.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "UNIT_RANGE_LIMIT",
    "as_flat_images",
    "as_image_batch",
    "as_int",
    "as_number",
    "images_in_unit_range",
    "int_in_range",
    "is_traced",
    "number_in_range",
    "positive_float",
    "positive_int",
    "probability",
]

# Pixels in [0, 1] never exceed this; 0-255 pixels do. Well above 1 so that a linear decoder's
# output or an image with Gaussian noise added before clipping (level ≤ 1) never reaches it.
UNIT_RANGE_LIMIT = 10.0


def _hint(hint: str | None) -> str:
    return f" ({hint})" if hint else ""


def is_traced(value: object) -> bool:
    """True for a value traced inside ``jax.jit`` (it has no concrete value to check)."""
    return isinstance(value, jax.core.Tracer)


def _scalar(value: object) -> object:
    """A 0-d NumPy/JAX array or a NumPy scalar as a NumPy scalar; anything else unchanged."""
    if isinstance(value, np.ndarray | jax.Array | np.generic) and np.ndim(value) == 0:
        return np.asarray(value)[()]
    return value


def as_int(name: str, value: object, hint: str | None = None) -> int:
    """``value`` as a Python int: an int, ``np.integer`` or integer 0-d array / JAX scalar.

    A float with an integral value (``4.0``) is refused too: the caller probably meant something
    else. Raises ``TypeError`` naming ``name``.
    """
    v = _scalar(value)
    if isinstance(v, bool | np.bool_) or not isinstance(v, Integral | np.integer):
        raise TypeError(f"{name} must be an int, got {value!r} of type {type(value).__name__}"
                        f"{_hint(hint)}")
    return int(v)


def positive_int(name: str, value: object, hint: str | None = None) -> int:
    """``value`` as a Python int ≥ 1; a ``ValueError`` naming ``name`` otherwise.

    ``positive_int("latent_dim", 0, "try 2, 5, 16 or 32")`` raises
    ``latent_dim must be a positive int, got 0 (try 2, 5, 16 or 32)``.
    """
    return int_in_range(name, value, 1, None, hint, what="a positive int")


def int_in_range(name: str, value: object, low: int | None = None, high: int | None = None,
                 hint: str | None = None, *, what: str | None = None) -> int:
    """``value`` as a Python int with ``low ≤ value ≤ high`` (a bound of None is open)."""
    if what is None:
        if low is not None and high is not None:
            what = f"an int in {low}..{high}"
        elif low is not None:
            what = f"an int ≥ {low}"
        elif high is not None:
            what = f"an int ≤ {high}"
        else:
            what = "an int"
    try:
        v = as_int(name, value)
    except TypeError:
        raise ValueError(f"{name} must be {what}, got {value!r}{_hint(hint)}") from None
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(f"{name} must be {what}, got {value!r}{_hint(hint)}")
    return v


def as_number(name: str, value: object, hint: str | None = None) -> float:
    """``value`` as a finite Python float: an int, float, NumPy scalar or real 0-d array."""
    v = _scalar(value)
    if isinstance(v, bool | np.bool_) or not isinstance(v, Real | np.integer | np.floating):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}"
                        f"{_hint(hint)}")
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"{name} must be a finite number, got {value!r}{_hint(hint)}")
    return f


def number_in_range(name: str, value: object, low: float | None = None,
                    high: float | None = None, hint: str | None = None, *,
                    low_open: bool = False, high_open: bool = False,
                    what: str | None = None) -> float:
    """``value`` as a finite float in the interval from ``low`` to ``high`` (None: unbounded).

    ``low_open`` / ``high_open`` exclude the end point. Wrong types raise ``ValueError`` too, with
    the same message, so a caller needs to catch one kind of error.
    """
    if what is None:
        left = "(" if low_open or low is None else "["
        right = ")" if high_open or high is None else "]"
        what = (f"a number in {left}{'-inf' if low is None else f'{low:g}'}, "
                f"{'inf' if high is None else f'{high:g}'}{right}")
    try:
        v = as_number(name, value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {what}, got {value!r}{_hint(hint)}") from None
    below = low is not None and (v <= low if low_open else v < low)
    above = high is not None and (v >= high if high_open else v > high)
    if below or above:
        raise ValueError(f"{name} must be {what}, got {value!r}{_hint(hint)}")
    return v


def positive_float(name: str, value: object, hint: str | None = None) -> float:
    """``value`` as a finite float > 0 (``learning_rate``, ``bandwidth``, a scale)."""
    return number_in_range(name, value, 0.0, None, hint, low_open=True,
                           what="a positive number")


def probability(name: str, value: object, hint: str | None = None, *,
                low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a float in [0, 1] (a probability, a fraction or a noise level).

    ``low_open`` / ``high_open`` exclude 0 / 1, e.g. ``probability("rho", rho, low_open=True,
    high_open=True)`` for a target activation strictly between 0 and 1.
    """
    return number_in_range(name, value, 0.0, 1.0, hint, low_open=low_open, high_open=high_open)


def _as_array(name: str, images: object) -> np.ndarray | jax.Array:
    if isinstance(images, np.ndarray | jax.Array):
        return images
    if isinstance(images, list | tuple):
        try:
            return np.asarray(images)
        except ValueError:
            pass
    raise TypeError(f"{name} must be a numpy or jax array, got {type(images).__name__}")


def images_in_unit_range(name: str, images: object, *, limit: float = UNIT_RANGE_LIMIT
                         ) -> np.ndarray | jax.Array:
    """Return ``images`` unchanged if its pixels can be in [0, 1]; raise if they look like 0–255.

    Refused with the fix (divide by 255): integer pixels above 1 (``uint8`` as stored on disk),
    float pixels above ``limit``, and NaN or inf values. Bool and 0/1 integer arrays pass.
    Computes one min and max on the host (or the device for a JAX array): call it once
    before a training loop, never inside a jitted step.
    """
    a = _as_array(name, images)
    if a.size == 0 or is_traced(a) or a.dtype == bool:
        return a
    xp = jnp if isinstance(a, jax.Array) else np
    lo, hi = float(xp.min(a)), float(xp.max(a))
    if xp.issubdtype(a.dtype, xp.integer):
        if hi > 1:
            raise ValueError(
                f"{name} must hold pixels in [0, 1], got {a.dtype} values in [{lo:g}, {hi:g}] "
                f"(0–255 pixels): use {name}.astype(np.float32) / 255")
        return a
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{name} must hold pixels in [0, 1], got NaN or inf values: check where "
                         "these images came from")
    if hi > limit:
        raise ValueError(
            f"{name} must hold pixels in [0, 1], got values up to {hi:g}: these look like "
            f"0–255 pixels, divide by 255 ({name} / 255.0)")
    return a


def as_image_batch(name: str, images: object, size: int = 28) -> np.ndarray:
    """``float32[N, size, size]`` from images given as ``[N, size, size]``, ``[N, size, size, 1]``
    or ``[N, size·size]`` (N ≥ 1); a ``ValueError`` naming ``name`` for any other shape.

    Values are not checked (see ``images_in_unit_range``).
    """
    a = np.asarray(_as_array(name, images), dtype=np.float32)
    if a.ndim == 4 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim == 2 and a.shape[1] == size * size:
        a = a.reshape(-1, size, size)
    if a.ndim != 3 or a.shape[1:] != (size, size) or len(a) == 0:
        raise ValueError(f"{name} must be float32[N, {size}, {size}] (or [N, {size}, {size}, 1] "
                         f"or [N, {size * size}]) with N ≥ 1, got shape {np.shape(images)}")
    return a


def as_flat_images(name: str, images: object, features: int | None = 784
                   ) -> np.ndarray | jax.Array:
    """Images as ``[N, features]``: ``[N, 28, 28]`` and ``[N, 28, 28, 1]`` are flattened.

    ``features=None`` accepts any row length. The array keeps its kind (NumPy or JAX) and dtype;
    a flat array of the right shape is returned as it is. Any other shape raises a
    ``ValueError`` that names ``name``, the expected shape and the fix.
    """
    a = _as_array(name, images)
    if a.ndim >= 3 and a.shape[0] > 0:
        a = a.reshape(a.shape[0], -1)
    if a.ndim != 2 or a.shape[0] == 0 or (features is not None and a.shape[1] != features):
        want = f"[N, {features}]" if features is not None else "[N, features]"
        raise ValueError(f"{name} must be {want} with N ≥ 1 (flat images; flatten with "
                         f"x.reshape(len(x), -1)), got shape {tuple(np.shape(images))}")
    return a
