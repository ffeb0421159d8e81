"""The check protocol every exercise check follows.

A check is a function decorated with ``@exercise_check(name)``: it tries the student's answer
on small, freshly drawn inputs, calls ``expect(condition, hint)`` for each likely mistake, and
returns a success message. The decorator runs it through ``run_check``, which turns the outcome
into a ``CheckResult``, shown in Jupyter as one line: "✅ correct" or "❌ not yet" with the hint.
A check never raises (except for a call with the wrong arguments, or when ``COURSE_EXPECT_CHECKS``
is set for a test), so a notebook with an unfinished exercise still runs.

    @exercise_check("reconstruction loss")
    def check_reconstruction_loss(loss_fn) -> str:
        x = ...
        expect(close(loss_fn(x, x), 0.0), "a perfect reconstruction must have loss 0.")
        return "correct!"
"""

from __future__ import annotations

import functools
import html
import inspect
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from course_utils.gan import ring_centers, sample_ring
from course_utils.train import NonFiniteLossError, run_loop

__all__ = ["EXPECT_ENV", "CheckResult", "CheckExpectationError", "Hint", "RingMLP", "close",
           "draw_apart",
           "exercise_check", "expect", "fresh_rng", "run_check", "train_ring_gan",
           "train_with_step"]

# For the tests that run a whole edition of a notebook: COURSE_EXPECT_CHECKS=pass makes every
# check that does not pass raise (the instructor edition, solutions in place), and
# COURSE_EXPECT_CHECKS=not-attempted makes every check that meets anything but an untouched stub
# raise (the student edition). Unset (as for students), a check never raises.
EXPECT_ENV = "COURSE_EXPECT_CHECKS"
_EXPECTATIONS = ("pass", "not-attempted")

P = ParamSpec("P")
T = TypeVar("T")


class Hint(AssertionError):
    """Raised inside a check when the answer is wrong; its message is the hint shown."""


def expect(condition: bool, hint: str) -> None:
    """Fail the running check with ``hint`` unless ``condition`` holds."""
    if not condition:
        raise Hint(hint)


class CheckExpectationError(AssertionError):
    """Raised by a check when ``COURSE_EXPECT_CHECKS`` is set and the outcome is not the one
    expected (for tests that run a whole edition of a notebook)."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: ``passed`` and the line shown to the student."""

    name: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        mark = "✅" if self.passed else "❌"
        return f"{mark} {self.name}: {self.message}"

    def _repr_html_(self) -> str:
        color = "#1a7f37" if self.passed else "#b42318"
        return f'<span style="color:{color}">{html.escape(repr(self))}</span>'


def run_check(name: str, body: Callable[[], str | None]) -> CheckResult:
    """Run ``body()`` and turn its outcome into a ``CheckResult``.

    ``body`` raises ``Hint`` for a wrong answer and returns an optional success message.
    ``NotImplementedError`` means the stub is untouched; any other error is reported as such.
    """
    expected = os.environ.get(EXPECT_ENV, "").strip()
    if expected and expected not in _EXPECTATIONS:
        raise ValueError(f"{EXPECT_ENV} must be 'pass', 'not-attempted' or unset, got "
                         f"{expected!r}")
    attempted = True
    try:
        message = body()
    except NotImplementedError:
        attempted = False
        result = CheckResult(name, False, "not attempted yet: replace `raise "
                             "NotImplementedError` with your code, run that cell, then this one.")
    except Hint as hint:
        result = CheckResult(name, False, f"not yet. Hint: {hint}")
    except Exception as err:  # the student's code crashed: say where to look
        result = CheckResult(name, False, f"not yet: your code raised {type(err).__name__}: "
                             f"{err}")
    else:
        result = CheckResult(name, True, message or "correct!")
    if (expected == "pass" and not result) or (expected == "not-attempted" and attempted):
        raise CheckExpectationError(f"{EXPECT_ENV}={expected}, but: {result!r}")
    return result


def exercise_check(name: str) -> Callable[[Callable[P, str | None]], Callable[P, CheckResult]]:
    """Make ``check(answer, ...) -> success message`` a check that returns a ``CheckResult``.

    The decorated function raises ``Hint`` (through ``expect``) for a wrong answer; the check
    it becomes reports that, an untouched stub or a crash of the student's code as "❌ not yet"
    and never raises. Calling it with arguments its signature does not take is still a
    ``TypeError``, as for any function.
    """

    def decorate(check: Callable[P, str | None]) -> Callable[P, CheckResult]:
        signature = inspect.signature(check)

        @functools.wraps(check)
        def run(*args: P.args, **kwargs: P.kwargs) -> CheckResult:
            signature.bind(*args, **kwargs)  # a wrong call is the caller's error, not a hint
            return run_check(name, lambda: check(*args, **kwargs))

        run.__signature__ = signature.replace(return_annotation="CheckResult")  # for help()
        return run

    return decorate


