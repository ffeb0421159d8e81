"""Self-checks for the notebooks' exercises.

Each ``check_*`` function takes the student's answer, tries it on small inputs and returns a
``CheckResult`` that Jupyter shows as one line: "✅ correct" or "❌ not yet" with a hint
aimed at the most likely mistake. A check never raises, so a notebook with an unfinished
exercise still runs top to bottom.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx


class Hint(AssertionError):
    """Raised inside a check when the answer is wrong; its message is the hint shown."""


def expect(condition: bool, hint: str) -> None:
    """Fail the running check with ``hint`` unless ``condition`` holds."""
    if not condition:
        raise Hint(hint)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: ``passed`` and the line shown to the student."""

    name: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        mark = "✅" if self.passed else "❌"
        return f"{mark} {self.name}: {self.message}"

    def _repr_html_(self) -> str:
        color = "#1a7f37" if self.passed else "#b42318"
        return f'<span style="color:{color}">{html.escape(repr(self))}</span>'


def run_check(name: str, body: Callable[[], str | None]) -> CheckResult:
    """Run ``body()`` and turn its outcome into a ``CheckResult``.

    ``body`` raises ``Hint`` for a wrong answer and returns an optional success message.
    ``NotImplementedError`` means the stub is untouched; any other error is reported as such.
    """
    try:
        message = body()
    except NotImplementedError:
        return CheckResult(name, False, "not attempted yet: replace `raise NotImplementedError` "
                                        "with your code, run that cell, then this one.")
    except Hint as hint:
        return CheckResult(name, False, f"not yet. Hint: {hint}")
    except Exception as err:  # the student's code crashed: say where to look
        return CheckResult(name, False, f"not yet: your code raised {type(err).__name__}: {err}")
    return CheckResult(name, True, message or "correct!")


def _close(a: object, b: object, rtol: float = 1e-4) -> bool:
    return bool(np.allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                            rtol=rtol, atol=1e-6))


# --------------------------------------------------------------------------- notebook 01
def check_reconstruction_loss(loss_fn: Callable[[jax.Array, jax.Array], jax.Array]) -> CheckResult:
    """``loss_fn(x, x_rec)`` must be ‖x − x'‖² summed over pixels, averaged over the batch.

    x, x_rec: float32[N, 784] in [0, 1]; the answer is a scalar that ``jax.grad`` can go through.
    """

    def body() -> str:
        rng = np.random.default_rng(0)
        x = jnp.asarray(rng.random((8, 784), dtype=np.float32))
        x_rec = jnp.asarray(rng.random((8, 784), dtype=np.float32))
        out = loss_fn(x, x_rec)
        expect(np.ndim(out) == 0, f"return one number for the whole batch, got shape "
                                  f"{np.shape(out)}: average the per-image losses.")
        diff = np.asarray(x, np.float64) - np.asarray(x_rec, np.float64)
        right = (diff**2).sum(1).mean()
        expect(not _close(out, (diff**2).mean()), "you averaged over the pixels too. ‖x − x'‖² "
               "sums the squared errors over the 784 pixels of an image; average only over images.")
        expect(not _close(out, (diff**2).sum()), "you summed over the batch too: average the "
               "per-image sums over the images, so the loss does not grow with the batch size.")
        expect(not _close(out, np.abs(diff).sum(1).mean()), "that is the L1 distance: square the "
               "differences instead of taking their absolute value.")
        expect(not _close(out, np.sqrt((diff**2).sum(1)).mean()), "‖x − x'‖² is the *squared* "
               "norm: do not take the square root.")
        expect(_close(out, right), f"for this batch the loss should be {right:.4f}, yours gives "
               f"{float(out):.4f}. Compute ((x - x_rec) ** 2).sum over pixels, then the mean.")
        expect(_close(loss_fn(x, x), 0.0), "a perfect reconstruction must have loss 0.")
        grad = jax.grad(lambda r: loss_fn(x, r))(x_rec)
        expect(_close(grad, 2 * (x_rec - x) / x.shape[0]), "the gradient is off: use jax.numpy "
               "(jnp) operations so that JAX can differentiate the loss.")
        return "correct! This is the loss the notebook trains with."

    return run_check("reconstruction loss", body)


def check_bottleneck(make_autoencoder: Callable[[int], nnx.Module]) -> CheckResult:
    """``make_autoencoder(D)`` must return a model with ``encoder``/``decoder`` and a D-wide code.

    The model maps float32[N, 784] → float32[N, 784] in [0, 1]; ``model.encoder`` gives [N, D].
    """

    def body() -> str:
        x = jnp.asarray(np.random.default_rng(0).random((4, 784), dtype=np.float32))
        for d in (2, 8, 64):
            model = make_autoencoder(d)
            expect(isinstance(model, nnx.Module), f"make_autoencoder({d}) should return an "
                   f"nnx.Module (the Autoencoder class above), got {type(model).__name__}.")
            expect(hasattr(model, "encoder") and hasattr(model, "decoder"),
                   "the model needs `encoder` and `decoder` attributes, as in the Autoencoder "
                   "class above.")
            h = model.encoder(x)
            expect(h.shape == (4, d), f"with latent_dim={d} the code should have shape (4, {d}) "
                   f"for 4 images, got {tuple(h.shape)}: pass latent_dim on to the encoder and "
                   "the decoder.")
            r = model(x)
            expect(r.shape == (4, 784), f"reconstructions should have shape (4, 784), got "
                   f"{tuple(r.shape)}.")
            expect(bool(jnp.all((r >= 0) & (r <= 1))), "reconstructions should lie in [0, 1] "
                   "like the pixels: keep the sigmoid at the end of the decoder.")
        return "correct! The code size is one argument; everything else adapts."

    return run_check("bottleneck size", body)


def check_encoder(encoder_cls: Callable[..., nnx.Module]) -> CheckResult:
    """``encoder_cls(in_features, latent_dim, rngs=...)`` maps float32[N, in_features] → [N, D]."""

    def body() -> str:
        rng = np.random.default_rng(0)
        for in_features, d in ((196, 16), (784, 32), (1024, 5)):
            enc = encoder_cls(in_features, d, rngs=nnx.Rngs(0))
            expect(isinstance(enc, nnx.Module), "subclass nnx.Module.")
            x = jnp.asarray(rng.random((3, in_features), dtype=np.float32))
            try:
                h = enc(x)
            except (TypeError, ValueError) as err:
                raise Hint(f"for in_features={in_features} the encoder failed ({err}). "
                           "Use the in_features argument for the first layer's input size "
                           "instead of a fixed 784.") from err
            expect(h.shape == (3, d), f"for in_features={in_features}, latent_dim={d} the code "
                   f"should have shape (3, {d}), got {tuple(h.shape)}.")
            x2 = x.at[0].set(1.0 - x[0])
            expect(not _close(enc(x2)[0], h[0]), "the code does not change when the input "
                   "changes: make sure the layers are applied to x.")
        n_layers = sum(isinstance(m, nnx.Linear) for _, m in nnx.iter_graph(enc))
        expect(n_layers >= 2, "use at least one hidden layer (two nnx.Linear layers with a "
               "nonlinearity between them).")
        return "correct! The same architecture works for any input size."

    return run_check("encoder for another input size", body)


