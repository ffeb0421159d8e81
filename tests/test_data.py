"""Tests for course_utils.data, its checksum file course_utils/SHA256SUMS, and the writers of
scripts/build_data.py."""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import tomllib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import build_data
import numpy as np
import pytest

from course_utils import data
from course_utils.config import CACHE_DIR_ENV
from course_utils.data import (
    DATA_SHA256,
    FASHION_CLASSES,
    PRETRAINED_SHA256,
    DataChecksumError,
    DataDownloadError,
    as_digit_images,
    clear_data_cache,
    decode_idx_gz,
    fetch_data_file,
    load_fashion_mnist,
    load_mnist,
    random_subset,
)

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "data"
SUMS = REPO / "course_utils" / "SHA256SUMS"
LOADERS = {"mnist": load_mnist, "fashion": load_fashion_mnist}
SMALL_FILE = "mnist-test-labels-idx1-ubyte.gz"
FASHION_TEST_FILES = (
    "fashion-subset-test-images-idx3-ubyte.gz",
    "fashion-subset-test-labels-idx1-ubyte.gz",
)


@pytest.fixture(autouse=True)
def _no_data_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory) -> None:
    """Every test starts from the repository's data/, whatever the caller's environment, and
    never downloads into the user's cache."""
    for var in (data.DATA_DIR_ENV, data.DATA_URL_ENV):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def mnist_train() -> tuple[np.ndarray, np.ndarray]:
    return load_mnist("train")


@pytest.fixture(scope="module")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    return load_mnist("test")


@pytest.fixture(scope="module")
def fashion() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {split: load_fashion_mnist(split) for split in ("train", "test")}


# ---------------------------------------------------------------- contents


def test_mnist_shapes_dtypes_and_ranges(mnist_train, mnist_test) -> None:
    for (x, y), n in ((mnist_train, 60_000), (mnist_test, 10_000)):
        assert x.shape == (n, 28, 28) and x.dtype == np.float32
        assert y.shape == (n,) and y.dtype == np.int32
        assert x.min() == 0.0 and x.max() == 1.0
        assert set(np.unique(y)) == set(range(10))


def test_mnist_class_counts_match_the_published_ones(mnist_train, mnist_test) -> None:
    train = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    test = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert np.bincount(mnist_train[1]).tolist() == train
    assert np.bincount(mnist_test[1]).tolist() == test


