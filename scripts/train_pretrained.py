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
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a script, not imported: set before course_utils loads
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


def _dcgan_build(ns: Namespace) -> tuple[Any, dict]:
    return ns["Generator"](rngs=ns["nnx"].Rngs(ns["DCGAN_CONFIG"]["seed"])), ns["DCGAN_CONFIG"]


def _dcgan_train(ns: Namespace, model: Any) -> None:
    """The notebook's own run (make_dcgan, then GANTrainer.train), for the config's steps."""
    from course_utils.classifier import score_samples

    trainer, steps = ns["make_dcgan"](model), ns["DCGAN_CONFIG"]["generator_steps"]
    z = ns["jax"].random.normal(ns["jax"].random.key(123), (1000, ns["Z_DIM"]))

    def scores() -> dict:
        G = trainer.models()[0]  # a copy: eval() does not touch the trainer's state
        G.eval()
        return score_samples((ns["np"].asarray(G(z)) + 1) / 2)

    done, start = 0, time.perf_counter()
    while done < steps:
        d_losses, g_losses = trainer.train(min(1000, steps - done))
        done += len(d_losses)
        seconds = time.perf_counter() - start
        line = (f"dcgan_mnist: {done:,}/{steps:,} generator steps in {seconds:.0f} s; D's loss "
                f"{d_losses.mean():.3f}, G's {g_losses.mean():.3f} (mean of the last "
                f"{len(d_losses)})")
        if done % 5000 == 0 or done == steps:  # sample quality as training goes
            s = scores()
            line += (f"; Fréchet {s['frechet']:.1f}, confident {s['confident_share']:.1%}, "
                     f"class shares {s['class_shares'].min():.1%} to {s['class_shares'].max():.1%}")
        print(line, flush=True)
    ns["nnx"].update(model, ns["nnx"].state(trainer.models()[0]))
    print(ns["sample_quality_report"](scores()))


PRETRAINED: dict[str, Pretrained] = {
    "mnist_classifier": Pretrained(
        description="MNIST classifier behind the sample-quality metrics (course_utils.classifier)",
        notebook=None, build=_classifier_build, train=_classifier_train),
    "vae_mnist_d20": Pretrained(
        description="20-d VAE on binarized MNIST, 30 epochs (notebook 07's train_vae20)",
        notebook="07_variational_autoencoders.ipynb", build=_vae20_build, train=_vae20_train),
    "dcgan_mnist": Pretrained(
        description="DCGAN generator on MNIST (notebook 06's Generator, make_dcgan, GANTrainer)",
        notebook="06_gans.ipynb", build=_dcgan_build, train=_dcgan_train),
}


# notebook 08: conditional GAN, pix2pix (L1 only, L1 + adversarial), CycleGAN (λ = 10 and 0)
NB08 = "08_conditional_gans.ipynb"


def _cgan_build(ns: Namespace) -> tuple[Any, dict]:
    return ns["Generator"](rngs=ns["nnx"].Rngs(0)), ns["CGAN_CONFIG"]


def _cgan_train(ns: Namespace, model: Any) -> None:
    cfg = ns["CGAN_CONFIG"]
    ns["train_cgan"](model, ns["Discriminator"](rngs=ns["nnx"].Rngs(1)), cfg["steps"],
                     batch_size=cfg["batch_size"], lr=cfg["lr"], seed=cfg["seed"])


def _pix2pix_entry(name: str) -> Pretrained:
    def build(ns: Namespace) -> tuple[Any, dict]:
        weight = ns["PIX2PIX_ADV_WEIGHTS"][name]
        return ns["UNet"](rngs=ns["nnx"].Rngs(0)), {**ns["PIX2PIX_CONFIG"], "adv_weight": weight}

    def train(ns: Namespace, model: Any) -> None:
        cfg = ns["PIX2PIX_CONFIG"]
        ns["train_pix2pix"](model, ns["PatchDiscriminator"](rngs=ns["nnx"].Rngs(1)), cfg["steps"],
                            adv_weight=ns["PIX2PIX_ADV_WEIGHTS"][name],
                            l1_weight=cfg["l1_weight"], batch_size=cfg["batch_size"],
                            lr=cfg["lr"], seed=cfg["seed"])

    kind = "L1 + adversarial" if name.endswith("gan") else "L1 only"
    return Pretrained(description=f"pix2pix U-Net completing erased digits, {kind} (notebook 08)",
                      notebook=NB08, build=build, train=train)


def _cyclegan_entry(name: str) -> Pretrained:
    def build(ns: Namespace) -> tuple[Any, dict]:
        weight = ns["CYCLE_WEIGHTS"][name]
        return ns["CycleGenerators"](rngs=ns["nnx"].Rngs(0)), {**ns["CYCLE_CONFIG"],
                                                               "cycle_weight": weight}

    def train(ns: Namespace, model: Any) -> None:
        cfg = ns["CYCLE_CONFIG"]
        ns["train_cyclegan"](model, ns["CycleDiscriminators"](rngs=ns["nnx"].Rngs(1)),
                             cfg["steps"], cycle_weight=ns["CYCLE_WEIGHTS"][name],
                             batch_size=cfg["batch_size"], lr=cfg["lr"], seed=cfg["seed"])

    kind = "with" if name == "cyclegan_bold" else "without"
    return Pretrained(description=f"CycleGAN translators, plain <-> bold-ink digits, {kind} the "
                                  "cycle loss (notebook 08)", notebook=NB08, build=build,
                      train=train)


PRETRAINED.update({
    "cgan_mnist": Pretrained(description="class-conditional DCGAN generator on MNIST (notebook 08)",
                             notebook=NB08, build=_cgan_build, train=_cgan_train),
    "pix2pix_l1": _pix2pix_entry("pix2pix_l1"),
    "pix2pix_gan": _pix2pix_entry("pix2pix_gan"),
    "cyclegan_bold": _cyclegan_entry("cyclegan_bold"),
    "cyclegan_bold_no_cycle": _cyclegan_entry("cyclegan_bold_no_cycle"),
})

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


def recorded_checksums(source: str) -> dict[str, str]:
    """The entries of the PRETRAINED_SHA256 block in ``source`` (the text of data.py)."""
    block = source.split("# BEGIN PRETRAINED_SHA256", 1)[1].split("# END PRETRAINED_SHA256", 1)[0]
    return dict(re.findall(r'"([^"]+)":\s*"([0-9a-f]{64})"', block))


def record_checksum(file_name: str, digest: str) -> None:
    """Write ``digest`` for ``data/<file_name>`` into SHA256SUMS and data.py's block.

    Both files are read again under an exclusive lock right before they are written, so two
    checkpoints trained at the same time both keep their entries.
    """
    import fcntl

    from course_utils import data

    with open(DATA_PY, "r+", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            SUMS.write_text(_build_data().merged_sha256sums(SUMS.read_text(), {file_name: digest}))
            source = DATA_PY.read_text()
            entries = {**recorded_checksums(source), file_name: digest}
            DATA_PY.write_text(replace_checksum_block(source, entries))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
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
