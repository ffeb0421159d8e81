"""Exercise checks for notebook 05, convolutional autoencoders."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from course_utils.conv_arithmetic import conv_output_size, flax_conv_transpose_output_size
from course_utils.data import load_mnist, random_subset
from course_utils.exercises.core import (
    close,
    exercise_check,
    expect,
    fresh_rng,
    train_with_step,
)
from course_utils.layers import conv2d, conv_transpose2d, conv_transpose_padding
from course_utils.metrics import mse_per_pixel
from course_utils.models import apply_jitted
from course_utils.train import mse_loss

__all__ = ["BUILD_CONV", "STACK_05", "check_conv_autoencoder", "check_insert_zeros",
           "check_stack_sizes", "check_transposed_output_size"]

# The "build it" exercise: the code's shape, and the budget and target the check trains the
# student's model to. Notebook 05's solution reaches about 0.002 on this budget.
BUILD_CONV = {"code_shape": (7, 7, 64), "steps": 200, "batch_size": 64, "learning_rate": 2e-3,
              "n_test": 1000, "target_mse": 0.01}


@exercise_check("transposed convolution output size")
def check_transposed_output_size(size_fn: Callable[..., int]) -> str:
    """``size_fn(i, k, s, p, output_padding)``: the output size of a transposed convolution in
    PyTorch's convention (``p`` and ``output_padding`` as in ``torch.nn.ConvTranspose2d``)."""
    grid = [(i, k, s, p, a) for i in (1, 3, 7, 14) for k in (1, 2, 3, 4, 5) for s in (1, 2, 3)
            for p in range(k) for a in range(s) if (i - 1) * s - 2 * p + k + a > 0]
    answers = {g: size_fn(*g) for g in grid}
    for g, out in answers.items():
        expect(isinstance(out, int | np.integer) and not isinstance(out, bool),
               f"return a plain int, got {type(out).__name__} for (i, k, s, p, a) = {g}.")

    def same_as(rule):
        return all(out == rule(*g) for g, out in answers.items())

    expect(not same_as(lambda i, k, s, p, a: (i + 2 * p - k) // s + 1), "that is the "
           "convolution's formula: a transposed convolution goes the other way, from the "
           "conv's output size back to its input size. Solve o = (i' + 2p − k)/s + 1 for i'.")
    expect(not same_as(lambda i, k, s, p, a: (i - 1) * s - 2 * p + k), "output_padding "
           "is missing: it adds output_padding cells at the high end of the output.")
    expect(not same_as(lambda i, k, s, p, a: (i - 1) * s - p + k + a), "p is removed "
           "from both ends of the output: subtract 2p.")
    expect(not same_as(lambda i, k, s, p, a: (i - 1) * s + 2 * p + k + a), "in PyTorch's "
           "convention p is the padding of the convolution being transposed, so it makes "
           "the transposed conv's output smaller: − 2p.")
    expect(not same_as(lambda i, k, s, p, a: i * s - 2 * p + k + a), "the i input cells "
           "are s apart, so they span (i − 1)·s + 1 cells, not i·s; then the kernel adds "
           "k − 1 more.")
    wrong = [(g, out) for g, out in answers.items()
             if out != (g[0] - 1) * g[2] - 2 * g[3] + g[1] + g[4]]
    if wrong:
        (i, k, s, p, a), out = wrong[0]
        expect(False, f"for i={i}, k={k}, s={s}, p={p}, output_padding={a} the output has "
               f"{(i - 1) * s - 2 * p + k + a} cells, yours gives {out}.")
    return "correct! o = (i − 1)·s − 2p + k + output_padding."


STACK_05 = (("conv", 5, 1, "VALID"), ("conv", 3, 2, 1), ("conv", 3, 2, "SAME"),
            ("transpose", 3, 2, "SAME"), ("transpose", 5, 1, "VALID"))


@exercise_check("sizes through a conv stack")
def check_stack_sizes(sizes: object) -> str:
    """``sizes``: the height (= width) after each of the five layers of notebook 05's stack
    (``STACK_05``: kind, kernel, stride, Flax padding) for a 28×28 input — a list of ints, or a
    function without arguments that returns it."""
    answer = list(sizes() if callable(sizes) else sizes)
    expect(len(answer) == len(STACK_05), f"give one size per layer: {len(STACK_05)} numbers, "
           f"got {len(answer)}.")
    expect(all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in answer),
           "give each size as an int, e.g. [24, ...].")
    hints = {
        0: "a 5×5 kernel without padding fits 28 − 5 + 1 times.",
        1: "padding=1 adds one cell at each end; then o = ⌊(i + 2p − k)/s⌋ + 1 (the floor "
           "drops a window that would stick out).",
        2: "'SAME' in Flax gives ⌈i / s⌉ outputs whatever the kernel.",
        3: "a transposed convolution with 'SAME' padding in Flax gives s·i outputs: it "
           "grows the image.",
        4: "Flax's 'VALID' transposed convolution gives (i − 1)·s + max(k, s): the kernel "
           "spills k − 1 cells past the last input cell.",
    }
    size = 28
    for n, (kind, k, s, pad) in enumerate(STACK_05):
        size = (conv_output_size(size, k, s, pad) if kind == "conv"
                else flax_conv_transpose_output_size(size, k, s, pad))
        if answer[n] != size:
            after = f" (given {answer[n - 1]} into it)" if n else ""
            expect(False, f"layer {n + 1}{after}: {hints[n]}")
    return f"correct! 28 → {' → '.join(str(v) for v in answer)}."