# --------------------------------------------------------------------------- notebook 02
def _reference_pca_reconstruction(x_train: np.ndarray, x: np.ndarray, d: int) -> np.ndarray:
    mean = x_train.mean(0)
    _, _, vt = np.linalg.svd(x_train - mean, full_matrices=False)
    components = vt[:d]
    return mean + (x - mean) @ components.T @ components


def check_pca_reconstruction(pca_reconstruct: Callable[..., object]) -> CheckResult:
    """``pca_reconstruct(x_train, x, D)``: project ``x: float[N, n]`` onto the top-D principal
    subspace of ``x_train: float[M, n]`` (centred with the training mean), map back to ``[N, n]``.
    """

    def body() -> str:
        rng = np.random.default_rng(0)
        basis = rng.normal(size=(6, 20))
        scales = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 0.5])[:, None]
        x_train = 3.0 + rng.normal(size=(300, 6)) @ (scales * basis) + 0.05 * rng.normal(
            size=(300, 20))
        x = 3.0 + rng.normal(size=(40, 6)) @ (scales * basis)
        for d in (1, 3):
            out = np.asarray(pca_reconstruct(x_train, x, d), np.float64)
            expect(out.shape == x.shape, f"return one reconstruction per row of x: expected "
                   f"shape {x.shape}, got {out.shape}.")
            right = _reference_pca_reconstruction(x_train, x, d)
            if _close(out, right, rtol=1e-3):
                continue
            vt_raw = np.linalg.svd(x_train, full_matrices=False)[2][:d]
            raw = x @ vt_raw.T @ vt_raw
            expect(not _close(out, raw, rtol=1e-3), "centre first: subtract the training mean "
                   "before the SVD and before projecting, and add it back at the end.")
            expect(not _close(out, _reference_pca_reconstruction(x, x, d), rtol=1e-3),
                   "you fitted the components on x: fit them (and the mean) on x_train only, "
                   "then apply them to x.")
            neighbours = [_reference_pca_reconstruction(x_train, x, k) for k in (d - 1, d + 1)
                          if k >= 1]
            expect(not any(_close(out, n, rtol=1e-3) for n in neighbours),
                   "off by one component: keep exactly the first D rows of Vᵀ.")
            raise Hint(f"for D={d} the reconstruction differs from PCA's. With the SVD "
                       "x_train - mean = U S Vᵀ and C = Vᵀ[:D]: mean + (x - mean) @ C.T @ C.")
        return "correct! This is the best any linear D-number code can do (in squared error)."

    return run_check("PCA reconstruction", body)


def check_auroc(auroc: Callable[[np.ndarray, np.ndarray], float]) -> CheckResult:
    """``auroc(scores_in, scores_out)``: the probability that a random outlier scores higher
    than a random inlier (ties count one half), i.e. the area under the ROC curve."""

    def body() -> str:
        from sklearn.metrics import roc_auc_score

        rng = np.random.default_rng(1)
        cases = [(rng.normal(0, 1, 50), rng.normal(1, 1, 30)),
                 (rng.integers(0, 4, 40).astype(float), rng.integers(1, 5, 25).astype(float))]
        for s_in, s_out in cases:
            out = float(auroc(s_in, s_out))
            labels = np.r_[np.zeros(len(s_in)), np.ones(len(s_out))]
            right = roc_auc_score(labels, np.r_[s_in, s_out])
            expect(not (_close(out, 1 - right) and not _close(right, 0.5)), "the roles are "
                   "swapped: a high score (a large reconstruction error) should mean 'outlier'.")
            if not _close(out, right):
                strict = np.mean(s_out[:, None] > s_in[None, :])
                expect(not _close(out, strict), "ties: a pair with equal scores counts 1/2, "
                       "not 0 (the second test case has many ties).")
                raise Hint(f"expected {right:.4f}, got {out:.4f}. Compare every outlier score "
                           "with every inlier score: mean of (out > in) + 0.5 · (out == in).")
        expect(_close(float(auroc(np.zeros(3), np.ones(4))), 1.0), "perfectly separated scores "
               "must give an AUROC of 1.")
        return "correct! 0.5 means the score cannot tell the two sets apart, 1.0 means always."

    return run_check("AUROC", body)


def _orthonormal_rows(a: np.ndarray) -> np.ndarray:
    q, _ = np.linalg.qr(np.asarray(a, np.float64).T)
    return q.T


def check_subspace_overlap(overlap: Callable[[np.ndarray, np.ndarray], float]) -> CheckResult:
    """``overlap(A, B)`` for bases ``A, B: float[D, n]`` (rows span each subspace, not
    necessarily orthonormal): the mean squared cosine of the principal angles, in [0, 1]."""

    def body() -> str:
        rng = np.random.default_rng(2)
        a = rng.normal(size=(3, 12))
        mix = rng.normal(size=(3, 3)) + 3 * np.eye(3)  # another basis of the same subspace
        expect(_close(float(overlap(a, mix @ a)), 1.0), "the same subspace written in another "
               "basis must give 1: orthonormalise each basis first (np.linalg.qr of A.T).")
        b = rng.normal(size=(3, 12))
        qa, qb = _orthonormal_rows(a), _orthonormal_rows(b)
        right = float(np.sum((qa @ qb.T) ** 2) / 3)
        out = float(overlap(a, b))
        expect(not _close(out, np.sqrt(right)), "square the cosines: the answer is "
               "||Qa Qbᵀ||_F² / D, not its square root.")
        expect(_close(out, right), f"expected {right:.4f}, got {out:.4f}. With orthonormal "
               "rows Qa, Qb the answer is the squared Frobenius norm of Qa @ Qb.T divided by D.")
        e = np.eye(12)
        expect(_close(float(overlap(e[:3], e[3:6])), 0.0), "orthogonal subspaces must give 0.")
        return "correct! 1 means the same subspace, about D/n means unrelated random ones."

    return run_check("subspace overlap", body)


