"""Train the pretrained checkpoints shipped in data/ and record their SHA-256.

    python scripts/train_pretrained.py --list        # what can be trained, and how
    python scripts/train_pretrained.py NAME [...]    # train: data/NAME.msgpack + its checksum
    python scripts/train_pretrained.py --check       # each checkpoint loads into its model

A notebook loads a checkpoint with ``course_utils.checkpoints.load_pretrained(model, NAME,
config=...)`` into a model built by its *own* class. So that the two can never drift apart, each
checkpoint is made by the code of the notebook that uses it: the script runs that notebook's
cells tagged ``defines`` (its model classes, losses and training step, in full mode) through
``notebook_defines`` (scripts/notebook_defines.py) and calls the notebook's own training
function, only for longer than the notebook does. Models that belong to the package (the MNIST
classifier) are built and trained by ``course_utils``.

Writing a checkpoint also writes its SHA-256 into ``course_utils/SHA256SUMS`` (the package's
checksum file, which ``load_pretrained`` checks before it reads a byte of the checkpoint).

An entry of ``PRETRAINED`` says which notebook's ``defines`` cells to run (or None), the names it
takes from them (``needs``: the contract with the notebook, checked by the tests), how to build the
fresh model and its config from them (``build(nb) -> (model, config)``: the same call the notebook
makes, with ``nb.Generator`` and so on), and how to train it (``train(nb, model)``, in place).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from build_data import record_checksums
from notebook_defines import notebook_defines

if __name__ == "__main__":  # run as a script, not imported: set before course_utils loads
    os.environ.setdefault("COURSE_FAST", "0")  # checkpoints are always trained in full mode
    os.environ.setdefault("TQDM_DISABLE", "1")

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
NOTEBOOKS = REPO_ROOT / "notebooks"
SUMS = REPO_ROOT / "course_utils" / "SHA256SUMS"


@dataclass(frozen=True)
class Pretrained:
    """How one checkpoint in data/ is made (see the module docstring)."""

    description: str
    notebook: str | None
    needs: tuple[str, ...]
    build: Callable[[SimpleNamespace], tuple[Any, dict]]
    train: Callable[[SimpleNamespace, Any], None]


# ----------------------------------------------------------------------------- the checkpoints
def _classifier_build(nb: SimpleNamespace) -> tuple[Any, dict]:
    from course_utils import classifier

    return classifier.MNISTClassifier(rngs=classifier.nnx.Rngs(0)), classifier.CLASSIFIER_CONFIG


def _classifier_train(nb: SimpleNamespace, model: Any) -> None:
    from course_utils import classifier

    classifier.train_classifier(model)


VAE20_NEEDS = ("new_vae20", "vae20_config", "train_vae20", "PRETRAINED_EPOCHS")


def _vae20_build(nb: SimpleNamespace) -> tuple[Any, dict]:
    return nb.new_vae20(), nb.vae20_config(nb.PRETRAINED_EPOCHS)


def _vae20_train(nb: SimpleNamespace, model: Any) -> None:
    nb.train_vae20(model, nb.PRETRAINED_EPOCHS)


DCGAN_NEEDS = ("Generator", "DCGAN_CONFIG", "make_dcgan", "Z_DIM")
PLAIN_DCGAN_NEEDS = ("Generator", "PLAIN_DCGAN_CONFIG", "make_dcgan", "Z_DIM")


def _dcgan_build(nb: SimpleNamespace) -> tuple[Any, dict]:
    from flax import nnx

    config = nb.DCGAN_CONFIG
    return nb.Generator(categories=config["categories"], rngs=nnx.Rngs(config["seed"])), config


def _dcgan_train(nb: SimpleNamespace, model: Any) -> None:
    """The notebook's stabilised run (lazy R1, weight average); the average is what is saved."""
    _gan_run("dcgan_mnist", nb.make_dcgan(model, stabilised=True),
             nb.DCGAN_CONFIG["generator_steps"], nb.Z_DIM, model, averaged=True)


def _dcgan_plain_build(nb: SimpleNamespace) -> tuple[Any, dict]:
    from flax import nnx

    return nb.Generator(rngs=nnx.Rngs(nb.PLAIN_DCGAN_CONFIG["seed"])), nb.PLAIN_DCGAN_CONFIG


