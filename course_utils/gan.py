"""Helpers for the GAN notebook (06): toy data sets, the optimal discriminator, mode coverage,
a guard that stops a GAN's training loudly instead of silently, and a report of sample quality.

    x = sample_mixture_1d(512, seed=0)                 # float32[512] from a 1-D Gaussian mixture
    p = mixture_density_1d(grid)                        # its density on a grid
    d_star = optimal_discriminator(p, kde_1d(g_samples, grid))
    ring = sample_ring(512, seed=0)                     # float32[512, 2], 8 Gaussians on a circle
    mode_coverage(g_samples_2d)                         # {"modes_covered": 7, ...}
    ring_js_divergence(g_samples_2d)                    # 0.05 nats: close to the ring
    guard = GANGuard()
    guard.check(d_losses, g_losses)                     # raises on NaN/inf or a collapsed D
    print(sample_quality_report(score_samples(x01)))    # the classifier's verdict, with targets

The models, losses and training steps are written out in the notebook itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course_utils import checks
from course_utils.train import NonFiniteLossError

__all__ = [
    "MIXTURE_1D",
    "RING_RADIUS",
    "RING_STD",
    "DiscriminatorCollapseError",
    "GANGuard",
    "NonFiniteLossError",
    "kde_1d",
    "mixture_density_1d",
    "mode_coverage",
    "optimal_discriminator",
    "ring_centers",
    "ring_density",
    "ring_js_divergence",
    "sample_mixture_1d",
    "sample_quality_report",
    "sample_ring",
]

# A 1-D mixture: (weight, mean, standard deviation) of each component.
MIXTURE_1D: tuple[tuple[float, float, float], ...] = ((0.5, -1.5, 0.5), (0.5, 1.5, 0.5))
RING_RADIUS = 2.0  # radius of the circle on which the 8 Gaussians sit
RING_STD = 0.05  # standard deviation of each of them


def _components(components: Sequence[tuple[float, float, float]]) -> np.ndarray:
    c = np.asarray(components, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] != 3 or c.shape[0] == 0:
        raise ValueError("components must be a sequence of (weight, mean, std) triples, "
                         f"got shape {c.shape}; e.g. ((0.5, -1.5, 0.5), (0.5, 1.5, 0.5))")
    if np.any(c[:, 0] < 0) or np.any(c[:, 2] <= 0) or c[:, 0].sum() <= 0:
        raise ValueError("weights must be ≥ 0 (not all 0) and standard deviations > 0, "
                         f"got {components}")
    c[:, 0] /= c[:, 0].sum()
    return c


def _check_n(n: object) -> int:
    return checks.positive_int("n", n, "try 256 or 512")


def sample_mixture_1d(n: int, *, seed: int = 0,
                      components: Sequence[tuple[float, float, float]] = MIXTURE_1D) -> np.ndarray:
    """``n`` samples ``float32[n]`` from a 1-D Gaussian mixture of (weight, mean, std) triples.

    A single Gaussian is the mixture with one component: ``components=((1.0, 2.0, 0.5),)``.
    """
    n, c = _check_n(n), _components(components)
    rng = np.random.default_rng(seed)
    k = rng.choice(len(c), size=n, p=c[:, 0])
    return (c[k, 1] + c[k, 2] * rng.standard_normal(n)).astype(np.float32)


def mixture_density_1d(x: object, components: Sequence[tuple[float, float, float]] = MIXTURE_1D
                       ) -> np.ndarray:
    """The mixture's density at each point of ``x: float[...]`` (same shape, float64)."""
    c = _components(components)
    x = np.asarray(x, np.float64)[..., None]
    z = (x - c[:, 1]) / c[:, 2]
    return np.sum(c[:, 0] * np.exp(-0.5 * z**2) / (c[:, 2] * np.sqrt(2 * np.pi)), axis=-1)


def kde_1d(samples: object, grid: object, bandwidth: float | None = None) -> np.ndarray:
    """A Gaussian kernel density estimate of ``samples: float[n]`` at ``grid: float[m]``.

    bandwidth: the kernel's standard deviation; by default Silverman's rule
    ``0.9 · min(std, IQR/1.34) · n^(-1/5)``. Returns ``float64[m]`` (integrates to 1).
    """
    s = np.asarray(samples, np.float64).ravel()
    if s.size == 0 or not np.all(np.isfinite(s)):
        raise ValueError("samples must be a non-empty array of finite numbers")
    if bandwidth is None:
        iqr = np.subtract(*np.percentile(s, [75, 25]))
        spread = min(s.std(), iqr / 1.34) if iqr > 0 else s.std()
        bandwidth = max(0.9 * spread * s.size ** (-0.2), 1e-3)
    bandwidth = checks.positive_float("bandwidth", bandwidth, "or None to choose it")
    z = (np.asarray(grid, np.float64)[:, None] - s[None, :]) / bandwidth
    return np.exp(-0.5 * z**2).sum(axis=1) / (s.size * bandwidth * np.sqrt(2 * np.pi))


