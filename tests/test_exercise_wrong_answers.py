"""Every exercise check passes the notebook's solution and rejects plausible wrong answers.

For each public ``check_*`` of ``course_utils.exercises`` this file holds the right answer (the
notebook's folded solution) and at least four wrong answers written as a student might write
them: a constant, an ignored argument, the wrong reduction or axis, a missing nonlinearity, a
sign error, the right formula on the wrong scale, an answer that is right on one input only.
The checks draw fresh random inputs on every call, so each case runs on several draws.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from course_utils import exercises as ex
from course_utils.layers import Conv, ConvTranspose

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
DRAWS = 2  # each answer is checked this many times, each time on the check's own fresh inputs


def memorised(right: Callable) -> Callable:
    """An answer that is right on the first input it sees and repeats that output afterwards."""
    seen: list = []

    def answer(*args):
        if not seen:
            seen.append(right(*args))
        return seen[0]

    return answer


# ------------------------------------------------------------------------------ notebook 01
def reconstruction_loss(x, x_rec):
    return jnp.mean(jnp.sum((x - x_rec) ** 2, axis=-1))


class Encoder(nnx.Module):
    def __init__(self, latent_dim: int, *, rngs: nnx.Rngs):
        self.hidden1 = nnx.Linear(784, 64, rngs=rngs)
        self.code = nnx.Linear(64, latent_dim, rngs=rngs)

    def __call__(self, x):
        return self.code(nnx.relu(self.hidden1(x)))


class Decoder(nnx.Module):
    def __init__(self, latent_dim: int, *, rngs: nnx.Rngs, sigmoid: bool = True):
        self.hidden1 = nnx.Linear(latent_dim, 64, rngs=rngs)
        self.pixels = nnx.Linear(64, 784, rngs=rngs)
        self.sigmoid = sigmoid

    def __call__(self, h):
        out = self.pixels(nnx.relu(self.hidden1(h)))
        return nnx.sigmoid(out) if self.sigmoid else out


class Autoencoder(nnx.Module):
    """The notebook's Autoencoder, smaller; ``mistake`` names a wrong variant of ``__call__``."""

    def __init__(self, latent_dim: int, *, rngs: nnx.Rngs, mistake: str = ""):
        self.encoder = Encoder(latent_dim, rngs=rngs)
        self.decoder = Decoder(latent_dim, rngs=rngs, sigmoid=mistake != "no sigmoid")
        self.mistake = mistake

    def __call__(self, x):
        if self.mistake == "clip the input":
            return jnp.clip(x, 0.0, 1.0)
        if self.mistake == "decode zeros":
            return self.decoder(jnp.zeros_like(self.encoder(x)))
        if self.mistake == "skip connection":
            return jnp.clip(0.5 * self.decoder(self.encoder(x)) + 0.5 * x, 0.0, 1.0)
        return self.decoder(self.encoder(x))


def flexible_encoder(hidden_in: str = "in_features", nonlinear: bool = True,
                     layers: int = 2, use_input: bool = True) -> type:
    class FlexibleEncoder(nnx.Module):
        def __init__(self, in_features: int, latent_dim: int, *, rngs: nnx.Rngs):
            self.width = 784 if hidden_in == "784" else in_features
            if layers == 1:
                self.code = nnx.Linear(self.width, latent_dim, rngs=rngs)
            else:
                self.hidden = nnx.Linear(self.width, 128, rngs=rngs)
                self.code = nnx.Linear(128, latent_dim, rngs=rngs)

        def __call__(self, x):
            if not use_input:
                x = jnp.ones_like(x)
            if hidden_in == "first 196":
                x = x[:, :196]
            if layers == 1:
                return self.code(x)
            hidden = self.hidden(x)
            return self.code(nnx.relu(hidden) if nonlinear else hidden)

    return FlexibleEncoder


