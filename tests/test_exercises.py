import inspect

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from sklearn.decomposition import PCA

from course_utils import exercises as ex
from course_utils.cgan import receptive_field
from course_utils.conv_arithmetic import conv_transpose_output_size
from course_utils.exercises.core import CheckExpectationError
from course_utils.gan import optimal_discriminator
from course_utils.metrics import psnr
from course_utils.models import MLPAutoencoder
from course_utils.noise import add_noise
from course_utils.penalties import contractive_penalty_sigmoid, kl_sparsity


def test_check_result_shows_a_mark_and_is_truthy_only_when_passed():
    ok = ex.run_check("demo", lambda: "well done")
    assert ok and repr(ok) == "✅ demo: well done" and "#1a7f37" in ok._repr_html_()

    def wrong():
        ex.expect(False, "look again")

    bad = ex.run_check("demo", wrong)
    assert not bad and repr(bad) == "❌ demo: not yet. Hint: look again"


def test_an_untouched_stub_is_reported_as_not_attempted():
    def stub():
        raise NotImplementedError

    assert "not attempted yet" in repr(ex.run_check("demo", stub))


def test_a_crash_in_student_code_is_reported_not_raised():
    result = ex.run_check("demo", lambda: 1 / 0)
    assert not result and "ZeroDivisionError" in repr(result)


def _stub():
    raise NotImplementedError


def _wrong():
    ex.expect(False, "look again")