def fresh_rng() -> np.random.Generator:
    """A generator seeded from fresh entropy: every check call draws new inputs, so an answer
    that repeats an output it memorised (or that is right on one input only) cannot pass."""
    return np.random.default_rng(np.random.SeedSequence().entropy)


def close(a: object, b: object, rtol: float = 1e-4) -> bool:
    """Whether ``a`` and ``b`` (numbers or arrays of one shape) agree to ``rtol``, atol 1e-6."""
    return bool(np.allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                            rtol=rtol, atol=1e-6))


def draw_apart(draw: Callable[[], tuple[T, Sequence[object]]], *, rtol: float = 1e-3,
               tries: int = 100) -> T:
    """Call ``draw() -> (case, values)`` until no two of ``values`` are ``close`` at ``rtol``;
    return that case.

    values: what the right answer and each mistake a check names give on the case (numbers, or
    arrays of one shape). A random draw can make two of them agree within a check's tolerance
    (a loss whose two terms nearly cancel, a weight drawn near 1), and then a mistake would pass
    for the right answer; ``rtol`` is kept 10 times the checks' 1e-4. Raises ``RuntimeError``
    (a bug in the check, not in the answer) when ``tries`` draws all fail.
    """
    for _ in range(tries):
        case, values = draw()
        if not any(close(a, b, rtol=rtol) for i, a in enumerate(values) for b in values[i + 1:]):
            return case
    raise RuntimeError(f"no random draw in {tries} kept the check's cases apart: report this "
                       "bug in the check.")


def train_with_step(model: nnx.Module, step: Callable[..., jax.Array], x_train: np.ndarray, *,
                    steps: int, batch_size: int, learning_rate: float, seed: int,
                    who: str) -> nnx.Module:
    """Train ``model`` in place with ``step(model, optimizer, x, key) -> loss``; return it.

    For the "build it" checks, which judge a student's step (or loss) by what it achieves.
    Adam at ``learning_rate``; ``steps`` batches of ``batch_size`` rows of ``x_train: float32[N,
    ...]`` drawn with ``seed``, and a new key per step from ``seed``: two steps trained with
    one seed see the same batches and keys. The step is jitted over the split state. Stops with a
    hint naming ``who`` when the loss is not one finite number, or when the first step leaves the
    parameters unchanged.
    """
    optimizer = nnx.Optimizer(model, optax.adam(learning_rate), wrt=nnx.Param)
    graphdef, state = nnx.split((model, optimizer))

    @jax.jit
    def train_step(state, x, key):
        model, optimizer = nnx.merge(graphdef, state)
        loss = step(model, optimizer, x, key)
        return nnx.state((model, optimizer)), loss

    before = [np.array(p) for p in jax.tree.leaves(nnx.state(model, nnx.Param))]
    order = np.random.default_rng(seed)
    key = jax.random.PRNGKey(seed)

    def one_step(state, i):
        batch = x_train[order.integers(0, len(x_train), batch_size)]
        return train_step(state, batch, jax.random.fold_in(key, i))

    state, loss = one_step(state, 0)
    expect(np.ndim(loss) == 0, f"{who}: return the loss, one number for the batch; got shape "
           f"{np.shape(loss)}.")
    nnx.update((model, optimizer), state)
    after = [np.asarray(p) for p in jax.tree.leaves(nnx.state(model, nnx.Param))]
    expect(any(not np.array_equal(a, p) for a, p in zip(before, after, strict=True)),
           f"{who}: the first step left the parameters unchanged: compute the gradients with "
           "nnx.value_and_grad and apply them with optimizer.update(model, grads).")
    hint = "look for a log of 0, a division by 0 or a sign that makes the loss fall without end."
    expect(bool(np.isfinite(float(loss))), f"{who}: the loss is {float(loss)} at step 1: {hint}")
    try:  # the course's loop, with its check for a loss that is not finite
        state, _ = run_loop(lambda s, i: one_step(s, i + 1), state, steps - 1, hint=hint)
    except NonFiniteLossError as err:
        raise Hint(f"{who}: {err}") from None
    nnx.update((model, optimizer), state)
    return model