def _dcgan_plain_train(nb: SimpleNamespace, model: Any) -> None:
    """The notebook's plain run, without stabilisers (its comparison)."""
    _gan_run("dcgan_mnist_plain", nb.make_dcgan(model, stabilised=False),
             nb.PLAIN_DCGAN_CONFIG["generator_steps"], nb.Z_DIM, model, averaged=False)


def _gan_run(name: str, trainer: Any, steps: int, z_dim: int, model: Any, *,
             averaged: bool) -> None:
    """Train a notebook's GANTrainer for ``steps`` generator steps and copy its G into ``model``.

    averaged: copy the running average of G's weights (``trainer.averaged_generator()``), not G.
    Sample quality on 1,000 seeded samples is printed every 5,000 steps and at the end.
    """
    import jax
    import numpy as np
    from flax import nnx

    from course_utils.classifier import score_samples
    from course_utils.gan import sample_quality_report

    z = jax.random.normal(jax.random.key(123), (1000, z_dim))

    def scores(G: Any) -> dict:
        G.eval()  # sets flags on this merged G's modules only, not on the trainer's
        return score_samples((np.asarray(G(z)) + 1) / 2)

    def summary(s: dict) -> str:
        return (f"Fréchet {s['frechet']:.1f}, confident {s['confident_share']:.1%}, class shares "
                f"{s['class_shares'].min():.1%} to {s['class_shares'].max():.1%}")

    def final() -> Any:
        return trainer.averaged_generator() if averaged else trainer.models()[0]

    done, start = 0, time.perf_counter()
    while done < steps:
        d_losses, g_losses = trainer.train(min(1000, steps - done))
        done += len(d_losses)
        seconds = time.perf_counter() - start
        line = (f"{name}: {done:,}/{steps:,} generator steps in {seconds:.0f} s; D's loss "
                f"{d_losses.mean():.3f}, G's {g_losses.mean():.3f} (mean of the last "
                f"{len(d_losses)})")
        if done % 5000 == 0 or done == steps:  # sample quality as training goes
            line += f"; G: {summary(scores(trainer.models()[0]))}"
            if averaged:
                line += f"; G's average: {summary(scores(trainer.averaged_generator()))}"
        print(line, flush=True)
    G = final()
    nnx.update(model, nnx.state(G))
    print(sample_quality_report(scores(G)))


PRETRAINED: dict[str, Pretrained] = {
    "mnist_classifier": Pretrained(
        description="MNIST classifier behind the sample-quality metrics (course_utils.classifier)",
        notebook=None, needs=(), build=_classifier_build, train=_classifier_train),
    "vae_mnist_d20": Pretrained(
        description="20-d VAE on binarized MNIST, 30 epochs (notebook 07's train_vae20)",
        notebook="07_variational_autoencoders.ipynb", needs=VAE20_NEEDS, build=_vae20_build,
        train=_vae20_train),
    "dcgan_mnist": Pretrained(
        description="DCGAN generator on MNIST, lazy R1, weight average, categorical noise, "
                    "InfoGAN loss (06's Generator, make_dcgan, GANTrainer)",
        notebook="06_gans.ipynb", needs=DCGAN_NEEDS, build=_dcgan_build, train=_dcgan_train),
    "dcgan_mnist_plain": Pretrained(
        description="DCGAN generator on MNIST without stabilisers (notebook 06, make_dcgan("
                    "stabilised=False))",
        notebook="06_gans.ipynb", needs=PLAIN_DCGAN_NEEDS, build=_dcgan_plain_build,
        train=_dcgan_plain_train),
}


# notebook 08: conditional GAN, pix2pix (L1 only, L1 + adversarial), CycleGAN (λ = 10 and 0)
NB08 = "08_conditional_gans.ipynb"
CGAN_NEEDS = ("Generator", "Discriminator", "CGAN_CONFIG", "train_cgan")
PIX2PIX_NEEDS = ("UNet", "PatchDiscriminator", "PIX2PIX_CONFIG", "PIX2PIX_ADV_WEIGHTS",
                 "train_pix2pix")
