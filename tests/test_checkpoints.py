import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import jax.numpy as jnp
import msgpack
import numpy as np
import pytest
from flax import nnx, serialization

from course_utils import checkpoints, config
from course_utils.checkpoints import (
    MAX_BYTES,
    CheckpointError,
    cache_dir,
    check_name,
    load_model,
    load_or_train,
    save_model,
)
from course_utils.models import MLPAutoencoder

REPO = Path(__file__).resolve().parent.parent

CONFIG = {"latent_dim": 4, "epochs": 3, "seed": 0}


def model(seed=0, latent=4):
    return MLPAutoencoder(latent, hidden=(16,), rngs=nnx.Rngs(seed))


def outputs(m):
    return np.asarray(m(jnp.linspace(0, 1, 2 * 784).reshape(2, 784)))


def test_round_trip_restores_every_parameter(tmp_path):
    a, b = model(0), model(1)
    path = save_model(a, tmp_path / "ae.msgpack", config=CONFIG)
    assert not np.allclose(outputs(a), outputs(b))
    load_model(b, path, config=CONFIG)
    np.testing.assert_array_equal(outputs(a), outputs(b))


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path):
    save_model(model(), tmp_path / "ae.msgpack", config=CONFIG)
    save_model(model(1), tmp_path / "ae.msgpack", config=CONFIG)
    assert [p.name for p in tmp_path.iterdir()] == ["ae.msgpack"]


def test_file_is_msgpack_not_pickle(tmp_path):
    data = save_model(model(), tmp_path / "ae.msgpack", config=CONFIG).read_bytes()
    assert data[0] == 0x85  # a msgpack map of five entries
    assert not data.startswith(b"\x80")  # pickle protocol marker


def test_a_flipped_byte_is_detected(tmp_path):
    path = save_model(model(), tmp_path / "ae.msgpack", config=CONFIG)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupted|not a readable"):
        load_model(model(1), path, config=CONFIG)


def test_a_truncated_file_is_refused(tmp_path):
    path = save_model(model(), tmp_path / "ae.msgpack", config=CONFIG)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError):
        load_model(model(1), path, config=CONFIG)


def test_another_config_is_refused_and_names_both(tmp_path):
    path = save_model(model(), tmp_path / "ae.msgpack", config=CONFIG)
    with pytest.raises(CheckpointError, match=r"another config[\s\S]*\"epochs\": 5"):
        load_model(model(), path, config={**CONFIG, "epochs": 5})


def test_a_model_of_another_shape_is_refused(tmp_path):
    path = save_model(model(latent=4), tmp_path / "ae.msgpack", config=CONFIG)
    with pytest.raises(CheckpointError, match="shape"):
        load_model(model(latent=5), path, config=CONFIG)


