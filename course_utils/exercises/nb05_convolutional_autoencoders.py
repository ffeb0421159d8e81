"""Exercise checks for notebook 05, convolutional autoencoders."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from course_utils.conv_arithmetic import conv_output_size, flax_conv_transpose_output_size
from course_utils.exercises.core import close, exercise_check, expect, fresh_rng
from course_utils.layers import conv2d, conv_transpose2d, conv_transpose_padding

__all__ = ["STACK_05", "check_transposed_output_size", "check_stack_sizes", "check_insert_zeros"]


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