CYCLEGAN_NEEDS = ("CycleGenerators", "CycleDiscriminators", "CYCLE_CONFIG", "CYCLE_WEIGHTS",
                  "train_cyclegan")


def _cgan_build(nb: SimpleNamespace) -> tuple[Any, dict]:
    from flax import nnx

    return nb.Generator(rngs=nnx.Rngs(0)), nb.CGAN_CONFIG


def _cgan_train(nb: SimpleNamespace, model: Any) -> None:
    from flax import nnx

    cfg = nb.CGAN_CONFIG
    nb.train_cgan(model, nb.Discriminator(rngs=nnx.Rngs(1)), cfg["steps"],
                  batch_size=cfg["batch_size"], lr=cfg["lr"], seed=cfg["seed"])


def _pix2pix_entry(name: str) -> Pretrained:
    def build(nb: SimpleNamespace) -> tuple[Any, dict]:
        from flax import nnx

        weight = nb.PIX2PIX_ADV_WEIGHTS[name]
        return nb.UNet(rngs=nnx.Rngs(0)), {**nb.PIX2PIX_CONFIG, "adv_weight": weight}

    def train(nb: SimpleNamespace, model: Any) -> None:
        from flax import nnx

        cfg = nb.PIX2PIX_CONFIG
        nb.train_pix2pix(model, nb.PatchDiscriminator(rngs=nnx.Rngs(1)), cfg["steps"],
                         adv_weight=nb.PIX2PIX_ADV_WEIGHTS[name], l1_weight=cfg["l1_weight"],
                         batch_size=cfg["batch_size"], lr=cfg["lr"], seed=cfg["seed"])

    kind = "L1 + adversarial" if name.endswith("gan") else "L1 only"
    return Pretrained(description=f"pix2pix U-Net completing erased digits, {kind} (notebook 08)",
                      notebook=NB08, needs=PIX2PIX_NEEDS, build=build, train=train)


def _cyclegan_entry(name: str) -> Pretrained:
    def build(nb: SimpleNamespace) -> tuple[Any, dict]:
        from flax import nnx

        weight = nb.CYCLE_WEIGHTS[name]
        return nb.CycleGenerators(rngs=nnx.Rngs(0)), {**nb.CYCLE_CONFIG, "cycle_weight": weight}

    def train(nb: SimpleNamespace, model: Any) -> None:
        from flax import nnx

        cfg = nb.CYCLE_CONFIG
        nb.train_cyclegan(model, nb.CycleDiscriminators(rngs=nnx.Rngs(1)), cfg["steps"],
                          cycle_weight=nb.CYCLE_WEIGHTS[name], batch_size=cfg["batch_size"],
                          lr=cfg["lr"], seed=cfg["seed"])

    kind = "with" if name == "cyclegan_bold" else "without"
    return Pretrained(description=f"CycleGAN translators, plain <-> bold-ink digits, {kind} the "
                                  "cycle loss (notebook 08)", notebook=NB08,
                      needs=CYCLEGAN_NEEDS, build=build, train=train)


# notebook 09: the pixel-space DDPM (a U-Net noise predictor)
DDPM_NEEDS = ("UNet", "PIXEL_CONFIG", "unet_trainer")


def _ddpm_build(nb: SimpleNamespace) -> tuple[Any, dict]:
    from flax import nnx

    return nb.UNet(rngs=nnx.Rngs(nb.PIXEL_CONFIG["seed"])), nb.PIXEL_CONFIG


