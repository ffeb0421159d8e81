"""Explorers on a static page: the HTML stores every value's images, and changes nothing else."""

import base64
import html
import io
import json
import re

import ipywidgets
import numpy as np
import pytest
from html_tags import StartTags
from PIL import Image
from test_widgets_gan import FakeSession

from course_utils.gan import sample_ring
from course_utils.widgets import (
    conv_arithmetic_explorer,
    core,
    decode_png,
    gan_lab_explorer,
    latent_plane_explorer,
    nb06_gans,
    noise_explorer,
    static,
    trained_models_explorer,
)

N_DIGITS = 4


def parse(text: str) -> tuple[StartTags, dict]:
    elements = StartTags(text)
    (root,) = [a for a in elements.tags("div") if a.get("class") == static.CSS_CLASS]
    return elements, json.loads(root["data-explorer"])


def png_of(data: dict, state: dict, name: str) -> bytes:
    return base64.b64decode(data["pngs"][state["images"][name]])


@pytest.fixture
def lam_explorer():
    rng = np.random.default_rng(0)
    originals = rng.random((N_DIGITS, 784), dtype=np.float32)
    lams = (0.0, 0.01, 0.1)
    recs = {lam: rng.random((N_DIGITS, 784), dtype=np.float32) for lam in lams}
    feats = {lam: rng.random((6, 784), dtype=np.float32) for lam in lams}
    stats = {lam: {"test MSE": 0.01 + lam} for lam in lams}
    return trained_models_explorer("lam", "λ", originals, recs, feats, panel_name="features",
                                   panel_title="features", digits_title="digits", stats=stats,
                                   value=0.01, panel_columns=3, scale=2)


def test_one_stored_view_per_value_each_the_image_that_value_shows(lam_explorer):
    slider = lam_explorer.controls["lam"]
    text = static.static_html(lam_explorer)
    _, data = parse(text)
    (control,) = data["controls"]
    assert control["labels"] == ["0", "0.01", "0.1"] and control["default"] == 1
    assert [s["key"] for s in data["states"]] == [[0], [1], [2]]
    for state, lam in zip(data["states"], (0.0, 0.01, 0.1), strict=True):
        slider.value = lam
        for name in ("digits", "features"):
            png = png_of(data, state, name)
            assert png == lam_explorer.images[name].value
            frame = lam_explorer.frames[name]
            assert decode_png(png).shape[:2] == (frame.shape[0] * 2, frame.shape[1] * 2)
            np.testing.assert_allclose(decode_png(png, 2), frame, atol=1 / 255 + 1e-6)
        assert state["info"] == lam_explorer.info.value and f"λ = {lam:g}" in state["info"]


def test_control_values_images_and_info_are_restored(lam_explorer):
    before = (lam_explorer.controls["lam"].value, lam_explorer.images["digits"].value,
              lam_explorer.info.value)
    static.static_html(lam_explorer)
    after = (lam_explorer.controls["lam"].value, lam_explorer.images["digits"].value,
             lam_explorer.info.value)
    assert after == before


def test_html_has_no_script_one_range_per_control_and_the_default_images(lam_explorer):
    text = static.static_html(lam_explorer)
    assert "<script" not in text.lower() and "javascript:" not in text.lower()
    elements, data = parse(text)
    (slider,) = elements.tags("input")
    assert slider["type"] == "range" and (slider["min"], slider["max"], slider["value"]) == (
        "0", "2", "1")
    images = {a["data-image"]: a["src"] for a in elements.tags("img")}
    assert set(images) == {"digits", "features"}
    default = data["states"][1]
    for name, src in images.items():
        assert src == "data:image/png;base64," + data["pngs"][default["images"][name]]
    assert html.escape(default["info"], quote=False) in text or default["info"] in text


