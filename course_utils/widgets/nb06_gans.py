"""A GAN Lab-style step-through for 2-D toy GANs (notebook 06).

    explorer = gan_lab_explorer(make_session, real=sample_ring(512))
    explorer                               # play/pause, step, reset, rates, k, loss, the picture
    explorer.controls["step"].click()      # one frame of training, from Python (tests)
    explorer.step_count, explorer.frames["field"]

``make_session(d_lr, g_lr)`` builds a fresh G, D and their optimizers and returns an object with

- ``train(rounds, k, loss) -> (d_losses, g_losses)``: ``rounds`` generator steps, each after
  ``k`` discriminator steps, with ``loss`` one of ``"non-saturating"`` / ``"saturating"``;
- ``discriminate(points: float32[M, 2]) -> float[M]``: D's probability that a point is real;
- ``generate(n) -> float[n, 2]``: ``n`` generator samples (the same noise every call).

The picture is drawn with numpy (D's probability as a two-colour field, its 0.5 contour, real
and generated points) and encoded as a PNG: about 5 ms a frame, no matplotlib figure.
Learning rates take effect at the next reset (a new G and D); k and the loss act at once.
Works with ipywidgets 7.7 (Colab) and 8.x.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
import numpy as np

from course_utils import checks
from course_utils.gan import mode_coverage
from course_utils.viz import DATA_COLOR, MODEL_COLOR
from course_utils.widgets import static
from course_utils.widgets.core import Explorer, hex_rgb

__all__ = ["GANLabExplorer", "gan_lab_explorer", "render_field"]

RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
LOSSES = ("non-saturating", "saturating")
# the frames of training after which a web page's recorded run shows the picture
STATIC_RUN_FRAMES = (0, 1, 2, 4, 8, 16, 32)


def render_field(prob: object, real: object, fake: object, extent: float) -> np.ndarray:
    """The picture ``float32[H, W, 3]`` in [0, 1]: D's field, its 0.5 contour and the points.

    prob: ``float[H, W]``, D(x) on a grid over ``[-extent, extent]²`` with row 0 at the top
    (y = +extent); blue where D says "real" (> 0.5), red where it says "fake". real, fake:
    ``float[n, 2]`` points, drawn as 3×3 squares (real blue, generated red, outlined).
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
    return img.astype(np.float32)


@dataclass
class GANLabExplorer(Explorer):
    """An ``Explorer`` that trains: ``step()`` trains one frame, ``reset()`` starts over."""

    session: Any = None
    make_session: Callable[[float, float], Any] | None = None
    real: np.ndarray | None = None
    grid: np.ndarray | None = None
    extent: float = 3.0
    rounds_per_frame: int = 20
    step_count: int = 0  # generator steps so far
    d_losses: list = field(default_factory=list)
    g_losses: list = field(default_factory=list)

    def reset(self, *_: object) -> None:
        """A fresh G and D with the chosen learning rates; step counter back to 0."""
        self.session = self.make_session(self.controls["d_lr"].value, self.controls["g_lr"].value)
        self.step_count = 0
        self.d_losses, self.g_losses = [], []
        self.render()

    def step(self, *_: object) -> None:
        """Train ``rounds_per_frame`` generator steps (each after k D steps), then redraw."""
        d, g = self.session.train(self.rounds_per_frame, self.controls["k"].value,
                                  self.controls["loss"].value)
        self.d_losses.extend(np.asarray(d, np.float64).ravel().tolist())
        self.g_losses.extend(np.asarray(g, np.float64).ravel().tolist())
        self.step_count += self.rounds_per_frame
        self.render()

    def render(self) -> None:
        n = int(round(np.sqrt(len(self.grid))))
        prob = np.asarray(self.session.discriminate(self.grid), np.float32).reshape(n, n)
        fake = np.asarray(self.session.generate(len(self.real)), np.float32)
        self.show("field", render_field(prob, self.real, fake, self.extent))
        cov = mode_coverage(fake)
        text = f"<b>generator step {self.step_count}</b>"
        if self.d_losses:
            d = np.mean(self.d_losses[-self.rounds_per_frame :])
            g = np.mean(self.g_losses[-self.rounds_per_frame :])
            text += f" · D loss <b>{d:.3f}</b> (2 ln 2 = 1.386) · G loss <b>{g:.3f}</b>"
        text += (f" · modes covered <b>{cov['modes_covered']} of {cov['n_modes']}</b> · "
                 f"samples near a mode {cov['share_near_a_mode']:.0%}")
        self.info.value = text

    @property
    def static_note(self) -> str:
        """What a web page's recorded run is (see ``static_states``)."""
        c = self.controls
        return (f"A run recorded when the notebook was executed (D rate {c['d_lr'].value:g}, "
                f"G rate {c['g_lr'].value:g}, {c['k'].value} D step(s) per G step, "
                f"{c['loss'].value} G loss): move the range to step through it. Open the "
                "notebook to train with other settings.")

    def static_states(self) -> tuple[list[static.StaticControl], list[static.StaticState]]:
        """For a web page without a kernel: a short run recorded from a fresh G and D (with
        the current rates, k and loss), one frame after each count of ``STATIC_RUN_FRAMES``
        frames of training, shown with a range labelled "step". The explorer's own training
        state is kept as it was."""
        kept = (self.session, self.step_count, self.d_losses, self.g_losses,
                self.frames.get("field"), self.images["field"].value, self.info.value)
        self.session = self.make_session(self.controls["d_lr"].value,
                                         self.controls["g_lr"].value)
        self.step_count, self.d_losses, self.g_losses = 0, [], []
        recorded, labels, done = [], [], 0
        try:
            self.render()
            for frames in STATIC_RUN_FRAMES:
                while done < frames:
                    self.step()
                    done += 1
                recorded.append(({"field": bytes(self.images["field"].value)},
                                 str(self.info.value)))
                labels.append(str(self.step_count))
        finally:
            (self.session, self.step_count, self.d_losses, self.g_losses, frame,
             self.images["field"].value, self.info.value) = kept
            if frame is not None:
                self.frames["field"] = frame
        return static.states_of_run(iter(recorded), labels, "generator step")


