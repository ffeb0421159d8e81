import jax.numpy as jnp
import pytest
from flax import nnx

from course_utils import exercises as ex
from course_utils.models import MLPAutoencoder


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