@exercise_check("zero insertion")
def check_insert_zeros(insert_zeros: Callable[[jax.Array, int], jax.Array]) -> str:
    """``insert_zeros(x, s)``: put ``s − 1`` zeros between neighbouring pixels of
    ``x: float32[N, H, W, C]`` → ``float32[N, (H − 1)s + 1, (W − 1)s + 1, C]``."""
    rng = fresh_rng()
    for s, (n, h, w, c) in ((2, (2, 3, 4, 2)), (3, (2, 3, 4, 2)), (2, (1, 4, 3, 3))):
        x = jnp.asarray(rng.normal(size=(n, h, w, c)), jnp.float32)
        out = insert_zeros(x, s)
        want = (n, (h - 1) * s + 1, (w - 1) * s + 1, c)
        expect(tuple(out.shape) != (n, h * s, w * s, c), f"with s={s} the result should "
               f"have shape {want}: nothing comes after the last pixel, so "
               "H → (H − 1)·s + 1.")
        expect(tuple(out.shape) == want, f"with s={s} and x of shape {(n, h, w, c)} the "
               f"result should have shape {want}, got {tuple(out.shape)}.")
        o = np.asarray(out)
        expect(close(o[:, ::s, ::s], x), "the original pixels belong at rows and columns "
               "0, s, 2s, …")
        mask = np.ones(o.shape[1:3], bool)
        mask[::s, ::s] = False
        expect(np.all(o[:, mask] == 0), "every other position must be exactly 0.")
    x = jnp.asarray(rng.normal(size=(2, 3, 4, 2)), jnp.float32)
    expect(close(insert_zeros(x, 1), x), "with s=1 nothing is inserted: return x as it is.")
    kernel = jnp.asarray(rng.normal(size=(3, 3, 2, 5)), jnp.float32)
    (lo, hi), _ = conv_transpose_padding((3, 3), (2, 2), "SAME")
    padded = jnp.pad(insert_zeros(x, 2), ((0, 0), (lo, hi), (lo, hi), (0, 0)))
    via_zeros = conv2d(padded, kernel, 1, "VALID", method="xla")
    expect(close(via_zeros, conv_transpose2d(x, kernel, 2, "SAME", method="xla"), 1e-4),
           "the shape is right but padding + convolution does not reproduce the transposed "
           "convolution: check the values at the original positions.")
    return ("correct! Pad it and convolve at stride 1: that is nnx.ConvTranspose, "
            "multiplications by the inserted zeros included.")


def _code_hint(shape: tuple[int, ...]) -> str | None:
    """What is wrong with a code of ``shape`` (batch first), or None when it is [N, 7, 7, 64]."""
    height, width, channels = BUILD_CONV["code_shape"]
    if len(shape) != 4:
        return (f"encode(x) returned shape {shape}: the code is a stack of feature maps, "
                f"float32[N, {height}, {width}, {channels}]; do not flatten it or add a dense "
                "layer.")
    got_hw, got_c = tuple(shape[1:3]), shape[3]
    if got_hw == (28, 28):
        return (f"the code is {got_hw[0]}×{got_hw[1]}: nothing shrinks the image. A stride-2 "
                "convolution with padding 'SAME' halves height and width (⌈i / 2⌉): two of "
                "them give 28 → 14 → 7.")
    if got_hw == (14, 14):
        return ("the code is 14×14: only one layer halves the image. Stride 2 in BOTH encoder "
                "convolutions gives 28 → 14 → 7.")
    if got_hw != (height, width):
        return (f"the code is {got_hw[0]}×{got_hw[1]}, not {height}×{width}: with padding "
                "'VALID' or explicit padding the size is ⌊(i + 2p − k) / s⌋ + 1; use padding "
                "'SAME' (the default of Conv) and stride 2 twice: 28 → 14 → 7.")
    if got_c != channels:
        return (f"the code has {got_c} channels: the last encoder convolution's out_features "
                f"sets them; the code should be {height}×{width}×{channels}.")
    return None