def test_missing_file_and_foreign_file(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_model(model(), tmp_path / "none.msgpack", config=CONFIG)
    (tmp_path / "junk.msgpack").write_bytes(b"\x81\xa1a\x01")
    with pytest.raises(CheckpointError, match="not a course-utils checkpoint"):
        load_model(model(), tmp_path / "junk.msgpack", config=CONFIG)


def test_load_or_train_trains_once_then_loads(tmp_path, capsys):
    calls = []

    def train(m):
        calls.append(1)
        m.decoder.net.layers[-2].bias[...] = jnp.full((784,), 3.0)

    first = load_or_train(model(0), "ae", train, config=CONFIG, directory=tmp_path)
    second = load_or_train(model(1), "ae", train, config=CONFIG, directory=tmp_path)
    assert len(calls) == 1
    np.testing.assert_array_equal(outputs(first), outputs(second))
    assert "loaded ae" in capsys.readouterr().out


def test_load_or_train_rebuilds_a_corrupted_or_stale_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(config, "FAST", False)
    calls = []
    load_or_train(model(), "ae", lambda m: calls.append(1), config=CONFIG, directory=tmp_path)
    (tmp_path / "ae.full.msgpack").write_bytes(b"garbage")
    load_or_train(model(), "ae", lambda m: calls.append(1), config=CONFIG, directory=tmp_path)
    assert "rebuilding ae" in capsys.readouterr().out
    load_or_train(model(), "ae", lambda m: calls.append(1), config={**CONFIG, "seed": 1},
                  directory=tmp_path)
    assert len(calls) == 3


def test_default_directory_follows_the_cache_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(config, "FAST", False)
    assert cache_dir() == tmp_path / "checkpoints"
    load_or_train(model(), "ae", lambda m: None, config=CONFIG, verbose=False)
    assert (tmp_path / "checkpoints" / "ae.full.msgpack").is_file()


def test_tilde_in_the_cache_variable_means_home_not_a_folder_named_tilde(tmp_path,
                                                                       monkeypatch):
    home, notebooks = tmp_path / "home", tmp_path / "notebooks"
    notebooks.mkdir()
    monkeypatch.chdir(notebooks)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("COURSE_CACHE_DIR", "~/x")
    monkeypatch.setattr(config, "FAST", False)
    load_or_train(model(), "ae", lambda m: None, config=CONFIG, verbose=False)
    assert (home / "x" / "checkpoints" / "ae.full.msgpack").is_file()
    assert list(notebooks.iterdir()) == []


@pytest.mark.parametrize("name", ["", "a/b", "..\\x", "../x", ".hidden", "ae latent",
                                  "x\x00y", "a" * 300, 5, None])
def test_bad_names_are_refused_before_training(name, tmp_path):
    calls = []
    with pytest.raises(ValueError, match="plain file name of 1 to 100 characters: letters") as e:
        load_or_train(model(), name, calls.append, config=CONFIG, directory=tmp_path)
    assert calls == [] and list(tmp_path.iterdir()) == []
    assert "nb02_mlp_ae_D2" in str(e.value)  # an example of a valid name


@pytest.mark.parametrize("name", ["nb02_mlp_ae_D2", "nb03_dae_gaussian_0.3",
                                  "nb07_vae_D2_beta0.5", "nb07_vae_D20_beta1e-05", "a" * 100])
def test_the_notebooks_names_are_valid(name):
    assert check_name(name) == name


def test_config_must_be_json(tmp_path):
    with pytest.raises(TypeError, match="JSON"):
        save_model(model(), tmp_path / "a.msgpack", config={"x": object()})


# ---------------------------------------------------------------- fast and full mode


def test_fast_and_full_mode_models_are_kept_apart(tmp_path, monkeypatch, capsys):
    calls = []

    def train(mode):
        def fit(m):
            calls.append(mode)
            m.decoder.net.layers[-2].bias[...] = jnp.full((784,), 1.0 if mode == "fast" else 2.0)
        return fit

    for mode in ("fast", "full", "fast", "full"):
        monkeypatch.setattr(config, "FAST", mode == "fast")
        m = load_or_train(model(), "ae", train(mode), config=CONFIG, directory=tmp_path)
        bias = np.asarray(m.decoder.net.layers[-2].bias[...])
        assert bias[0] == (1.0 if mode == "fast" else 2.0), mode
    assert calls == ["fast", "full"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ae.fast.msgpack", "ae.full.msgpack"]
    assert "loaded ae (full mode)" in capsys.readouterr().out
    # a fast-mode file under the full-mode name is refused by what it records, and rebuilt
    shutil.copy(tmp_path / "ae.fast.msgpack", tmp_path / "ae.full.msgpack")
    load_or_train(model(), "ae", train("full"), config=CONFIG, directory=tmp_path)
    assert calls[-1] == "full" and len(calls) == 3
    assert "trained in fast mode; this run is in full mode" in capsys.readouterr().out


def test_load_model_checks_the_recorded_mode(tmp_path):
    fast = save_model(model(), tmp_path / "fast.msgpack", config=CONFIG, mode="fast")
    plain = save_model(model(), tmp_path / "plain.msgpack", config=CONFIG)
    with pytest.raises(CheckpointError, match="trained in fast mode; this run is in full mode"):
        load_model(model(), fast, config=CONFIG, mode="full")
    with pytest.raises(CheckpointError, match="without a recorded mode"):
        load_model(model(), plain, config=CONFIG, mode="fast")
    load_model(model(), fast, config=CONFIG, mode="fast")
    load_model(model(), fast, config=CONFIG)  # no mode asked: not checked (data/'s checkpoints)
    with pytest.raises(ValueError, match="mode must be"):
        save_model(model(), tmp_path / "x.msgpack", config=CONFIG, mode="quick")


# ---------------------------------------------------------------- files that decode badly


def _good_arrays():
    flat, _, _ = checkpoints._flat_params(model())
    return {k: np.asarray(v) for k, v in flat.items()}


def _payloads():
    good = _good_arrays()
    key = sorted(good)[0]
    ext_garbage = msgpack.packb({k: msgpack.ExtType(1, b"\x93\x01garbage") for k in good})
    return {
        "an int": msgpack.packb(5),
        "a list of maps": msgpack.packb([{"a": 1}]),
        "integer keys": msgpack.packb({1: 2}),
        "msgpack garbage": b"\xc1\xc1\xc1",
        "truncated table": serialization.msgpack_serialize(good)[:200],
        "array garbage": ext_garbage,
        "float64 arrays": serialization.msgpack_serialize(
            {k: v.astype(np.float64) for k, v in good.items()}),
        "nested lists": msgpack.packb({k: v.tolist() for k, v in good.items()}),
        "a map for an array": serialization.msgpack_serialize({**good, key: {"x": 1.0}}),
        "a string for an array": serialization.msgpack_serialize({**good, key: "weights"}),
    }


def _write_envelope(path, payload, mode="full"):
    envelope = {"format": checkpoints.FORMAT, "version": checkpoints.VERSION,
                "config": json.dumps(CONFIG, sort_keys=True),
                "sha256": hashlib.sha256(payload).hexdigest(), "payload": payload, "mode": mode}
    path.write_bytes(serialization.msgpack_serialize(envelope))


@pytest.mark.parametrize("kind", sorted(_payloads()))
def test_a_valid_digest_over_a_bad_parameter_table_is_a_checkpoint_error(kind, tmp_path,
                                                                        monkeypatch):
    path = tmp_path / "ae.full.msgpack"
    _write_envelope(path, _payloads()[kind])
    m = model(1)
    before = outputs(m)
    with pytest.raises(CheckpointError, match=str(path)):
        load_model(m, path, config=CONFIG, mode="full")
    np.testing.assert_array_equal(outputs(m), before)  # the model was left as it was
    monkeypatch.setattr(config, "FAST", False)
    calls = []
    load_or_train(m, "ae", calls.append, config=CONFIG, directory=tmp_path, verbose=False)
    assert len(calls) == 1  # rebuilt, not crashed
    load_model(model(), path, config=CONFIG, mode="full")  # and the rebuilt file is good


# ---------------------------------------------------------------- size, stale files, permissions


def test_max_bytes_has_margin_over_the_shipped_checkpoints():
    largest = max(p.stat().st_size for p in (REPO / "data").glob("*.msgpack"))
    assert 4 * largest <= MAX_BYTES


def test_a_file_over_the_size_limit_is_refused_without_being_read(tmp_path):
    path = tmp_path / "huge.msgpack"
    with path.open("wb") as f:
        f.truncate(MAX_BYTES + 1)  # a sparse file: no disk space used
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match=f"{MAX_BYTES + 1:,} bytes, more than"):
            load_model(model(), path, config=CONFIG)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20
    small = save_model(model(), tmp_path / "ae.msgpack", config=CONFIG)
    with pytest.raises(CheckpointError, match="more than the 100 bytes"):
        load_model(model(), small, config=CONFIG, max_bytes=100)


def test_a_pretrained_file_over_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setattr(checkpoints, "MAX_BYTES", 1000)
    with pytest.raises(CheckpointError, match="data/mnist_classifier.msgpack is .* more than"):
        checkpoints.load_pretrained(model(), "mnist_classifier", config=CONFIG)


def test_saving_removes_temporary_files_of_writes_that_never_finished(tmp_path):
    old = tmp_path / ".ae.msgpack.k2j3h.tmp"
    fresh = tmp_path / ".ae.msgpack.p9x8y.tmp"  # perhaps another process writing right now
    other = tmp_path / ".notes.tmp"  # not a checkpoint's temporary file
    for p in (old, fresh, other):
        p.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    for p in (old, other):
        os.utime(p, (two_hours_ago, two_hours_ago))
    save_model(model(), tmp_path / "vae.msgpack", config=CONFIG)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [fresh.name, other.name, "vae.msgpack"])