def gan_lab_explorer(make_session: Callable[[float, float], Any], real: object, *,
                     extent: float = 3.0, resolution: int = 150, rounds_per_frame: int = 20,
                     d_lr: float = 1e-3, g_lr: float = 1e-3, scale: int = 2) -> GANLabExplorer:
    """Play/pause, step and reset buttons, D and G learning rates, k and the G loss.

    real: ``float[n, 2]`` data points to draw; the generator draws as many. The picture covers
    ``[-extent, extent]²`` at ``resolution × resolution`` pixels (times ``scale`` on screen).
    Each frame (one tick of play, or one click of step) trains ``rounds_per_frame`` G steps.
    """
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
    axis = np.linspace(-extent, extent, resolution, dtype=np.float32)
    xs, ys = np.meshgrid(axis, axis[::-1])  # row 0 is the top of the picture
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1)

    def rate_slider(description: str, value: float) -> widgets.SelectionSlider:
        return widgets.SelectionSlider(options=[(f"{r:g}", r) for r in RATES], value=value,
                                       description=description, continuous_update=False)

    play = widgets.Play(value=0, min=0, max=10**6, step=1, interval=150, description="play")
    step_button = widgets.Button(description="step", tooltip="train one frame")
    reset_button = widgets.Button(description="reset", tooltip="new G and D with these rates")
    controls = {
        "play": play, "step": step_button, "reset": reset_button,
        "d_lr": rate_slider("D rate", d_lr), "g_lr": rate_slider("G rate", g_lr),
        "k": widgets.IntSlider(value=1, min=1, max=5, description="D steps/G",
                               continuous_update=False),
        "loss": widgets.ToggleButtons(options=list(LOSSES), value=LOSSES[0],
                                      description="G loss"),
    }
    image = widgets.Image(format="png")
    info = widgets.HTML()
    note = widgets.HTML("<small>blue field: D says real · red field: D says fake · dark line: "
                        "D = 0.5 · blue dots: data · red dots: generator. Rates apply at "
                        "reset.</small>")
    box = widgets.VBox([
        widgets.HBox([play, step_button, reset_button]),
        widgets.HBox([controls["d_lr"], controls["g_lr"]]),
        widgets.HBox([controls["k"], controls["loss"]]),
        info, image, note,
    ])
    explorer = GANLabExplorer(box, controls, {"field": image}, info, scale=scale,
                              make_session=make_session, real=real, grid=grid, extent=extent,
                              rounds_per_frame=int(rounds_per_frame))
    step_button.on_click(explorer.step)
    reset_button.on_click(explorer.reset)
    play.observe(lambda change: explorer.step(), names="value")
    explorer.reset()
    return explorer
