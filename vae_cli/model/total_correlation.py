"""The beta-TCVAE objective of Chen et al. (2018): the total correlation of q(z), estimated on a minibatch.

The ELBO's KL term splits into the index-code mutual information, the total
correlation ``KL(q(z) || prod_d q(z_d))`` and the dimension-wise KL. beta-TCVAE
weighs the total correlation by beta and the other two by 1, so its loss is
``reconstruction + KL + (beta - 1) x TC``: the analytic KL stands for the sum of the
three sampled terms, which it equals in expectation, with less noise.

q(z) is the aggregate posterior over all N training images; the paper's
minibatch-weighted sampling estimates it from the M images of a batch:
``log q(z_i) ~ logsumexp_j log q(z_i | x_j) - log(N M)``, and each marginal
``log q(z_id)`` likewise, dimension by dimension.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from vae_cli.model.layers import PACKAGE, Sampling, VAELoss
from vae_cli.model.likelihood import LOG_2PI, gaussian_kl
from vae_cli.model.trainable import graph_inputs
from vae_cli.names import TC_LOSS, VAE_LOSS, Z


def pairwise_log_density(z: Any, z_mean: Any, z_log_var: Any) -> Any:
    """log q(z_id | x_j) for every pair of batch rows i, j and dimension d: (M, D) inputs -> (M, M, D)."""
    diff = ops.expand_dims(z, 1) - ops.expand_dims(z_mean, 0)
    log_var = ops.expand_dims(z_log_var, 0)
    return -0.5 * (ops.square(diff) * ops.exp(-log_var) + log_var + LOG_2PI)


def total_correlation(z: Any, z_mean: Any, z_log_var: Any, dataset_size: int) -> Any:
    """Each batch row's estimate of ``log q(z_i) - sum_d log q(z_id)`` by minibatch-weighted sampling;
    their mean over the batch estimates the total correlation of q(z)."""
    log_q = pairwise_log_density(z, z_mean, z_log_var)
    batch = ops.cast(ops.shape(z)[0], log_q.dtype)
    log_nm = math.log(dataset_size) + ops.log(batch)
    log_qz = ops.logsumexp(ops.sum(log_q, axis=2), axis=1) - log_nm
    log_marginals = ops.sum(ops.logsumexp(log_q, axis=1) - log_nm, axis=1)
    return log_qz - log_marginals


@keras.saving.register_keras_serializable(package=PACKAGE)
class TotalCorrelationLoss(VAELoss):
    """Adds ``reconstruction + KL + (beta - 1) x TC``, in nats per image, as the model loss.

    Inputs are ``[x, logits, z_mean, z_log_var, z]`` with one ``z`` per image;
    ``dataset_size`` is the N of the estimator, the number of training images.
    ``reconstruction_loss`` and ``kl_loss`` are reported as by ``VAELoss`` (so
    the -ELBO is their sum), ``tc_loss`` is the estimated total correlation.
    """

    def __init__(self, dataset_size: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(dataset_size, int) or isinstance(dataset_size, bool) or dataset_size < 1:
            raise ValueError(f"`dataset_size` must be an int >= 1. Received: dataset_size={dataset_size!r}")
        self.dataset_size = dataset_size
        self.tc_tracker = keras.metrics.Mean(name=TC_LOSS)

    def call(self, inputs: list[Any]) -> Any:
        x, logits, z_mean, z_log_var, z = inputs
        reconstruction = self.nll(x, logits)
        kl = gaussian_kl(z_mean, z_log_var)
        tc = total_correlation(z, z_mean, z_log_var, self.dataset_size)
        self.add_loss(ops.mean(reconstruction) + ops.mean(kl) + (self.kl_weight - 1.0) * ops.mean(tc))
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        self.tc_tracker.update_state(tc)
        return ops.sigmoid(logits)

    def get_config(self) -> dict:
        return {**super().get_config(), "dataset_size": self.dataset_size}


def assemble(encoder: keras.Model, decoder_logits: keras.Model, loss: Any) -> keras.Model:
    """A beta-TCVAE's graph: one sampled z per image, its loss layer named ``vae_loss``
    (``loss``: ``model.trainable.LossSettings``)."""
    x, _, inputs = graph_inputs(encoder)
    z_mean, z_log_var = encoder(inputs)
    z = Sampling(seed=loss.seed, name=Z)([z_mean, z_log_var])
    layer = TotalCorrelationLoss(
        dataset_size=loss.dataset_size,
        beta=loss.beta,
        likelihood=loss.likelihood,
        sigma=loss.gaussian_sigma,
        name=VAE_LOSS,
    )
    return keras.Model(inputs, layer([x, decoder_logits(z), z_mean, z_log_var, z]), name="vae")