def _ddpm_train(nb: SimpleNamespace, model: Any) -> None:
    """The notebook's unet_trainer in its two stages: the config's ``steps`` without labels, then,
    from that stage's EMA weights, ``label_steps`` with labels; the model gets the EMA weights."""
    import jax
    import numpy as np
    from flax import nnx

    from course_utils.classifier import score_samples
    from course_utils.data import load_mnist

    cfg = nb.PIXEL_CONFIG
    images, labels = load_mnist("train")
    images = images[..., None] * 2 - 1  # float32[60000, 28, 28, 1] in [-1, 1]
    options = {"batch_size": cfg["batch_size"], "learning_rate": cfg["learning_rate"],
               "warmup": cfg["warmup_steps"], "ema_decay": cfg["ema_decay"], "seed": cfg["seed"]}
    asked = np.arange(1000) % 10
    for stage, steps, stage_labels in (("no labels", cfg["steps"], None),
                                       ("labels", cfg["label_steps"], labels)):
        run, averaged = nb.unet_trainer(model, images, stage_labels,
                                        label_dropout=cfg["label_dropout"], **options)
        done, start = 0, time.perf_counter()
        while done < steps:
            losses = run(min(1000, steps - done))
            done += len(losses)
            line = (f"ddpm_mnist, {stage}: {done:,}/{steps:,} steps in "
                    f"{time.perf_counter() - start:.0f} s; loss {losses.mean():.1f} (mean of the "
                    f"last {len(losses)})")
            if done % 4000 == 0 or done == steps:  # sample quality as training goes
                sampler = (averaged() if stage_labels is None
                           else nb.Guided(averaged(), asked, nb.GUIDANCE))
                x = nb.ddim_sample(sampler, (1000, 28, 28, 1), jax.random.key(10),
                                   nb.PIXEL_DDIM)
                s = score_samples((np.clip(x, -1, 1) + 1) / 2)
                guided = "" if stage_labels is None else f", guided (g = {nb.GUIDANCE:g})"
                line += (f"; EMA model{guided}, {nb.PIXEL_DDIM} "
                         f"DDIM steps: Fréchet {s['frechet']:.1f}, confident "
                         f"{s['confident_share']:.1%}, class shares "
                         f"{s['class_shares'].min():.1%} to {s['class_shares'].max():.1%}")
            print(line, flush=True)
        nnx.update(model, nnx.state(averaged(), nnx.Param))  # the next stage starts from the EMA


PRETRAINED.update({
    "ddpm_mnist": Pretrained(
        description="pixel-space DDPM on MNIST: a U-Net noise predictor that takes an optional "
                    "label, EMA weights (notebook 09)",
        notebook="09_diffusion.ipynb", needs=(*DDPM_NEEDS, "ddim_sample", "Guided", "GUIDANCE",
                                                   "PIXEL_DDIM"),
        build=_ddpm_build,
        train=_ddpm_train),
    "cgan_mnist": Pretrained(description="class-conditional DCGAN generator on MNIST (notebook 08)",
                             notebook=NB08, needs=CGAN_NEEDS, build=_cgan_build,
                             train=_cgan_train),
    "pix2pix_l1": _pix2pix_entry("pix2pix_l1"),
    "pix2pix_gan": _pix2pix_entry("pix2pix_gan"),
    "cyclegan_bold": _cyclegan_entry("cyclegan_bold"),
    "cyclegan_bold_no_cycle": _cyclegan_entry("cyclegan_bold_no_cycle"),
})

# ----------------------------------------------------------------------------- machinery
def from_notebook(entry: Pretrained) -> SimpleNamespace:
    """The objects ``entry.needs`` from its notebook's ``defines`` cells (none without one)."""
    if entry.notebook is None:
        return SimpleNamespace()
    return notebook_defines(NOTEBOOKS / entry.notebook, entry.needs)


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_checksum(file_name: str, digest: str) -> None:
    """Write ``digest`` for ``data/<file_name>`` into the package's checksum file ``SUMS``.

    ``record_checksums`` re-reads the file under a lock and replaces it atomically, so two
    checkpoints trained at the same time both keep their lines. This process's
    ``course_utils.data.PRETRAINED_SHA256`` follows the file from then on.
    """
    from course_utils import data

    record_checksums(SUMS, {file_name: digest})
    data.PRETRAINED_SHA256[file_name] = digest


def train(name: str) -> Path:
    """Train checkpoint ``name`` from scratch, write ``data/<name>.msgpack`` and its checksum."""
    from course_utils.checkpoints import load_pretrained, save_model

    entry = PRETRAINED[name]
    nb = from_notebook(entry)
    model, config = entry.build(nb)
    start = time.perf_counter()
    entry.train(nb, model)
    seconds = time.perf_counter() - start
    path = save_model(model, DATA_DIR / f"{name}.msgpack", config=config)
    record_checksum(path.name, _file_sha256(path))
    fresh, _ = entry.build(nb)
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
            model, config = entry.build(from_notebook(entry))
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
