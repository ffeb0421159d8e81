"""Training-step throughput of the course's models: course layers vs plain Flax vs PyTorch eager.

Run: ``python benchmarks/bench_training_steps.py [--quick] [--no-quality] [--no-xla-compare]
[--out DIR]``

For the MLP autoencoder, the conv autoencoder and one DCGAN step it measures, in one run and
interleaved (repeat r times: variant A, variant B, ...; medians reported):

* (a) the course's training step (``course_utils.layers.Conv`` / ``ConvTranspose``),
* (b) the same step with ``nnx.Conv`` / ``nnx.ConvTranspose``,
* (c) an equivalent PyTorch eager implementation, if ``torch`` is importable,

and prints images/s and the ratios, the model FLOP utilisation (MFU) against a jitted 2048x2048
float32 matmul timed in the same run, and the seconds of training needed to reach a test MSE
< 0.01 on MNIST. It also times the course's three steps under the course's XLA CPU setting
(``course_utils.xla_cpu``, applied on import) and under JAX's default, in alternating child
processes. Everything is written to ``artifacts/bench-<timestamp>.json``. Timings on a
shared machine are noisy: compare the ratios, not the absolute numbers, across runs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from course_utils.layers import Conv, ConvTranspose  # noqa: E402

MLP_BATCH, CONV_BATCH, GAN_BATCH = 256, 128, 128
MLP_LR, CONV_LR = 3e-3, 6e-3
LATENT_CONV, Z_GAN = 16, 64
ARCH = {
    "mlp_ae": "784-512-256-32-256-512-784, ELU, sigmoid output, MSE loss, Adam",
    "conv_ae": "Conv 3x3 s2 1->32, Conv 3x3 s2 32->64, Dense 3136->16 | Dense 16->3136, "
    "ConvT 3x3 s2 64->32, ConvT 3x3 s2 32->1; ReLU, sigmoid output, 'SAME' padding "
    "(PyTorch: padding=1, output_padding=1), MSE loss, Adam",
    "dcgan": "G: z64 -> Dense 6272 -> ConvT 4x4 s2 128->64 -> ConvT 4x4 s2 64->1 tanh (ReLU); "
    "D: Conv 4x4 s2 1->64 -> Conv 4x4 s2 64->128 -> Dense 6272->1 (LeakyReLU 0.2); no batch "
    "norm; one D and one G update (non-saturating BCE), Adam(2e-4, b1=0.5)",
}


# ----------------------------------------------------------------------------- JAX models
class BenchMLPAutoencoder(nnx.Module):
    """x: float32[N, 784] in [0, 1] -> reconstruction float32[N, 784] in (0, 1)."""

    def __init__(self, rngs: nnx.Rngs, sizes: tuple[int, ...] = (784, 512, 256, 32)):
        dims = sizes + sizes[-2::-1]
        self.layers = nnx.Sequential(*[nnx.Linear(a, b, rngs=rngs)
                                       for a, b in zip(dims[:-1], dims[1:], strict=True)])

    def __call__(self, x: jax.Array) -> jax.Array:
        layers = self.layers.layers
        for layer in layers[:-1]:
            x = jax.nn.elu(layer(x))
        return jax.nn.sigmoid(layers[-1](x))


class ConvAutoencoder(nnx.Module):
    """x: float32[N, 28, 28, 1] in [0, 1] -> reconstruction of the same shape via a 16-d code."""

    def __init__(self, rngs: nnx.Rngs, conv: type = Conv, conv_t: type = ConvTranspose,
                 latent: int = LATENT_CONV):
        self.c1 = conv(1, 32, (3, 3), (2, 2), rngs=rngs)
        self.c2 = conv(32, 64, (3, 3), (2, 2), rngs=rngs)
        self.enc = nnx.Linear(7 * 7 * 64, latent, rngs=rngs)
        self.dec = nnx.Linear(latent, 7 * 7 * 64, rngs=rngs)
        self.t1 = conv_t(64, 32, (3, 3), (2, 2), rngs=rngs)
        self.t2 = conv_t(32, 1, (3, 3), (2, 2), rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        h = jax.nn.relu(self.c2(jax.nn.relu(self.c1(x))))
        h = jax.nn.relu(self.dec(self.enc(h.reshape(h.shape[0], -1))))
        h = jax.nn.relu(self.t1(h.reshape(-1, 7, 7, 64)))
        return jax.nn.sigmoid(self.t2(h))


class Generator(nnx.Module):
    """z: float32[N, 64] -> images float32[N, 28, 28, 1] in (-1, 1)."""

    def __init__(self, rngs: nnx.Rngs, conv_t: type = ConvTranspose):
        self.fc = nnx.Linear(Z_GAN, 7 * 7 * 128, rngs=rngs)
        self.t1 = conv_t(128, 64, (4, 4), (2, 2), rngs=rngs)
        self.t2 = conv_t(64, 1, (4, 4), (2, 2), rngs=rngs)

    def __call__(self, z: jax.Array) -> jax.Array:
        h = jax.nn.relu(self.fc(z)).reshape(-1, 7, 7, 128)
        return jnp.tanh(self.t2(jax.nn.relu(self.t1(h))))


class Discriminator(nnx.Module):
    """x: float32[N, 28, 28, 1] in [-1, 1] -> logits float32[N]."""

    def __init__(self, rngs: nnx.Rngs, conv: type = Conv):
        self.c1 = conv(1, 64, (4, 4), (2, 2), rngs=rngs)
        self.c2 = conv(64, 128, (4, 4), (2, 2), rngs=rngs)
        self.fc = nnx.Linear(7 * 7 * 128, 1, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        h = jax.nn.leaky_relu(self.c1(x), 0.2)
        h = jax.nn.leaky_relu(self.c2(h), 0.2)
        return self.fc(h.reshape(h.shape[0], -1))[:, 0]


# ----------------------------------------------------------------------------- JAX steps
def make_ae_step(model: nnx.Module, lr: float = 1e-3) -> tuple[Callable, Any]:
    """A jitted Adam step over split state: ``state, loss = step(state, x)``; x: float32[N, ...]."""
    optimizer = nnx.Optimizer(model, optax.adam(lr), wrt=nnx.Param)
    graphdef, state = nnx.split((model, optimizer))

    def loss_fn(m: nnx.Module, x: jax.Array) -> jax.Array:
        return jnp.mean((m(x) - x) ** 2)

    @jax.jit
    def step(state: Any, x: jax.Array) -> tuple[Any, jax.Array]:
        m, opt = nnx.merge(graphdef, state)
        loss, grads = nnx.value_and_grad(loss_fn)(m, x)
        opt.update(m, grads)
        return nnx.split((m, opt))[1], loss

    return step, state


def apply_model(graphdef: Any, state: Any, x: jax.Array) -> jax.Array:
    """Run the model held in split ``(model, optimizer)`` state on x (for evaluation)."""
    model, _ = nnx.merge(graphdef, state)
    return model(x)


def _bce_logits(logits: jax.Array, label: float) -> jax.Array:
    return optax.sigmoid_binary_cross_entropy(logits, jnp.full_like(logits, label)).mean()


def make_gan_step(gen: Generator, disc: Discriminator) -> tuple[Callable, Any]:
    """One D update, then one G update (as in the PyTorch DCGAN tutorial; G's forward is shared).

    ``state, (loss_d, loss_g) = step(state, x, key)``; x: float32[N, 28, 28, 1] in [-1, 1].
    """
    tx = optax.adam(2e-4, b1=0.5)
    opt_g = nnx.Optimizer(gen, tx, wrt=nnx.Param)
    opt_d = nnx.Optimizer(disc, tx, wrt=nnx.Param)
    graphdef, state = nnx.split((gen, disc, opt_g, opt_d))

    @jax.jit
    def step(state: Any, x: jax.Array, key: jax.Array) -> tuple[Any, tuple[jax.Array, jax.Array]]:
        g, d, og, od = nnx.merge(graphdef, state)
        z = jax.random.normal(key, (x.shape[0], Z_GAN))
        g_def, g_params, g_rest = nnx.split(g, nnx.Param, ...)
        fake, g_vjp = jax.vjp(lambda p: nnx.merge(g_def, p, g_rest)(z), g_params)

        def d_loss(d: Discriminator) -> jax.Array:
            return _bce_logits(d(x), 1.0) + _bce_logits(d(jax.lax.stop_gradient(fake)), 0.0)

        loss_d, grads_d = nnx.value_and_grad(d_loss)(d)
        od.update(d, grads_d)
        loss_g, d_fake = jax.value_and_grad(lambda f: _bce_logits(d(f), 1.0))(fake)
        (grads_g,) = g_vjp(d_fake)
        og.update(g, grads_g)
        return nnx.split((g, d, og, od))[1], (loss_d, loss_g)

    return step, state


# ----------------------------------------------------------------------------- PyTorch
def torch_models() -> dict[str, Callable[[], Any]] | None:
    """Builders of PyTorch eager steps (``run(n)`` closures); None when torch is not installed."""
    try:
        import torch
        from torch import nn
    except ImportError:
        return None
    torch.set_num_threads(os.cpu_count() or 1)

    def mlp_run() -> Callable[[int], None]:
        dims = [784, 512, 256, 32, 256, 512, 784]
        mods: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            mods += [nn.Linear(a, b), nn.ELU()]
        model = nn.Sequential(*mods[:-1], nn.Sigmoid())
        return _torch_ae_run(model, torch.rand(MLP_BATCH, 784))

    def conv_run() -> Callable[[int], None]:
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),
            nn.Flatten(), nn.Linear(3136, LATENT_CONV), nn.Linear(LATENT_CONV, 3136), nn.ReLU(),
            nn.Unflatten(1, (64, 7, 7)), nn.ConvTranspose2d(64, 32, 3, 2, 1, output_padding=1),
            nn.ReLU(), nn.ConvTranspose2d(32, 1, 3, 2, 1, output_padding=1), nn.Sigmoid())
        return _torch_ae_run(model, torch.rand(CONV_BATCH, 1, 28, 28))

    def _torch_ae_run(model: nn.Module, x: torch.Tensor) -> Callable[[int], None]:
        opt = torch.optim.Adam(model.parameters(), 1e-3)

        def run(n: int) -> None:
            for _ in range(n):
                opt.zero_grad(set_to_none=True)
                loss = torch.mean((model(x) - x) ** 2)
                loss.backward()
                opt.step()

        return run

    def gan_run() -> Callable[[int], None]:
        g = nn.Sequential(
            nn.Linear(Z_GAN, 6272), nn.ReLU(), nn.Unflatten(1, (128, 7, 7)),
            nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(64, 1, 4, 2, 1),
            nn.Tanh())
        d = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1),
            nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(6272, 1))
        og = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
        od = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
        bce = nn.BCEWithLogitsLoss()
        x = torch.rand(GAN_BATCH, 1, 28, 28) * 2 - 1
        ones, zeros = torch.ones(GAN_BATCH, 1), torch.zeros(GAN_BATCH, 1)

        def run(n: int) -> None:
            for _ in range(n):
                fake = g(torch.randn(GAN_BATCH, Z_GAN))
                od.zero_grad(set_to_none=True)
                loss_d = bce(d(x), ones) + bce(d(fake.detach()), zeros)
                loss_d.backward()
                od.step()
                og.zero_grad(set_to_none=True)
                loss_g = bce(d(fake), ones)
                loss_g.backward()
                og.step()

        return run

    return {"mlp_ae": mlp_run, "conv_ae": conv_run, "dcgan": gan_run}


# ----------------------------------------------------------------------------- JAX runners
def jax_runners() -> dict[str, dict[str, Callable[[], Callable[[int], None]]]]:
    """For each model, builders of ``run(n)`` closures for the course layers and plain Flax."""

    def ae(make_model: Callable[[], nnx.Module], shape: tuple[int, ...]) -> Callable:
        def build() -> Callable[[int], None]:
            step, state = make_ae_step(make_model())
            x = jnp.asarray(np.random.default_rng(0).random(shape, np.float32))
            box = [state]

            def run(n: int) -> None:
                s, loss = box[0], None
                for _ in range(n):
                    s, loss = step(s, x)
                box[0] = s
                jax.block_until_ready(loss)

            return run

        return build

    def gan(conv: type, conv_t: type) -> Callable:
        def build() -> Callable[[int], None]:
            rngs = nnx.Rngs(0)
            step, state = make_gan_step(Generator(rngs, conv_t), Discriminator(rngs, conv))
            x = jnp.asarray(np.random.default_rng(0).random((GAN_BATCH, 28, 28, 1), np.float32))
            x = 2 * x - 1
            box = [state, jax.random.key(0)]

            def run(n: int) -> None:
                s, key, loss = box[0], box[1], None
                for _ in range(n):
                    key, sub = jax.random.split(key)
                    s, loss = step(s, x, sub)
                box[0], box[1] = s, key
                jax.block_until_ready(loss)

            return run

        return build

    mlp = ae(lambda: BenchMLPAutoencoder(nnx.Rngs(0)), (MLP_BATCH, 784))
    return {
        "mlp_ae": {"course": mlp},
        "conv_ae": {
            "course": ae(lambda: ConvAutoencoder(nnx.Rngs(0)), (CONV_BATCH, 28, 28, 1)),
            "flax": ae(lambda: ConvAutoencoder(nnx.Rngs(0), nnx.Conv, nnx.ConvTranspose),
                       (CONV_BATCH, 28, 28, 1)),
        },
        "dcgan": {"course": gan(Conv, ConvTranspose), "flax": gan(nnx.Conv, nnx.ConvTranspose)},
    }


# ----------------------------------------------------------------------------- FLOPs and timing
def count_flops(fn: Callable, *args: Any) -> float:
    """Model FLOPs of ``fn(*args)``: 2 x multiply-adds of every dot and convolution in its jaxpr.

    A convolution with input dilation (a transposed convolution or the input gradient of a strided
    one) is counted without the inserted zeros, i.e. divided by the product of ``lhs_dilation``.
    """

    def walk(jaxpr: Any) -> float:
        total = 0.0
        for eqn in jaxpr.eqns:
            name = eqn.primitive.name
            if name == "dot_general":
                (lc, _), _ = eqn.params["dimension_numbers"]
                lhs = eqn.invars[0].aval.shape
                total += 2 * np.prod(eqn.outvars[0].aval.shape) * np.prod([lhs[i] for i in lc])
            elif name == "conv_general_dilated":
                dn = eqn.params["dimension_numbers"]
                rhs = eqn.invars[1].aval.shape
                taps = np.prod([rhs[i] for i in dn.rhs_spec[2:]]) * rhs[dn.rhs_spec[1]]
                total += (2 * np.prod(eqn.outvars[0].aval.shape) * taps
                          / np.prod(eqn.params["lhs_dilation"]))
            for p in eqn.params.values():
                for sub in p if isinstance(p, tuple | list) else (p,):
                    if isinstance(sub, jax.extend.core.ClosedJaxpr):
                        total += walk(sub.jaxpr)
                    elif isinstance(sub, jax.extend.core.Jaxpr):
                        total += walk(sub)
        return total

    return walk(jax.make_jaxpr(fn)(*args).jaxpr)


def model_flops() -> dict[str, float]:
    """FLOPs of one training step of each model, counted on the plain-Flax step (same math)."""
    out = {}
    step, state = make_ae_step(BenchMLPAutoencoder(nnx.Rngs(0)))
    out["mlp_ae"] = count_flops(step, state, jnp.zeros((MLP_BATCH, 784)))
    step, state = make_ae_step(ConvAutoencoder(nnx.Rngs(0), nnx.Conv, nnx.ConvTranspose))
    out["conv_ae"] = count_flops(step, state, jnp.zeros((CONV_BATCH, 28, 28, 1)))
    rngs = nnx.Rngs(0)
    step, state = make_gan_step(Generator(rngs, nnx.ConvTranspose), Discriminator(rngs, nnx.Conv))
    out["dcgan"] = count_flops(step, state, jnp.zeros((GAN_BATCH, 28, 28, 1)), jax.random.key(0))
    return out


def time_interleaved(runs: dict[str, Callable[[int], None]], repeats: int,
                     min_seconds: float = 0.25) -> dict[str, float]:
    """Median seconds per step of each ``run(n)``, timed round-robin ``repeats`` times.

    Each run is first warmed up (compilation) and calibrated so that one timing lasts about
    ``min_seconds``; round-robin order makes load from other processes hit all variants alike.
    """
    steps = {}
    for name, run in runs.items():
        run(2)  # compile + warm up
        t0 = time.perf_counter()
        run(3)
        per = (time.perf_counter() - t0) / 3
        steps[name] = max(2, int(min_seconds / max(per, 1e-6)))
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            t0 = time.perf_counter()
            run(steps[name])
            times[name].append((time.perf_counter() - t0) / steps[name])
    return {name: statistics.median(ts) for name, ts in times.items()}


MATMUL_N = 2048


def matmul_runner() -> Callable[[int], None]:
    """``run(n)``: n jitted float32 2048x2048 @ 2048x2048 matmuls (the peak that MFU refers to)."""
    a = jnp.asarray(np.random.default_rng(0).random((MATMUL_N, MATMUL_N), np.float32))
    f = jax.jit(lambda a, b: a @ b)

    def run(n: int) -> None:
        out = None
        for _ in range(n):
            out = f(a, a)
        jax.block_until_ready(out)

    return run


# ----------------------------------------------------------------------------- time to quality
def time_to_quality(model: nnx.Module, x_train: np.ndarray, x_test: np.ndarray, batch: int,
                    lr: float, target: float = 0.01, max_seconds: float = 60.0,
                    eval_every: int = 50, seed: int = 0) -> dict[str, Any]:
    """Seconds of training (Adam, shuffled mini-batches) until the test MSE drops below ``target``.

    x_train: float32[N, ...] in [0, 1]; x_test: float32[M, ...]. The clock runs only while training
    steps run: compilation (done first) and the test evaluations every ``eval_every`` steps are
    excluded. Returns seconds, steps, epochs and the last test MSE (seconds = None if not reached).
    """
    optimizer = nnx.Optimizer(model, optax.adam(lr), wrt=nnx.Param)
    graphdef, _ = nnx.split((model, optimizer))
    step, state = make_ae_step(model, lr)
    mse = jax.jit(lambda st, x: jnp.mean((apply_model(graphdef, st, x) - x) ** 2))
    x_train, x_test = jnp.asarray(x_train), jnp.asarray(x_test)
    test_mse = lambda st: float(np.mean([mse(st, x_test[i:i + 2000])  # noqa: E731
                                         for i in range(0, len(x_test), 2000)]))
    jax.block_until_ready(step(state, x_train[:batch]))  # compile (result discarded)
    test_mse(state)
    rng = np.random.default_rng(seed)
    steps_per_epoch = len(x_train) // batch
    elapsed, steps, last = 0.0, 0, float("nan")
    while elapsed < max_seconds:
        order = jnp.asarray(rng.permutation(len(x_train))[: steps_per_epoch * batch])
        batches = x_train[order].reshape(steps_per_epoch, batch, *x_train.shape[1:])
        jax.block_until_ready(batches)
        for i in range(steps_per_epoch):
            if i % eval_every == 0:
                t0 = time.perf_counter()
            state, loss = step(state, batches[i])
            steps += 1
            if (i + 1) % eval_every == 0 or i + 1 == steps_per_epoch:
                jax.block_until_ready(loss)
                elapsed += time.perf_counter() - t0
                last = test_mse(state)
                if last < target:
                    return {"seconds": round(elapsed, 3), "steps": steps,
                            "epochs": round(steps / steps_per_epoch, 2), "test_mse": last}
                if elapsed >= max_seconds:
                    break
    return {"seconds": None, "steps": steps, "epochs": round(steps / steps_per_epoch, 2),
            "test_mse": last}


# ----------------------------------------------------------------------------- main
def torch_runner(build: Callable[[], Callable[[int], None]]) -> dict[str, Callable]:
    """PyTorch with 1 and with all threads: on a loaded machine OpenMP's 2 threads can be 10x slower
    than 1, so the benchmark compares against the faster of the two (the stronger baseline)."""
    import torch

    threads = os.cpu_count() or 1
    run1, run_all = build(), build()

    def one(n: int) -> None:
        torch.set_num_threads(1)
        run1(n)
        torch.set_num_threads(threads)

    return {"torch_1thread": one, f"torch_{threads}threads": run_all}


def benchmark_steps(repeats: int, min_seconds: float) -> dict[str, Any]:
    """Interleaved step timings, images/s, ratios and MFU for every model."""
    flops = model_flops()
    peaks = []
    builders, torch_builders = jax_runners(), torch_models()
    batch = {"mlp_ae": MLP_BATCH, "conv_ae": CONV_BATCH, "dcgan": GAN_BATCH}
    results: dict[str, Any] = {"models": {}}
    for name, variants in builders.items():
        runs = {f"jax_{k}": build() for k, build in variants.items()}
        if torch_builders is not None:
            runs |= torch_runner(torch_builders[name])
        # The matmul is timed in the same round-robin, so MFU is relative to the peak reached
        # under the same load from other processes.
        runs["matmul"] = matmul_runner()
        sec = time_interleaved(runs, repeats, min_seconds)
        peak = 2 * MATMUL_N**3 / sec.pop("matmul")
        peaks.append(peak)
        if torch_builders is not None:
            sec["torch_best"] = min(v for k, v in sec.items() if k.startswith("torch_"))
        res = {"architecture": ARCH[name], "batch": batch[name],
               "matmul_peak_gflops": round(peak / 1e9, 1),
               "gflop_per_step": round(flops[name] / 1e9, 3),
               "ms_per_step": {k: round(v * 1e3, 2) for k, v in sec.items()},
               "images_per_s": {k: round(batch[name] / v, 1) for k, v in sec.items()},
               "mfu_percent": {k: round(100 * flops[name] / v / peak, 1) for k, v in sec.items()}}
        if "torch_best" in sec:
            res["speedup_vs_torch_best"] = {k: round(sec["torch_best"] / v, 2)
                                            for k, v in sec.items() if k.startswith("jax_")}
        if "jax_flax" in sec:
            res["speedup_course_vs_flax"] = round(sec["jax_flax"] / sec["jax_course"], 2)
        results["models"][name] = res
        _print_model(name, res)
    results["matmul_peak_gflops"] = round(statistics.median(peaks) / 1e9, 1)
    return results


def _print_model(name: str, res: dict[str, Any]) -> None:
    print(f"\n== {name} (batch {res['batch']}, {res['gflop_per_step']} GFLOP/step): "
          f"{res['architecture']}")
    print(f"  matmul peak in this round-robin: {res['matmul_peak_gflops']} GFLOP/s")
    for k, ms in res["ms_per_step"].items():
        line = (f"  {k:<18} {ms:9.2f} ms/step {res['images_per_s'][k]:10.0f} images/s  "
                f"MFU {res['mfu_percent'][k]:5.1f}%")
        if k in res.get("speedup_vs_torch_best", {}):
            line += f"  {res['speedup_vs_torch_best'][k]:.2f}x PyTorch (best)"
        print(line)
    if "speedup_course_vs_flax" in res:
        ratio = res["speedup_course_vs_flax"]
        print(f"  course layers vs nnx.Conv/nnx.ConvTranspose: {ratio:.2f}x")


def init_output_bias(model: nnx.Module, x_train: np.ndarray) -> None:
    """Start the sigmoid output at the training mean: bias = logit(mean pixel value).

    An initialisation, not a change of model (Karpathy's "init well" recipe): the first steps
    no longer go to learning the average image. x_train: float32[N, ...] in [0, 1]. The MLP's
    output bias is per pixel (logit of the mean image), the conv AE's is one number.
    """
    if isinstance(model, BenchMLPAutoencoder):
        mean, layer = x_train.reshape(len(x_train), -1).mean(axis=0), model.layers.layers[-1]
    else:
        mean, layer = np.full(model.t2.bias.shape, x_train.mean()), model.t2
    p = np.clip(mean, 1e-3, 1 - 1e-3)
    layer.bias[...] = jnp.asarray(np.log(p / (1 - p)), jnp.float32)


def benchmark_quality(quick: bool) -> dict[str, Any]:
    """Seconds of training to test MSE < 0.01 on MNIST for the MLP and the conv autoencoder."""
    from course_utils.data import load_mnist

    x_train, _ = load_mnist("train", limit=2048 if quick else None)
    x_test, _ = load_mnist("test", limit=1000 if quick else None)
    out = {}
    for name, model, batch, shape, lr in [
        ("mlp_ae", BenchMLPAutoencoder(nnx.Rngs(0)), MLP_BATCH, (-1, 784), MLP_LR),
        ("conv_ae", ConvAutoencoder(nnx.Rngs(0)), CONV_BATCH, (-1, 28, 28, 1), CONV_LR),
    ]:
        init_output_bias(model, x_train)
        res = time_to_quality(model, x_train.reshape(shape), x_test.reshape(shape), batch, lr,
                              max_seconds=3 if quick else 120)
        res["lr"] = lr
        out[name] = res
        took = f"{res['seconds']:.1f} s" if res["seconds"] is not None else "not reached"
        print(f"  {name:<8} time to test MSE < 0.01: {took} ({res['steps']} steps, "
              f"{res['epochs']} epochs, Adam lr {lr}, output bias from the mean image, "
              f"last test MSE {res['test_mse']:.4f})")
    return out


def course_step_times(repeats: int, min_seconds: float) -> dict[str, float]:
    """ms per step of the course's three training steps (for ``--xla-child``)."""
    runs = {name: variants["course"]() for name, variants in jax_runners().items()}
    return {k: round(v * 1e3, 2) for k, v in time_interleaved(runs, repeats, min_seconds).items()}


def benchmark_xla_setting(rounds: int) -> dict[str, Any]:
    """The course's XLA CPU setting (``course_utils.xla_cpu``) against JAX's default.

    XLA reads its flags once per process, so each setting runs in child processes, alternated
    ``rounds`` times (course, default, course, default, ...); medians of the children's times.
    """
    from course_utils.xla_cpu import COURSE_SETTING

    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    times: dict[str, list[dict[str, float]]] = {"course": [], "default": []}
    for _ in range(rounds):
        for setting, flag in (("course", "1"), ("default", "0")):
            child_env = {**env, "COURSE_XLA_FLAGS": flag}
            out = subprocess.run([sys.executable, __file__, "--xla-child"], check=True,
                                 capture_output=True, text=True, env=child_env)
            times[setting].append(json.loads(out.stdout.strip().splitlines()[-1]))
    res: dict[str, Any] = {"course_setting": COURSE_SETTING, "ms_per_step": {}, "speedup": {}}
    for name in times["course"][0]:
        med = {k: statistics.median(t[name] for t in v) for k, v in times.items()}
        res["ms_per_step"][name] = med
        res["speedup"][name] = round(med["default"] / med["course"], 2)
        print(f"  {name:<8} course setting {med['course']:8.2f} ms/step, JAX default "
              f"{med['default']:8.2f} ms/step: {res['speedup'][name]:.2f}x")
    return res


def main(argv: list[str] | None = None) -> Path:
    """Run the benchmark, print a report and write it to ``<out>/bench-<timestamp>.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (few repeats)")
    parser.add_argument("--no-quality", action="store_true", help="skip the MNIST time-to-quality")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts", help="JSON output folder")
    parser.add_argument("--no-xla-compare", action="store_true",
                        help="skip the course's XLA setting vs JAX's default")
    parser.add_argument("--xla-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.xla_child:  # one side of benchmark_xla_setting: print the times as JSON
        print(json.dumps(course_step_times(2 if args.quick else 3, 0.3)))
        return args.out
    print(f"jax {jax.__version__}, flax {_version('flax')}, "
          f"optax {optax.__version__}, {os.cpu_count()} CPU(s), {platform.processor() or ''}")
    if torch_models() is None:
        print("PyTorch is not installed: skipping the PyTorch comparison "
              "(pip install torch==2.13.0 to include it)")
    else:
        import torch

        print(f"torch {torch.__version__}")
    report: dict[str, Any] = {
        "time": datetime.datetime.now().isoformat(timespec="seconds"),
        "versions": {"jax": jax.__version__, "flax": _version("flax"), "optax": optax.__version__},
        "cpus": os.cpu_count(), "quick": args.quick,
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
    }
    report["steps"] = benchmark_steps(repeats=2 if args.quick else 9,
                                      min_seconds=0.05 if args.quick else 0.3)
    print("\nMFU = model FLOPs per step / step time / FLOP/s of a jitted 2048x2048 float32 "
          "matmul timed in the same round-robin")
    if not args.no_xla_compare:
        print(f"\n== the course's XLA CPU setting vs JAX's default (child processes; "
              f"XLA_FLAGS here: {os.environ.get('XLA_FLAGS', '')!r})")
        report["xla_setting"] = benchmark_xla_setting(1 if args.quick else 3)
    if not args.no_quality:
        print("\n== time to quality on MNIST (training time only; compile and evaluation excluded)")
        report["quality"] = benchmark_quality(args.quick)
    report["goals"] = _goals(report)
    print("\n== goals (issue 4)")
    for goal, (value, met) in report["goals"].items():
        print(f"  {goal:<48} {value!s:>8}  {'met' if met else 'NOT met'}")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"bench-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {path}")
    return path


def _goals(report: dict[str, Any]) -> dict[str, tuple[Any, bool]]:
    """The issue's targets, each as (measured value, met?)."""
    goals: dict[str, tuple[Any, bool]] = {}
    models = report["steps"]["models"]
    for name, target in (("mlp_ae", 2.5), ("conv_ae", 1.5), ("dcgan", 1.5)):
        ratio = models[name].get("speedup_vs_torch_best", {}).get("jax_course")
        if ratio is not None:
            goals[f"{name} step >= {target}x PyTorch eager (best)"] = (ratio, bool(ratio >= target))
    mfu = models["mlp_ae"]["mfu_percent"]["jax_course"]
    goals["mlp_ae step MFU >= 80% of matmul peak"] = (mfu, bool(mfu >= 80))
    for name, limit in (("mlp_ae", 3.0), ("conv_ae", 15.0)):
        sec = report.get("quality", {}).get(name, {}).get("seconds", "n/a")
        goals[f"{name} seconds to test MSE < 0.01 <= {limit:g}"] = (
            sec, bool(isinstance(sec, float) and sec <= limit))
    return goals


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    main()
