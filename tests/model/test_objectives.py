"""The layers of the other objectives (several samples, the IWAE bound, the autoencoder's loss) and the model kinds."""

import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import pytest
from scipy.special import logsumexp

from vae_cli.config import load_config
from vae_cli.layers import MultiSampleLoss, MultiSampling, ReconstructionLoss, RepeatSamples
from vae_cli.model.build import build_models, split_vae
from vae_cli.runs.modelfile import load_model, save_model

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
TINY = [
    ("model.encoder_filters", [4, 8]),
    ("model.encoder_dense", 8),
    ("model.decoder_channels", 8),
    ("model.decoder_filters", [4]),
    ("model.latent_dim", 3),
]


def bce(x, logits):
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    return -(x * np.log(p) + (1 - x) * np.log(1 - p))


def log_normal(z, mean, log_var):
    return -0.5 * np.sum((z - mean) ** 2 / np.exp(log_var) + log_var + np.log(2 * np.pi), axis=-1)


@pytest.mark.parametrize(
    "layer",
    [
        MultiSampling(samples=4, seed=3, name="z"),
        RepeatSamples(samples=4, name="r"),
        MultiSampleLoss(samples=5, objective="iwae", beta=0.5, likelihood="gaussian", sigma=0.2, name="l"),
        MultiSampleLoss(samples=2, objective="elbo", name="m"),
        ReconstructionLoss(likelihood="gaussian", sigma=None, name="a"),
    ],
)
def test_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer) and restored.get_config() == config


def test_argument_checks():
    with pytest.raises(ValueError, match="Received: samples=0"):
        MultiSampling(samples=0)
    with pytest.raises(ValueError, match="Received: samples=1.5"):
        RepeatSamples(samples=1.5)
    with pytest.raises(ValueError, match="Received: objective='vimco'"):
        MultiSampleLoss(samples=2, objective="vimco")
    with pytest.raises(ValueError, match="Received: likelihood='poisson'"):
        ReconstructionLoss(likelihood="poisson")


def test_multi_sampling_is_image_major_and_matches_the_repeated_labels():
    z_mean = np.array([[0.0, 0.0], [10.0, 10.0]], "float32")
    z = np.asarray(MultiSampling(samples=3, seed=1)([z_mean, np.full((2, 2), -20.0, "float32")]))
    np.testing.assert_allclose(z, np.repeat(z_mean, 3, axis=0), atol=1e-3)  # tiny variance: the means, in order
    labels = np.asarray(RepeatSamples(samples=3)(np.eye(2, dtype="float32")))
    np.testing.assert_array_equal(labels, np.repeat(np.eye(2), 3, axis=0))
    n = 100_000
    draws = np.asarray(MultiSampling(samples=2, seed=2)([np.ones((n, 1), "float32"), np.zeros((n, 1), "float32")]))
    assert draws.shape == (2 * n, 1) and draws.mean() == pytest.approx(1.0, abs=0.01)
    assert draws.std() == pytest.approx(1.0, abs=0.01)


def loss_inputs(batch=3, k=4, dim=2, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.uniform(size=(batch, 2, 2, 1)) < 0.5).astype("float32")
    logits = rng.normal(scale=2.0, size=(batch * k, 2, 2, 1)).astype("float32")
    z_mean = rng.normal(size=(batch, dim)).astype("float32")
    z_log_var = rng.normal(scale=0.3, size=(batch, dim)).astype("float32")
    z = np.repeat(z_mean, k, 0) + np.exp(0.5 * np.repeat(z_log_var, k, 0)) * rng.normal(size=(batch * k, dim))
    return x, logits, z_mean, z_log_var, z.astype("float32")


def test_iwae_loss_is_the_log_mean_exp_of_the_importance_weights():
    batch, k = 3, 4
    x, logits, z_mean, z_log_var, z = loss_inputs(batch, k)
    layer = MultiSampleLoss(samples=k, objective="iwae", beta=1.0)
    layer([x, logits, z_mean, z_log_var, z])
    log_px = -bce(np.repeat(x, k, 0), logits).reshape(batch, k, -1).sum(-1)
    zk = z.reshape(batch, k, -1).astype(np.float64)
    log_w = log_px + log_normal(zk, 0.0, 0.0) - log_normal(zk, z_mean[:, None], z_log_var[:, None])
    bound = logsumexp(log_w, axis=1) - np.log(k)
    assert float(layer.losses[0]) == pytest.approx(-bound.mean(), rel=1e-5)
    assert float(layer.iwae_tracker.result()) == pytest.approx(-bound.mean(), rel=1e-5)
    assert float(layer.reconstruction_tracker.result()) == pytest.approx(-log_px.mean(), rel=1e-5)
    # The bound lies above the k-sample ELBO (Burda et al., Theorem 1).
    assert -bound.mean() <= -log_w.mean()


