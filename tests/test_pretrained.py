"""Tests for the pretrained checkpoints in data/: scripts/train_pretrained.py and
course_utils.checkpoints.load_pretrained."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from flax import nnx

from course_utils import data
from course_utils.checkpoints import CheckpointError, load_pretrained
from course_utils.data import PRETRAINED_SHA256, DataChecksumError

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "data"


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "train_pretrained", REPO / "scripts" / "train_pretrained.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_pretrained"] = module
    spec.loader.exec_module(module)
    return module


script = _load_script()
NAMES = sorted(script.PRETRAINED)


@pytest.fixture(autouse=True)
def _no_data_env(monkeypatch):
    for var in (data.DATA_DIR_ENV, data.DATA_URL_ENV):
        monkeypatch.delenv(var, raising=False)


def test_every_registered_checkpoint_is_shipped_with_its_checksum():
    sums = dict(reversed(line.split("  ")) for line in
                (DATA_DIR / "SHA256SUMS").read_text().splitlines() if line)
    assert {f"{n}.msgpack" for n in NAMES} == set(PRETRAINED_SHA256)
    for name in NAMES:
        file_name = f"{name}.msgpack"
        digest = hashlib.sha256((DATA_DIR / file_name).read_bytes()).hexdigest()
        assert PRETRAINED_SHA256[file_name] == digest == sums[file_name], name


def test_checksum_block_in_data_py_is_what_the_script_writes():
    source = Path(data.__file__).read_text()
    assert script.replace_checksum_block(source, PRETRAINED_SHA256) == source


@pytest.mark.parametrize("name", NAMES)
def test_each_checkpoint_loads_into_a_fresh_model_of_its_notebook(name):
    entry = script.PRETRAINED[name]
    model, config = entry.build(script.notebook_namespace(entry.notebook))
    before = [np.asarray(v) for v in _leaves(model)]
    load_pretrained(model, name, config=config)
    after = [np.asarray(v) for v in _leaves(model)]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def _leaves(model):
    import jax

    return jax.tree_util.tree_leaves(nnx.state(model, nnx.Param))


def _classifier():
    from course_utils.classifier import CLASSIFIER_CONFIG, MNISTClassifier

    return MNISTClassifier(rngs=nnx.Rngs(0)), CLASSIFIER_CONFIG


def test_unknown_name_lists_the_shipped_checkpoints():
    model, config = _classifier()
    with pytest.raises(ValueError, match="no pretrained checkpoint named 'gan'.*mnist_classifier"):
        load_pretrained(model, "gan", config=config)


def test_a_corrupted_checkpoint_is_refused_before_it_is_read(tmp_path, monkeypatch):
    name = "mnist_classifier.msgpack"
    bad = tmp_path / name
    raw = bytearray((DATA_DIR / name).read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    bad.write_bytes(bytes(raw))
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    read = []
    monkeypatch.setattr("course_utils.checkpoints._fill_from_bytes",
                        lambda *a, **k: read.append(1))
    model, config = _classifier()
    with pytest.raises(DataChecksumError) as info:
        load_pretrained(model, "mnist_classifier", config=config)
    assert "scripts/train_pretrained.py mnist_classifier" in str(info.value)
    assert str(bad) in str(info.value) and read == []


def test_another_config_is_refused_with_the_rebuild_command():
    model, config = _classifier()
    with pytest.raises(CheckpointError, match="made for another config(.|\n)*"
                       "train_pretrained.py mnist_classifier"):
        load_pretrained(model, "mnist_classifier", config={**config, "epochs": 99})


def test_checkpoint_is_downloaded_and_checked_without_the_data_folder(server, tmp_path,
                                                                      monkeypatch):
    url, root, seen = server
    shutil.copy(DATA_DIR / "mnist_classifier.msgpack", root)
    monkeypatch.setattr(data, "_repo_data_dir", lambda: None)
    monkeypatch.setenv(data.DATA_URL_ENV, url)
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(tmp_path / "cache"))
    model, config = _classifier()
    load_pretrained(model, "mnist_classifier", config=config)
    assert seen == ["/mnist_classifier.msgpack"]
    assert (tmp_path / "cache" / "data" / "mnist_classifier.msgpack").is_file()
    reference, _ = _classifier()
    monkeypatch.undo()  # back to the repository's data/
    load_pretrained(reference, "mnist_classifier", config=config)
    for a, b in zip(_leaves(model), _leaves(reference), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_notebook_namespace_runs_only_the_defines_cells(tmp_path, monkeypatch):
    cells = [
        {"cell_type": "code", "metadata": {"tags": ["defines"]}, "source": ["A = 1\n"]},
        {"cell_type": "code", "metadata": {}, "source": ["raise RuntimeError('not run')\n"]},
        {"cell_type": "markdown", "metadata": {"tags": ["defines"]}, "source": ["# B = 2"]},
        {"cell_type": "code", "metadata": {"tags": ["defines"]},
         "source": ["from pathlib import Path\n", "HERE = Path.cwd().name\n"]},
    ]
    (tmp_path / "nb.ipynb").write_text(json.dumps({"cells": cells}))
    monkeypatch.setattr(script, "NOTEBOOKS", tmp_path)
    ns = script.notebook_namespace("nb.ipynb")
    assert ns["A"] == 1 and "B" not in ns and ns["HERE"] == tmp_path.name
    with pytest.raises(FileNotFoundError, match="no notebook"):
        script.notebook_namespace("missing.ipynb")


def test_training_writes_the_file_and_its_checksums(tmp_path, monkeypatch):
    """The script's whole write path, on a tiny model, into a copy of data/ and data.py."""
    from course_utils.models import MLPAutoencoder

    (tmp_path / "data").mkdir()
    shutil.copy(DATA_DIR / "SHA256SUMS", tmp_path / "data" / "SHA256SUMS")
    data_py = tmp_path / "data.py"
    shutil.copy(data.__file__, data_py)
    monkeypatch.setattr(script, "DATA_DIR", tmp_path / "data")
    monkeypatch.setattr(script, "SUMS", tmp_path / "data" / "SHA256SUMS")
    monkeypatch.setattr(script, "DATA_PY", data_py)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.setattr(data, "PRETRAINED_SHA256", dict(PRETRAINED_SHA256))
    config = {"latent_dim": 2}
    entry = script.Pretrained(
        "a tiny autoencoder", None,
        build=lambda ns: (MLPAutoencoder(2, hidden=(8,), rngs=nnx.Rngs(0)), config),
        train=lambda ns, m: None)
    monkeypatch.setitem(script.PRETRAINED, "tiny_ae", entry)
    path = script.train("tiny_ae")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert f"{digest}  tiny_ae.msgpack" in (tmp_path / "data" / "SHA256SUMS").read_text()
    assert f'"tiny_ae.msgpack":\n        "{digest}",' in data_py.read_text()
    assert (tmp_path / "data" / "SHA256SUMS").read_text().count("mnist_classifier") == 1
    assert script.check(["tiny_ae"]) == 0
    path.write_bytes(path.read_bytes()[:-10])  # a damaged file: check reports it
    assert script.check(["tiny_ae"]) == 1


def test_recording_keeps_entries_written_by_another_run(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    sums = tmp_path / "data" / "SHA256SUMS"
    shutil.copy(DATA_DIR / "SHA256SUMS", sums)
    data_py = tmp_path / "data.py"
    shutil.copy(data.__file__, data_py)
    monkeypatch.setattr(script, "SUMS", sums)
    monkeypatch.setattr(script, "DATA_PY", data_py)
    monkeypatch.setattr(data, "PRETRAINED_SHA256", dict(PRETRAINED_SHA256))
    # another run, started at the same time, records its checkpoint first ...
    other = script.replace_checksum_block(data_py.read_text(),
                                          {**PRETRAINED_SHA256, "other.msgpack": "a" * 64})
    data_py.write_text(other)
    # ... and this run's entry must not erase it
    script.record_checksum("mine.msgpack", "b" * 64)
    entries = script.recorded_checksums(data_py.read_text())
    assert entries["other.msgpack"] == "a" * 64 and entries["mine.msgpack"] == "b" * 64
    assert {k: v for k, v in entries.items() if k not in ("other.msgpack", "mine.msgpack")} \
        == PRETRAINED_SHA256
    assert f"{'b' * 64}  mine.msgpack" in sums.read_text()
