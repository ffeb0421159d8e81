"""Multilayer-perceptron autoencoders as Flax NNX modules.

The notebooks define their own models where the model is the lesson; these are the
reusable versions that later notebooks (and the widgets' cached models) build on.
Images enter flattened: ``x: float32[N, 784] in [0, 1]``; codes are ``h: float32[N, D]``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
from flax import nnx

from course_utils import checks

__all__ = [
    "MLPAutoencoder",
    "MLPDecoder",
    "MLPEncoder",
    "apply_jitted",
    "count_params",
]

# One compiled function per (graph definition, method): what decides the computation. The
# weights are passed on every call, so a model trained since its last call is applied with
# its new weights, and two models of the same structure share one compilation.
_JITTED: dict[tuple[Any, Any], Callable] = {}
_MAX_JITTED = 256


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


class _MLPPart(nnx.Module):
    """Dense layers between ``features`` pixels and a ``latent_dim``-wide code, either way."""

    def __init__(self, latent_dim: int, hidden: Sequence[int], features_name: str, features: int,
                 rngs: nnx.Rngs, *, to_code: bool) -> None:
        self.latent_dim = checks.positive_int("latent_dim", latent_dim, "try 2, 5, 16 or 32")
        features = checks.positive_int(features_name, features, "784 for 28×28 images")
        hidden = _check_hidden(hidden)
        if to_code:
            self.in_features = features
            self.net = _mlp((features, *hidden, self.latent_dim), rngs)
        else:
            self.out_features = features
            self.net = _mlp((self.latent_dim, *hidden, features), rngs,
                            final_activation=nnx.sigmoid)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.net(x)


class MLPEncoder(_MLPPart):
    """h = f(x): ``x: float32[N, in_features]`` → ``h: float32[N, latent_dim]`` (linear output)."""

    def __init__(self, latent_dim: int, *, hidden: Sequence[int] = (512, 256),
                 in_features: int = 784, rngs: nnx.Rngs) -> None:
        super().__init__(latent_dim, hidden, "in_features", in_features, rngs, to_code=True)


class MLPDecoder(_MLPPart):
    """x' = g(h): ``h: float32[N, latent_dim]`` → ``x': float32[N, out_features] in (0, 1)``.

    The last layer is a sigmoid, so reconstructions live in the same range as the pixels.
    """

    def __init__(self, latent_dim: int, *, hidden: Sequence[int] = (256, 512),
                 out_features: int = 784, rngs: nnx.Rngs) -> None:
        super().__init__(latent_dim, hidden, "out_features", out_features, rngs, to_code=False)


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


def apply_jitted(
    model: nnx.Module,
    *args: Any,
    method: str | Callable[..., Any] | None = None,
) -> Any:
    """``model(*args)``, ``model.<method>(*args)`` or ``method(model, *args)``, under ``jax.jit``.

    method: ``None`` for ``model(*args)``; a method name such as ``"decode"``; or a function
        ``fn(model, *args)`` (define it once, at module level: each new function compiles anew).
    args: arrays (or pytrees of arrays), e.g. ``x: float32[N, 784]``; every distinct shape
        compiles once.

    The compiled function is cached by the model's graph definition (its structure and static
    attributes) and ``method``; the model's current state is split off and passed on each call,
    so the answer always uses the model's weights at the time of the call. Returns what the
    model returns, as JAX arrays.
    """
    if not isinstance(model, nnx.Module):
        raise TypeError(f"model must be a flax.nnx.Module, got {type(model).__name__}")
    if not (method is None or isinstance(method, str) or callable(method)):
        raise TypeError(f"method must be None, a method name or a function, got {method!r}")
    if isinstance(method, str) and not callable(getattr(model, method, None)):
        raise ValueError(f"method={method!r}: {type(model).__name__} has no such method")
    graphdef, state = nnx.split(model)
    key = (graphdef, method)
    run = _JITTED.get(key)
    if run is None:

        @jax.jit
        def run(state: Any, *args: Any) -> Any:
            m = nnx.merge(graphdef, state)
            if method is None:
                return m(*args)
            if isinstance(method, str):
                return getattr(m, method)(*args)
            return method(m, *args)

        if len(_JITTED) >= _MAX_JITTED:  # drop the oldest, so passing new functions cannot grow it
            del _JITTED[next(iter(_JITTED))]
        _JITTED[key] = run
    return run(state, *args)