def test_the_warmup_weight_scales_the_prior_ratio_but_iwae_loss_stays_at_beta():
    x, logits, z_mean, z_log_var, z = loss_inputs()
    layer = MultiSampleLoss(samples=4, objective="iwae", beta=1.0)
    layer([x, logits, z_mean, z_log_var, z])
    full = float(layer.losses[0])
    layer.kl_weight.assign(0.0)
    layer.iwae_tracker.reset_state()
    layer([x, logits, z_mean, z_log_var, z])
    assert float(layer.losses[-1]) != pytest.approx(full)
    assert float(layer.iwae_tracker.result()) == pytest.approx(full, rel=1e-6)


def test_multi_sample_elbo_averages_the_samples_and_adds_the_analytic_kl():
    batch, k = 3, 4
    x, logits, z_mean, z_log_var, z = loss_inputs(batch, k)
    layer = MultiSampleLoss(samples=k, objective="elbo", beta=0.5)
    out = layer([x, logits, z_mean, z_log_var, z])
    recon = bce(np.repeat(x, k, 0), logits).reshape(batch, k, -1).sum(-1).mean(1)
    kl = -0.5 * (1 + z_log_var - z_mean**2 - np.exp(z_log_var)).sum(1)
    assert float(layer.losses[0]) == pytest.approx(recon.mean() + 0.5 * kl.mean(), rel=1e-5)
    first = 1 / (1 + np.exp(-logits.reshape(batch, k, 2, 2, 1)[:, 0]))
    np.testing.assert_allclose(np.asarray(out), first, rtol=1e-5)


def test_reconstruction_loss_has_no_kl():
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(5, 3, 3, 1)).astype("float32")
    logits = rng.normal(size=(5, 3, 3, 1)).astype("float32")
    layer = ReconstructionLoss()
    layer([x, logits])
    assert float(layer.losses[0]) == pytest.approx(bce(x, logits).reshape(5, -1).sum(1).mean(), rel=1e-5)
    assert [m.name for m in layer.metrics] == ["reconstruction_loss"]


def models_of(kind, objective="elbo", samples=1, architecture="conv", extra=()):
    cfg = load_config(
        None,
        [("model.kind", kind), ("model.architecture", architecture), ("train.objective", objective)]
        + [("train.samples", samples)]
        + (TINY if architecture != "layers" else [])
        + list(extra),
    )
    return build_models(cfg.model, (28, 28, 1), replace(cfg.train, seed=0), 10)


def test_each_kind_has_its_inputs_and_heads():
    ae = models_of("ae")
    assert ae.encoder.output.shape == (None, 3) and ae.decoder.input.shape == (None, 3)
    assert type(ae.vae.get_layer("vae_loss")) is ReconstructionLoss
    assert not any(type(layer).__name__ in ("Sampling", "MultiSampling") for layer in ae.vae.layers)
    cvae = models_of("cvae")
    assert [tuple(i.shape) for i in cvae.encoder.inputs] == [(None, 28, 28, 1), (None, 10)]
    assert [i.name for i in cvae.decoder.inputs] == ["z", "label"]  # [z, y_onehot], in that order
    assert [tuple(i.shape) for i in cvae.decoder.inputs] == [(None, 3), (None, 10)]
    iwae = models_of("cvae", "iwae", 5)
    assert type(iwae.vae.get_layer("vae_loss")) is MultiSampleLoss and iwae.vae.get_layer("z").samples == 5


def test_a_cvae_decoder_uses_its_label():
    cvae = models_of("cvae")
    x = np.random.default_rng(0).uniform(size=(2, 28, 28, 1)).astype("float32")
    cvae.vae.compile(optimizer="adam")
    cvae.vae.fit({"image": x, "label": np.eye(10, dtype="float32")[[1, 2]]}, epochs=1, verbose=0)
    z = np.zeros((2, 3), "float32")
    a = cvae.decoder.predict([z, np.eye(10, dtype="float32")[[1, 1]]], verbose=0)
    b = cvae.decoder.predict([z, np.eye(10, dtype="float32")[[1, 2]]], verbose=0)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[1], b[1])


