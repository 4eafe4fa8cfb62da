"""The epoch loop of one run: its models, callbacks and folder, from the first epoch to be trained
(0, or the checkpoint's) to the finished run: the final models, test losses, figures and manifest.
"""

from __future__ import annotations

import errno
import signal
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vae_cli import backend
from vae_cli.config import Config
from vae_cli.data.types import Data, prepare
from vae_cli.errors import Fix, Interrupted, RunError, VaeError
from vae_cli.kinds import Score, kind_of
from vae_cli.runs import folder
from vae_cli.runs.atomic import write_json
from vae_cli.runs.records import COMPLETE, INTERRUPTED
from vae_cli.training import checkpoint
from vae_cli.training.checkpoint import Checkpoint
from vae_cli.training.phases import AFTER_EPOCH, PhaseClock

SAMPLE_POINTS = 100  # latent points decoded after every epoch


def stopped_by(signum: int) -> str:
    return "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"


@dataclass
class TrainResult:
    run_dir: Path
    epochs: int
    best_epoch: int
    test: dict  # loss, reconstruction_loss, kl_loss (nats per image)
    seconds_per_epoch: float
    resumed_from: int = 0
    already_finished: bool = False
    history: list[dict] = field(default_factory=list)  # one row per epoch, resumed ones included
    terms: str = ""  # the test loss's terms in words, as the kind names them
    chosen: bool = True  # the kept epoch was chosen on the validation split (early stopping), not simply the last


