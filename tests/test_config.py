import subprocess
import sys

import pytest

from course_utils import checkpoints, config, data


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


# ---------------------------------------------------------------- the cache folder


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private home folder and no cache variables: cache_root() starts from its defaults."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("COURSE_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    return tmp_path / "home"


def test_cache_root_defaults_to_dot_cache_in_home(home):
    assert config.cache_root() == home / ".cache" / "course-utils"


def test_cache_root_follows_xdg_cache_home(home, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert config.cache_root() == tmp_path / "xdg" / "course-utils"


@pytest.mark.parametrize("value", ["", "relative/cache"])
def test_cache_root_ignores_an_empty_or_relative_xdg_cache_home(home, monkeypatch, value):
    monkeypatch.setenv("XDG_CACHE_HOME", value)
    assert config.cache_root() == home / ".cache" / "course-utils"


def test_course_cache_dir_wins_and_expands_the_tilde(home, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("COURSE_CACHE_DIR", "~/course-cache")
    assert config.cache_root() == home / "course-cache"
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "mine"))
    assert config.cache_root() == tmp_path / "mine"


@pytest.mark.parametrize("value, words", [("", "blank"), ("   ", "blank"),
                                          (" /tmp/x", "spaces"), ("cache", "relative"),
                                          ("./cache", "relative")])
def test_course_cache_dir_refuses_blank_padded_and_relative_values(home, monkeypatch, value,
                                                                   words):
    monkeypatch.setenv("COURSE_CACHE_DIR", value)
    with pytest.raises(ValueError, match=f"COURSE_CACHE_DIR.*{words}") as info:
        config.cache_root()
    assert "absolute" in str(info.value) or "remove" in str(info.value)


def test_data_and_checkpoints_share_one_cache_root(home, tmp_path, monkeypatch):
    for setting in ({"XDG_CACHE_HOME": str(tmp_path / "xdg")}, {"COURSE_CACHE_DIR": "~/c"}, {}):
        for var in ("XDG_CACHE_HOME", "COURSE_CACHE_DIR"):
            monkeypatch.delenv(var, raising=False)
        for var, value in setting.items():
            monkeypatch.setenv(var, value)
        root = config.cache_root()
        assert root.is_absolute(), setting
        assert data.default_cache_dir() == root / "data", setting
        assert checkpoints.cache_dir() == root / "checkpoints", setting


@pytest.mark.parametrize("value, expected", [(None, None), ("  ", None), ("On", True),
                                             ("no", False), (" 1 ", True), ("FALSE", False)])
def test_read_switch_parses_on_off_and_unset(value, expected):
    assert config.read_switch("SOME_VAR", value, on="do it", off="do not") is expected


def test_read_switch_names_the_variable_and_both_meanings():
    with pytest.raises(ValueError, match=r"SOME_VAR must be 1 \(do it\) or 0 \(do not\), got 'x'"):
        config.read_switch("SOME_VAR", "x", on="do it", off="do not")
