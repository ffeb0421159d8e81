"""Corruptions for denoising autoencoders: ``x_noisy = add_noise(x, kind="gaussian", level=0.3)``.

Every kind takes a ``level`` in [0, 1] (0 leaves the image unchanged) and returns images in
[0, 1] of the same shape and dtype:

- ``"gaussian"``: add ``level · ε`` with ``ε ~ N(0, 1)`` per pixel, then clip to [0, 1];
  ``level`` is the noise's standard deviation in pixel units (the pixel range is 1).
- ``"salt_and_pepper"``: each pixel, with probability ``level``, becomes 0 or 1 (equally likely).
- ``"masking"``: each pixel, with probability ``level``, is set to 0 (Vincent et al., 2008).

The randomness comes from a JAX key (``key=jax.random.PRNGKey(0)``) or an int ``seed``. With the
same key, a higher level corrupts a superset of the pixels (salt-and-pepper, masking) or scales
the same noise pattern (Gaussian), so a slider over ``level`` changes the images smoothly.
``add_noise`` works inside ``jax.jit`` (``level`` may be a traced scalar; ``kind`` must be a
Python string), so a training step can corrupt every mini-batch afresh.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from course_utils import checks

__all__ = ["NOISE_KINDS", "add_noise"]

NOISE_KINDS: tuple[str, ...] = ("gaussian", "salt_and_pepper", "masking")


def _check_level(level: object) -> None:
    if checks.is_traced(level):
        return  # a traced value inside jit: it cannot be checked here
    checks.probability("level", level, "0 = no noise, 1 = the strongest corruption; try 0.3")


def _key(key: object, seed: object) -> jax.Array:
    if (key is None) == (seed is None):
        raise ValueError("pass exactly one of key (a jax.random key) or seed (an int), "
                         "e.g. add_noise(x, seed=0)")
    if seed is not None:
        return jax.random.PRNGKey(checks.int_in_range("seed", seed, hint="e.g. seed=0"))
    return key  # type: ignore[return-value]


def add_noise(
    x: jax.Array | np.ndarray,
    kind: str = "gaussian",
    level: float | jax.Array = 0.3,
    *,
    key: jax.Array | None = None,
    seed: int | None = None,
) -> jax.Array:
    """Return a corrupted copy of ``x: float32[N, ...] in [0, 1]``, still in [0, 1].

    Pixels that look like 0–255 (integers above 1, floats far above 1) are refused: divide by
    255 first.
    kind: one of ``NOISE_KINDS`` (``"gaussian"``, ``"salt_and_pepper"``, ``"masking"``).
    level: in [0, 1]; the noise's standard deviation (Gaussian) or the fraction of pixels
        corrupted (salt-and-pepper, masking). See the module's docstring.
    key / seed: exactly one: a ``jax.random`` key, or an int seed.
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, NOISE_KINDS))}, "
                         f"got {kind!r}")
    _check_level(level)
    k = _key(key, seed)
    checks.images_in_unit_range("x", x)
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(f"x must hold float pixels in [0, 1], got dtype {x.dtype}")
    level = jnp.asarray(level, x.dtype)
    if kind == "gaussian":
        noise = jax.random.normal(k, x.shape, x.dtype)
        return jnp.clip(x + level * noise, 0.0, 1.0)
    k_where, k_value = jax.random.split(k)
    hit = jax.random.uniform(k_where, x.shape) < level
    if kind == "masking":
        return jnp.where(hit, jnp.zeros_like(x), x)
    salt = jax.random.bernoulli(k_value, 0.5, x.shape).astype(x.dtype)
    return jnp.where(hit, salt, x)