# --------------------------------------------------------------------------- notebook 03
def check_dae_loss(dae_loss: Callable[[nnx.Module, jax.Array, jax.Array], jax.Array]
                   ) -> CheckResult:
    """``dae_loss(model, x_clean, x_noisy)`` = L(x, g(f(x̃))): ‖x − model(x̃)‖² summed over
    pixels, averaged over the batch. x_clean, x_noisy: float32[N, 784] in [0, 1]."""

    def body() -> str:
        from course_utils.models import MLPAutoencoder

        rng = np.random.default_rng(0)
        model = MLPAutoencoder(4, hidden=(16,), rngs=nnx.Rngs(0))
        x = jnp.asarray(rng.random((6, 784), dtype=np.float32))
        x_noisy = jnp.asarray(rng.random((6, 784), dtype=np.float32))
        out = dae_loss(model, x, x_noisy)
        expect(np.ndim(out) == 0, f"return one number for the batch, got shape {np.shape(out)}.")

        def sq(target, inp):
            return float(np.mean(np.sum((np.asarray(target) - np.asarray(model(inp))) ** 2, -1)))

        expect(not _close(out, sq(x_noisy, x_noisy)), "the target must be the CLEAN image: "
               "compare model(x_noisy) with x_clean, not with x_noisy (that would teach the "
               "model to reproduce the noise).")
        expect(not _close(out, sq(x, x)), "feed the model the NOISY image: the loss is "
               "L(x, g(f(x̃))) — the input is x̃, only the target is clean.")
        expect(not _close(out, sq(x_noisy, x)), "input and target are swapped: the model "
               "sees x_noisy and must output x_clean.")
        diff = np.asarray(x) - np.asarray(model(x_noisy))
        expect(not _close(out, np.mean(diff**2)), "sum the squared errors over the 784 pixels "
               "of each image, then average over the images.")
        right = sq(x, x_noisy)
        expect(_close(out, right), f"expected {right:.4f}, got {float(out):.4f}.")
        grads = nnx.grad(lambda m: dae_loss(m, x, x_noisy))(model)
        leaves = jax.tree_util.tree_leaves(grads)
        expect(any(float(jnp.abs(g).sum()) > 0 for g in leaves), "the loss has no gradient "
               "with respect to the model: compute it with jnp operations on model(x_noisy).")
        return "correct! The model is asked to undo the corruption, not to copy its input."

    return run_check("denoising loss", body)


def check_masking_noise(mask: Callable[[jax.Array, float, jax.Array], jax.Array]
                        ) -> CheckResult:
    """``mask(x, level, key)``: each pixel of ``x: float32[N, 784]`` becomes 0 with probability
    ``level``, independently; the other pixels are unchanged. Must work under ``jax.jit``."""

    def body() -> str:
        x = jnp.full((100, 784), 0.5, jnp.float32)
        key = jax.random.PRNGKey(0)
        for level in (0.0, 0.25, 0.7):
            out = np.asarray(mask(x, level, key))
            expect(out.shape == x.shape, f"keep the shape {x.shape}, got {out.shape}.")
            expect(set(np.unique(out)) <= {0.0, 0.5}, "a pixel is either kept as it is or set "
                   "to 0: do not scale the kept pixels (this is not dropout's 1/(1-p)) and do "
                   "not add noise.")
            frac = float(np.mean(out == 0.0))
            expect(abs(frac - (1 - level)) > 0.02 or abs(level - 0.5) < 0.02,
                   f"with level={level} you zeroed {frac:.0%} of the pixels: level is the "
                   "probability of being MASKED, not of being kept.")
            expect(abs(frac - level) < 0.02, f"with level={level} about {level:.0%} of the "
                   f"pixels should be 0, you zeroed {frac:.0%}.")
        rows = np.asarray(mask(x, 0.5, key)) == 0.0
        expect(not np.all(rows == rows[:1]), "every image got the same mask: draw an "
               "independent random number for every pixel of every image (shape x.shape).")
        jitted = jax.jit(mask)
        expect(np.array_equal(np.asarray(jitted(x, 0.3, key)), np.asarray(mask(x, 0.3, key))),
               "the function should give the same result under jax.jit: use jax.random with "
               "the key, not numpy's random generator.")
        return "correct! Masking noise is what Vincent et al. (2008) used for the first DAEs."

    return run_check("masking noise", body)


def check_psnr(psnr_fn: Callable[[np.ndarray, np.ndarray], float]) -> CheckResult:
    """``psnr_fn(x, x_rec)`` in dB for pixels in [0, 1]: the mean over images of
    10·log10(1 / MSE_i), MSE_i the mean squared error of image i."""

    def body() -> str:
        rng = np.random.default_rng(0)
        x = rng.random((5, 784)).astype(np.float32)
        noise = rng.normal(size=(5, 784)).astype(np.float32) * np.array(
            [0.01, 0.03, 0.1, 0.2, 0.3], np.float32)[:, None]
        x_rec = x + noise
        out = float(psnr_fn(x, x_rec))
        mse = np.mean((x - x_rec).astype(np.float64) ** 2, axis=1)
        right = float(np.mean(10 * np.log10(1.0 / mse)))
        pooled = float(10 * np.log10(1.0 / mse.mean()))
        expect(not _close(out, pooled), "average the PSNR of each image, not the MSE over "
               "all images first: the log of a mean is not the mean of the logs.")
        expect(not _close(out, right / 2) and not _close(out, float(np.mean(
            20 * np.log10(1.0 / mse)))), "10·log10 of the ratio of squares: "
               "10·log10(1 / MSE), equivalently 20·log10(1 / RMSE).")
        expect(not _close(out, -right), "the sign is flipped: a smaller error must give a "
               "LARGER PSNR.")
        expect(_close(out, right, rtol=1e-3), f"expected {right:.3f} dB, got {out:.3f}.")
        return "correct! +10 dB means 10 times smaller squared error."

    return run_check("PSNR", body)


# --------------------------------------------------------------------------- notebook 04
def _small_autoencoder() -> nnx.Module:
    from course_utils.models import MLPAutoencoder

    return MLPAutoencoder(6, hidden=(16,), rngs=nnx.Rngs(0))