def optimal_discriminator(p_data: object, p_model: object, eps: float = 1e-12) -> np.ndarray:
    """``D*(x) = p_data(x) / (p_data(x) + p_g(x))`` from the two densities at the same points.

    Where both densities are (almost) zero, D* is undefined; we return 0.5 there.
    """
    p, q = np.asarray(p_data, np.float64), np.asarray(p_model, np.float64)
    if p.shape != q.shape:
        raise ValueError(f"p_data and p_model must have the same shape, got {p.shape}, {q.shape}")
    if np.any(p < 0) or np.any(q < 0):
        raise ValueError("densities must be ≥ 0")
    total = p + q
    return np.where(total > eps, p / np.maximum(total, eps), 0.5)


def ring_centers(n_modes: int = 8, radius: float = RING_RADIUS) -> np.ndarray:
    """The centres ``float32[n_modes, 2]`` of the ring's Gaussians, the first at (radius, 0)."""
    n_modes = _check_n(n_modes)
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def sample_ring(n: int, *, seed: int = 0, n_modes: int = 8, radius: float = RING_RADIUS,
                std: float = RING_STD) -> np.ndarray:
    """``n`` samples ``float32[n, 2]`` from ``n_modes`` equally likely Gaussians on a circle."""
    n = _check_n(n)
    rng = np.random.default_rng(seed)
    centers = ring_centers(n_modes, radius)
    k = rng.integers(0, n_modes, size=n)
    return (centers[k] + std * rng.standard_normal((n, 2))).astype(np.float32)


def ring_density(points: object, *, n_modes: int = 8, radius: float = RING_RADIUS,
                 std: float = RING_STD) -> np.ndarray:
    """The ring's density at ``points: float[..., 2]`` (shape ``[...]``, float64)."""
    p = np.asarray(points, np.float64)[..., None, :]
    d2 = np.sum((p - ring_centers(n_modes, radius)) ** 2, axis=-1)
    return np.mean(np.exp(-0.5 * d2 / std**2), axis=-1) / (2 * np.pi * std**2)


def mode_coverage(samples: object, centers: object | None = None, *, std: float = RING_STD,
                  radius_in_std: float = 3.0, min_share: float = 0.025) -> dict:
    """How many modes a generator's samples cover, and how many of its samples are good.

    samples: ``float[n, 2]``; centers: ``float[K, 2]`` (default: the 8 ring centres).
    A sample is **near a mode** when it lies within ``radius_in_std · std`` of that mode's
    centre; a mode is **covered** when at least ``min_share`` of all samples are near it
    (default 2.5 %, a fifth of the 12.5 % each mode gets under the data distribution).
    Returns ``{"modes_covered": int, "n_modes": K, "share_near_a_mode": float in [0, 1],
    "share_per_mode": float64[K]}``.
    """
    s = np.asarray(samples, np.float64)
    if s.ndim != 2 or s.shape[1] != 2 or s.shape[0] == 0:
        raise ValueError(f"samples must have shape [n, 2] with n ≥ 1, got {s.shape}")
    c = ring_centers() if centers is None else np.asarray(centers, np.float64)
    min_share = checks.probability("min_share", min_share, "try 0.025", low_open=True)
    finite = np.all(np.isfinite(s), axis=1)
    d = np.linalg.norm(s[:, None, :] - c[None, :, :], axis=-1)  # [n, K]
    nearest = np.argmin(np.where(np.isfinite(d), d, np.inf), axis=1)
    near = finite & (d[np.arange(len(s)), nearest] <= radius_in_std * std)
    share = np.bincount(nearest[near], minlength=len(c)) / len(s)
    return {"modes_covered": int(np.sum(share >= min_share)), "n_modes": len(c),
            "share_near_a_mode": float(near.mean()), "share_per_mode": share}


