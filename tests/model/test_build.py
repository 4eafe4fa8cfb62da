import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from vae_cli.cli.report import error_text
from vae_cli.config import ModelConfig, TrainConfig
from vae_cli.errors import RunError
from vae_cli.model.build import build_models, split_vae
from vae_cli.runs.modelfile import load_model, save_model

TINY = ModelConfig(latent_dim=3, encoder_filters=[4, 8], encoder_dense=8, decoder_channels=8, decoder_filters=[4])


@pytest.fixture(scope="module")
def models():
    return build_models(TINY, (28, 28, 1), TrainConfig(seed=0))


def test_default_architecture_is_the_classic_one():
    m = build_models(ModelConfig(), (28, 28, 1))
    shapes = {layer.name: layer.output.shape for layer in m.encoder.layers}
    assert shapes["encoder_conv_0"] == (None, 14, 14, 32) and shapes["encoder_conv_1"] == (None, 7, 7, 64)
    assert shapes["encoder_dense"] == (None, 64) and shapes["z_mean"] == (None, 2) and shapes["z_log_var"] == (None, 2)
    dec = {layer.name: layer for layer in m.decoder.layers}
    assert dec["decoder_dense"].output.shape == (None, 14 * 14 * 64)
    assert dec["decoder_deconv_0"].output.shape == (None, 28, 28, 32) and dec["decoder_deconv_0"].kernel_size == (3, 3)
    assert dec["x_logits"].kernel_size == (5, 5) and m.decoder.output.shape == (None, 28, 28, 1)
    assert not any(type(layer).__name__ == "Lambda" for layer in m.vae._flatten_layers())


def test_shapes_and_probability_range(models):
    x = np.random.default_rng(0).uniform(size=(5, 28, 28, 1)).astype("float32")
    z_mean, z_log_var = models.encoder.predict(x, verbose=0)
    assert z_mean.shape == (5, 3) and z_log_var.shape == (5, 3)
    images = models.decoder.predict(z_mean, verbose=0)
    assert images.shape == (5, 28, 28, 1) and images.min() >= 0 and images.max() <= 1
    assert models.vae.predict(x, verbose=0).shape == (5, 28, 28, 1)


def test_decoder_shares_weights_with_the_vae(models):
    assert {id(v) for v in models.decoder.weights} <= {id(v) for v in models.vae.weights}
    assert {id(v) for v in models.encoder.weights} <= {id(v) for v in models.vae.weights}


@pytest.mark.parametrize("shape", [(27, 28, 1), (45, 37, 3), (64, 64, 3), (32, 20, 1)])
def test_any_image_size_decodes_to_its_own_size(shape):
    m = build_models(ModelConfig(latent_dim=2, encoder_dense=8), shape)
    assert m.decoder.output.shape == (None, *shape) and m.vae.output.shape == (None, *shape)


def test_block_count_follows_the_image_size():
    from vae_cli.model.build import conv_sizes, halvings

    assert [halvings((s, s, 1)) for s in (28, 32, 64, 128)] == [2, 2, 3, 4]
    classic = conv_sizes(ModelConfig(), (28, 28, 1))
    assert (classic.encoder_filters, classic.decoder_filters, classic.decoder_channels) == ([32, 64], [32], 64)
    big = conv_sizes(ModelConfig(), (128, 128, 3))
    assert big.encoder_filters == [32, 64, 128, 256] and big.decoder_filters == [128, 64, 32]
    assert conv_sizes(TINY, (64, 64, 1)).encoder_filters == [4, 8]  # explicit sizes are kept


def test_three_models_save_and_reload(models, tmp_path):
    z = np.random.default_rng(1).normal(size=(4, 3)).astype("float32")
    x = np.random.default_rng(2).uniform(size=(4, 28, 28, 1)).astype("float32")
    for model, name in ((models.encoder, "encoder.h5"), (models.decoder, "decoder.h5"), (models.vae, "vae.h5")):
        save_model(model, tmp_path / name)
    np.testing.assert_array_equal(
        load_model(tmp_path / "decoder.h5").predict(z, verbose=0), models.decoder.predict(z, verbose=0)
    )
    np.testing.assert_array_equal(
        load_model(tmp_path / "encoder.h5").predict(x, verbose=0)[0], models.encoder.predict(x, verbose=0)[0]
    )
    vae = load_model(tmp_path / "vae.h5")
    split = split_vae(vae)
    np.testing.assert_array_equal(split.decoder.predict(z, verbose=0), models.decoder.predict(z, verbose=0))
    assert vae.get_layer("vae_loss").beta == 1.0
    assert not list(tmp_path.glob(".*tmp*")), "temporary files left behind"


