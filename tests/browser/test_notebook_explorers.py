"""Every notebook runs in JupyterLab (Run → Run All Cells, fast mode) without an error — the one
execution of each notebook in `make test`, checking what nbval checks — and each explorer answers
every slider and dropdown with a new image and a new numbers line (an explorer that trains frame
by frame, ``FRAME_BUTTON``: each slider and toggle, then a frame; each checkbox with a new
image; each other button with a new image and numbers line).

The time from a key press on a slider's handle (or a click on the frame button) to the new image's
``src`` in the page is measured over at least ``MIN_MOVES`` moves per explorer; p50/p95 are
printed and written to ``artifacts/browser/latency.json`` (target p95 ≤ 150 ms; nothing is
asserted about time).
"""

from __future__ import annotations

import math

import pytest

MIN_MOVES = 20
STDERR = "application/vnd.jupyter.stderr"
EXPLORER = ".jp-Notebook .jp-OutputArea-output:has(.widget-slider, .widget-dropdown)"
# Explorers whose sliders and toggles set up the next frame instead of redrawing at once (a GAN
# trains frame by frame): explorer → the button that trains and draws one frame.
FRAME_BUTTON = {"gan_lab_explorer": "step"}

# Records, in the explorer's own element, when a control was used (key press on a slider's
# handle, a dropdown's choice) and when an image's src / a numbers line changed after it.
_JS_RECORDER = """(root) => {
    const rec = {t0: null, img: [], loaded: [], info: []};
    root.__rec = rec;
    const start = () => { rec.t0 = performance.now(); rec.img = []; rec.loaded = [];
                          rec.info = []; };
    root.addEventListener('keydown', start, true);
    root.addEventListener('input', start, true);
    root.addEventListener('click', start, true);
    root.addEventListener('load', (e) => {
        if (e.target.tagName === 'IMG') rec.loaded.push(performance.now()); }, true);
    new MutationObserver((mutations) => {
        const t = performance.now();
        for (const m of mutations) {
            const node = m.target.nodeType === 1 ? m.target : m.target.parentElement;
            if (m.type === 'attributes' && node.tagName === 'IMG') rec.img.push(t);
            else if (node && node.closest('.widget-html-content')) rec.info.push(t);
        }
    }).observe(root, {subtree: true, attributes: true, attributeFilter: ['src'],
                      childList: true, characterData: true});
}"""
# Every explorer sets its numbers line last, after its images, and the kernel's messages are
# applied in order: a new numbers line means the answer is complete.
_JS_ANSWERED = "(root) => root.__rec.info.length > 0"
_JS_AFTER_PAINT = "() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100), interpolated linearly as numpy's default."""
    v = sorted(values)
    pos = (len(v) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def _snapshot(explorer) -> dict:
    return explorer.evaluate("""(root) => ({
        images: [...root.querySelectorAll('img')].map(img => img.src),
        info: [...root.querySelectorAll('.widget-html-content')].map(e => e.innerText).join('\\n'),
    })""")


def _answer_times(explorer, what: str) -> tuple[float, float]:
    """Wait for the explorer's answer to the last control change; return (ms to the last new
    image src, ms to the last image loaded) since the key press or choice."""
    page = explorer.page
    try:
        page.wait_for_function(_JS_ANSWERED, arg=explorer.element_handle(), timeout=15_000)
    except Exception:
        rec = explorer.evaluate("(root) => root.__rec")
        pytest.fail(f"{what}: no new numbers line within 15 s (seen: {rec})")
    page.evaluate(_JS_AFTER_PAINT)
    rec = explorer.evaluate("(root) => root.__rec")
    src = max(rec["img"]) - rec["t0"] if rec["img"] else math.nan
    loaded = max(rec["loaded"]) - rec["t0"] if rec["loaded"] else math.nan
    return src, loaded


def _slider_state(slider) -> dict:
    return slider.evaluate("""(s) => {
        const handle = s.querySelector('.noUi-handle');
        const target = s.querySelector('.noUi-target');
        return {label: s.querySelector('.widget-label').innerText,
                min: Number(handle.getAttribute('aria-valuemin')),
                max: Number(handle.getAttribute('aria-valuemax')),
                now: Number(handle.getAttribute('aria-valuenow')),
                readout: s.querySelector('.widget-readout').innerText,
                disabled: target.hasAttribute('disabled')};
    }""")


def _movable(state: dict) -> bool:
    return not state["disabled"] and state["max"] > state["min"]


class Driver:
    """Moves an explorer's controls with the keyboard / menus and checks each answer."""

    def __init__(self, explorer):
        self.explorer = explorer
        self.slider_ms: list[float] = []
        self.loaded_ms: list[float] = []
        self.dropdown_ms: list[float] = []
        self.driven: dict[str, int] = {}
        self._up: dict[int, bool] = {}
        explorer.evaluate(_JS_RECORDER)

    def _count(self, control: str) -> None:
        self.driven[control] = self.driven.get(control, 0) + 1

    def movable_sliders(self) -> list[int]:
        sliders = self.explorer.locator(".widget-slider")
        return [i for i in range(sliders.count()) if _movable(_slider_state(sliders.nth(i)))]

    def move_slider(self, index: int) -> None:
        """One key press on the slider's handle: a new value, a new image, new numbers."""
        slider = self.explorer.locator(".widget-slider").nth(index)
        state = _slider_state(slider)
        whole = all(float(state[k]).is_integer() for k in ("min", "max", "now"))
        up = self._up.get(index, True)
        if (up and state["now"] >= state["max"]) or (not up and state["now"] <= state["min"]):
            up = not up
        self._up[index] = up
        # index sliders (int, selection) one step; float sliders 5 steps, so the numbers move
        key = ("ArrowRight" if up else "ArrowLeft") if whole else ("PageUp" if up else "PageDown")
        what = f"slider {state['label']!r} {key} from {state['readout']}"
        before = _snapshot(self.explorer)
        slider.locator(".noUi-handle").press(key)
        src_ms, loaded_ms = _answer_times(self.explorer, what)
        after = _snapshot(self.explorer)
        assert _slider_state(slider)["readout"] != state["readout"], f"{what}: did not move"
        assert after["images"] != before["images"], f"{what}: no image changed"
        assert after["info"] != before["info"], f"{what}: the numbers line did not change"
        self.slider_ms.append(src_ms)
        self.loaded_ms.append(loaded_ms)
        self._count(f"slider {state['label']}")

    def move_sliders(self, at_least: int) -> None:
        """Rounds of one move per movable slider (sliders a move enables join the next round)
        until ``at_least`` moves and two rounds are done."""
        start, rounds = len(self.slider_ms), 0
        while rounds < 2 or len(self.slider_ms) - start < at_least:
            movable = self.movable_sliders()
            assert movable, "no slider can move"
            for i in movable:
                self.move_slider(i)
            rounds += 1

    def menus(self) -> list:
        menus = self.explorer.locator(".widget-dropdown")
        return [menus.nth(m) for m in range(menus.count())]

    def choose(self, menu, value: str) -> bool:
        """Choose ``value`` in a dropdown: new numbers; return whether an image changed (a
        transposed convolution of stride 1 may draw the same picture as a convolution)."""
        label = menu.locator(".widget-label").inner_text()
        what = f"dropdown {label!r} → {value!r}"
        before = _snapshot(self.explorer)
        menu.locator("select").select_option(value)
        src_ms = _answer_times(self.explorer, what)[0]
        after = _snapshot(self.explorer)
        assert after["info"] != before["info"], f"{what}: the numbers line did not change"
        self._count(f"dropdown {label}")
        if after["images"] != before["images"]:
            self.dropdown_ms.append(src_ms)
            return True
        return False

    def choose_every_option(self, menu) -> None:
        """Every other choice of the menu in turn: each one answers, some image changes."""
        select = menu.locator("select")
        options = select.locator("option").evaluate_all("os => os.map(o => o.value)")
        current = select.input_value()
        changed = [self.choose(menu, value) for value in options if value != current]
        assert any(changed), f"no choice in {options} changed an image"

    # ------------------------------------------------- explorers that draw frame by frame
    def set_slider(self, index: int) -> None:
        """One key press on a slider that takes effect at the next frame: it must move."""
        slider = self.explorer.locator(".widget-slider").nth(index)
        state = _slider_state(slider)
        key = "ArrowLeft" if state["now"] >= state["max"] else "ArrowRight"
        slider.locator(".noUi-handle").press(key)
        assert _slider_state(slider)["readout"] != state["readout"], (
            f"slider {state['label']!r} {key} from {state['readout']}: did not move")
        self._count(f"slider {state['label']}")

    def click(self, label: str) -> tuple[float, float]:
        """Click a button: a new image and numbers line; return ms to the new image's src and
        to its load."""
        button = self.explorer.locator(".widget-button", has_text=label).first
        what = f"button {label!r}"
        before = _snapshot(self.explorer)
        button.click()
        times = _answer_times(self.explorer, what)
        after = _snapshot(self.explorer)
        assert after["images"] != before["images"], f"{what}: no image changed"
        assert after["info"] != before["info"], f"{what}: the numbers line did not change"
        self._count(what)
        return times

    def checkboxes(self) -> list:
        """The explorer's checkboxes (labels), e.g. what the picture shows."""
        return [c.inner_text().strip() for c in self.explorer.locator(".widget-checkbox").all()]

    def flip_checkbox(self, label: str) -> None:
        """Tick or untick a checkbox: the picture must be redrawn with another image."""
        box = self.explorer.locator(".widget-checkbox", has_text=label).first
        what = f"checkbox {label!r}"
        before = _snapshot(self.explorer)
        box.locator("input").click()
        try:
            self.explorer.page.wait_for_function("(root) => root.__rec.img.length > 0",
                                                 arg=self.explorer.element_handle(),
                                                 timeout=15_000)
        except Exception:
            pytest.fail(f"{what}: no image redrawn within 15 s")
        self.explorer.page.evaluate(_JS_AFTER_PAINT)
        assert _snapshot(self.explorer)["images"] != before["images"], f"{what}: no image changed"
        self._count(what)

    def toggle_options(self) -> list:
        """The options of the explorer's toggle-button groups, not chosen now."""
        return [b for b in self.explorer.locator(".widget-toggle-button").all()
                if "mod-active" not in (b.get_attribute("class") or "")]

    def play_frames(self, frames: int) -> None:
        """Press play, let ``frames`` frames be drawn, press pause."""
        play = self.explorer.locator(".widget-play button").first
        before = _snapshot(self.explorer)
        play.click()
        self.explorer.page.wait_for_function(
            "([root, n]) => root.__rec.info.length >= n",
            arg=[self.explorer.element_handle(), frames], timeout=30_000)
        play.click()
        assert _snapshot(self.explorer)["images"] != before["images"], "play drew no frame"
        self._count("play")


def drive_frame_by_frame(driver: Driver, frame_button: str) -> None:
    """Sliders and toggles, each followed by one frame; ``MIN_MOVES`` frames; each checkbox off
    and on; the other buttons (one player's steps, reset); play and pause."""
    for i in driver.movable_sliders():
        for _ in range(2):
            driver.set_slider(i)
        driver.click(frame_button)
    for option in driver.toggle_options():
        option.click()
        driver._count("toggle " + option.inner_text())
        driver.click(frame_button)
    for _ in range(MIN_MOVES):
        src_ms, loaded_ms = driver.click(frame_button)
        driver.slider_ms.append(src_ms)
        driver.loaded_ms.append(loaded_ms)
    for label in driver.checkboxes():  # off and on again, each a new picture
        driver.flip_checkbox(label)
        driver.flip_checkbox(label)
    labels = driver.explorer.locator(".widget-button").all_inner_texts()
    for label in [t.strip() for t in labels if t.strip() and t.strip() != frame_button]:
        driver.click(label)
    if driver.explorer.locator(".widget-play").count():
        driver.play_frames(2)


def drive_at_once(driver: Driver) -> None:
    """Every choice of every menu, ``MIN_MOVES`` slider moves with the last choice, back to the
    first choices and two more rounds of slider moves."""
    menus = driver.menus()
    first_choice = [m.locator("select").input_value() for m in menus]
    for menu in menus:
        driver.choose_every_option(menu)
    driver.move_sliders(at_least=MIN_MOVES)
    for menu, value in zip(menus, first_choice, strict=True):
        driver.choose(menu, value)
    if menus:
        driver.move_sliders(at_least=1)


@pytest.fixture(scope="module")
def notebook(notebook_name, open_notebook, lab):
    """A notebook opened in JupyterLab and run top to bottom (Run All Cells); never saved."""
    nb = open_notebook(notebook_name)
    nb.run_all()
    yield nb
    nb.shutdown_kernel()
    nb.page.close()
    saved = [line for line in lab.log.read_text().splitlines() if "Saving file" in line]
    assert not saved, f"JupyterLab saved a course notebook while testing it: {saved}"


def test_notebook_runs_every_cell_without_an_error(notebook):
    cells = notebook.code_cells()
    failures = []
    for cell in cells:
        for out in cell["outputs"]:
            if out["output_type"] == "error":
                failures.append(f"cell {cell['index']}: {out['ename']}: {out['evalue']}")
            elif out["output_type"] == "stream" and "Traceback" in "".join(out["text"]):
                failures.append(f"cell {cell['index']} printed a traceback:\n"
                                + "".join(out["text"])[-1500:])
    assert not failures, "\n".join(failures)
    not_run = [c["index"] for c in cells if c["source"].strip() and c["count"] is None]
    assert not not_run, f"cells {not_run} did not run"
    shown = notebook.page.locator(f'.jp-OutputArea-output[data-mime-type="{STDERR}"]')
    tracebacks = [t for t in shown.all_inner_texts() if "Traceback" in t]
    assert not tracebacks, tracebacks[0][-1500:]
    print(f"{notebook.name}: Run All Cells took {notebook.run_seconds:.1f} s (fast mode)")


def test_every_explorer_answers_every_control(notebook, artifacts, latency_report):
    page, stem = notebook.page, notebook.name.removesuffix(".ipynb")
    calls = notebook.explorers
    if not calls:
        pytest.skip(f"{notebook.name} shows no explorer")
    explorers = page.locator(EXPLORER)
    try:
        page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length >= n",
                               arg=[EXPLORER, len(calls)], timeout=30_000)
    except Exception:
        pytest.fail(f"{len(calls)} explorer(s) called ({calls}), "
                    f"{explorers.count()} shown as widgets in JupyterLab")
    assert explorers.count() == len(calls), f"{calls} but {explorers.count()} widget outputs"
    for k, name in enumerate(calls):
        explorer = explorers.nth(k)
        explorer.scroll_into_view_if_needed()
        explorer.locator("img").first.wait_for(state="visible")
        driver = Driver(explorer)
        if name in FRAME_BUTTON:
            drive_frame_by_frame(driver, FRAME_BUTTON[name])
        else:
            drive_at_once(driver)
        explorer.screenshot(path=artifacts / f"{stem}-{k + 1}-{name}.png")
        ms, loaded = driver.slider_ms, [v for v in driver.loaded_ms if not math.isnan(v)]
        measured = (f"click on {FRAME_BUTTON[name]!r} (one training frame) → new image src"
                    if name in FRAME_BUTTON else "slider key press → new image src")
        row = {"measured": measured, "moves": len(ms), "p50_ms": round(percentile(ms, 50), 1),
               "p95_ms": round(percentile(ms, 95), 1), "max_ms": round(max(ms), 1),
               "p95_loaded_ms": round(percentile(loaded, 95), 1) if loaded else None,
               "dropdown_p50_ms": (round(percentile(driver.dropdown_ms, 50), 1)
                                   if driver.dropdown_ms else None),
               "driven": driver.driven, "samples_ms": [round(v, 1) for v in ms]}
        latency_report[f"{stem} / {name}"] = row
        print(f"{stem} / {name}: {driver.driven}; {measured}: p50 {row['p50_ms']} ms, "
              f"p95 {row['p95_ms']} ms over {row['moves']}")
        assert len(ms) >= MIN_MOVES
    page.screenshot(path=artifacts / f"{stem}.png")
