"""The benchmark's own arithmetic and measuring code, and its baseline script's model and loss, on tiny inputs (no speed asserted)."""

import sys
from pathlib import Path

import numpy as np
import pytest

from vae_cli.config import ModelConfig

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
import blog_vae  # noqa: E402  (a script folder, not a package)
import eval_costs  # noqa: E402
import step_costs  # noqa: E402


def test_training_flops_of_the_classic_model_match_a_count_by_hand():
    forward = (
        2 * 14 * 14 * 32 * 1 * 9  # encoder Conv2D 32, 3x3, stride 2
        + 2 * 7 * 7 * 64 * 32 * 9  # encoder Conv2D 64, 3x3, stride 2
        + 2 * 3136 * 64  # encoder Dense 64
        + 2 * (2 * 64 * 2)  # z_mean and z_log_var
        + 2 * 2 * 14 * 14 * 64  # decoder Dense
        + 2 * 14 * 14 * 64 * 32 * 9  # Conv2DTranspose 32, 3x3, counted on its input
        + 2 * 28 * 28 * 32 * 1 * 25  # output Conv2D 1, 5x5
    )
    assert step_costs.training_flops(ModelConfig()) == 3 * forward


def test_compute_layers_lists_encoder_then_decoder_in_data_order():
    from vae_cli.model.build import build_models

    vae = build_models(ModelConfig(), (28, 28, 1)).vae
    names = [layer.name for layer in step_costs.compute_layers(vae)]
    assert names == [
        "encoder_conv_0",
        "encoder_conv_1",
        "encoder_dense",
        "z_mean",
        "z_log_var",
        "decoder_dense",
        "decoder_deconv_0",
        "x_logits",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("numpy_arrays", [True, False])
def test_images_per_second_trains_and_reports_a_rate(numpy_arrays):
    tiny = ModelConfig(encoder_filters=[4, 8], encoder_dense=8, decoder_channels=8, decoder_filters=[4])
    images = np.random.default_rng(0).integers(0, 256, (64, 28, 28, 1), dtype=np.uint8)
    rate = step_costs.images_per_second(tiny, images, 16, "float32", numpy_arrays, passes=1)
    assert np.isfinite(rate) and rate > 0


# ------------------------------------------------------------------ the baseline: the blog script's Keras 3 port


def test_blog_model_has_the_blog_posts_layers():
    import keras

    keras.utils.set_random_seed(0)
    encoder, decoder, vae = blog_vae.create_model()
    by_hand = (
        (9 * 1 * 32 + 32)  # Conv2D 32, 3x3, stride 2
        + (9 * 32 * 64 + 64)  # Conv2D 64, 3x3, stride 2
        + (3136 * 64 + 64)  # Dense 64
        + 2 * (64 * 2 + 2)  # mean and "variance"
        + (2 * 12544 + 12544)  # Dense 14x14x64
        + (9 * 64 * 32 + 32)  # Conv2DTranspose 32, 3x3, stride 2
        + (25 * 32 + 1)  # Conv2D 1, 5x5, sigmoid
    )
    assert vae.count_params() == by_hand
    assert decoder.layers[-1].activation is keras.activations.sigmoid
    assert encoder.output.shape[-1] == 2 and decoder.output.shape[1:] == (28, 28, 1)


def test_blog_loss_is_mean_bce_plus_5e_4_times_mean_kl_terms():
    import keras

    rng = np.random.default_rng(0)
    x = rng.random((4, 28, 28, 1)).astype("float32")
    p = rng.uniform(0.01, 0.99, (4, 28, 28, 1)).astype("float32")
    m, v = rng.normal(size=(4, 2)).astype("float32"), rng.normal(size=(4, 2)).astype("float32")
    got = float(keras.ops.convert_to_numpy(blog_vae.create_vae_loss_tensor(x, p, m, v)))
    bce = -np.mean(x * np.log(p) + (1 - x) * np.log(1 - p))  # one mean over every pixel of the batch
    kl = -5e-4 * np.mean(1 + v - m**2 - np.exp(v), axis=-1)
    assert got == pytest.approx(np.mean(bce + kl), rel=1e-5)


def test_blog_sampling_uses_exp_v_as_the_standard_deviation():
    import keras

    keras.utils.set_random_seed(0)
    mean = np.full((20000, 2), 1.0, "float32")
    v = np.full((20000, 2), np.log(3.0), "float32")
    z = keras.ops.convert_to_numpy(blog_vae.mean_variance_merge([mean, v]))
    assert z.mean() == pytest.approx(1.0, abs=0.1) and z.std() == pytest.approx(3.0, rel=0.03)  # not sqrt(3)


@pytest.mark.slow
def test_blog_script_trains_a_step_and_is_measured_on_the_posterior_it_samples():
    import keras

    keras.utils.set_random_seed(0)
    encoder, decoder, vae = blog_vae.create_model()
    x = np.random.default_rng(1).random((64, 28, 28, 1)).astype("float32")
    clock = blog_vae.EpochClock()
    history = blog_vae.fit(vae, x, x[:32], epochs=1, callbacks=[clock])
    assert np.isfinite(history.history["loss"][0]) and "val_loss" in history.history and len(clock.seconds) == 1
    measuring_encoder, decoder_logits = blog_vae.measuring_models(encoder, decoder, vae)
    mean, log_var = (keras.ops.convert_to_numpy(t) for t in measuring_encoder(x[:4]))
    variance_layer = [layer for layer in vae.layers if isinstance(layer, keras.layers.Dense) and layer.units == 2][1]
    features = keras.Model(vae.input, variance_layer.input)(x[:4])
    np.testing.assert_allclose(mean, keras.ops.convert_to_numpy(encoder(x[:4])), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(log_var, 2 * keras.ops.convert_to_numpy(variance_layer(features)), rtol=1e-5, atol=1e-6)
    z = np.random.default_rng(2).normal(size=(8, 2)).astype("float32")
    probabilities = keras.ops.convert_to_numpy(keras.ops.sigmoid(decoder_logits(z)))
    np.testing.assert_allclose(probabilities, keras.ops.convert_to_numpy(decoder(z)), atol=1e-6)
    m = blog_vae.measure_test_elbo(encoder, decoder, vae, x[:8], seed=0, samples=2)
    assert np.isfinite(m.negative_elbo) and m.negative_elbo == pytest.approx(m.reconstruction + m.kl)


@pytest.mark.slow
def test_evaluation_baseline_runs_the_other_checkouts_vae_cli_even_from_this_one(tmp_path):
    import subprocess

    cli = tmp_path / "vae_cli" / "cli"
    cli.mkdir(parents=True)
    (tmp_path / "vae_cli" / "__init__.py").write_text("")
    (cli / "__init__.py").write_text("")
    (cli / "main.py").write_text("import sys\ndef main():\n    print('other checkout', sys.argv[1:])\n    return 0\n")
    root = Path(__file__).resolve().parents[1]  # where this checkout's vae_cli would shadow a plain -m vae_cli
    out = subprocess.run(
        eval_costs.baseline_command(tmp_path) + ["evaluate", "--k", "3"], cwd=root, capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.strip() == "other checkout ['evaluate', '--k', '3']"


def test_the_peer_recipe_is_pytorchs_example_network_on_all_60000_images():
    import bench

    from vae_cli.cli.options import set_override
    from vae_cli.config import resolve_config
    from vae_cli.model.build import build_models

    cfg, _ = resolve_config(str(bench.SHIPPED), [set_override(item) for item in bench.PEER_RECIPE])
    assert cfg.data.validation_size == 0 and cfg.train.early_stopping_patience is None
    assert (cfg.train.batch_size, cfg.train.learning_rate, cfg.train.lr_schedule, cfg.train.epochs) == (
        128,
        1e-3,
        "constant",
        10,
    )
    models = build_models(cfg.model, (28, 28, 1), cfg.train, 0)
    dense = [layer.units for layer in models.encoder.layers + models.decoder.layers if hasattr(layer, "units")]
    assert dense == [400, 20, 20, 400, 784]  # 784-400-20 (mean and log-variance), mirrored, as the example


def test_time_outside_the_epochs_counts_the_first_step_and_leaves_the_import_out():
    import bench

    run = {"wall": 100.0, "train": 80.0, "phases": {"tensorflow_import": 5.0, "first_step": 2.0}}
    assert bench.outside_epochs(run) == pytest.approx(17.0)  # 100 - 5 - 80 + 2
