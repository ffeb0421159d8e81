"""Save and load NNX model state safely: msgpack (never pickle), atomic writes, checked contents.

A checkpoint file is a msgpack map::

    {"format": "course-utils-checkpoint", "version": 1,
     "config": <JSON text of what built and trained the model>,
     "sha256": <hex digest of "payload">, "payload": <msgpack of {"param/path": array}>,
     "mode": "fast" or "full"}   # only in files written by load_or_train

``load_model`` refuses a file whose format, version, mode, config, digest, parameter names,
shapes or dtypes do not match, or that cannot be decoded at all, with a ``CheckpointError`` that
says why; ``load_or_train`` turns such a refusal into a rebuild, so a stale or corrupted file
never crashes a notebook. Files larger than ``MAX_BYTES`` are refused without being read.

``load_or_train`` keeps the models it trains in ``cache_dir()`` (``cache_root() / "checkpoints"``,
see ``course_utils.config.cache_root``), one file per name and mode: ``<name>.full.msgpack`` and
``<name>.fast.msgpack``, so that a fast-mode run (the test suite) and a full-mode run never load
or overwrite each other's models.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import jax
import numpy as np
from flax import nnx, serialization

from course_utils import config as course_config
from course_utils.config import CACHE_DIR_ENV, cache_root, own_folder_advice, remove_stale_files
from course_utils.data import PRETRAINED_SHA256, data_file_path, read_verified_bytes

__all__ = [
    "FORMAT",
    "VERSION",
    "CACHE_ENV_VAR",
    "MODES",
    "MAX_BYTES",
    "STALE_TMP_S",
    "NAME_RULE",
    "CheckpointError",
    "CheckpointWriteError",
    "cache_dir",
    "check_name",
    "save_model",
    "load_model",
    "load_pretrained",
    "load_or_train",
]

FORMAT = "course-utils-checkpoint"
VERSION = 1
CACHE_ENV_VAR = CACHE_DIR_ENV
MODES = ("fast", "full")
MAX_BYTES = 64 * 2**20
"""The largest checkpoint file read (64 MiB); the largest shipped one is 3.3 MB."""
STALE_TMP_S = 3600.0
"""Temporary files of a write that never finished (``.NAME.msgpack.*.tmp``) older than this are
removed by the next save into the same folder."""
NAME_RULE = "1 to 100 characters: letters, digits and . _ + -, starting with a letter or digit"
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,99}")

M = TypeVar("M", bound=nnx.Module)


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, corrupted, or was made for another model,
    config or mode."""


class CheckpointWriteError(OSError):
    """A checkpoint could not be written (a folder you cannot write, a full disk, ...)."""


def cache_dir() -> Path:
    """Where ``load_or_train`` keeps models trained on this machine: ``cache_root() /
    "checkpoints"`` (``$COURSE_CACHE_DIR/checkpoints``, else
    ``$XDG_CACHE_HOME/course-utils/checkpoints``, else ``~/.cache/course-utils/checkpoints``)."""
    return cache_root() / "checkpoints"