def test_mnist_keeps_the_original_order(mnist_train, mnist_test) -> None:
    assert mnist_train[1][:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert mnist_test[1][:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_pixels_are_bytes_divided_by_255(mnist_test) -> None:
    scaled = mnist_test[0] * 255
    np.testing.assert_allclose(scaled, np.round(scaled), atol=1e-4)


def test_fashion_subset_is_class_balanced_round_robin(fashion) -> None:
    for split, n in (("train", 10_000), ("test", 2_000)):
        x, y = fashion[split]
        assert x.shape == (n, 28, 28) and x.dtype == np.float32
        assert y.dtype == np.int32 and 0.0 <= x.min() and x.max() <= 1.0
        np.testing.assert_array_equal(y, np.arange(n) % 10)


def test_fashion_train_and_test_share_no_image(fashion) -> None:
    train = {img.tobytes() for img in fashion["train"][0]}
    assert not any(img.tobytes() in train for img in fashion["test"][0])


def test_fashion_class_names() -> None:
    assert len(FASHION_CLASSES) == 10 == len(set(FASHION_CLASSES))
    assert FASHION_CLASSES[0] == "T-shirt/top" and FASHION_CLASSES[9] == "Ankle boot"


def test_shipped_mnist_files_are_the_originals_gzipped() -> None:
    for member, (md5, shipped) in build_data.MNIST_FILES.items():
        raw = gzip.decompress((DATA_DIR / shipped).read_bytes())
        assert hashlib.md5(raw).hexdigest() == md5, member


# ---------------------------------------------------------------- limit, flatten, copies


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_limit_takes_the_first_examples(loader, mnist_test, fashion) -> None:
    full = mnist_test if loader is load_mnist else fashion["test"]
    x, y = loader("test", limit=123)
    np.testing.assert_array_equal(x, full[0][:123])
    np.testing.assert_array_equal(y, full[1][:123])


def test_limit_above_the_split_size_gives_the_whole_split() -> None:
    x, y = load_fashion_mnist("test", limit=1_000_000)
    assert x.shape[0] == y.shape[0] == 2_000


def test_limit_accepts_numpy_ints() -> None:
    x, _ = load_mnist("test", limit=np.int64(7))
    assert x.shape == (7, 28, 28)


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_flatten_is_a_reshape_to_784(loader) -> None:
    x, y = loader("test", limit=50)
    xf, yf = loader("test", limit=50, flatten=True)
    assert xf.shape == (50, 784) and xf.dtype == np.float32
    np.testing.assert_array_equal(xf, x.reshape(50, 784))
    np.testing.assert_array_equal(yf, y)


def test_returned_arrays_are_fresh_copies() -> None:
    x, y = load_mnist("test", limit=10)
    assert x.flags.writeable and y.flags.writeable
    x[:] = -1.0
    y[:] = 99
    x2, y2 = load_mnist("test", limit=10)
    assert x2.min() >= 0.0 and y2.max() <= 9


# ---------------------------------------------------------------- argument errors


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_bad_split_names_the_choices(loader) -> None:
    with pytest.raises(ValueError, match=r"""^split must be "train" or "test", got 'val'$"""):
        loader("val")


@pytest.mark.parametrize("limit", [0, -5])
def test_non_positive_limit_is_a_value_error(limit) -> None:
    with pytest.raises(ValueError, match=rf"limit must be a positive int or None, got {limit}"):
        load_mnist("test", limit=limit)


@pytest.mark.parametrize("limit", [2.5, "10", True, False, np.bool_(True)])
def test_non_int_limit_is_a_type_error(limit) -> None:
    with pytest.raises(TypeError, match=r"limit must be a positive int or None, got"):
        load_mnist("test", limit=limit)


def test_non_bool_flatten_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"flatten must be True or False, got 'yes'"):
        load_fashion_mnist("test", flatten="yes")


# ---------------------------------------------------------------- checksums


def test_checksum_constants_are_the_package_checksum_file() -> None:
    entries = data.parse_sha256sums(SUMS.read_text())
    assert DATA_SHA256 == {n: d for n, d in entries.items() if n.endswith(".gz")}
    assert PRETRAINED_SHA256 == {n: d for n, d in entries.items() if n.endswith(".msgpack")}
    assert len(DATA_SHA256) + len(PRETRAINED_SHA256) == len(entries)


def test_every_file_in_data_matches_its_line_in_the_checksum_file() -> None:
    entries = data.parse_sha256sums(SUMS.read_text())
    shipped = {p.name for p in DATA_DIR.iterdir() if p.is_file() and p.name != "README.md"}
    assert shipped == set(entries)
    for name, digest in entries.items():
        assert hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs GNU sha256sum")
def test_sha256sum_checks_data_against_the_package_file() -> None:
    """The command data/README.md gives."""
    result = subprocess.run(["sha256sum", "--check", "--strict", "../course_utils/SHA256SUMS"],
                            cwd=DATA_DIR, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": OK") == len(DATA_SHA256) + len(PRETRAINED_SHA256)


def test_checksums_live_in_one_data_file_not_in_python_source() -> None:
    assert not (DATA_DIR / "SHA256SUMS").exists(), "a second copy could disagree"
    digests = set(data.parse_sha256sums(SUMS.read_text()).values())
    for path in [*(REPO / "course_utils").glob("*.py"), *(REPO / "scripts").glob("*.py")]:
        found = set(re.findall(r"[0-9a-f]{64}", path.read_text(encoding="utf-8")))
        assert not found & digests, f"{path} holds a checksum of data/"


def test_the_checksum_file_is_package_data() -> None:
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "course_utils" in setuptools["packages"]
    patterns = setuptools["package-data"]["course_utils"]
    assert any(fnmatch.fnmatchcase(SUMS.name, pattern) for pattern in patterns)


def _setuptools_can_build() -> bool:
    """pyproject.toml's ``license = "MIT"`` (an SPDX expression) needs setuptools >= 77."""
    try:
        major = int(version("setuptools").split(".")[0])
    except (PackageNotFoundError, ValueError):
        return False
    return major >= 77


@pytest.mark.skipif(not _setuptools_can_build(),
                    reason="building the wheel offline needs setuptools >= 77 in this environment")
def test_an_installed_wheel_reads_its_checksums_without_the_repository(tmp_path) -> None:
    """pip builds the package from a copy of the project; the wheel, unpacked where no data/
    folder is, holds course_utils/SHA256SUMS and course_utils.data reads it."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "course_utils", src / "course_utils",
                    ignore=shutil.ignore_patterns("__pycache__"))
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-q", "-w", str(tmp_path / "dist"), str(src)],
        capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = (tmp_path / "dist").glob("course_utils-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        assert "course_utils/SHA256SUMS" in zf.namelist()
        zf.extractall(tmp_path / "site")
    program = ("import json, course_utils.data as d; print(json.dumps([d.__file__, "
               "d.DATA_SHA256, d.PRETRAINED_SHA256, d._repo_data_dir() is None]))")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site"), "COURSE_COMPILE_CACHE": "0",
           "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop(data.DATA_DIR_ENV, None)
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    where, data_sums, pretrained_sums, no_data_dir = json.loads(run.stdout.splitlines()[-1])
    assert Path(where).is_relative_to(tmp_path / "site") and no_data_dir
    assert data_sums == DATA_SHA256 and pretrained_sums == PRETRAINED_SHA256


def test_parse_sha256sums_refuses_what_sha256sum_would_not_write() -> None:
    good = "a" * 64
    assert data.parse_sha256sums(f"{good}  x.gz\n{good} *y.gz\n\n# note\n") == {
        "x.gz": good, "y.gz": good}
    for text, word in ((f"{good[:-1]}  x.gz", "line 1"), (f"{good.upper()}  x.gz", "line 1"),
                       (f"{good}  ../x.gz", "line 1"), (f"{good}  ", "line 1"),
                       (f"{good}  x.gz\n{good}  x.gz", "listed twice")):
        with pytest.raises(ValueError, match=f"SHA256SUMS, {word}|{word}"):
            data.parse_sha256sums(text)


def test_every_loader_file_has_a_checksum() -> None:
    names = {n for splits in data._FILES.values() for pair in splits.values() for n in pair}
    assert names == set(DATA_SHA256)


def test_each_file_is_hashed_once_per_session(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = data._sha256_hex
    monkeypatch.setattr(data, "_sha256_hex", lambda b: calls.append(1) or real(b))
    clear_data_cache()
    load_fashion_mnist("test", limit=5)
    load_fashion_mnist("test")
    assert len(calls) == 2  # images + labels, once each
    clear_data_cache()
    load_fashion_mnist("test", limit=5)
    assert len(calls) == 4


def _copy_fashion_test(folder: Path) -> None:
    for name in FASHION_TEST_FILES:
        shutil.copy(DATA_DIR / name, folder / name)


def _flip_one_byte(path: Path, at: int = 100) -> None:
    raw = bytearray(path.read_bytes())
    raw[at] ^= 0xFF
    stat = path.stat()
    path.write_bytes(bytes(raw))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_corrupted_file_is_refused_with_a_clear_error(tmp_path, monkeypatch) -> None:
    _copy_fashion_test(tmp_path)
    bad = tmp_path / FASHION_TEST_FILES[0]
    _flip_one_byte(bad)
    actual = hashlib.sha256(bad.read_bytes()).hexdigest()
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(DataChecksumError) as info:
        load_fashion_mnist("test")
    message = str(info.value)
    for part in (str(bad), DATA_SHA256[bad.name], actual, "git checkout data/", "build_data.py"):
        assert part in message
    shutil.copy(DATA_DIR / bad.name, bad)  # the refusal was not cached: a good copy loads
    assert load_fashion_mnist("test")[0].shape == (2_000, 28, 28)


def test_file_changed_after_loading_is_checked_again(tmp_path, monkeypatch) -> None:
    _copy_fashion_test(tmp_path)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    load_fashion_mnist("test")
    _flip_one_byte(tmp_path / FASHION_TEST_FILES[1], at=20)
    with pytest.raises(DataChecksumError, match=FASHION_TEST_FILES[1]):
        load_fashion_mnist("test")


# ---------------------------------------------------------------- missing files


def test_missing_file_in_course_data_dir(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        load_mnist("test")
    assert "mnist-test-images-idx3-ubyte.gz" in str(info.value)
    assert f"{data.DATA_DIR_ENV}={tmp_path}" in str(info.value)


def test_course_data_dir_that_is_not_a_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_mnist("test")


def test_missing_file_in_repository_data_says_how_to_restore(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(data, "_repo_data_dir", lambda: tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist("train")
    message = str(info.value)
    for part in (
        "fashion-subset-train-images-idx3-ubyte.gz",
        "ships with the course repository",
        "git checkout data/",
        "python scripts/build_data.py",
        "fetch_data_file(",
    ):
        assert part in message


# ---------------------------------------------------------------- IDX decoding


def test_decode_rejects_non_gzip_and_bad_headers() -> None:
    with pytest.raises(ValueError, match="not a valid gzip file"):
        decode_idx_gz(b"hello", "x.gz")
    with pytest.raises(ValueError, match="not an IDX file"):
        decode_idx_gz(gzip.compress(b"\x00\x00\x0d\x01" + struct.pack(">I", 1) + b"abcd"), "x")
    with pytest.raises(ValueError, match="values follow"):
        decode_idx_gz(gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", 5) + b"abc"), "x")


# ---------------------------------------------------------------- the build script's writer


def test_deterministic_gzip_gives_identical_bytes_that_decode_back() -> None:
    array = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    idx = build_data.idx_bytes(array)
    first, second = build_data.gzip_deterministic(idx), build_data.gzip_deterministic(idx)
    assert first == second
    assert first[4:8] == b"\x00\x00\x00\x00"  # no time stamp in the header
    assert gzip.decompress(first) == idx
    decoded = decode_idx_gz(first)
    assert decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded, array)


def test_idx_header_of_a_label_vector() -> None:
    labels = np.arange(5, dtype=np.uint8)
    assert build_data.idx_bytes(labels) == b"\x00\x00\x08\x01" + struct.pack(">I", 5) + bytes(
        range(5)
    )
    with pytest.raises(ValueError, match="uint8"):
        build_data.idx_bytes(labels.astype(np.int32))


def test_interleave_is_round_robin_by_class() -> None:
    per_class = [np.full((3, 2, 2), c, dtype=np.uint8) for c in range(4)]
    images, labels = build_data.interleave(per_class)
    assert labels.tolist() == [0, 1, 2, 3] * 3
    np.testing.assert_array_equal(images[:, 0, 0], labels)


def test_merged_sha256sums_keeps_other_entries() -> None:
    a, b, c = "a" * 64, "b" * 64, "c" * 64
    merged = build_data.merged_sha256sums(f"{a}  ckpt.msgpack\n{b}  x.gz\n", {"x.gz": c})
    assert merged == f"{a}  ckpt.msgpack\n{c}  x.gz\n"
    assert build_data.parse_sha256sums(merged) == {"ckpt.msgpack": a, "x.gz": c}


def test_record_checksums_replaces_the_file_and_keeps_other_lines(tmp_path) -> None:
    sums = tmp_path / "SHA256SUMS"
    shutil.copy(SUMS, sums)
    sums.chmod(0o640)
    inode = sums.stat().st_ino
    entries = build_data.record_checksums(sums, {"new.msgpack": "b" * 64})
    assert entries == {**data.parse_sha256sums(SUMS.read_text()), "new.msgpack": "b" * 64}
    assert data.parse_sha256sums(sums.read_text()) == entries
    assert sums.stat().st_ino != inode, "written to a new file and renamed over the old one"
    assert sums.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SHA256SUMS"], "no temporary file left"


def test_record_checksums_at_the_same_time_keeps_every_line(tmp_path) -> None:
    """Eight writers at once (threads, each with its own lock), 25 lines each: none is lost."""
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(f"{'f' * 64}  kept.gz\n")
    errors = []

    def writer(k: int) -> None:
        try:
            for i in range(25):
                digest = f"{k:x}{i:02x}".ljust(64, "0")
                build_data.record_checksums(sums, {f"w{k}-{i}.msgpack": digest})
        except Exception as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    entries = data.parse_sha256sums(sums.read_text())
    assert len(entries) == 1 + 8 * 25 and entries["kept.gz"] == "f" * 64


def _files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def test_build_data_writes_data_files_and_the_checksum_file_and_no_python(tmp_path) -> None:
    """scripts/build_data.py's main(), run from a copy of the repository (its package and its
    scripts, in a fresh Python) with the npm build replaced by two small files: it writes them
    into data/ and their lines into course_utils/SHA256SUMS, and nothing else."""
    root = tmp_path / "repo"
    for folder in ("course_utils", "scripts"):
        shutil.copytree(REPO / folder, root / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "_npm"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")  # a checkout: data/ is used
    (root / "data").mkdir()
    before = _files_of(root)
    program = (
        "import json, numpy as np, build_data\n"
        "def gz(n):\n"
        "    return build_data.gzip_deterministic(build_data.idx_bytes(np.arange(n, dtype='u1')))\n"
        "files = {'mnist-test-labels-idx1-ubyte.gz': gz(5),\n"
        "         'fashion-subset-test-labels-idx1-ubyte.gz': gz(7)}\n"
        "build_data.build_all = lambda npm_dir: files\n"
        "code = build_data.main([])\n"
        "import course_utils.data as d\n"
        "print(json.dumps([code, d.__file__]))\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'scripts'}",
           "COURSE_COMPILE_CACHE": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop(data.DATA_DIR_ENV, None)
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    code, where = json.loads(run.stdout.splitlines()[-1])
    assert code == 0 and Path(where).is_relative_to(root)
    after = _files_of(root)
    changed = {name for name in after if before.get(name) != after[name]}
    assert changed == {"data/mnist-test-labels-idx1-ubyte.gz",
                       "data/fashion-subset-test-labels-idx1-ubyte.gz",
                       "course_utils/SHA256SUMS"}
    assert set(before) <= set(after)
    written = {name.removeprefix("data/"): hashlib.sha256(raw).hexdigest()
               for name, raw in after.items() if name.startswith("data/")}
    assert all(written[name] != DATA_SHA256[name] for name in written)
    entries = data.parse_sha256sums(after["course_utils/SHA256SUMS"].decode())
    assert entries == {**DATA_SHA256, **PRETRAINED_SHA256, **written}


# ---------------------------------------------------------------- downloads from a local server


def test_download_of_good_bytes_is_kept_and_reused(server, tmp_path) -> None:
    url, root, seen = server
    shutil.copy(DATA_DIR / SMALL_FILE, root / SMALL_FILE)
    cache = tmp_path / "cache"
    path = fetch_data_file(SMALL_FILE, base_url=url, cache_dir=cache)
    assert path == cache / SMALL_FILE
    assert path.read_bytes() == (DATA_DIR / SMALL_FILE).read_bytes()
    fetch_data_file(SMALL_FILE, base_url=url, cache_dir=cache)
    assert seen == [f"/{SMALL_FILE}"]  # the second call found it in the cache


def test_download_of_bad_bytes_is_refused_and_not_kept(server, tmp_path) -> None:
    url, root, _ = server
    shutil.copy(DATA_DIR / SMALL_FILE, root / SMALL_FILE)
    _flip_one_byte(root / SMALL_FILE)
    cache = tmp_path / "cache"
    with pytest.raises(DataDownloadError) as info:
        fetch_data_file(SMALL_FILE, base_url=url, cache_dir=cache)
    message = str(info.value)
    assert SMALL_FILE in message and url + SMALL_FILE in message and "not kept" in message
    assert not cache.exists() or list(cache.iterdir()) == []


def test_download_of_a_missing_file_reports_the_http_status(server, tmp_path) -> None:
    url, _, _ = server
    cache = tmp_path / "cache"
    with pytest.raises(DataDownloadError, match=rf"{SMALL_FILE} from {url}{SMALL_FILE}: HTTP 404"):
        fetch_data_file(SMALL_FILE, base_url=url, cache_dir=cache)
    assert not cache.exists() or list(cache.iterdir()) == []


def test_download_from_a_server_that_is_down(tmp_path) -> None:
    with socket.socket() as sock:  # a port that nothing listens on once the socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/data/"
    with pytest.raises(DataDownloadError) as info:
        fetch_data_file(SMALL_FILE, base_url=url, cache_dir=tmp_path / "cache")
    assert f"could not download data file {SMALL_FILE} from {url}{SMALL_FILE}" in str(info.value)
    assert "server reachable" in str(info.value)


def test_unknown_file_name_is_refused_before_any_download(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown data file 'mnist.npz'"):
        fetch_data_file("mnist.npz", base_url="http://127.0.0.1:9/", cache_dir=tmp_path)


def test_loader_downloads_when_there_is_no_data_folder(
    server, tmp_path, monkeypatch, fashion
) -> None:
    url, root, seen = server
    _copy_fashion_test(root)
    cache = tmp_path / "cache"
    monkeypatch.setattr(data, "_repo_data_dir", lambda: None)
    monkeypatch.setenv(data.DATA_URL_ENV, url.rstrip("/"))  # a missing final "/" is added
    monkeypatch.setenv(CACHE_DIR_ENV, str(cache))
    calls = []
    real = data._sha256_hex
    monkeypatch.setattr(data, "_sha256_hex", lambda b: calls.append(1) or real(b))
    x, y = load_fashion_mnist("test")
    np.testing.assert_array_equal(x, fashion["test"][0])
    np.testing.assert_array_equal(y, fashion["test"][1])
    assert sorted(p.name for p in (cache / "data").iterdir()) == sorted(FASHION_TEST_FILES)
    assert sorted(seen) == sorted(f"/{n}" for n in FASHION_TEST_FILES)
    n_calls = len(calls)
    monkeypatch.setattr(data, "fetch_data_file", lambda *a, **k: pytest.fail("fetched again"))
    load_fashion_mnist("test", limit=3)  # neither fetched (nor re-hashed on disk) nor hashed
    assert len(calls) == n_calls


# ---------------------------------------------------------------- slow servers, deadlines, Ctrl-C


class _DripHandler(BaseHTTPRequestHandler):
    """Announces ``body`` and sends it one byte every ``delay`` seconds (never when ``delay`` is
    None: a silent server); hangs up after ``give_up`` seconds in any case."""

    body = b""
    delay: float | None = 0.2
    give_up = 6.0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        start = time.monotonic()
        try:
            for i in range(len(self.body)):
                if self.delay is None or time.monotonic() - start > self.give_up:
                    time.sleep(max(0.0, self.give_up - (time.monotonic() - start)))
                    return
                self.wfile.write(self.body[i : i + 1])
                time.sleep(self.delay)
        except OSError:  # the client hung up
            return


@contextmanager
def _drip_server(monkeypatch: pytest.MonkeyPatch, delay: float | None,
                 give_up: float = 6.0) -> Iterator[str]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    body = (DATA_DIR / SMALL_FILE).read_bytes()
    handler = type("Drip", (_DripHandler,), {"body": body, "delay": delay, "give_up": give_up})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_a_dripping_download_stops_at_its_deadline_and_leaves_no_file(tmp_path,
                                                                      monkeypatch) -> None:
    """A server that sends a byte every 0.2 s never trips a per-read timeout; the deadline of
    the whole download (here 1 s, from the environment variable) stops it."""
    monkeypatch.setenv(data.DOWNLOAD_TIMEOUT_ENV, "1")
    cache = tmp_path / "cache"
    with _drip_server(monkeypatch, delay=0.2) as url:
        start = time.monotonic()
        with pytest.raises(DataDownloadError) as info:
            fetch_data_file(SMALL_FILE, base_url=url, cache_dir=cache)
        elapsed = time.monotonic() - start
    assert elapsed < 3.0
    message = str(info.value)
    for part in (SMALL_FILE, url + SMALL_FILE, "within 1 s", "the partial file was removed",
                 data.DOWNLOAD_TIMEOUT_ENV, data.DATA_DIR_ENV):
        assert part in message
    assert f" of {(DATA_DIR / SMALL_FILE).stat().st_size:,} bytes received" in message
    assert list(cache.iterdir()) == []


def test_a_silent_server_is_stopped_by_the_deadline_not_the_read_timeout(tmp_path,
                                                                         monkeypatch) -> None:
    cache = tmp_path / "cache"
    with _drip_server(monkeypatch, delay=None) as url:
        start = time.monotonic()
        with pytest.raises(DataDownloadError, match="within 1 s"):
            fetch_data_file(SMALL_FILE, base_url=url, cache_dir=cache, timeout=1)
        assert time.monotonic() - start < 3.0
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), "60", True])
def test_a_bad_timeout_is_refused(timeout, tmp_path) -> None:
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
        fetch_data_file(SMALL_FILE, base_url="http://127.0.0.1:9/", cache_dir=tmp_path,
                        timeout=timeout)


def test_a_bad_timeout_variable_is_refused_naming_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(data.DOWNLOAD_TIMEOUT_ENV, "ten minutes")
    with pytest.raises(ValueError, match=f"{data.DOWNLOAD_TIMEOUT_ENV} must be a positive"):
        fetch_data_file(SMALL_FILE, base_url="http://127.0.0.1:9/", cache_dir=tmp_path)


_INTERRUPTED_DOWNLOAD = """
import sys
from course_utils.data import fetch_data_file
print("started", flush=True)
fetch_data_file(sys.argv[1], base_url=sys.argv[2], cache_dir=sys.argv[3], timeout=900)
"""


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_during_a_download_leaves_no_partial_file(tmp_path, monkeypatch) -> None:
    cache = tmp_path / "cache"
    with _drip_server(monkeypatch, delay=0.05, give_up=300.0) as url:
        env = {**os.environ, "TQDM_DISABLE": "1", "PYTHONPATH": str(REPO)}
        # A background job of a non-interactive shell (as CI starts one) inherits SIGINT ignored,
        # and Python keeps an ignored SIGINT ignored: the child starts with the default, as a
        # terminal's or Jupyter's Ctrl-C finds it.
        proc = subprocess.Popen(
            [sys.executable, "-c", _INTERRUPTED_DOWNLOAD, SMALL_FILE, url, str(cache)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=_default_sigint)
        try:
            deadline = time.monotonic() + 60
            while not list(cache.glob(".*.part")):
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the download never started"
                time.sleep(0.05)
            time.sleep(1.5)  # bytes are arriving
            assert proc.poll() is None, proc.communicate()
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
    assert "KeyboardInterrupt" in err
    assert list(cache.iterdir()) == []


def test_a_download_removes_partial_files_left_by_a_killed_process(server, tmp_path) -> None:
    url, root, _ = server
    shutil.copy(DATA_DIR / SMALL_FILE, root / SMALL_FILE)
    cache = tmp_path / "cache"
    cache.mkdir()
    old = cache / f".{SMALL_FILE}.a1b2c3.part"
    fresh = cache / f".{SMALL_FILE}.d4e5f6.part"  # perhaps another kernel downloading now
    other = cache / ".notes.txt.part"  # not a course file
    for p in (old, fresh, other):
        p.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    for p in (old, other):
        os.utime(p, (two_hours_ago, two_hours_ago))
    fetch_data_file(SMALL_FILE, base_url=url, cache_dir=cache)
    assert sorted(p.name for p in cache.iterdir()) == sorted([fresh.name, other.name, SMALL_FILE])


def test_a_cached_file_with_the_wrong_bytes_is_downloaded_again(server, tmp_path) -> None:
    url, root, seen = server
    shutil.copy(DATA_DIR / SMALL_FILE, root / SMALL_FILE)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / SMALL_FILE).write_bytes(b"an older or damaged copy")
    path = fetch_data_file(SMALL_FILE, base_url=url, cache_dir=cache)
    assert path.read_bytes() == (DATA_DIR / SMALL_FILE).read_bytes()
    assert seen == [f"/{SMALL_FILE}"]


def test_download_shows_a_progress_bar_unless_tqdm_disable(server, tmp_path, monkeypatch,
                                                           capsys) -> None:
    url, root, _ = server
    shutil.copy(DATA_DIR / SMALL_FILE, root / SMALL_FILE)
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    fetch_data_file(SMALL_FILE, base_url=url, cache_dir=tmp_path / "a")
    err = capsys.readouterr().err
    assert f"downloading {SMALL_FILE}" in err and "100%" in err
    monkeypatch.setenv("TQDM_DISABLE", "1")
    fetch_data_file(SMALL_FILE, base_url=url, cache_dir=tmp_path / "b")
    assert capsys.readouterr().err == ""


def test_a_cache_folder_that_cannot_be_made_is_reported(server, tmp_path) -> None:
    url, root, _ = server
    shutil.copy(DATA_DIR / SMALL_FILE, root / SMALL_FILE)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DataDownloadError, match=f"{blocker / 'c'} cannot be written.*"
                       f"{CACHE_DIR_ENV}"):
        fetch_data_file(SMALL_FILE, base_url=url, cache_dir=blocker / "c")


@pytest.mark.parametrize("shape", [(3, 28, 28), (3, 28, 28, 1), (3, 784)])
def test_as_digit_images_accepts_the_three_layouts_and_keeps_the_pixels(shape):
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    out = as_digit_images(x)
    assert out.shape == (3, 28, 28) and out.dtype == np.float32
    np.testing.assert_array_equal(out.reshape(-1), x.reshape(-1))


@pytest.mark.parametrize("shape", [(3, 28, 27), (0, 28, 28), (784,), (3, 28, 28, 3)])
def test_as_digit_images_names_the_argument_on_a_wrong_shape(shape):
    with pytest.raises(ValueError, match=r"targets must be float32\[N, 28, 28\]"):
        as_digit_images(np.zeros(shape, np.float32), "targets")


def test_random_subset_is_seeded_aligned_and_not_a_leading_slice():
    x = np.arange(1000).reshape(1000, 1)
    y = np.arange(1000) * 10
    xs, ys = random_subset(x, y, n=100, seed=3)
    assert xs.shape == (100, 1) and np.array_equal(xs[:, 0] * 10, ys)
    assert len(np.unique(xs)) == 100
    assert xs[:, 0].max() > 500  # drawn from the whole array, not its head
    again, = random_subset(x, n=100, seed=3)
    other, = random_subset(x, n=100, seed=4)
    assert np.array_equal(again, xs) and not np.array_equal(other, xs)


@pytest.mark.parametrize("kwargs, word", [
    ({"n": 0}, "n must"), ({"n": 1001}, "larger"), ({"n": 5, "seed": 1.5}, "seed")])
def test_random_subset_refuses_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        random_subset(np.zeros((1000, 2)), **kwargs)
