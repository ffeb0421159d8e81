"""Explorers for notebook 08: ask a conditional generator for a digit; browse inpainted digits.

    explorer = cgan_explorer(G, z_dim=32)         # a digit menu and a noise slider
    explorer.controls["digit"].value = 7          # what the menu does, from Python (tests)
    explorer.frames["samples"]                    # float32[H, W] in [0, 1]: the samples shown
    explorer = inpainting_explorer(inputs, {"L1 only": a, "L1 + GAN": b}, targets)

Both are built on ``course_utils.widgets.core.Explorer``: every move encodes a small numpy
image as a PNG (no matplotlib figure per move). The conditional generator runs jitted on every
move (a forward pass of a few images takes milliseconds); the inpainting explorer only shows
arrays computed once. Works with ipywidgets 7.7 (Colab) and 8.x.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ipywidgets as widgets
import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from course_utils import checks
from course_utils.cgan import ERASED_FROM_ROW
from course_utils.classifier import predict_proba
from course_utils.data import as_digit_images
from course_utils.models import apply_jitted
from course_utils.viz import image_mosaic
from course_utils.widgets.core import Explorer

__all__ = ["cgan_explorer", "inpainting_explorer"]


def _jit_generator(generator: nnx.Module | Callable) -> Callable:
    """``(z, labels) -> images float32[N, 28, 28]`` in [0, 1] from a tanh generator."""
    if isinstance(generator, nnx.Module):

        def run(z: np.ndarray, labels: np.ndarray) -> jax.Array:
            return apply_jitted(generator, jnp.asarray(z, jnp.float32),
                                jnp.asarray(labels, jnp.int32))
    else:
        run = generator

    def images(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
        x = np.asarray(run(z, labels), np.float32)
        return np.clip((x.reshape(len(z), 28, 28) + 1.0) / 2.0, 0.0, 1.0)

    return images


def _classify(images: np.ndarray) -> np.ndarray:
    return predict_proba(images).argmax(axis=1)


def cgan_explorer(
    generator: nnx.Module | Callable,
    z_dim: int,
    *,
    n: int = 8,
    digit: int = 0,
    seeds: int = 50,
    classify: Callable[[np.ndarray], np.ndarray] | None = None,
    scale: int = 3,
) -> Explorer:
    """A digit menu and a noise slider: the generator draws ``n`` samples of the asked digit.

    generator: ``G(z, labels)`` with ``z: float32[N, z_dim]``, ``labels: int32[N]`` in 0..9 →
        ``float32[N, 28, 28, 1]`` in [-1, 1] (a tanh output); an NNX module is jitted once.
    Top image: ``n`` samples of the chosen digit, noise drawn with the slider's seed. Bottom image:
    the first sample's noise z with every digit 0..9 (the style that z holds). The numbers line
    gives what the shipped classifier reads in each sample (``classify(images) -> int[N]``
    overrides it, e.g. in tests).
    """
    z_dim = checks.int_in_range("z_dim", z_dim, 1, 10_000, "the generator's noise size",
                                what="a positive int up to 10000")
    n = checks.int_in_range("n", n, 1, 20, "samples per view")
    digit = checks.int_in_range("digit", digit, 0, 9, what="one of 0..9")
    seeds = checks.int_in_range("seeds", seeds, 2, 10_000,
                                "positions of the noise slider; try 50")
    generate = _jit_generator(generator)
    classify = classify or _classify
    menu = widgets.Dropdown(options=list(range(10)), value=digit, description="digit")
    slider = widgets.IntSlider(value=0, min=0, max=seeds - 1, description="noise seed",
                               continuous_update=True)
    samples, styles = widgets.Image(format="png"), widgets.Image(format="png")
    info = widgets.HTML()
    note = widgets.HTML("<small>top: samples of the chosen digit · bottom: the first sample's "
                        "noise z with each digit 0–9</small>")
    explorer = Explorer(widgets.VBox([widgets.HBox([menu, slider]), info, samples, styles, note]),
                        {"digit": menu, "seed": slider}, {"samples": samples, "styles": styles},
                        info, scale=scale)

    def update(change=None) -> None:
        d, seed = int(menu.value), int(slider.value)
        z = np.random.default_rng(seed).standard_normal((n, z_dim)).astype(np.float32)
        z_all = np.concatenate([z, np.repeat(z[:1], 10, axis=0)])
        labels = np.concatenate([np.full(n, d), np.arange(10)]).astype(np.int32)
        x = generate(z_all, labels)
        read = np.asarray(classify(x)).astype(int)
        explorer.show("samples", image_mosaic(x[:n], ncols=n))
        explorer.show("styles", image_mosaic(x[n:], ncols=10))
        hits = int(np.sum(read[:n] == d))
        style_hits = int(np.sum(read[n:] == np.arange(10)))
        info.value = (f"asked for <b>{d}</b> (noise seed {seed}) · the classifier reads "
                      f"{' '.join(str(v) for v in read[:n])} · <b>{hits} of {n}</b> as asked · "
                      f"one z, ten digits: {style_hits} of 10 read as asked")

    generate(np.zeros((n + 10, z_dim), np.float32), np.zeros(n + 10, np.int32))  # compile once
    menu.observe(update, names="value")
    slider.observe(update, names="value")
    update()
    return explorer


def inpainting_explorer(
    inputs: object,
    outputs: Mapping[str, object],
    targets: object,
    *,
    per_view: int = 8,
    classify: Callable[[np.ndarray], np.ndarray] | None = None,
    labels: object | None = None,
    scale: int = 2,
) -> Explorer:
    """A slider over test digits: the erased input, each model's completion, the original.

    inputs, targets: ``float[N, 28, 28]`` in [0, 1]; outputs: model name → ``float[N, 28, 28]``
    in [0, 1] (computed once). Each view shows ``per_view`` digits, one row per array. The
    numbers line gives each model's mean absolute error on the erased rows and, with
    ``labels: int[N]`` (the true digits), how many completions the classifier reads as the
    true digit.
    """

    x_in, x_true = as_digit_images(inputs, "inputs"), as_digit_images(targets, "targets")
    if x_in.shape != x_true.shape:
        raise ValueError(f"inputs {x_in.shape} and targets {x_true.shape} must match")
    if not outputs:
        raise ValueError("outputs is empty: pass {model name: float[N, 28, 28]}")
    outs = {name: as_digit_images(o, f"outputs[{name!r}]") for name, o in outputs.items()}
    for name, o in outs.items():
        if o.shape != x_true.shape:
            raise ValueError(f"outputs[{name!r}] has shape {o.shape}, targets {x_true.shape}")
    per_view = checks.int_in_range("per_view", per_view, 1, 100, "try 8",
                                   what="a positive int up to 100")
    views = max(1, len(x_true) // per_view)
    y = None if labels is None else np.asarray(labels).astype(int)
    if y is not None and y.shape != (len(x_true),):
        raise ValueError(f"labels must have shape [{len(x_true)}], got {y.shape}")
    classify = classify or _classify
    read = {} if y is None else {name: np.asarray(classify(o)).astype(int)
                                 for name, o in outs.items()}
    slider = widgets.IntSlider(value=0, min=0, max=views - 1, description="test digits",
                               continuous_update=True)
    image = widgets.Image(format="png")
    info = widgets.HTML()
    rows_note = ", ".join(["erased input", *outs, "original"])
    note = widgets.HTML(f"<small>rows: {rows_note}</small>")
    explorer = Explorer(widgets.VBox([slider, info, image, note]), {"view": slider},
                        {"digits": image}, info, scale=scale)

    def update(change=None) -> None:
        sl = slice(slider.value * per_view, (slider.value + 1) * per_view)
        rows = [x_in[sl], *(o[sl] for o in outs.values()), x_true[sl]]
        explorer.show("digits", image_mosaic(np.concatenate(rows), ncols=len(rows[0])))
        parts = []
        for name, o in outs.items():
            err = float(np.mean(np.abs(o[sl] - x_true[sl])[:, ERASED_FROM_ROW:]))
            text = f"{name}: error on the erased rows {err:.3f}"
            if y is not None:
                text += f", read as the true digit {int(np.sum(read[name][sl] == y[sl]))}/" \
                        f"{len(y[sl])}"
            parts.append(text)
        first = slider.value * per_view
        info.value = (f"<b>digits {first}–{first + len(rows[0]) - 1}</b> · " + " · ".join(parts))

    slider.observe(update, names="value")
    update()
    return explorer