def test_expect_checks_pass_makes_every_outcome_but_a_pass_raise(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_CHECKS", "pass")
    assert ex.run_check("demo", lambda: "well done")
    for body, shown in [(_stub, "not attempted"), (_wrong, "look again"),
                        (lambda: 1 / 0, "ZeroDivisionError")]:
        with pytest.raises(CheckExpectationError, match=f"COURSE_EXPECT_CHECKS=pass.*{shown}"):
            ex.run_check("demo", body)


def test_expect_checks_not_attempted_accepts_only_an_untouched_stub(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_CHECKS", "not-attempted")
    assert "not attempted yet" in repr(ex.run_check("demo", _stub))
    for body in [lambda: "well done", _wrong, lambda: 1 / 0]:
        with pytest.raises(CheckExpectationError, match="not-attempted"):
            ex.run_check("demo", body)


def test_expect_checks_refuses_a_value_it_does_not_know(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_CHECKS", "yes")
    with pytest.raises(ValueError, match="COURSE_EXPECT_CHECKS must be 'pass', 'not-attempted'"):
        ex.run_check("demo", _stub)


def test_a_decorated_check_reports_hints_and_keeps_its_name_and_signature():
    @ex.exercise_check("double")
    def check_double(double, *, n: int = 3) -> str:
        """``double(x)`` must return 2 x."""
        ex.expect(double(n) == 2 * n, f"double({n}) should be {2 * n}")
        return "correct!"

    right = check_double(lambda x: 2 * x)
    assert right and repr(right) == "✅ double: correct!"
    wrong = check_double(lambda x: x + 2, n=5)
    assert not wrong and repr(wrong) == "❌ double: not yet. Hint: double(5) should be 10"
    assert "ZeroDivisionError" in repr(check_double(lambda x: x / 0))
    assert check_double.__name__ == "check_double" and "2 x" in check_double.__doc__
    assert str(inspect.signature(check_double)) == "(double, *, n: int = 3) -> 'CheckResult'"
    with pytest.raises(TypeError):  # a wrong call is the caller's error, not a hint
        check_double()
    with pytest.raises(TypeError):
        check_double(lambda x: 2 * x, m=1)


def test_every_notebook_check_is_a_decorated_check():
    checks = [getattr(ex, name) for name in ex.__all__ if name.startswith("check_")]
    assert len(checks) >= 24
    for check in checks:
        assert inspect.signature(check).return_annotation == "CheckResult", check.__name__
        assert isinstance(check.__wrapped__, type(test_every_notebook_check_is_a_decorated_check))


# ---------------------------------------------------------------- reconstruction loss
def right_loss(x, x_rec):
    return jnp.mean(jnp.sum((x - x_rec) ** 2, axis=-1))


@pytest.mark.parametrize("wrong, hint", [
    (lambda x, r: jnp.mean((x - r) ** 2), "averaged over the pixels"),
    (lambda x, r: jnp.sum((x - r) ** 2), "summed over the batch"),
    (lambda x, r: jnp.mean(jnp.sum(jnp.abs(x - r), axis=-1)), "L1"),
    (lambda x, r: jnp.mean(jnp.sqrt(jnp.sum((x - r) ** 2, axis=-1))), "square root"),
    (lambda x, r: jnp.sum((x - r) ** 2, axis=-1), "one number"),
    (lambda x, r: jnp.mean(jnp.sum((x - r) ** 3, axis=-1)), "should be"),
])
def test_reconstruction_loss_check_gives_the_matching_hint(wrong, hint):
    result = ex.check_reconstruction_loss(wrong)
    assert not result and hint in repr(result)


def test_reconstruction_loss_check_passes_the_right_answer():
    assert ex.check_reconstruction_loss(right_loss)


# ---------------------------------------------------------------- bottleneck
def test_bottleneck_check_passes_a_model_with_the_asked_code_size():
    assert ex.check_bottleneck(lambda d: MLPAutoencoder(d, hidden=(32,), rngs=nnx.Rngs(0)))


def test_bottleneck_check_hints_when_latent_dim_is_ignored():
    result = ex.check_bottleneck(lambda d: MLPAutoencoder(32, hidden=(32,), rngs=nnx.Rngs(0)))
    assert not result and "pass latent_dim on" in repr(result)


def test_bottleneck_check_hints_when_the_sigmoid_is_missing():
    class NoSigmoid(nnx.Module):
        def __init__(self, d):
            self.encoder = nnx.Linear(784, d, rngs=nnx.Rngs(0))
            self.decoder = nnx.Linear(d, 784, rngs=nnx.Rngs(1))

        def __call__(self, x):
            return self.decoder(self.encoder(x)) * 10

    result = ex.check_bottleneck(NoSigmoid)
    assert not result and "sigmoid" in repr(result)


# ---------------------------------------------------------------- encoder for another size
class GoodEncoder(nnx.Module):
    def __init__(self, in_features, latent_dim, *, rngs):
        self.hidden = nnx.Linear(in_features, 64, rngs=rngs)
        self.out = nnx.Linear(64, latent_dim, rngs=rngs)

    def __call__(self, x):
        return self.out(nnx.relu(self.hidden(x)))


class Fixed784Encoder(GoodEncoder):
    def __init__(self, in_features, latent_dim, *, rngs):
        super().__init__(784, latent_dim, rngs=rngs)


class OneLayerEncoder(nnx.Module):
    def __init__(self, in_features, latent_dim, *, rngs):
        self.out = nnx.Linear(in_features, latent_dim, rngs=rngs)

    def __call__(self, x):
        return self.out(x)


def test_encoder_check_passes_a_good_encoder():
    assert ex.check_encoder(GoodEncoder)


def test_encoder_check_hints_at_a_hard_coded_input_size():
    result = ex.check_encoder(Fixed784Encoder)
    assert not result and "instead of a fixed 784" in repr(result)


def test_encoder_check_asks_for_a_hidden_layer():
    result = ex.check_encoder(OneLayerEncoder)
    assert not result and "hidden layer" in repr(result)


# ================================================================ notebook 02
# ---------------------------------------------------------------- PCA reconstruction
def right_pca(x_train, x, d):
    mean = x_train.mean(0)
    c = np.linalg.svd(x_train - mean, full_matrices=False)[2][:d]
    return mean + (x - mean) @ c.T @ c


@pytest.mark.parametrize("wrong, hint", [
    (lambda xt, x, d: x @ np.linalg.svd(xt, full_matrices=False)[2][:d].T
     @ np.linalg.svd(xt, full_matrices=False)[2][:d], "centre first"),
    (lambda xt, x, d: right_pca(x, x, d), "fitted the components on x"),
    (lambda xt, x, d: right_pca(xt, x, d + 1), "off by one"),
    (lambda xt, x, d: right_pca(xt, x, d)[:3], "one reconstruction per row"),
    (lambda xt, x, d: right_pca(xt, x, d) * 1.1, "differs from PCA"),
])
def test_pca_check_gives_the_matching_hint(wrong, hint):
    result = ex.check_pca_reconstruction(wrong)
    assert not result and hint in repr(result)


def test_pca_check_passes_the_right_answer_and_sklearn():
    assert ex.check_pca_reconstruction(right_pca)
    assert ex.check_pca_reconstruction(
        lambda xt, x, d: (p := PCA(d).fit(xt)).inverse_transform(p.transform(x)))


# ---------------------------------------------------------------- AUROC
def right_auroc(s_in, s_out):
    diff = np.asarray(s_out)[:, None] - np.asarray(s_in)[None, :]
    return float(np.mean((diff > 0) + 0.5 * (diff == 0)))


@pytest.mark.parametrize("wrong, hint", [
    (lambda i, o: 1 - right_auroc(i, o), "roles are swapped"),
    (lambda i, o: float(np.mean(np.asarray(o)[:, None] > np.asarray(i)[None, :])), "ties"),
    (lambda i, o: float(np.mean(o) > np.mean(i)), "expected"),
])
def test_auroc_check_gives_the_matching_hint(wrong, hint):
    result = ex.check_auroc(wrong)
    assert not result and hint in repr(result)


def test_auroc_check_passes_the_right_answer():
    assert ex.check_auroc(right_auroc)


# ---------------------------------------------------------------- subspace overlap
def right_overlap(a, b):
    qa = np.linalg.qr(np.asarray(a, np.float64).T)[0].T
    qb = np.linalg.qr(np.asarray(b, np.float64).T)[0].T
    return float(np.sum((qa @ qb.T) ** 2) / len(qa))


@pytest.mark.parametrize("wrong, hint", [
    (lambda a, b: float(np.sum((a @ b.T) ** 2) / len(a)), "orthonormalise"),
    (lambda a, b: np.sqrt(right_overlap(a, b)), "square the cosines"),
    (lambda a, b: right_overlap(a, b) * len(a), "another basis must give 1"),
])
def test_subspace_check_gives_the_matching_hint(wrong, hint):
    result = ex.check_subspace_overlap(wrong)
    assert not result and hint in repr(result)


def test_subspace_check_passes_the_right_answer():
    assert ex.check_subspace_overlap(right_overlap)


# ================================================================ notebook 03
# ---------------------------------------------------------------- denoising loss
def right_dae_loss(model, x_clean, x_noisy):
    return jnp.mean(jnp.sum((x_clean - model(x_noisy)) ** 2, axis=-1))


@pytest.mark.parametrize("wrong, hint", [
    (lambda m, x, xn: jnp.mean(jnp.sum((xn - m(xn)) ** 2, axis=-1)), "CLEAN image"),
    (lambda m, x, xn: jnp.mean(jnp.sum((x - m(x)) ** 2, axis=-1)), "NOISY image"),
    (lambda m, x, xn: jnp.mean(jnp.sum((xn - m(x)) ** 2, axis=-1)), "swapped"),
    (lambda m, x, xn: jnp.mean((x - m(xn)) ** 2), "sum the squared errors"),
    (lambda m, x, xn: jnp.sum((x - m(xn)) ** 2, axis=-1), "one number"),
    (lambda m, x, xn: jnp.mean(jnp.sum(jnp.abs(x - m(xn)), axis=-1)), "expected"),
])
def test_dae_loss_check_gives_the_matching_hint(wrong, hint):
    result = ex.check_dae_loss(wrong)
    assert not result and hint in repr(result)


def test_dae_loss_check_passes_the_right_answer():
    assert ex.check_dae_loss(right_dae_loss)


# ---------------------------------------------------------------- masking noise
def right_masking(x, level, key):
    return jnp.where(jax.random.uniform(key, x.shape) < level, 0.0, x)


def numpy_masking(x, level, key):
    return jnp.where(np.random.default_rng().random(x.shape) < level, 0.0, x)


@pytest.mark.parametrize("wrong, hint", [
    (lambda x, level, key: jnp.where(jax.random.uniform(key, x.shape) < 1 - level, 0.0, x),
     "probability of being MASKED"),
    (lambda x, level, key: jnp.where(jax.random.uniform(key, x.shape) < level, 0.0,
                                     x / (1 - level + 1e-9)), "do not scale"),
    (lambda x, level, key: jnp.where(jax.random.uniform(key, x.shape[1:]) < level, 0.0, x),
     "same mask"),
    (lambda x, level, key: jnp.where(jax.random.uniform(key, x.shape) < level / 2, 0.0, x),
     "should be 0"),
    (numpy_masking, "jax.jit"),
])
def test_masking_check_gives_the_matching_hint(wrong, hint):
    result = ex.check_masking_noise(wrong)
    assert not result and hint in repr(result)


def test_masking_check_passes_the_right_answer_and_the_course_function():
    assert ex.check_masking_noise(right_masking)
    assert ex.check_masking_noise(lambda x, level, key: add_noise(x, "masking", level, key=key))


# ---------------------------------------------------------------- PSNR
def right_psnr(x, x_rec):
    mse = np.mean((np.asarray(x, np.float64) - np.asarray(x_rec, np.float64)) ** 2, axis=1)
    return float(np.mean(10 * np.log10(1.0 / mse)))


@pytest.mark.parametrize("wrong, hint", [
    (lambda x, r: float(10 * np.log10(1 / np.mean((x - r) ** 2))), "log of a mean"),
    (lambda x, r: 2 * right_psnr(x, r), "10·log10"),
    (lambda x, r: -right_psnr(x, r), "sign is flipped"),
    (lambda x, r: right_psnr(x, r) + 1, "expected"),
])
def test_psnr_check_gives_the_matching_hint(wrong, hint):
    result = ex.check_psnr(wrong)
    assert not result and hint in repr(result)


def test_psnr_check_passes_the_right_answer_and_the_metrics_function():
    assert ex.check_psnr(right_psnr)
    assert ex.check_psnr(psnr)


# ---------------------------------------------------------------- notebook 04: sparse loss
def right_sparse_loss(model, x, lam):
    h = model.encode(x)
    return (jnp.mean(jnp.sum((x - model.decode(h)) ** 2, axis=-1))
            + lam * jnp.mean(jnp.sum(jnp.abs(h), axis=-1)))


def _rec(model, x):
    return jnp.mean(jnp.sum((x - model(x)) ** 2, axis=-1))


@pytest.mark.parametrize("wrong, hint", [
    (lambda m, x, lam: _rec(m, x), "reconstruction loss alone"),
    (lambda m, x, lam: _rec(m, x) + lam * jnp.mean(jnp.sum(m.encode(x) ** 2, -1)), "squares"),
    (lambda m, x, lam: _rec(m, x) + lam * jnp.mean(jnp.sum(m.encode(x), -1)), "absolute"),
    (lambda m, x, lam: _rec(m, x) + lam * jnp.mean(jnp.abs(m.encode(x))), "sum |h_j|"),
    (lambda m, x, lam: lam * _rec(m, x) + jnp.mean(jnp.sum(jnp.abs(m.encode(x)), -1)),
     "multiplies the penalty"),
])
def test_sparse_loss_check_gives_the_matching_hint(wrong, hint):
    # Each call draws a fresh model and batch: ten calls, so that a draw on which two mistakes
    # give nearly the same value (once: the signed sum of h near 0) shows up here, not in class.
    for _ in range(10):
        result = ex.check_sparse_loss(wrong)
        assert not result and hint in repr(result)


def test_sparse_loss_check_passes_the_right_answer():
    assert ex.check_sparse_loss(right_sparse_loss)


# ---------------------------------------------------------------- contractive penalty
def right_contractive(kernel, bias, x):
    h = jax.nn.sigmoid(x @ kernel + bias)
    return jnp.mean(jnp.sum((h * (1 - h)) ** 2 * jnp.sum(kernel**2, axis=0), axis=-1))


def _h(kernel, bias, x):
    return jax.nn.sigmoid(x @ kernel + bias)


@pytest.mark.parametrize("wrong, hint", [
    (lambda k, b, x: jnp.mean(jnp.sum(_h(k, b, x) * (1 - _h(k, b, x)) * jnp.sum(k**2, 0), -1)),
     "square the sigmoid"),
    (lambda k, b, x: jnp.mean(jnp.sum((_h(k, b, x) * (1 - _h(k, b, x))) ** 2
                                      * jnp.sqrt(jnp.sum(k**2, 0)), -1)), "SQUARED norm"),
    (lambda k, b, x: jnp.sqrt(right_contractive(k, b, x)), "no square root"),
    (lambda k, b, x: right_contractive(k, b, x) * len(x), "average over the examples"),
    (lambda k, b, x: jnp.mean(jnp.sum(_h(k, b, x) ** 2 * jnp.sum(k**2, 0), -1)), "h(1 − h)"),
    (lambda k, b, x: jnp.mean(jnp.sum(k**2, 1)), "not yet"),  # crashes or is wrong
])
def test_contractive_check_gives_the_matching_hint(wrong, hint):
    result = ex.check_contractive_penalty(wrong)
    assert not result and hint in repr(result)


def test_contractive_check_passes_the_closed_form_and_the_package_version():
    assert ex.check_contractive_penalty(right_contractive)
    assert ex.check_contractive_penalty(contractive_penalty_sigmoid)


# ---------------------------------------------------------------- KL sparsity
def _kl(p, q):
    return p * jnp.log(p / q) + (1 - p) * jnp.log((1 - p) / (1 - q))


@pytest.mark.parametrize("wrong, hint", [
    (lambda h, rho: jnp.mean(jnp.sum(_kl(rho, h), -1)), "FIRST"),
    (lambda h, rho: jnp.sum(_kl(jnp.mean(h, 0), rho)), "swapped"),
    (lambda h, rho: jnp.mean(_kl(rho, jnp.mean(h, 0))), "do not average"),
    (lambda h, rho: jnp.sum(rho * jnp.log(rho / jnp.mean(h, 0))), "second term"),
])
def test_kl_sparsity_check_gives_the_matching_hint(wrong, hint):
    result = ex.check_kl_sparsity(wrong)
    assert not result and hint in repr(result)


def test_kl_sparsity_check_passes_the_right_answer_and_the_package_version():
    assert ex.check_kl_sparsity(lambda h, rho: jnp.sum(_kl(rho, jnp.mean(h, 0))))
    assert ex.check_kl_sparsity(kl_sparsity)


# ---------------------------------------------------------------- notebook 05
def right_transposed_size(i, k, s, p, output_padding):
    return (i - 1) * s - 2 * p + k + output_padding


@pytest.mark.parametrize("wrong, hint", [
    (lambda i, k, s, p, a: (i + 2 * p - k) // s + 1, "convolution's formula"),
    (lambda i, k, s, p, a: (i - 1) * s - 2 * p + k, "output_padding"),
    (lambda i, k, s, p, a: (i - 1) * s - p + k + a, "2p"),
    (lambda i, k, s, p, a: i * s - 2 * p + k + a, "(i − 1)·s + 1"),
    (lambda i, k, s, p, a: float((i - 1) * s - 2 * p + k + a), "plain int"),
])
def test_transposed_output_size_check_gives_the_matching_hint(wrong, hint):
    result = ex.check_transposed_output_size(wrong)
    assert not result and hint in repr(result)


def test_transposed_output_size_check_passes_the_formula_and_the_package_version():
    assert ex.check_transposed_output_size(right_transposed_size)
    assert ex.check_transposed_output_size(conv_transpose_output_size)


def test_stack_sizes_match_real_flax_layers_and_the_check():
    rngs = nnx.Rngs(0)
    x = jnp.zeros((1, 28, 28, 1))
    sizes = []
    for kind, k, s, pad in ex.STACK_05:
        cls = nnx.Conv if kind == "conv" else nnx.ConvTranspose
        x = cls(x.shape[-1], 2, (k, k), strides=s, padding=pad, rngs=rngs)(x)
        sizes.append(x.shape[1])
    assert sizes == [24, 12, 6, 12, 16]
    assert ex.check_stack_sizes(sizes)
    assert ex.check_stack_sizes(lambda: sizes)
    assert "not attempted" in repr(ex.check_stack_sizes(lambda: (_ for _ in ()).throw(
        NotImplementedError)))


@pytest.mark.parametrize("wrong, hint", [
    ([23, 11, 6, 12, 16], "28 − 5 + 1"),
    ([24, 13, 7, 14, 18], "floor"),
    ([24, 12, 6, 5, 1], "grows the image"),
    ([24, 12, 6, 12, 8], "max(k, s)"),
    ([24, 12, 6], "five"),
])
def test_stack_sizes_check_points_at_the_first_wrong_layer(wrong, hint):
    result = ex.check_stack_sizes(wrong)
    assert not result and hint.replace("five", "5 numbers") in repr(result)


def test_insert_zeros_check():
    def right(x, s):
        n, h, w, c = x.shape
        return jnp.zeros((n, (h - 1) * s + 1, (w - 1) * s + 1, c), x.dtype).at[:, ::s, ::s].set(x)

    def trailing(x, s):
        n, h, w, c = x.shape
        return jnp.zeros((n, h * s, w * s, c), x.dtype).at[:, ::s, ::s].set(x)

    def shifted(x, s):
        return jnp.roll(right(x, s), 1, axis=1)

    assert ex.check_insert_zeros(right)
    assert "nothing comes after the last pixel" in repr(ex.check_insert_zeros(trailing))
    assert not ex.check_insert_zeros(shifted)
    assert "not attempted" in repr(ex.check_insert_zeros(lambda x, s: (_ for _ in ()).throw(
        NotImplementedError)))


# ---------------------------------------------------------------- notebook 06
def test_d_loss_check():
    def right(r, f):
        return -jnp.mean(jax.nn.log_sigmoid(r)) - jnp.mean(jax.nn.log_sigmoid(-f))

    def naive(r, f):
        return -jnp.mean(jnp.log(jax.nn.sigmoid(r))) - jnp.mean(jnp.log(1 - jax.nn.sigmoid(f)))

    assert ex.check_d_loss(right)
    assert "log_sigmoid" in repr(ex.check_d_loss(naive))
    assert "sign is flipped" in repr(ex.check_d_loss(lambda r, f: -right(r, f)))
    assert "swapped" in repr(ex.check_d_loss(lambda r, f: right(f, r)))


def test_nonsaturating_g_loss_check():
    def right(f):
        return -jnp.mean(jax.nn.log_sigmoid(f))

    assert ex.check_nonsaturating_g_loss(right)
    assert "saturating" in repr(ex.check_nonsaturating_g_loss(
        lambda f: jnp.mean(jax.nn.log_sigmoid(-f))))
    assert "sign is flipped" in repr(ex.check_nonsaturating_g_loss(lambda f: -right(f)))
    assert "not finite" in repr(ex.check_nonsaturating_g_loss(
        lambda f: -jnp.mean(jnp.log(jax.nn.sigmoid(f)))))


def test_optimal_discriminator_check():
    assert ex.check_optimal_discriminator(lambda p, q: p / (p + q))
    assert ex.check_optimal_discriminator(optimal_discriminator)
    assert "probability of *fake*" in repr(ex.check_optimal_discriminator(lambda p, q: q / (p + q)))
    assert not ex.check_optimal_discriminator(lambda p, q: p)


# ---------------------------------------------------------------- notebook 07
def right_kl(mq, lq, mp, lp):
    return 0.5 * jnp.sum(lp - lq + (jnp.exp(lq) + (mq - mp) ** 2) / jnp.exp(lp) - 1.0, axis=-1)


@pytest.mark.parametrize("wrong, hint", [
    (lambda mq, lq, mp, lp: right_kl(mp, lp, mq, lq), "swapped"),
    (lambda mq, lq, mp, lp: 0.5 * (lp - lq + (jnp.exp(lq) + (mq - mp) ** 2) / jnp.exp(lp) - 1),
     "one KL per example"),
    (lambda mq, lq, mp, lp: jnp.sum(right_kl(mq, lq, mp, lp)), "not over the batch"),
    (lambda mq, lq, mp, lp: right_kl(mq, lq, mp, lp) / mq.shape[-1], "instead of averaging"),
    (lambda mq, lq, mp, lp: 2 * right_kl(mq, lq, mp, lp), "1/2 is missing"),
    (lambda mq, lq, mp, lp: right_kl(mq, lq, mp, lp) + mq.shape[-1] / 2, "−1 per dimension"),
    (lambda mq, lq, mp, lp: right_kl(mq, lq, 0 * mp, 0 * lp), "N(0, I)"),
    (lambda mq, lq, mp, lp: right_kl(mq, 2 * lq, mp, 2 * lp), "exp(logvar)"),
    (lambda mq, lq, mp, lp: right_kl(mq, lq, mp, lp) + 0.1, "Per dimension"),
])
def test_diagonal_gaussian_kl_check_gives_the_matching_hint(wrong, hint):
    result = ex.check_diagonal_gaussian_kl(wrong)
    assert not result and hint in repr(result)


def test_diagonal_gaussian_kl_check_passes_the_formula_and_matches_the_standard_normal_case():
    assert ex.check_diagonal_gaussian_kl(right_kl)
    rng = np.random.default_rng(0)
    mean, logvar = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    standard = 0.5 * np.sum(mean**2 + np.exp(logvar) - logvar - 1, axis=-1)
    np.testing.assert_allclose(ex.diag_gaussian_kl(mean, logvar, 0 * mean, 0 * logvar), standard)


def test_diagonal_gaussian_kl_matches_a_monte_carlo_estimate():
    rng = np.random.default_rng(1)
    mq, lq, mp, lp = (rng.normal(size=3) * 0.5 for _ in range(4))
    z = mq + np.exp(0.5 * lq) * rng.normal(size=(400_000, 3))

    def log_density(v, m, lv):
        return -0.5 * np.sum((v - m) ** 2 / np.exp(lv) + lv + np.log(2 * np.pi), axis=-1)

    estimate = np.mean(log_density(z, mq, lq) - log_density(z, mp, lp))
    assert abs(estimate - ex.diag_gaussian_kl(mq, lq, mp, lp)) < 0.02


def right_log_likelihood(logits, x):
    return jnp.sum(x * jax.nn.log_sigmoid(logits) + (1 - x) * jax.nn.log_sigmoid(-logits), -1)


@pytest.mark.parametrize("wrong, hint", [
    (lambda lg, x: -right_log_likelihood(lg, x), "binary cross-entropy"),
    (lambda lg, x: right_log_likelihood(lg, x) / x.shape[-1], "instead of averaging"),
    (lambda lg, x: jnp.sum(right_log_likelihood(lg, x)), "one log-likelihood per image"),
    (lambda lg, x: jnp.sum(x * jnp.log(jax.nn.sigmoid(lg))
                           + (1 - x) * jnp.log(1 - jax.nn.sigmoid(lg)), -1), "not finite"),
    (lambda lg, x: jnp.sum(x * lg - jax.nn.softplus(lg), -1) + 0.5, "yours"),
])
def test_bernoulli_log_likelihood_check_gives_the_matching_hint(wrong, hint):
    result = ex.check_bernoulli_log_likelihood(wrong)
    assert not result and hint in repr(result)


def test_bernoulli_log_likelihood_check_passes_the_right_answer_and_optax():
    assert ex.check_bernoulli_log_likelihood(right_log_likelihood)
    assert ex.check_bernoulli_log_likelihood(
        lambda lg, x: -jnp.sum(optax.sigmoid_binary_cross_entropy(lg, x), -1))


def test_bernoulli_log_likelihood_check_hints_at_probabilities_used_as_logits():
    def treats_logits_as_probabilities(lg, x):
        p = jax.nn.sigmoid(lg)  # the student applies sigmoid to already-"probabilities"
        return jnp.sum(x * p - jax.nn.softplus(p), -1)

    result = ex.check_bernoulli_log_likelihood(treats_logits_as_probabilities)
    assert not result and "sigmoid(logits)" in repr(result)


def right_gaussian_nll(x, mean, s):
    return jnp.sum((x - mean) ** 2 / (2 * s**2) + 0.5 * jnp.log(2 * jnp.pi * s**2), axis=-1)


@pytest.mark.parametrize("wrong, hint", [
    (lambda x, m, s: -right_gaussian_nll(x, m, s), "sign is flipped"),
    (lambda x, m, s: jnp.sum((x - m) ** 2, -1), "plain squared error"),
    (lambda x, m, s: jnp.sum((x - m) ** 2 / (2 * s**2), -1), "normalising constant"),
    (lambda x, m, s: jnp.sum((x - m) ** 2 / s**2 + 0.5 * jnp.log(2 * jnp.pi * s**2), -1),
     "not s²"),
    (lambda x, m, s: jnp.sum((x - m) ** 2 / (2 * s) + 0.5 * jnp.log(2 * jnp.pi * s), -1),
     "variance is s²"),
    (lambda x, m, s: right_gaussian_nll(x, m, s) / x.shape[-1], "instead of averaging"),
    (lambda x, m, s: jnp.sum(right_gaussian_nll(x, m, s)), "one value per image"),
    (lambda x, m, s: jnp.sum((x - m) ** 2 / (2 * s**2) + 0.5 * jnp.log(2 * jnp.pi), -1), "yours"),
])
def test_gaussian_nll_check_gives_the_matching_hint(wrong, hint):
    result = ex.check_gaussian_nll(wrong)
    assert not result and hint in repr(result)


def test_gaussian_nll_check_passes_the_right_answer():
    assert ex.check_gaussian_nll(right_gaussian_nll)


@pytest.mark.parametrize("check", [ex.check_diagonal_gaussian_kl,
                                   ex.check_bernoulli_log_likelihood, ex.check_gaussian_nll])
def test_notebook07_checks_never_raise(check):
    def stub(*args):
        raise NotImplementedError

    assert "not attempted" in repr(check(stub))
    assert "raised" in repr(check(lambda *a: 1 / 0))
    assert not check(lambda *a: "not an array")


# ---------------------------------------------------------------- notebook 06: slerp
def right_slerp(z0, z1, t):
    omega = jnp.arccos(jnp.dot(z0, z1) / (jnp.linalg.norm(z0) * jnp.linalg.norm(z1)))
    t = jnp.asarray(t)[:, None]
    return (jnp.sin((1 - t) * omega) * z0 + jnp.sin(t * omega) * z1) / jnp.sin(omega)


def test_slerp_check_passes_the_right_answer_and_keeps_the_norm():
    assert ex.check_slerp(right_slerp)
    z0, z1 = jnp.array([3.0, 0.0, 0.0]), jnp.array([0.0, 0.0, 3.0])
    np.testing.assert_allclose(jnp.linalg.norm(right_slerp(z0, z1, jnp.linspace(0, 1, 5)), axis=1),
                               3.0, rtol=1e-6)


@pytest.mark.parametrize("wrong, hint", [
    (lambda z0, z1, t: (1 - jnp.asarray(t)[:, None]) * z0 + jnp.asarray(t)[:, None] * z1,
     "linear interpolation"),
    (lambda z0, z1, t: right_slerp(z0, z1, t).T, "axes are swapped"),
    (lambda z0, z1, t: right_slerp(z1, z0, t), "swapped"),
    (lambda z0, z1, t: right_slerp(z0, z1, t)[:1], "one row per value of t"),
    (lambda z0, z1, t: right_slerp(z0 / jnp.linalg.norm(z0), z1 / jnp.linalg.norm(z1), t),
     "ends are wrong"),
])
def test_slerp_check_gives_the_matching_hint(wrong, hint):
    result = ex.check_slerp(wrong)
    assert not result and hint in repr(result)


def test_slerp_check_reports_an_untouched_stub_and_a_crash():
    def stub(z0, z1, t):
        raise NotImplementedError

    assert "not attempted" in repr(ex.check_slerp(stub))
    assert "raised" in repr(ex.check_slerp(lambda z0, z1, t: 1 / 0))


# ---------------------------------------------------------------- notebook 08
def _stub(*args):
    raise NotImplementedError


def test_conditional_input_check():
    def right(z, labels):
        return jnp.concatenate([z, jax.nn.one_hot(labels, 10)], axis=-1)

    assert ex.check_conditional_input(right)
    wrong = {
        "one number": lambda z, y: jnp.concatenate([z, y[:, None].astype(z.dtype)], axis=-1),
        "other order": lambda z, y: jnp.concatenate([jax.nn.one_hot(y, 10), z], axis=-1),
        "one-hot label": lambda z, y: jnp.concatenate([z, jax.nn.one_hot(y + 1, 10)], axis=-1),
        "shape (5, 13)": lambda z, y: jnp.concatenate([z, jax.nn.one_hot(y, 11)], axis=-1),
    }
    for hint, fn in wrong.items():
        result = ex.check_conditional_input(fn)
        assert not result and hint in repr(result), (hint, repr(result))
    assert "not attempted" in repr(ex.check_conditional_input(_stub))


def test_pix2pix_g_loss_check():
    def right(logits, fakes, targets, lam):
        return -jnp.mean(jax.nn.log_sigmoid(logits)) + lam * jnp.mean(jnp.abs(fakes - targets))

    def adv(logits):
        return -jnp.mean(jax.nn.log_sigmoid(logits))

    assert ex.check_pix2pix_g_loss(right)
    wrong = {
        "underflow": lambda lg, f, t, lam: -jnp.mean(jnp.log(jax.nn.sigmoid(lg)))
        + lam * jnp.mean(jnp.abs(f - t)),
        "saturating": lambda lg, f, t, lam: jnp.mean(jax.nn.log_sigmoid(-lg))
        + lam * jnp.mean(jnp.abs(f - t)),
        "not weighted": lambda lg, f, t, lam: adv(lg) + jnp.mean(jnp.abs(f - t)),
        "not the adversarial": lambda lg, f, t, lam: lam * adv(lg) + jnp.mean(jnp.abs(f - t)),
        "squared error": lambda lg, f, t, lam: adv(lg) + lam * jnp.mean((f - t) ** 2),
        "over pixels too": lambda lg, f, t, lam: adv(lg)
        + lam * jnp.sum(jnp.abs(f - t)) / f.shape[0],
        "every patch": lambda lg, f, t, lam: -jnp.mean(jax.nn.log_sigmoid(lg[:, 3, 3]))
        + lam * jnp.mean(jnp.abs(f - t)),
        "one number": lambda lg, f, t, lam: -jax.nn.log_sigmoid(lg)
        + lam * jnp.mean(jnp.abs(f - t)),
    }
    for hint, fn in wrong.items():
        result = ex.check_pix2pix_g_loss(fn)
        assert not result and hint in repr(result), (hint, repr(result))
    assert "not attempted" in repr(ex.check_pix2pix_g_loss(_stub))


def test_patch_receptive_field_check():
    def right(layers):
        field, jump = 1, 1
        for k, s in layers:
            field += (k - 1) * jump
            jump *= s
        return field

    result = ex.check_patch_receptive_field(right)
    assert result and f"{receptive_field(ex.PATCH_DISCRIMINATOR_08)}×" in repr(result)
    assert receptive_field(ex.PATCH_DISCRIMINATOR_08) == 18
    wrong = {
        "the stride matters": lambda layers: 1 + sum(k - 1 for k, _ in layers),
        "strides *before* it": lambda layers: 1 + sum(
            (k - 1) * int(np.prod([s for _, s in layers[: i + 1]]))
            for i, (k, _) in enumerate(layers)),
        "3×3 patch": lambda layers: sum(k for k, _ in layers) + 1,
        "5×5": lambda layers: sum(k for k, _ in layers),
    }
    for hint, fn in wrong.items():
        result = ex.check_patch_receptive_field(fn)
        assert not result and hint in repr(result), (hint, repr(result))
    assert "not attempted" in repr(ex.check_patch_receptive_field(_stub))


def test_cycle_loss_check():
    def mae(a, b):
        return jnp.mean(jnp.abs(a - b))

    def right(f, g, x, y):
        return mae(g(f(x)), x) + mae(f(g(y)), y)

    assert ex.check_cycle_loss(right)
    wrong = {
        "add the Y → X → Y cycle": lambda f, g, x, y: mae(g(f(x)), x),
        "add the X → Y → X cycle": lambda f, g, x, y: mae(f(g(y)), y),
        "not its pair": lambda f, g, x, y: mae(f(x), y) + mae(g(y), x),
        "uses both translators": lambda f, g, x, y: mae(f(f(x)), x) + mae(g(g(y)), y),
        "squared error": lambda f, g, x, y: jnp.mean((g(f(x)) - x) ** 2)
        + jnp.mean((f(g(y)) - y) ** 2),
        "do not average": lambda f, g, x, y: (mae(g(f(x)), x) + mae(f(g(y)), y)) / 2,
        "one number": lambda f, g, x, y: jnp.abs(g(f(x)) - x) + jnp.abs(f(g(y)) - y),
    }
    for hint, fn in wrong.items():
        result = ex.check_cycle_loss(fn)
        assert not result and hint in repr(result), (hint, repr(result))
    assert "not attempted" in repr(ex.check_cycle_loss(_stub))


@pytest.mark.parametrize("check", [ex.check_conditional_input, ex.check_pix2pix_g_loss,
                                   ex.check_patch_receptive_field, ex.check_cycle_loss])
def test_notebook_08_checks_never_raise(check):
    for answer in (None, 42, lambda *a: None, lambda *a: "text", lambda *a: 1 / 0):
        result = check(answer)
        assert not result and isinstance(repr(result), str)


# ---------------------------------------------------------------- notebook 09
def right_q_sample(x0, t, eps, alpha_bar):
    ab = alpha_bar[t][:, None]
    return jnp.sqrt(ab) * x0 + jnp.sqrt(1 - ab) * eps


def right_ddpm_loss(eps_model, x0, t, eps, alpha_bar):
    x_t = right_q_sample(x0, t, eps, alpha_bar)
    return jnp.mean(jnp.sum((eps - eps_model(x_t, t)) ** 2, axis=-1))


def right_reverse_step(eps_model, x_t, t, z, betas, alpha_bar):
    eps = eps_model(x_t, jnp.full((len(x_t),), t, jnp.int32))
    mean = (x_t - betas[t] / jnp.sqrt(1 - alpha_bar[t]) * eps) / jnp.sqrt(1 - betas[t])
    return mean + (jnp.sqrt(betas[t]) * z if t > 0 else 0.0)


def test_linear_schedule_matches_its_definition():
    betas, alphas, alpha_bar = ex.linear_schedule(50, 1e-3, 0.1)
    np.testing.assert_allclose(betas[[0, -1]], [1e-3, 0.1], rtol=1e-6)
    np.testing.assert_allclose(alphas, 1 - betas, rtol=1e-6)
    np.testing.assert_allclose(alpha_bar, np.cumprod(1 - betas.astype(np.float64)), rtol=1e-5)
    assert np.all(np.diff(alpha_bar) < 0)
    with pytest.raises(ValueError, match="T must be"):
        ex.linear_schedule(1)


def test_forward_sample_matches_the_empirical_moments_of_the_formula():
    # q(x_t | x_0) = N(sqrt(ab) x0, (1 - ab) I): the right answer's samples have those moments
    _, _, alpha_bar = ex.linear_schedule(100)
    x0 = jnp.full((20_000, 2), 1.5)
    t = jnp.full((20_000,), 30, jnp.int32)
    eps = jax.random.normal(jax.random.key(0), x0.shape)
    x_t = np.asarray(right_q_sample(x0, t, eps, jnp.asarray(alpha_bar)))
    np.testing.assert_allclose(x_t.mean(0), 1.5 * np.sqrt(alpha_bar[30]), atol=0.03)
    np.testing.assert_allclose(x_t.var(0), 1 - alpha_bar[30], rtol=0.05)


@pytest.mark.parametrize("check, right", [(ex.check_forward_sample, right_q_sample),
                                          (ex.check_ddpm_loss, right_ddpm_loss),
                                          (ex.check_reverse_step, right_reverse_step)])
def test_notebook09_checks_pass_the_right_answer(check, right):
    result = check(right)
    assert result and repr(result).startswith("✅"), repr(result)


def test_ddpm_loss_check_accepts_the_mean_over_coordinates_too():
    def per_coordinate(m, x0, t, e, ab):
        return jnp.mean((e - m(right_q_sample(x0, t, e, ab), t)) ** 2)

    assert ex.check_ddpm_loss(per_coordinate)


@pytest.mark.parametrize("wrong, hint", [
    (lambda x0, t, e, ab: right_q_sample(x0, 0 * t, e, ab), "same noise level"),
    (lambda x0, t, e, ab: ab[t][:, None] * x0 + (1 - ab[t][:, None]) * e, "they are variances"),
    (lambda x0, t, e, ab: right_q_sample(e, t, x0, ab), "swapped"),
    (lambda x0, t, e, ab: right_q_sample(x0, t, e, ab)[:1], "one noisy row per row"),
])
def test_forward_sample_check_gives_the_matching_hint(wrong, hint):
    result = ex.check_forward_sample(wrong)
    assert not result and hint in repr(result), repr(result)


def test_forward_sample_check_hints_at_one_step_of_the_chain():
    def one_step(x0, t, e, ab):
        betas = 1 - ab / jnp.concatenate([jnp.ones(1), ab[:-1]])
        b = betas[t][:, None]
        return jnp.sqrt(1 - b) * x0 + jnp.sqrt(b) * e

    result = ex.check_forward_sample(one_step)
    assert not result and "one step of the chain" in repr(result), repr(result)


@pytest.mark.parametrize("wrong, hint", [
    (lambda m, x0, t, e, ab: jnp.mean(jnp.sum((x0 - m(right_q_sample(x0, t, e, ab), t)) ** 2, -1)),
     "predicts the noise"),
    (lambda m, x0, t, e, ab: jnp.mean(jnp.sum((e - m(x0, t)) ** 2, -1)), "not the clean x0"),
    (lambda m, x0, t, e, ab: jnp.mean(jnp.sum((e - m(right_q_sample(x0, t, e, ab), 0 * t)) ** 2,
                                              -1)), "pass each row's step"),
    (lambda m, x0, t, e, ab: jnp.mean(jnp.sum(
        (e - m(ab[t][:, None] * x0 + (1 - ab[t][:, None]) * e, t)) ** 2, -1)), "not by ᾱ_t"),
    (lambda m, x0, t, e, ab: jnp.sum((e - m(right_q_sample(x0, t, e, ab), t)) ** 2, -1),
     "return one number"),
])
def test_ddpm_loss_check_gives_the_matching_hint(wrong, hint):
    result = ex.check_ddpm_loss(wrong)
    assert not result and hint in repr(result), repr(result)


def _reverse(m, x, t, z, b, ab, *, noise=True, coef_root=True, divisor="alpha", sd=True,
             at_zero=False):
    eps = m(x, jnp.full((len(x),), t, jnp.int32))
    coef = b[t] / (jnp.sqrt(1 - ab[t]) if coef_root else 1 - ab[t])
    mean = (x - coef * eps) / jnp.sqrt(1 - b[t] if divisor == "alpha" else ab[t])
    scale = jnp.sqrt(b[t]) if sd else b[t]
    return mean + (scale * z if noise and (t > 0 or at_zero) else 0.0)


@pytest.mark.parametrize("options, hint", [
    ({"noise": False}, "add the noise"),
    ({"sd": False}, "standard deviation is √β_t"),
    ({"coef_root": False}, "square root of 1 − ᾱ_t"),
    ({"divisor": "alpha_bar"}, "not by √ᾱ_t"),
    ({"at_zero": True}, "no noise is added to the final sample"),
])
def test_reverse_step_check_gives_the_matching_hint(options, hint):
    result = ex.check_reverse_step(lambda *a: _reverse(*a, **options))
    assert not result and hint in repr(result), repr(result)


@pytest.mark.parametrize("check", [ex.check_forward_sample, ex.check_ddpm_loss,
                                   ex.check_reverse_step, ex.check_ddpm_training])
def test_notebook09_checks_never_raise(check):
    def stub(*args):
        raise NotImplementedError

    assert "not attempted" in repr(check(stub))
    assert "raised" in repr(check(lambda *a: 1 / 0))


def test_ddpm_training_hints_when_the_step_does_not_update():
    def no_update(model, optimizer, x0, key, alpha_bar):
        t = jax.random.randint(key, (len(x0),), 0, len(alpha_bar))
        return jnp.mean(jnp.sum(model(x0, t) ** 2, -1))

    result = ex.check_ddpm_training(no_update)
    assert not result and "left the parameters unchanged" in repr(result), repr(result)