def check_sparse_loss(sparse_loss: Callable[[nnx.Module, jax.Array, float], jax.Array]
                      ) -> CheckResult:
    """``sparse_loss(model, x, lam)`` = ‖x − g(f(x))‖² + λ‖f(x)‖₁, each summed over pixels or
    code units and averaged over the batch. ``model.encode``/``model.decode`` give f and g."""

    def body() -> str:
        model = _small_autoencoder()
        x = jnp.asarray(np.random.default_rng(0).random((8, 784), dtype=np.float32))
        h = np.asarray(model.encode(x), np.float64)
        rec = float(np.mean(np.sum((np.asarray(x, np.float64) - np.asarray(model(x))) ** 2, 1)))
        lam = 0.5
        out = sparse_loss(model, x, lam)
        expect(np.ndim(out) == 0, f"return one number for the batch, got shape {np.shape(out)}.")
        expect(not _close(out, rec), "that is the reconstruction loss alone: add lam times the "
               "L1 norm of the code h = model.encode(x).")
        expect(not _close(out, rec + lam * np.mean(np.sum(h**2, 1))), "‖h‖₁ sums the absolute "
               "values |h_j|, not their squares (that would be an L2 penalty).")
        expect(not _close(out, rec + lam * np.mean(np.sum(h, 1))), "take the absolute value: "
               "codes can be negative, and −3 is not sparser than 0.")
        expect(not _close(out, rec + lam * np.mean(np.abs(h))), "sum |h_j| over the code units "
               "(as the reconstruction error sums over pixels), then average over the batch.")
        expect(not _close(out, lam * rec + np.mean(np.sum(np.abs(h), 1))), "λ multiplies the "
               "penalty, not the reconstruction error.")
        right = rec + lam * np.mean(np.sum(np.abs(h), 1))
        expect(_close(out, right), f"for this batch the loss should be {right:.4f}, yours gives "
               f"{float(out):.4f}: reconstruction error (sum over pixels) + lam · Σ_j |h_j|, "
               "both averaged over the batch.")
        expect(_close(sparse_loss(model, x, 0.0), rec), "with lam = 0 the loss must equal the "
               "reconstruction error.")
        grads = nnx.grad(lambda m: sparse_loss(m, x, lam))(model)
        expect(all(np.all(np.isfinite(np.asarray(g))) for g in jax.tree_util.tree_leaves(grads)),
               "the gradient is not finite: use jnp operations.")
        return "correct! λ trades reconstruction error for a sparser code."

    return run_check("sparse autoencoder loss", body)


def check_contractive_penalty(penalty: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]
                              ) -> CheckResult:
    """``penalty(kernel, bias, x)``: the closed form of ‖∂h/∂x‖²_F for h = σ(x·W + b),
    averaged over the batch. kernel: float32[P, D], bias: float32[D], x: float32[N, P]."""

    def body() -> str:
        from course_utils.penalties import contractive_penalty

        rng = np.random.default_rng(0)
        kernel = jnp.asarray(rng.normal(0, 0.4, (12, 5)), jnp.float32)
        bias = jnp.asarray(rng.normal(0, 0.5, 5), jnp.float32)
        x = jnp.asarray(rng.random((6, 12)), jnp.float32)
        out = penalty(kernel, bias, x)
        expect(np.ndim(out) == 0, f"return one number for the batch, got shape {np.shape(out)}: "
               "sum over units, average over examples.")
        k = np.asarray(kernel, np.float64)
        h = 1 / (1 + np.exp(-(np.asarray(x, np.float64) @ k + np.asarray(bias, np.float64))))
        norms = (k**2).sum(0)
        right = float(contractive_penalty(lambda v: jax.nn.sigmoid(v @ kernel + bias), x))
        expect(not _close(out, np.mean(np.sum(h * (1 - h) * norms, 1))), "square the sigmoid's "
               "derivative too: (∂h_j/∂x_i)² = (h_j(1 − h_j))² W_ij².")
        expect(not _close(out, np.mean(np.sum((h * (1 - h)) ** 2 * np.sqrt(norms), 1))),
               "use the SQUARED norm of each column of W, Σ_i W_ij².")
        expect(not _close(out, np.sqrt(right)), "the penalty is the squared Frobenius norm: no "
               "square root.")
        expect(not _close(out, right * len(x)), "average over the examples, do not sum: the "
               "penalty must not grow with the batch size.")
        expect(not _close(out, np.mean(np.sum(h**2 * norms, 1))), "the sigmoid's derivative is "
               "σ'(z) = h(1 − h), not h.")
        expect(_close(out, right, rtol=1e-4), f"autodiff gives {right:.5f} for this batch, yours "
               f"{float(out):.5f}. Unit j's gradient is h_j(1 − h_j) times column j of W.")
        jitted = jax.jit(penalty)(kernel, bias, x)
        expect(_close(jitted, right, rtol=1e-4), "the function should work under jax.jit: use "
               "jnp, not numpy.")
        return "correct! It matches jax.jacrev to float precision, at a fraction of the cost."

    return run_check("contractive penalty (closed form)", body)


def check_kl_sparsity(kl: Callable[[jax.Array, float], jax.Array]) -> CheckResult:
    """``kl(h, rho)`` = Σ_j KL(ρ ‖ ρ̂_j), ρ̂_j = the mean of unit j over the batch.

    h: float32[N, D] in (0, 1) (sigmoid codes); rho: the target mean activation."""

    def body() -> str:
        rng = np.random.default_rng(0)
        h = jnp.asarray(1 / (1 + np.exp(-rng.normal(-1, 1.5, (16, 6)))), jnp.float32)
        rho = 0.1
        out = kl(h, rho)
        expect(np.ndim(out) == 0, f"return one number, got shape {np.shape(out)}: sum the KL "
               "divergences of the units.")
        hh = np.asarray(h, np.float64)

        def kl_of(p, q):
            return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))

        rho_hat = hh.mean(0)
        right = float(np.sum(kl_of(rho, rho_hat)))
        expect(not _close(out, np.mean(np.sum(kl_of(rho, hh), 1))), "average each unit's "
               "activation over the batch FIRST (ρ̂_j = mean over examples of h_j), then take "
               "KL(ρ ‖ ρ̂_j): the penalty is about how often a unit fires, not each activation.")
        expect(not _close(out, np.sum(kl_of(rho_hat, rho))), "the arguments are swapped: "
               "KL(ρ ‖ ρ̂_j) = ρ log(ρ/ρ̂_j) + (1−ρ) log((1−ρ)/(1−ρ̂_j)).")
        expect(not _close(out, np.mean(kl_of(rho, rho_hat))), "sum over the units, do not "
               "average: each unit pays its own penalty.")
        expect(not _close(out, np.sum(rho * np.log(rho / rho_hat))), "the second term is "
               "missing: a unit's activation is a Bernoulli variable, (1−ρ) log((1−ρ)/(1−ρ̂_j)).")
        expect(_close(out, right, rtol=1e-4), f"expected {right:.5f}, got {float(out):.5f}.")
        expect(_close(kl(jnp.full((4, 3), rho), rho), 0.0), "a unit whose mean activation is "
               "exactly ρ must cost nothing.")
        return "correct! This is the sparsity penalty of Ng's sparse-autoencoder notes."

    return run_check("KL sparsity penalty", body)


