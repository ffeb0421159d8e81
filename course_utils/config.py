"""The single fast/full switch of the course.

Full mode (the default) is what students run and what the committed notebook outputs show.
Fast mode shrinks epochs and data so that CI can execute every notebook on a 2-core CPU.
It is switched on by the environment variable ``COURSE_FAST=1`` (``make test`` sets it for
nbval) and read once, when this module is imported.
"""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

ENV_VAR = "COURSE_FAST"


def _read_fast_flag(value: str | None) -> bool:
    if value is None or value.strip() == "":
        return False
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{ENV_VAR} must be 1 (fast mode) or 0 (full mode), got {value!r}")


FAST: bool = _read_fast_flag(os.environ.get(ENV_VAR))


def is_fast() -> bool:
    """True when the course runs in fast mode (``COURSE_FAST=1``)."""
    return FAST


def full_or_fast(full: T, fast: T) -> T:
    """``full`` in full mode, ``fast`` in fast mode: ``EPOCHS = full_or_fast(20, 1)``."""
    return fast if FAST else full


def mode_name() -> str:
    """``"fast"`` or ``"full"``, for printing at the top of a notebook."""
    return "fast" if FAST else "full"
