"""The check protocol every exercise check follows.

A check's ``body()`` tries the student's answer on small inputs, calls ``expect(condition,
hint)`` for each likely mistake, and returns a success message; ``run_check(name, body)``
turns that into a ``CheckResult``, shown in Jupyter as one line: "✅ correct" or "❌ not yet"
with the hint. A check never raises, so a notebook with an unfinished exercise still runs.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["CheckResult", "Hint", "expect", "run_check", "close"]


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


def fresh_rng() -> np.random.Generator:
    """A generator seeded from fresh entropy: every check call draws new inputs, so an answer
    that repeats an output it memorised (or that is right on one input only) cannot pass."""
    return np.random.default_rng(np.random.SeedSequence().entropy)


def close(a: object, b: object, rtol: float = 1e-4) -> bool:
    """Whether ``a`` and ``b`` (numbers or arrays of one shape) agree to ``rtol``, atol 1e-6."""
    return bool(np.allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                            rtol=rtol, atol=1e-6))