class FirstPixelsEncoder(nnx.Module):
    """Reads only the first 196 inputs, whatever in_features is."""

    def __init__(self, in_features: int, latent_dim: int, *, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(min(in_features, 196), 128, rngs=rngs)
        self.code = nnx.Linear(128, latent_dim, rngs=rngs)

    def __call__(self, x):
        return self.code(nnx.relu(self.hidden(x[:, :196])))


# ------------------------------------------------------------------------------ notebook 02
def pca_reconstruct(x_train, x, d):
    mean = x_train.mean(axis=0)
    components = np.linalg.svd(x_train - mean, full_matrices=False)[2][:d]
    return mean + (x - mean) @ components.T @ components


def pca_uncentred(x_train, x, d):
    components = np.linalg.svd(x_train, full_matrices=False)[2][:d]
    return x @ components.T @ components


def pca_fitted_on_x(x_train, x, d):
    return pca_reconstruct(x, x, d)


def pca_one_more(x_train, x, d):
    return pca_reconstruct(x_train, x, d + 1)


def pca_mean_not_added_back(x_train, x, d):
    mean = x_train.mean(axis=0)
    components = np.linalg.svd(x_train - mean, full_matrices=False)[2][:d]
    return (x - mean) @ components.T @ components


def pca_last_components(x_train, x, d):
    mean = x_train.mean(axis=0)
    components = np.linalg.svd(x_train - mean, full_matrices=False)[2][-d:]
    return mean + (x - mean) @ components.T @ components


def auroc(scores_in, scores_out):
    diff = np.asarray(scores_out)[:, None] - np.asarray(scores_in)[None, :]
    return float(np.mean((diff > 0) + 0.5 * (diff == 0)))


def subspace_overlap(a, b):
    qa = np.linalg.qr(np.asarray(a, np.float64).T)[0].T
    qb = np.linalg.qr(np.asarray(b, np.float64).T)[0].T
    return float(np.sum((qa @ qb.T) ** 2) / len(qa))


def overlap_not_orthonormalised(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float(np.sum((a @ b.T) ** 2) / len(a))


def overlap_largest_cosine(a, b):
    qa = np.linalg.qr(np.asarray(a, np.float64).T)[0].T
    qb = np.linalg.qr(np.asarray(b, np.float64).T)[0].T
    return float(np.linalg.svd(qa @ qb.T, compute_uv=False)[0] ** 2)


def ae_step(model, optimizer, x, *, target="x", ascent=False, per_image=False, copy=False,
            other_gradient=False, mean_over_pixels=False):
    """Notebook 01's build-it solution; each keyword turns on one wrong variant."""

    def loss_fn(model):
        out = x if copy else model(x)
        goal = jnp.zeros_like(x) if target == "zeros" else x
        per = jnp.sum((goal - out) ** 2, axis=-1)
        if mean_over_pixels:
            per = per / x.shape[-1]
        return per if per_image else jnp.mean(per)

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    if other_gradient:
        grads = nnx.grad(lambda m: jnp.mean(m(x)))(model)
    if ascent:
        grads = jax.tree.map(lambda g: -g, grads)
    optimizer.update(model, grads)
    return loss


def ae_step_without_update(model, optimizer, x):
    return jnp.mean(jnp.sum((x - model(x)) ** 2, axis=-1))


class TwoNumberAE(nnx.Module):
    """Notebook 02's build-it answer (784 → 256 → 128 → 2 and back), or one of its bugs."""

    def __init__(self, rngs: nnx.Rngs, *, code: int = 2, linear: bool = False,
                 sigmoid: bool = True, bypass: bool = False):
        act = (lambda v: v) if linear else nnx.relu
        self.encoder = nnx.Sequential(nnx.Linear(784, 256, rngs=rngs), act,
                                      nnx.Linear(256, 128, rngs=rngs), act,
                                      nnx.Linear(128, code, rngs=rngs))
        self.decoder = nnx.Sequential(nnx.Linear(code, 128, rngs=rngs), act,
                                      nnx.Linear(128, 256, rngs=rngs), act,
                                      nnx.Linear(256, 784, rngs=rngs))
        self.sigmoid, self.bypass = sigmoid, bypass

    def encode(self, x):
        return self.encoder(x)

    def decode(self, h):
        out = self.decoder(h)
        return nnx.sigmoid(out) if self.sigmoid else out

    def __call__(self, x):
        return x if self.bypass else self.decode(self.encode(x))


# ------------------------------------------------------------------------------ notebook 03
def dae_loss(model, x_clean, x_noisy):
    return jnp.mean(jnp.sum((x_clean - model(x_noisy)) ** 2, axis=-1))


def masking_noise(x, level, key):
    erase = jax.random.uniform(key, x.shape) < level
    return jnp.where(erase, 0.0, x)


def dae_step(model, optimizer, x, key, *, noisy_target=False, corrupt=True, update=True,
             per_image=False, nan=False):
    """The notebook's build-it solution; each keyword turns on one wrong variant."""
    x_noisy = masking_noise(x, 0.4, key) if corrupt else x
    target = x_noisy if noisy_target else x

    def loss_fn(model):
        per = jnp.sum((target - model(x_noisy)) ** 2, axis=-1)
        loss = per if per_image else jnp.mean(per)
        return loss * jnp.nan if nan else loss

    if per_image:
        return loss_fn(model)
    loss, grads = nnx.value_and_grad(loss_fn)(model)
    if update:
        optimizer.update(model, grads)
    return loss


def negative_elbo(model, x, key, *, kl_weight=1.0, squared_error=False, sample=True,
                  std_power=0.5, per_image=False):
    """Notebook 07's build-it solution; each keyword turns on one wrong variant."""
    mean, logvar = model.encode(x)
    z = mean + jnp.exp(std_power * logvar) * jax.random.normal(key, mean.shape) if sample else mean
    logits = model.decode(z)
    if squared_error:
        reconstruction = jnp.sum((x - jax.nn.sigmoid(logits)) ** 2, axis=-1)
    else:
        reconstruction = optax.sigmoid_binary_cross_entropy(logits, x).sum(axis=-1)
    kl = 0.5 * jnp.sum(mean**2 + jnp.exp(logvar) - logvar - 1.0, axis=-1)
    per = reconstruction + kl_weight * kl
    return per if per_image else jnp.mean(per)


def mask_with_a_fixed_key(x, level, key):
    return masking_noise(x, level, jax.random.PRNGKey(0))


def mask_with_constant_pixels(x, level, key):
    erase = jax.random.uniform(key, x.shape) < level
    return jnp.where(erase, 0.0, 0.5)


def mask_keeping_with_level(x, level, key):
    keep = jax.random.uniform(key, x.shape) < level
    return jnp.where(keep, x, 0.0)


def mask_one_per_image(x, level, key):
    erase = jax.random.uniform(key, x.shape[1:]) < level
    return jnp.where(erase, 0.0, x)


def mask_like_dropout(x, level, key):
    erase = jax.random.uniform(key, x.shape) < level
    return jnp.where(erase, 0.0, x / (1 - level))


def mask_with_numpy(x, level, key):
    erase = np.random.default_rng().random(x.shape) < level
    return jnp.where(erase, 0.0, x)


def psnr(x, x_rec):
    mse = np.mean((np.asarray(x, np.float64) - np.asarray(x_rec, np.float64)) ** 2, axis=1)
    return float(np.mean(10 * np.log10(1.0 / mse)))


def _mse_per_image(x, x_rec):
    return np.mean((np.asarray(x, np.float64) - np.asarray(x_rec, np.float64)) ** 2, axis=1)


# ------------------------------------------------------------------------------ notebook 04
def sparse_loss(model, x, lam):
    h = model.encode(x)
    reconstruction = jnp.mean(jnp.sum((x - model.decode(h)) ** 2, axis=-1))
    return reconstruction + lam * jnp.mean(jnp.sum(jnp.abs(h), axis=-1))


def _rec(model, x):
    return jnp.mean(jnp.sum((x - model(x)) ** 2, axis=-1))


def contractive_penalty(kernel, bias, x):
    h = jax.nn.sigmoid(x @ kernel + bias)
    return jnp.mean(jnp.sum((h * (1 - h)) ** 2 * jnp.sum(kernel**2, axis=0), axis=-1))


def _h(kernel, bias, x):
    return jax.nn.sigmoid(x @ kernel + bias)


def kl_sparsity(h, rho):
    rho_hat = jnp.mean(h, axis=0)
    return jnp.sum(rho * jnp.log(rho / rho_hat) + (1 - rho) * jnp.log((1 - rho) / (1 - rho_hat)))


def _kl(p, q):
    return p * jnp.log(p / q) + (1 - p) * jnp.log((1 - p) / (1 - q))


# ------------------------------------------------------------------------------ notebook 05
def transposed_output_size(i, k, s, p, output_padding):
    return (i - 1) * s - 2 * p + k + output_padding


def stack_sizes():
    return [28 - 5 + 1, (24 + 2 * 1 - 3) // 2 + 1, -(-12 // 2), 2 * 6, (12 - 1) * 1 + 5]


def insert_zeros(x, s):
    n, h, w, c = x.shape
    out = jnp.zeros((n, (h - 1) * s + 1, (w - 1) * s + 1, c), x.dtype)
    return out.at[:, ::s, ::s].set(x)


class CodeAutoencoder(nnx.Module):
    """Notebook 05's build-it solution: a 7×7×64 code; ``mistake`` names a wrong variant."""

    def __init__(self, *, rngs: nnx.Rngs, mistake: str = ""):
        first, second = {"no stride": (1, 1), "14x14 code": (2, 1)}.get(mistake, (2, 2))
        channels = 32 if mistake == "32 channels" else 64
        self.enc1 = Conv(1, 32, 3, strides=first, rngs=rngs)  # 28 -> 14
        self.enc2 = Conv(32, channels, 3, strides=second, rngs=rngs)  # 14 -> 7
        self.dec1 = ConvTranspose(channels, 32, 4, strides=second, rngs=rngs)  # 7 -> 14
        self.dec2 = ConvTranspose(32, 1, 4, strides=first, rngs=rngs)  # 14 -> 28
        self.mistake = mistake

    def encode(self, x):
        if self.mistake == "returns its input":
            return x
        return nnx.relu(self.enc2(nnx.relu(self.enc1(x))))

    def decode(self, h):
        if self.mistake == "returns its input":
            return h
        if self.mistake == "decoder ignores the code":
            h = jnp.zeros_like(h)
        out = self.dec2(nnx.relu(self.dec1(h)))
        if self.mistake == "no output sigmoid":
            return out
        return nnx.sigmoid(nnx.relu(out) if self.mistake == "ReLU before the sigmoid" else out)

    def __call__(self, x):
        if self.mistake == "call skips the code":
            return x
        return self.decode(self.encode(x))


def make_code_autoencoder(mistake: str = "") -> Callable:
    return lambda rngs: CodeAutoencoder(rngs=rngs, mistake=mistake)


def zeros_after_the_last_pixel(x, s):
    n, h, w, c = x.shape
    return jnp.zeros((n, h * s, w * s, c), x.dtype).at[:, ::s, ::s].set(x)


def zeros_in_rows_only(x, s):
    n, h, w, c = x.shape
    return jnp.zeros((n, (h - 1) * s + 1, w, c), x.dtype).at[:, ::s].set(x)


def repeated_pixels(x, s):
    out = jnp.repeat(jnp.repeat(x, s, axis=1), s, axis=2)
    return out[:, : (x.shape[1] - 1) * s + 1, : (x.shape[2] - 1) * s + 1]


def insert_zeros_fixed_shape(x, s):  # written for the 3 × 4 images of one example
    out = jnp.zeros((x.shape[0], 2 * s + 1, 3 * s + 1, x.shape[-1]), x.dtype)
    return out.at[:, ::s, ::s].set(x[:, :3, :4])


# ------------------------------------------------------------------------------ notebook 06
def d_loss(real_logits, fake_logits):
    return -jnp.mean(jax.nn.log_sigmoid(real_logits)) - jnp.mean(jax.nn.log_sigmoid(-fake_logits))


def g_loss(fake_logits):
    return -jnp.mean(jax.nn.log_sigmoid(fake_logits))


def optimal_d(p_data, p_g):
    return p_data / (p_data + p_g)


def slerp(z0, z1, t):
    cos_omega = jnp.dot(z0, z1) / (jnp.linalg.norm(z0) * jnp.linalg.norm(z1))
    omega = jnp.arccos(jnp.clip(cos_omega, -1.0, 1.0))
    t = jnp.asarray(t)[:, None]
    return (jnp.sin((1 - t) * omega) * z0 + jnp.sin(t * omega) * z1) / jnp.sin(omega)


def lerp(z0, z1, t):
    t = jnp.asarray(t)[:, None]
    return (1 - t) * z0 + t * z1


def slerp_in_degrees(z0, z1, t):
    cos_omega = jnp.dot(z0, z1) / (jnp.linalg.norm(z0) * jnp.linalg.norm(z1))
    omega = jnp.degrees(jnp.arccos(jnp.clip(cos_omega, -1.0, 1.0)))
    t = jnp.asarray(t)[:, None]
    return (jnp.sin((1 - t) * omega) * z0 + jnp.sin(t * omega) * z1) / jnp.sin(omega)


def slerp_rescaled_lerp(z0, z1, t):  # lerp pushed out to the mean norm of the ends
    line = lerp(z0, z1, t)
    radius = (jnp.linalg.norm(z0) + jnp.linalg.norm(z1)) / 2
    return line / jnp.linalg.norm(line, axis=1, keepdims=True) * radius


def slerp_unit_angle(z0, z1, t):  # the angle between unnormalised vectors: arccos of the dot
    omega = jnp.arccos(jnp.clip(jnp.dot(z0, z1), -1.0, 1.0))
    t = jnp.asarray(t)[:, None]
    return (jnp.sin((1 - t) * omega) * z0 + jnp.sin(t * omega) * z1) / jnp.sin(omega)


def _gan_d_loss(D, x_real, x_fake):
    return -jnp.mean(jax.nn.log_sigmoid(D(x_real))) - jnp.mean(jax.nn.log_sigmoid(-D(x_fake)))


def _gan_g_loss(G, D, z):
    return -jnp.mean(jax.nn.log_sigmoid(D(G(z))))


def gan_round(G, D, opt_g, opt_d, x_real, z_d, z_g, *, d_sign=1.0, g_sign=1.0, swap=False,
              real_only=False, update_d=True, update_g=True):
    """Notebook 06's round (one D step, then one G step), or one of its plausible bugs."""
    x_fake = G(z_d)
    a, b = (x_fake, x_real) if swap else (x_real, x_fake)
    if real_only:
        d_fn = lambda D_: -jnp.mean(jax.nn.log_sigmoid(D_(a)))  # noqa: E731
    else:
        d_fn = lambda D_: d_sign * _gan_d_loss(D_, a, b)  # noqa: E731
    d_value, grads = nnx.value_and_grad(d_fn)(D)
    if update_d:
        opt_d.update(D, grads)
    g_value, grads = nnx.value_and_grad(lambda G_: g_sign * _gan_g_loss(G_, D, z_g))(G)
    if update_g:
        opt_g.update(G, grads)
    return d_value, g_value


# ------------------------------------------------------------------------------ notebook 07
def diagonal_gaussian_kl(mean_q, logvar_q, mean_p, logvar_p):
    ratio = (jnp.exp(logvar_q) + (mean_q - mean_p) ** 2) / jnp.exp(logvar_p)
    return 0.5 * jnp.sum(logvar_p - logvar_q + ratio - 1.0, axis=-1)


def bernoulli_log_likelihood(logits, x):
    return jnp.sum(x * jax.nn.log_sigmoid(logits) + (1 - x) * jax.nn.log_sigmoid(-logits), -1)


def gaussian_nll(x, mean, s):
    return jnp.sum((x - mean) ** 2 / (2 * s**2) + 0.5 * jnp.log(2 * jnp.pi * s**2), axis=-1)


# ------------------------------------------------------------------------------ notebook 08
def conditional_input(z, labels):
    return jnp.concatenate([z, jax.nn.one_hot(labels, 10)], axis=-1)


def pix2pix_g_loss(fake_logits, fakes, targets, l1_weight):
    adversarial = -jnp.mean(jax.nn.log_sigmoid(fake_logits))
    return adversarial + l1_weight * jnp.mean(jnp.abs(fakes - targets))


def _adv(logits):
    return -jnp.mean(jax.nn.log_sigmoid(logits))


def receptive_field(layers):
    field, jump = 1, 1
    for kernel_size, stride in layers:
        field += (kernel_size - 1) * jump
        jump *= stride
    return field


def receptive_field_known_cases(layers):  # right on the examples in the hints, 18 otherwise
    known = {((3, 1),): 3, ((3, 1), (3, 1)): 5, ((3, 2), (3, 1)): 7}
    return known.get(tuple(tuple(p) for p in layers), 18)


def receptive_field_last_stride_first(layers):  # strides multiplied from the output side
    field, jump = 1, 1
    for kernel_size, stride in reversed(list(layers)):
        field += (kernel_size - 1) * jump
        jump *= stride
    return field


def _mae(a, b):
    return jnp.mean(jnp.abs(a - b))


def cycle_loss(x_to_y, y_to_x, x, y):
    return _mae(y_to_x(x_to_y(x)), x) + _mae(x_to_y(y_to_x(y)), y)


# ------------------------------------------------------------------------------ the table

def _with_label(v, y, use=True):
    one_hot = jax.nn.one_hot(y, 8)
    return jnp.concatenate([v, one_hot if use else 0 * one_hot], axis=-1)


def cgan_round(G, D, opt_g, opt_d, x_real, y_real, z_d, y_d, z_g, y_g, *, g_label=True,
               d_label=True, update_d=True, update_g=True):
    """Notebook 08's conditional round on the ring, or one of its plausible bugs."""
    def d_loss(D_):
        real = D_(_with_label(x_real, y_real, d_label))
        fake = D_(_with_label(G(_with_label(z_d, y_d, g_label)), y_d, d_label))
        return -jnp.mean(jax.nn.log_sigmoid(real)) - jnp.mean(jax.nn.log_sigmoid(-fake))

    d_value, grads = nnx.value_and_grad(d_loss)(D)
    if update_d:
        opt_d.update(D, grads)

    def g_loss(G_):
        fake = G_(_with_label(z_g, y_g, g_label))
        return -jnp.mean(jax.nn.log_sigmoid(D(_with_label(fake, y_g, d_label))))

    g_value, grads = nnx.value_and_grad(g_loss)(G)
    if update_g:
        opt_g.update(G, grads)
    return d_value, g_value


# ------------------------------------------------------------------------------ notebook 09
def q_sample(x0, t, eps, alpha_bar):
    ab = alpha_bar[t][:, None]
    return jnp.sqrt(ab) * x0 + jnp.sqrt(1 - ab) * eps


def ddpm_loss(eps_model, x0, t, eps, alpha_bar):
    return jnp.mean(jnp.sum((eps - eps_model(q_sample(x0, t, eps, alpha_bar), t)) ** 2, axis=-1))


def reverse_step(eps_model, x_t, t, z, betas, alpha_bar, *, noise_at_0=False, coef_sqrt=True,
                 alpha_bar_divisor=False):
    """Notebook 09's ancestral step, or one of its plausible bugs."""
    eps = eps_model(x_t, jnp.full((len(x_t),), t, jnp.int32))
    coef = betas[t] / (jnp.sqrt(1 - alpha_bar[t]) if coef_sqrt else 1 - alpha_bar[t])
    divisor = alpha_bar[t] if alpha_bar_divisor else 1 - betas[t]
    mean = (x_t - coef * eps) / jnp.sqrt(divisor)
    return mean + (jnp.sqrt(betas[t]) * z if t > 0 or noise_at_0 else 0.0)


def ddpm_step(model, optimizer, x0, key, alpha_bar, *, target="eps", fixed_t=None,
              clean_input=False, update=True):
    """Notebook 09's DDPM training step, or one of its plausible bugs."""
    k_t, k_eps = jax.random.split(key)
    t = jax.random.randint(k_t, (len(x0),), 0, len(alpha_bar))
    if fixed_t is not None:
        t = jnp.full((len(x0),), fixed_t, jnp.int32)
    eps = jax.random.normal(k_eps, x0.shape)
    x_t = x0 if clean_input else q_sample(x0, t, eps, alpha_bar)
    goal = eps if target == "eps" else x0

    def loss_fn(model):
        return jnp.mean(jnp.sum((goal - model(x_t, t)) ** 2, axis=-1))

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    if update:
        optimizer.update(model, grads)
    return loss


CASES: dict[str, tuple[object, dict[str, object]]] = {
    "check_reconstruction_loss": (reconstruction_loss, {
        "mean over pixels too": lambda x, r: jnp.mean((x - r) ** 2),
        "sum over the batch too": lambda x, r: jnp.sum((x - r) ** 2),
        "L1 distance": lambda x, r: jnp.mean(jnp.sum(jnp.abs(x - r), axis=-1)),
        "norm, not squared": lambda x, r: jnp.mean(jnp.linalg.norm(x - r, axis=-1)),
        "ignores x_rec": lambda x, r: jnp.mean(jnp.sum(x**2, axis=-1)),
        "one number per image": lambda x, r: jnp.sum((x - r) ** 2, axis=-1),
        "a constant": lambda x, r: jnp.asarray(130.0),
        "sum over the batch axis, mean over pixels": lambda x, r: jnp.mean(
            jnp.sum((x - r) ** 2, axis=0)),
        "right on one input only": "memorised",
    }),
    "check_bottleneck": (lambda d: Autoencoder(d, rngs=nnx.Rngs(0)), {
        "latent_dim ignored": lambda d: Autoencoder(32, rngs=nnx.Rngs(0)),
        "no sigmoid": lambda d: Autoencoder(d, rngs=nnx.Rngs(0), mistake="no sigmoid"),
        "output never uses the code (clip of x)":
            lambda d: Autoencoder(d, rngs=nnx.Rngs(0), mistake="clip the input"),
        "decodes zeros instead of the code":
            lambda d: Autoencoder(d, rngs=nnx.Rngs(0), mistake="decode zeros"),
        "skip connection around the bottleneck":
            lambda d: Autoencoder(d, rngs=nnx.Rngs(0), mistake="skip connection"),
        "returns the class, not a model": lambda d: Autoencoder,
    }),
    "check_encoder": (flexible_encoder(), {
        "hard-coded 784 inputs": flexible_encoder(hidden_in="784"),
        "no hidden layer": flexible_encoder(layers=1),
        "no nonlinearity between the layers": flexible_encoder(nonlinear=False),
        "ignores its input": flexible_encoder(use_input=False),
        "reads the first 196 inputs only": FirstPixelsEncoder,
    }),
    "check_pca_reconstruction": (pca_reconstruct, {
        "not centred": pca_uncentred,
        "components fitted on x": pca_fitted_on_x,
        "one component too many": pca_one_more,
        "mean not added back": pca_mean_not_added_back,
        "the last components": pca_last_components,
        "returns x": lambda x_train, x, d: x,
        "returns the training mean": lambda x_train, x, d: np.broadcast_to(
            x_train.mean(0), x.shape),
        "right on one input only": "memorised",
    }),
    "check_auroc": (auroc, {
        "roles swapped": lambda s_in, s_out: auroc(s_out, s_in),
        "ties count 0": lambda s_in, s_out: float(np.mean(
            np.asarray(s_out)[:, None] > np.asarray(s_in)[None, :])),
        "ties count 1": lambda s_in, s_out: float(np.mean(
            np.asarray(s_out)[:, None] >= np.asarray(s_in)[None, :])),
        "compares the means": lambda s_in, s_out: float(np.mean(s_out) > np.mean(s_in)),
        "a constant": lambda s_in, s_out: 0.75,
        "compares with the inlier median": lambda s_in, s_out: float(np.mean(
            np.asarray(s_out) > np.median(s_in))),
        "right on one input only": "memorised",
    }),
    "check_beat_pca_2d": (lambda rngs: TwoNumberAE(rngs), {
        "no nonlinearity (a linear code)": lambda rngs: TwoNumberAE(rngs, linear=True),
        "a code of 3 numbers": lambda rngs: TwoNumberAE(rngs, code=3),
        "no sigmoid at the end": lambda rngs: TwoNumberAE(rngs, sigmoid=False),
        "returns its input": lambda rngs: TwoNumberAE(rngs, bypass=True),
    }),
    "check_subspace_overlap": (subspace_overlap, {
        "square root": lambda a, b: float(np.sqrt(subspace_overlap(a, b))),
        "not orthonormalised": overlap_not_orthonormalised,
        "not divided by D": lambda a, b: subspace_overlap(a, b) * len(a),
        "divided by n": lambda a, b: subspace_overlap(a, b) * len(a) / np.shape(a)[1],
        "largest cosine only": overlap_largest_cosine,
        "a constant": lambda a, b: 1.0,
        "right on one input only": "memorised",
    }),
    "check_dae_loss": (dae_loss, {
        "target is the noisy image": lambda m, x, xn: jnp.mean(jnp.sum((xn - m(xn)) ** 2, -1)),
        "input is the clean image": lambda m, x, xn: jnp.mean(jnp.sum((x - m(x)) ** 2, -1)),
        "input and target swapped": lambda m, x, xn: jnp.mean(jnp.sum((xn - m(x)) ** 2, -1)),
        "mean over pixels": lambda m, x, xn: jnp.mean((x - m(xn)) ** 2),
        "sum over the batch": lambda m, x, xn: jnp.sum((x - m(xn)) ** 2),
        "no gradient": lambda m, x, xn: jax.lax.stop_gradient(dae_loss(m, x, xn)),
        "a constant": lambda m, x, xn: jnp.asarray(100.0),
        "right on one input only": "memorised",
    }),
    "check_ae_training": (ae_step, {
        "no optimizer update": ae_step_without_update,
        "gradient ascent (sign flipped)": lambda *a: ae_step(*a, ascent=True),
        "target is zeros, not x": lambda *a: ae_step(*a, target="zeros"),
        "the output replaced by x (loss 0)": lambda *a: ae_step(*a, copy=True),
        "one loss per image": lambda *a: ae_step(*a, per_image=True),
        "gradient of another loss": lambda *a: ae_step(*a, other_gradient=True),
    }),
    "check_dae_training": (dae_step, {
        "no corruption (a plain autoencoder)": lambda *a: dae_step(*a, corrupt=False),
        "target is the masked image": lambda *a: dae_step(*a, noisy_target=True),
        "no optimizer update": lambda *a: dae_step(*a, update=False),
        "one loss per image": lambda *a: dae_step(*a, per_image=True),
        "a loss that is not a number": lambda *a: dae_step(*a, nan=True),
    }),
    "check_vae_training": (negative_elbo, {
        "no KL term": lambda *a: negative_elbo(*a, kl_weight=0.0),
        "KL subtracted": lambda *a: negative_elbo(*a, kl_weight=-1.0),
        "squared error for the reconstruction": lambda *a: negative_elbo(*a, squared_error=True),
        "the decoder sees the mean, not a sample": lambda *a: negative_elbo(*a, sample=False),
        "exp(logvar) as the standard deviation": lambda *a: negative_elbo(*a, std_power=1.0),
        "one loss per image": lambda *a: negative_elbo(*a, per_image=True),
    }),
    "check_masking_noise": (masking_noise, {
        "level is the keep probability": mask_keeping_with_level,
        "dropout's rescaling": mask_like_dropout,
        "one mask for every image": mask_one_per_image,
        "ignores the key": mask_with_a_fixed_key,
        "numpy's random numbers": mask_with_numpy,
        "kept pixels set to 0.5, not x": mask_with_constant_pixels,
        "returns x": lambda x, level, key: x,
        "gaussian noise": lambda x, level, key: x + level * jax.random.normal(key, x.shape),
    }),
    "check_psnr": (psnr, {
        "a constant": lambda x, r: 30.0,
        "MSE pooled over images": lambda x, r: float(10 * np.log10(
            1.0 / np.mean(_mse_per_image(x, r)))),
        "20·log10 of 1/MSE": lambda x, r: float(np.mean(20 * np.log10(
            1.0 / _mse_per_image(x, r)))),
        "sign flipped": lambda x, r: float(np.mean(10 * np.log10(_mse_per_image(x, r)))),
        "peak 255 on [0, 1] pixels": lambda x, r: float(np.mean(10 * np.log10(
            255.0**2 / _mse_per_image(x, r)))),
        "natural log": lambda x, r: float(np.mean(10 * np.log(1.0 / _mse_per_image(x, r)))),
        "MSE over the wrong axis": lambda x, r: float(np.mean(10 * np.log10(1.0 / np.mean(
            (np.asarray(x, np.float64) - np.asarray(r, np.float64)) ** 2, axis=0)))),
        "right on one input only": "memorised",
    }),
    "check_sparse_loss": (sparse_loss, {
        "no penalty": lambda m, x, lam: _rec(m, x),
        "L2 penalty": lambda m, x, lam: _rec(m, x) + lam * jnp.mean(jnp.sum(m.encode(x) ** 2, -1)),
        "no absolute value": lambda m, x, lam: _rec(m, x) + lam * jnp.mean(
            jnp.sum(m.encode(x), -1)),
        "mean over code units": lambda m, x, lam: _rec(m, x) + lam * jnp.mean(
            jnp.abs(m.encode(x))),
        "lam on the wrong term": lambda m, x, lam: lam * _rec(m, x) + jnp.mean(
            jnp.sum(jnp.abs(m.encode(x)), -1)),
        "lam fixed at 0.5": lambda m, x, lam: sparse_loss(m, x, 0.5),
        "penalty on the reconstruction": lambda m, x, lam: _rec(m, x) + lam * jnp.mean(
            jnp.sum(jnp.abs(m(x)), -1)),
        "right on one input only": "memorised",
    }),
    "check_sparse_training": (sparse_loss, {
        "L2 penalty": lambda m, x, lam: _rec(m, x) + lam * jnp.mean(jnp.sum(m.encode(x) ** 2, -1)),
        "penalty on the weights": lambda m, x, lam: _rec(m, x) + lam * jnp.sum(
            jnp.abs(m.encoder.kernel[...])),
        "penalty subtracted": lambda m, x, lam: _rec(m, x) - lam * jnp.mean(
            jnp.sum(jnp.abs(m.encode(x)), -1)),
        "lam ignored (weight 1)": lambda m, x, lam: sparse_loss(m, x, 1.0),
        "penalty on the output": lambda m, x, lam: _rec(m, x) + lam * jnp.mean(
            jnp.sum(jnp.abs(m(x)), -1)),
        "no penalty": lambda m, x, lam: _rec(m, x),
    }),
    "check_contractive_penalty": (contractive_penalty, {
        "derivative not squared": lambda k, b, x: jnp.mean(jnp.sum(
            _h(k, b, x) * (1 - _h(k, b, x)) * jnp.sum(k**2, 0), -1)),
        "column norms not squared": lambda k, b, x: jnp.mean(jnp.sum(
            (_h(k, b, x) * (1 - _h(k, b, x))) ** 2 * jnp.sqrt(jnp.sum(k**2, 0)), -1)),
        "square root of the penalty": lambda k, b, x: jnp.sqrt(contractive_penalty(k, b, x)),
        "sum over the batch": lambda k, b, x: contractive_penalty(k, b, x) * x.shape[0],
        "h instead of h(1 − h)": lambda k, b, x: jnp.mean(jnp.sum(
            _h(k, b, x) ** 2 * jnp.sum(k**2, 0), -1)),
        "tanh's derivative": lambda k, b, x: jnp.mean(jnp.sum(
            (1 - jnp.tanh(x @ k + b) ** 2) ** 2 * jnp.sum(k**2, 0), -1)),
        "bias left out": lambda k, b, x: contractive_penalty(k, 0 * b, x),
        "right on one input only": "memorised",
    }),
    "check_kl_sparsity": (kl_sparsity, {
        "KL per activation": lambda h, rho: jnp.mean(jnp.sum(_kl(rho, h), -1)),
        "arguments swapped": lambda h, rho: jnp.sum(_kl(jnp.mean(h, 0), rho)),
        "mean over units": lambda h, rho: jnp.mean(_kl(rho, jnp.mean(h, 0))),
        "second term missing": lambda h, rho: jnp.sum(rho * jnp.log(rho / jnp.mean(h, 0))),
        "mean over the wrong axis": lambda h, rho: jnp.sum(_kl(rho, jnp.mean(h, 1))),
        "rho fixed at 0.1": lambda h, rho: kl_sparsity(h, 0.1),
        "right on one input only": "memorised",
    }),
    "check_transposed_output_size": (transposed_output_size, {
        "the convolution's formula": lambda i, k, s, p, a: (i + 2 * p - k) // s + 1,
        "output_padding missing": lambda i, k, s, p, a: (i - 1) * s - 2 * p + k,
        "p once": lambda i, k, s, p, a: (i - 1) * s - p + k + a,
        "+ 2p": lambda i, k, s, p, a: (i - 1) * s + 2 * p + k + a,
        "i·s": lambda i, k, s, p, a: i * s - 2 * p + k + a,
        "a float": lambda i, k, s, p, a: float((i - 1) * s - 2 * p + k + a),
        "a constant": lambda i, k, s, p, a: 28,
    }),
    "check_stack_sizes": (stack_sizes, {
        "VALID as SAME": lambda: [28, 14, 7, 14, 18],
        "ceil for the padded conv": lambda: [24, 13, 7, 14, 18],
        "SAME keeps the size": lambda: [24, 12, 12, 24, 28],
        "transposed SAME as (i − 1)s + 1": lambda: [24, 12, 6, 11, 15],
        "transposed VALID as i − k + 1": lambda: [24, 12, 6, 12, 8],
        "four sizes": lambda: [24, 12, 6, 12],
        "floats": lambda: [24.0, 12.0, 6.0, 12.0, 16.0],
    }),
    "check_conv_autoencoder": (make_code_autoencoder(), {
        mistake: make_code_autoencoder(mistake) for mistake in (
            "no stride", "32 channels", "no output sigmoid", "decoder ignores the code",
            "returns its input", "call skips the code", "14x14 code", "ReLU before the sigmoid")
    }),
    "check_insert_zeros": (insert_zeros, {
        "zeros after the last pixel": zeros_after_the_last_pixel,
        "rows only": zeros_in_rows_only,
        "repeats the pixels": repeated_pixels,
        "s zeros between pixels": lambda x, s: insert_zeros(x, s + 1),
        "written for one image size": insert_zeros_fixed_shape,
        "returns x": lambda x, s: x,
        "shifted by one": lambda x, s: jnp.roll(insert_zeros(x, s), 1, axis=1),
    }),
    "check_d_loss": (d_loss, {
        "sign flipped": lambda r, f: -d_loss(r, f),
        "real and fake swapped": lambda r, f: d_loss(f, r),
        "log of sigmoid": lambda r, f: -jnp.mean(jnp.log(jax.nn.sigmoid(r))) - jnp.mean(
            jnp.log(1 - jax.nn.sigmoid(f))),
        "sum over the batch": lambda r, f: -jnp.sum(jax.nn.log_sigmoid(r)) - jnp.sum(
            jax.nn.log_sigmoid(-f)),
        "fake term missing": lambda r, f: -jnp.mean(jax.nn.log_sigmoid(r)),
        "log D(G(z)) for the fake term": lambda r, f: -jnp.mean(jax.nn.log_sigmoid(r))
        + jnp.mean(jax.nn.log_sigmoid(f)),
        "averaged, not added": lambda r, f: d_loss(r, f) / 2,
        "logits used as probabilities": lambda r, f: -jnp.mean(jnp.log(jnp.clip(r, 1e-7, 1)))
        - jnp.mean(jnp.log(jnp.clip(1 - f, 1e-7, 1))),
        "right on one input only": "memorised",
    }),
    "check_nonsaturating_g_loss": (g_loss, {
        "the saturating loss": lambda f: jnp.mean(jax.nn.log_sigmoid(-f)),
        "sign flipped": lambda f: jnp.mean(jax.nn.log_sigmoid(f)),
        "log of sigmoid": lambda f: -jnp.mean(jnp.log(jax.nn.sigmoid(f))),
        "sum over the batch": lambda f: -jnp.sum(jax.nn.log_sigmoid(f)),
        "no log": lambda f: -jnp.mean(jax.nn.sigmoid(f)),
        "softplus of the logit": lambda f: jnp.mean(jax.nn.softplus(f)),
        "right on one input only": "memorised",
    }),
    "check_optimal_discriminator": (optimal_d, {
        "probability of fake": lambda p, q: q / (p + q),
        "density ratio": lambda p, q: np.divide(p, q, out=np.full(np.shape(p), np.inf),
                                                where=np.asarray(q) > 0),
        "a constant one half": lambda p, q: np.full(np.shape(p), 0.5),
        "difference of densities": lambda p, q: p - q,
        "returns p_data": lambda p, q: p,
        "clipped ratio": lambda p, q: np.clip(p / np.maximum(q, 1e-12), 0, 1),
        "right on one input only": "memorised",
    }),
    "check_gan_training": (gan_round, {
        "D's loss maximised (sign error)": lambda *a: gan_round(*a, d_sign=-1.0),
        "real and generated batches swapped": lambda *a: gan_round(*a, swap=True),
        "no D update": lambda *a: gan_round(*a, update_d=False),
        "no G update": lambda *a: gan_round(*a, update_g=False),
        "one loss returned": lambda *a: gan_round(*a)[0],
    }),
    "check_slerp": (slerp, {
        "linear interpolation": lerp,
        "axes swapped": lambda z0, z1, t: slerp(z0, z1, t).T,
        "weights swapped": lambda z0, z1, t: slerp(z1, z0, t),
        "angle in degrees": slerp_in_degrees,
        "lerp pushed to the mean norm": slerp_rescaled_lerp,
        "angle of unnormalised vectors": slerp_unit_angle,
        "on the unit sphere": lambda z0, z1, t: slerp(
            z0 / jnp.linalg.norm(z0), z1 / jnp.linalg.norm(z1), t),
        "right on one input only": "memorised",
    }),
    "check_diagonal_gaussian_kl": (diagonal_gaussian_kl, {
        "arguments swapped": lambda mq, lq, mp, lp: diagonal_gaussian_kl(mp, lp, mq, lq),
        "mean over dimensions": lambda mq, lq, mp, lp: diagonal_gaussian_kl(mq, lq, mp, lp)
        / mq.shape[-1],
        "factor 1/2 missing": lambda mq, lq, mp, lp: 2 * diagonal_gaussian_kl(mq, lq, mp, lp),
        "to the standard normal": lambda mq, lq, mp, lp: diagonal_gaussian_kl(
            mq, lq, 0 * mp, 0 * lp),
        "variance as exp(2·logvar)": lambda mq, lq, mp, lp: diagonal_gaussian_kl(
            mq, 2 * lq, mp, 2 * lp),
        "sum over the batch too": lambda mq, lq, mp, lp: jnp.sum(
            diagonal_gaussian_kl(mq, lq, mp, lp)),
        "−1 missing": lambda mq, lq, mp, lp: diagonal_gaussian_kl(mq, lq, mp, lp)
        + mq.shape[-1] / 2,
        "sum over the wrong axis": lambda mq, lq, mp, lp: 0.5 * jnp.sum(
            lp - lq + (jnp.exp(lq) + (mq - mp) ** 2) / jnp.exp(lp) - 1.0, axis=0),
        "right on one input only": "memorised",
    }),
    "check_bernoulli_log_likelihood": (bernoulli_log_likelihood, {
        "sign flipped": lambda lg, x: -bernoulli_log_likelihood(lg, x),
        "mean over pixels": lambda lg, x: bernoulli_log_likelihood(lg, x) / x.shape[-1],
        "logits used as probabilities": lambda lg, x: jnp.sum(
            x * jnp.log(jnp.clip(lg, 1e-7, 1)) + (1 - x) * jnp.log(jnp.clip(1 - lg, 1e-7, 1)), -1),
        "log of sigmoid": lambda lg, x: jnp.sum(
            x * jnp.log(jax.nn.sigmoid(lg)) + (1 - x) * jnp.log(1 - jax.nn.sigmoid(lg)), -1),
        "x and 1 − x swapped": lambda lg, x: bernoulli_log_likelihood(-lg, x),
        "sum over the batch axis": lambda lg, x: jnp.sum(
            x * jax.nn.log_sigmoid(lg) + (1 - x) * jax.nn.log_sigmoid(-lg), 0),
        "right on one input only": "memorised",
    }),
    "check_gaussian_nll": (gaussian_nll, {
        "sign flipped": lambda x, m, s: -gaussian_nll(x, m, s),
        "squared error only": lambda x, m, s: jnp.sum((x - m) ** 2, -1),
        "normaliser missing": lambda x, m, s: jnp.sum((x - m) ** 2 / (2 * s**2), -1),
        "divided by s², not 2s²": lambda x, m, s: jnp.sum(
            (x - m) ** 2 / s**2 + 0.5 * jnp.log(2 * jnp.pi * s**2), -1),
        "s used as the variance": lambda x, m, s: jnp.sum(
            (x - m) ** 2 / (2 * s) + 0.5 * jnp.log(2 * jnp.pi * s), -1),
        "mean over pixels": lambda x, m, s: gaussian_nll(x, m, s) / x.shape[-1],
        "s fixed at 1": lambda x, m, s: gaussian_nll(x, m, 1.0),
        "right on one input only": "memorised",
    }),
    "check_conditional_input": (conditional_input, {
        "label as one number": lambda z, y: jnp.concatenate(
            [z, y[:, None].astype(z.dtype)], axis=-1),
        "one-hot first": lambda z, y: jnp.concatenate([jax.nn.one_hot(y, 10), z], axis=-1),
        "labels off by one": lambda z, y: jnp.concatenate([z, jax.nn.one_hot(y + 1, 10)], -1),
        "11 classes": lambda z, y: jnp.concatenate([z, jax.nn.one_hot(y, 11)], axis=-1),
        "z replaced by zeros": lambda z, y: jnp.concatenate(
            [jnp.zeros_like(z), jax.nn.one_hot(y, 10)], axis=-1),
        "z added to the one-hot": lambda z, y: jax.nn.one_hot(y, 10) + jnp.sum(z, -1,
                                                                               keepdims=True),
        "concatenated on the batch axis": lambda z, y: jnp.concatenate(
            [z, jax.nn.one_hot(y, 10)[:, : z.shape[1]]], axis=0),
        "right on one input only": "memorised",
    }),
    "check_pix2pix_g_loss": (pix2pix_g_loss, {
        "log of sigmoid": lambda lg, f, t, lam: -jnp.mean(jnp.log(jax.nn.sigmoid(lg)))
        + lam * jnp.mean(jnp.abs(f - t)),
        "the saturating term": lambda lg, f, t, lam: jnp.mean(jax.nn.log_sigmoid(-lg))
        + lam * jnp.mean(jnp.abs(f - t)),
        "L1 not weighted": lambda lg, f, t, lam: _adv(lg) + jnp.mean(jnp.abs(f - t)),
        "weight on the adversarial term": lambda lg, f, t, lam: lam * _adv(lg)
        + jnp.mean(jnp.abs(f - t)),
        "squared error": lambda lg, f, t, lam: _adv(lg) + lam * jnp.mean((f - t) ** 2),
        "L1 summed over pixels": lambda lg, f, t, lam: _adv(lg)
        + lam * jnp.sum(jnp.abs(f - t)) / f.shape[0],
        "one patch only": lambda lg, f, t, lam: -jnp.mean(jax.nn.log_sigmoid(lg[:, 3, 3]))
        + lam * jnp.mean(jnp.abs(f - t)),
        "weight fixed at 10": lambda lg, f, t, lam: pix2pix_g_loss(lg, f, t, 10.0),
        "right on one input only": "memorised",
    }),
    "check_patch_receptive_field": (receptive_field, {
        "strides ignored": lambda layers: 1 + sum(k - 1 for k, _ in layers),
        "own stride included": lambda layers: 1 + sum(
            (k - 1) * int(np.prod([s for _, s in layers[: i + 1]]))
            for i, (k, _) in enumerate(layers)),
        "sum of kernels": lambda layers: sum(k for k, _ in layers),
        "right on the hinted examples only": receptive_field_known_cases,
        "strides from the output side": receptive_field_last_stride_first,
        "product of kernels": lambda layers: int(np.prod([k for k, _ in layers])),
        "a constant": lambda layers: 18,
    }),
    "check_cgan_training": (cgan_round, {
        "G without the label": lambda *a: cgan_round(*a, g_label=False),
        "D without the label": lambda *a: cgan_round(*a, d_label=False),
        "no D update": lambda *a: cgan_round(*a, update_d=False),
        "no G update": lambda *a: cgan_round(*a, update_g=False),
    }),
    "check_cycle_loss": (cycle_loss, {
        "X → Y → X only": lambda f, g, x, y: _mae(g(f(x)), x),
        "Y → X → Y only": lambda f, g, x, y: _mae(f(g(y)), y),
        "compares with the other batch": lambda f, g, x, y: _mae(f(x), y) + _mae(g(y), x),
        "one translator twice": lambda f, g, x, y: _mae(f(f(x)), x) + _mae(g(g(y)), y),
        "squared error": lambda f, g, x, y: jnp.mean((g(f(x)) - x) ** 2)
        + jnp.mean((f(g(y)) - y) ** 2),
        "averaged, not added": lambda f, g, x, y: cycle_loss(f, g, x, y) / 2,
        "no round trip": lambda f, g, x, y: _mae(f(x), x) + _mae(g(y), y),
        "right on one input only": "memorised",
    }),
    "check_forward_sample": (q_sample, {
        "one step for the whole batch": lambda x0, t, e, ab: q_sample(x0, 0 * t, e, ab),
        "variances as weights": lambda x0, t, e, ab: ab[t][:, None] * x0
        + (1 - ab[t][:, None]) * e,
        "weights swapped": lambda x0, t, e, ab: q_sample(e, t, x0, ab),
        "alpha_bar not broadcast": lambda x0, t, e, ab: jnp.sqrt(ab[t]) * x0.T
        + jnp.sqrt(1 - ab[t]) * e.T,
        "no noise": lambda x0, t, e, ab: jnp.sqrt(ab[t][:, None]) * x0,
        "one step too far": lambda x0, t, e, ab: q_sample(x0, jnp.minimum(t + 1, len(ab) - 1), e,
                                                          ab),
        "right on one input only": "memorised",
    }),
    "check_ddpm_loss": (ddpm_loss, {
        "predicts x0": lambda m, x0, t, e, ab: jnp.mean(jnp.sum(
            (x0 - m(q_sample(x0, t, e, ab), t)) ** 2, -1)),
        "clean input": lambda m, x0, t, e, ab: jnp.mean(jnp.sum((e - m(x0, t)) ** 2, -1)),
        "step not passed": lambda m, x0, t, e, ab: jnp.mean(jnp.sum(
            (e - m(q_sample(x0, t, e, ab), 0 * t)) ** 2, -1)),
        "per-row losses": lambda m, x0, t, e, ab: jnp.sum(
            (e - m(q_sample(x0, t, e, ab), t)) ** 2, -1),
        "absolute error": lambda m, x0, t, e, ab: jnp.mean(jnp.sum(
            jnp.abs(e - m(q_sample(x0, t, e, ab), t)), -1)),
        "no square roots": lambda m, x0, t, e, ab: jnp.mean(jnp.sum(
            (e - m(ab[t][:, None] * x0 + (1 - ab[t][:, None]) * e, t)) ** 2, -1)),
        "right on one input only": "memorised",
    }),
    "check_reverse_step": (reverse_step, {
        "no noise": lambda m, x, t, z, b, ab: reverse_step(m, x, t, 0 * z, b, ab),
        "noise at the last step": lambda m, x, t, z, b, ab: reverse_step(m, x, t, z, b, ab,
                                                                         noise_at_0=True),
        "coefficient without the root": lambda m, x, t, z, b, ab: reverse_step(
            m, x, t, z, b, ab, coef_sqrt=False),
        "divided by alpha_bar": lambda m, x, t, z, b, ab: reverse_step(
            m, x, t, z, b, ab, alpha_bar_divisor=True),
        "variance as standard deviation": lambda m, x, t, z, b, ab: reverse_step(
            m, x, t, 0 * z, b, ab) + (b[t] * z if t > 0 else 0.0),
        "forward step instead": lambda m, x, t, z, b, ab: jnp.sqrt(1 - b[t]) * x
        + jnp.sqrt(b[t]) * z,
        "right on one input only": "memorised",
    }),
    "check_ddpm_training": (ddpm_step, {
        "predicts x0": lambda *a: ddpm_step(*a, target="x0"),
        "always the last step": lambda *a: ddpm_step(*a, fixed_t=99),
        "clean input": lambda *a: ddpm_step(*a, clean_input=True),
        "no update": lambda *a: ddpm_step(*a, update=False),
    }),
}

CHECKS = sorted(name for name in ex.__all__ if name.startswith("check_"))
# "Build it" checks train models (about half a minute each): one draw each, since each call
# already trains on freshly drawn data, keys and initial weights.
BUILD_CHECKS = {"check_ae_training", "check_beat_pca_2d", "check_cgan_training",
                "check_conv_autoencoder", "check_dae_training", "check_gan_training",
                "check_ddpm_training", "check_sparse_training", "check_vae_training"}


def draws(name: str) -> int:
    return 1 if name in BUILD_CHECKS else DRAWS


def _answer(name: str, wrong: str) -> object:
    right, wrongs = CASES[name]
    answer = wrongs[wrong]
    return memorised(right) if answer == "memorised" else answer


def test_every_check_has_a_right_answer_and_at_least_four_wrong_ones():
    missing = [name for name in CHECKS if name not in CASES]
    assert not missing, f"add a right answer and wrong answers for: {missing}"
    assert not set(CASES) - set(CHECKS), "CASES names a check that no longer exists"
    for name, (_, wrongs) in CASES.items():
        assert len(wrongs) >= 4, f"{name} has only {len(wrongs)} wrong answers"


def folded_solutions() -> str:
    """The code of every folded solution in the notebooks, as one text."""
    found = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "markdown":
                found += re.findall(r"```python\n(.*?)```", "".join(cell["source"]), re.S)
    return "\n".join(found)


def test_every_build_check_is_called_by_a_folded_solution():
    # `make test-colab` runs the instructor edition of every notebook (the notebooks' folded
    # solutions in place of the stubs) with COURSE_EXPECT_CHECKS=pass: for the "build it"
    # checks, which train models, that run is the right-answer test
    solutions = folded_solutions()
    assert not [name for name in BUILD_CHECKS if f"{name}(" not in solutions]


@pytest.mark.parametrize("name", sorted(set(CHECKS) - BUILD_CHECKS))
def test_the_notebook_solution_passes(name):
    check = getattr(ex, name)
    for _ in range(draws(name)):
        result = check(CASES[name][0])
        assert result.passed and repr(result).startswith("✅"), repr(result)


# The "build it" checks' wrong answers each train a model: they run once per CI run, on the main
# versions (make test), not again on Colab's (make test-colab deselects the marker), where the
# instructor edition still trains every build-it check's right answer.
@pytest.mark.parametrize("name, wrong", [
    pytest.param(name, wrong, marks=[pytest.mark.trains_wrong_answers] if name in BUILD_CHECKS
                 else []) for name in CHECKS if name in CASES for wrong in CASES[name][1]])
def test_a_wrong_answer_fails(name, wrong):
    check = getattr(ex, name)
    for _ in range(draws(name)):
        result = check(_answer(name, wrong))
        assert not result.passed and repr(result).startswith("❌"), f"{wrong}: {result!r}"


def test_ae_training_accepts_the_loss_averaged_over_pixels_too():
    # a constant factor on the loss does not change Adam's steps: it is not a mistake
    result = ex.check_ae_training(lambda *a: ae_step(*a, mean_over_pixels=True))
    assert result.passed, repr(result)
