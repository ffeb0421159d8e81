"""Slider latency of the notebooks' explorers: value change → updated image bytes, in-process.

    python benchmarks/bench_widgets.py [--moves 200]

For each explorer of ``course_utils.widgets`` this sets a slider's ``value`` from Python (as the
front end does through the comm), which runs the explorer's update synchronously and leaves new
PNG bytes in its ``ipywidgets.Image``; the time from the assignment to the new bytes is one
sample. Models are small and untrained (the latency does not depend on the weights, only on the
shapes: the same MLP sizes as notebooks 02 and 03). Prints p50/p95 per slider, the ratio to the
50 ms target, and writes ``artifacts/bench_widgets.json``. Asserts nothing about wall time.
The figure it compares against: drawing a new matplotlib figure per move, measured here too.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import ipywidgets
import jax
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from flax import nnx  # noqa: E402

from course_utils.models import MLPAutoencoder  # noqa: E402
from course_utils.viz import compare_rows  # noqa: E402
from course_utils.widgets import (  # noqa: E402
    latent_plane_explorer,
    latent_size_explorer,
    noise_explorer,
)

REPO = Path(__file__).resolve().parent.parent
TARGET_MS = 50.0
HIDDEN = (256, 128)


def time_moves(explorer, control: str, values, image: str) -> np.ndarray:
    """Milliseconds from ``controls[control].value = v`` to changed bytes in ``images[image]``."""
    slider, out = explorer.controls[control], explorer.images[image]
    samples = []
    for v in values:
        if v == slider.value:
            continue
        before = out.value
        start = time.perf_counter()
        slider.value = v
        if out.value is before:
            raise RuntimeError(f"moving {control} to {v!r} did not update the image")
        samples.append((time.perf_counter() - start) * 1e3)
    return np.asarray(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=200, help="slider moves per explorer")
    parser.add_argument("--out", type=Path, default=REPO / "artifacts" / "bench_widgets.json")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    images = rng.random((10, 784), dtype=np.float32)
    results: dict[str, np.ndarray] = {}

    dims = (2, 5, 10, 16, 32, 64)
    recs = {d: np.asarray(MLPAutoencoder(d, hidden=HIDDEN, rngs=nnx.Rngs(0))(images))
            for d in dims}
    explorer = latent_size_explorer(images, recs, dict.fromkeys(dims, 0.01))
    moves = [dims[i % len(dims)] for i in range(1, args.moves + 1)]
    results["latent size slider (nb 02)"] = time_moves(explorer, "latent_dim", moves, "digits")

    model_2d = MLPAutoencoder(2, hidden=HIDDEN, rngs=nnx.Rngs(0))
    codes = rng.normal(size=(10_000, 2)).astype(np.float32)
    explorer = latent_plane_explorer(model_2d.decoder, codes, np.arange(10_000) % 10)
    s = explorer.controls["z1"]
    moves = list(np.linspace(s.min, s.max, args.moves))
    results["latent plane slider z1 (nb 02)"] = time_moves(explorer, "z1", moves, "digit")

    plain = MLPAutoencoder(32, hidden=HIDDEN, rngs=nnx.Rngs(0))
    daes = {k: MLPAutoencoder(32, hidden=HIDDEN, rngs=nnx.Rngs(i + 1))
            for i, k in enumerate(("gaussian", "salt_and_pepper", "masking"))}
    explorer = noise_explorer(images, plain, daes)
    levels = explorer.controls["level"].options
    moves = [levels[i % len(levels)] for i in range(1, args.moves + 1)]
    results["noise level slider (nb 03)"] = time_moves(explorer, "level", moves, "digits")
    kinds = list(daes)
    moves = [kinds[i % 3] for i in range(1, min(args.moves, 60) + 1)]
    results["noise kind menu (nb 03)"] = time_moves(explorer, "kind", moves, "digits")

    baseline = []  # what the explorers avoid: a new matplotlib figure per move
    for d in dims * 3:
        start = time.perf_counter()
        fig = compare_rows({"original": images, "rebuilt": recs[d]})
        fig.canvas.draw()
        plt.close(fig)
        baseline.append((time.perf_counter() - start) * 1e3)
    results["(reference) new matplotlib figure per move"] = np.asarray(baseline)

    report = {"target_ms": TARGET_MS, "ipywidgets": ipywidgets.__version__,
              "jax": jax.__version__, "machine": platform.machine(), "sliders": {}}
    print(f"slider latency, value change -> new image bytes (ipywidgets {ipywidgets.__version__})")
    for name, ms in results.items():
        p50, p95 = np.percentile(ms, 50), np.percentile(ms, 95)
        report["sliders"][name] = {"moves": len(ms), "p50_ms": round(float(p50), 3),
                                   "p95_ms": round(float(p95), 3)}
        print(f"  {name:44s} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  "
              f"(p95 = {p95 / TARGET_MS:.2f}x the {TARGET_MS:.0f} ms target, n={len(ms)})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
