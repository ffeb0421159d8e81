"""The course's two settings from the environment: the fast/full switch and the cache folder.

Full mode (the default) is what students run and what the committed notebook outputs show.
Fast mode shrinks epochs and data so that CI can execute every notebook on a 2-core CPU.
It is switched on by the environment variable ``COURSE_FAST=1`` (``make test`` sets it for
nbval) and read once, when this module is imported.

``cache_root()`` is the one folder under which the course keeps what it makes on this machine:
downloaded data files (``cache_root() / "data"``), models trained by the notebooks
(``cache_root() / "checkpoints"``) and JAX's compiled programs (``cache_root() / "jax"``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

__all__ = [
    "ENV_VAR",
    "FAST",
    "is_fast",
    "full_or_fast",
    "mode_name",
    "CACHE_DIR_ENV",
    "XDG_CACHE_ENV",
    "CACHE_NAME",
    "cache_root",
    "read_switch",
    "own_folder_advice",
    "remove_stale_files",
]

T = TypeVar("T")

ENV_VAR = "COURSE_FAST"


def read_switch(name: str, value: str | None, *, on: str, off: str) -> bool | None:
    """The value of an on/off environment variable ``name``: True for 1, true, yes or on; False
    for 0, false, no or off (any case); None when unset or blank. Anything else is a ValueError
    that says what 1 (``on``) and 0 (``off``) mean.
    """
    if value is None or value.strip() == "":
        return None
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be 1 ({on}) or 0 ({off}), got {value!r}")


def _read_fast_flag(value: str | None) -> bool:
    return read_switch(ENV_VAR, value, on="fast mode", off="full mode") is True


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


# ---------------------------------------------------------------- the cache folder

CACHE_DIR_ENV = "COURSE_CACHE_DIR"
XDG_CACHE_ENV = "XDG_CACHE_HOME"
CACHE_NAME = "course-utils"


def cache_root() -> Path:
    """The course's cache folder on this machine, as an absolute path (not created here).

    1. ``$COURSE_CACHE_DIR`` when it is set, with ``~`` expanded. It must be an absolute path
       (``/scratch/me/course-cache`` or ``~/course-cache``): a relative one would depend on the
       folder Python was started in (for a notebook, ``notebooks/``), so it is refused, and so
       are a blank value and one with spaces at its start or end.
    2. else ``$XDG_CACHE_HOME/course-utils`` when that is set to an absolute path (the XDG
       rule: a relative or empty ``XDG_CACHE_HOME`` is ignored);
    3. else ``~/.cache/course-utils``.

    Raises ``ValueError`` naming ``COURSE_CACHE_DIR`` and what to set it to for a refused value.
    """
    raw = os.environ.get(CACHE_DIR_ENV)
    if raw is not None:
        return _checked_cache_dir(raw)
    xdg = os.environ.get(XDG_CACHE_ENV, "")
    if xdg.strip() and Path(xdg).is_absolute():
        return Path(xdg) / CACHE_NAME
    try:
        home = Path.home()
    except (RuntimeError, KeyError) as err:  # no HOME and no entry in the password database
        raise ValueError(
            f"cannot find your home folder for the course's cache ({err}); set {CACHE_DIR_ENV} "
            f"to an absolute path, e.g. {CACHE_DIR_ENV}=/tmp/course-cache"
        ) from None
    return home / ".cache" / CACHE_NAME


def _checked_cache_dir(raw: str) -> Path:
    example = f"e.g. {CACHE_DIR_ENV}=~/course-cache or {CACHE_DIR_ENV}=/scratch/$USER/course-cache"
    if not raw.strip():
        raise ValueError(
            f"{CACHE_DIR_ENV} is set but blank ({raw!r}); set it to an absolute folder path "
            f"({example}), or unset it to use ~/.cache/{CACHE_NAME}"
        )
    if raw != raw.strip():
        raise ValueError(
            f"{CACHE_DIR_ENV}={raw!r} has spaces at its start or end; remove them ({example})"
        )
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise ValueError(
            f"{CACHE_DIR_ENV}={raw!r} is a relative path, which would point to a different "
            f"folder from each working directory (a notebook runs in notebooks/); give an "
            f"absolute path ({example})"
        )
    return path


def own_folder_advice() -> str:
    """The remedy every message about an unwritable cache folder ends with."""
    return f"set {CACHE_DIR_ENV} to an absolute path of a folder of your own"


def remove_stale_files(paths: Iterable[Path], max_age_s: float) -> None:
    """Delete each of ``paths`` last modified more than ``max_age_s`` seconds ago.

    For the temporary files of writes that never finished (a killed kernel, a full disk): a file
    younger than ``max_age_s`` may belong to a write in progress and is kept. A file removed
    meanwhile by another process, or not ours to remove, is passed over.
    """
    now = time.time()
    for path in paths:
        try:
            if now - path.stat().st_mtime > max_age_s:
                path.unlink()
        except OSError:
            pass
