"""Model kinds and training objectives: which settings go together, and how an epoch is judged.

- ``vae``: q(z|x) and p(x|z), trained on the ELBO (or the IWAE bound);
- ``ae``: a deterministic code and the reconstruction loss alone, no prior, no KL;
- ``cvae``: encoder and decoder both given the one-hot class, q(z|x, y) and p(x|z, y).

The rules that involve a kind are checked here once: the config's own ones when
it is read, the data's (labels, image size) before a run folder is created.
"""

from __future__ import annotations

import math
from typing import Any

from vae_cli import layer_specs
from vae_cli.errors import ConfigError
from vae_cli.limits import MAX_BATCH_SIZE

MODEL_KINDS = ("vae", "ae", "cvae")
OBJECTIVES = ("elbo", "iwae")
IWAE_LOSS = "iwae_loss"  # the metric of the importance-weighted bound at the target beta


def check_config(model: Any, train: Any) -> None:
    """Rules between ``model.*`` and ``train.*`` keys (``model``, ``train``: the config sections)."""
    if model.kind == "ae":
        if train.objective == "iwae":
            raise ConfigError(
                "train.objective: iwae needs a stochastic encoder; model.kind ae has a deterministic code"
            )
        if train.samples != 1:
            raise ConfigError(f"train.samples: {train.samples}, but model.kind ae draws no samples; leave it at 1")
        if train.kl_warmup_epochs:
            raise ConfigError("train.kl_warmup_epochs: model.kind ae has no KL term to warm up; leave it at 0")
    if train.objective == "iwae" and train.samples < 2:
        raise ConfigError(
            f"train.samples: the iwae objective needs k >= 2 importance samples, got {train.samples} "
            "(with k = 1 it is the ELBO)"
        )
    decodings = train.samples * train.batch_size  # each step decodes every sample of every image at once
    if decodings > MAX_BATCH_SIZE:
        raise ConfigError(
            f"train.samples: {train.samples} samples of z for each of train.batch_size {train.batch_size} images "
            f"are {decodings:,} decodings per training step, over the {MAX_BATCH_SIZE:,} allowed; "
            "lower train.samples or train.batch_size"
        )
    layered = model.architecture == "layers"
    for side in ("encoder_layers", "decoder_layers"):
        given = getattr(model, side)
        if given is not None and not layered:
            raise ConfigError(f"model.{side}: only used with model.architecture: layers")
        if layered and given is None:
            raise ConfigError(f"model.{side}: required with model.architecture: layers (a list of layers)")
        if given is not None:
            layer_specs.parse(f"model.{side}", given)


def check_data(model: Any, image_shape: tuple[int, int, int], class_names: list[str], source: str) -> None:
    """Rules that need the data: a cvae's labels, a ``layers`` network's shapes."""
    if model.kind == "cvae" and len(class_names) < 2:
        raise ConfigError(
            f"model.kind: cvae needs labelled data with at least 2 classes, and {source} has one "
            "(images at the top of a folder, or an .npz without y_train); put each class in its own "
            "sub-folder or add y_train and y_test, or use model.kind: vae"
        )
    if model.architecture == "layers":
        encoder = layer_specs.parse("model.encoder_layers", model.encoder_layers)
        layer_specs.walk(encoder, tuple(image_shape), model.kernel_size)
        classes = len(class_names) if model.kind == "cvae" else 0
        decoder = layer_specs.parse("model.decoder_layers", model.decoder_layers)
        layer_specs.check_decoder(
            "model.decoder_layers", decoder, model.latent_dim + classes, tuple(image_shape), model.kernel_size
        )


def epoch_score(row: dict, kind: str, objective: str, beta: float, prefix: str = "val_") -> float:
    """The number that picks the best epoch (lower is better), at the target beta.

    The ELBO's parts are recombined with ``beta`` because Keras's ``loss`` carries
    the KL weight of the moment, lower during a KL warm-up. An ``ae`` is judged
    by its reconstruction alone, an ``iwae`` run by its bound.
    """

    def get(key):
        try:
            return float(row.get(f"{prefix}{key}", math.nan))
        except (TypeError, ValueError):
            return math.nan

    if kind == "ae":
        return get("reconstruction_loss")
    if objective == "iwae":
        return get(IWAE_LOSS)
    return get("reconstruction_loss") + beta * get("kl_loss")


def score_name(kind: str, objective: str, beta: float) -> str:
    """What ``epoch_score`` measures, in words."""
    if kind == "ae":
        return "reconstruction loss"
    if objective == "iwae":
        return "-IWAE bound"
    return "-ELBO" if beta == 1 else f"reconstruction + {beta:g} x KL"
