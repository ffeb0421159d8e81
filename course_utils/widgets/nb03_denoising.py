"""The explorer of notebook 03: noise level and kind against a plain and a denoising autoencoder.

    explorer = noise_explorer(x_test[:10], plain_ae, {"gaussian": dae})
    explorer.controls["level"].value = 0.6     # what the slider does, from Python (tests)
    explorer.frames["digits"]                  # rows: noisy, plain AE, DAE, clean

Every model is jitted and compiled when the explorer is built; a move adds the noise and runs
each model once on the shown digits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import ipywidgets as widgets
import jax
import numpy as np
from flax import nnx

from course_utils import checks
from course_utils.noise import NOISE_KINDS, add_noise
from course_utils.viz import image_mosaic
from course_utils.widgets.core import Explorer, flat_images, jitted_function

__all__ = ["noise_explorer"]


def noise_explorer(
    images: object,
    plain_model: nnx.Module | Callable,
    denoisers: Mapping[str, nnx.Module | Callable],
    *,
    level: float = 0.4,
    kind: str = "gaussian",
    seed: int = 0,
    levels: Sequence[float] | None = None,
    scale: int = 2,
) -> Explorer:
    """A noise-level slider and a noise-kind menu; rows: noisy, plain AE, DAE, clean.

    images: clean ``float[n, 784]`` in [0, 1]; plain_model: an autoencoder trained on clean
    images; denoisers: kind → a denoising autoencoder trained on that kind of noise (kinds
    from ``course_utils.noise.NOISE_KINDS``). The noise for a (kind, level) is
    ``add_noise(images, kind, level, seed=seed)``, so the same setting always shows the same
    corruption. The numbers line gives each row's MSE per pixel against the clean images.
    """
    x = flat_images("images", images)
    checks.images_in_unit_range("images", x)
    level = checks.probability("level", level, "try 0.4")
    seed = checks.int_in_range("seed", seed, hint="e.g. 0")
    if levels is not None:
        levels = [checks.probability("each of levels", v, "e.g. np.linspace(0, 1, 21)")
                  for v in levels]
        if not levels:
            raise ValueError("levels is empty: pass noise levels in [0, 1], or None for 0..1")
    unknown = [k for k in denoisers if k not in NOISE_KINDS]
    if not denoisers or unknown:
        raise ValueError(f"denoisers must map noise kinds {NOISE_KINDS} to models, got "
                         f"{list(denoisers)}")
    if kind not in denoisers:
        raise ValueError(f"kind must be one of {list(denoisers)}, got {kind!r}")
    plain = jitted_function(plain_model)
    dae = {k: jitted_function(m) for k, m in denoisers.items()}
    levels = [round(float(v), 2) for v in (levels or np.linspace(0.0, 1.0, 21))]
    start = min(levels, key=lambda v: abs(v - level))
    slider = widgets.SelectionSlider(options=levels, value=start, description="noise level",
                                     continuous_update=True)
    menu = widgets.Dropdown(options=list(denoisers), value=kind, description="noise kind")
    image = widgets.Image(format="png")
    info = widgets.HTML()
    explorer = Explorer(widgets.VBox([widgets.HBox([menu, slider]), info, image]),
                        {"level": slider, "kind": menu}, {"digits": image}, info, scale=scale)
    key = jax.random.PRNGKey(seed)

    def update(change=None) -> None:
        noisy = np.asarray(add_noise(x, menu.value, slider.value, key=key))
        rows = [noisy, np.asarray(plain(noisy)), np.asarray(dae[menu.value](noisy)), x]
        explorer.show("digits", image_mosaic(np.concatenate(rows), ncols=len(x)))
        mse = [float(np.mean((r - x) ** 2)) for r in rows[:3]]
        info.value = (f"rows: noisy input, plain AE, <b>DAE</b>, clean. MSE per pixel vs clean: "
                      f"noisy {mse[0]:.4f}, plain AE {mse[1]:.4f}, <b>DAE {mse[2]:.4f}</b>")

    for k in denoisers:  # compile every model once before the first move
        dae[k](x[:1])
    plain(x[:1])
    slider.observe(update, names="value")
    menu.observe(update, names="value")
    update()
    return explorer
