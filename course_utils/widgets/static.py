"""Explorers on a static web page: every control value's images, stored in one HTML element.

When ``COURSE_STATIC_EXPLORERS=1`` is set (``make notebooks`` sets it), an explorer shown in a
notebook stores, beside its live widget, a ``text/html`` version of itself: the controls as
``<input type="range">`` or ``<select>`` elements, the images as PNG ``data:`` addresses and,
in the element's ``data-explorer`` attribute, the images and the info line for every value of
the controls. JupyterLab keeps showing the live widget; the course's web site (``make site``)
shows the HTML, which its one script (``docs/site/_static/explorers.js``) wires so that moving a
control swaps the images. No ``<script>`` is stored in a notebook.

Which values are stored:

- a menu (``Dropdown``, ``ToggleButtons``, ``SelectionSlider``, ...): all its options;
- an int or float slider: at most ``MAX_VALUES`` values, evenly spaced, its current one included;
- one control: each value; several: every combination when there are at most
  ``MAX_COMBINATIONS``, else each control's values with the others at their current values.
  Each view is stored under the values the controls hold once set (a slider whose range follows
  another control may refuse a value). On the page, moving a control to a combination that was
  not stored shows the nearest stored view with that control's value, and the other controls
  move to its values;
- buttons and play controls cannot be enumerated: an explorer that has them says what to show
  instead with a ``static_states()`` method (notebook 06's training step-through records a
  short run, shown with a range labelled "generator step"); without one, the page shows the
  view of the moment with a note that the controls need a running notebook.

Size: PNGs above ``COMPACT_ABOVE`` bytes are stored with a 256-colour palette, and each distinct
image once; a notebook's explorers add 0.04–1.1 MB to it (notebooks 02–08 measured).
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image as PILImage

__all__ = [
    "COMPACT_ABOVE",
    "CSS_CLASS",
    "ENABLE_VAR",
    "MAX_COMBINATIONS",
    "MAX_VALUES",
    "NEEDS_KERNEL",
    "StaticControl",
    "StaticState",
    "compact_png",
    "enabled",
    "enumerate_states",
    "states_of_run",
    "static_html",
]

ENABLE_VAR = "COURSE_STATIC_EXPLORERS"
MAX_COMBINATIONS = 40  # all combinations of several controls' values up to this many
MAX_VALUES = 7  # values kept of a slider with more (evenly spaced, the current one included)
# PNGs larger than this (a scatter plot's background, say) are stored with a 256-colour palette
COMPACT_ABOVE = 32_000
CSS_CLASS = "course-static-explorer"
NEEDS_KERNEL = ("The controls of this explorer need a running notebook: open it in Colab or "
                "JupyterLab to use them. Shown: the view when the notebook was executed.")


def enabled() -> bool:
    """Whether explorers add their static HTML when shown (``COURSE_STATIC_EXPLORERS=1``)."""
    return os.environ.get(ENABLE_VAR, "") == "1"


@dataclass(frozen=True)
class StaticControl:
    """One control of the static page: its ``labels`` (one per stored value), the index of the
    value shown first (``default``) and the element drawn (``"range"`` or ``"select"``)."""

    name: str
    description: str
    labels: tuple[str, ...]
    default: int
    kind: str = "range"


@dataclass(frozen=True)
class StaticState:
    """One stored view: the index of each control's value, each image's PNG bytes, the info."""

    key: tuple[int, ...]
    images: dict[str, bytes]
    info: str


_MENUS = ("Dropdown", "ToggleButtons", "RadioButtons", "Select")


def _control_values(control: Any) -> tuple[list[object], list[str], str]:
    """``(values, labels, kind)`` of one control; ``ValueError`` when it has no values."""
    name = type(control).__name__
    if hasattr(control, "_options_values"):  # menus and SelectionSlider
        values = list(control._options_values)
        labels = [str(label) for label in control._options_labels]
        return values, labels, "select" if name in _MENUS else "range"
    if name in ("IntSlider", "FloatSlider", "BoundedIntText", "BoundedFloatText"):
        lo, hi, step = control.min, control.max, control.step or 1
        n = int(round((hi - lo) / step)) + 1
        if name.startswith("Int"):
            values = list(range(int(lo), int(hi) + 1, int(step)))
            if len(values) > MAX_VALUES:
                values = sorted({int(v) for v in np.linspace(lo, hi, MAX_VALUES).round()})
        else:
            values = [float(v) for v in np.linspace(lo, hi, min(n, MAX_VALUES))]
        if control.value not in values:
            values = sorted([*values, control.value])
        fmt = getattr(control, "readout_format", "d" if name.startswith("Int") else ".2f")
        return values, [format(v, fmt) for v in values], "range"
    raise ValueError(f"a {name} control has no list of values to store")


def enumerate_states(explorer: Any) -> tuple[list[StaticControl], list[StaticState]]:
    """Set ``explorer``'s controls to each stored combination of values, record the images and
    the info line of each, then put every control back to its value before the call.

    Returns the controls (in ``explorer.controls`` order) and one ``StaticState`` per view.
    """
    names = list(explorer.controls)
    controls = [explorer.controls[n] for n in names]
    found = [_control_values(c) for c in controls]  # ValueError for a button
    original = [c.value for c in controls]
    specs, values = [], []
    for name, control, value, (vals, labels, kind) in zip(names, controls, original, found,
                                                          strict=True):
        default = next(i for i, v in enumerate(vals) if v == value)
        specs.append(StaticControl(name, str(getattr(control, "description", "") or name),
                                   tuple(labels), default, kind))
        values.append(vals)
    defaults = tuple(s.default for s in specs)
    sizes = [len(v) for v in values]
    if int(np.prod(sizes)) <= MAX_COMBINATIONS:
        keys = list(itertools.product(*(range(n) for n in sizes)))
    else:  # one control at a time, the others at their current values
        keys = [defaults] + [defaults[:i] + (j,) + defaults[i + 1:]
                             for i, n in enumerate(sizes) for j in range(n) if j != defaults[i]]
    states, seen = [], set()
    try:
        for key in keys:
            for control, vals, j in zip(controls, values, key, strict=True):
                if control.value != vals[j]:
                    control.value = vals[j]
            # stored under the values the controls hold: a range that follows another
            # control (padding ≤ kernel - 1) may have refused the asked one
            held = tuple(next((i for i, v in enumerate(vals) if v == c.value), -1)
                         for c, vals in zip(controls, values, strict=True))
            if -1 in held or held in seen:
                continue
            seen.add(held)
            states.append(StaticState(held, {n: bytes(im.value) for n, im in
                                             explorer.images.items()}, str(explorer.info.value)))
    finally:
        _restore(controls, original)
    return specs, states


def _restore(controls: Sequence[Any], original: Sequence[object]) -> None:
    """Put each control back to its value; twice, as a control's range may follow another's."""
    for _ in range(2):
        for control, value in zip(controls, original, strict=True):
            if control.value != value:
                control.value = value


def compact_png(png: bytes) -> bytes:
    """``png`` itself when at most ``COMPACT_ABOVE`` bytes, else the smaller of it and the same
    picture with a 256-colour palette (no dithering: a plot's flat colours stay flat)."""
    if len(png) <= COMPACT_ABOVE:
        return png
    image = PILImage.open(io.BytesIO(png))
    if image.mode not in ("RGB", "RGBA", "L"):
        return png
    buffer = io.BytesIO()
    image.convert("RGB").quantize(256, method=PILImage.Quantize.FASTOCTREE,
                                  dither=PILImage.Dither.NONE).save(buffer, "png", optimize=True)
    return min(png, buffer.getvalue(), key=len)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def static_html(explorer: Any) -> str:
    """The static version of ``explorer`` as one HTML element (no script).

    The explorer's own ``static_states()`` is used when it has one, else ``enumerate_states``;
    its ``static_note`` (plain text), when it has one, is shown under the controls. An explorer
    with a control that has no values to store (a button) is shown as it is now, with
    ``NEEDS_KERNEL`` as its note.
    The element carries ``class="course-static-explorer"`` and a ``data-explorer`` JSON
    attribute: ``{"controls": [{name, description, labels, default, kind}], "pngs": [base64
    strings, each distinct image once], "states": [{"key": [value index per control],
    "images": {image name: index into pngs}, "info": html}], "mode": "product" | "one"}``.
    """
    states_of = getattr(explorer, "static_states", None)
    note = getattr(explorer, "static_note", "")
    try:
        specs, states = states_of() if callable(states_of) else enumerate_states(explorer)
    except ValueError:  # a control without values (a button): the view shown now, and why
        specs, states = [], [StaticState((), {n: bytes(im.value) for n, im in
                                              explorer.images.items()}, str(explorer.info.value))]
        note = NEEDS_KERNEL
    pngs: list[str] = []
    index: dict[bytes, int] = {}
    rows = []
    states = [StaticState(s.key, {n: compact_png(png) for n, png in s.images.items()}, s.info)
              for s in states]
    for state in states:
        ids = {}
        for name, png in state.images.items():
            if png not in index:
                index[png] = len(pngs)
                pngs.append(base64.b64encode(png).decode("ascii"))
            ids[name] = index[png]
        rows.append({"key": list(state.key), "images": ids, "info": state.info})
    product = int(np.prod([len(s.labels) for s in specs])) == len(states)
    data = {"controls": [{"name": s.name, "description": s.description, "labels": list(s.labels),
                          "default": s.default, "kind": s.kind} for s in specs],
            "pngs": pngs, "states": rows, "mode": "product" if product else "one"}
    defaults = [s.default for s in specs]
    first = next((s for s in states if list(s.key) == defaults), states[0])
    parts = [f'<div class="{CSS_CLASS}" data-explorer="{html.escape(json.dumps(data))}">',
             '<div class="cse-controls">']
    for i, s in enumerate(specs):
        label = html.escape(s.description)
        if s.kind == "select":
            options = "".join(f'<option value="{j}"{" selected" if j == s.default else ""}>'
                              f"{html.escape(t)}</option>" for j, t in enumerate(s.labels))
            element = f'<select data-control="{i}" aria-label="{label}">{options}</select>'
        else:
            element = (f'<input type="range" data-control="{i}" min="0" '
                       f'max="{len(s.labels) - 1}" step="1" value="{s.default}" '
                       f'aria-label="{label}">'
                       f'<output data-readout="{i}">{html.escape(s.labels[s.default])}</output>')
        parts.append(f'<label class="cse-control"><span>{label}</span> {element}</label>')
    parts.append("</div>")
    if note:
        parts.append(f'<p class="cse-note">{html.escape(note)}</p>')
    parts.append(f'<div class="cse-info">{first.info}</div><div class="cse-images">')
    for name, png in first.images.items():
        parts.append(f'<img data-image="{html.escape(name)}" alt="{html.escape(name)}" '
                     f'src="{_data_uri(png)}">')
    parts.append("</div></div>")
    return "".join(parts)


def states_of_run(frames: Iterator[tuple[dict[str, bytes], str]], labels: Sequence[str],
                  name: str = "step") -> tuple[list[StaticControl], list[StaticState]]:
    """A recorded run as one range control called ``name``: ``frames`` yields (images, info)
    for each of ``labels`` in order."""
    states = [StaticState((j,), images, info) for j, (images, info) in enumerate(frames)]
    if len(states) != len(labels):
        raise ValueError(f"{len(labels)} labels for {len(states)} recorded frames")
    return [StaticControl(name, name, tuple(labels), 0, "range")], states
