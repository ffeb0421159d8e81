"""Convolution arithmetic: output sizes, and which input cells feed an output cell.

One spatial axis at a time (2-D layers apply the same rule to each axis). Notation of
Dumoulin & Visin (2016): input size ``i``, kernel size ``k``, stride ``s``, zero padding ``p``.

    conv_output_size(4, 3)                        # 2: the lecture's 4×4 input, 3×3 kernel
    conv_output_size(28, 3, s=2, p="SAME")        # 14 = ceil(28 / 2), as nnx.Conv
    conv_transpose_output_size(14, 4, s=2, p=1)   # 28: PyTorch's ConvTranspose2d convention
    flax_conv_transpose_output_size(14, 4, s=2)   # 28: nnx.ConvTranspose, padding="SAME"
    conv_sources(0, i=4, k=3)                     # [(0, 0), (1, 1), (2, 2)]: (input, tap)

Two conventions for a transposed convolution's padding exist:

* **PyTorch / Dumoulin & Visin**: ``p`` is the padding of the convolution being transposed, so a
  transposed conv with ``p`` *removes* ``p`` cells from each end of its output:
  ``o = (i - 1) s - 2p + k + output_padding``. ``output_padding`` (``0 <= a < s``) picks one of
  the ``s`` input sizes that a stride-``s`` convolution maps to the same output size.
* **Flax / lax** (``nnx.ConvTranspose``): the padding is applied to the zero-inserted input, which
  is then correlated with the kernel at stride 1: ``o = (i - 1) s + 1 + lo + hi - k + 1``.
  ``'SAME'`` gives ``o = s i``, ``'VALID'`` gives ``o = (i - 1) s + max(k, s)``.
  ``pytorch_to_flax_padding(k, p, a)`` converts: ``lo = k - 1 - p``, ``hi = k - 1 - p + a``.
"""

from __future__ import annotations

import math

from course_utils.checks import positive_int

__all__ = [
    "conv_output_size",
    "conv_sources",
    "conv_transpose_output_size",
    "conv_transpose_sources",
    "flax_conv_transpose_output_size",
    "pytorch_to_flax_padding",
    "same_padding",
]

Pad = int | str | tuple[int, int]


def _positive(name: str, value: object) -> int:
    return positive_int(name, value)


def _pads(p: Pad) -> tuple[int, int]:
    """An int ``p`` (both sides) or a ``(low, high)`` pair of non-negative ints."""
    pair = (p, p) if isinstance(p, int) and not isinstance(p, bool) else p
    if (not isinstance(pair, tuple) or len(pair) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in pair)):
        raise ValueError(f"padding must be 'SAME', 'VALID', an int >= 0 or a (low, high) pair, "
                         f"got {p!r}")
    return pair


def same_padding(i: int, k: int, s: int = 1) -> tuple[int, int]:
    """The (low, high) zero padding of ``'SAME'`` in Flax/lax: ``ceil(i/s)`` outputs, the odd
    cell (if any) on the high side. (PyTorch's ``padding='same'`` exists only for ``s = 1``.)"""
    _positive("i", i), _positive("k", k), _positive("s", s)
    total = max((math.ceil(i / s) - 1) * s + k - i, 0)
    return total // 2, total - total // 2


