"""Save and load NNX model state safely: msgpack (never pickle), atomic writes, checked contents.

A checkpoint file is a msgpack map::

    {"format": "course-utils-checkpoint", "version": 1,
     "config": <JSON text of what built and trained the model>,
     "sha256": <hex digest of "payload">, "payload": <msgpack of {"param/path": array}>}

``load_model`` refuses a file whose format, version, config, digest, parameter names or shapes
do not match, with a ``CheckpointError`` that says why; ``load_or_train`` turns such a refusal
into a rebuild, so a stale or corrupted file never crashes a notebook.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import jax
import numpy as np
from flax import nnx, serialization

FORMAT = "course-utils-checkpoint"
VERSION = 1
CACHE_ENV_VAR = "COURSE_CACHE_DIR"

M = TypeVar("M", bound=nnx.Module)


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupted, or was made for another model or config."""


def cache_dir() -> Path:
    """Where ``load_or_train`` keeps models trained on this machine.

    ``$COURSE_CACHE_DIR/checkpoints`` if set, else ``~/.cache/course-utils/checkpoints``.
    """
    root = os.environ.get(CACHE_ENV_VAR)
    base = Path(root) if root else Path.home() / ".cache" / "course-utils"
    return base / "checkpoints"


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


def save_model(model: nnx.Module, path: str | os.PathLike, *, config: Mapping[str, Any]) -> Path:
    """Write ``model``'s state to ``path`` atomically (a temporary file, then a rename).

    config: JSON-able description of everything that built and trained the model (sizes,
        epochs, seed, ...). ``load_model`` only accepts the file for the same config.
    """
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
    data = serialization.msgpack_serialize(envelope)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_model(model: M, path: str | os.PathLike, *, config: Mapping[str, Any]) -> M:
    """Fill ``model``'s parameters (in place) from the checkpoint at ``path``; return ``model``.

    Raises ``CheckpointError`` if the file is missing, corrupted, of another format version,
    made with another ``config``, or holds parameters of other names or shapes.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    return _fill_from_bytes(model, path.read_bytes(), str(path), config)


def load_pretrained(model: M, name: str, *, config: Mapping[str, Any]) -> M:
    """Fill ``model`` (in place) from the pretrained checkpoint ``data/<name>.msgpack``.

    The file ships in the repository's data/ folder (without the repository, e.g. in Colab, it is
    downloaded once like the data sets) and is checked against its SHA-256 in
    ``course_utils.data.PRETRAINED_SHA256`` before it is read. ``model`` is built by the same class
    that was trained (the notebook's own), and ``config`` must be the one it was trained with.
    ``python scripts/train_pretrained.py NAME`` rebuilds the file.

    Raises ``ValueError`` for an unknown ``name``, ``course_utils.data.DataChecksumError`` for a
    corrupted file, and ``CheckpointError`` for a file made for another model or config.
    """
    from course_utils.data import PRETRAINED_SHA256, read_verified_bytes

    file_name = f"{name}.msgpack"
    if file_name not in PRETRAINED_SHA256:
        known = ", ".join(sorted(n.removesuffix(".msgpack") for n in PRETRAINED_SHA256)) or "none"
        raise ValueError(f"no pretrained checkpoint named {name!r}; the shipped ones are: {known}")
    raw = read_verified_bytes(file_name)
    try:
        return _fill_from_bytes(model, raw, f"data/{file_name}", config)
    except CheckpointError as err:
        raise CheckpointError(
            f"{err}\nThe model or its config differ from what data/{file_name} was trained with: "
            f"rebuild it with `python scripts/train_pretrained.py {name}`."
        ) from None


def _fill_from_bytes(model: M, raw: bytes, where: str, config: Mapping[str, Any]) -> M:
    try:
        envelope = serialization.msgpack_restore(raw)
    except Exception as err:  # truncated or garbage bytes
        raise CheckpointError(f"{where} is not a readable checkpoint ({err})") from err
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise CheckpointError(f"{where} is not a course-utils checkpoint")
    if envelope.get("version") != VERSION:
        raise CheckpointError(
            f"{where} has format version {envelope.get('version')}, this course reads {VERSION}"
        )
    want = _config_text(config)
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
    arrays = serialization.msgpack_restore(payload)
    flat, treedef, state = _flat_params(model)
    if set(arrays) != set(flat):
        missing = sorted(set(flat) - set(arrays))[:3]
        extra = sorted(set(arrays) - set(flat))[:3]
        raise CheckpointError(
            f"{where} holds other parameters than this model (missing {missing}, extra {extra})"
        )
    leaves = []
    for key, current in flat.items():
        stored = np.asarray(arrays[key])
        if stored.shape != np.shape(current) or stored.dtype != np.asarray(current).dtype:
            raise CheckpointError(
                f"{where}: parameter {key} has shape {stored.shape} {stored.dtype}, the model "
                f"expects {np.shape(current)} {np.asarray(current).dtype}"
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
    """Load ``model``'s state from ``<directory>/<name>.msgpack``, or train and save it.

    train_fn: ``train_fn(model)`` trains ``model`` in place; called only when no valid
        checkpoint exists (missing, stale config or corrupted — the reason is printed).
    directory: defaults to ``cache_dir()``.
    """
    if not name or "/" in name or "\\" in name:
        raise ValueError(f"name must be a plain file name such as 'ae_latent32', got {name!r}")
    path = Path(directory) if directory is not None else cache_dir()
    path = path / f"{name}.msgpack"
    try:
        load_model(model, path, config=config)
        if verbose:
            print(f"loaded {name} from {path}")
        return model
    except CheckpointError as err:
        if verbose and path.exists():
            print(f"rebuilding {name}: {err}")
    train_fn(model)
    save_model(model, path, config=config)
    if verbose:
        print(f"saved {name} to {path}")
    return model