def check_name(name: object) -> str:
    """``name`` if it is a valid checkpoint name (``NAME_RULE``), else a ``ValueError`` saying what
    a valid name is: ``"nb02_mlp_ae_D2"``, ``"nb07_vae_D2_beta0.5"``."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValueError(
            f"name must be a plain file name of {NAME_RULE} (e.g. 'nb02_mlp_ae_D2' or "
            f"'nb07_vae_D2_beta0.5'), got {name!r}"
        )
    return name


def _check_mode(mode: object) -> None:
    if mode is not None and mode not in MODES:
        raise ValueError(f'mode must be "fast", "full" or None, got {mode!r}')


def _path_key(path: tuple) -> str:
    parts = []
    for entry in path:
        key = getattr(entry, "key", getattr(entry, "idx", getattr(entry, "name", entry)))
        parts.append(str(key))
    return "/".join(parts)


def _flat_params(model: nnx.Module) -> tuple[dict[str, Any], Any, Any]:
    state = nnx.state(model)
    pure = nnx.to_pure_dict(state)
    leaves_with_path, treedef = jax.tree_util.tree_flatten_with_path(pure)
    flat = {_path_key(p): leaf for p, leaf in leaves_with_path}
    return flat, treedef, state


def _config_text(config: Mapping[str, Any]) -> str:
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict of JSON values, got {type(config).__name__}")
    try:
        return json.dumps(config, sort_keys=True)
    except TypeError as err:
        raise TypeError(f"config must hold only JSON values (numbers, strings): {err}") from err


def save_model(
    model: nnx.Module,
    path: str | os.PathLike,
    *,
    config: Mapping[str, Any],
    mode: str | None = None,
) -> Path:
    """Write ``model``'s state to ``path`` atomically (a temporary file, then a rename).

    config: JSON-able description of everything that built and trained the model (sizes,
        epochs, seed, ...). ``load_model`` only accepts the file for the same config.
    mode: ``"fast"`` or ``"full"`` to record the course mode the model was trained in (then
        ``load_model(..., mode=...)`` accepts it only in that mode); ``None`` records none
        (the pretrained checkpoints in data/, loaded in both modes).

    Temporary files left by writes that never finished (older than ``STALE_TMP_S``) are
    removed from the folder. Raises ``CheckpointWriteError`` (an ``OSError``) naming the path
    and what to do when the file cannot be written.
    """
    _check_mode(mode)
    path = Path(path)
    flat, _, _ = _flat_params(model)
    arrays = {k: np.asarray(jax.device_get(v)) for k, v in flat.items()}
    payload = serialization.msgpack_serialize(arrays)
    envelope = {
        "format": FORMAT,
        "version": VERSION,
        "config": _config_text(config),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "payload": payload,
    }
    if mode is not None:
        envelope["mode"] = mode
    data = serialization.msgpack_serialize(envelope)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_files(path.parent.glob(".*.msgpack.*.tmp"), STALE_TMP_S)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise CheckpointWriteError(_write_message(path, err)) from err
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        raise CheckpointWriteError(_write_message(path, err)) from err
    finally:
        Path(tmp).unlink(missing_ok=True)  # after the rename there is nothing left to remove
    return path


def _write_message(path: Path, err: OSError) -> str:
    return (
        f"cannot write checkpoint {path} ({type(err).__name__}: {err.strerror or err}). Make the "
        f"folder {path.parent} writable (or delete a file there that another user owns), or "
        f"{own_folder_advice()}."
    )


def load_model(
    model: M,
    path: str | os.PathLike,
    *,
    config: Mapping[str, Any],
    mode: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> M:
    """Fill ``model``'s parameters (in place) from the checkpoint at ``path``; return ``model``.

    mode: ``"fast"`` or ``"full"``: accept only a file saved with that mode; ``None``: do not
        check the mode.
    max_bytes: a larger file is refused without being read.

    Raises ``CheckpointError`` if the file is missing, unreadable (e.g. another user's file),
    larger than ``max_bytes``, corrupted, of another format version, made with another
    ``config`` or ``mode``, or holds parameters of other names, shapes or dtypes. ``model`` is
    changed only when the whole file was read and checked.
    """
    _check_mode(mode)
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise CheckpointError(_too_large_message(path, size, max_bytes))
            raw = f.read(max_bytes + 1)
    except PermissionError as err:
        raise CheckpointError(
            f"cannot read checkpoint {path}: permission denied ({err.strerror}); it may belong to "
            f"another user. Delete it (or ask its owner to), or "
            f"{own_folder_advice()}."
        ) from None
    except OSError as err:
        raise CheckpointError(f"cannot read checkpoint {path} ({type(err).__name__}: {err})") \
            from None
    if len(raw) > max_bytes:  # the file grew while it was opened
        raise CheckpointError(_too_large_message(path, len(raw), max_bytes))
    return _fill_from_bytes(model, raw, str(path), config, mode)


def _too_large_message(path: Path | str, size: int, max_bytes: int) -> str:
    return (
        f"checkpoint {path} is {size:,} bytes, more than the {max_bytes:,} bytes a course "
        f"checkpoint may have, so it was not read. Delete it (load_or_train then trains the model "
        f"again). A model of your own that is really this large loads with "
        f"load_model(model, path, config=..., max_bytes=...)."
    )


def load_pretrained(model: M, name: str, *, config: Mapping[str, Any]) -> M:
    """Fill ``model`` (in place) from the pretrained checkpoint ``data/<name>.msgpack``.

    The file ships in the repository's data/ folder (without the repository, e.g. in Colab, it is
    downloaded once like the data sets) and is checked against its SHA-256 before it is read:
    its line in the package's checksum file ``course_utils/SHA256SUMS``, as read into
    ``course_utils.data.PRETRAINED_SHA256``. ``model`` is built by the same class that was
    trained (the notebook's own), and ``config`` must be the one it was trained with.
    ``python scripts/train_pretrained.py NAME`` rebuilds the file and its checksum line.

    Raises ``ValueError`` for an unknown ``name``, ``course_utils.data.DataChecksumError`` for a
    corrupted file, and ``CheckpointError`` for a file made for another model or config.
    """

    file_name = f"{name}.msgpack"
    if file_name not in PRETRAINED_SHA256:
        known = ", ".join(sorted(n.removesuffix(".msgpack") for n in PRETRAINED_SHA256)) or "none"
        raise ValueError(f"no pretrained checkpoint named {name!r}; the shipped ones are: {known}")
    size = data_file_path(file_name).stat().st_size
    if size > MAX_BYTES:
        raise CheckpointError(_too_large_message(f"data/{file_name}", size, MAX_BYTES))
    raw = read_verified_bytes(file_name)
    try:
        return _fill_from_bytes(model, raw, f"data/{file_name}", config, None)
    except CheckpointError as err:
        raise CheckpointError(
            f"{err}\nThe model or its config differ from what data/{file_name} was trained with: "
            f"rebuild it with `python scripts/train_pretrained.py {name}`."
        ) from None


def _fill_from_bytes(
    model: M, raw: bytes, where: str, config: Mapping[str, Any], mode: str | None
) -> M:
    want = _config_text(config)
    try:
        envelope = serialization.msgpack_restore(raw)
    except Exception as err:  # truncated or garbage bytes: msgpack and flax raise many kinds
        raise CheckpointError(f"{where} is not a readable checkpoint ({err})") from None
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise CheckpointError(f"{where} is not a course-utils checkpoint")
    if envelope.get("version") != VERSION:
        raise CheckpointError(
            f"{where} has format version {envelope.get('version')!r}, this course reads {VERSION}"
        )
    if mode is not None and envelope.get("mode") != mode:
        made = envelope.get("mode")
        made_in = f"in {made} mode" if made in MODES else "without a recorded mode"
        raise CheckpointError(f"{where} was trained {made_in}; this run is in {mode} mode")
    if envelope.get("config") != want:
        raise CheckpointError(
            f"{where} was made for another config:\n  file: {envelope.get('config')}\n  "
            f"asked: {want}"
        )
    payload = envelope.get("payload")
    if not isinstance(payload, bytes) or hashlib.sha256(payload).hexdigest() != envelope.get(
        "sha256"
    ):
        raise CheckpointError(f"{where} is corrupted: its contents do not match their SHA-256")
    try:
        arrays = serialization.msgpack_restore(payload)
    except Exception as err:  # a digest over bytes that are not a parameter table
        raise CheckpointError(f"{where} holds no readable parameter table ({err})") from None
    if not isinstance(arrays, dict) or not all(isinstance(k, str) for k in arrays):
        raise CheckpointError(
            f"{where} holds {type(arrays).__name__} where a table of named parameters belongs"
        )
    flat, treedef, state = _flat_params(model)
    if set(arrays) != set(flat):
        missing = sorted(set(flat) - set(arrays))[:3]
        extra = sorted(set(arrays) - set(flat))[:3]
        raise CheckpointError(
            f"{where} holds other parameters than this model (missing {missing}, extra {extra})"
        )
    leaves = []
    for key, current in flat.items():
        stored = arrays[key]
        want_shape, want_dtype = np.shape(current), np.asarray(current).dtype
        if not isinstance(stored, np.ndarray | np.generic):
            raise CheckpointError(
                f"{where}: parameter {key} holds a {type(stored).__name__}, the model expects an "
                f"array of shape {want_shape} {want_dtype}"
            )
        if stored.shape != want_shape or stored.dtype != want_dtype:
            raise CheckpointError(
                f"{where}: parameter {key} has shape {stored.shape} {stored.dtype}, the model "
                f"expects {want_shape} {want_dtype}"
            )
        leaves.append(jax.numpy.asarray(stored))
    pure = jax.tree_util.tree_unflatten(treedef, leaves)
    nnx.replace_by_pure_dict(state, pure)
    nnx.update(model, state)
    return model


def load_or_train(
    model: M,
    name: str,
    train_fn: Callable[[M], object],
    *,
    config: Mapping[str, Any],
    directory: str | os.PathLike | None = None,
    verbose: bool = True,
) -> M:
    """Load ``model``'s state from ``<directory>/<name>.<mode>.msgpack``, or train and save it.

    name: the model's name, checked before anything else (``NAME_RULE``: letters, digits and
        ``. _ + -``, e.g. ``"nb02_mlp_ae_D2"``).
    train_fn: ``train_fn(model)`` trains ``model`` in place; called only when no valid
        checkpoint exists (missing, unreadable, stale config, other mode or corrupted — the
        reason is printed).
    directory: defaults to ``cache_dir()``.

    The course mode (``course_utils.config.mode_name()``: ``"fast"`` or ``"full"``) is part of the
    file name and is checked inside the file, so a model trained in one mode is never loaded in
    the other. When the model cannot be saved (a folder you cannot write), it is trained and kept
    in memory, with a warning that names the folder and what to do.
    """
    check_name(name)
    mode = course_config.mode_name()
    folder = Path(directory).expanduser() if directory is not None else cache_dir()
    path = folder / f"{name}.{mode}.msgpack"
    try:
        load_model(model, path, config=config, mode=mode)
        if verbose:
            print(f"loaded {name} ({mode} mode) from {path}")
        return model
    except CheckpointError as err:
        if verbose and path.exists():
            print(f"rebuilding {name}: {err}")
    problem = _cannot_write(folder)
    if problem is not None:  # say so before training, which may take minutes
        _warn_unsaved(name, path, problem)
    train_fn(model)
    try:
        save_model(model, path, config=config, mode=mode)
    except CheckpointWriteError as err:
        if problem is None:
            _warn_unsaved(name, path, err)
        return model
    if verbose:
        print(f"saved {name} ({mode} mode) to {path}")
    return model


def _cannot_write(folder: Path) -> OSError | None:
    """None when a file can be created in ``folder`` (made if missing), else the error."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test.", suffix=".tmp", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        return err
    return None


def _warn_unsaved(name: str, path: Path, err: OSError) -> None:
    detail = str(err) if isinstance(err, CheckpointWriteError) else _write_message(path, err)
    warnings.warn(
        f"{name} cannot be saved, so it is trained and kept in memory only (it will be trained "
        f"again in the next session): {detail}",
        RuntimeWarning,
        stacklevel=3,
    )
