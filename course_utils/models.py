"""Multilayer-perceptron autoencoders as Flax NNX modules.

The notebooks define their own models where the model is the lesson; these are the
reusable versions that later notebooks (and the widgets' cached models) build on.
Images enter flattened: ``x: float32[N, 784] in [0, 1]``; codes are ``h: float32[N, D]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
from flax import nnx

from course_utils import checks


def _check_hidden(hidden: Sequence[int]) -> tuple[int, ...]:
    if isinstance(hidden, int | str) or not isinstance(hidden, Sequence):
        raise ValueError(
            f"hidden must be a sequence of layer widths such as (512, 256), got {hidden!r}"
        )
    return tuple(checks.positive_int("each width in hidden", width, "e.g. hidden=(512, 256)")
                 for width in hidden)


def _mlp(sizes: Sequence[int], rngs: nnx.Rngs, final_activation=None) -> nnx.Sequential:
    """Dense layers with ReLU between them; ``final_activation`` after the last one."""
    layers: list = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nnx.Linear(n_in, n_out, rngs=rngs))
        if i < len(sizes) - 2:
            layers.append(nnx.relu)
    if final_activation is not None:
        layers.append(final_activation)
    return nnx.Sequential(*layers)


class MLPEncoder(nnx.Module):
    """h = f(x): ``x: float32[N, in_features]`` → ``h: float32[N, latent_dim]`` (linear output)."""

    def __init__(
        self,
        latent_dim: int,
        *,
        hidden: Sequence[int] = (512, 256),
        in_features: int = 784,
        rngs: nnx.Rngs,
    ) -> None:
        latent_dim = checks.positive_int("latent_dim", latent_dim, "try 2, 5, 16 or 32")
        in_features = checks.positive_int("in_features", in_features, "784 for 28×28 images")
        hidden = _check_hidden(hidden)
        self.latent_dim = latent_dim
        self.in_features = in_features
        self.net = _mlp((in_features, *hidden, latent_dim), rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.net(x)


class MLPDecoder(nnx.Module):
    """x' = g(h): ``h: float32[N, latent_dim]`` → ``x': float32[N, out_features] in (0, 1)``.

    The last layer is a sigmoid, so reconstructions live in the same range as the pixels.
    """

    def __init__(
        self,
        latent_dim: int,
        *,
        hidden: Sequence[int] = (256, 512),
        out_features: int = 784,
        rngs: nnx.Rngs,
    ) -> None:
        latent_dim = checks.positive_int("latent_dim", latent_dim, "try 2, 5, 16 or 32")
        out_features = checks.positive_int("out_features", out_features, "784 for 28×28 images")
        hidden = _check_hidden(hidden)
        self.latent_dim = latent_dim
        self.out_features = out_features
        self.net = _mlp((latent_dim, *hidden, out_features), rngs, final_activation=nnx.sigmoid)

    def __call__(self, h: jax.Array) -> jax.Array:
        return self.net(h)


class MLPAutoencoder(nnx.Module):
    """x' = g(f(x)) with a ``latent_dim``-wide bottleneck.

    ``hidden`` gives the encoder's hidden widths; the decoder mirrors them.
    ``x: float32[N, 784] in [0, 1]`` → ``x': float32[N, 784] in (0, 1)``.
    """

    def __init__(
        self,
        latent_dim: int,
        *,
        hidden: Sequence[int] = (512, 256),
        in_features: int = 784,
        rngs: nnx.Rngs,
    ) -> None:
        hidden = _check_hidden(hidden)
        self.encoder = MLPEncoder(latent_dim, hidden=hidden, in_features=in_features, rngs=rngs)
        self.decoder = MLPDecoder(
            latent_dim, hidden=hidden[::-1], out_features=in_features, rngs=rngs
        )
        self.latent_dim = self.encoder.latent_dim

    def encode(self, x: jax.Array) -> jax.Array:
        """``x: float32[N, 784]`` → ``h: float32[N, D]``."""
        return self.encoder(x)

    def decode(self, h: jax.Array) -> jax.Array:
        """``h: float32[N, D]`` → ``x': float32[N, 784] in (0, 1)``."""
        return self.decoder(h)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.decode(self.encode(x))


def count_params(model: nnx.Module) -> int:
    """Number of trainable parameters (``nnx.Param`` entries) of ``model``."""
    state = nnx.state(model, nnx.Param)
    return int(sum(leaf.size for leaf in jax.tree_util.tree_leaves(state)))
