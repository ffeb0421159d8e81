"""Tests for the pretrained checkpoints in data/: scripts/train_pretrained.py, the notebook code
it reuses (scripts/notebook_defines.py) and course_utils.checkpoints.load_pretrained."""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import numpy as np
import pytest
import train_pretrained as script
from flax import nnx
from notebook_defines import notebook_defines

from course_utils import data
from course_utils.checkpoints import CheckpointError, load_pretrained
from course_utils.classifier import CLASSIFIER_CONFIG, MNISTClassifier
from course_utils.config import CACHE_DIR_ENV
from course_utils.data import PRETRAINED_SHA256, DataChecksumError

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "data"
NAMES = sorted(script.PRETRAINED)
# every (checkpoint, name it takes from its notebook)
NEEDS = [(name, needed) for name, entry in sorted(script.PRETRAINED.items()) if entry.notebook
         for needed in entry.needs]


@pytest.fixture(autouse=True)
def _no_data_env(monkeypatch):
    for var in (data.DATA_DIR_ENV, data.DATA_URL_ENV):
        monkeypatch.delenv(var, raising=False)


def test_every_registered_checkpoint_is_shipped_with_its_checksum():
    sums = dict(reversed(line.split("  ")) for line in
                script.SUMS.read_text().splitlines() if line)
    assert script.SUMS == REPO / "course_utils" / "SHA256SUMS"
    assert {f"{n}.msgpack" for n in NAMES} == set(PRETRAINED_SHA256)
    for name in NAMES:
        file_name = f"{name}.msgpack"
        digest = hashlib.sha256((DATA_DIR / file_name).read_bytes()).hexdigest()
        assert PRETRAINED_SHA256[file_name] == digest == sums[file_name], name


@pytest.mark.parametrize(("name", "needed"), NEEDS, ids=[f"{n}-{m}" for n, m in NEEDS])
def test_each_name_a_checkpoint_takes_is_defined_by_its_notebook(name, needed):
    entry = script.PRETRAINED[name]
    taken = notebook_defines(script.NOTEBOOKS / entry.notebook, [needed])
    assert vars(taken).keys() == {needed} and getattr(taken, needed) is not None