@pytest.mark.slow
def test_plain_keras_loads_encoder_and_decoder_without_vae_cli(models, tmp_path):
    save_model(models.encoder, tmp_path / "encoder.h5")
    save_model(models.decoder, tmp_path / "decoder.h5")
    save_model(models.vae, tmp_path / "vae.h5")
    script = textwrap.dedent(f"""
        import sys, keras
        enc = keras.saving.load_model({str(tmp_path / "encoder.h5")!r}, safe_mode=True)
        dec = keras.saving.load_model({str(tmp_path / "decoder.h5")!r}, safe_mode=True)
        print(enc.output[0].shape, dec.output.shape)
        assert "vae_cli" not in sys.modules
        try:
            keras.saving.load_model({str(tmp_path / "vae.h5")!r}, safe_mode=True)
        except Exception as exc:
            print("vae.h5 needs vae_cli:", type(exc).__name__)
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        import vae_cli.layers  # the documented way to load vae.h5
        vae = keras.saving.load_model({str(tmp_path / "vae.h5")!r}, safe_mode=True)
        print("vae.h5 after import vae_cli.layers:", [type(layer).__name__ for layer in vae.layers][-1])
    """)
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "(None, 3) (None, 28, 28, 1)" in result.stdout
    assert "vae.h5 needs vae_cli" in result.stdout
    assert "vae.h5 after import vae_cli.layers: VAELoss" in result.stdout


def test_vae_trains_and_reports_the_three_losses(models):
    x = np.random.default_rng(3).uniform(size=(64, 28, 28, 1)).astype("float32")
    vae = build_models(TINY, (28, 28, 1), TrainConfig(seed=0)).vae
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = vae.fit(x, epochs=2, batch_size=16, validation_data=(x,), verbose=0).history
    for key in ("loss", "reconstruction_loss", "kl_loss", "val_loss", "val_reconstruction_loss", "val_kl_loss"):
        assert len(history[key]) == 2 and np.isfinite(history[key]).all()
    np.testing.assert_allclose(np.add(history["reconstruction_loss"], history["kl_loss"]), history["loss"], rtol=1e-4)


@pytest.mark.parametrize("content", [b"", b"not an hdf5 file at all", b"\x89HDF\r\n\x1a\n" + b"\x00" * 50])
def test_broken_model_files_are_one_clear_error(tmp_path, content):
    path = tmp_path / "decoder.h5"
    path.write_bytes(content)
    with pytest.raises(RunError, match="cannot load model .*decoder.h5.*not a model written by vae") as raised:
        load_model(path)
    assert error_text(raised.value).endswith("(or it is damaged): re-create it with `vae train`")


@pytest.mark.parametrize(
    "cfg, shape",
    [
        (ModelConfig(), (28, 28, 1)),
        (ModelConfig(latent_dim=7, architecture="conv_deep", kernel_size=5), (45, 37, 3)),
        (ModelConfig(encoder_filters=[4, 8, 16], decoder_filters=[8], decoder_channels=5), (33, 20, 1)),
        (ModelConfig(architecture="mlp", hidden_units=[30, 20], latent_dim=3), (12, 10, 3)),
    ],
)
def test_parameter_count_is_what_keras_builds(cfg, shape):
    from vae_cli.model.size import parameter_count

    models = build_models(cfg, shape)
    assert parameter_count(cfg, shape) == models.encoder.count_params() + models.decoder.count_params()


@pytest.mark.parametrize(
    "cfg, shape, message",
    [
        (ModelConfig(), (4, 1, 1), "images of 4x1 pixels are too small for 1 stride-2 convolutions"),
        (TINY, (1, 20000, 1), "images of 1x20000 pixels are too small for 2 stride-2 convolutions"),
        (ModelConfig(decoder_filters=[8] * 6), (28, 28, 1), "too small for 6 stride-2 decoder layers"),
        (ModelConfig(latent_dim=4096, encoder_filters=[256], encoder_dense=65536), (28, 28, 1), "parameters"),
        (ModelConfig(architecture="mlp", hidden_units=[65536] * 3), (28, 28, 1), "over the 200,000,000 allowed"),
    ],
)
def test_models_too_large_or_images_too_small_are_refused_unbuilt(cfg, shape, message):
    from vae_cli.errors import ConfigError
    from vae_cli.model.size import check_buildable

    with pytest.raises(ConfigError, match=message):
        check_buildable(cfg, shape)


def test_an_mlp_takes_any_image_size():
    from vae_cli.model.size import check_buildable

    assert check_buildable(ModelConfig(architecture="mlp", hidden_units=[8]), (4, 1, 1)) > 0