def test_two_controls_store_every_combination_and_restore_both():
    rng = np.random.default_rng(1)
    images = rng.random((3, 784), dtype=np.float32)
    identity = lambda x: np.asarray(x)  # noqa: E731
    explorer = noise_explorer(images, identity, {"gaussian": identity, "masking": identity},
                              level=0.2, seed=5, levels=(0.0, 0.2, 0.5, 0.8))
    levels = len(explorer.controls["level"].options)
    _, data = parse(static.static_html(explorer))
    assert data["mode"] == "product"
    assert len(data["states"]) == levels * 2
    assert sorted(tuple(s["key"]) for s in data["states"]) == sorted(
        (i, j) for i in range(levels) for j in range(2))
    assert explorer.controls["kind"].value == "gaussian"
    assert explorer.controls["level"].value == 0.2
    level_values = explorer.controls["level"].options
    for state in data["states"]:
        i, j = state["key"]
        explorer.controls["level"].value = level_values[i]
        explorer.controls["kind"].value = ("gaussian", "masking")[j]
        assert png_of(data, state, "digits") == explorer.images["digits"].value
        assert state["info"] == explorer.info.value
    explorer.controls["kind"].value, explorer.controls["level"].value = "gaussian", 0.2
    (menu,) = StartTags(static.static_html(explorer)).tags("select")
    assert menu["data-control"] == "1"


def test_many_controls_store_one_control_at_a_time_and_dependent_ranges_come_back():
    explorer = conv_arithmetic_explorer(4, 3, 2, 1)
    values = {n: c.value for n, c in explorer.controls.items()}
    maxima = {n: getattr(c, "max", None) for n, c in explorer.controls.items()}
    diagram = explorer.images["diagram"].value
    _, data = parse(static.static_html(explorer))
    assert data["mode"] == "one"
    defaults = [c["default"] for c in data["controls"]]
    keys = [tuple(s["key"]) for s in data["states"]]
    assert len(set(keys)) == len(keys) and keys[0] == tuple(defaults)
    sizes = [len(c["labels"]) for c in data["controls"]]
    for i, n in enumerate(sizes):  # every value of every control is stored, with the others
        assert {k[i] for k in keys} == set(range(n))  # at their defaults where they allow it
    assert {n: c.value for n, c in explorer.controls.items()} == values
    assert {n: getattr(c, "max", None) for n, c in explorer.controls.items()} == maxima
    assert explorer.images["diagram"].value == diagram
    for state in data["states"]:  # each stored view is what those control values show
        for control, spec, j in zip(explorer.controls.values(), data["controls"], state["key"],
                                    strict=True):
            label = spec["labels"][j]
            control.value = label if spec["kind"] == "select" else int(label)
        assert png_of(data, state, "diagram") == explorer.images["diagram"].value
        assert state["info"] == explorer.info.value


def test_float_sliders_keep_at_most_max_values_and_their_current_value():
    rng = np.random.default_rng(2)
    codes = rng.normal(size=(50, 2)).astype(np.float32)

    def decoder(z):
        return np.tile(np.tanh(np.asarray(z)[:, :1]) * 0.5 + 0.5, (1, 784))

    explorer = latent_plane_explorer(decoder, codes, rng.integers(0, 10, 50), size_px=120,
                                     digit_scale=2)
    start = explorer.controls["z1"].value
    _, data = parse(static.static_html(explorer))
    for control in data["controls"]:
        assert 2 <= len(control["labels"]) <= static.MAX_VALUES + 1
        assert control["labels"][control["default"]] == format(
            explorer.controls[control["name"]].value, ".2f")
    assert explorer.controls["z1"].value == start
    digits = {png_of(data, s, "digit") for s in data["states"]}
    assert len(digits) > 2  # z1 moves the decoded image