def _uses_of_notebook(function) -> set[str]:
    """The attributes ``function`` reads from its first argument (``nb.Generator`` ...)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    (definition,) = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    nb = definition.args.args[0].arg
    return {node.attr for node in ast.walk(definition) if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name) and node.value.id == nb}


@pytest.mark.parametrize("name", NAMES)
def test_build_and_train_take_only_the_names_their_entry_declares(name):
    entry = script.PRETRAINED[name]
    used = _uses_of_notebook(entry.build) | _uses_of_notebook(entry.train)
    assert used <= set(entry.needs), f"undeclared: {sorted(used - set(entry.needs))}"
    assert set(entry.needs) <= used, f"declared but unused: {sorted(set(entry.needs) - used)}"
    assert entry.notebook is not None or not entry.needs


@pytest.mark.parametrize("name", NAMES)
def test_each_checkpoint_loads_into_a_fresh_model_of_its_notebook(name):
    entry = script.PRETRAINED[name]
    model, config = entry.build(script.from_notebook(entry))
    before = [np.asarray(v) for v in _leaves(model)]
    load_pretrained(model, name, config=config)
    after = [np.asarray(v) for v in _leaves(model)]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def _leaves(model):
    return jax.tree_util.tree_leaves(nnx.state(model, nnx.Param))


def _classifier():
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
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    model, config = _classifier()
    load_pretrained(model, "mnist_classifier", config=config)
    assert seen == ["/mnist_classifier.msgpack"]
    assert (tmp_path / "cache" / "data" / "mnist_classifier.msgpack").is_file()
    reference, _ = _classifier()
    monkeypatch.undo()  # back to the repository's data/
    load_pretrained(reference, "mnist_classifier", config=config)
    for a, b in zip(_leaves(model), _leaves(reference), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _notebook(path: Path, *sources: str, tags=("defines",)) -> Path:
    cells = [{"cell_type": "code", "metadata": {"tags": list(tags)}, "source": [src]}
             for src in sources]
    path.write_text(json.dumps({"cells": cells}))
    return path


def test_notebook_defines_runs_only_the_defines_cells_in_the_notebooks_folder(tmp_path):
    cells = [
        {"cell_type": "code", "metadata": {"tags": ["defines"]}, "source": ["A = 1\n"]},
        {"cell_type": "code", "metadata": {}, "source": ["raise RuntimeError('not run')\n"]},
        {"cell_type": "markdown", "metadata": {"tags": ["defines"]}, "source": ["# B = 2"]},
        {"cell_type": "code", "metadata": {"tags": ["defines"]},
         "source": ["from pathlib import Path\n", "HERE = Path.cwd().name\n", "C = A + 1\n"]},
    ]
    (tmp_path / "nb.ipynb").write_text(json.dumps({"cells": cells}))
    here = Path.cwd()
    nb = notebook_defines(tmp_path / "nb.ipynb", ["A", "HERE", "C"])
    assert (nb.A, nb.HERE, nb.C) == (1, tmp_path.name, 2) and Path.cwd() == here
    assert not hasattr(nb, "Path"), "only the names asked for"


def test_notebook_defines_names_the_notebook_and_every_missing_name(tmp_path):
    path = _notebook(tmp_path / "nb.ipynb", "Generator = 1\nDCGAN_CONFIG = {}\n")
    with pytest.raises(NameError) as info:
        notebook_defines(path, ["Generator", "Genrator", "make_dcgan"])
    message = str(info.value)
    assert str(path) in message and "Genrator (close: Generator)" in message
    assert "make_dcgan" in message and "'defines'" in message


def test_notebook_defines_refuses_a_missing_or_untagged_notebook(tmp_path):
    with pytest.raises(FileNotFoundError, match="no notebook .*missing.ipynb"):
        notebook_defines(tmp_path / "missing.ipynb", ["A"])
    untagged = _notebook(tmp_path / "untagged.ipynb", "A = 1\n", tags=())
    with pytest.raises(ValueError, match="untagged.ipynb has no code cell tagged 'defines'"):
        notebook_defines(untagged, ["A"])
    (tmp_path / "text.ipynb").write_text("not json")
    with pytest.raises(ValueError, match="not a Jupyter notebook"):
        notebook_defines(tmp_path / "text.ipynb", ["A"])
    with pytest.raises(ValueError, match="names must be a list of Python names"):
        notebook_defines(untagged, "A")


def test_notebook_defines_runs_a_notebook_once_until_it_changes(tmp_path):
    path = _notebook(tmp_path / "nb.ipynb", "import itertools\nRUNS = itertools.count()\n",
                     "FIRST = next(RUNS)\n")
    assert notebook_defines(path, ["RUNS"]).RUNS is notebook_defines(path, ["RUNS"]).RUNS
    _notebook(path, "X = 'edited'\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert notebook_defines(path, ["X"]).X == "edited"


def _files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def test_training_writes_the_checkpoint_and_its_checksum_and_no_python(tmp_path):
    """The script's whole write path, on a tiny model, run in a fresh Python from a copy of the
    repository (its package, scripts and an empty data/): only data/tiny_ae.msgpack and the
    package's course_utils/SHA256SUMS change, and check() then loads, and refuses a damaged
    file."""
    root = tmp_path / "repo"
    for folder in ("course_utils", "scripts"):
        shutil.copytree(REPO / folder, root / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "_npm"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")  # a checkout: data/ is used
    (root / "data").mkdir()
    before = _files_of(root)
    program = textwrap.dedent("""
        import hashlib, json
        from flax import nnx
        import train_pretrained as tp
        from course_utils.models import MLPAutoencoder
        config = {"latent_dim": 2}
        tp.PRETRAINED["tiny_ae"] = tp.Pretrained(
            "a tiny autoencoder", None, needs=(),
            build=lambda nb: (MLPAutoencoder(2, hidden=(8,), rngs=nnx.Rngs(0)), config),
            train=lambda nb, model: None)
        path = tp.train("tiny_ae")
        ok = tp.check(["tiny_ae"])
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        path.write_bytes(path.read_bytes()[:-10])
        print(json.dumps([str(path), digest, ok, tp.check(["tiny_ae"])]))
    """)
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'scripts'}",
           "COURSE_COMPILE_CACHE": "0", "PYTHONDONTWRITEBYTECODE": "1", "TQDM_DISABLE": "1"}
    env.pop(data.DATA_DIR_ENV, None)
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         timeout=180, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    path, digest, ok, damaged = json.loads(run.stdout.splitlines()[-1])
    assert Path(path) == root / "data" / "tiny_ae.msgpack" and (ok, damaged) == (0, 1)
    after = _files_of(root)
    changed = {name for name in after if before.get(name) != after[name]}
    assert changed == {"data/tiny_ae.msgpack", "course_utils/SHA256SUMS"}
    assert set(before) <= set(after)
    entries = data.parse_sha256sums(after["course_utils/SHA256SUMS"].decode())
    assert entries == {**data.DATA_SHA256, **PRETRAINED_SHA256, "tiny_ae.msgpack": digest}


def test_scripts_and_tests_import_each_other_by_name():
    """pytest puts scripts/ and benchmarks/ on the path (pyproject.toml); a script run as
    ``python scripts/x.py`` has scripts/ on it already: no file loads another by its path."""
    loader = "spec_from_" + "file_location"  # split, so that this file does not hold it
    for path in [*(REPO / "scripts").glob("*.py"), *(REPO / "tests").glob("*.py")]:
        assert loader not in path.read_text(encoding="utf-8"), path
