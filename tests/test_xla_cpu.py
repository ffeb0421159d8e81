import os
import subprocess
import sys

import numpy as np
import pytest

from course_utils import xla_cpu
from course_utils.xla_cpu import COURSE_SETTING, planned_xla_flags

SUPPORTED = xla_cpu._jaxlib_version() in xla_cpu.SUPPORTED_JAXLIB


def test_the_setting_is_added_to_empty_flags_on_a_measured_jaxlib():
    assert planned_xla_flags({}, (0, 10)) == COURSE_SETTING
    assert planned_xla_flags({}, (0, 11)) == COURSE_SETTING


def test_other_flags_are_kept_and_the_setting_appended():
    flags = planned_xla_flags({"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}, (0, 10))
    assert flags == f"--xla_force_host_platform_device_count=2 {COURSE_SETTING}"


def test_a_users_own_ynn_setting_wins():
    env = {"XLA_FLAGS": "--xla_cpu_experimental_ynn_fusion_type="}
    assert planned_xla_flags(env, (0, 10)) is None


@pytest.mark.parametrize("off", ["0", "false", "off", "no"])
def test_course_xla_flags_0_keeps_jax_defaults(off):
    assert planned_xla_flags({"COURSE_XLA_FLAGS": off}, (0, 10)) is None


@pytest.mark.parametrize("jaxlib", [(0, 7), (0, 9), (0, 12), (1, 0), None])
def test_jaxlibs_where_the_flag_was_not_measured_are_left_alone(jaxlib):
    # XLA aborts the process on a flag it does not know: never guess.
    assert planned_xla_flags({}, jaxlib) is None


def _run(code: str, **env: str) -> str:
    full_env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "COURSE_XLA_FLAGS")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**full_env, **env}, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.skipif(not SUPPORTED, reason="this jaxlib is not one the setting is applied to")
def test_importing_course_utils_sets_the_flag_before_jax_starts():
    out = _run("import os, jax, course_utils\n"
               "print(course_utils.XLA_FLAGS_APPLIED, os.environ['XLA_FLAGS'])\n"
               "import jax.numpy as jnp; print(float(jnp.ones(3).sum()))")
    assert out.splitlines() == [f"True {COURSE_SETTING}", "3.0"]


def test_after_jax_has_started_the_environment_is_left_alone():
    out = _run("import os, jax, jax.numpy as jnp\nfloat(jnp.ones(3).sum())\n"
               "import course_utils\nprint(course_utils.XLA_FLAGS_APPLIED, "
               "os.environ.get('XLA_FLAGS', '<unset>'))")
    assert out == "False <unset>"


GRADIENTS = """
import sys
import jax, jax.numpy as jnp, numpy as np
from flax import nnx
from course_utils.layers import Conv, ConvTranspose
rngs = nnx.Rngs(0)
down, up = Conv(3, 16, 3, strides=2, rngs=rngs), ConvTranspose(16, 2, 4, strides=2, rngs=rngs)
x = jax.random.uniform(jax.random.key(1), (4, 12, 12, 3))
def loss(down, up, x):
    return jnp.mean((up(jax.nn.relu(down(x)))[..., :1] - x[..., :1]) ** 2)
value, (g_down, g_up) = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))(down, up, x)
np.savez(sys.argv[1], value=value, dk=g_down.kernel[...], uk=g_up.kernel[...], ub=g_up.bias[...])
"""


@pytest.mark.skipif(not SUPPORTED, reason="this jaxlib is not one the setting is applied to")
def test_both_settings_compute_the_same_loss_and_gradients(tmp_path):
    results = []
    for setting in ("1", "0"):
        path = tmp_path / f"grads-{setting}.npz"
        subprocess.run([sys.executable, "-c", GRADIENTS, str(path)], check=True, timeout=120,
                       env={**{k: v for k, v in os.environ.items() if k != "XLA_FLAGS"},
                            "COURSE_XLA_FLAGS": setting}, stdin=subprocess.DEVNULL)
        results.append(np.load(path))
    with_flag, default = results
    for name in ("value", "dk", "uk", "ub"):
        np.testing.assert_allclose(with_flag[name], default[name], rtol=2e-5, atol=1e-7,
                                   err_msg=name)
