"""Shared test set-up: a non-interactive matplotlib backend and a private cache folder."""

import os

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Models trained by tests go to a throw-away cache, never the user's."""
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