@pytest.mark.parametrize(
    "kind, objective, samples", [("ae", "elbo", 1), ("cvae", "elbo", 1), ("vae", "iwae", 3), ("cvae", "iwae", 2)]
)
def test_saved_models_reload_under_safe_mode(tmp_path, kind, objective, samples):
    models = models_of(kind, objective, samples)
    for model, name in ((models.encoder, "encoder.h5"), (models.decoder, "decoder.h5"), (models.vae, "vae.h5")):
        save_model(model, tmp_path / name)
    vae = load_model(tmp_path / "vae.h5")
    assert vae.get_layer("vae_loss").get_config() == models.vae.get_layer("vae_loss").get_config()
    for a, b in zip(vae.weights, models.vae.weights, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    split = split_vae(vae)
    z = np.random.default_rng(1).normal(size=(4, 3)).astype("float32")
    inputs = [z, np.eye(10, dtype="float32")[:4]] if kind == "cvae" else z
    np.testing.assert_array_equal(split.decoder.predict(inputs, verbose=0), models.decoder.predict(inputs, verbose=0))


@pytest.mark.slow
def test_plain_keras_loads_every_kinds_encoder_and_decoder(tmp_path):
    for kind in ("ae", "cvae"):
        models = models_of(
            kind,
            architecture="layers",
            extra=[
                ("model.encoder_layers", [{"conv": 4, "stride": 2}, {"pool": 2}, {"dense": 8}]),
                (
                    "model.decoder_layers",
                    [
                        {"dense": 196},
                        {"reshape": [7, 7, 4]},
                        {"upsample": 2},
                        {"conv_transpose": 4, "stride": 2},
                        {"conv": 1},
                    ],
                ),
            ],
        )
        save_model(models.encoder, tmp_path / f"{kind}-encoder.h5")
        save_model(models.decoder, tmp_path / f"{kind}-decoder.h5")
    script = textwrap.dedent(f"""
        import sys, keras, numpy as np
        folder = {str(tmp_path)!r}
        ae_enc = keras.saving.load_model(folder + "/ae-encoder.h5", safe_mode=True)
        ae_dec = keras.saving.load_model(folder + "/ae-decoder.h5", safe_mode=True)
        code = ae_enc.predict(np.zeros((2, 28, 28, 1)), verbose=0)
        print("ae", code.shape, ae_dec.predict(code, verbose=0).shape)
        dec = keras.saving.load_model(folder + "/cvae-decoder.h5", safe_mode=True)
        print("cvae", [i.name for i in dec.inputs], dec.predict([np.zeros((2, 2)), np.eye(10)[:2]], verbose=0).shape)
        assert "vae_cli" not in sys.modules
    """)
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ae (2, 2) (2, 28, 28, 1)" in result.stdout  # layers: the default latent_dim 2
    assert "cvae ['z', 'label'] (2, 28, 28, 1)" in result.stdout


SEED_LAYERS = {
    "seed_000_keras_conv_vae": ["Conv2D", "Conv2D", "Flatten", "Dense"],
    "seed_001_keras_pool_upsample": ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense"],
    "seed_002_keras_linear_convs": ["Conv2D", "Conv2D", "Conv2D", "Conv2D", "Flatten", "Dense"],
    "seed_003_tf2_conv_vae": ["Conv2D", "Conv2D", "Flatten"],
}


@pytest.mark.parametrize("name", sorted(p.stem for p in (CONFIGS / "seeds").glob("*.yaml")))
def test_each_seed_config_builds_its_posts_network(name):
    cfg = load_config(CONFIGS / "seeds" / f"{name}.yaml")
    models = build_models(cfg.model, (28, 28, 1), replace(cfg.train, seed=0))
    assert models.decoder.output.shape == (None, 28, 28, 1)
    encoder = [type(layer).__name__ for layer in models.encoder.layers[1:]]
    if name in SEED_LAYERS:
        assert encoder[: len(SEED_LAYERS[name])] == SEED_LAYERS[name]
    decoder = [type(layer).__name__ for layer in models.decoder.layers]
    if name == "seed_003_tf2_conv_vae":
        assert decoder.count("Conv2DTranspose") == 3 and cfg.data.binarize == "static" and cfg.model.latent_dim == 50
    if name == "seed_001_keras_pool_upsample":
        assert decoder.count("UpSampling2D") == 2 and cfg.train.beta == 0.1
    if name == "seed_000_keras_conv_vae":
        assert cfg.train.beta == pytest.approx(784 * 5e-4)
    if name.startswith("seed_004"):
        assert cfg.data.dataset == "fashion_mnist" and cfg.model.latent_dim == 20
