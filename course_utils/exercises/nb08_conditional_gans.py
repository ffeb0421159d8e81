"""Exercise checks for notebook 08, conditional GANs."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from course_utils.exercises.core import (
    close,
    draw_apart,
    exercise_check,
    expect,
    fresh_rng,
    train_ring_gan,
)
from course_utils.gan import RING_STD, ring_centers

__all__ = [
    "BUILD_CGAN",
    "PATCH_DISCRIMINATOR_08",
    "check_cgan_training",
    "check_conditional_input",
    "check_pix2pix_g_loss",
    "check_patch_receptive_field",
    "check_cycle_loss",
]


@exercise_check("conditional generator input")
def check_conditional_input(make_input: Callable[[jax.Array, jax.Array], jax.Array]
                            ) -> str:
    """``make_input(z, labels)``: ``[z; one_hot(labels, 10)]``, float32[N, D + 10], for
    ``z: float32[N, D]`` and ``labels: int32[N]`` in 0..9."""
    rng = fresh_rng()
    for n, d in ((5, 3), (8, 4)):  # fresh values, two shapes
        z = jnp.asarray(rng.normal(size=(n, d)), jnp.float32)
        labels = jnp.asarray(rng.permutation(np.resize(rng.permutation(10), n)), jnp.int32)
        got = np.asarray(make_input(z, labels), np.float64)
        one_hot = np.eye(10)[np.asarray(labels)]
        expect(got.shape != (n, d + 1), "the label went in as one number: encode it as a "
               "one-hot vector of 10 entries (jax.nn.one_hot(labels, 10)), so that no digit "
               "is 'larger' than another.")
        expect(got.shape == (n, d + 10), f"for z of shape ({n}, {d}) the input should have "
               f"shape ({n}, {d + 10}): {d} noise values and 10 one-hot entries per "
               f"example, got {got.shape}.")
        expect(not close(got, np.concatenate([one_hot, np.asarray(z)], axis=1)),
               "the parts are in the other order: noise first, then the one-hot label (the "
               "generator's first layer expects [z; e_y]).")
        expect(close(got[:, :d], z), "the first D columns must be z itself, unchanged.")
        expect(close(got[:, d:], one_hot), "the last 10 columns must be the one-hot label: "
               "a 1 in the column of the digit, 0 elsewhere.")
    return ("correct! A dense layer on [z; e_y] adds one learned vector per class: a class "
            "embedding.")


@exercise_check("pix2pix generator loss")
def check_pix2pix_g_loss(g_loss: Callable[..., jax.Array]) -> str:
    """``g_loss(fake_logits, fakes, targets, l1_weight)``: ``−mean(log D)`` over every patch
    logit (float32[N, 7, 7]) plus ``l1_weight · mean|fakes − targets|`` (float32[N, 28, 28, 1])."""
    rng = fresh_rng()
    answers: list[float] = []  # the right losses of the rounds so far

    def draw(n):  # a case on which the right loss and each mistake's give different numbers
        logits = rng.normal(0.0, 3.0, size=(n, 7, 7))
        logits[rng.integers(n), rng.integers(7), rng.integers(7)] = -120.0
        logits = np.asarray(logits, np.float32).astype(np.float64)
        # fakes near their targets: mean |d| and mean d² then differ (for two independent
        # uniform images on [-1, 1] both are 2/3 on average)
        targets = np.asarray(rng.uniform(-1, 1, size=(n, 28, 28, 1)), np.float32)
        fakes = np.asarray(np.clip(targets + rng.normal(0, 0.3, targets.shape), -1, 1),
                           np.float32)
        lam = float(rng.choice([1.0, 5.0, 20.0, 50.0, 100.0]) * rng.uniform(0.8, 1.2))
        d = fakes.astype(np.float64) - targets
        log_d = np.asarray(jax.nn.log_sigmoid(jnp.asarray(logits, jnp.float32)), np.float64)
        saturating = np.asarray(jax.nn.log_sigmoid(-jnp.asarray(logits, jnp.float32))).mean()
        adv, l1 = -log_d.mean(), np.abs(d).mean()
        values = [adv + lam * l1, saturating + lam * l1, adv + l1, lam * adv + l1,
                  adv + lam * (d**2).mean(), adv + lam * np.abs(d).sum() / n,
                  -log_d[:, 3, 3].mean() + lam * l1,
                  *answers]  # and apart from earlier rounds: repeating one answer must fail
        return (logits, fakes, targets, lam), values

    for n in (3, 2):  # fresh values, two batch sizes
        logits, fakes, targets, lam = draw_apart(lambda n=n: draw(n))
        args = [jnp.asarray(a, jnp.float32) for a in (logits, fakes, targets)]
        fakes, targets = fakes.astype(np.float64), targets.astype(np.float64)
        got = g_loss(*args, lam)
        expect(np.ndim(got) == 0, f"return one number, got shape {np.shape(got)}: average "
               "the adversarial term over every patch of every image.")
        got = float(got)
        log_d = np.asarray(jax.nn.log_sigmoid(args[0]), np.float64)
        adv = -log_d.mean()
        l1 = np.abs(fakes - targets).mean()
        answers.append(adv + lam * l1)
        expect(np.isfinite(got), "the loss is not finite: a logit of −120 makes sigmoid "
               "underflow to 0. Use jax.nn.log_sigmoid(l), not jnp.log(jax.nn.sigmoid(l)).")
        saturating = np.asarray(jax.nn.log_sigmoid(-args[0])).mean()
        expect(not close(got, saturating + lam * l1), "that is the saturating term "
               "log(1 − D); the generator minimises −log D(G(s)) (notebook 06).")
        expect(not close(got, adv + l1), "the L1 term is not weighted: multiply it by "
               "l1_weight.")
        expect(not close(got, lam * adv + l1), "the weight belongs to the L1 term, not the "
               "adversarial one.")
        expect(not close(got, adv + lam * ((fakes - targets) ** 2).mean()), "that is the "
               "squared error: pix2pix uses L1, the mean *absolute* difference, which blurs "
               "less.")
        expect(not close(got, adv + lam * np.abs(fakes - targets).sum() / n), "average the "
               "absolute error over pixels too, not only over the images.")
        expect(not close(got, -log_d[:, 3, 3].mean() + lam * l1), "use every patch's "
               "logit, not one: the PatchGAN's loss is the mean over the whole map.")
        expect(close(got, adv + lam * l1), f"with l1_weight = {lam:.2f}: expected "
               f"−mean(log_sigmoid(fake_logits)) + l1_weight · mean|fakes − targets| = "
               f"{adv + lam * l1:.4f}, got {got:.4f}.")
    return ("correct! The adversarial term asks every patch to look real; the L1 term keeps "
            "the whole image close to the target.")


PATCH_DISCRIMINATOR_08 = ((4, 2), (4, 2), (3, 1))  # notebook 08's (kernel, stride) per layer


def _reference_receptive_field(layers: list[tuple[int, int]]) -> int:
    field, jump = 1, 1
    for k, s in layers:
        field += (k - 1) * jump
        jump *= s
    return field


@exercise_check("PatchGAN receptive field")
def check_patch_receptive_field(receptive_field: Callable[[object], int]) -> str:
    """``receptive_field([(kernel_size, stride), ...])``: the side of the input patch one output
    of the stack sees, ``1 + Σ_l (k_l − 1) Π_{j<l} s_j``."""
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
    rng = fresh_rng()
    stacks = [[(4, 2), (4, 2)], [(5, 1), (3, 2), (3, 2), (1, 1)], [(7, 3), (2, 2)]]
    stacks += [[(int(k), int(s)) for k, s in zip(rng.integers(1, 8, n), rng.integers(1, 4, n),
                                                  strict=True)]
               for n in rng.integers(2, 6, size=3)]
    for layers in stacks:
        got = int(receptive_field(layers))
        right = _reference_receptive_field(layers)
        expect(got == right, f"for {layers} the field is {right} pixels, got {got}.")
    size = _reference_receptive_field(list(PATCH_DISCRIMINATOR_08))
    return (f"correct! Each logit of the notebook's PatchDiscriminator sees a {size}×{size} "
            f"patch: {size * size / 784:.0%} of a 28×28 digit.")


@exercise_check("cycle-consistency loss")
def check_cycle_loss(cycle_loss: Callable[..., jax.Array]) -> str:
    """``cycle_loss(x_to_y, y_to_x, x, y)``: ``mean|y_to_x(x_to_y(x)) − x| +
    mean|x_to_y(y_to_x(y)) − y|`` for two translators (image → image) and a batch of each."""
    rng = fresh_rng()

    def mae(a, b):
        return float(jnp.mean(jnp.abs(a - b)))

    def draw(n, earlier):  # two maps and batches on which every mistake gives another number
        x = jnp.asarray(rng.uniform(-1, 1, size=(n, 28, 28, 1)), jnp.float32)
        y = jnp.asarray(rng.uniform(-1, 1, size=(n, 28, 28, 1)), jnp.float32)
        scale, shift = float(rng.uniform(0.6, 0.9)), float(rng.uniform(0.05, 0.2))
        gain, offset = float(rng.uniform(1.2, 1.8)), float(rng.uniform(0.1, 0.3))

        def x_to_y(a):  # two different maps, not inverse to each other
            return scale * a + shift

        def y_to_x(b):
            return jnp.tanh(gain * b) - offset

        forward, backward = mae(y_to_x(x_to_y(x)), x), mae(x_to_y(y_to_x(y)), y)
        squared = float(jnp.mean((y_to_x(x_to_y(x)) - x) ** 2)
                        + jnp.mean((x_to_y(y_to_x(y)) - y) ** 2))
        values = [forward + backward, forward, backward, mae(x_to_y(x), y) + mae(y_to_x(y), x),
                  mae(x_to_y(x_to_y(x)), x) + mae(y_to_x(y_to_x(y)), y), squared,
                  (forward + backward) / 2]
        # and the earlier draw's right answer: an answer repeating its first output must fail
        return (x_to_y, y_to_x, x, y, forward, backward), values + earlier

    earlier: list[float] = []
    for n in (4, 3):  # fresh values, two batch sizes
        # 1 % apart: the final comparison's tolerance is 0.1 %
        x_to_y, y_to_x, x, y, forward, backward = draw_apart(lambda n=n: draw(n, earlier),
                                                             rtol=1e-2)
        earlier.append(forward + backward)
        got = cycle_loss(x_to_y, y_to_x, x, y)
        expect(np.ndim(got) == 0, f"return one number, got shape {np.shape(got)}.")
        got = float(got)
        expect(not close(got, forward), "only the X → Y → X cycle is there: add the "
               "Y → X → Y cycle, mean|x_to_y(y_to_x(y)) − y|.")
        expect(not close(got, backward), "only the Y → X → Y cycle is there: add the "
               "X → Y → X cycle, mean|y_to_x(x_to_y(x)) − x|.")
        expect(not close(got, mae(x_to_y(x), y) + mae(y_to_x(y), x)), "that compares "
               "translations with the *other* domain's batch, which is not its pair (there "
               "are no pairs): translate there *and back*, then compare with the input.")
        expect(not close(got, mae(x_to_y(x_to_y(x)), x) + mae(y_to_x(y_to_x(y)), y)),
               "a round trip uses both translators: first x_to_y, then y_to_x for x.")
        squared = float(jnp.mean((y_to_x(x_to_y(x)) - x) ** 2) + jnp.mean(
            (x_to_y(y_to_x(y)) - y) ** 2))
        expect(not close(got, squared), "that is the squared error: the cycle loss is an L1 "
               "(mean absolute) error.")
        expect(not close(got, (forward + backward) / 2), "add the two directions; do not "
               "average them.")
        expect(close(got, forward + backward, rtol=1e-3), f"expected mean|G(F(x)) − x| + "
               f"mean|F(G(y)) − y| = {forward + backward:.4f}, got {got:.4f}.")
    return ("correct! Zero only when each translator undoes the other, which forces F(x) to "
            "keep what identifies x.")


# The "build it" exercise: the budget and the target the check holds a student's round to.
BUILD_CGAN = {"rounds": 3000, "batch_size": 256, "learning_rate": 1e-3, "hidden": 128,
              "n_per_label": 250, "target_on_mode": 0.5}


@exercise_check("build it: one round of conditional GAN training")
def check_cgan_training(cgan_round: Callable[..., tuple[jax.Array, jax.Array]]) -> str:
    """``cgan_round(G, D, opt_g, opt_d, x_real, y_real, z_d, y_d, z_g, y_g) -> (d_loss, g_loss)``.

    The ring of notebook 06 with a label per sample: the index (0..7) of its mode. x_real:
    float32[B, 2] with labels y_real: int32[B]; z_d, z_g: float32[B, 2] noise with the labels
    y_d, y_g to ask G for, in D's and in G's step. G and D are MLPs that take their input with
    ``one_hot(label, 8)`` appended (10 numbers); the round takes one step of D on −V (real
    pairs against generated pairs), then one of G on the non-saturating loss, and returns both
    losses. Judged by outcome: fresh MLPs train for 3,000 rounds of 256 samples (Adam 1e-3,
    β1 = 0.5); then G draws 250 samples for each label, and at least half of all samples must
    lie within 3σ of the mode their label names. About 15 s on a 2-core CPU.
    """
    b = BUILD_CGAN
    seed = int(fresh_rng().integers(1 << 30))
    G = train_ring_gan(cgan_round, seed, rounds=b["rounds"], batch_size=b["batch_size"],
                       learning_rate=b["learning_rate"], hidden=b["hidden"], n_labels=8)
    labels = np.repeat(np.arange(8), b["n_per_label"])
    z = jax.random.normal(jax.random.key(seed + 1), (len(labels), 2))
    samples = np.asarray(G(jnp.concatenate([z, jax.nn.one_hot(labels, 8)], axis=-1)))
    expect(bool(np.all(np.isfinite(samples))), "G's samples are not finite after training.")
    distance = np.linalg.norm(samples - ring_centers()[labels], axis=-1)
    on_mode = float(np.mean(distance <= 3 * RING_STD))
    per_label = [float(np.mean(distance[labels == k] <= 3 * RING_STD)) for k in range(8)]
    figures = (f"{on_mode:.0%} of the samples lie within 3σ of the mode their label asks for "
               f"(per label {min(per_label):.0%} to {max(per_label):.0%}; target: at least "
               f"{b['target_on_mode']:.0%})")
    expect(on_mode >= b["target_on_mode"], f"{figures}. G must get the label (its input is "
           "[z; one_hot(y, 8)]) and so must D, with each batch's own labels: the real pairs "
           "(x_real, y_real), the generated pairs (G([z_d; y_d]), y_d) and (G([z_g; y_g]), y_g). "
           "A D that does not see the label cannot teach G to obey it.")
    return f"correct! After {b['rounds']:,} rounds {figures}."
