"""Exercise checks for notebook 08, conditional GANs."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from course_utils.cgan import receptive_field as reference_receptive_field
from course_utils.exercises.core import CheckResult, close, expect, run_check

__all__ = [
    "PATCH_DISCRIMINATOR_08",
    "check_conditional_input",
    "check_pix2pix_g_loss",
    "check_patch_receptive_field",
    "check_cycle_loss",
]


def check_conditional_input(make_input: Callable[[jax.Array, jax.Array], jax.Array]
                            ) -> CheckResult:
    """``make_input(z, labels)``: ``[z; one_hot(labels, 10)]``, float32[N, D + 10], for
    ``z: float32[N, D]`` and ``labels: int32[N]`` in 0..9."""

    def body() -> str:
        rng = np.random.default_rng(8)
        z = jnp.asarray(rng.normal(size=(5, 3)), jnp.float32)
        labels = jnp.asarray([3, 0, 9, 3, 7], jnp.int32)
        got = np.asarray(make_input(z, labels), np.float64)
        one_hot = np.eye(10)[np.asarray(labels)]
        expect(got.shape != (5, 4), "the label went in as one number: encode it as a one-hot "
               "vector of 10 entries (jax.nn.one_hot(labels, 10)), so that no digit is 'larger' "
               "than another.")
        expect(got.shape == (5, 13), f"for z of shape (5, 3) the input should have shape "
               f"(5, 13): 3 noise values and 10 one-hot entries per example, got {got.shape}.")
        expect(not close(got, np.concatenate([one_hot, np.asarray(z)], axis=1)),
               "the parts are in the other order: noise first, then the one-hot label (the "
               "generator's first layer expects [z; e_y]).")
        expect(close(got[:, :3], z), "the first D columns must be z itself, unchanged.")
        expect(close(got[:, 3:], one_hot), "the last 10 columns must be the one-hot label: a 1 "
               "in the column of the digit, 0 elsewhere.")
        return ("correct! A dense layer on [z; e_y] adds one learned vector per class: a class "
                "embedding.")

    return run_check("conditional generator input", body)


def check_pix2pix_g_loss(g_loss: Callable[..., jax.Array]) -> CheckResult:
    """``g_loss(fake_logits, fakes, targets, l1_weight)``: ``−mean(log D)`` over every patch
    logit (float32[N, 7, 7]) plus ``l1_weight · mean|fakes − targets|`` (float32[N, 28, 28, 1])."""

    def body() -> str:
        rng = np.random.default_rng(80)
        logits = rng.normal(0.0, 3.0, size=(3, 7, 7))
        logits[0, 0, 0] = -120.0
        fakes = rng.uniform(-1, 1, size=(3, 28, 28, 1))
        targets = rng.uniform(-1, 1, size=(3, 28, 28, 1))
        args = [jnp.asarray(a, jnp.float32) for a in (logits, fakes, targets)]
        lam = 10.0
        got = g_loss(*args, lam)
        expect(np.ndim(got) == 0, f"return one number, got shape {np.shape(got)}: average the "
               "adversarial term over every patch of every image.")
        got = float(got)
        log_d = np.asarray(jax.nn.log_sigmoid(jnp.asarray(logits, jnp.float32)), np.float64)
        adv = -log_d.mean()
        l1 = np.abs(fakes - targets).mean()
        expect(np.isfinite(got), "the loss is not finite: a logit of −120 makes sigmoid "
               "underflow to 0. Use jax.nn.log_sigmoid(l), not jnp.log(jax.nn.sigmoid(l)).")
        saturating = np.asarray(jax.nn.log_sigmoid(-jnp.asarray(logits, jnp.float32))).mean()
        expect(not close(got, saturating + lam * l1), "that is the saturating term "
               "log(1 − D); the generator minimises −log D(G(s)) (notebook 06).")
        expect(not close(got, adv + l1), "the L1 term is not weighted: multiply it by "
               "l1_weight.")
        expect(not close(got, lam * adv + l1), "the weight belongs to the L1 term, not the "
               "adversarial one.")
        expect(not close(got, adv + lam * ((fakes - targets) ** 2).mean()), "that is the squared "
               "error: pix2pix uses L1, the mean *absolute* difference, which blurs less.")
        expect(not close(got, adv + lam * np.abs(fakes - targets).sum() / 3), "average the "
               "absolute error over pixels too, not only over the images.")
        expect(not close(got, -log_d[:, 3, 3].mean() + lam * l1), "use every patch's logit, "
               "not one: the PatchGAN's loss is the mean over the whole map.")
        expect(close(got, adv + lam * l1), f"expected −mean(log_sigmoid(fake_logits)) + "
               f"l1_weight · mean|fakes − targets| = {adv + lam * l1:.4f}, got {got:.4f}.")
        return ("correct! The adversarial term asks every patch to look real; the L1 term keeps "
                "the whole image close to the target.")

    return run_check("pix2pix generator loss", body)


PATCH_DISCRIMINATOR_08 = ((4, 2), (4, 2), (3, 1))  # notebook 08's (kernel, stride) per layer


def check_patch_receptive_field(receptive_field: Callable[[object], int]) -> CheckResult:
    """``receptive_field([(kernel_size, stride), ...])``: the side of the input patch one output
    of the stack sees, ``1 + Σ_l (k_l − 1) Π_{j<l} s_j``."""

    def body() -> str:
        expect(int(receptive_field([(3, 1)])) == 3, "one 3×3 convolution sees a 3×3 patch: "
               "the answer for [(3, 1)] is 3.")
        expect(int(receptive_field([(3, 1), (3, 1)])) == 5, "two stacked 3×3 convolutions "
               "(stride 1) see 5×5: each layer adds k − 1 pixels, here 1 + 2 + 2.")
        two = int(receptive_field([(3, 2), (3, 1)]))
        expect(two != 5, "the stride matters: after a stride-2 layer, neighbouring outputs are "
               "2 input pixels apart, so the next layer's k − 1 extra taps reach 2·(k − 1) "
               "pixels further. Multiply by the product of the earlier strides.")
        expect(two != 9, "multiply each layer's (k − 1) by the strides *before* it, not "
               "including its own: [(3, 2), (3, 1)] sees 1 + 2 + 2·2 = 7 pixels.")
        expect(two == 7, f"[(3, 2), (3, 1)] should give 7 (1 + 2 + 2·2), got {two}.")
        for layers in ([(4, 2), (4, 2)], [(5, 1), (3, 2), (3, 2), (1, 1)], [(7, 3), (2, 2)]):
            got = int(receptive_field(layers))
            right = reference_receptive_field(layers)
            expect(got == right, f"for {layers} the field is {right} pixels, got {got}.")
        size = reference_receptive_field(PATCH_DISCRIMINATOR_08)
        return (f"correct! Each logit of the notebook's PatchDiscriminator sees a {size}×{size} "
                f"patch: {size * size / 784:.0%} of a 28×28 digit.")

    return run_check("PatchGAN receptive field", body)


def check_cycle_loss(cycle_loss: Callable[..., jax.Array]) -> CheckResult:
    """``cycle_loss(x_to_y, y_to_x, x, y)``: ``mean|y_to_x(x_to_y(x)) − x| +
    mean|x_to_y(y_to_x(y)) − y|`` for two translators (image → image) and a batch of each."""

    def body() -> str:
        rng = np.random.default_rng(88)
        x = jnp.asarray(rng.uniform(-1, 1, size=(4, 28, 28, 1)), jnp.float32)
        y = jnp.asarray(rng.uniform(-1, 1, size=(4, 28, 28, 1)), jnp.float32)

        def x_to_y(a):  # two different, not inverse, maps: every mistake gives another number
            return 0.8 * a + 0.1

        def y_to_x(b):
            return jnp.tanh(1.5 * b) - 0.2

        got = cycle_loss(x_to_y, y_to_x, x, y)
        expect(np.ndim(got) == 0, f"return one number, got shape {np.shape(got)}.")
        got = float(got)

        def mae(a, b):
            return float(jnp.mean(jnp.abs(a - b)))

        forward, backward = mae(y_to_x(x_to_y(x)), x), mae(x_to_y(y_to_x(y)), y)
        expect(not close(got, forward), "only the X → Y → X cycle is there: add the "
               "Y → X → Y cycle, mean|x_to_y(y_to_x(y)) − y|.")
        expect(not close(got, backward), "only the Y → X → Y cycle is there: add the "
               "X → Y → X cycle, mean|y_to_x(x_to_y(x)) − x|.")
        expect(not close(got, mae(x_to_y(x), y) + mae(y_to_x(y), x)), "that compares "
               "translations with the *other* domain's batch, which is not its pair (there are "
               "no pairs): translate there *and back*, then compare with the input.")
        expect(not close(got, mae(x_to_y(x_to_y(x)), x) + mae(y_to_x(y_to_x(y)), y)),
               "a round trip uses both translators: first x_to_y, then y_to_x for x.")
        squared = float(jnp.mean((y_to_x(x_to_y(x)) - x) ** 2) + jnp.mean(
            (x_to_y(y_to_x(y)) - y) ** 2))
        expect(not close(got, squared), "that is the squared error: the cycle loss is an L1 "
               "(mean absolute) error.")
        expect(not close(got, (forward + backward) / 2), "add the two directions; do not "
               "average them.")
        expect(close(got, forward + backward), f"expected mean|G(F(x)) − x| + mean|F(G(y)) − y| "
               f"= {forward + backward:.4f}, got {got:.4f}.")
        return ("correct! Zero only when each translator undoes the other, which forces F(x) to "
                "keep what identifies x.")

    return run_check("cycle-consistency loss", body)
