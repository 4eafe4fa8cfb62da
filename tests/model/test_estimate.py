"""Evaluation: the IWAE bound against the ELBO and an exact likelihood, binarization, metrics.json."""

import json

import keras
import numpy as np
import pytest
from conftest import TINY_MODEL

from vae_cli.cli.main import main
from vae_cli.data.types import prepare
from vae_cli.model.estimate import Estimate, evaluate


def tiny_vae(latent_dim, pixels=4, seed=0):
    """A small random encoder / decoder-logits pair on 2 x (pixels/2) binary images."""
    keras.utils.set_random_seed(seed)
    shape = (2, pixels // 2, 1)
    x = keras.Input(shape)
    h = keras.layers.Dense(8, activation="tanh")(keras.layers.Flatten()(x))
    z_mean = keras.layers.Dense(latent_dim)(h)
    z_log_var = keras.layers.Dense(latent_dim, bias_initializer=keras.initializers.Constant(-1.0))(h)
    encoder = keras.Model(x, [z_mean, z_log_var])
    z = keras.Input((latent_dim,))
    logits = keras.layers.Dense(pixels, kernel_initializer=keras.initializers.RandomNormal(stddev=2.0))(
        keras.layers.Dense(8, activation="tanh", kernel_initializer=keras.initializers.RandomNormal(stddev=1.5))(z)
    )
    decoder_logits = keras.Model(z, keras.layers.Reshape(shape)(logits))
    images = (np.random.default_rng(seed).random((16, *shape)) < 0.5).astype("float32")
    return encoder, decoder_logits, images


def exact_nll(decoder_logits, images):
    """-log p(x) by integrating p(x|z) N(z; 0, 1) over a fine 1-D grid (trapezoid rule)."""
    z = np.linspace(-10, 10, 40001, dtype="float32")[:, None]
    logits = keras.ops.convert_to_numpy(decoder_logits(z)).reshape(len(z), -1).astype(np.float64)
    log_sig, log_1m = -np.logaddexp(0, -logits), -np.logaddexp(0, logits)
    flat = images.reshape(len(images), -1)
    log_px_z = flat @ log_sig.T + (1 - flat) @ log_1m.T  # (images, grid)
    log_prior = -0.5 * z[:, 0].astype(np.float64) ** 2 - 0.5 * np.log(2 * np.pi)
    log_joint = log_px_z + log_prior
    weights = np.full(len(z), z[1, 0] - z[0, 0], dtype=np.float64)
    weights[[0, -1]] /= 2
    top = log_joint.max(axis=1, keepdims=True)
    return -(top[:, 0] + np.log(np.exp(log_joint - top) @ weights)).mean()


def test_iwae_matches_the_exact_likelihood_of_a_1d_latent_model():
    encoder, decoder_logits, images = tiny_vae(latent_dim=1)
    # The untrained encoder's posterior is narrower than the true one, so its importance weights
    # are heavy-tailed and k = 5000 estimates still spread by +-0.06 nats between seeds. A wider
    # proposal (std 1.6) keeps the weights bounded: the estimate must then converge for every seed.
    z_log_var = encoder.layers[-1]
    kernel, bias = z_log_var.get_weights()
    z_log_var.set_weights([kernel, np.full_like(bias, 1.0)])
    exact = exact_nll(decoder_logits, images)
    for seed in (0, 1, 2):
        m = evaluate(encoder, decoder_logits, images, Estimate(k=5000, samples=50, seed=seed))
        assert m.nll == pytest.approx(exact, abs=0.02), seed
        assert m.negative_elbo > exact + 0.01  # the ELBO is a strictly looser bound here


def test_iwae_tightens_with_k_and_equals_the_elbo_at_k1_in_expectation():
    encoder, decoder_logits, images = tiny_vae(latent_dim=2, pixels=8, seed=3)
    many = np.repeat(images, 64, axis=0)  # 1,024 draws per estimate
    k1 = evaluate(encoder, decoder_logits, many, Estimate(k=1, samples=1, seed=5))
    elbo = evaluate(encoder, decoder_logits, images, Estimate(k=0, samples=2000, seed=6))
    spread = 0.05 * elbo.negative_elbo
    assert k1.nll == pytest.approx(elbo.negative_elbo, abs=spread)
    nll = [evaluate(encoder, decoder_logits, images, Estimate(k=k, samples=1, seed=7)).nll for k in (1, 10, 100, 2000)]
    assert all(later <= earlier + 0.02 for earlier, later in zip(nll, nll[1:], strict=False)), nll
    assert nll[-1] < elbo.negative_elbo


def test_kl_per_dimension_and_active_units():
    encoder, decoder_logits, images = tiny_vae(latent_dim=3, seed=2)
    dense = encoder.layers[-2]  # z_mean
    kernel, bias = dense.get_weights()
    kernel[:, 1] = 0.0  # dimension 1's mean no longer depends on the image
    dense.set_weights([kernel, bias])
    m = evaluate(encoder, decoder_logits, images, Estimate(k=0, samples=2))
    assert len(m.kl_per_dim) == 3 and m.kl == pytest.approx(sum(m.kl_per_dim))
    assert m.active_units == 2
    assert all(v >= 0 for v in m.kl_per_dim)


def test_binarization_modes():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (200, 28, 28, 1)).astype(np.uint8)
    grey = prepare(images, "none")
    assert grey.dtype == np.float32 and 0 <= grey.min() and grey.max() <= 1
    static = prepare(images, "static")
    np.testing.assert_array_equal(static, (grey > 0.5).astype("float32"))
    dynamic = prepare(images, "dynamic")
    assert set(np.unique(dynamic)) <= {0.0, 1.0}
    np.testing.assert_array_equal(dynamic, prepare(images, "dynamic"))  # the test set is drawn once
    assert abs(dynamic.mean() - grey.mean()) < 0.01  # Bernoulli(intensity)
    assert not np.array_equal(dynamic, static)


