"""Seconds each notebook spends compiling, on a first and on a second run (`make compile-times`).

    python scripts/compile_times.py [--fast] [notebooks/01_autoencoder_basics.ipynb ...]

Each notebook is executed twice in a fresh kernel, in full mode unless ``--fast``, without
writing it back. Both runs start from an empty model cache (so both train the same models), and
share one compilation cache that starts empty: the first run compiles every program and stores
it, the second loads them (see ``course_utils/compile_cache.py``). Prints, per notebook, the
seconds in XLA compilation and in loading from the cache, and the run's wall time; with
``--json PATH`` also writes them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
MARK = "COMPILE_SECONDS "
REPORT_CELL = (
    "import json as _json\n"
    "from course_utils.compile_cache import compile_seconds as _compile_seconds\n"
    f"print({MARK!r} + _json.dumps(_compile_seconds()))\n"
)


def run_once(path: Path, compile_dir: Path, fast: bool, timeout: int) -> dict[str, float]:
    """Execute one notebook in a fresh kernel; return its compile totals and wall time."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(REPORT_CELL))
    with tempfile.TemporaryDirectory(prefix="course-models-") as models:
        env = {"COURSE_FAST": "1" if fast else "0", "COURSE_CACHE_DIR": models,
               "COURSE_COMPILE_CACHE_DIR": str(compile_dir), "COURSE_COMPILE_CACHE": "1",
               "TQDM_DISABLE": "1"}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                    resources={"metadata": {"path": str(path.parent)}})
            start = time.perf_counter()
            client.execute()
            wall = time.perf_counter() - start
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    text = "".join(out.get("text", "") for out in nb.cells[-1].outputs)
    line = next((ln for ln in text.splitlines() if ln.startswith(MARK)), None)
    if line is None:
        raise RuntimeError(f"{path.name}: the report cell printed nothing: {text!r}")
    totals = json.loads(line[len(MARK):])
    totals["wall_s"] = wall
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--fast", action="store_true", help="fast mode (COURSE_FAST=1)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((REPO / "notebooks").glob("*.ipynb"))
    for path in paths:
        if not path.is_file():
            parser.error(f"no notebook at {path}")
    mode = "fast" if args.fast else "full"
    print(f"compile seconds per notebook, {mode} mode: first run (empty compilation cache) vs "
          f"second run (same cache); both train from an empty model cache")
    print(f"{'notebook':<40} {'1st compile':>12} {'2nd compile':>12} {'2nd load':>9} "
          f"{'2nd/1st':>8} {'1st wall':>9} {'2nd wall':>9}")
    results = {}
    for path in paths:
        with tempfile.TemporaryDirectory(prefix="course-compiled-") as compiled:
            first = run_once(path, Path(compiled), args.fast, args.timeout)
            second = run_once(path, Path(compiled), args.fast, args.timeout)
        results[path.name] = {"first": first, "second": second}
        ratio = second["compile_s"] / first["compile_s"] if first["compile_s"] else float("nan")
        print(f"{path.name:<40} {first['compile_s']:>10.1f} s {second['compile_s']:>10.1f} s "
              f"{second['cache_load_s']:>7.1f} s {ratio:>8.2f} {first['wall_s']:>7.0f} s "
              f"{second['wall_s']:>7.0f} s", flush=True)
    total_1 = sum(r["first"]["compile_s"] for r in results.values())
    total_2 = sum(r["second"]["compile_s"] for r in results.values())
    print(f"{'all':<40} {total_1:>10.1f} s {total_2:>10.1f} s")
    if args.json:
        args.json.write_text(json.dumps({"mode": mode, "notebooks": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
