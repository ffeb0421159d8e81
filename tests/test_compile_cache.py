"""The persistent compilation cache: on by default in the course's cache folder, keyed by the JAX
version, shared safely by processes running at once, and switched off or redirected on request.

Each case runs in a fresh Python process, because the cache is set up when ``course_utils`` is
imported and JAX reads its cache folder once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import pytest

from course_utils.compile_cache import ENV_VAR, cache_folder, enable_compile_cache

# A small training step: it takes long enough to compile (> MIN_COMPILE_SECONDS) to be stored.
PROBE = r"""
import json, sys
import course_utils
import jax, jax.numpy as jnp
from course_utils.compile_cache import compile_seconds

def loss(w, x):
    h = x
    for k in range(6):
        h = jnp.tanh(h @ w[k])
    return jnp.mean((h - x) ** 2)

@jax.jit
def step(w, x):
    return w - 0.1 * jax.grad(loss)(w, x)

w = jnp.ones((6, 64, 64)) * 0.01
x = jnp.ones((32, 64))
step(w, x).block_until_ready()
print(json.dumps({"dir": None if course_utils.COMPILE_CACHE_DIR is None
                  else str(course_utils.COMPILE_CACHE_DIR),
                  "jax_dir": jax.config.jax_compilation_cache_dir, **compile_seconds()}))
"""


def run_probe(env: dict[str, str], tmp_path: Path) -> subprocess.Popen:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("COURSE_COMPILE", "JAX_COMPILATION"))}
    clean.update(env)
    return subprocess.Popen([sys.executable, "-c", PROBE], env=clean, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> tuple[dict, str]:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1]), err


def test_cache_is_on_by_default_under_the_course_cache_folder_and_keyed_by_version(tmp_path):
    result, _ = finish(run_probe({"COURSE_CACHE_DIR": str(tmp_path / "cache")}, tmp_path))
    folder = Path(result["dir"])
    assert folder.parent == tmp_path / "cache" / "jax"
    assert folder.name.startswith(f"jax-{jax.__version__}-jaxlib-")
    assert result["jax_dir"] == str(folder)
    assert result["compiles"] >= 1
    assert any(p.name.endswith("-cache") for p in folder.iterdir()), "nothing was stored"


def test_two_processes_share_the_cache_and_a_third_loads_from_it(tmp_path):
    env = {"COURSE_CACHE_DIR": str(tmp_path / "cache")}
    first = [run_probe(env, tmp_path) for _ in range(2)]  # at the same time, cold cache
    for proc in first:
        result, err = finish(proc)
        assert result["compiles"] >= 1
        assert "Warning" not in err and "Error" not in err, err[-2000:]
    again, err = finish(run_probe(env, tmp_path))
    assert again["cache_loads"] >= 1, again
    assert "Warning" not in err and "Error" not in err, err[-2000:]


def test_compile_cache_can_be_switched_off(tmp_path):
    result, _ = finish(run_probe({"COURSE_CACHE_DIR": str(tmp_path / "cache"), ENV_VAR: "0"},
                                 tmp_path))
    assert result["dir"] is None and result["jax_dir"] is None
    assert not (tmp_path / "cache" / "jax").exists()


def test_a_folder_chosen_through_jax_is_kept(tmp_path):
    mine = tmp_path / "mine"
    result, _ = finish(run_probe({"COURSE_CACHE_DIR": str(tmp_path / "cache"),
                                  "JAX_COMPILATION_CACHE_DIR": str(mine)}, tmp_path))
    assert result["jax_dir"] == str(mine) and result["dir"] == str(mine)
    assert not (tmp_path / "cache" / "jax").exists()


def test_compile_cache_dir_setting_moves_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_COMPILE_CACHE_DIR", str(tmp_path / "compiled"))
    assert cache_folder().parent == tmp_path / "compiled"
    monkeypatch.setenv("COURSE_COMPILE_CACHE_DIR", "relative/folder")
    with pytest.raises(ValueError, match="COURSE_COMPILE_CACHE_DIR must be an absolute path"):
        cache_folder()


def test_a_bad_switch_value_is_refused_with_its_name(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "maybe")
    with pytest.raises(ValueError, match=f"{ENV_VAR} must be 1"):
        enable_compile_cache()