def _blur(a: np.ndarray, taps: np.ndarray, axis: int) -> np.ndarray:
    """``a`` convolved with the symmetric 1-D kernel ``taps`` along ``axis`` (zero outside)."""
    reach = len(taps) // 2
    pad = [(0, 0), (0, 0)]
    pad[axis] = (reach, reach)
    padded = np.pad(a, pad)
    out = np.zeros_like(a)
    for i, weight in enumerate(taps):
        out += weight * (padded[i:i + a.shape[0]] if axis == 0 else padded[:, i:i + a.shape[1]])
    return out


def ring_js_divergence(samples: object, *, extent: float = 3.0, resolution: int = 96,
                       bandwidth: float = 2 * RING_STD) -> float:
    """A grid estimate of the Jensen–Shannon divergence, in nats, between the ring and samples.

    samples: ``float[n, 2]``. Both densities are smoothed by the same Gaussian kernel of
    standard deviation ``bandwidth`` and taken on a ``resolution × resolution`` grid of cells
    over ``[-extent, extent]²``: the samples' density is their Gaussian kernel density estimate
    (binned: the counts per cell, blurred by the kernel cut at 5 std), the ring's is
    ``ring_density`` with each mode's std widened to ``sqrt(RING_STD² + bandwidth²)`` (the ring
    convolved with that kernel) at the cells' centres. Each is normalised to sum to 1 on the
    grid; the result is the discrete JS divergence of the two, in [0, ln 2] (ln 2 ≈ 0.693
    when they do not overlap).

    It is an estimate, not the exact divergence: samples drawn from the ring give a small
    positive value (about 0.01 for 500 samples, less for more), mass outside the grid and
    non-finite samples are ignored (when no sample has mass on the grid the result is ln 2),
    and smoothing lowers the divergence of distributions closer than ``bandwidth``.
    Reference values: all samples on one of the 8 modes give
    ``½ (⅛ ln(2/9) + ⅞ ln 2) + ½ ln(16/9) ≈ 0.497``; a blob at the centre gives ≈ ln 2.
    Cost: about 1 ms for 500 samples (the kernel is separable: two 1-D blurs of the counts).
    """
    s = np.asarray(samples, np.float64)
    if s.ndim != 2 or s.shape[1] != 2 or s.shape[0] == 0:
        raise ValueError(f"samples must have shape [n, 2] with n ≥ 1, got {s.shape}")
    extent = checks.number_in_range("extent", extent, 0.0, 1000.0, "try 3.0", low_open=True)
    resolution = checks.int_in_range("resolution", resolution, 8, 1000, "try 96")
    bandwidth = checks.positive_float("bandwidth", bandwidth, f"try {2 * RING_STD:g}")
    step = 2 * extent / resolution
    centres = -extent + step * (np.arange(resolution) + 0.5)  # of the cells, for x and y alike
    s = s[np.all(np.isfinite(s), axis=1)]
    # the ring convolved with the kernel: 8 Gaussians of a wider std, at the cells' centres
    wide = float(np.hypot(RING_STD, bandwidth))
    c = ring_centers().astype(np.float64)
    gx = np.exp(-0.5 * ((centres[None, :] - c[:, :1]) / wide) ** 2)  # [8, R]
    gy = np.exp(-0.5 * ((centres[None, :] - c[:, 1:]) / wide) ** 2)
    p = np.einsum("ky,kx->yx", gy, gx)
    # the samples' KDE: counts per cell, blurred by the kernel along x, then along y
    cells = np.floor(np.clip((s + extent) / step, -1, resolution)).astype(np.int64)
    keep = np.all((cells >= 0) & (cells < resolution), axis=1)
    counts = np.bincount(cells[keep, 1] * resolution + cells[keep, 0],
                         minlength=resolution * resolution).reshape(resolution, resolution)
    reach = int(np.ceil(5 * bandwidth / step))
    taps = np.exp(-0.5 * (np.arange(-reach, reach + 1) * step / bandwidth) ** 2)
    q = _blur(_blur(counts.astype(np.float64), taps, axis=1), taps, axis=0)
    p_sum, q_sum = p.sum(), q.sum()
    if not q_sum > 1e-300:
        return float(np.log(2.0))
    p, q = p / p_sum, q / q_sum
    m = 0.5 * (p + q)

    def kl_to_m(a: np.ndarray) -> float:
        keep = a > 0
        return float(np.sum(a[keep] * np.log(a[keep] / m[keep])))

    return float(np.clip(0.5 * kl_to_m(p) + 0.5 * kl_to_m(q), 0.0, np.log(2.0)))


