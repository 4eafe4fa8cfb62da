"""Evaluation's decoder: the depthwise output convolution, mixed precision against float32, the fallback."""

import keras
import numpy as np
import pytest

from vae_cli.config import ModelConfig
from vae_cli.model.build import build_models, logits_of
from vae_cli.model.estimate import GUARD_IMAGES, MIXED_TOLERANCE, Estimate, evaluate
from vae_cli.model.fast_decode import decoder_for_evaluation, depthwise_form_applies

TINY = {"encoder_filters": [4, 8], "encoder_dense": 8, "decoder_channels": 8, "decoder_filters": [4]}


def tiny_conv(shape=(28, 28, 1), seed=0, **overrides):
    keras.utils.set_random_seed(seed)
    models = build_models(ModelConfig(**{**TINY, **overrides}), shape)
    return models.encoder, logits_of(models.decoder)


@pytest.mark.parametrize(
    "shape, overrides",
    [
        ((28, 28, 1), {}),
        ((20, 20, 3), {}),
        ((28, 28, 1), {"output_kernel_size": 4}),
        ((28, 28, 1), {"architecture": "mlp", "hidden_units": [16]}),
    ],
)
def test_evaluation_decoder_computes_what_the_decoder_computes(shape, overrides):
    _, decoder_logits = tiny_conv(shape, **overrides)
    for layer in decoder_logits.layers:  # the trained weights would be zero-mean noise; make the logits large
        layer.set_weights([w * 3 for w in layer.get_weights()])
    z = np.random.default_rng(0).standard_normal((64, 2)).astype("float32")
    expected = keras.ops.convert_to_numpy(decoder_logits(z))
    got = decoder_for_evaluation(decoder_logits)(z).numpy()
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    mixed = decoder_for_evaluation(decoder_logits, "mixed_bfloat16")(z).numpy()
    assert mixed.dtype == np.float32
    np.testing.assert_allclose(mixed, expected, atol=0.05 * np.abs(expected).max())  # bfloat16: about 3 digits
    assert not np.array_equal(mixed, got)  # really another precision


def test_only_plain_few_channel_convolutions_take_the_depthwise_form():
    _, decoder_logits = tiny_conv()
    forms = {layer.name: depthwise_form_applies(layer) for layer in decoder_logits.layers}
    assert forms["x_logits"] and not forms["decoder_deconv_0"] and not forms["decoder_dense"]
    assert not depthwise_form_applies(keras.layers.Conv2D(1, 3, strides=2, padding="same"))
    assert not depthwise_form_applies(keras.layers.Conv2D(1, 3, padding="valid"))
    assert not depthwise_form_applies(keras.layers.Conv2D(32, 3, padding="same"))


@pytest.mark.slow
def test_mixed_precision_estimates_stay_within_tolerance_of_float32_on_the_same_draws():
    encoder, decoder_logits = tiny_conv()
    images = np.random.default_rng(1).random((4 * GUARD_IMAGES + 4, 28, 28, 1)).astype("float32")
    reference = evaluate(encoder, decoder_logits, images, Estimate(k=50, samples=4, seed=3))
    mixed = evaluate(encoder, decoder_logits, images, Estimate(k=50, samples=4, seed=3, precision="mixed_bfloat16"))
    few = evaluate(
        encoder, decoder_logits, images[: 4 * GUARD_IMAGES - 1], Estimate(k=5, samples=1, precision="mixed_bfloat16")
    )
    assert few.precision == "float32"  # too few images for the check to pay
    assert reference.precision == "float32" and mixed.precision == "mixed_bfloat16"
    assert mixed.nll == pytest.approx(reference.nll, abs=MIXED_TOLERANCE)
    assert mixed.negative_elbo == pytest.approx(reference.negative_elbo, abs=MIXED_TOLERANCE)
    assert mixed.nll != reference.nll  # decoded in bfloat16, not silently in float32
    assert mixed.kl_per_dim == reference.kl_per_dim  # the encoder runs once, in float32, either way


@pytest.mark.slow
def test_mixed_precision_falls_back_to_float32_when_it_would_move_the_estimate():
    encoder, decoder_logits = tiny_conv()
    images = np.random.default_rng(1).random((4 * GUARD_IMAGES, 28, 28, 1)).astype("float32")
    assert (
        evaluate(encoder, decoder_logits, images, Estimate(k=20, samples=2, precision="mixed_bfloat16")).precision
        != "float32"
    )
    dense = decoder_logits.get_layer("decoder_dense")
    dense.set_weights([w * 300 for w in dense.get_weights()])  # logits in the thousands: bfloat16 is off by nats
    reference = evaluate(encoder, decoder_logits, images, Estimate(k=20, samples=2, seed=3))
    seen = []
    fallback = evaluate(
        encoder,
        decoder_logits,
        images,
        Estimate(k=20, samples=2, seed=3, precision="mixed_bfloat16"),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert fallback.precision == "float32"
    assert fallback.nll == reference.nll and fallback.negative_elbo == reference.negative_elbo
    assert seen[-1] == (len(images), len(images)) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[0][0] >= GUARD_IMAGES, "progress starts after the guarded images, which are decoded twice"


def test_elbo_draws_are_the_first_of_the_k_importance_draws():
    encoder, decoder_logits = tiny_conv()
    images = np.random.default_rng(1).random((3, 28, 28, 1)).astype("float32")
    both = evaluate(encoder, decoder_logits, images, Estimate(k=30, samples=5, seed=2))
    elbo_only = evaluate(encoder, decoder_logits, images, Estimate(k=0, samples=5, seed=2))
    assert both.negative_elbo == pytest.approx(elbo_only.negative_elbo, rel=1e-12)
    assert elbo_only.nll is None


@pytest.mark.parametrize(
    "trained, machine, decoded",
    [
        ("float32", "mixed_bfloat16", "float32"),
        ("mixed_bfloat16", "mixed_bfloat16", "mixed_bfloat16"),
        ("mixed_bfloat16", "float32", "float32"),  # bfloat16 without native support is emulated: slow
    ],
)
def test_a_run_is_decoded_in_its_training_precision_where_this_machine_has_it(monkeypatch, trained, machine, decoded):
    from vae_cli import backend
    from vae_cli.runs.evaluation import decode_precision

    monkeypatch.setattr(backend, "resolve_precision", lambda setting: machine if setting == "auto" else setting)
    assert decode_precision({"precision": trained}) == decoded
    assert decode_precision({}) == "float32"  # a manifest from before precision was recorded
