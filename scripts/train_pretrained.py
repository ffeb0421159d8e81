"""Train the pretrained checkpoints shipped in data/ and record their SHA-256.

    python scripts/train_pretrained.py --list        # what can be trained, and how
    python scripts/train_pretrained.py NAME [...]    # train: data/NAME.msgpack + checksums
    python scripts/train_pretrained.py --check       # each checkpoint loads into its model

A notebook loads a checkpoint with ``course_utils.checkpoints.load_pretrained(model, NAME,
config=...)`` into a model built by its *own* class. So that the two can never drift apart, each
checkpoint is made by the code of the notebook that uses it: the script executes that notebook's
cells tagged ``defines`` (its model classes, losses and training step, in full mode) and calls the
notebook's own training function, only for longer than the notebook does. Models that belong to
the package (the MNIST classifier) are built and trained by ``course_utils``.

Writing a checkpoint also writes its SHA-256 into ``data/SHA256SUMS`` and into the
``PRETRAINED_SHA256`` block of ``course_utils/data.py``, which ``load_pretrained`` checks before it
reads a byte of the file.

An entry of ``PRETRAINED`` says which notebook's ``defines`` cells to run first (or None), how to
build the fresh model and its config from that namespace (``build(ns) -> (model, config)``: the same
call the notebook makes), and how to train it (``train(ns, model)``, in place).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("COURSE_FAST", "0")  # checkpoints are always trained in full mode
os.environ.setdefault("TQDM_DISABLE", "1")

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
NOTEBOOKS = REPO_ROOT / "notebooks"
DATA_PY = REPO_ROOT / "course_utils" / "data.py"
SUMS = DATA_DIR / "SHA256SUMS"

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

Namespace = dict[str, Any]


@dataclass(frozen=True)
class Pretrained:
    """How one checkpoint in data/ is made (see the module docstring)."""

    description: str
    notebook: str | None
    build: Callable[[Namespace], tuple[Any, dict]]
    train: Callable[[Namespace, Any], None]


# ----------------------------------------------------------------------------- the checkpoints
def _classifier_build(ns: Namespace) -> tuple[Any, dict]:
    from course_utils import classifier

    return classifier.MNISTClassifier(rngs=classifier.nnx.Rngs(0)), classifier.CLASSIFIER_CONFIG


def _classifier_train(ns: Namespace, model: Any) -> None:
    from course_utils import classifier

    classifier.train_classifier(model)


def _vae20_build(ns: Namespace) -> tuple[Any, dict]:
    return ns["new_vae20"](), ns["vae20_config"](ns["PRETRAINED_EPOCHS"])


def _vae20_train(ns: Namespace, model: Any) -> None:
    ns["train_vae20"](model, ns["PRETRAINED_EPOCHS"])


PRETRAINED: dict[str, Pretrained] = {
    "mnist_classifier": Pretrained(
        description="MNIST classifier behind the sample-quality metrics (course_utils.classifier)",
        notebook=None, build=_classifier_build, train=_classifier_train),
    "vae_mnist_d20": Pretrained(
        description="20-d VAE on binarized MNIST, 30 epochs (notebook 07's train_vae20)",
        notebook="07_variational_autoencoders.ipynb", build=_vae20_build, train=_vae20_train),
}


# ----------------------------------------------------------------------------- machinery
def notebook_namespace(notebook: str | None) -> Namespace:
    """Execute the ``defines`` cells of ``notebooks/<notebook>`` (in its folder) into a dict."""
    ns: Namespace = {"__name__": "__pretrained__"}
    if notebook is None:
        return ns
    path = NOTEBOOKS / notebook
    if not path.is_file():
        raise FileNotFoundError(f"no notebook {path}: fix the entry's notebook= name")
    cells = json.loads(path.read_text())["cells"]
    here = Path.cwd()
    os.chdir(path.parent)
    try:
        for cell in cells:
            if cell["cell_type"] == "code" and "defines" in cell["metadata"].get("tags", []):
                exec(compile("".join(cell["source"]), f"{notebook}:defines", "exec"), ns)
    finally:
        os.chdir(here)
    return ns


def _file_sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _build_data() -> Any:
    """scripts/build_data.py as a module: its SHA256SUMS and data.py block writers."""
    import importlib.util

    path = Path(__file__).with_name("build_data.py")
    spec = importlib.util.spec_from_file_location("build_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def replace_checksum_block(source: str, entries: dict[str, str]) -> str:
    """``source`` (course_utils/data.py) with its PRETRAINED_SHA256 block written anew."""
    return _build_data().replace_checksum_block(source, entries, "PRETRAINED_SHA256",
                                                "scripts/train_pretrained.py")


def record_checksum(file_name: str, digest: str) -> None:
    """Write ``digest`` for ``data/<file_name>`` into SHA256SUMS and data.py's block."""
    from course_utils import data

    SUMS.write_text(_build_data().merged_sha256sums(SUMS.read_text(), {file_name: digest}))
    entries = {**data.PRETRAINED_SHA256, file_name: digest}
    DATA_PY.write_text(replace_checksum_block(DATA_PY.read_text(), entries))
    data.PRETRAINED_SHA256[file_name] = digest  # this process reads it from now on


def train(name: str) -> Path:
    """Train checkpoint ``name`` from scratch, write ``data/<name>.msgpack`` and its checksum."""
    from course_utils.checkpoints import load_pretrained, save_model

    entry = PRETRAINED[name]
    ns = notebook_namespace(entry.notebook)
    model, config = entry.build(ns)
    start = time.perf_counter()
    entry.train(ns, model)
    seconds = time.perf_counter() - start
    path = save_model(model, DATA_DIR / f"{name}.msgpack", config=config)
    record_checksum(path.name, _file_sha256(path))
    fresh, _ = entry.build(ns)
    load_pretrained(fresh, name, config=config)  # the shipped file loads into a fresh model
    print(f"{name}: trained in {seconds:.0f} s, wrote {path} ({path.stat().st_size:,} bytes)")
    return path


def check(names: list[str]) -> int:
    """Load every named checkpoint into a fresh model of its notebook; 0 if all load."""
    from course_utils.checkpoints import load_pretrained

    failures = 0
    for name in names:
        entry = PRETRAINED[name]
        try:
            model, config = entry.build(notebook_namespace(entry.notebook))
            load_pretrained(model, name, config=config)
            print(f"{name}: ok")
        except Exception as err:  # report every broken checkpoint, not only the first
            failures += 1
            print(f"{name}: FAILED: {type(err).__name__}: {err}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"checkpoints to train: {', '.join(PRETRAINED)}")
    parser.add_argument("--list", action="store_true", help="list the checkpoints and exit")
    parser.add_argument("--check", action="store_true",
                        help="load the named (default: all) checkpoints into fresh models")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in PRETRAINED]
    if unknown:
        parser.error(f"unknown checkpoint(s) {unknown}; known: {', '.join(PRETRAINED)}")
    if args.list:
        for name, entry in PRETRAINED.items():
            where = f"notebooks/{entry.notebook}" if entry.notebook else "course_utils"
            print(f"{name:24s} {entry.description} [{where}]")
        return 0
    if args.check:
        return check(args.names or list(PRETRAINED))
    if not args.names:
        parser.error("name at least one checkpoint to train (or --list / --check)")
    for name in args.names:
        train(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