class DiscriminatorCollapseError(RuntimeError):
    """Raised when the discriminator wins outright: its loss stays near 0 for many steps."""


class GANGuard:
    """Stops GAN training with a clear message instead of letting it fail silently.

    Call ``check(d_losses, g_losses)`` with the losses of the last step or the last few steps
    (scalars or ``float[n]``). It raises

    - ``NonFiniteLossError`` as soon as a loss is NaN or infinite;
    - ``DiscriminatorCollapseError`` once the discriminator's loss has stayed below
      ``d_loss_floor`` for ``patience`` consecutive steps: D separates real from fake
      perfectly, its gradients to G have vanished, and training will not recover by itself.
    """

    def __init__(self, *, d_loss_floor: float = 1e-3, patience: int = 200):
        self.d_loss_floor = checks.positive_float("d_loss_floor", d_loss_floor, "try 1e-3")
        self.patience = _check_n(patience)
        self.step = 0  # steps checked so far
        self.low_run = 0  # consecutive steps with D's loss below the floor

    def check(self, d_losses: object, g_losses: object) -> None:
        d = np.atleast_1d(np.asarray(d_losses, np.float64))
        g = np.atleast_1d(np.asarray(g_losses, np.float64))
        if d.shape != g.shape or d.ndim != 1:
            raise ValueError(f"d_losses and g_losses must be scalars or float[n] of one length, "
                             f"got shapes {d.shape} and {g.shape}")
        for i, (dl, gl) in enumerate(zip(d, g, strict=True)):
            step = self.step + i + 1
            if not (np.isfinite(dl) and np.isfinite(gl)):
                raise NonFiniteLossError(
                    f"at step {step} the discriminator's loss is {dl:g} and the generator's "
                    f"{gl:g}: training stopped. Lower the learning rates, or compute the losses "
                    "from logits with log_sigmoid instead of log(sigmoid(...)).")
            self.low_run = self.low_run + 1 if dl < self.d_loss_floor else 0
            if self.low_run >= self.patience:
                raise DiscriminatorCollapseError(
                    f"the discriminator's loss has stayed below {self.d_loss_floor:g} for "
                    f"{self.patience} steps (step {step}): D tells real from fake perfectly and "
                    "the generator gets no useful gradient. Training stopped. Try the "
                    "non-saturating generator loss, fewer D steps per G step, or a lower D "
                    "learning rate.")
        self.step += len(d)


def sample_quality_report(scores: dict, *, share_range: tuple[float, float] = (0.05, 0.15),
                          min_confident_share: float = 0.9) -> str:
    """Three lines that read ``course_utils.classifier.score_samples``'s verdict on samples.

    scores: the dict ``score_samples`` returns (``n``, ``frechet``, ``frechet_floor``,
    ``class_shares`` float[10], ``confident_share``). Each line states a number with its
    meaning and whether it meets its target: (a) the Fréchet distance next to its real-data
    floor, (b) every class share within ``share_range``, (c) the share of samples classified
    with confidence ≥ 0.9 (``score_samples``'s threshold) at least ``min_confident_share``.
    """
    missing = [k for k in ("n", "frechet", "frechet_floor", "class_shares", "confident_share")
               if k not in scores]
    if missing:
        raise ValueError(f"scores lacks {missing}: pass the dict that "
                         "course_utils.classifier.score_samples returns")
    lo, hi = share_range
    if not 0 <= lo < hi <= 1:
        raise ValueError(f"share_range must be (low, high) with 0 ≤ low < high ≤ 1, got "
                         f"{share_range} (try (0.05, 0.15))")
    shares = np.asarray(scores["class_shares"], np.float64)
    n, confident = int(scores["n"]), float(scores["confident_share"])
    in_range = bool(np.all((shares >= lo) & (shares <= hi)))
    yes = {True: "yes", False: "NO"}
    return "\n".join([
        f"(a) Fréchet distance to the MNIST test set: {scores['frechet']:.1f} "
        f"(floor: {n:,} real training images score {scores['frechet_floor']:.1f})",
        "(b) class shares: " + ", ".join(f"{d}: {s:.1%}" for d, s in enumerate(shares))
        + f"; all {len(shares)} between {lo:.0%} and {hi:.0%}: {yes[in_range]}",
        f"(c) classified with confidence ≥ 0.9: {confident:.1%} "
        f"(target ≥ {min_confident_share:.0%}): {yes[confident >= min_confident_share]}",
    ])