# --------------------------------------------------------------------------- notebook 05
def check_transposed_output_size(size_fn: Callable[..., int]) -> CheckResult:
    """``size_fn(i, k, s, p, output_padding)``: the output size of a transposed convolution in
    PyTorch's convention (``p`` and ``output_padding`` as in ``torch.nn.ConvTranspose2d``)."""

    def body() -> str:
        grid = [(i, k, s, p, a) for i in (1, 3, 7, 14) for k in (1, 2, 3, 4, 5) for s in (1, 2, 3)
                for p in range(k) for a in range(s) if (i - 1) * s - 2 * p + k + a > 0]
        answers = {g: size_fn(*g) for g in grid}
        for g, out in answers.items():
            expect(isinstance(out, int | np.integer) and not isinstance(out, bool),
                   f"return a plain int, got {type(out).__name__} for (i, k, s, p, a) = {g}.")

        def same_as(rule):
            return all(out == rule(*g) for g, out in answers.items())

        expect(not same_as(lambda i, k, s, p, a: (i + 2 * p - k) // s + 1), "that is the "
               "convolution's formula: a transposed convolution goes the other way, from the "
               "conv's output size back to its input size. Solve o = (i' + 2p − k)/s + 1 for i'.")
        expect(not same_as(lambda i, k, s, p, a: (i - 1) * s - 2 * p + k), "output_padding "
               "is missing: it adds output_padding cells at the high end of the output.")
        expect(not same_as(lambda i, k, s, p, a: (i - 1) * s - p + k + a), "p is removed "
               "from both ends of the output: subtract 2p.")
        expect(not same_as(lambda i, k, s, p, a: (i - 1) * s + 2 * p + k + a), "in PyTorch's "
               "convention p is the padding of the convolution being transposed, so it makes "
               "the transposed conv's output smaller: − 2p.")
        expect(not same_as(lambda i, k, s, p, a: i * s - 2 * p + k + a), "the i input cells "
               "are s apart, so they span (i − 1)·s + 1 cells, not i·s; then the kernel adds "
               "k − 1 more.")
        wrong = [(g, out) for g, out in answers.items()
                 if out != (g[0] - 1) * g[2] - 2 * g[3] + g[1] + g[4]]
        if wrong:
            (i, k, s, p, a), out = wrong[0]
            expect(False, f"for i={i}, k={k}, s={s}, p={p}, output_padding={a} the output has "
                   f"{(i - 1) * s - 2 * p + k + a} cells, yours gives {out}.")
        return "correct! o = (i − 1)·s − 2p + k + output_padding."

    return run_check("transposed convolution output size", body)


STACK_05 = (("conv", 5, 1, "VALID"), ("conv", 3, 2, 1), ("conv", 3, 2, "SAME"),
            ("transpose", 3, 2, "SAME"), ("transpose", 5, 1, "VALID"))


def check_stack_sizes(sizes: object) -> CheckResult:
    """``sizes``: the height (= width) after each of the five layers of notebook 05's stack
    (``STACK_05``: kind, kernel, stride, Flax padding) for a 28×28 input — a list of ints, or a
    function without arguments that returns it."""

    def body() -> str:
        from course_utils.conv_arithmetic import conv_output_size, flax_conv_transpose_output_size

        answer = list(sizes() if callable(sizes) else sizes)
        expect(len(answer) == len(STACK_05), f"give one size per layer: {len(STACK_05)} numbers, "
               f"got {len(answer)}.")
        expect(all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in answer),
               "give each size as an int, e.g. [24, ...].")
        hints = {
            0: "a 5×5 kernel without padding fits 28 − 5 + 1 times.",
            1: "padding=1 adds one cell at each end; then o = ⌊(i + 2p − k)/s⌋ + 1 (the floor "
               "drops a window that would stick out).",
            2: "'SAME' in Flax gives ⌈i / s⌉ outputs whatever the kernel.",
            3: "a transposed convolution with 'SAME' padding in Flax gives s·i outputs: it "
               "grows the image.",
            4: "Flax's 'VALID' transposed convolution gives (i − 1)·s + max(k, s): the kernel "
               "spills k − 1 cells past the last input cell.",
        }
        size = 28
        for n, (kind, k, s, pad) in enumerate(STACK_05):
            size = (conv_output_size(size, k, s, pad) if kind == "conv"
                    else flax_conv_transpose_output_size(size, k, s, pad))
            if answer[n] != size:
                after = f" (given {answer[n - 1]} into it)" if n else ""
                expect(False, f"layer {n + 1}{after}: {hints[n]}")
        return f"correct! 28 → {' → '.join(str(v) for v in answer)}."

    return run_check("sizes through a conv stack", body)


def check_insert_zeros(insert_zeros: Callable[[jax.Array, int], jax.Array]) -> CheckResult:
    """``insert_zeros(x, s)``: put ``s − 1`` zeros between neighbouring pixels of
    ``x: float32[N, H, W, C]`` → ``float32[N, (H − 1)s + 1, (W − 1)s + 1, C]``."""

    def body() -> str:
        from course_utils.layers import conv2d, conv_transpose2d, conv_transpose_padding

        rng = np.random.default_rng(0)
        x = jnp.asarray(rng.normal(size=(2, 3, 4, 2)), jnp.float32)
        for s in (2, 3):
            out = insert_zeros(x, s)
            want = (2, 2 * s + 1, 3 * s + 1, 2)
            expect(tuple(out.shape) != (2, 3 * s, 4 * s, 2), f"with s={s} the result should have "
                   f"shape {want}: nothing comes after the last pixel, so H → (H − 1)·s + 1.")
            expect(tuple(out.shape) == want, f"with s={s} the result should have shape {want}, "
                   f"got {tuple(out.shape)}.")
            o = np.asarray(out)
            expect(_close(o[:, ::s, ::s], x), "the original pixels belong at rows and columns "
                   "0, s, 2s, …")
            mask = np.ones(o.shape[1:3], bool)
            mask[::s, ::s] = False
            expect(np.all(o[:, mask] == 0), "every other position must be exactly 0.")
        expect(_close(insert_zeros(x, 1), x), "with s=1 nothing is inserted: return x as it is.")
        kernel = jnp.asarray(rng.normal(size=(3, 3, 2, 5)), jnp.float32)
        (lo, hi), _ = conv_transpose_padding((3, 3), (2, 2), "SAME")
        padded = jnp.pad(insert_zeros(x, 2), ((0, 0), (lo, hi), (lo, hi), (0, 0)))
        via_zeros = conv2d(padded, kernel, 1, "VALID", method="xla")
        expect(_close(via_zeros, conv_transpose2d(x, kernel, 2, "SAME", method="xla"), 1e-4),
               "the shape is right but padding + convolution does not reproduce the transposed "
               "convolution: check the values at the original positions.")
        return ("correct! Pad it and convolve at stride 1: that is nnx.ConvTranspose, "
                "multiplications by the inserted zeros included.")

    return run_check("zero insertion", body)


# --------------------------------------------------------------------------- notebook 06
def _gan_logits() -> tuple[jax.Array, jax.Array]:
    rng = np.random.default_rng(6)
    real = jnp.asarray(np.concatenate([rng.normal(1.0, 3.0, size=63), [-120.0]]), jnp.float32)
    fake = jnp.asarray(np.concatenate([rng.normal(-2.0, 3.0, size=63), [-120.0]]), jnp.float32)
    return real, fake


