"""Conv layers that compute exactly what ``nnx.Conv`` / ``nnx.ConvTranspose`` compute, fast on CPU.

XLA on CPU is slow for the *gradients* of strided convolutions: the weight gradient of a
stride-2 transposed convolution alone took 24.5 ms of a 31.7 ms conv-autoencoder step. The same
linear maps can be written in other, equivalent ways that XLA runs well:

* **sub-pixel convolution** (``conv_transpose2d(..., method="subpixel")``): a stride-``s``
  transposed convolution fills output pixel ``o = s*q + r`` from every ``s``-th kernel tap only,
  so each of the ``s*s`` output *phases* ``r`` is a stride-1 convolution of the low-resolution
  input with a ``ceil(k/s) x ceil(k/s)`` sub-kernel; ``depth_to_space`` interleaves the phases
  (Shi et al., 2016). ``transpose_kernel_to_subpixel`` builds the classic single-conv form with
  ``s*s*C_out`` output channels.
* **col2im** (``method="col2im"``, few output channels): one matmul ``x @ kernel`` gives every
  tap's contribution; each is added into the output at its strided place.
* **im2col** (``conv2d(..., method="im2col")``, few input channels): stack the ``k*k`` strided
  shifts of the input on the channel axis, then one matmul.
* **space-to-depth** (``method="space_to_depth"``): a stride-``s`` convolution is a stride-1
  convolution of ``space_to_depth(x, s)`` with the regrouped kernel
  ``strided_conv_kernel_to_s2d(kernel, s)``.

All are fixed regroupings of the same kernel, so the modules keep Flax's ``kernel`` / ``bias``
parameters (same names, shapes, initialisers and ``rngs`` draws) and autodiff maps the
gradients back to them: state can be swapped between these layers and Flax's. ``method="auto"``
picks, per layer, what was fastest in whole training steps on a 2-core CPU (see
``benchmarks/bench_training_steps.py``).

All images are channels-last: ``x: float32[N, H, W, C]``. Only 2-D convolutions: an int
``kernel_size=3`` means ``(3, 3)`` here (``nnx.Conv`` would read it as a 1-D kernel).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax import lax

from course_utils import checks

__all__ = [
    "Conv",
    "ConvTranspose",
    "conv2d",
    "conv_transpose2d",
    "depth_to_space",
    "space_to_depth",
    "strided_conv_kernel_to_s2d",
    "transpose_kernel_to_subpixel",
    "conv_padding",
    "conv_transpose_padding",
]

Padding = str | int | Sequence[int | tuple[int, int]]

_default_kernel_init = nnx.initializers.lecun_normal()
_default_bias_init = nnx.initializers.zeros_init()


# ----------------------------------------------------------------------------- regrouping helpers
def space_to_depth(x: jax.Array, block: int | tuple[int, int]) -> jax.Array:
    """Move each ``bh x bw`` block of pixels into the channel axis.

    x: float32[N, H, W, C] with H % bh == 0 and W % bw == 0
    returns: float32[N, H/bh, W/bw, bh*bw*C]; pixel (i, j) of a block goes to channel group
    i*bw + j, i.e. channel (i*bw + j)*C + c.
    """
    bh, bw = _pair(block, "block")
    n, h, w, c = x.shape
    if h % bh or w % bw:
        raise ValueError(f"space_to_depth: H, W = {h}, {w} must be multiples of block {bh, bw}")
    x = x.reshape(n, h // bh, bh, w // bw, bw, c)
    return x.transpose(0, 1, 3, 2, 4, 5).reshape(n, h // bh, w // bw, bh * bw * c)


def depth_to_space(x: jax.Array, block: int | tuple[int, int]) -> jax.Array:
    """Inverse of ``space_to_depth``: spread ``bh*bw`` channel groups over ``bh x bw`` pixel blocks.

    x: float32[N, H, W, bh*bw*C]
    returns: float32[N, H*bh, W*bw, C]; output pixel (p*bh + i, q*bw + j) is channel group
    i*bw + j of input pixel (p, q).
    """
    bh, bw = _pair(block, "block")
    n, h, w, cc = x.shape
    if cc % (bh * bw):
        raise ValueError(f"depth_to_space: channels {cc} must be a multiple of {bh}*{bw}")
    c = cc // (bh * bw)
    x = x.reshape(n, h, w, bh, bw, c)
    return x.transpose(0, 1, 3, 2, 4, 5).reshape(n, h * bh, w * bw, c)


def conv_padding(
    in_size: Sequence[int], kernel: Sequence[int], strides: Sequence[int], padding: Padding
) -> list[tuple[int, int]]:
    """The explicit (low, high) zero padding per spatial axis that ``nnx.Conv`` applies.

    'SAME' gives ``ceil(n/s)`` outputs (extra padding goes to the high side), 'VALID' none.
    """
    pad = _canonical_padding(padding)
    if isinstance(pad, str):
        return [tuple(p) for p in lax.padtype_to_pads(in_size, kernel, strides, pad)]
    return pad


def conv_transpose_padding(
    kernel: Sequence[int], strides: Sequence[int], padding: Padding
) -> list[tuple[int, int]]:
    """The (low, high) padding of the stride-dilated input that ``nnx.ConvTranspose`` applies.

    ``nnx.ConvTranspose`` is ``lax.conv_transpose(..., transpose_kernel=False)``: insert ``s-1``
    zeros between input pixels, pad by these amounts, and correlate with the (unflipped) kernel at
    stride 1. Explicit integer padding is used as given (this is *not* PyTorch's convention).
    """
    pad = _canonical_padding(padding)
    if not isinstance(pad, str):
        return pad
    out = []
    for k, s in zip(kernel, strides, strict=True):
        if pad == "SAME":
            total = k + s - 2
            lo = k - 1 if s > k - 1 else math.ceil(total / 2)
        else:  # VALID
            total = k + s - 2 + max(k - s, 0)
            lo = k - 1
        out.append((lo, total - lo))
    return tuple(out)


def strided_conv_kernel_to_s2d(kernel: jax.Array, strides: tuple[int, int]) -> jax.Array:
    """Regroup a stride-``s`` conv kernel into the stride-1 kernel for ``space_to_depth(x, s)``.

    kernel: float32[kh, kw, C_in, C_out]
    returns: float32[ceil(kh/sh), ceil(kw/sw), sh*sw*C_in, C_out]; tap (t, r) of the new kernel
    is tap ``s*t + r`` of the old one (zero where that is outside the kernel).
    """
    kh, kw, ci, co = kernel.shape
    sh, sw = strides
    th, tw = -(-kh // sh), -(-kw // sw)
    kernel = jnp.pad(kernel, ((0, th * sh - kh), (0, tw * sw - kw), (0, 0), (0, 0)))
    kernel = kernel.reshape(th, sh, tw, sw, ci, co).transpose(0, 2, 1, 3, 4, 5)
    return kernel.reshape(th, tw, sh * sw * ci, co)


def _subpixel_taps(k: int, s: int, pad_lo: int) -> tuple[np.ndarray, int]:
    """One axis of a transposed conv: which kernel tap feeds low-res offset d of output phase r.

    Output pixel ``o = s*q + r`` is ``sum_j w[j] * x[q + (r + j - pad_lo) / s]`` over the taps
    ``j`` where the division is exact. Returns ``taps[d - d_min, r]`` (``k``: no tap), ``d_min``.
    """
    offsets = {(r, j): (r + j - pad_lo) // s for r in range(s) for j in range(k)
               if (r + j - pad_lo) % s == 0}
    d_min, d_max = min(offsets.values()), max(offsets.values())
    taps = np.full((d_max - d_min + 1, s), k, dtype=np.int32)
    for (r, j), d in offsets.items():
        taps[d - d_min, r] = j
    return taps, d_min


def transpose_kernel_to_subpixel(
    kernel: jax.Array, strides: tuple[int, int], padding: Sequence[tuple[int, int]]
) -> tuple[jax.Array, tuple[int, int]]:
    """Regroup a transposed-conv kernel into the stride-1 kernel of its sub-pixel form.

    kernel: float32[kh, kw, C_in, C_out]; padding: ``conv_transpose_padding`` of the layer.
    returns: (float32[Th, Tw, C_in, sh*sw*C_out], (dh_min, dw_min)). Channel group ``rh*sw + rw``
    holds output phase (rh, rw); the stride-1 correlation starts at low-res offset ``d_min``.
    """
    kh, kw, ci, co = kernel.shape
    (sh, sw), (ph, pw) = strides, (padding[0][0], padding[1][0])
    taps_h, dh = _subpixel_taps(kh, sh, ph)
    taps_w, dw = _subpixel_taps(kw, sw, pw)
    # One-hot selections sel[t, r, j] = 1 if tap j feeds offset t of phase r ("no tap" = index k
    # selects nothing). A contraction with them is a gather whose gradient is again a contraction.
    sel_h = (taps_h[..., None] == np.arange(kh)).astype(np.float32)  # [Th, sh, kh]
    sel_w = (taps_w[..., None] == np.arange(kw)).astype(np.float32)  # [Tw, sw, kw]
    sub = jnp.einsum("tay,ubx,yxio->tuiabo", sel_h, sel_w, kernel)
    th, tw = taps_h.shape[0], taps_w.shape[0]
    sub = sub.reshape(th, tw, ci, sh * sw * co)
    return sub, (dh, dw)


# ----------------------------------------------------------------------------- functional forms
_DN = ("NHWC", "HWIO", "NHWC")
METHODS = ("auto", "xla", "im2col", "space_to_depth")
TRANSPOSE_METHODS = ("auto", "xla", "subpixel", "col2im")


def _pad(x: jax.Array, hw: Sequence[tuple[int, int, int]]) -> jax.Array:
    """Zero-pad (negative = crop, third entry = interior zeros) the two spatial axes of NHWC x."""
    return lax.pad(x, jnp.zeros((), x.dtype), [(0, 0, 0), *hw, (0, 0, 0)])


def _matmul_channels(x: jax.Array, w: jax.Array) -> jax.Array:
    """x: float32[N, H, W, K] @ w: float32[K, C] -> float32[N, H, W, C] as one 2-D matmul."""
    n, h, wd, k = x.shape
    return (x.reshape(n * h * wd, k) @ w).reshape(n, h, wd, w.shape[1])


def conv2d(
    x: jax.Array, kernel: jax.Array, strides: Sequence[int], padding: Padding,
    method: str = "auto",
) -> jax.Array:
    """The convolution of ``nnx.Conv`` (no bias), by one of three equivalent formulations.

    x: float32[N, H, W, C_in]; kernel: float32[kh, kw, C_in, C_out]
    returns: float32[N, H_out, W_out, C_out] (H_out = ceil(H/s) for 'SAME').

    method: 'xla' (``lax.conv_general_dilated``), 'im2col' (stack the kh*kw strided shifts of x
    on the channel axis, then one matmul: fastest for few input channels), 'space_to_depth'
    (a stride-1 conv of ``space_to_depth(x, s)``), or 'auto' (im2col if C_in <= 4, else xla).
    """
    kh, kw, ci, co = kernel.shape
    strides = _pair(strides, "strides")
    pads = conv_padding(x.shape[1:3], (kh, kw), strides, padding)
    if method == "auto":
        method = "im2col" if ci <= 4 else "xla"
    if method == "xla":
        return lax.conv_general_dilated(x, kernel, strides, pads, dimension_numbers=_DN)
    (sh, sw), (ph, pw) = strides, pads
    out_h = (x.shape[1] + ph[0] + ph[1] - kh) // sh + 1
    out_w = (x.shape[2] + pw[0] + pw[1] - kw) // sw + 1
    if out_h <= 0 or out_w <= 0:  # an empty output, as in lax
        return jnp.zeros((x.shape[0], max(out_h, 0), max(out_w, 0), co), x.dtype)
    if method == "im2col":
        x = _pad(x, [(ph[0], ph[1], 0), (pw[0], pw[1], 0)])
        shifts = [x[:, i : i + sh * (out_h - 1) + 1 : sh, j : j + sw * (out_w - 1) + 1 : sw, :]
                  for i in range(kh) for j in range(kw)]
        patches = jnp.concatenate(shifts, axis=-1)  # [N, H_out, W_out, kh*kw*C_in]
        return _matmul_channels(patches, kernel.reshape(kh * kw * ci, co))
    if method == "space_to_depth":
        # Pad/crop so that the padded size is exactly s * (out + T - 1): every block the stride-1
        # conv reads, and nothing more.
        th, tw = -(-kh // sh), -(-kw // sw)
        x = _pad(x, [(ph[0], sh * (out_h + th - 1) - x.shape[1] - ph[0], 0),
                     (pw[0], sw * (out_w + tw - 1) - x.shape[2] - pw[0], 0)])
        k2 = strided_conv_kernel_to_s2d(kernel, strides)
        return lax.conv_general_dilated(space_to_depth(x, strides), k2, (1, 1), "VALID",
                                        dimension_numbers=_DN)
    raise ValueError(f"method must be 'auto', 'xla', 'im2col' or 'space_to_depth', got {method!r}")


def conv_transpose2d(
    x: jax.Array, kernel: jax.Array, strides: Sequence[int], padding: Padding,
    method: str = "auto",
) -> jax.Array:
    """The transposed convolution of ``nnx.ConvTranspose`` (no bias), by three formulations.

    x: float32[N, H, W, C_in]; kernel: float32[kh, kw, C_in, C_out]
    returns: float32[N, H_out, W_out, C_out] (H_out = s*H for 'SAME').

    ``nnx.ConvTranspose`` inserts s-1 zeros between input pixels, pads by
    ``conv_transpose_padding`` and correlates at stride 1, so output pixel ``o = s*q + r`` only
    sees the taps ``j = j0(r), j0(r)+s, ...`` of the kernel. method:

    * 'subpixel': for each of the s*s output phases r, a stride-1 convolution of the low-res x
      with the sub-kernel ``kernel[j0h::sh, j0w::sw]``; the phases are interleaved by
      ``depth_to_space``. No multiplications by inserted zeros.
    * 'col2im': one matmul x @ kernel -> [N, H, W, kh*kw*C_out], then every tap's slice is added
      into the output at its (strided) place: fastest for few output channels.
    * 'xla' (``lax.conv_transpose``), or 'auto' (col2im if C_out <= 4, else subpixel).
    """
    kh, kw, ci, co = kernel.shape
    strides = _pair(strides, "strides")
    pads = conv_transpose_padding((kh, kw), strides, padding)
    n, h, w, _ = x.shape
    out = [(m - 1) * s + 1 + lo + hi - k + 1
           for m, s, (lo, hi), k in zip((h, w), strides, pads, (kh, kw), strict=True)]
    if method == "auto":
        method = "col2im" if co <= 4 else "subpixel"
    if method == "xla":
        return lax.conv_transpose(x, kernel, strides, pads, dimension_numbers=_DN)
    (sh, sw), (ph, pw) = strides, (pads[0][0], pads[1][0])
    if method == "col2im":
        # Input pixel i, tap j lands on output s*i + pad_lo - j.
        u = _matmul_channels(x, kernel.transpose(2, 0, 1, 3).reshape(ci, kh * kw * co))
        u = u.reshape(n, h, w, kh, kw, co)
        y = jnp.zeros((n, out[0], out[1], co), x.dtype)
        for i in range(kh):
            for j in range(kw):
                y = y + _pad(u[:, :, :, i, j, :],
                             [(ph - i, out[0] - 1 - (sh * (h - 1) + ph - i), sh - 1),
                              (pw - j, out[1] - 1 - (sw * (w - 1) + pw - j), sw - 1)])
        return y
    if method == "subpixel":
        q = [-(-o // s) for o, s in zip(out, strides, strict=True)]  # low-res rows per phase
        phases = []
        for rh in range(sh):
            jh = (ph - rh) % sh
            dh = (rh + jh - ph) // sh  # low-res offset of the phase's first tap
            th = len(range(jh, kh, sh))
            for rw in range(sw):
                jw = (pw - rw) % sw
                dw = (rw + jw - pw) // sw
                tw = len(range(jw, kw, sw))
                if th == 0 or tw == 0:  # stride > kernel: this phase gets no tap
                    phases.append(jnp.zeros((n, q[0], q[1], co), x.dtype))
                    continue
                xp = _pad(x, [(-dh, q[0] + dh + th - 1 - h, 0), (-dw, q[1] + dw + tw - 1 - w, 0)])
                phases.append(lax.conv_general_dilated(
                    xp, kernel[jh::sh, jw::sw], (1, 1), "VALID", dimension_numbers=_DN))
        z = jnp.stack(phases, axis=3).reshape(n, q[0], q[1], sh * sw * co)
        return depth_to_space(z, strides)[:, : out[0], : out[1], :]
    raise ValueError(f"method must be 'auto', 'xla', 'subpixel' or 'col2im', got {method!r}")


# ----------------------------------------------------------------------------- modules
class _ConvLayer(nnx.Module):
    """The parameters of ``Conv`` and ``ConvTranspose``: checked, and drawn as ``nnx`` draws them.

    ``kernel: float32[kh, kw, C_in, C_out]``, ``bias: float32[C_out]`` (or None without bias);
    ``methods``: the ``method`` values the layer accepts.
    """

    methods: tuple[str, ...] = ()

    def __init__(
        self,
        in_features: int,
        out_features: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] | None = 1,
        *,
        padding: Padding = "SAME",
        use_bias: bool = True,
        kernel_init: nnx.Initializer = _default_kernel_init,
        bias_init: nnx.Initializer = _default_bias_init,
        method: str = "auto",
        rngs: nnx.Rngs,
    ):
        self.method = _check_method(method, self.methods)
        _check_features(in_features, out_features)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(1 if strides is None else strides, "strides")
        self.padding = _canonical_padding(padding)
        self.in_features, self.out_features, self.use_bias = in_features, out_features, use_bias
        shape = self.kernel_size + (in_features, out_features)
        self.kernel = nnx.Param(kernel_init(rngs.params(), shape, jnp.float32))
        self.bias = (nnx.Param(bias_init(rngs.params(), (out_features,), jnp.float32))
                     if use_bias else nnx.data(None))


class Conv(_ConvLayer):
    """Drop-in for ``nnx.Conv`` (2-D, NHWC), computed by ``conv2d`` with ``method``.

    Same parameters as ``nnx.Conv``: ``kernel: float32[kh, kw, C_in, C_out]``,
    ``bias: float32[C_out]``, same initialisers and ``rngs`` draws: the state is interchangeable.
    ``__call__``: x: float32[N, H, W, C_in] -> float32[N, H_out, W_out, C_out].
    """

    methods = METHODS

    def __call__(self, x: jax.Array) -> jax.Array:
        y = conv2d(x, self.kernel[...], self.strides, self.padding, self.method)
        return y + self.bias[...] if self.bias is not None else y


class ConvTranspose(_ConvLayer):
    """Drop-in for ``nnx.ConvTranspose`` (2-D, NHWC), computed by ``conv_transpose2d``.

    Same parameters as ``nnx.ConvTranspose``: ``kernel: float32[kh, kw, C_in, C_out]``,
    ``bias: float32[C_out]``, same initialisers and ``rngs`` draws. ``strides`` defaults to 1.
    ``__call__``: x: float32[N, H, W, C_in] -> float32[N, H_out, W_out, C_out]
    (H_out = s*H for 'SAME').
    """

    methods = TRANSPOSE_METHODS

    def __call__(self, x: jax.Array) -> jax.Array:
        y = conv_transpose2d(x, self.kernel[...], self.strides, self.padding, self.method)
        return y + self.bias[...] if self.bias is not None else y


# ----------------------------------------------------------------------------- argument checks
def _pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    """An int or a pair of positive ints -> a pair; else a ValueError naming ``name``."""
    message = (f"{name} must be a positive int or a pair of positive ints, got {value!r} "
               f"(e.g. {name}=3 or {name}=(3, 3))")
    several = isinstance(value, Sequence | np.ndarray) and not isinstance(value, str)
    pair = tuple(value) if several and np.ndim(value) == 1 else (value, value)
    if len(pair) != 2:
        raise ValueError(message)
    try:
        return checks.positive_int(name, pair[0]), checks.positive_int(name, pair[1])
    except ValueError:
        raise ValueError(message) from None


def _check_method(method: str, allowed: tuple[str, ...]) -> str:
    if method not in allowed:
        raise ValueError(f"method must be one of {allowed}, got {method!r}")
    return method


def _check_features(in_features: int, out_features: int) -> None:
    for name, v in (("in_features", in_features), ("out_features", out_features)):
        checks.positive_int(name, v)


def _canonical_padding(padding: Padding) -> str | tuple[tuple[int, int], ...]:
    """'SAME' / 'VALID' (any case), an int, or a pair of ints / (low, high) pairs per axis."""
    if isinstance(padding, str):
        if padding.upper() not in ("SAME", "VALID"):
            raise ValueError(f"padding must be 'SAME', 'VALID', an int or a pair of (low, high) "
                             f"pairs, got {padding!r} (these layers do not support "
                             f"'CIRCULAR'/'REFLECT'/'CAUSAL': use nnx.Conv for those)")
        return padding.upper()
    if isinstance(padding, int | np.integer):
        return ((int(padding), int(padding)),) * 2
    pads = list(padding) if isinstance(padding, Sequence) else []
    out = []
    for p in pads:
        if isinstance(p, int | np.integer):
            out.append((int(p), int(p)))
        elif isinstance(p, Sequence) and len(p) == 2 and all(isinstance(v, int) for v in p):
            out.append((int(p[0]), int(p[1])))
    if len(pads) != 2 or len(out) != 2:
        raise ValueError(f"padding must be 'SAME', 'VALID', an int or a pair of ints / (low, high) "
                         f"pairs (one per spatial axis), got {padding!r}")
    return tuple(out)
