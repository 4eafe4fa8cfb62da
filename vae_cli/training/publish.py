"""Bringing the run folder up to date after every completed epoch.

Samples and the three models (the float32 copy), then the checkpoint: once
the checkpoint names epoch k, everything of epoch k is on disk. Then the history
and the manifest's ``epochs_completed``, which so never count an epoch that a
resume could not continue from. Each file is written atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vae_cli.figures.codec import Codec
from vae_cli.figures.training_figures import EpochSamples, epoch_samples_path, save_epoch_samples
from vae_cli.names import DECODER, ENCODER
from vae_cli.runs import folder, inference
from vae_cli.runs.atomic import write_json, write_text
from vae_cli.runs.modelfile import save_model
from vae_cli.training import checkpoint
from vae_cli.training.board import Board
from vae_cli.training.callbacks import EarlyStopper, EpochLog
from vae_cli.training.history import history_csv
from vae_cli.training.setup import RunModels


@dataclass(frozen=True)
class EpochFrame:
    """What each epoch's frame decodes (``samples``), with which models (``codec``), titled ``title`` and the epoch."""

    samples: EpochSamples
    codec: Codec
    title: str


class Publisher:
    """Writes one run's epochs into its folder: the ``(log, stopper)`` callbacks' state, the models and each
    epoch's ``frame``; ``saved_epoch`` is the epoch the checkpoint holds."""

    def __init__(
        self,
        run_dir: Path,
        manifest: dict,
        models: RunModels,
        tracking: tuple[EpochLog, EarlyStopper],
        frame: EpochFrame,
        saved_epoch: int,
    ) -> None:
        self.dir, self.manifest, self.models = run_dir, manifest, models
        self.log, self.stopper = tracking
        self.frame = frame
        self.saved_epoch = saved_epoch
        self.board: Board | None = None  # the TensorBoard log, when output.tensorboard is on

    def publish(self) -> None:
        """The models (the float32 copies) into the run folder."""
        final = self.models.float32_copy
        save_model(final.encoder, self.dir / folder.ENCODER)
        save_model(final.decoder, self.dir / folder.DECODER)
        save_model(final.vae, self.dir / folder.VAE)
        for model, name in zip((final.encoder, final.decoder, final.vae), folder.KERAS_FILES, strict=True):
            save_model(model, self.dir / name)  # the native format beside the .h5 files

    def publish_copies(self) -> None:
        """The final encoder and decoder as ONNX copies, recorded in the manifest: the figure commands
        decode with them without TensorFlow (``runs.inference``)."""
        final = self.models.float32_copy
        models = {ENCODER: final.encoder, DECODER: final.decoder}
        sources = {ENCODER: self.dir / folder.ENCODER, DECODER: self.dir / folder.DECODER}
        self.manifest[inference.RECORD] = inference.write_copies(self.dir, models, sources)

    def record(self, epochs_done: int) -> None:
        """The history and the manifest, counting ``epochs_done`` epochs."""
        write_text(self.dir / folder.HISTORY, history_csv(self.log.rows))
        self.manifest["epochs_completed"] = epochs_done
        write_json(self.dir / folder.MANIFEST, self.manifest)

    def on_epoch(self, epoch: int) -> None:
        training = self.models.training_copy
        self.models.float32_copy.vae.set_weights(training.vae.get_weights())
        path = epoch_samples_path(self.dir, epoch)
        save_epoch_samples(self.frame.codec, self.frame.samples, path, f"{self.frame.title} · epoch {epoch}")
        if self.board is not None:
            self.board.add_image(epoch, path)
        self.publish()
        # The checkpoint after the models: once it names epoch k, everything of epoch k is on disk.
        checkpoint.save(
            self.dir / checkpoint.FILENAME,
            training.vae,
            self.stopper.best_weights,
            {"epoch": epoch, "history": self.log.rows, "early_stopping": self.stopper.state()},
        )
        self.saved_epoch = epoch
        self.record(epoch)

    def mark(self, status: str, **extra: object) -> None:
        """Records ``status`` in run.json, best effort: the failure being reported matters more."""
        self.manifest.update(status=status, **extra)
        try:
            write_json(self.dir / folder.MANIFEST, self.manifest)
        except OSError:
            pass