def check_d_loss(d_loss: Callable[[jax.Array, jax.Array], jax.Array]) -> CheckResult:
    """``d_loss(real_logits, fake_logits)``: −E[log D(x)] − E[log(1 − D(G(z)))], D = sigmoid."""

    def body() -> str:
        real, fake = _gan_logits()
        want = -jnp.mean(jax.nn.log_sigmoid(real)) - jnp.mean(jax.nn.log_sigmoid(-fake))
        got = d_loss(real, fake)
        expect(np.ndim(got) == 0, f"return one number (the mean over the batch), got shape "
               f"{np.shape(got)}.")
        expect(np.isfinite(float(got)), "the loss is not finite: a logit of −120 makes "
               "sigmoid(·) underflow to 0 and log(0) = −inf. Use jax.nn.log_sigmoid(l) for "
               "log D and jax.nn.log_sigmoid(−l) for log(1 − D).")
        expect(not _close(got, -want), "the sign is flipped: D *maximises* V, so its loss to "
               "minimise is −V.")
        swapped = -jnp.mean(jax.nn.log_sigmoid(fake)) - jnp.mean(jax.nn.log_sigmoid(-real))
        expect(not _close(got, swapped), "real and fake are swapped: D should say 1 on real "
               "data and 0 on generated samples.")
        expect(_close(got, want), "expected −mean(log D(x_real)) − mean(log(1 − D(x_fake))) "
               "with D = sigmoid(logit); 1 − sigmoid(l) = sigmoid(−l).")
        zero = d_loss(jnp.zeros(4), jnp.zeros(4))
        expect(_close(zero, 2 * np.log(2)), "with all logits 0 (D = 1/2 everywhere) the loss "
               "must be 2 ln 2.")
        return "correct! At the equilibrium D = 1/2 it equals 2 ln 2 ≈ 1.386."

    return run_check("discriminator loss", body)


def check_nonsaturating_g_loss(g_loss: Callable[[jax.Array], jax.Array]) -> CheckResult:
    """``g_loss(fake_logits)``: the non-saturating generator loss −E[log D(G(z))]."""

    def body() -> str:
        _, fake = _gan_logits()
        want = -jnp.mean(jax.nn.log_sigmoid(fake))
        got = g_loss(fake)
        expect(np.ndim(got) == 0, f"return one number (the mean over the batch), got shape "
               f"{np.shape(got)}.")
        expect(np.isfinite(float(got)), "the loss is not finite: a logit of −120 makes "
               "sigmoid underflow to 0. Use "
               "jax.nn.log_sigmoid(l), not jnp.log(jax.nn.sigmoid(l)).")
        saturating = jnp.mean(jax.nn.log_sigmoid(-fake))
        expect(not _close(got, saturating), "that is the *saturating* loss log(1 − D(G(z))); "
               "the non-saturating one is −log D(G(z)).")
        expect(not _close(got, -want), "the sign is flipped: G *maximises* log D(G(z)), so "
               "the loss to minimise is −log D(G(z)).")
        expect(_close(got, want), "expected −mean(log D(G(z))) with D = sigmoid(logit).")
        grad = jax.grad(g_loss)(jnp.array([-8.0, 0.0]))
        expect(_close(grad, [-(1 - jax.nn.sigmoid(-8.0)) / 2, -0.25], 1e-3),
               "the value is right but the gradient is not; avoid stop_gradient and rounding.")
        return ("correct! Its gradient w.r.t. the logit is −(1 − D)/N: largest where D "
                "rejects the sample, exactly where the generator needs it.")

    return run_check("non-saturating generator loss", body)


def check_optimal_discriminator(d_star: Callable[[np.ndarray, np.ndarray], np.ndarray]
                                ) -> CheckResult:
    """``d_star(p_data, p_g)``: D*(x) = p_data / (p_data + p_g) at each point."""

    def body() -> str:
        p = np.array([0.4, 0.1, 0.0, 0.3, 2.0])
        q = np.array([0.4, 0.3, 0.2, 0.0, 0.5])
        got = np.asarray(d_star(p, q), np.float64)
        expect(got.shape == p.shape, f"return one value per point, shape {p.shape}, got "
               f"{got.shape}.")
        expect(not _close(got, q / (p + q)), "that is the probability of *fake*: D* is the "
               "share of the real density, p_data / (p_data + p_g).")
        expect(not _close(got, p / np.maximum(q, 1e-12)) or np.all(np.isfinite(got)),
               "that is a density ratio p_data / p_g; D* divides by the sum p_data + p_g.")
        expect(_close(got, p / (p + q)), "expected p_data / (p_data + p_g) elementwise; "
               "it is in [0, 1] and equals 1/2 where the densities agree.")
        return ("correct! Where p_g = p_data it is 1/2 everywhere: the lecture's equilibrium.")

    return run_check("optimal discriminator", body)


# --------------------------------------------------------------------------- notebook 07
def _diag_gaussian_kl(mq: np.ndarray, lq: np.ndarray, mp: np.ndarray, lp: np.ndarray
                      ) -> np.ndarray:
    return 0.5 * np.sum(lp - lq + (np.exp(lq) + (mq - mp) ** 2) / np.exp(lp) - 1.0, axis=-1)


def check_diagonal_gaussian_kl(kl: Callable[..., jax.Array]) -> CheckResult:
    """``kl(mean_q, logvar_q, mean_p, logvar_p)``: KL(N(μ_q, diag σ_q²) ‖ N(μ_p, diag σ_p²)) in
    nats, summed over the last axis. All inputs float32[N, D] (log-variances); returns [N]."""

    def body() -> str:
        rng = np.random.default_rng(7)
        mq, mp = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
        lq, lp = rng.normal(size=(6, 4)) - 0.5, rng.normal(size=(6, 4)) * 0.5
        args = [jnp.asarray(a, jnp.float32) for a in (mq, lq, mp, lp)]
        got = np.asarray(kl(*args), np.float64)
        right = _diag_gaussian_kl(mq, lq, mp, lp)
        expect(got.shape != (6, 4), "sum over the D latent dimensions: one KL per example, "
               "shape (N,), not one per dimension.")
        expect(got.shape == (6,), f"return one KL per example, shape (6,), got {got.shape}: sum "
               "over the last axis only, not over the batch.")
        expect(not _close(got, _diag_gaussian_kl(mp, lp, mq, lq)), "the arguments are swapped: "
               "that is KL(p ‖ q). KL is not symmetric; the expectation is taken under q.")
        expect(not _close(got, right / 4), "sum over the dimensions instead of averaging them.")
        expect(not _close(got, 2 * right), "the factor 1/2 is missing.")
        expect(not _close(got, right + 2.0), "the −1 per dimension is missing (with it, "
               "KL(q ‖ q) = 0).")
        expect(not _close(got, _diag_gaussian_kl(mq, lq, 0 * mp, 0 * lp)), "you computed the KL "
               "to N(0, I): use the second Gaussian's mean and log-variance too (the prior "
               "N(0, I) is the special case mean_p = 0, logvar_p = 0).")
        expect(not _close(got, _diag_gaussian_kl(mq, 2 * lq, mp, 2 * lp)), "logvar is log σ², "
               "so the variance is exp(logvar), not exp(2·logvar).")
        expect(_close(got, right), f"for the first example the KL is {right[0]:.4f}, yours "
               f"{got[0]:.4f}. Per dimension: ½[log σ_p² − log σ_q² + (σ_q² + (μ_q − μ_p)²)/σ_p² "
               "− 1].")
        same = np.asarray(kl(args[0], args[1], args[0], args[1]), np.float64)
        expect(_close(same, np.zeros(6)), "the KL of a Gaussian to itself must be 0.")
        grad = jax.grad(lambda m: jnp.sum(kl(m, args[1], args[2], args[3])))(args[0])
        expect(_close(grad, (mq - mp) / np.exp(lp), rtol=1e-3), "the value is right but JAX "
               "cannot differentiate it correctly: use jnp operations.")
        return ("correct! With mean_p = 0 and logvar_p = 0 it is the notebook's gaussian_kl: "
                "½ Σ (μ² + σ² − log σ² − 1).")

    return run_check("KL between diagonal Gaussians", body)