@exercise_check("build it: a convolutional autoencoder with a 7×7×64 code")
def check_conv_autoencoder(make_model: Callable[[nnx.Rngs], nnx.Module]) -> str:
    """``make_model(rngs) -> model``: a convolutional autoencoder whose code is 7×7×64 maps.

    ``model.encode(x)``: float32[N, 28, 28, 1] in [0, 1] → float32[N, 7, 7, 64];
    ``model.decode(h)``: float32[N, 7, 7, 64] → float32[N, 28, 28, 1] in [0, 1]; ``model(x)`` =
    ``model.decode(model.encode(x))``. First the shapes, the range and that the output is
    computed from the code are checked on random batches (under a second); then, judged by
    outcome, the model is trained with the course's MSE step (``BUILD_CONV``: 200 steps of 64
    digits, Adam 2e-3) and its test MSE per pixel is measured on 1,000 random test digits. It
    passes at ``BUILD_CONV["target_mse"]`` (0.01) or below; notebook 05's solution reaches about
    0.002. About 20 s on a 2-core CPU.
    """
    b = BUILD_CONV
    rng = fresh_rng()
    seed = int(rng.integers(1 << 30))
    model = make_model(nnx.Rngs(seed))
    expect(isinstance(model, nnx.Module), "make_model(rngs) should return an nnx.Module (your "
           f"autoencoder, built with the rngs it is given), got {type(model).__name__}.")
    for method in ("encode", "decode"):
        expect(callable(getattr(model, method, None)), f"the model needs a `{method}` method, "
               "as notebook 05's ConvAutoencoder has.")
    x, other = (jnp.asarray(rng.random((4, 28, 28, 1), dtype=np.float32)) for _ in range(2))
    h = model.encode(x)
    hint = _code_hint(tuple(np.shape(h)))
    expect(hint is None, hint or "")
    expect(not close(h, model.encode(other), rtol=1e-3), "the code is the same for different "
           "images: apply the encoder's convolutions to x.")
    out = model(x)
    expect(np.shape(out) == x.shape, f"model(x) should have the input's shape {x.shape}, got "
           f"{np.shape(out)}: two stride-2 transposed convolutions (ConvTranspose(..., 4, "
           "strides=2), padding 'SAME') double 7 → 14 → 28, and the last one has 1 channel.")
    expect(bool(jnp.all((out >= 0) & (out <= 1))), "the output ranges over "
           f"[{float(out.min()):.2f}, {float(out.max()):.2f}]; pixels lie in [0, 1]: end the "
           "decoder with nnx.sigmoid.")
    decoded = model.decode(h)
    expect(np.shape(decoded) == x.shape and close(out, decoded, rtol=1e-3), "model(x) should "
           "be model.decode(model.encode(x)): the reconstruction must be computed from the "
           "code alone, so that every image passes the 7×7×64 bottleneck.")
    expect(not close(decoded, model.decode(model.encode(other)), rtol=1e-3), "the output does "
           "not change when the code changes: the decoder must start from h, the code it is "
           "given.")

    def step(model: nnx.Module, optimizer: nnx.Optimizer, x: jax.Array, key: jax.Array
             ) -> jax.Array:
        loss, grads = nnx.value_and_grad(mse_loss)(model, x)
        optimizer.update(model, grads)
        return loss

    x_train = load_mnist("train")[0][..., None]
    (x_eval,) = random_subset(load_mnist("test")[0][..., None], n=b["n_test"], seed=seed)
    model = train_with_step(model, step, x_train, steps=b["steps"], batch_size=b["batch_size"],
                            learning_rate=b["learning_rate"], seed=seed, who="your model")
    mse = mse_per_pixel(x_eval, np.asarray(apply_jitted(model, jnp.asarray(x_eval))))
    figures = (f"after {b['steps']} steps of training your autoencoder's test MSE is "
               f"{mse:.4f} per pixel on {b['n_test']:,} random test digits (target: "
               f"{b['target_mse']} or below)")
    expect(mse <= b["target_mse"], f"{figures}. The shapes are right, so look at what stops "
           "it from learning: a ReLU right before the final sigmoid (the output cannot go below "
           "0.5), or a layer whose result is not used. Use ReLU between the layers and only the "
           "sigmoid at the end.")
    return f"correct! {figures[0].upper()}{figures[1:]}."