def test_dynamic_training_batches_are_redrawn_each_epoch_and_reproducible():
    from vae_cli import backend

    backend.load()
    from vae_cli.training.pipeline import TrainingImages, train_pipeline

    images = np.full((8, 4, 4, 1), 128, np.uint8)
    epochs = [b.numpy() for b in train_pipeline(TrainingImages(images, "dynamic"), 8, 0, 3)]
    assert all(set(np.unique(e)) <= {0.0, 1.0} for e in epochs)
    assert not np.array_equal(epochs[0], epochs[1])
    resumed = [b.numpy() for b in train_pipeline(TrainingImages(images, "dynamic", first_epoch=1), 8, 0, 3)]
    np.testing.assert_array_equal(resumed[0], epochs[1])
    static = next(iter(train_pipeline(TrainingImages(images, "static"), 8, 0, 1))).numpy()
    assert static.max() == 1.0 and static.min() == 1.0  # 128/255 > 0.5


@pytest.mark.slow
def test_evaluate_command_writes_metrics_json(capsys, data_dir, tmp_path):
    args = [
        "train",
        "--data-dir",
        str(data_dir),
        "--set",
        f"output.dir={tmp_path}",
        "--set",
        "train.epochs=1",
        "--set",
        "data.binarize=dynamic",
        "--set",
        "model.latent_dim=3",
        "--set",
        "train.kl_warmup_epochs=1",
    ]
    for item in TINY_MODEL:
        args += ["--set", item]
    assert main(args) == 0
    run_dir = next(tmp_path.iterdir())
    capsys.readouterr()
    assert main(["evaluate", "--run", str(run_dir), "--k", "20", "--samples", "2", "--limit", "16"]) == 0
    out, err = capsys.readouterr()
    assert "binarize dynamic" in out and "NLL (IWAE, k=20" in out and "active units" in out
    assert out.splitlines()[-1] == str(run_dir / "kl-per-dim-first16.png") and "16/16" in err  # a progress line
    assert main(["evaluate", "--run", str(run_dir), "--k", "0", "--binarize", "static", "--limit", "16"]) == 0
    out = capsys.readouterr().out
    assert "binarize static (trained with dynamic)" in out and out.endswith("kl-per-dim-first16-static.png\n")
    assert main(["evaluate", "--run", str(run_dir), "--k", "5", "--samples", "1"]) == 0  # the defaults: 2,000 images
    out = capsys.readouterr().out
    assert "64 test images" in out and out.splitlines()[-1] == str(run_dir / "kl-per-dim.png")
    assert main(["evaluate", "--run", str(run_dir), "--k", "5", "--samples", "1", "--limit", "all"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == str(run_dir / "kl-per-dim-all.png")
    # A --limit past the test set's 64 images is the whole set: the figure is named as its entry is keyed.
    assert main(["evaluate", "--run", str(run_dir), "--k", "5", "--samples", "1", "--limit", "100000"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == str(run_dir / "kl-per-dim-all.png")
    assert not list(run_dir.glob("kl-per-dim-first100000*"))
    recorded = json.loads((run_dir / "metrics.json").read_text())
    assert set(recorded) == {"k20-samples2-dynamic-first16", "k0-samples10-static-first16", "k5-samples1-dynamic"}
    entry = recorded["k20-samples2-dynamic-first16"]
    for key in (
        "date",
        "images",
        "k",
        "samples",
        "binarize",
        "negative_elbo",
        "reconstruction",
        "kl",
        "nll",
        "active_units",
        "kl_per_dim",
        "z_mean_variance",
        "versions",
        "precision",
    ):
        assert key in entry, key
    assert entry["images"] == 16 and entry["k"] == 20 and len(entry["kl_per_dim"]) == 3
    assert entry["nll"] <= entry["negative_elbo"] + 1.0
    assert recorded["k0-samples10-static-first16"]["nll"] is None

    (run_dir / "metrics.json").write_text("[1, 2]")  # damaged: refused, never replaced
    capsys.readouterr()
    assert main(["evaluate", "--run", str(run_dir), "--k", "0", "--limit", "16"]) == 1
    err = capsys.readouterr().err
    assert "metrics.json is not a metrics record" in err and err.count("\n") == 1
    assert (run_dir / "metrics.json").read_text() == "[1, 2]"


def test_loss_plot_shows_the_objective_at_the_target_beta_not_the_warmup_weight():
    from vae_cli.training.history import history_columns

    # During warm-up Keras's loss weights KL by less than beta: 50 + 0.5 x 20 = 60.
    rows = [
        {
            "epoch": 1,
            "loss": 60.0,
            "reconstruction_loss": 50.0,
            "kl_loss": 20.0,
            "val_loss": 61.0,
            "val_reconstruction_loss": 51.0,
            "val_kl_loss": 20.0,
        }
    ]
    columns = history_columns(rows, beta=1.0)
    assert columns["objective"] == [70.0] and columns["val_objective"] == [71.0]
    assert history_columns(rows, beta=2.0)["objective"] == [90.0]


@pytest.mark.slow
def test_each_decoder_call_is_bounded_whatever_k(monkeypatch):
    import tensorflow as tf

    from vae_cli.model import estimate

    encoder, decoder_logits, images = tiny_vae(latent_dim=2, pixels=8, seed=4)
    calls = []
    real = estimate.decoder_for_evaluation

    def spying(model, *args, **kwargs):
        inner = real(model, *args, **kwargs)

        def decoder(z, training=False):
            calls.append(int(z.shape[0]))
            return inner(z)

        return decoder

    monkeypatch.setattr(estimate, "decoder_for_evaluation", spying)
    monkeypatch.setattr(estimate, "EVALUATE_CHUNK_VALUES", 200)  # 25 images of 8 pixels per call
    tf.config.run_functions_eagerly(True)  # so the spy sees every call, not one trace
    try:
        m = evaluate(encoder, decoder_logits, images, Estimate(k=300, samples=3, seed=1))
    finally:
        tf.config.run_functions_eagerly(False)
    assert max(calls) * 8 <= 200 and np.isfinite(m.nll)
    assert sum(calls) == len(images) * 300  # the ELBO's 3 draws are the first of the 300