def check_bernoulli_log_likelihood(log_likelihood: Callable[[jax.Array, jax.Array], jax.Array]
                                   ) -> CheckResult:
    """``log_likelihood(logits, x)``: log p(x | z) = Σ_i [x_i log π_i + (1 − x_i) log(1 − π_i)]
    with π = sigmoid(logits), summed over pixels. logits, x: float32[N, P]; returns float[N]."""

    def body() -> str:
        rng = np.random.default_rng(3)
        logits = rng.normal(size=(5, 30)) * 3
        x = (rng.random((5, 30)) < 0.4).astype(np.float64)
        got = np.asarray(log_likelihood(jnp.asarray(logits, jnp.float32),
                                        jnp.asarray(x, jnp.float32)), np.float64)
        right = np.sum(x * logits - np.logaddexp(0.0, logits), axis=-1)
        expect(got.shape == (5,), f"return one log-likelihood per image, shape (5,), got "
               f"{got.shape}: sum over the pixels (the last axis) only.")
        expect(not _close(got, -right), "the sign is flipped: that is the binary cross-entropy, "
               "−log p(x|z). Return log p(x|z), which is ≤ 0.")
        expect(not _close(got, right / 30), "sum over the pixels instead of averaging: the "
               "pixels are independent given z, so their log-probabilities add up.")
        probs = 1 / (1 + np.exp(-logits))
        expect(not _close(got, np.sum(x * probs - np.logaddexp(0.0, probs), -1)),
               "the inputs are logits: the probability of a 1 is sigmoid(logits).")
        expect(_close(got, right), f"for the first image log p(x|z) is {right[0]:.4f}, yours "
               f"{got[0]:.4f}. Use x·log σ(ℓ) + (1 − x)·log σ(−ℓ).")
        extreme = jnp.asarray([[200.0, -200.0, 200.0, -200.0]], jnp.float32)
        ones = jnp.asarray([[0.0, 1.0, 1.0, 0.0]], jnp.float32)
        value = np.asarray(log_likelihood(extreme, ones), np.float64)
        expect(np.all(np.isfinite(value)), "not finite for logits of ±200: sigmoid(±200) rounds "
               "to 1 or 0 in float32 and log(0) = −inf. Compute log σ(ℓ) with "
               "jax.nn.log_sigmoid(ℓ) and log(1 − σ(ℓ)) with jax.nn.log_sigmoid(−ℓ).")
        expect(_close(value, [-400.0], rtol=1e-3), f"for logits ±200 the answer is −400 "
               f"(two pixels 200 nats wrong each), yours {value[0]:.2f}.")
        return ("correct! It is exactly −optax.sigmoid_binary_cross_entropy(logits, x) summed "
                "over pixels, and stays finite for any logit.")

    return run_check("Bernoulli log-likelihood", body)


def check_gaussian_nll(nll: Callable[[jax.Array, jax.Array, float], jax.Array]) -> CheckResult:
    """``nll(x, mean, s)``: −log N(x; mean, s² I) in nats, summed over pixels, for a scalar
    standard deviation ``s > 0``. x, mean: float32[N, P]; returns float[N]."""

    def body() -> str:
        rng = np.random.default_rng(5)
        x = rng.random((4, 25))
        mean = rng.random((4, 25))
        sq = np.sum((x - mean) ** 2, axis=-1)
        results = {}
        for s in (0.1, 0.7071067811865476, 2.0):
            got = np.asarray(nll(jnp.asarray(x, jnp.float32), jnp.asarray(mean, jnp.float32), s),
                             np.float64)
            expect(got.shape == (4,), f"return one value per image, shape (4,), got "
                   f"{got.shape}: sum over the pixels only.")
            results[s] = got
        s = 0.1
        got = results[s]
        right = sq / (2 * s**2) + 25 / 2 * np.log(2 * np.pi * s**2)
        expect(not _close(got, -right), "the sign is flipped: return the NEGATIVE "
               "log-likelihood, which grows with the squared error.")
        expect(not _close(got, sq), "that is the plain squared error ‖x − mean‖²: divide it by "
               "2s² and add the log of the Gaussian's normaliser, (P/2)·log(2π s²).")
        expect(not _close(got, sq / (2 * s**2)), "the normalising constant is missing: "
               "−log N includes (P/2)·log(2π s²). It does not change the gradient with respect "
               "to the mean, but it is part of the nats and it depends on s.")
        expect(not _close(got, sq / s**2 + 25 / 2 * np.log(2 * np.pi * s**2)),
               "the squared error is divided by 2s², not s².")
        expect(not _close(got, sq / (2 * s) + 25 / 2 * np.log(2 * np.pi * s)), "s is the "
               "standard deviation: the variance is s².")
        expect(not _close(got, right / 25), "sum over the pixels instead of averaging them.")
        expect(_close(got, right), f"for the first image −log p is {right[0]:.3f}, yours "
               f"{got[0]:.3f}. Per pixel: (x − mean)²/(2s²) + ½·log(2π s²).")
        half = results[0.7071067811865476]
        expect(_close(half - 25 / 2 * np.log(np.pi), sq), "with s² = 1/2 your value minus "
               "(P/2)·log π should be the squared error ‖x − mean‖²; check the formula for "
               "other s.")
        return ("correct! With s² = ½ it is the lecture's ‖x − x'‖² plus a constant: minimising "
                "the squared error is maximum likelihood under this Gaussian.")

    return run_check("Gaussian negative log-likelihood", body)


