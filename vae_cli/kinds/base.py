"""What every model kind answers, with the answers most kinds share; no Keras here.

A kind is one object, registered once in ``vae_cli.kinds.KINDS``: the config and
data rules it adds, the inputs and outputs of its encoder and decoder, its loss
columns and the number that judges an epoch, and how figures and ``evaluate``
treat it. Callers ask the kind; none of them compares a kind's name. The parts
that build Keras graphs or draw live in each kind's own module, imported on first
use, so this base stays light enough for ``vae --help``.
"""

from __future__ import annotations

from typing import Any

from vae_cli.kinds.objectives import Objective, column
from vae_cli.names import ENCODER


class ModelKind:
    """A kind's answers; subclasses override what differs."""

    name = ""
    help = ""  # one phrase for the config key's help: "cvae: encoder and decoder given the class"
    has_prior = True  # q(z|x) gives z_mean and z_log_var, and z ~ N(0, I) can be decoded
    conditional = False  # the encoder and the decoder are also given the one-hot class
    code_name = "z_mean"  # what a reconstruction goes through, in figure titles and reports
    loss_columns: tuple[str, ...] = ("reconstruction_loss", "kl_loss")  # history.csv, before objective extras
    curve_note = ""  # said beside the run's name where curves of several kinds share an axis

    def check_config(self, model: Any, train: Any, objective: Objective) -> None:
        """Rules between this kind and ``train.*`` (``model``, ``train``: config sections)."""

    def check_data(self, model: Any, class_names: list[str], source: str) -> None:
        """Rules that need the data (its classes)."""

    def label_size(self, class_names: list[str]) -> int:
        """The width of the one-hot class the encoder and decoder take (0: none)."""
        return len(class_names) if self.conditional else 0

    def model_io(self, name: str) -> tuple[int, int]:
        """(inputs, outputs) of the ``encoder`` or the ``decoder`` (``names.ENCODER``, ``names.DECODER``):
        how a run's files are checked against the kind its config names."""
        inputs = 2 if self.conditional else 1
        outputs = 2 if self.has_prior and name == ENCODER else 1
        return inputs, outputs

    def score(self, row: dict, objective: Objective, beta: float, prefix: str = "val_") -> float:
        """The number that picks the best epoch (lower is better)."""
        return objective.score(row, beta, prefix)

    def score_name(self, objective: Objective, beta: float) -> str:
        return objective.score_name(beta)

    def evaluation_batch(self, train: Any, batch: int, images: int) -> int:
        """The batch size that validation and test losses of ``images`` images are computed in (``batch``: the
        pipeline's own)."""
        return batch

    def score_terms(self, row: dict, beta: float, prefix: str = "val_") -> str:
        """The loss terms that make up an epoch's score, in words: "reconstruction 90.12 + KL 25.34 x beta 4"."""
        terms = f"reconstruction {column(row, f'{prefix}reconstruction_loss'):.2f}"
        if "kl_loss" in self.loss_columns:
            terms += f" + KL {column(row, f'{prefix}kl_loss'):.2f}" + ("" if beta == 1 else f" x beta {beta:g}")
        return terms

    def epoch_samples_note(self, images: int) -> str:
        """What the training GIF's sample panel shows, when it is not prior samples."""
        return ""

    # The Keras and figure parts, defined by each kind's own module.

    def encoder_outputs(self, features: Any, latent_dim: int) -> list[Any]:
        """The encoder's heads on ``features`` (Keras tensors)."""
        raise NotImplementedError

    def assemble(self, encoder: Any, decoder_logits: Any, loss: Any) -> Any:
        """The trainable model: ``encoder``, the decoder's logits and the loss layer (``loss``: ``model.trainable.LossSettings``)."""
        raise NotImplementedError

    def default_grid_range(self) -> Any:
        """The latent grid's span when none is asked for (``figures.latents.GridRange``)."""
        raise NotImplementedError

    def check_grid_range(self, rng: Any) -> None:
        """Refuses a span this kind cannot draw (``errors.RequestError``)."""

    def random_codes(self, latent_dim: int, n: int, seed: int, test_codes: Any) -> tuple[Any, str]:
        """``n`` codes to decode as samples, and words saying where they come from."""
        raise NotImplementedError
