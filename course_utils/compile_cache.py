"""JAX's persistent compilation cache, on by default: each program is compiled once per machine.

Every ``jax.jit`` function is compiled by XLA the first time it runs with new shapes. Without a
cache on disk, each new Python process (each notebook kernel, each re-run after a restart) pays
every compilation again. ``import course_utils`` turns on JAX's own persistent cache in the
course's cache folder, so a second run of a notebook loads its compiled programs from disk.

* Where: ``cache_root()/jax/jax-<jax version>-jaxlib-<jaxlib version>`` (see
  ``course_utils.config.cache_root``). JAX's own key for each program already includes the
  program, the XLA flags, the backend and the device; the version folder also keeps programs of
  one JAX release away from another's.
* Size: at most ``MAX_BYTES`` (least recently used programs are dropped). With a size limit JAX
  takes a file lock around every read and write, so two kernels can share the folder safely.
* Off: ``COURSE_COMPILE_CACHE=0``. Another folder: ``COURSE_COMPILE_CACHE_DIR=/path`` (the test
  runs use one of their own). A cache folder you chose through JAX (``jax_compilation_cache_dir``
  or ``JAX_COMPILATION_CACHE_DIR``) is left as it is.

``compile_seconds()`` reports the time this process spent in XLA compilation and in loading
programs from the cache (``python scripts/compile_times.py`` prints it per notebook).
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path

import jax
from jax import monitoring

from course_utils.config import cache_root, read_switch

__all__ = ["DIR_ENV_VAR", "ENV_VAR", "MAX_BYTES", "MIN_COMPILE_SECONDS", "cache_folder",
           "compile_seconds", "enable_compile_cache"]

ENV_VAR = "COURSE_COMPILE_CACHE"
DIR_ENV_VAR = "COURSE_COMPILE_CACHE_DIR"
MAX_BYTES = 1 << 30  # 1 GiB
# Programs that compile faster than this are not written (reading one back costs a few ms).
MIN_COMPILE_SECONDS = 0.05

_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
_LOAD_EVENT = "/jax/compilation_cache/cache_retrieval_time_sec"
_totals = {"compile_s": 0.0, "compiles": 0, "cache_load_s": 0.0, "cache_loads": 0}


def _on_duration(event: str, duration: float, *args: object, **kwargs: object) -> None:
    if event == _COMPILE_EVENT:
        _totals["compile_s"] += duration
        _totals["compiles"] += 1
    elif event == _LOAD_EVENT:
        _totals["cache_load_s"] += duration
        _totals["cache_loads"] += 1


monitoring.register_event_duration_secs_listener(_on_duration)


def compile_seconds() -> dict[str, float]:
    """This process's totals so far: ``compile_s`` (seconds in XLA compilation, ``compiles`` of
    them) and ``cache_load_s`` (seconds loading compiled programs from the cache, ``cache_loads``).
    """
    return dict(_totals)


def _jaxlib_version() -> str:
    try:
        return version("jaxlib")
    except PackageNotFoundError:
        return "unknown"


def cache_folder() -> Path:
    """The folder the course uses for this JAX version's compiled programs: under
    ``$COURSE_COMPILE_CACHE_DIR`` if set, else under ``cache_root()/jax``."""
    chosen = os.environ.get(DIR_ENV_VAR, "")
    if chosen.strip():
        base = Path(chosen.strip()).expanduser()
        if not base.is_absolute():
            raise ValueError(f"{DIR_ENV_VAR} must be an absolute path, got {chosen!r}")
    else:
        base = cache_root() / "jax"
    return base / f"jax-{jax.__version__}-jaxlib-{_jaxlib_version()}"


def _switched_off(value: str | None) -> bool:
    switch = read_switch(ENV_VAR, value, on="cache compiled programs", off="do not")
    return switch is False


def enable_compile_cache() -> Path | None:
    """Turn on JAX's persistent compilation cache in ``cache_folder()``; returns the folder in use,
    or None when it is switched off (``COURSE_COMPILE_CACHE=0``) or the folder cannot be created.
    A folder already chosen through JAX's own setting is kept and returned.
    """
    if _switched_off(os.environ.get(ENV_VAR)):
        return None
    chosen = jax.config.jax_compilation_cache_dir
    if chosen:
        return Path(chosen)
    try:
        folder = cache_folder()
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError):  # read-only home, a refused cache setting: compile as usual
        return None
    if find_spec("filelock") is None:  # JAX needs it for the size limit and the shared lock
        return None
    jax.config.update("jax_compilation_cache_max_size", MAX_BYTES)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    return folder
