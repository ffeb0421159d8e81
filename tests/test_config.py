import subprocess
import sys

import pytest

from course_utils import config


@pytest.mark.parametrize("value, fast", [(None, False), ("", False), ("0", False), ("1", True),
                                         ("true", True), ("OFF", False), (" yes ", True)])
def test_fast_flag_parses_common_spellings(value, fast):
    assert config._read_fast_flag(value) is fast


def test_fast_flag_rejects_unknown_value_naming_the_variable():
    with pytest.raises(ValueError, match="COURSE_FAST"):
        config._read_fast_flag("maybe")


@pytest.mark.parametrize("env, expected", [("1", "fast 1"), ("0", "full 20")])
def test_switch_is_read_from_the_environment_once(env, expected):
    code = ("from course_utils.config import mode_name, full_or_fast; "
            "print(mode_name(), full_or_fast(20, 1))")
    out = subprocess.run([sys.executable, "-c", code], env={"COURSE_FAST": env},
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == expected


def test_full_or_fast_follows_the_module_flag(monkeypatch):
    monkeypatch.setattr(config, "FAST", True)
    assert config.full_or_fast("full", "fast") == "fast" and config.is_fast()
    monkeypatch.setattr(config, "FAST", False)
    assert config.full_or_fast("full", "fast") == "full" and not config.is_fast()
