"""beta-TCVAE's loss: the minibatch-weighted total correlation against a brute-force count, the loss it adds."""

import math

import keras
import numpy as np
import pytest

from vae_cli.layers import TotalCorrelationLoss
from vae_cli.model.total_correlation import total_correlation


def log_normal_1d(z, mean, log_var):
    return -0.5 * ((z - mean) ** 2 / math.exp(log_var) + log_var + math.log(2 * math.pi))


def brute_force_tc(z, mean, log_var, dataset_size):
    """Chen et al.'s minibatch-weighted sampling written as sums over explicit loops, in float64."""
    m, d = z.shape
    out = []
    for i in range(m):
        joint = [sum(log_normal_1d(z[i, k], mean[j, k], log_var[j, k]) for k in range(d)) for j in range(m)]
        log_qz = math.log(sum(math.exp(v) for v in joint)) - math.log(dataset_size * m)
        log_prod = 0.0
        for k in range(d):
            marginal = [log_normal_1d(z[i, k], mean[j, k], log_var[j, k]) for j in range(m)]
            log_prod += math.log(sum(math.exp(v) for v in marginal)) - math.log(dataset_size * m)
        out.append(log_qz - log_prod)
    return np.array(out)


@pytest.mark.parametrize("dataset_size", [1, 7, 60_000])
def test_the_estimator_equals_the_brute_force_count_on_a_tiny_batch(dataset_size):
    rng = np.random.default_rng(dataset_size)
    mean, log_var = rng.normal(size=(5, 3)), rng.normal(scale=0.5, size=(5, 3))
    z = mean + np.exp(0.5 * log_var) * rng.normal(size=(5, 3))
    ours = keras.ops.convert_to_numpy(
        total_correlation(*(x.astype("float32") for x in (z, mean, log_var)), dataset_size)
    )
    np.testing.assert_allclose(ours, brute_force_tc(z, mean, log_var, dataset_size), rtol=1e-4, atol=1e-4)


def test_independent_dimensions_have_no_total_correlation_but_copies_do():
    rng = np.random.default_rng(0)
    n = 400
    log_var = np.full((n, 2), -4.0, "float32")
    apart = rng.normal(size=(n, 2)).astype("float32")
    copied = np.repeat(rng.normal(size=(n, 1)), 2, axis=1).astype("float32")
    tc_apart = float(np.mean(keras.ops.convert_to_numpy(total_correlation(apart, apart, log_var, n))))
    tc_copied = float(np.mean(keras.ops.convert_to_numpy(total_correlation(copied, copied, log_var, n))))
    assert tc_copied > tc_apart + 1.0  # two copies of one variable are as dependent as can be


def test_the_loss_is_the_elbo_plus_beta_minus_one_total_correlations():
    rng = np.random.default_rng(1)
    x = (rng.random((6, 4, 4, 1)) > 0.5).astype("float32")
    logits = rng.normal(size=(6, 4, 4, 1)).astype("float32")
    mean, log_var = rng.normal(size=(6, 3)).astype("float32"), rng.normal(size=(6, 3)).astype("float32") * 0.3
    z = (mean + rng.normal(size=(6, 3))).astype("float32")
    layer = TotalCorrelationLoss(dataset_size=100, beta=6.0)
    probabilities = layer([x, logits, mean, log_var, z])
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    reconstruction = -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3)).mean()
    kl = np.mean(np.sum(-0.5 * (1 + log_var - mean**2 - np.exp(log_var)), axis=1))
    tc = brute_force_tc(z.astype(np.float64), mean.astype(np.float64), log_var.astype(np.float64), 100).mean()
    assert float(layer.losses[0]) == pytest.approx(reconstruction + kl + 5.0 * tc, rel=1e-4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(probabilities), p, rtol=1e-5)
    values = {m.name: float(m.result()) for m in layer.metrics}
    assert values["tc_loss"] == pytest.approx(tc, rel=1e-4) and values["kl_loss"] == pytest.approx(kl, rel=1e-4)


def test_the_layer_round_trips_its_config_and_checks_its_arguments():
    layer = TotalCorrelationLoss(dataset_size=737_280, beta=4.0, name="vae_loss")
    again = TotalCorrelationLoss.from_config(layer.get_config())
    assert (again.dataset_size, again.beta, again.name) == (737_280, 4.0, "vae_loss")
    for bad in (0, -3, 2.5, True, "10"):
        with pytest.raises(ValueError, match="`dataset_size` must be an int >= 1. Received: dataset_size="):
            TotalCorrelationLoss(dataset_size=bad)
