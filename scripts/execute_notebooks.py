"""Execute notebooks top to bottom and store their outputs (used by `make notebooks`).

    python scripts/execute_notebooks.py notebooks/01_autoencoder_basics.ipynb [...]

Runs each notebook in a fresh kernel of the current environment, in the notebook's own folder,
in whatever mode COURSE_FAST selects (`make notebooks` sets full mode), stops at the first cell
that raises, and writes the notebook back only if every cell ran. Prints each notebook's time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def execute(path: Path, timeout: int) -> float:
    # Stored outputs are read on GitHub and in Colab before anyone runs a cell: a progress-bar
    # widget would show there as a frozen "0%". The training loops print a summary line instead.
    os.environ["TQDM_DISABLE"] = "1"
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if not path.is_file():
            parser.error(f"no notebook at {path}")
        try:
            elapsed = execute(path, args.timeout)
        except CellExecutionError as err:
            print(f"{path}: a cell failed, the notebook was not written\n{err}", file=sys.stderr)
            return 1
        print(f"{path}: executed in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
