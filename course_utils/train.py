"""Training loops for the course's models.

The pattern every notebook shows once in full is ``make_train_step`` below: split the model
and its optimizer into a graph definition and a state, jit a step that merges them, takes one
gradient step and returns the new state with the loss.
``jax.jit`` over the split state is measurably faster on CPU than ``nnx.jit`` per call.
``run_loop`` is the course's one loop: it calls a step again and again and checks its
losses for NaN or inf every few steps. ``run_training`` drives a step over shuffled
mini-batches with it, with a progress bar; ``fit`` does all of it for a model and a loss.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from tqdm.auto import tqdm

from course_utils import checks
from course_utils.models import apply_jitted

__all__ = [
    "CHECK_EVERY",
    "NonFiniteLossError",
    "History",
    "iterate_batches",
    "run_loop",
    "run_training",
    "mse_loss",
    "make_train_step",
    "fit",
]

StepFn = Callable[[Any, Any], tuple[Any, jax.Array]]

CHECK_EVERY = 10  # steps between two checks of the loss for NaN/inf


class NonFiniteLossError(FloatingPointError):
    """Raised when the training loss becomes NaN or infinite."""


@dataclass
class History:
    """Loss history of one training run.

    ``step_loss: float32[steps]`` is the mini-batch loss of every step;
    ``epoch_loss: float32[epochs]`` is its mean over each epoch;
    ``val_loss: float32[epochs]`` the loss on held-out data after each epoch (empty if none).
    """

    step_loss: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    epoch_loss: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    val_loss: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    steps_per_epoch: int = 0

    @property
    def final_loss(self) -> float:
        """The mean training loss of the last epoch."""
        if self.epoch_loss.size == 0:
            raise ValueError("this History is empty: no epoch has finished")
        return float(self.epoch_loss[-1])


def _check_images(name: str, images: object, min_ndim: int = 2) -> np.ndarray | jax.Array:
    if not isinstance(images, np.ndarray | jax.Array):
        raise TypeError(f"{name} must be a numpy or jax array, got {type(images).__name__}")
    if images.ndim < min_ndim or images.shape[0] == 0:
        raise ValueError(
            f"{name} must have a batch axis first and hold at least one example, "
            f"got shape {tuple(images.shape)}"
        )
    return images


def iterate_batches(
    n: int, batch_size: int, *, seed: int = 0, epoch: int = 0
) -> Iterator[np.ndarray]:
    """Yield index arrays ``int64[batch_size]`` of one shuffled epoch over ``n`` examples.

    The order depends only on ``(seed, epoch)``. The last incomplete batch is dropped so
    every step has the same shape (one compilation); with ``n < batch_size`` one batch of
    all ``n`` examples is yielded.
    """
    n = checks.positive_int("n", n, "the number of training examples")
    batch_size = checks.positive_int("batch_size", batch_size, "try 64, 128 or 256")
    seed = checks.int_in_range("seed", seed, 0, None, "e.g. 0")
    epoch = checks.int_in_range("epoch", epoch, 0)
    order = np.random.default_rng([seed, epoch]).permutation(n)
    if n < batch_size:
        yield order
        return
    for start in range(0, n - batch_size + 1, batch_size):
        yield order[start : start + batch_size]


def _bars_off() -> bool:
    """``TQDM_DISABLE`` set: tqdm ignores it once ``disable=`` is passed, so honour it here."""
    return os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false")


NONFINITE_HINT = ("Lower the learning rate, check the inputs for NaN, or check the loss for "
                  "log(0) or division by zero.")


def run_loop(
    step: Callable[[Any, int], tuple[Any, Any]],
    state: Any,
    steps: int,
    *,
    check_every: int = CHECK_EVERY,
    on_checked: Callable[[np.ndarray], None] | None = None,
    where: Callable[[int], str] = lambda i: f"step {i + 1}",
    hint: str = NONFINITE_HINT,
    bar: Any = None,
) -> tuple[Any, np.ndarray]:
    """Run ``state, loss = step(state, i)`` for ``i = 0, 1, ..., steps - 1``: the course's loop.

    loss: a scalar, or a tuple of k scalars (e.g. a GAN's two losses). Every ``check_every``
    steps the losses are copied to the host (the only wait for the device: the steps between
    queue up) and checked; the first NaN or infinite one raises ``NonFiniteLossError`` naming
    ``where(i)`` and giving ``hint``. on_checked: called with each checked chunk (a guard's
    further checks); bar: a progress bar advanced by one per step.
    Returns the last state and the losses ``float32[steps]`` (or ``float32[steps, k]``).
    """
    steps = checks.positive_int("steps", steps, "try 100")
    check_every = checks.positive_int("check_every", check_every, "try 10 or 100")
    chunks: list[np.ndarray] = []
    pending: list[Any] = []  # losses not yet copied from the device
    for i in range(steps):
        state, loss = step(state, i)
        pending.append(loss)
        if bar is not None:
            bar.update(1)
        if len(pending) == check_every or i == steps - 1:
            chunk = np.asarray(jax.device_get(pending), np.float32)
            pending.clear()
            bad = np.flatnonzero(~np.isfinite(chunk).reshape(len(chunk), -1).all(axis=1))
            if bad.size:
                at = i + 1 - len(chunk) + int(bad[0])
                value = chunk[bad[0]].tolist() if chunk.ndim > 1 else chunk[bad[0]]
                raise NonFiniteLossError(
                    f"the training loss{'es' if chunk.ndim > 1 else ''} became {value} at "
                    f"{where(at)}: training stopped. {hint}")
            if on_checked is not None:
                on_checked(chunk)
            chunks.append(chunk)
    return state, np.concatenate(chunks)


def _first_step(train_step: StepFn, state: Any, data: Any, batch: tuple) -> tuple[Any, Any]:
    """The first step, whose failure to trace on image-shaped batches gets a hint to flatten."""
    try:
        return train_step(state, batch if isinstance(data, tuple) else batch[0])
    except TypeError as err:
        shape = tuple(batch[0].shape)
        if len(shape) < 3 or "dot_general" not in str(err):
            raise
        raise ValueError(
            f"the model cannot take a batch of shape {shape}: an MLP (nnx.Linear) expects flat "
            f"images [N, {int(np.prod(shape[1:]))}]; flatten with x.reshape(len(x), -1)"
        ) from err


def _check_validation(data: Any, validation: Any) -> None:
    """Before any training: ``validation`` has the form of ``data`` (same arrays, same shapes
    after the batch axis, at least one example)."""
    arrays = data if isinstance(data, tuple) else (data,)
    val = validation if isinstance(validation, tuple) else (validation,)
    if isinstance(data, tuple) != isinstance(validation, tuple) or len(val) != len(arrays):
        raise ValueError(
            f"validation must have the form of data: {len(arrays)} array(s)"
            f"{' in a tuple' if isinstance(data, tuple) else ''}, got {len(val)}"
            f"{' in a tuple' if isinstance(validation, tuple) else ''}")
    for i, (a, v) in enumerate(zip(arrays, val, strict=True)):
        name = f"validation[{i}]" if isinstance(validation, tuple) else "validation"
        _check_images(name, v, min_ndim=1)
        if tuple(v.shape[1:]) != tuple(a.shape[1:]):
            train_name = f"data[{i}]" if isinstance(data, tuple) else "the training data"
            raise ValueError(
                f"{name} must have the shape of {train_name} after the batch axis: "
                f"[N, {', '.join(map(str, a.shape[1:]))}], got {tuple(v.shape)}"
                + (" (flatten with x.reshape(len(x), -1))"
                   if v.ndim > a.ndim and int(np.prod(v.shape[1:])) == int(np.prod(a.shape[1:]))
                   else ""))


def run_training(
    train_step: StepFn,
    state: Any,
    data: np.ndarray | tuple[np.ndarray, ...],
    *,
    epochs: int,
    batch_size: int = 256,
    seed: int = 0,
    eval_fn: Callable[[Any], float] | None = None,
    progress: bool = True,
    desc: str = "training",
) -> tuple[Any, History]:
    """Run ``state, loss = train_step(state, batch)`` over shuffled mini-batches.

    data: an array ``[N, ...]`` (the batch is ``data[idx]``) or a tuple of arrays sharing
        their first axis (the batch is the tuple of ``a[idx]``).
    eval_fn: optional ``eval_fn(state) -> float``, called after each epoch (validation loss).
    With ``progress`` a bar is drawn (a widget in Jupyter, text in a terminal; the environment
    variable ``TQDM_DISABLE=1`` hides it) and a one-line summary printed at the end.
    Returns the final state and a ``History``. Each epoch is one ``run_loop``: it raises
    ``NonFiniteLossError`` within ``CHECK_EVERY`` steps of a loss becoming NaN or infinite,
    naming the epoch and step, instead of training on.
    """
    epochs = checks.positive_int("epochs", epochs, "try 1 to 20")
    batch_size = checks.positive_int("batch_size", batch_size, "try 64, 128 or 256")
    arrays = data if isinstance(data, tuple) else (data,)
    for i, a in enumerate(arrays):
        _check_images(f"data[{i}]" if isinstance(data, tuple) else "data", a, min_ndim=1)
    if not isinstance(data, tuple):  # images: 0-255 pixels would train to a loss of millions
        checks.images_in_unit_range("data", data)
    n = arrays[0].shape[0]
    if any(a.shape[0] != n for a in arrays):
        raise ValueError(
            "all arrays in data must have the same number of examples, got "
            f"{[a.shape[0] for a in arrays]}"
        )
    steps_per_epoch = max(1, n // batch_size)
    step_losses: list[np.ndarray] = []
    epoch_losses: list[float] = []
    val_losses: list[float] = []
    start = time.perf_counter()
    bar = tqdm(
        total=epochs * steps_per_epoch, desc=desc, unit="step", disable=not progress or _bars_off(),
        leave=True, mininterval=0.5,
    )
    try:
        for epoch in range(epochs):
            batches = list(iterate_batches(n, batch_size, seed=seed, epoch=epoch))

            def step(state: Any, i: int, epoch: int = epoch, batches: list = batches) -> Any:
                batch = tuple(a[batches[i]] for a in arrays)
                if epoch == 0 and i == 0:
                    return _first_step(train_step, state, data, batch)
                return train_step(state, batch if isinstance(data, tuple) else batch[0])

            state, epoch_step_losses = run_loop(
                step, state, len(batches), bar=bar,
                where=lambda i, epoch=epoch: f"epoch {epoch + 1}, step {i + 1}")
            step_losses.append(epoch_step_losses)
            epoch_losses.append(float(epoch_step_losses.mean()))
            postfix = {"loss": f"{epoch_losses[-1]:.4g}"}
            if eval_fn is not None:
                val_losses.append(float(eval_fn(state)))
                postfix["val"] = f"{val_losses[-1]:.4g}"
            bar.set_postfix(postfix)
    finally:
        bar.close()
    if progress:
        summary = f"{desc}: {epochs} epochs ({epochs * steps_per_epoch} steps) in "
        summary += f"{time.perf_counter() - start:.1f} s, final training loss "
        summary += f"{epoch_losses[-1]:.4g}"
        if val_losses:
            summary += f", validation loss {val_losses[-1]:.4g}"
        print(summary)
    history = History(
        step_loss=np.concatenate(step_losses),
        epoch_loss=np.asarray(epoch_losses, np.float32),
        val_loss=np.asarray(val_losses, np.float32),
        steps_per_epoch=steps_per_epoch,
    )
    return state, history


def mse_loss(model: Callable[[jax.Array], jax.Array], x: jax.Array) -> jax.Array:
    """The lecture's L(x, g(f(x))) = ‖x − x'‖²: summed over pixels, averaged over the batch.

    ``x: float32[N, ...] in [0, 1]``; returns a scalar.
    """
    x_rec = model(x)
    return jnp.mean(jnp.sum((x - x_rec).reshape(x.shape[0], -1) ** 2, axis=-1))


def make_train_step(
    model: nnx.Module,
    optimizer: nnx.Optimizer,
    loss_fn: Callable[[nnx.Module, Any], jax.Array],
) -> tuple[StepFn, Any]:
    """Build ``train_step(state, batch) -> (state, loss)`` jitted over the split state.

    loss_fn: ``loss_fn(model, batch) -> scalar``. Returns the step and the initial state of
    ``(model, optimizer)``; after training, ``nnx.update((model, optimizer), state)`` writes
    the trained state back into the objects.
    """
    graphdef, state = nnx.split((model, optimizer))

    @jax.jit
    def train_step(state, batch):
        model, optimizer = nnx.merge(graphdef, state)
        loss, grads = nnx.value_and_grad(loss_fn)(model, batch)
        optimizer.update(model, grads)
        return nnx.state((model, optimizer)), loss

    return train_step, state


def fit(
    model: nnx.Module,
    data: np.ndarray | tuple[np.ndarray, ...],
    loss_fn: Callable[[nnx.Module, Any], jax.Array],
    *,
    epochs: int,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    seed: int = 0,
    validation: np.ndarray | tuple[np.ndarray, ...] | None = None,
    progress: bool = True,
    desc: str = "training",
) -> History:
    """Train ``model`` in place with Adam on ``loss_fn(model, batch)``; return its ``History``.

    data: ``float32[N, ...]`` images in [0, 1] (each batch is an array; 0-255 pixels are
        refused) or a tuple of arrays sharing the first axis, e.g. ``(images, labels)`` (each
        batch is a tuple).
    validation: held-out data of the same form; its mean loss is recorded after each epoch.
    The same ``seed`` (and the same initial model) gives the same result, on CPU or GPU.
    """
    learning_rate = checks.positive_float("learning_rate", learning_rate, "try 1e-3")
    arrays = data if isinstance(data, tuple) else (data,)
    for i, a in enumerate(arrays):
        _check_images(f"data[{i}]" if isinstance(data, tuple) else "data", a, min_ndim=1)
    if not isinstance(data, tuple):  # images: 0-255 pixels would train to a loss of millions
        checks.images_in_unit_range("data", data)
    optimizer = nnx.Optimizer(model, optax.adam(learning_rate), wrt=nnx.Param)
    train_step, state = make_train_step(model, optimizer, loss_fn)

    eval_fn = None
    if validation is not None:
        _check_validation(data, validation)
        val = validation if isinstance(validation, tuple) else (validation,)
        graphdef, _ = nnx.split((model, optimizer))

        def eval_fn(state):
            current, _ = nnx.merge(graphdef, state)  # the model with the weights of this epoch
            n, chunk, total = len(val[0]), 1000, 0.0
            for i in range(0, n, chunk):
                part = tuple(a[i : i + chunk] for a in val)
                batch = part if isinstance(validation, tuple) else part[0]
                total += float(apply_jitted(current, batch, method=loss_fn)) * len(part[0])
            return total / n

    state, history = run_training(
        train_step, state, data, epochs=epochs, batch_size=batch_size, seed=seed,
        eval_fn=eval_fn, progress=progress, desc=desc,
    )
    nnx.update((model, optimizer), state)
    return history
