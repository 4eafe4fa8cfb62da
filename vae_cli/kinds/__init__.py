"""Model kinds and training objectives: the registries, the rules that hold for every kind, and the epoch score.

- ``vae``: q(z|x) and p(x|z), trained on the ELBO (or the IWAE bound);
- ``ae``: a deterministic code and the reconstruction loss alone, no prior, no KL;
- ``cvae``: encoder and decoder both given the one-hot class, q(z|x, y) and p(x|z, y);
- ``btcvae``: beta-TCVAE, the total correlation of q(z) weighted by ``train.beta``.

Each kind is one module of this package and one entry in ``KINDS``; a kind from
elsewhere (a plug-in, a test) joins with ``KINDS.register``. The rules are checked
here once: the config's own ones when it is read, the data's before a run folder
is created.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from vae_cli import layer_specs
from vae_cli.errors import ConfigError
from vae_cli.kinds.base import ModelKind
from vae_cli.kinds.objectives import IWAE_LOSS, OBJECTIVES, Objective
from vae_cli.limits import MAX_BATCH_SIZE
from vae_cli.registry import Registry

__all__ = ["IWAE_LOSS", "KINDS", "OBJECTIVES", "ModelKind", "Objective", "Score", "kind_of", "objective_of"]

KINDS: Registry[ModelKind] = Registry(
    "model kind",
    {
        "vae": "vae_cli.kinds.vae:KIND",
        "ae": "vae_cli.kinds.ae:KIND",
        "cvae": "vae_cli.kinds.cvae:KIND",
        "btcvae": "vae_cli.kinds.btcvae:KIND",
    },
)


def kind_of(model: Any) -> ModelKind:
    """The kind of a ``model`` config section."""
    return KINDS.get(model.kind)


def objective_of(train: Any) -> Objective:
    """The objective of a ``train`` config section."""
    return OBJECTIVES.get(train.objective)


def check_config(model: Any, train: Any) -> None:
    """Rules between ``model.*`` and ``train.*`` keys (``model``, ``train``: the config sections)."""
    objective = objective_of(train)
    kind_of(model).check_config(model, train, objective)
    objective.check(train)
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
    """Rules that need the data: the kind's (a cvae's labels), a ``layers`` network's shapes."""
    kind = kind_of(model)
    kind.check_data(model, class_names, source)
    if model.architecture == "layers":
        encoder = layer_specs.parse("model.encoder_layers", model.encoder_layers)
        layer_specs.walk(encoder, tuple(image_shape), model.kernel_size)
        decoder = layer_specs.parse("model.decoder_layers", model.decoder_layers)
        layer_specs.check_decoder(
            "model.decoder_layers",
            decoder,
            model.latent_dim + kind.label_size(class_names),
            tuple(image_shape),
            model.kernel_size,
        )


@dataclass(frozen=True)
class Score:
    """The one number that judges an epoch of a run (lower is better), and its name.

    Early stopping, ``show``, ``list``, ``compare`` and ``tune`` all ask this, so
    they name the same best epoch and value for every kind and objective.
    """

    kind: ModelKind
    objective: Objective
    beta: float

    @classmethod
    def of_run(cls, model: Any, train: Any, beta: float | None = None) -> Score:
        """A run's score from its config sections, at ``beta`` (default: the run's ``train.beta``)."""
        return cls(kind_of(model), objective_of(train), train.beta if beta is None else beta)

    @property
    def name(self) -> str:
        return self.kind.score_name(self.objective, self.beta)

    def of(self, row: dict, prefix: str = "val_") -> float:
        """One epoch's score from its history row or Keras logs; NaN where the row lacks a number."""
        return self.kind.score(row, self.objective, self.beta, prefix)

    def best(self, rows: list[dict]) -> tuple[dict | None, float]:
        """The row with the lowest finite score and that score; ``(None, nan)`` if there is none."""
        scored = [(self.of(row), i) for i, row in enumerate(rows)]
        finite = [(value, i) for value, i in scored if math.isfinite(value)]
        if not finite:
            return None, math.nan
        value, i = min(finite)
        return rows[i], value
