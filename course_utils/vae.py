"""Helpers for variational autoencoders (notebook 07): binarized digits, batched evaluation with
random keys, the prior's quantile grid, and two measures of a latent space.

The VAE itself — its encoder and decoder, the reparameterisation, the ELBO and the training step —
is written in the notebook; these functions only feed it data and add up what it computes.

    x_bin = binarize(x, seed=0)                        # float32[N, 784] in {0, 1}
    rec, kl = evaluate_batched(elbo_terms, model, x)   # elbo_terms(model, x, key) -> (rec, kl)
    grid = prior_grid(15)                              # float32[225, 2]: quantiles of N(0, I)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from course_utils import checks
from course_utils.models import apply_jitted

__all__ = [
    "active_units",
    "binarize",
    "empty_cells",
    "evaluate_batched",
    "in_empty_cell",
    "nats_to_bits",
    "prior_grid",
]

def _images(name: str, images: object) -> np.ndarray:
    checks.images_in_unit_range(name, np.asarray(images))
    a = np.asarray(images, dtype=np.float32)
    if a.ndim < 2 or a.shape[0] == 0:
        raise ValueError(f"{name} must be float[N, 784] or [N, 28, 28] with N ≥ 1, got shape "
                         f"{a.shape}")
    if not np.all(np.isfinite(a)) or a.min() < 0.0 or a.max() > 1.0:
        raise ValueError(f"{name} must hold pixel values in [0, 1] (load_mnist gives them)")
    return a


def binarize(images: object, *, seed: int) -> np.ndarray:
    """Draw each pixel as 1 with probability equal to its grey level: ``float32`` in {0, 1}.

    images: ``float[N, ...]`` in [0, 1]; returns an array of the same shape. The draw is fixed by
    ``seed`` (a *static* binarization, as in Larochelle & Murray's binarized MNIST, 2011), so the
    same seed always gives the same binary digits and a test set scored twice is the same set.
    """
    seed = checks.int_in_range("seed", seed, 0, None, "e.g. 0 for train, 1 for test")
    x = _images("images", images)
    uniform = np.random.default_rng(int(seed)).random(x.shape, dtype=np.float32)
    return (uniform < x).astype(np.float32)


def evaluate_batched(
    fn: Callable[[nnx.Module, jax.Array, jax.Array], Any],
    model: nnx.Module,
    x: object,
    *,
    seed: int = 0,
    batch_size: int = 1000,
) -> Any:
    """Apply ``fn(model, x_batch, key)`` over ``x`` in batches and join the answers.

    fn: returns an array, or a tuple of arrays, whose **last** axis runs over the images of the
        batch (e.g. ``(rec: float32[n], kl: float32[n])`` or ``log_w: float32[K, n]``).
    x: ``float[N, ...]``. Batch ``i`` gets the key ``fold_in(key(seed, impl="rbg"), i)``, so a
    result depends only on ``seed`` and ``batch_size``. The function is jitted once per ``fn``
    and model structure; the last batch is padded to the same shape and the padding dropped.
    Returns numpy arrays (a tuple if ``fn`` returns one) with the image axis of length N last.
    """
    batch_size = checks.positive_int("batch_size", batch_size, "try 1000")
    seed = checks.int_in_range("seed", seed, hint="e.g. 0")
    data = np.asarray(x, dtype=np.float32)
    if data.ndim < 1 or len(data) == 0:
        raise ValueError(f"x must hold at least one example, got shape {data.shape}")
    base = jax.random.key(seed, impl="rbg")  # XLA's own generator: quick to compile on CPU
    size = min(batch_size, len(data))
    parts: list = []
    for i, start in enumerate(range(0, len(data), size)):
        part = data[start : start + size]
        n = len(part)
        if n < size:
            part = np.concatenate([part, np.zeros((size - n, *part.shape[1:]), np.float32)])
        out = apply_jitted(model, jnp.asarray(part), jax.random.fold_in(base, i), method=fn)
        leaves = out if isinstance(out, tuple) else (out,)
        parts.append(tuple(np.asarray(leaf)[..., :n] for leaf in leaves))
    joined = tuple(np.concatenate(p, axis=-1) for p in zip(*parts, strict=True))
    return joined if isinstance(out, tuple) else joined[0]


def prior_grid(n: int, *, coverage: float = 0.94) -> np.ndarray:
    """An ``n × n`` grid of 2-D codes at evenly spaced quantiles of the standard normal prior.

    Each axis holds the quantiles ``Φ⁻¹(p)`` for ``n`` values of p evenly spaced over the central
    ``coverage`` of the probability (0.94: from the 3rd to the 97th percentile, about ±1.9). Equal
    steps in probability, not in z: every row and column covers the same share of the prior's
    draws (Kingma & Welling's manifold figures). Returns ``float32[n * n, 2]`` in row-major order
    with the **largest** z2 in the first row, so ``image_mosaic(decode(grid), ncols=n)`` is drawn
    with z2 growing upwards, like a plot.
    """
    n = checks.int_in_range("n", n, 2, 1000, "try 15")
    coverage = checks.probability("coverage", coverage, "try 0.94", low_open=True,
                                  high_open=True)
    tail = (1.0 - coverage) / 2
    probabilities = np.linspace(tail, 1.0 - tail, n)
    axis = np.asarray(jax.scipy.special.ndtri(jnp.asarray(probabilities)), np.float32)
    z1, z2 = np.meshgrid(axis, axis[::-1])
    return np.stack([z1.ravel(), z2.ravel()], axis=1)


def active_units(means: object, threshold: float = 0.01) -> int:
    """How many latent dimensions the encoder uses (Burda et al., 2016).

    means: ``float[N, D]``, the encoder's means E_q[z | x] for N inputs. Dimension d is *active*
    when the variance of its mean over the inputs exceeds ``threshold``: an inactive one says the
    same thing for every input, so its posterior is the prior there and its KL term is ~0.
    """
    m = np.asarray(means, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] < 2:
        raise ValueError(f"means must be float[N, D] with N ≥ 2, got shape {m.shape}")
    return int(np.sum(m.var(axis=0) > threshold))


def _cell_edges(limits: object, cells: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        (a0, a1), (b0, b1) = np.asarray(limits, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"limits must be ((z1_low, z1_high), (z2_low, z2_high)), got "
                         f"{limits!r}") from err
    if not (a1 > a0 and b1 > b0):
        raise ValueError(f"limits must be ((low, high), (low, high)) with low < high, got "
                         f"{limits!r}")
    cells = checks.int_in_range("cells", cells, 1, 1000, "try 20")
    return np.linspace(a0, a1, cells + 1), np.linspace(b0, b1, cells + 1)


def _codes_2d(name: str, codes: object) -> np.ndarray:
    c = np.asarray(codes, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] != 2:
        raise ValueError(f"{name} must have shape [N, 2], got {c.shape}")
    return c


def empty_cells(codes: object, limits: object, *, cells: int = 20) -> np.ndarray:
    """Which cells of a ``cells × cells`` grid over the box ``limits`` hold none of the codes.

    codes: ``float[N, 2]``; limits: ``((z1_low, z1_high), (z2_low, z2_high))``, the region one
    would sample from. Returns ``bool[cells, cells]``, entry ``[i, j]`` for the i-th cell along
    z1 and the j-th along z2 (``.mean()`` is the share of the box that is a hole: places where no
    input was encoded, so nothing trained the decoder there).
    """
    c = _codes_2d("codes", codes)
    e1, e2 = _cell_edges(limits, cells)
    counts, _, _ = np.histogram2d(c[:, 0], c[:, 1], bins=(e1, e2))
    return counts == 0


def in_empty_cell(points: object, codes: object, limits: object, *, cells: int = 20
                  ) -> np.ndarray:
    """For each of ``points: float[M, 2]`` inside the box: does it fall in a cell without codes?

    The grid is ``empty_cells(codes, limits, cells=cells)``; points outside the box count as
    in the nearest border cell. Returns ``bool[M]``.
    """
    p = _codes_2d("points", points)
    e1, e2 = _cell_edges(limits, cells)
    holes = empty_cells(codes, limits, cells=cells)
    i = np.clip(np.searchsorted(e1, p[:, 0], side="right") - 1, 0, cells - 1)
    j = np.clip(np.searchsorted(e2, p[:, 1], side="right") - 1, 0, cells - 1)
    return holes[i, j]


def nats_to_bits(nats: float) -> float:
    """Information in bits from nats: 1 nat = 1 / ln 2 ≈ 1.443 bits."""
    return float(nats) / math.log(2.0)
