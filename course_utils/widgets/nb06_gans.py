"""A GAN Lab-style step-through for 2-D toy GANs (notebook 06).

    explorer = gan_lab_explorer(make_session, real=sample_ring(512))
    explorer                               # the controls, the picture and the curve below
    explorer.controls["step"].click()      # one frame of training, from Python (tests)
    explorer.step_count, explorer.frames["field"], explorer.frames["curve"]

``make_session(d_lr, g_lr)`` builds a fresh G, D and their optimizers and returns an object with

- ``train(rounds, k, loss) -> (d_losses, g_losses)``: ``rounds`` generator steps, each after
  ``k`` discriminator steps, with ``loss`` one of ``"non-saturating"`` / ``"saturating"``;
- ``discriminate(points: float32[M, 2]) -> float[M]``: D's probability that a point is real;
- ``generate(n) -> float[n, 2]``: ``n`` generator samples (the same noise every call);

and, optionally (an object without them gets an explorer without the matching controls):

- ``train_d(steps) -> D's last loss`` and ``train_g(steps, loss) -> float[steps] or G's last
  loss``: only one player trains, the other is frozen;
- ``generate_from(z: float32[M, z_dim]) -> float[M, 2]``: G applied to given noise, and
  ``sizes["z_dim"]`` (2 when absent).

The controls:

- **play** / **step**: train one frame (``rounds_per_frame`` generator steps, each after k
  discriminator steps) per tick or click; **reset**: a new G and D with the chosen rates;
- **D step** / **G step** (with ``train_d`` and ``train_g``): ``rounds_per_frame`` steps of only
  that player (G with the chosen loss);
- **D rate**, **G rate** (take effect at the next reset), **D steps/G** (k) and **G loss**
  (the arrows follow it at once);
- **gradients** (on/off): on each generated sample, an arrow along the force that G's loss puts
  on it, ``∇ log D(x) = ∇D/D`` for the non-saturating loss ``-log D(x)``, ``∇D/(1 - D)`` for the
  saturating ``log(1 - D(x))``; ∇D by central finite differences of ``discriminate``, all
  arrows of a frame scaled by one factor so that the longest is 8 % of the picture (on every
  k-th sample, at most ``max_arrows``, 128 by default, so that the points stay visible);
- **noise grid** (on/off, with ``generate_from``): the image under G of a grid of noise vectors
  (11 lines per axis over [-2, 2]² in the first two noise coordinates, the others 0).

The picture (``frames["field"]``): D's probability as a two-colour field, its 0.5 contour, the
noise grid, real and generated points and the arrows. The curve (``frames["curve"]``): modes
covered (0–8, ``mode_coverage``) and the JS divergence to the ring (0–ln 2,
``ring_js_divergence``) of the drawn samples after each frame of training so far. Both are drawn
with numpy and encoded as PNGs (no matplotlib figure); the numbers line is set after them.
Works with ipywidgets 7.7 (Colab) and 8.x.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
import numpy as np

from course_utils import checks
from course_utils.gan import mode_coverage, ring_js_divergence
from course_utils.viz import DATA_COLOR, MODEL_COLOR
from course_utils.widgets import static
from course_utils.widgets.core import Explorer, hex_rgb

__all__ = ["GANLabExplorer", "gan_lab_explorer", "generator_forces", "noise_grid",
           "render_curve", "render_field"]

RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
LOSSES = ("non-saturating", "saturating")
# the frames of training after which a web page's recorded run shows the picture
STATIC_RUN_FRAMES = (0, 1, 2, 4, 8, 16, 32)
ARROW_SHARE = 0.08  # the longest arrow of a frame, as a share of the picture's side
ARROW_SHADE = 0.1  # gray level of the arrows
GRID_SHADE = 0.55  # gray level of the noise grid's lines
CURVE_WINDOW = 50  # the curve's x axis spans at least this many frames
COVERAGE_COLOR = MODEL_COLOR  # modes covered, on the curve
DIVERGENCE_COLOR = "#303030"  # the JS divergence, on the curve


def _pixels(points: np.ndarray, extent: float, h: int, w: int) -> tuple[np.ndarray, ...]:
    """Rows and columns of ``points: float[..., 2]`` in an ``h × w`` picture of
    ``[-extent, extent]²`` (row 0 at y = +extent), and whether each lies inside."""
    cols = np.rint((points[..., 0] + extent) / (2 * extent) * (w - 1))
    rows = np.rint((extent - points[..., 1]) / (2 * extent) * (h - 1))
    inside = np.isfinite(cols) & np.isfinite(rows)
    inside &= (cols >= 0) & (cols <= w - 1) & (rows >= 0) & (rows <= h - 1)
    cols = np.where(inside, cols, 0).astype(int)
    rows = np.where(inside, rows, 0).astype(int)
    return rows, cols, inside


def _draw_segments(img: np.ndarray, starts: np.ndarray, ends: np.ndarray, shade: object,
                   extent: float) -> None:
    """Draw 1-pixel lines from ``starts`` to ``ends`` (``float[m, 2]``, data units) on ``img``."""
    if len(starts) == 0:
        return
    h, w = img.shape[:2]
    per_pixel = (w - 1) / (2 * extent)
    length = np.linalg.norm((ends - starts) * per_pixel, axis=1)
    length = length[np.isfinite(length)]
    n = int(min(np.ceil(length.max(initial=0.0)) + 1, 4 * max(h, w))) + 1
    t = np.linspace(0.0, 1.0, max(n, 2))[None, :, None]
    points = starts[:, None, :] + t * (ends - starts)[:, None, :]
    rows, cols, inside = _pixels(points, extent, h, w)
    img[rows[inside], cols[inside]] = shade


def render_field(prob: object, real: object, fake: object, extent: float, *,
                 arrows: object | None = None, warp: object | None = None) -> np.ndarray:
    """The picture ``float32[H, W, 3]`` in [0, 1]: D's field, its 0.5 contour and the points.

    prob: ``float[H, W]``, D(x) on a grid over ``[-extent, extent]²`` with row 0 at the top
    (y = +extent); blue where D says "real" (> 0.5), red where it says "fake". real, fake:
    ``float[n, 2]`` points, drawn as 3×3 squares (real blue, generated red, outlined).
    arrows: ``float[m, 2]`` with m = len(fake), a displacement in data units for each generated
    point, drawn as a dark line from the point with a small cross at its tip (non-finite rows
    are skipped). warp: ``float[L, P, 2]``, L polylines of P points each, drawn as thin gray
    lines under the points (G's image of the noise grid).
    """
    p = np.clip(np.asarray(prob, np.float32), 0.0, 1.0)
    if p.ndim != 2:
        raise ValueError(f"prob must be float[H, W], got shape {p.shape}")
    h, w = p.shape
    strength = (np.abs(p - 0.5) * 2 * 0.45)[..., None]
    tint = np.where((p > 0.5)[..., None], hex_rgb(DATA_COLOR), hex_rgb(MODEL_COLOR))
    img = (1 - strength) * 1.0 + strength * tint
    side = p > 0.5
    edge = np.zeros_like(side)
    edge[:, 1:] |= side[:, 1:] != side[:, :-1]
    edge[1:, :] |= side[1:, :] != side[:-1, :]
    img[edge] = 0.25
    if warp is not None:
        lines = np.asarray(warp, np.float32)
        if lines.ndim != 3 or lines.shape[2] != 2:
            raise ValueError(f"warp must be float[L, P, 2] polylines, got shape {lines.shape}")
        _draw_segments(img, lines[:, :-1].reshape(-1, 2), lines[:, 1:].reshape(-1, 2),
                       GRID_SHADE, extent)
    fake = np.asarray(fake, np.float32).reshape(-1, 2)
    for points, color in ((real, DATA_COLOR), (fake, MODEL_COLOR)):
        pts = np.asarray(points, np.float32).reshape(-1, 2)
        pts = pts[np.all(np.isfinite(pts), axis=1)]
        cols = np.rint((pts[:, 0] + extent) / (2 * extent) * (w - 1)).astype(int)
        rows = np.rint((extent - pts[:, 1]) / (2 * extent) * (h - 1)).astype(int)
        inside = (cols >= 1) & (cols < w - 1) & (rows >= 1) & (rows < h - 1)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                shade = hex_rgb(color) if (dr, dc) == (0, 0) else hex_rgb(color) * 0.6
                img[rows[inside] + dr, cols[inside] + dc] = shade
    if arrows is not None:
        moves = np.asarray(arrows, np.float32).reshape(-1, 2)
        if len(moves) != len(fake):
            raise ValueError(f"arrows must be float[m, 2] with m = len(fake) = {len(fake)}, "
                             f"got shape {np.shape(arrows)}")
        ok = np.all(np.isfinite(moves), axis=1) & np.all(np.isfinite(fake), axis=1)
        starts, ends = fake[ok], fake[ok] + moves[ok]
        _draw_segments(img, starts, ends, ARROW_SHADE, extent)
        rows, cols, inside = _pixels(ends, extent, h, w)
        for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            r, c = rows + dr, cols + dc
            keep = inside & (r >= 0) & (r < h) & (c >= 0) & (c < w)
            img[r[keep], c[keep]] = ARROW_SHADE
    return img.astype(np.float32)


def generator_forces(discriminate: Callable[[np.ndarray], object], points: object, loss: str,
                     *, h: float = 0.01) -> np.ndarray:
    """The force ``float64[m, 2]`` that G's loss puts on each of ``points: float[m, 2]``.

    The direction in which a gradient step on G's loss moves a generated sample x:
    ``∇D(x) / D(x)`` (= ∇ log D) for the non-saturating loss ``-log D(x)``, and
    ``∇D(x) / (1 - D(x))`` (= -∇ log(1 - D)) for the saturating loss ``log(1 - D(x))``.
    ∇D is taken by central finite differences of step ``h`` (one call of ``discriminate`` on
    ``5m`` points); denominators below 1e-6 count as 1e-6. Non-finite points give NaN rows.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    h = checks.positive_float("h", h, "try 0.01")
    probes = _probes(points, h)
    return _forces(np.asarray(discriminate(probes), np.float64), loss, h)


def _probes(points: object, h: float) -> np.ndarray:
    """``float32[5m, 2]``: the m points, then shifted by +h and -h in x, then in y."""
    x = np.asarray(points, np.float64).reshape(-1, 2)
    ex, ey = np.array([h, 0.0]), np.array([0.0, h])
    return np.concatenate([x, x + ex, x - ex, x + ey, x - ey]).astype(np.float32)


def _forces(d: np.ndarray, loss: str, h: float) -> np.ndarray:
    """The forces ``float64[m, 2]`` from D at ``_probes(points, h)``: ``float[5m]``."""
    d = np.asarray(d, np.float64).reshape(5, -1)
    grad = np.stack([d[1] - d[2], d[3] - d[4]], axis=1) / (2 * h)
    denominator = d[0] if loss == "non-saturating" else 1.0 - d[0]
    return grad / np.maximum(denominator, 1e-6)[:, None]


def noise_grid(z_dim: int, *, lines: int = 11, points: int = 41, span: float = 2.0
               ) -> np.ndarray:
    """A grid of noise vectors ``float32[L, points, z_dim]`` as L polylines.

    ``lines`` lines per axis over ``[-span, span]²`` in the first two noise coordinates (the
    others 0), each sampled at ``points`` points: L = 2 · lines (one line along the axis when
    z_dim = 1).
    """
    z_dim = checks.positive_int("z_dim", z_dim, "the generator's noise size, e.g. 2")
    t = np.linspace(-span, span, points, dtype=np.float32)
    if z_dim == 1:
        return t[None, :, None]
    offsets = np.linspace(-span, span, lines, dtype=np.float32)
    grid = np.zeros((2 * lines, points, z_dim), np.float32)
    grid[:lines, :, 0] = t[None, :]  # horizontal lines: z1 varies, z2 fixed
    grid[:lines, :, 1] = offsets[:, None]
    grid[lines:, :, 0] = offsets[:, None]  # vertical lines
    grid[lines:, :, 1] = t[None, :]
    return grid


def render_curve(modes: object, divergence: object, *, width: int, height: int,
                 n_modes: int = 8) -> np.ndarray:
    """The live curve ``float32[height, width, 3]`` in [0, 1] of the frames so far.

    modes: ``float[T]`` modes covered after each frame (0 at the bottom, ``n_modes`` at the
    top, red); divergence: ``float[T]`` the JS divergence in nats (0 at the bottom, ln 2 at the
    top, dark gray). The x axis spans ``max(T, CURVE_WINDOW)`` frames, so the curve grows to the
    right until it fills the width, then is compressed. Light lines mark 0, half and the top.
    """
    modes = np.asarray(modes, np.float64).ravel()
    divergence = np.asarray(divergence, np.float64).ravel()
    if modes.shape != divergence.shape:
        raise ValueError(f"modes and divergence must have one length, got {modes.shape} and "
                         f"{divergence.shape}")
    img = np.ones((height, width, 3), np.float32)
    for level in (0.0, 0.5, 1.0):
        img[int(round((1 - level) * (height - 1)))] = 0.85
    frames = len(modes)
    if frames == 0:
        return img
    x = np.arange(frames) / (max(frames, CURVE_WINDOW) - 1) * (width - 1)
    for values, top, color in ((divergence, np.log(2.0), DIVERGENCE_COLOR),
                               (modes, float(n_modes), COVERAGE_COLOR)):
        level = np.clip(np.nan_to_num(values / top, nan=0.0), 0.0, 1.0)
        y = (1 - level) * (height - 2)  # two pixels thick: rows y and y + 1
        xy = np.stack([x, y], axis=1)
        if frames == 1:
            xy = np.concatenate([xy, xy])  # a dot
        starts, ends = xy[:-1], xy[1:]
        n = int(np.ceil(np.abs(ends - starts).max(initial=0.0))) + 2
        t = np.linspace(0.0, 1.0, n)[None, :, None]
        pts = np.rint(starts[:, None] + t * (ends - starts)[:, None]).reshape(-1, 2).astype(int)
        cols = np.clip(pts[:, 0], 0, width - 1)
        rows = np.clip(pts[:, 1], 0, height - 2)
        img[rows, cols] = hex_rgb(color)
        img[rows + 1, cols] = hex_rgb(color)
    return img


@dataclass
class GANLabExplorer(Explorer):
    """An ``Explorer`` that trains: ``step()`` trains one frame, ``reset()`` starts over;
    ``step_d()`` / ``step_g()`` train one player (when the session can)."""

    session: Any = None
    make_session: Callable[[float, float], Any] | None = None
    real: np.ndarray | None = None
    grid: np.ndarray | None = None
    extent: float = 3.0
    rounds_per_frame: int = 20
    step_count: int = 0  # generator steps so far
    d_step_count: int = 0  # discriminator steps so far
    last_moved: str = ""  # "" (fresh), "both", "D" or "G"
    d_losses: list = field(default_factory=list)
    g_losses: list = field(default_factory=list)
    last_d_loss: float | None = None  # mean over the last frame that trained D
    last_g_loss: float | None = None
    history: list = field(default_factory=list)  # (G steps, D steps, modes, JS) per frame
    curve_height: int = 50
    max_arrows: int = 128  # arrows on every k-th generated sample, at most this many

    def reset(self, *_: object) -> None:
        """A fresh G and D with the chosen learning rates; step counters back to 0."""
        self.session = _checked_session(
            self.make_session(self.controls["d_lr"].value, self.controls["g_lr"].value))
        self._clear()
        self.render()

    def _clear(self) -> None:
        self.step_count, self.d_step_count, self.last_moved = 0, 0, ""
        self.d_losses, self.g_losses, self.history = [], [], []
        self.last_d_loss = self.last_g_loss = None

    def step(self, *_: object) -> None:
        """Train ``rounds_per_frame`` generator steps (each after k D steps), then redraw."""
        k = self.controls["k"].value
        d, g = self.session.train(self.rounds_per_frame, k, self.controls["loss"].value)
        self._record_d(d, self.rounds_per_frame * k)
        self._record_g(g, self.rounds_per_frame)
        self.last_moved = "both"
        self.render()

    def step_d(self, *_: object) -> None:
        """Train ``rounds_per_frame`` discriminator steps only (G frozen), then redraw."""
        self._record_d(self.session.train_d(self.rounds_per_frame), self.rounds_per_frame)
        self.last_moved = "D"
        self.render()

    def step_g(self, *_: object) -> None:
        """Train ``rounds_per_frame`` generator steps only (D frozen), then redraw."""
        g = self.session.train_g(self.rounds_per_frame, self.controls["loss"].value)
        self._record_g(g, self.rounds_per_frame)
        self.last_moved = "G"
        self.render()

    def _record_d(self, losses: object, steps: int) -> None:
        values = np.asarray(losses, np.float64).ravel()
        self.d_losses.extend(values.tolist())
        self.last_d_loss = float(values.mean()) if values.size else None
        self.d_step_count += steps

    def _record_g(self, losses: object, steps: int) -> None:
        values = np.asarray(losses, np.float64).ravel()
        self.g_losses.extend(values.tolist())
        self.last_g_loss = float(values.mean()) if values.size else None
        self.step_count += steps

    def _toggled(self, name: str) -> bool:
        control = self.controls.get(name)
        return bool(control is not None and control.value)

    def render(self) -> None:
        """Draw the picture and the curve from the session as it is now, then the numbers line
        (last); a frame of training not seen before adds a point to the curve."""
        n = int(round(np.sqrt(len(self.grid))))
        fake = np.asarray(self.session.generate(len(self.real)), np.float32)
        loss = self.controls["loss"].value
        gradients = self._toggled("gradients")
        h = 0.01 * self.extent / 3.0  # the finite differences' step
        pulled = np.arange(0, len(fake), -(-len(fake) // self.max_arrows))  # every k-th one
        asked = np.concatenate([self.grid, _probes(fake[pulled], h)]) if gradients else self.grid
        d = np.asarray(self.session.discriminate(asked), np.float64).ravel()  # one call
        prob = d[:len(self.grid)].reshape(n, n)
        arrows, longest = None, None
        if gradients:
            forces = np.full((len(fake), 2), np.nan)
            forces[pulled] = _forces(d[len(self.grid):], loss, h)
            norms = np.linalg.norm(forces, axis=1)
            finite = np.isfinite(norms)
            if finite.any() and norms[finite].max() > 0:
                longest = float(norms[finite].max())
                arrows = forces * (ARROW_SHARE * 2 * self.extent / longest)
        warp = None
        if self._toggled("noise grid") and callable(getattr(self.session, "generate_from", None)):
            z_dim = int(getattr(self.session, "sizes", {}).get("z_dim", 2))
            z = noise_grid(z_dim)
            warp = np.asarray(self.session.generate_from(z.reshape(-1, z_dim)),
                              np.float32).reshape(z.shape[0], z.shape[1], -1)[..., :2]
        self.show("field", render_field(prob, self.real, fake, self.extent, arrows=arrows,
                                        warp=warp))
        cov = mode_coverage(fake)
        js = ring_js_divergence(fake)
        key = (self.step_count, self.d_step_count)
        if not self.history or self.history[-1][:2] != key:
            self.history.append((*key, cov["modes_covered"], js))
        past = np.asarray([row[2:] for row in self.history], np.float64).reshape(-1, 2)
        self.show("curve", render_curve(past[:, 0], past[:, 1], width=n,
                                        height=self.curve_height, n_modes=cov["n_modes"]))
        moved = {"": "fresh G and D", "both": "last: D and G trained",
                 "D": "last: <b>D</b> trained alone", "G": "last: <b>G</b> trained alone"}
        text = (f"<b>generator step {self.step_count}</b> · discriminator step "
                f"{self.d_step_count} · {moved[self.last_moved]}")
        if self.last_d_loss is not None:
            text += f" · D loss <b>{self.last_d_loss:.3f}</b> (2 ln 2 = 1.386)"
        if self.last_g_loss is not None:
            text += f" · G loss <b>{self.last_g_loss:.3f}</b>"
        text += (f" · modes covered <b>{cov['modes_covered']} of {cov['n_modes']}</b> · "
                 f"samples near a mode {cov['share_near_a_mode']:.0%} · JS divergence to the "
                 f"ring <b>{js:.3f}</b> nats (ln 2 = 0.693)")
        if longest is not None:
            grad = "∇D/D" if loss == "non-saturating" else "∇D/(1−D)"
            text += f" · longest arrow |{grad}| = {longest:.3g}"
        self.info.value = text

    @property
    def static_note(self) -> str:
        """What a web page's recorded run is (see ``static_states``)."""
        c = self.controls
        return (f"A run recorded when the notebook was executed (D rate {c['d_lr'].value:g}, "
                f"G rate {c['g_lr'].value:g}, {c['k'].value} D step(s) per G step, "
                f"{c['loss'].value} G loss): move the range to step through it. Open the "
                "notebook to train with other settings or one player at a time.")

    def static_states(self) -> tuple[list[static.StaticControl], list[static.StaticState]]:
        """For a web page without a kernel: a short run recorded from a fresh G and D (with
        the current rates, k, loss and toggles), the picture and the curve after each count of
        ``STATIC_RUN_FRAMES`` frames of training, shown with a range labelled "generator
        step". The explorer's own training state is kept as it was."""
        names = ("session", "step_count", "d_step_count", "last_moved", "d_losses",
                 "g_losses", "last_d_loss", "last_g_loss", "history")
        kept = {name: getattr(self, name) for name in names}
        kept_images = {name: (self.frames.get(name), image.value)
                       for name, image in self.images.items()}
        kept_info = self.info.value
        self.session = _checked_session(self.make_session(self.controls["d_lr"].value,
                                                          self.controls["g_lr"].value))
        self._clear()
        recorded, labels, done = [], [], 0
        try:
            self.render()
            for frames in STATIC_RUN_FRAMES:
                while done < frames:
                    self.step()
                    done += 1
                recorded.append(({name: bytes(image.value)
                                  for name, image in self.images.items()},
                                 str(self.info.value)))
                labels.append(str(self.step_count))
        finally:
            for name, value in kept.items():
                setattr(self, name, value)
            for name, (frame, value) in kept_images.items():
                self.images[name].value = value
                if frame is not None:
                    self.frames[name] = frame
            self.info.value = kept_info
        return static.states_of_run(iter(recorded), labels, "generator step")


def _checked_session(session: object) -> Any:
    """``session`` if it has ``train``, ``discriminate`` and ``generate``; else a TypeError."""
    missing = [m for m in ("train", "discriminate", "generate")
               if not callable(getattr(session, m, None))]
    if missing:
        raise TypeError(f"make_session(d_lr, g_lr) must return an object with train, "
                        f"discriminate and generate methods; got a {type(session).__name__} "
                        f"without {', '.join(missing)}")
    return session


def gan_lab_explorer(make_session: Callable[[float, float], Any], real: object, *,
                     extent: float = 3.0, resolution: int = 150, rounds_per_frame: int = 20,
                     d_lr: float = 1e-3, g_lr: float = 1e-3, scale: int = 2,
                     gradients: bool = True, noise_grid: bool = True,
                     max_arrows: int = 128) -> GANLabExplorer:
    """Play/pause, step, D step, G step and reset buttons, rates, k, the G loss and toggles.

    make_session: ``(d_lr, g_lr) -> session`` (see the module's docstring); "D step" and
    "G step" appear when the session has ``train_d`` and ``train_g``, "noise grid" when it has
    ``generate_from``. real: ``float[n, 2]`` data points to draw; the generator draws as many.
    The picture covers ``[-extent, extent]²`` at ``resolution × resolution`` pixels (times
    ``scale`` on screen), the curve below it is ``resolution`` pixels wide. Each frame (one
    tick of play, or one click of a step button) trains ``rounds_per_frame`` steps.
    gradients, noise_grid: whether the arrows and the noise grid start switched on.
    max_arrows: arrows are drawn on every k-th generated sample, k the smallest that gives at
    most this many (all samples when it is ≥ n; 500 arrows hide the points).
    """
    if not callable(make_session):
        raise TypeError("make_session must be a function (d_lr, g_lr) -> session, got "
                        f"{type(make_session).__name__}")
    real = np.asarray(real, np.float32)
    if real.ndim != 2 or real.shape[1] != 2 or len(real) == 0:
        raise ValueError(f"real must be float[n, 2] with n ≥ 1, got shape {real.shape}")
    extent = checks.number_in_range("extent", extent, 0.0, 1000.0, "try 3.0", low_open=True)
    resolution = checks.int_in_range("resolution", resolution, 10, 1000, "try 150")
    rounds_per_frame = checks.int_in_range("rounds_per_frame", rounds_per_frame, 1, 10_000,
                                           "try 20")
    for name, rate in (("d_lr", d_lr), ("g_lr", g_lr)):
        if rate not in RATES:
            raise ValueError(f"{name} must be one of {RATES}, got {rate!r}")
    max_arrows = checks.int_in_range("max_arrows", max_arrows, 1, 100_000, "try 128")
    for name, flag in (("gradients", gradients), ("noise_grid", noise_grid)):
        if not isinstance(flag, bool | np.bool_):
            raise ValueError(f"{name} must be True or False, got {flag!r}")
    session = _checked_session(make_session(d_lr, g_lr))
    one_player = all(callable(getattr(session, m, None)) for m in ("train_d", "train_g"))
    warps = callable(getattr(session, "generate_from", None))
    axis = np.linspace(-extent, extent, resolution, dtype=np.float32)
    xs, ys = np.meshgrid(axis, axis[::-1])  # row 0 is the top of the picture
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1)

    def rate_slider(description: str, value: float) -> widgets.SelectionSlider:
        return widgets.SelectionSlider(options=[(f"{r:g}", r) for r in RATES], value=value,
                                       description=description, continuous_update=False)

    play = widgets.Play(value=0, min=0, max=10**6, step=1, interval=150, description="play")
    step_button = widgets.Button(description="step", tooltip="train one frame: D and G")
    reset_button = widgets.Button(description="reset", tooltip="new G and D with these rates")
    controls = {
        "play": play, "step": step_button, "reset": reset_button,
        "d_lr": rate_slider("D rate", d_lr), "g_lr": rate_slider("G rate", g_lr),
        "k": widgets.IntSlider(value=1, min=1, max=5, description="D steps/G",
                               continuous_update=False),
        "loss": widgets.ToggleButtons(options=list(LOSSES), value=LOSSES[0],
                                      description="G loss"),
        "gradients": widgets.Checkbox(value=bool(gradients), description="gradients",
                                      indent=False),
    }
    buttons = [play, step_button]
    if one_player:
        controls["D step"] = widgets.Button(description="D step",
                                            tooltip="train only D for one frame")
        controls["G step"] = widgets.Button(description="G step",
                                            tooltip="train only G for one frame")
        buttons += [controls["D step"], controls["G step"]]
    toggles = [controls["gradients"]]
    if warps:
        controls["noise grid"] = widgets.Checkbox(value=bool(noise_grid),
                                                  description="noise grid", indent=False)
        toggles.append(controls["noise grid"])
    image = widgets.Image(format="png")
    curve = widgets.Image(format="png")
    info = widgets.HTML()
    legend = ("blue field: D says real · red field: D says fake · dark line: D = 0.5 · blue "
              "dots: data · red dots: generator · black arrows: the pull of G's loss on each "
              "sample")
    if warps:
        legend += " · gray lines: G's image of a grid of noise vectors"
    note = widgets.HTML(f"<small>{legend}. Curve, over the frames so far: red, modes covered "
                        "(0 to 8); dark gray, JS divergence to the ring (0 to ln 2). Rates "
                        "apply at reset.</small>")
    box = widgets.VBox([
        widgets.HBox([*buttons, reset_button]),
        widgets.HBox([controls["d_lr"], controls["g_lr"]]),
        widgets.HBox([controls["k"], controls["loss"]]),
        widgets.HBox(toggles),
        info, image, curve, note,
    ])
    explorer = GANLabExplorer(box, controls, {"field": image, "curve": curve}, info,
                              scale=scale, session=session, make_session=make_session,
                              real=real, grid=grid, extent=extent,
                              rounds_per_frame=int(rounds_per_frame),
                              curve_height=max(20, resolution // 3), max_arrows=max_arrows)
    step_button.on_click(explorer.step)
    reset_button.on_click(explorer.reset)
    if one_player:
        controls["D step"].on_click(explorer.step_d)
        controls["G step"].on_click(explorer.step_g)
    for toggle in (*toggles, controls["loss"]):  # the arrows follow the loss
        toggle.observe(lambda change: explorer.render(), names="value")
    play.observe(lambda change: explorer.step(), names="value")
    explorer.render()
    return explorer