def conv_output_size(i: int, k: int, s: int = 1, p: Pad = 0) -> int:
    """Output size of a convolution: ``floor((i + p_lo + p_hi - k) / s) + 1``.

    p: an int (the same on both sides, as PyTorch's ``padding=p``), a ``(low, high)`` pair (as
    ``nnx.Conv(padding=((lo, hi), ...))``), ``'VALID'`` (= 0) or ``'SAME'`` (``ceil(i/s)``).
    Returns 0 when the kernel does not fit into the padded input.
    """
    _positive("i", i), _positive("k", k), _positive("s", s)
    if isinstance(p, str):
        if p.upper() == "SAME":
            return math.ceil(i / s)
        if p.upper() != "VALID":
            raise ValueError(f"padding must be 'SAME' or 'VALID' as a string, got {p!r}")
        p = 0
    lo, hi = _pads(p)
    return max((i + lo + hi - k) // s + 1, 0)


def conv_transpose_output_size(i: int, k: int, s: int = 1, p: int = 0,
                               output_padding: int = 0) -> int:
    """Output size of a transposed convolution, PyTorch's convention:
    ``(i - 1) s - 2p + k + output_padding``.

    It is the input size of the convolution ``(k, s, p)`` that maps that many cells to ``i``
    (for ``s > 1`` several sizes do: ``output_padding`` in ``0 .. s-1`` picks one).
    """
    _positive("i", i), _positive("k", k), _positive("s", s)
    if not 0 <= output_padding < s:
        raise ValueError(f"output_padding must be in 0 .. s-1 = {s - 1}, got {output_padding!r}")
    if not isinstance(p, int) or p < 0:
        raise ValueError(f"p must be an int >= 0, got {p!r}")
    return max((i - 1) * s - 2 * p + k + output_padding, 0)


def flax_conv_transpose_output_size(i: int, k: int, s: int = 1, padding: Pad = "SAME") -> int:
    """Output size of ``nnx.ConvTranspose`` (Flax's convention, ``transpose_kernel=False``).

    ``'SAME'``: ``s i``; ``'VALID'``: ``(i - 1) s + max(k, s)``; explicit ``(lo, hi)`` (or an
    int for both): the padding of the zero-inserted input, ``(i - 1) s + 1 + lo + hi - k + 1``.
    """
    _positive("i", i), _positive("k", k), _positive("s", s)
    if isinstance(padding, str):
        if padding.upper() == "SAME":
            return s * i
        if padding.upper() == "VALID":
            return (i - 1) * s + max(k, s)
        raise ValueError(f"padding must be 'SAME' or 'VALID' as a string, got {padding!r}")
    lo, hi = _pads(padding)
    return max((i - 1) * s + 1 + lo + hi - k + 1, 0)


def pytorch_to_flax_padding(k: int, p: int, output_padding: int = 0) -> tuple[int, int]:
    """The ``nnx.ConvTranspose`` padding ``(lo, hi)`` that equals PyTorch's ``padding=p``,
    ``output_padding`` for one axis: ``(k - 1 - p, k - 1 - p + output_padding)``.

    Requires ``p <= k - 1`` (a larger p would crop, which Flax expresses as negative padding).
    """
    _positive("k", k)
    if not 0 <= p <= k - 1:
        raise ValueError(f"p must be in 0 .. k-1 = {k - 1}, got {p!r}")
    return k - 1 - p, k - 1 - p + output_padding


def conv_sources(o: int, i: int, k: int, s: int = 1, p: int = 0) -> list[tuple[int, int]]:
    """The input cells that feed output cell ``o`` of a convolution, as ``(input index, tap)``.

    Output ``o`` reads the padded input at ``o s + t`` for taps ``t = 0 .. k-1``, i.e. input
    cell ``o s - p + t``; cells in the padding (index < 0 or >= i) are left out.
    """
    n_out = conv_output_size(i, k, s, p)
    if not 0 <= o < n_out:
        raise ValueError(f"o must be in 0 .. {n_out - 1} (the output size), got {o!r}")
    return [(o * s - p + t, t) for t in range(k) if 0 <= o * s - p + t < i]


def conv_transpose_sources(o: int, i: int, k: int, s: int = 1, p: int = 0,
                           output_padding: int = 0) -> list[tuple[int, int]]:
    """The input cells that feed output cell ``o`` of a transposed convolution (PyTorch's
    convention), as ``(input index, tap)``: input ``j`` adds ``w[t] x[j]`` to output
    ``j s - p + t``, so ``o`` receives from every ``j`` with ``o + p - j s`` in ``0 .. k-1``.
    ``t`` indexes PyTorch's weight; ``nnx.ConvTranspose`` (which correlates the zero-inserted
    input with its kernel, unflipped) applies its tap ``k - 1 - t`` there.
    """
    n_out = conv_transpose_output_size(i, k, s, p, output_padding)
    if not 0 <= o < n_out:
        raise ValueError(f"o must be in 0 .. {n_out - 1} (the output size), got {o!r}")
    return [(j, o + p - j * s) for j in range(i) if 0 <= o + p - j * s < k]