# --------------------------------------------------------------------------- notebook 06, DCGAN
def check_slerp(slerp: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]) -> CheckResult:
    """``slerp(z0, z1, t)``: z0, z1: float[D], t: float[n] in [0, 1] → float[n, D], the points
    at ``t`` on the great-circle arc from z0 to z1 (spherical linear interpolation)."""

    def body() -> str:
        rng = np.random.default_rng(16)
        z0 = jnp.asarray(rng.normal(size=16), jnp.float32)
        z1 = jnp.asarray(rng.normal(size=16), jnp.float32)
        t = jnp.linspace(0.0, 1.0, 7)
        got = np.asarray(slerp(z0, z1, t), np.float64)
        expect(got.shape != (16, 7), "the axes are swapped: return float[n, D], one row per t "
               "(shape (7, 16) here), not (D, n).")
        expect(got.shape == (7, 16), f"return one row per value of t: for 7 values of t and "
               f"16-D vectors the shape is (7, 16), got {got.shape}.")
        a, b, tt = np.asarray(z0, np.float64), np.asarray(z1, np.float64), np.asarray(t)[:, None]
        omega = np.arccos(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
        want = (np.sin((1 - tt) * omega) * a + np.sin(tt * omega) * b) / np.sin(omega)
        expect(not _close(got[0], b, 1e-3), "t = 0 must give z0 and t = 1 must give z1: the two "
               "weights are swapped.")
        expect(_close(got[0], a, 1e-3) and _close(got[-1], b, 1e-3), "the ends are wrong: "
               "slerp(z0, z1, 0) must be z0 and slerp(z0, z1, 1) must be z1.")
        expect(not _close(got, (1 - tt) * a + tt * b, 1e-3), "that is linear interpolation: "
               "its midpoint is shorter than both ends. Weight z0 by sin((1 − t)Ω)/sin Ω and z1 "
               "by sin(tΩ)/sin Ω.")
        expect(_close(got, want, 1e-3), "the ends are right but the points between are not: "
               "Ω is the angle between z0 and z1, arccos(z0·z1 / (‖z0‖ ‖z1‖)) (in radians).")
        # two vectors of one norm: every point on the arc keeps that norm
        c = 3.0 * a / np.linalg.norm(a)
        d = 3.0 * b / np.linalg.norm(b)
        arc = np.asarray(slerp(jnp.asarray(c, jnp.float32), jnp.asarray(d, jnp.float32),
                               jnp.asarray([0.25, 0.5, 0.75])), np.float64)
        expect(_close(np.linalg.norm(arc, axis=1), [3.0, 3.0, 3.0], 1e-3),
               "between two vectors of norm 3 every point should have norm 3.")
        return ("correct! Between vectors of equal norm the path keeps that norm: every point "
                "is a z of the size the generator was trained on.")

    return run_check("spherical interpolation", body)


# --------------------------------------------------------------------------- notebook 08
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
        expect(not _close(got, np.concatenate([one_hot, np.asarray(z)], axis=1)),
               "the parts are in the other order: noise first, then the one-hot label (the "
               "generator's first layer expects [z; e_y]).")
        expect(_close(got[:, :3], z), "the first D columns must be z itself, unchanged.")
        expect(_close(got[:, 3:], one_hot), "the last 10 columns must be the one-hot label: a 1 "
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
        expect(not _close(got, saturating + lam * l1), "that is the saturating term "
               "log(1 − D); the generator minimises −log D(G(s)) (notebook 06).")
        expect(not _close(got, adv + l1), "the L1 term is not weighted: multiply it by "
               "l1_weight.")
        expect(not _close(got, lam * adv + l1), "the weight belongs to the L1 term, not the "
               "adversarial one.")
        expect(not _close(got, adv + lam * ((fakes - targets) ** 2).mean()), "that is the squared "
               "error: pix2pix uses L1, the mean *absolute* difference, which blurs less.")
        expect(not _close(got, adv + lam * np.abs(fakes - targets).sum() / 3), "average the "
               "absolute error over pixels too, not only over the images.")
        expect(not _close(got, -log_d[:, 3, 3].mean() + lam * l1), "use every patch's logit, "
               "not one: the PatchGAN's loss is the mean over the whole map.")
        expect(_close(got, adv + lam * l1), f"expected −mean(log_sigmoid(fake_logits)) + "
               f"l1_weight · mean|fakes − targets| = {adv + lam * l1:.4f}, got {got:.4f}.")
        return ("correct! The adversarial term asks every patch to look real; the L1 term keeps "
                "the whole image close to the target.")

    return run_check("pix2pix generator loss", body)


PATCH_DISCRIMINATOR_08 = ((4, 2), (4, 2), (3, 1))  # notebook 08's (kernel, stride) per layer


def check_patch_receptive_field(receptive_field: Callable[[object], int]) -> CheckResult:
    """``receptive_field([(kernel_size, stride), ...])``: the side of the input patch one output
    of the stack sees, ``1 + Σ_l (k_l − 1) Π_{j<l} s_j``."""

    def body() -> str:
        from course_utils.cgan import receptive_field as right

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
            expect(got == right(layers), f"for {layers} the field is {right(layers)} pixels, "
                   f"got {got}.")
        size = right(PATCH_DISCRIMINATOR_08)
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
        expect(not _close(got, forward), "only the X → Y → X cycle is there: add the "
               "Y → X → Y cycle, mean|x_to_y(y_to_x(y)) − y|.")
        expect(not _close(got, backward), "only the Y → X → Y cycle is there: add the "
               "X → Y → X cycle, mean|y_to_x(x_to_y(x)) − x|.")
        expect(not _close(got, mae(x_to_y(x), y) + mae(y_to_x(y), x)), "that compares "
               "translations with the *other* domain's batch, which is not its pair (there are "
               "no pairs): translate there *and back*, then compare with the input.")
        expect(not _close(got, mae(x_to_y(x_to_y(x)), x) + mae(y_to_x(y_to_x(y)), y)),
               "a round trip uses both translators: first x_to_y, then y_to_x for x.")
        squared = float(jnp.mean((y_to_x(x_to_y(x)) - x) ** 2) + jnp.mean(
            (x_to_y(y_to_x(y)) - y) ** 2))
        expect(not _close(got, squared), "that is the squared error: the cycle loss is an L1 "
               "(mean absolute) error.")
        expect(not _close(got, (forward + backward) / 2), "add the two directions; do not "
               "average them.")
        expect(_close(got, forward + backward), f"expected mean|G(F(x)) − x| + mean|F(G(y)) − y| "
               f"= {forward + backward:.4f}, got {got:.4f}.")
        return ("correct! Zero only when each translator undoes the other, which forces F(x) to "
                "keep what identifies x.")

    return run_check("cycle-consistency loss", body)