def test_gan_step_through_records_a_short_run_and_keeps_its_own_state():
    explorer = gan_lab_explorer(FakeSession, sample_ring(64, seed=0), resolution=40,
                                rounds_per_frame=10)
    explorer.controls["step"].click()
    kept = (explorer.session, explorer.step_count, explorer.images["field"].value,
            explorer.info.value)
    elements, data = parse(static.static_html(explorer))
    (control,) = data["controls"]
    assert control["description"] == "generator step"
    assert control["labels"] == [str(10 * f) for f in nb06_gans.STATIC_RUN_FRAMES]
    assert len({s["images"]["field"] for s in data["states"]}) == len(nb06_gans.STATIC_RUN_FRAMES)
    assert len({s["images"]["curve"] for s in data["states"]}) == len(nb06_gans.STATIC_RUN_FRAMES)
    for state, label in zip(data["states"], control["labels"], strict=True):
        assert f"generator step {label}<" in state["info"]
        assert "longest arrow" in state["info"]  # the recorded pictures show the arrows
        assert decode_png(png_of(data, state, "field")).shape == (80, 80, 3)
        assert decode_png(png_of(data, state, "curve")).shape == (40, 80, 3)
    assert (explorer.session, explorer.step_count, explorer.images["field"].value,
            explorer.info.value) == kept
    assert len(explorer.history) == 2 and explorer.d_step_count == 10
    assert len(elements.tags("input")) == 1
    (note,) = [a for a in elements.tags("p") if a.get("class") == "cse-note"]
    assert "recorded" in explorer.static_note and "non-saturating" in explorer.static_note


def displayed(monkeypatch, explorer) -> list:
    calls = []
    monkeypatch.setattr(core, "display", lambda *a, **k: calls.append((a, k)))
    explorer._ipython_display_()
    return calls


def test_without_the_variable_the_display_is_the_widget_alone(monkeypatch, lam_explorer):
    monkeypatch.delenv(static.ENABLE_VAR, raising=False)
    assert displayed(monkeypatch, lam_explorer) == [((lam_explorer.widget,), {})]
    monkeypatch.setenv(static.ENABLE_VAR, "0")
    assert displayed(monkeypatch, lam_explorer) == [((lam_explorer.widget,), {})]


def test_with_ipywidgets_7_the_variable_changes_nothing(monkeypatch, lam_explorer):
    monkeypatch.setenv(static.ENABLE_VAR, "1")
    if hasattr(lam_explorer.widget, "_repr_mimebundle_"):  # ipywidgets 8: take it away
        monkeypatch.setattr(lam_explorer.widget, "_repr_mimebundle_", None)
    assert displayed(monkeypatch, lam_explorer) == [((lam_explorer.widget,), {})]


def test_with_the_variable_the_widget_view_and_the_static_html_are_shown(monkeypatch,
                                                                         lam_explorer):
    if not hasattr(lam_explorer.widget, "_repr_mimebundle_"):
        pytest.skip("ipywidgets 7 (Colab) shows the live widget only")
    monkeypatch.setenv(static.ENABLE_VAR, "1")
    ((args, kwargs),) = displayed(monkeypatch, lam_explorer)
    (bundle,) = args
    assert kwargs == {"raw": True}
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == lam_explorer.widget.model_id
    assert re.search(rf'class="{static.CSS_CLASS}"', bundle["text/html"])
    assert bundle["text/html"] == static.static_html(lam_explorer)


def test_large_pngs_are_stored_with_a_palette_small_ones_unchanged():
    rng = np.random.default_rng(3)
    colours = rng.random((40, 3), dtype=np.float32)
    picture = colours[rng.integers(0, 40, (300, 300))]  # a plot's few flat colours, busy
    png = core.png_bytes(picture)
    assert len(png) > static.COMPACT_ABOVE
    small = static.compact_png(png)
    assert len(small) < len(png) / 2
    back = np.asarray(Image.open(io.BytesIO(small)).convert("RGB"), np.float32) / 255
    assert back.shape == picture.shape
    np.testing.assert_allclose(back, decode_png(png), atol=1 / 255 + 1e-6)  # ≤ 256 colours
    digit = core.png_bytes(rng.random((28, 28), dtype=np.float32))
    assert static.compact_png(digit) == digit


def test_a_button_without_static_states_shows_the_current_view_and_says_why(lam_explorer):
    lam_explorer.controls["redraw"] = ipywidgets.Button(description="redraw")
    elements, data = parse(static.static_html(lam_explorer))
    assert data["controls"] == [] and len(data["states"]) == 1
    assert png_of(data, data["states"][0], "digits") == lam_explorer.images["digits"].value
    assert elements.tags("input") == [] and elements.tags("select") == []
    assert static.NEEDS_KERNEL in static.static_html(lam_explorer)
    assert lam_explorer.controls["lam"].value == 0.01
