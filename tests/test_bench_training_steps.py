"""The training-step benchmark still imports and runs (its smallest path, a couple of steps)."""

from __future__ import annotations

import bench_training_steps as bench
import numpy as np
from flax import nnx


def test_benchmark_runs_its_smallest_path():
    builders = bench.jax_runners()
    runs = {"conv": builders["conv_ae"]["course"](), "mlp": builders["mlp_ae"]["course"]()}
    seconds = bench.time_interleaved(runs, repeats=1, min_seconds=0.0)
    assert set(seconds) == {"conv", "mlp"} and all(s > 0 for s in seconds.values())


def test_mlp_flop_count_matches_the_closed_form():
    step, state = bench.make_ae_step(bench.BenchMLPAutoencoder(nnx.Rngs(0)))
    sizes = [784, 512, 256, 32, 256, 512, 784]
    macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    # forward + weight gradients + input gradients of all layers but the first
    expected = 2 * 256 * (3 * macs - 784 * 512)
    assert bench.count_flops(step, state, np.zeros((256, 784), np.float32)) == expected


def test_time_to_quality_reports_steps_and_mse():
    x = np.random.default_rng(0).random((64, 784), np.float32)
    res = bench.time_to_quality(bench.BenchMLPAutoencoder(nnx.Rngs(0)), x, x[:32], batch=16,
                                lr=1e-3, max_seconds=0.01, eval_every=2)
    assert res["steps"] >= 2 and np.isfinite(res["test_mse"])
