import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from course_utils.checkpoints import (
    CheckpointError,
    cache_dir,
    load_model,
    load_or_train,
    save_model,
)
from course_utils.models import MLPAutoencoder

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


def test_load_or_train_rebuilds_a_corrupted_or_stale_file(tmp_path, capsys):
    calls = []
    load_or_train(model(), "ae", lambda m: calls.append(1), config=CONFIG, directory=tmp_path)
    (tmp_path / "ae.msgpack").write_bytes(b"garbage")
    load_or_train(model(), "ae", lambda m: calls.append(1), config=CONFIG, directory=tmp_path)
    assert "rebuilding ae" in capsys.readouterr().out
    load_or_train(model(), "ae", lambda m: calls.append(1), config={**CONFIG, "seed": 1},
                  directory=tmp_path)
    assert len(calls) == 3


def test_default_directory_follows_the_cache_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path / "checkpoints"
    load_or_train(model(), "ae", lambda m: None, config=CONFIG, verbose=False)
    assert (tmp_path / "checkpoints" / "ae.msgpack").is_file()


@pytest.mark.parametrize("name", ["", "a/b", "..\\x"])
def test_bad_names_are_refused(name, tmp_path):
    with pytest.raises(ValueError, match="plain file name"):
        load_or_train(model(), name, lambda m: None, config=CONFIG, directory=tmp_path)


def test_config_must_be_json(tmp_path):
    with pytest.raises(TypeError, match="JSON"):
        save_model(model(), tmp_path / "a.msgpack", config={"x": object()})
