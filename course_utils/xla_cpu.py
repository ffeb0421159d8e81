"""One XLA setting for CPU speed, applied when ``course_utils`` is imported, before JAX starts.

XLA on CPU (jaxlib 0.10 and 0.11) hands convolutions to the YNNPACK library by default. On the
2-core CPUs the course is tested on, YNNPACK ran the course's convolution training steps about
1.5x slower than XLA's own (Eigen) convolutions: the weight gradients of strided convolutions
were the slow part. The flag ``--xla_cpu_experimental_ynn_fusion_type=-individual_convolution``
takes convolutions away from YNNPACK and leaves everything else (matmuls, element-wise work) as
it is, so MLPs keep their speed. ``benchmarks/bench_training_steps.py`` measures both settings.

The flag is added to ``XLA_FLAGS`` only when all of these hold:

* ``COURSE_XLA_FLAGS`` is not ``0`` (set it to ``0`` to keep JAX's defaults);
* ``XLA_FLAGS`` does not already set ``xla_cpu_experimental_ynn_fusion_type`` (yours wins);
* the installed jaxlib is one where the flag exists and was measured (0.10.x, 0.11.x): XLA
  aborts on a flag it does not know, so other versions are left alone;
* JAX has not started a backend yet (XLA reads ``XLA_FLAGS`` once, when it starts).

It only concerns XLA's CPU backend: on a GPU nothing changes. Results agree with the default
setting to float32 rounding (the same sums, added in another order).
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError, version

__all__ = [
    "YNN_FLAG",
    "COURSE_SETTING",
    "ENV_VAR",
    "SUPPORTED_JAXLIB",
    "planned_xla_flags",
    "apply_course_xla_flags",
]

YNN_FLAG = "--xla_cpu_experimental_ynn_fusion_type"
COURSE_SETTING = f"{YNN_FLAG}=-individual_convolution"
ENV_VAR = "COURSE_XLA_FLAGS"
SUPPORTED_JAXLIB = ((0, 10), (0, 11))  # (major, minor) versions where the flag was measured


def _jaxlib_version() -> tuple[int, int] | None:
    try:
        major, minor = version("jaxlib").split(".")[:2]
        return int(major), int(minor)
    except (PackageNotFoundError, ValueError):
        return None


def _backends_started() -> bool:
    if "jax" not in sys.modules:
        return False
    try:
        # at the top it would import JAX whenever course_utils is imported, before the flag
        from jax._src import xla_bridge  # noqa: PLC0415

        return bool(xla_bridge.backends_are_initialized())
    except (ImportError, AttributeError):  # another JAX layout: assume it has started
        return True


def planned_xla_flags(environ: dict[str, str], jaxlib: tuple[int, int] | None) -> str | None:
    """The ``XLA_FLAGS`` value the course would set, or None to leave it alone (pure function).

    environ: the process environment; jaxlib: (major, minor) of the installed jaxlib, or None.
    """
    if environ.get(ENV_VAR, "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    flags = environ.get("XLA_FLAGS", "")
    if YNN_FLAG.lstrip("-") in flags or jaxlib not in SUPPORTED_JAXLIB:
        return None
    return f"{flags} {COURSE_SETTING}".strip()


def apply_course_xla_flags() -> bool:
    """Add the course's CPU setting to ``os.environ["XLA_FLAGS"]`` if it applies; True if added."""
    flags = planned_xla_flags(dict(os.environ), _jaxlib_version())
    if flags is None or _backends_started():
        return False
    os.environ["XLA_FLAGS"] = flags
    return True