def test_a_folder_that_cannot_be_made_keeps_the_model_in_memory_with_a_warning(tmp_path,
                                                                              monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(config, "FAST", False)
    calls = []
    with pytest.warns(RuntimeWarning, match="ae cannot be saved, so it is trained and kept in "
                      r"memory only[\s\S]*COURSE_CACHE_DIR") as record:
        m = load_or_train(model(), "ae", calls.append, config=CONFIG, directory=blocker / "ck")
    assert isinstance(m, MLPAutoencoder) and calls == [m]
    assert str(blocker / "ck") in str(record[0].message)
    assert record[0].filename == __file__  # the warning points at the caller's line


_PERMISSION_SCRIPT = textwrap.dedent("""
    import json, sys, warnings
    from pathlib import Path
    from flax import nnx
    from course_utils import config
    from course_utils.checkpoints import CheckpointError, load_model, load_or_train
    from course_utils.models import MLPAutoencoder

    config.FAST = False
    folder = Path(sys.argv[1])
    cfg = {"latent_dim": 4}
    make = lambda: MLPAutoencoder(4, hidden=(16,), rngs=nnx.Rngs(0))
    out = {}
    try:
        load_model(make(), folder / "ae.full.msgpack", config=cfg, mode="full")
    except CheckpointError as err:
        out["load"] = str(err)
    calls = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_or_train(make(), "ae", calls.append, config=cfg, directory=folder)
    out["trained"] = len(calls)
    out["warnings"] = [str(w.message) for w in caught]
    print(json.dumps(out))
""")


def test_another_users_file_in_a_read_only_folder_is_reported_and_the_model_trained(tmp_path):
    """A real permission refusal: as root, the script runs without the capabilities that let
    root read and write any file (setpriv); as another user, file modes refuse it anyway."""
    folder = tmp_path / "shared"
    folder.mkdir()
    save_model(model(), folder / "ae.full.msgpack", config={"latent_dim": 4}, mode="full")
    (folder / "ae.full.msgpack").chmod(0)
    folder.chmod(0o555)
    prefix = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: no way to be refused a file")
        caps = "-dac_override,-dac_read_search"
        prefix = ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}"]
    try:
        run = subprocess.run([*prefix, sys.executable, "-c", _PERMISSION_SCRIPT, str(folder)],
                             capture_output=True, text=True, timeout=120,
                             env={**os.environ, "JAX_PLATFORMS": "cpu"})
    finally:
        folder.chmod(0o755)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    path = str(folder / "ae.full.msgpack")
    assert f"cannot read checkpoint {path}: permission denied" in out["load"]
    assert "COURSE_CACHE_DIR" in out["load"]
    assert out["trained"] == 1
    assert len(out["warnings"]) == 1 and "kept in memory only" in out["warnings"][0]
    assert str(folder) in out["warnings"][0] and "COURSE_CACHE_DIR" in out["warnings"][0]