class RingMLP(nnx.Module):
    """Notebook 06's MLP: two hidden layers with leaky ReLU, float32[N, d_in] -> [N, d_out]."""

    def __init__(self, d_in: int, d_out: int, hidden: int, *, rngs: nnx.Rngs):
        self.net = nnx.Sequential(
            nnx.Linear(d_in, hidden, rngs=rngs), nnx.leaky_relu,
            nnx.Linear(hidden, hidden, rngs=rngs), nnx.leaky_relu,
            nnx.Linear(hidden, d_out, rngs=rngs),
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.net(x)


_GAN_CHUNK = 100  # GAN rounds per compiled call


def train_ring_gan(gan_round: Callable[..., tuple[jax.Array, jax.Array]], seed: int, *,
                   rounds: int, batch_size: int, learning_rate: float, hidden: int,
                   n_labels: int = 0) -> nnx.Module:
    """A fresh G and D trained on notebook 06's ring with a student's ``gan_round``; returns G.

    For the GAN "build it" checks. G: ``RingMLP(2 + n_labels, 2)``, D: ``RingMLP(2 + n_labels,
    1)``, Adam(learning_rate, b1=0.5) each; ``rounds`` (a multiple of 100) rounds of
    ``batch_size`` ring samples, keys from ``seed``. Unconditional (``n_labels == 0``):
    ``gan_round(G, D, opt_g, opt_d, x_real, z_d, z_g)``; conditional (``n_labels == 8``, a
    sample's label is the index of its mode): ``gan_round(G, D, opt_g, opt_d, x_real, y_real,
    z_d, y_d, z_g, y_g)`` with int32 labels in 0..7 for the real batch and for the generated
    batches of D's and of G's step. Both return ``(d_loss, g_loss)``. Stops with a hint when the
    losses are not two numbers, when one round leaves a player unchanged, or on a NaN.
    """
    G = RingMLP(2 + n_labels, 2, hidden, rngs=nnx.Rngs(seed))
    D = RingMLP(2 + n_labels, 1, hidden, rngs=nnx.Rngs(seed + 100))
    opt_g = nnx.Optimizer(G, optax.adam(learning_rate, b1=0.5), wrt=nnx.Param)
    opt_d = nnx.Optimizer(D, optax.adam(learning_rate, b1=0.5), wrt=nnx.Param)
    graphdef, state = nnx.split((G, D, opt_g, opt_d))
    x_np = sample_ring(50_000, seed=seed)
    labels = np.argmin(np.linalg.norm(x_np[:, None] - ring_centers()[None], axis=-1), axis=1)
    data, data_labels = jnp.asarray(x_np), jnp.asarray(labels, np.int32)
    key, n = jax.random.key(seed), batch_size

    def one_round(state, i):
        G, D, opt_g, opt_d = nnx.merge(graphdef, state)
        k_data, k_d, k_g, k_yd, k_yg = jax.random.split(jax.random.fold_in(key, i), 5)
        pick = jax.random.randint(k_data, (n,), 0, len(data))
        z_d, z_g = jax.random.normal(k_d, (n, 2)), jax.random.normal(k_g, (n, 2))
        if n_labels:
            y_d = jax.random.randint(k_yd, (n,), 0, n_labels)
            y_g = jax.random.randint(k_yg, (n,), 0, n_labels)
            losses = gan_round(G, D, opt_g, opt_d, data[pick], data_labels[pick], z_d, y_d, z_g,
                               y_g)
        else:
            losses = gan_round(G, D, opt_g, opt_d, data[pick], z_d, z_g)
        return nnx.state((G, D, opt_g, opt_d)), losses

    # a first round on a copy of the state: the shapes of the losses, and that both players move
    probe, losses = jax.jit(one_round)(state, 0)
    expect(isinstance(losses, tuple) and len(losses) == 2
           and all(np.ndim(v) == 0 for v in losses),
           "return the two losses of the round, (d_loss, g_loss), each one number.")
    G1, D1, _, _ = nnx.merge(graphdef, probe)
    for name, new, old in (("G", G1, G), ("D", D1, D)):
        moved = [not np.array_equal(a, p) for a, p in zip(
            jax.tree.leaves(nnx.state(new, nnx.Param)), jax.tree.leaves(nnx.state(old, nnx.Param)),
            strict=True)]
        expect(any(moved), f"one round left {name}'s parameters unchanged: each player needs its "
               f"own step, nnx.value_and_grad of its loss and opt_{name.lower()}.update({name}, "
               "grads).")

    @jax.jit
    def chunk(state, start):  # _GAN_CHUNK rounds in one call (small MLPs: a scan is fast on CPU)
        return jax.lax.scan(one_round, state, start + jnp.arange(_GAN_CHUNK))

    def chunk_step(state, c):
        state, chunk_losses = chunk(state, c * _GAN_CHUNK)
        return state, tuple(jnp.mean(v) for v in chunk_losses)  # a NaN stays NaN

    hint = ("look for a log of 0 or a sign that makes a loss fall without end: D minimises "
            "-V, G the non-saturating -E[log D(G(z))].")
    try:
        state, _ = run_loop(chunk_step, state, rounds // _GAN_CHUNK, hint=hint,
                            where=lambda c: f"rounds {c * _GAN_CHUNK + 1}-{(c + 1) * _GAN_CHUNK}")
    except NonFiniteLossError as err:
        raise Hint(str(err)) from None
    nnx.update((G, D, opt_g, opt_d), state)
    return G
