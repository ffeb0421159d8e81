"""Reuse a notebook's own definitions in a script: ``notebook_defines(path, names)``.

A notebook marks the code cells that only define things (imports, model classes, losses,
training functions, configs) with the cell tag ``defines``. A script that must build exactly
the notebook's model, such as ``scripts/train_pretrained.py``, runs those cells and takes the
objects it names::

    nb = notebook_defines(NOTEBOOKS / "06_gans.ipynb", ["Generator", "PLAIN_DCGAN_CONFIG"])
    generator = nb.Generator(rngs=nnx.Rngs(nb.PLAIN_DCGAN_CONFIG["seed"]))

The names a script takes are its contract with the notebook: it gets those and nothing else, and
a notebook that no longer defines one of them is reported by name, with the notebook's path,
before anything is trained. The cells run in the notebook's folder (as Jupyter runs them), in
the order they appear, in the current process and its mode (``COURSE_FAST``); the objects of one
notebook file are made once per process and shared by later calls.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

__all__ = ["DEFINES_TAG", "defines_sources", "notebook_defines"]

DEFINES_TAG = "defines"

# (resolved path, size, modification time) -> the namespace its defines cells made
_RUN: dict[tuple[str, int, int], dict[str, Any]] = {}


def defines_sources(path: str | Path) -> list[str]:
    """The source of every code cell of the notebook at ``path`` tagged ``defines``, in order.

    Raises ``FileNotFoundError`` when ``path`` is not a file and ``ValueError`` when it is not a
    notebook or has no such cell.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no notebook {path}: check the notebook's name and folder")
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path} is not a Jupyter notebook (no JSON 'cells' list): {err}") from err
    sources = []
    for cell in cells:
        if cell.get("cell_type") == "code" and DEFINES_TAG in cell.get("metadata", {}).get(
                "tags", []):
            source = cell.get("source", "")
            sources.append("".join(source) if isinstance(source, list) else source)
    if not sources:
        raise ValueError(f"{path} has no code cell tagged {DEFINES_TAG!r}: tag the cells that "
                         "define its models and functions")
    return sources


def _run_defines_cells(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"no notebook {path}: check the notebook's name and folder")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _RUN:
        namespace: dict[str, Any] = {"__name__": "__notebook__"}
        sources = defines_sources(path)
        here = Path.cwd()
        os.chdir(path.parent)
        try:
            for number, source in enumerate(sources, start=1):
                code = compile(source, f"{path.name}:defines cell {number}", "exec")
                exec(code, namespace)  # the notebook's own code, as Jupyter would run it
        finally:
            os.chdir(here)
        _RUN[key] = namespace
    return _RUN[key]


def notebook_defines(path: str | Path, names: list[str] | tuple[str, ...]) -> SimpleNamespace:
    """Run the ``defines`` cells of the notebook at ``path`` and return the objects ``names``.

    Args:
        path: a ``.ipynb`` file (for example ``notebooks/06_gans.ipynb``).
        names: the names the caller uses, each defined (assigned, imported, a ``def`` or a
            ``class``) by a ``defines`` cell.

    Returns:
        A namespace holding exactly ``names``: ``nb = notebook_defines(...); nb.Generator``.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: ``path`` is not a notebook or has no ``defines`` cell, or ``names`` is not a
            list of names.
        NameError: a name is not defined by the cells; the message names the notebook, every
            missing name and the closest names it does define.
    """
    if isinstance(names, str) or not all(isinstance(n, str) and n.isidentifier() for n in names):
        raise ValueError(f"names must be a list of Python names such as ['Generator'], "
                         f"got {names!r}")
    path = Path(path)
    namespace = _run_defines_cells(path)
    missing = [name for name in names if name not in namespace]
    if missing:
        defined = [n for n in namespace if not n.startswith("__")]
        hints = {name: difflib.get_close_matches(name, defined, n=3) for name in missing}
        said = "; ".join(f"{name} (close: {', '.join(close)})" if close else name
                         for name, close in hints.items())
        raise NameError(f"{path} does not define {said} in its cells tagged {DEFINES_TAG!r}: "
                        "define them there (and tag the cell), or change the names the script "
                        "takes from the notebook")
    return SimpleNamespace(**{name: namespace[name] for name in names})