class RunLoop:
    """One run's models, callbacks and folder, from the first epoch to be trained to the finished run."""

    def __init__(
        self, run_dir: Path, cfg: Config, data: Data, manifest: dict, state: Checkpoint | None, extra: list = ()
    ) -> None:
        from vae_cli.figures.codec import Codec
        from vae_cli.figures.training_figures import EpochSamples, epoch_images
        from vae_cli.training import callbacks as cb
        from vae_cli.training.pipeline import steps_per_epoch
        from vae_cli.training.publish import EpochFrame, Publisher
        from vae_cli.training.setup import build_run_models

        self.dir, self.cfg, self.data = run_dir, cfg, data
        kind = kind_of(cfg.model)
        self.classes = kind.label_size(data.class_names)
        self.models = build_run_models(cfg, data, manifest["precision"], state, str(run_dir / checkpoint.FILENAME))
        self.first_epoch, rows, stopper_state, best = 0, [], None, None
        if state is not None:
            self.first_epoch, rows = state.state["epoch"], state.state["history"]
            stopper_state, best = state.state["early_stopping"], state.best
        train_cfg = cfg.train
        self.log = cb.EpochLog(rows)
        self.stopper = cb.EarlyStopper(
            train_cfg.early_stopping_patience, Score.of_run(cfg.model, train_cfg), stopper_state, best
        )
        self.stop_signals = cb.StopSignals()
        # The validation split picks the best epoch; the test split is kept for the final evaluation.
        self.held_out = data.held_out()
        self.val_images = prepare(self.held_out.images, cfg.data.binarize)
        same = data.validation is None
        self.test_images = self.val_images if same else prepare(data.test.images, cfg.data.binarize)
        z = np.random.default_rng(train_cfg.seed).standard_normal((SAMPLE_POINTS, cfg.model.latent_dim))
        shown = epoch_images(self.held_out.labels, SAMPLE_POINTS, train_cfg.seed)
        samples = EpochSamples(
            kind,
            z.astype("float32"),
            self.val_images[shown],
            self.held_out.labels[shown],
            self.classes,
            self.val_images[:SAMPLE_POINTS],
        )
        final = self.models.float32_copy
        codec = Codec(final, kind, self.classes)
        frame = EpochFrame(samples, codec, f"{data.title} · latent {cfg.model.latent_dim}")
        self.publisher = Publisher(run_dir, manifest, self.models, (self.log, self.stopper), frame, self.first_epoch)
        # The hooks' callbacks after the log and early stopping, before the epoch is saved.
        self.callbacks = [cb.NonFiniteGuard(), self.stop_signals, self.log, self.stopper, *extra]
        if cfg.output.tensorboard:
            from vae_cli.training.board import FOLDER, Board

            # Before EpochEnd: the epoch's log is on disk before its checkpoint.
            self.publisher.board = Board(run_dir / FOLDER, train_cfg.beta, self.log, self.first_epoch)
            self.callbacks.append(self.publisher.board)
        self.callbacks.append(cb.EpochEnd(self._on_epoch))
        if train_cfg.kl_warmup_epochs:
            steps = steps_per_epoch(len(data.train), train_cfg.batch_size)
            self.callbacks.insert(0, cb.KLWarmup(train_cfg.beta, train_cfg.kl_warmup_epochs, steps))

    def _on_epoch(self, epoch: int) -> None:
        with self.clock.phase("epoch_saves"):
            self.publisher.on_epoch(epoch)
        self.clock.begin(AFTER_EPOCH)  # ended by the next epoch's first step, or once fit has returned

    def _eval_ds(self, images: np.ndarray, labels: np.ndarray) -> object:
        from vae_cli.training.pipeline import EVAL_BATCH, eval_pipeline

        batch = kind_of(self.cfg.model).evaluation_batch(self.cfg.train, EVAL_BATCH, len(images))
        return eval_pipeline(images, batch, labels=labels if self.classes else None, classes=self.classes)

    def train(self, verbose: int, clock: PhaseClock) -> TrainResult:
        """Trains the remaining epochs, then ``finish``; ``clock`` times the phases besides the steps."""
        tf = backend.load()
        from vae_cli.training.callbacks import StepPhases, StopTraining
        from vae_cli.training.fitting import fit
        from vae_cli.training.pipeline import TrainingImages

        self.clock = clock
        self.callbacks.insert(0, StepPhases(clock))
        cfg, done = self.cfg, len(self.log.rows)
        self.val_ds = self._eval_ds(self.val_images, self.held_out.labels)
        try:
            if not self.stopper.stopped and self.first_epoch < cfg.train.epochs:
                split = self.data.train
                images = TrainingImages(
                    split.files if split.files is not None else split.images,
                    cfg.data.binarize,
                    self.data.image_shape,
                    split.labels if self.classes else None,
                    self.classes,
                    self.first_epoch,
                )
                fit(self.models.training_copy.vae, images, self.val_ds, cfg.train, self.callbacks, verbose)
        except StopTraining as stop:
            self._stopped(stop)
        except OSError as exc:
            self._save_failed(exc)
        except tf.errors.OpError as exc:  # most often an image file that cannot be decoded, mid-epoch
            raise VaeError(
                f"training stopped in epoch {len(self.log.rows) + 1}: {exc.message.splitlines()[0]}; "
                "if an image file is unreadable, fix or remove it and train a new run"
            ) from None
        finally:
            self.stop_signals.restore()
            clock.end()
        return self.finish(done)

    def finish(self, resumed_at: int) -> TrainResult:
        """The final models (the best epoch's, with early stopping), test losses, figures, manifest.

        The test split is touched here for the first time (unless it serves as the validation split).
        """
        from vae_cli.figures.training_figures import BestEpoch, TestImages, save_final_figures
        from vae_cli.training.history import KEYS, extra_columns, history_columns

        rows, stopper, final = self.log.rows, self.stopper, self.models.float32_copy
        test_labels = self.data.test.labels
        early = self.cfg.train.early_stopping_patience is not None
        if early and stopper.best_weights is not None:
            final.vae.set_weights(stopper.best_weights)  # as EarlyStopping(restore_best_weights=True)
            best_epoch = stopper.best_epoch
        else:
            final.vae.set_weights(self.models.training_copy.vae.get_weights())
            best_epoch = rows[-1]["epoch"]
        clock = self.clock
        try:
            with clock.phase("test_evaluation"):
                test_ds = self.val_ds if self.data.validation is None else self._eval_ds(self.test_images, test_labels)
                test = final.vae.evaluate(test_ds, verbose=0, return_dict=True)
            test = {k: float(test[k]) for k in [*KEYS[:3], *extra_columns()] if k in test}
            with clock.phase("final_models"):
                self.publisher.publish()
                self.publisher.record(len(rows))
            with clock.phase("onnx_copies"):
                self.publisher.publish_copies()
            with clock.phase("figures"):
                save_final_figures(
                    self.dir,
                    self.publisher.frame.codec,
                    history_columns(rows, self.cfg.train.beta),
                    self.cfg.train.beta,
                    TestImages(self.data.title, self.test_images, test_labels, self.data.class_names),
                    BestEpoch(
                        stopper.best_epoch or None, "its weights kept" if early else "the last epoch's weights kept"
                    ),
                )
        except OSError as exc:
            self._save_failed(exc)
        manifest = self.publisher.manifest
        manifest.update(
            status=COMPLETE,
            finished=folder.now_iso(),
            best_epoch=best_epoch,
            validation={k[4:]: v for k, v in _row(rows, best_epoch).items() if k.startswith("val_")},
            test=test | ({"negative_elbo": test["reconstruction_loss"] + test["kl_loss"]} if "kl_loss" in test else {}),
            phases=clock.record() | _import_seconds(),
        )
        write_json(self.dir / folder.MANIFEST, manifest)
        seconds = [r["seconds"] for r in rows[resumed_at:]] or [r["seconds"] for r in rows]
        terms = kind_of(self.cfg.model).score_terms(test, self.cfg.train.beta, prefix="")
        return TrainResult(
            self.dir,
            len(rows),
            best_epoch,
            test,
            float(np.median(seconds)),
            resumed_at,
            history=list(rows),
            terms=terms,
            chosen=early and stopper.best_weights is not None,
        )

    def _stopped(self, stop: Exception) -> None:
        done = len(self.log.rows)
        kept = f"the run folder holds epoch {done}" if done else "no epoch was completed"
        if stop.reason == "interrupted":
            self.publisher.mark(INTERRUPTED)
            raise Interrupted(
                f"{stopped_by(stop.signum)} in epoch {stop.epoch} (its {stop.batch - 1} finished steps are "
                f"discarded); {kept}",
                Fix("resume", self.dir) if done else Fix("start_again", self.dir / folder.CONFIG),
                stop.signum,
            )
        self.publisher.mark("diverged", diverged_at={"epoch": stop.epoch, "batch": stop.batch})
        raise VaeError(
            f"training diverged: the loss became {stop.value} at epoch {stop.epoch}, batch {stop.batch}; {kept}, "
            f"with finite weights; lower train.learning_rate (now {self.cfg.train.learning_rate:g}) and train again"
        )

    def _save_failed(self, exc: OSError) -> None:
        """A resume is advised only from a checkpoint on disk: before the first, there is nothing to resume."""
        what = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        saved, first = self.publisher.saved_epoch, "free space" if exc.errno == errno.ENOSPC else None
        if saved and (self.dir / checkpoint.FILENAME).is_file():
            raise RunError(
                f"could not write into {self.dir}: {what}; the last good checkpoint (epoch {saved}) is intact",
                Fix("resume", self.dir, first=first),
            ) from None
        raise RunError(
            f"could not write into {self.dir}: {what}, before the first epoch's checkpoint was saved, so there is "
            "nothing to resume",
            Fix("start_again", self.dir / folder.CONFIG, first=first),
        ) from None


def _import_seconds() -> dict[str, float]:
    """The TensorFlow import's seconds, for the first run this process trains (a study's later trials paid none)."""
    return {"tensorflow_import": round(backend.IMPORT_SECONDS.pop(), 3)} if backend.IMPORT_SECONDS else {}


def _row(rows: list[dict], epoch: int) -> dict:
    """The history row of ``epoch`` (empty if there is none)."""
    return next((row for row in rows if row.get("epoch") == epoch), {})
