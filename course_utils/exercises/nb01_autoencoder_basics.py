"""Exercise checks for notebook 01, autoencoder basics."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from course_utils.data import load_mnist, random_subset
from course_utils.exercises.core import (
    Hint,
    close,
    exercise_check,
    expect,
    fresh_rng,
    train_with_step,
)
from course_utils.metrics import batched_apply, mse_per_pixel
from course_utils.models import MLPAutoencoder

__all__ = ["BUILD_AE", "check_ae_training", "check_bottleneck", "check_encoder",
           "check_reconstruction_loss"]

# The "build it" exercise: the budget and the target the check holds a student's training step
# to. The right step reaches about 0.0125 on this budget; wrong ones stay above 0.1.
BUILD_AE = {"latent_dim": 32, "steps": 500, "batch_size": 128, "learning_rate": 1e-3,
            "n_test": 1000, "target_mse": 0.02}


@exercise_check("reconstruction loss")
def check_reconstruction_loss(loss_fn: Callable[[jax.Array, jax.Array], jax.Array]) -> str:
    """``loss_fn(x, x_rec)`` must be ‖x − x'‖² summed over pixels, averaged over the batch.

    x, x_rec: float32[N, 784] in [0, 1]; the answer is a scalar that ``jax.grad`` can go through.
    """
    rng = fresh_rng()
    for n in (8, 5):  # fresh values, two batch sizes (each shape compiles once)
        x = jnp.asarray(rng.random((int(n), 784), dtype=np.float32))
        x_rec = jnp.asarray(rng.random((int(n), 784), dtype=np.float32))
        out = loss_fn(x, x_rec)
        expect(np.ndim(out) == 0, f"return one number for the whole batch, got shape "
                                  f"{np.shape(out)}: average the per-image losses.")
        diff = np.asarray(x, np.float64) - np.asarray(x_rec, np.float64)
        right = (diff**2).sum(1).mean()
        expect(not close(out, (diff**2).mean()), "you averaged over the pixels too. ‖x − x'‖² "
               "sums the squared errors over the 784 pixels of an image; average only over "
               "images.")
        expect(not close(out, (diff**2).sum()), "you summed over the batch too: average the "
               "per-image sums over the images, so the loss does not grow with the batch "
               "size.")
        expect(not close(out, np.abs(diff).sum(1).mean()), "that is the L1 distance: square "
               "the differences instead of taking their absolute value.")
        expect(not close(out, np.sqrt((diff**2).sum(1)).mean()), "‖x − x'‖² is the *squared* "
               "norm: do not take the square root.")
        expect(close(out, right), f"for this batch the loss should be {right:.4f}, yours gives "
               f"{float(out):.4f}. Compute ((x - x_rec) ** 2).sum over pixels, then the mean.")
    expect(close(loss_fn(x, x), 0.0), "a perfect reconstruction must have loss 0.")
    grad = jax.grad(lambda r: loss_fn(x, r))(x_rec)
    expect(close(grad, 2 * (x_rec - x) / x.shape[0]), "the gradient is off: use jax.numpy "
           "(jnp) operations so that JAX can differentiate the loss.")
    return "correct! This is the loss the notebook trains with."


@exercise_check("bottleneck size")
def check_bottleneck(make_autoencoder: Callable[[int], nnx.Module]) -> str:
    """``make_autoencoder(D)`` must return a model with ``encoder``/``decoder`` and a D-wide code.

    The model maps float32[N, 784] → float32[N, 784] in [0, 1]; ``model.encoder`` gives [N, D].
    """
    rng = fresh_rng()
    for d in (2, 8, 64):
        n = 4
        x = jnp.asarray(rng.random((n, 784), dtype=np.float32))
        model = make_autoencoder(d)
        expect(isinstance(model, nnx.Module), f"make_autoencoder({d}) should return an "
               f"nnx.Module (the Autoencoder class above), got {type(model).__name__}.")
        expect(hasattr(model, "encoder") and hasattr(model, "decoder"),
               "the model needs `encoder` and `decoder` attributes, as in the Autoencoder "
               "class above.")
        h = model.encoder(x)
        expect(h.shape == (n, d), f"with latent_dim={d} the code should have shape ({n}, {d}) "
               f"for {n} images, got {tuple(h.shape)}: pass latent_dim on to the encoder and "
               "the decoder.")
        r = model(x)
        expect(r.shape == (n, 784), f"reconstructions should have shape ({n}, 784), got "
               f"{tuple(r.shape)}.")
        expect(bool(jnp.all((r >= 0) & (r <= 1))), "reconstructions should lie in [0, 1] "
               "like the pixels: keep the sigmoid at the end of the decoder.")
        expect(close(r, model.decoder(h), rtol=1e-3), "model(x) should be "
               "model.decoder(model.encoder(x)): the reconstruction must be computed from "
               "the code alone, so that every bit of information passes the bottleneck.")
        other = model(jnp.asarray(rng.random((n, 784), dtype=np.float32)))
        expect(not close(other, r, rtol=1e-3), "the reconstruction does not change when the "
               "images change: decode the code of x, h = model.encoder(x).")
    return "correct! The code size is one argument; everything else adapts."


@exercise_check("encoder for another input size")
def check_encoder(encoder_cls: Callable[..., nnx.Module]) -> str:
    """``encoder_cls(in_features, latent_dim, rngs=...)`` maps float32[N, in_features] → [N, D]."""
    rng = fresh_rng()
    affine = False  # whether the code is an affine function of the input
    for in_features, d in ((196, 16), (784, 32), (1024, 5)):
        enc = encoder_cls(in_features, d, rngs=nnx.Rngs(int(rng.integers(1 << 30))))
        expect(isinstance(enc, nnx.Module), "subclass nnx.Module.")
        n = 3
        x = jnp.asarray(rng.random((n, in_features), dtype=np.float32))
        try:
            h = enc(x)
        except (TypeError, ValueError) as err:
            raise Hint(f"for in_features={in_features} the encoder failed ({err}). "
                       "Use the in_features argument for the first layer's input size "
                       "instead of a fixed 784.") from err
        expect(h.shape == (n, d), f"for in_features={in_features}, latent_dim={d} the code "
               f"should have shape ({n}, {d}), got {tuple(h.shape)}.")
        x2 = x.at[0].set(1.0 - x[0])
        expect(not close(enc(x2)[0], h[0]), "the code does not change when the input "
               "changes: make sure the layers are applied to x.")
        tail = x.at[0, in_features // 2:].set(1.0 - x[0, in_features // 2:])
        expect(not close(enc(tail)[0], h[0]), f"with in_features={in_features} the code "
               "ignores the second half of the input: feed every input feature to the first "
               "layer.")
        x3 = jnp.asarray(rng.random((n, in_features), dtype=np.float32))
        affine = affine or close(enc(0.5 * (x + x3)), 0.5 * (h + enc(x3)), rtol=1e-3)
    n_layers = sum(isinstance(m, nnx.Linear) for _, m in nnx.iter_graph(enc))
    expect(n_layers >= 2, "use at least one hidden layer (two nnx.Linear layers with a "
           "nonlinearity between them).")
    expect(not affine, "the encoder is a linear (affine) map: two linear layers in a row are "
           "still one linear layer. Put a nonlinearity such as nnx.relu between them.")
    return "correct! The same architecture works for any input size."


@exercise_check("build it: the autoencoder's training step")
def check_ae_training(ae_step: Callable[[nnx.Module, nnx.Optimizer, jax.Array], jax.Array]
                      ) -> str:
    """``ae_step(model, optimizer, x) -> loss``: one training step of notebook 01's autoencoder.

    x: float32[B, 784] in [0, 1], a batch of digits. The step computes the reconstruction loss
    of ``model`` on x and its gradients with ``nnx.value_and_grad``, applies them with
    ``optimizer.update(model, grads)`` and returns the loss, one number. Judged by outcome: a
    fresh autoencoder of the notebook's shape (784 → 512 → 256 → 32 → 256 → 512 → 784,
    ``MLPAutoencoder(32)``) is trained with your step (``BUILD_AE``: 500 steps of 128 digits,
    Adam 1e-3), then its test MSE per pixel is measured on 1,000 random test digits. It passes
    at ``BUILD_AE["target_mse"]`` (0.02) or below; the notebook's loss reaches about 0.0125.
    About 10 s on a 2-core CPU.
    """
    b = BUILD_AE
    seed = int(fresh_rng().integers(1 << 30))
    x_train = load_mnist("train", flatten=True)[0]
    (x_eval,) = random_subset(load_mnist("test", flatten=True)[0], n=b["n_test"], seed=seed)
    model = MLPAutoencoder(b["latent_dim"], rngs=nnx.Rngs(seed))

    # one step on a copy first, outside jit, so that a loss of the wrong kind gets its own hint
    probe = nnx.clone(model)
    x = jnp.asarray(x_train[:16])
    try:
        loss = ae_step(probe, nnx.Optimizer(probe, optax.adam(b["learning_rate"]),
                                            wrt=nnx.Param), x)
    except TypeError as err:
        if "scalar" not in str(err):
            raise
        raise Hint("nnx.value_and_grad needs a loss that is one number: average the per-image "
                   f"losses over the batch with jnp.mean ({err}).") from err
    expect(loss is not None, "return the loss from your step (`return loss`).")
    expect(np.ndim(loss) == 0, "return the loss, one number for the batch; got shape "
           f"{np.shape(loss)}: average the per-image losses over the batch.")
    expect(float(loss) > 1e-6, f"your loss is {float(loss):.3g} for an untrained model, which "
           "reconstructs nothing yet: the loss must compare the reconstruction model(x) with "
           "the input x, e.g. jnp.mean(jnp.sum((x - model(x)) ** 2, axis=-1)).")

    start = mse_per_pixel(x_eval, batched_apply(model, x_eval))
    model = train_with_step(model, lambda m, opt, x, key: ae_step(m, opt, x), x_train,
                            steps=b["steps"], batch_size=b["batch_size"],
                            learning_rate=b["learning_rate"], seed=seed, who="your step")
    out = batched_apply(model, x_eval)
    mse = mse_per_pixel(x_eval, out)
    figures = (f"after {b['steps']} steps your autoencoder's test MSE is {mse:.4f} per pixel on "
               f"{b['n_test']:,} random test digits (target: {b['target_mse']} or below)")
    expect(not (mse > b["target_mse"] and mse > start), f"{figures}, worse than the untrained "
           f"model's {start:.4f}: the loss went up. optimizer.update(model, grads) already "
           "steps against the gradient: pass it the gradients of your loss as they are, "
           "without flipping their sign.")
    expect(not (mse > b["target_mse"] and float(np.mean(out)) < 0.5 * float(np.mean(x_eval))),
           f"{figures}, and its digits are darker than the real ones: it learned a target other "
           "than x. The loss compares model(x) with x itself, and the gradients you apply must "
           "be those of that loss: loss, grads = nnx.value_and_grad(loss_fn)(model).")
    expect(mse <= b["target_mse"], f"{figures}. Compute loss, grads = "
           "nnx.value_and_grad(loss_fn)(model) for the loss ‖x − model(x)‖² averaged over the "
           "batch, call optimizer.update(model, grads) and return the loss.")
    return f"correct! {figures[0].upper()}{figures[1:]}."
