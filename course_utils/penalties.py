"""Regularisation penalties of regularised autoencoders, and their closed forms.

Notebook 04 writes its losses as ``L(x, g(f(x))) + λ·Ω(h)``; this module holds reference
versions of the penalties ``Ω`` (the exercise checks and the tests compare against them):

- sparsity of the code: ``l1_sparsity`` (the lecture's λ‖h‖₁) and ``kl_sparsity`` (Ng's
  notes: the KL divergence between a target activation ρ and each unit's mean activation);
- contraction of the encoder: ``contractive_penalty`` = ‖∂h/∂x‖²_F, the squared Frobenius norm
  of the encoder's Jacobian, computed exactly with autodiff for any encoder, and
  ``contractive_penalty_sigmoid``, its closed form for one sigmoid layer (Rifai et al., 2011).

Shapes: ``x: float32[N, 784]`` (any ``[N, P]``), codes ``h: float32[N, D]``; every penalty is
averaged over the ``N`` examples, so it does not grow with the batch size.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from course_utils import checks

__all__ = [
    "active_fraction",
    "contractive_penalty",
    "contractive_penalty_sigmoid",
    "encoder_jacobian",
    "kl_sparsity",
    "l1_sparsity",
]


def _check_batch(name: str, a: jax.Array) -> None:
    if a.ndim != 2:
        raise ValueError(f"{name} must have shape [N, features] (a batch of flat vectors), "
                         f"got {tuple(a.shape)}: flatten images with x.reshape(len(x), -1)")


def l1_sparsity(h: jax.Array) -> jax.Array:
    """‖h‖₁ = Σ_j |h_j| per example, averaged over the batch. h: float32[N, D] → scalar."""
    _check_batch("h", h)
    return jnp.mean(jnp.sum(jnp.abs(h), axis=-1))


def kl_sparsity(h: jax.Array, rho: float = 0.05, eps: float = 1e-6) -> jax.Array:
    """Σ_j KL(ρ ‖ ρ̂_j) with ρ̂_j the mean activation of unit j over the batch.

    h: float32[N, D] in [0, 1] (sigmoid codes); rho in (0, 1): the target mean activation.
    KL(ρ‖ρ̂) = ρ log(ρ/ρ̂) + (1−ρ) log((1−ρ)/(1−ρ̂)); ρ̂ is clipped to [eps, 1−eps].
    """
    _check_batch("h", h)
    rho = checks.number_in_range("rho", rho, 0.0, 1.0, "try 0.05", low_open=True, high_open=True,
                                 what="a number strictly between 0 and 1")
    rho_hat = jnp.clip(jnp.mean(h, axis=0), eps, 1.0 - eps)
    kl = rho * jnp.log(rho / rho_hat) + (1 - rho) * jnp.log((1 - rho) / (1 - rho_hat))
    return jnp.sum(kl)


def active_fraction(h: jax.Array, threshold: float = 0.0) -> jax.Array:
    """The fraction of code entries with ``h > threshold`` (over units and examples)."""
    return jnp.mean(jnp.asarray(h) > threshold)


def encoder_jacobian(encode: Callable[[jax.Array], jax.Array], x: jax.Array) -> jax.Array:
    """∂h/∂x for every example: encode maps float32[N, P] → [N, D]; returns float32[N, D, P].

    ``jax.jacrev`` of the one-example encoder (D backward passes, cheaper than ``jacfwd``'s
    P forward passes when D < P), ``jax.vmap``-ed over the batch.
    """
    _check_batch("x", x)
    return jax.vmap(jax.jacrev(lambda xi: encode(xi[None])[0]))(x)


def contractive_penalty(encode: Callable[[jax.Array], jax.Array], x: jax.Array) -> jax.Array:
    """‖∂h/∂x‖²_F = Σ_i ‖∇ₓ h_i‖², exact by autodiff, averaged over the batch → scalar."""
    jac = encoder_jacobian(encode, x)
    return jnp.mean(jnp.sum(jac**2, axis=(1, 2)))


def contractive_penalty_sigmoid(kernel: jax.Array, bias: jax.Array, x: jax.Array) -> jax.Array:
    """The same penalty in closed form for one sigmoid layer h = σ(x·W + b).

    kernel W: float32[P, D] (Flax's ``nnx.Linear`` layout, ``x @ W``), bias b: float32[D].
    ∂h_j/∂x_i = h_j(1 − h_j)·W_ij, so ‖∂h/∂x‖²_F = Σ_j (h_j(1 − h_j))² Σ_i W_ij².
    """
    _check_batch("x", x)
    if kernel.ndim != 2 or kernel.shape[0] != x.shape[1] or bias.shape != kernel.shape[1:]:
        raise ValueError(f"expected kernel [P, D] and bias [D] with P = x.shape[1] = "
                         f"{x.shape[1]}, got kernel {tuple(kernel.shape)}, bias "
                         f"{tuple(bias.shape)}")
    h = jax.nn.sigmoid(x @ kernel + bias)
    column_norms = jnp.sum(kernel**2, axis=0)  # ‖W_{:, j}‖², one per code unit
    return jnp.mean(jnp.sum((h * (1 - h)) ** 2 * column_norms, axis=-1))
