"""The check protocol every exercise check follows.

A check is a function decorated with ``@exercise_check(name)``: it tries the student's answer
on small, freshly drawn inputs, calls ``expect(condition, hint)`` for each likely mistake, and
returns a success message. The decorator runs it through ``run_check``, which turns the outcome
into a ``CheckResult``, shown in Jupyter as one line: "✅ correct" or "❌ not yet" with the hint.
A check never raises (except for a call with the wrong arguments), so a notebook with an
unfinished exercise still runs.

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
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec

import jax
import numpy as np
import optax
from flax import nnx

from course_utils.train import NonFiniteLossError, run_loop

__all__ = ["CheckResult", "Hint", "close", "exercise_check", "expect", "fresh_rng", "run_check",
           "train_with_step"]

P = ParamSpec("P")


class Hint(AssertionError):
    """Raised inside a check when the answer is wrong; its message is the hint shown."""


def expect(condition: bool, hint: str) -> None:
    """Fail the running check with ``hint`` unless ``condition`` holds."""
    if not condition:
        raise Hint(hint)


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
    try:
        message = body()
    except NotImplementedError:
        return CheckResult(name, False, "not attempted yet: replace `raise NotImplementedError` "
                                        "with your code, run that cell, then this one.")
    except Hint as hint:
        return CheckResult(name, False, f"not yet. Hint: {hint}")
    except Exception as err:  # the student's code crashed: say where to look
        return CheckResult(name, False, f"not yet: your code raised {type(err).__name__}: {err}")
    return CheckResult(name, True, message or "correct!")


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
