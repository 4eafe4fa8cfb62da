import keras
import numpy as np
import pytest

from vae_cli.layers import Sampling, VAELoss


def numpy_loss(x, logits, z_mean, z_log_var):
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    bce = -(x * np.log(p) + (1 - x) * np.log(1 - p)).reshape(len(x), -1).sum(axis=1)
    kl = -0.5 * (1 + z_log_var - z_mean**2 - np.exp(z_log_var)).sum(axis=1)
    return bce, kl


def test_loss_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(6, 4, 4, 1)).astype("float32")
    logits = rng.normal(scale=3.0, size=(6, 4, 4, 1)).astype("float32")
    z_mean = rng.normal(size=(6, 3)).astype("float32")
    z_log_var = rng.normal(scale=0.5, size=(6, 3)).astype("float32")
    layer = VAELoss(beta=0.5)
    out = layer([x, logits, z_mean, z_log_var])
    bce, kl = numpy_loss(x, logits, z_mean, z_log_var)
    assert float(layer.losses[0]) == pytest.approx(bce.mean() + 0.5 * kl.mean(), rel=1e-5)
    assert float(layer.reconstruction_tracker.result()) == pytest.approx(bce.mean(), rel=1e-5)
    assert float(layer.kl_tracker.result()) == pytest.approx(kl.mean(), rel=1e-5)
    np.testing.assert_allclose(np.asarray(out), 1 / (1 + np.exp(-logits)), rtol=1e-5)


def test_loss_is_finite_and_exact_where_the_sigmoid_saturates():
    x = np.array([[1.0, 0.0, 1.0]], "float32").reshape(1, 3, 1, 1)
    logits = np.array([[-60.0, 60.0, 40.0]], "float32").reshape(1, 3, 1, 1)
    z = np.zeros((1, 2), "float32")
    layer = VAELoss()
    layer([x, logits, z, z])
    # -log sigmoid(-60) = 60, -log(1 - sigmoid(60)) = 60, -log sigmoid(40) ~ 4e-18
    assert float(layer.losses[0]) == pytest.approx(120.0, rel=1e-6)


def test_kl_is_zero_at_the_prior():
    layer = VAELoss()
    x = np.zeros((2, 2, 2, 1), "float32")
    layer([x, x, np.zeros((2, 4), "float32"), np.zeros((2, 4), "float32")])
    assert float(layer.kl_tracker.result()) == pytest.approx(0.0, abs=1e-7)


def test_sampling_uses_log_variance():
    n = 200_000
    z_mean = np.full((n, 1), 2.0, "float32")
    z_log_var = np.full((n, 1), np.log(0.25), "float32")  # std 0.5
    z = np.asarray(Sampling(seed=3)([z_mean, z_log_var]))
    assert z.mean() == pytest.approx(2.0, abs=0.01)
    assert z.std() == pytest.approx(0.5, abs=0.01)


def test_sampling_is_seeded():
    a = np.asarray(Sampling(seed=7)([np.zeros((4, 2), "float32")] * 2))
    b = np.asarray(Sampling(seed=7)([np.zeros((4, 2), "float32")] * 2))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("layer", [Sampling(seed=5, name="s"), VAELoss(beta=0.25, name="l")])
def test_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer) and restored.get_config() == config


def test_argument_checks():
    with pytest.raises(ValueError, match="Received: beta=-1"):
        VAELoss(beta=-1)
    with pytest.raises(ValueError, match="Received: seed=1.5"):
        Sampling(seed=1.5)


def test_layers_round_trip_through_a_saved_file(tmp_path):
    x = keras.Input((4, 4, 1))
    mean = keras.layers.Dense(2)(keras.layers.Flatten()(x))
    z = Sampling(seed=1)([mean, mean])
    logits = keras.layers.Reshape((4, 4, 1))(keras.layers.Dense(16)(z))
    out = VAELoss(beta=0.3)([x, logits, mean, mean])
    model = keras.Model(x, out)
    for suffix in (".h5", ".keras"):
        path = tmp_path / f"m{suffix}"
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
        assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
        assert loaded.get_layer(index=-1).get_config()["beta"] == 0.3
        for a, b in zip(model.weights, loaded.weights, strict=True):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
