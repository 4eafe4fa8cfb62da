"""One training run from a fresh or resumed state to a finished run folder.

After every completed epoch the run folder is brought up to date (``publish``),
so whatever stops the process (SIGKILL, Ctrl-C, SIGTERM, a full disk, a NaN) the
folder holds the last completed epoch, loadable, and a resumed run continues from it.
Whatever ends a run early is recorded in its run.json (interrupted, diverged, failed
with the reason), and the run folder's lock is held from start to end: one writer.
"""

from __future__ import annotations

import errno
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vae_cli import __version__, backend
from vae_cli.config import Config, dump_yaml
from vae_cli.data.load import load_data
from vae_cli.data.types import Data, check_splits, prepare
from vae_cli.errors import Fix, Interrupted, RunError, Terminated, VaeError
from vae_cli.model.size import check_buildable
from vae_cli.names import USER_DATASETS
from vae_cli.runs import folder, records
from vae_cli.runs.atomic import write_json, write_text
from vae_cli.runs.lock import RunLock
from vae_cli.runs.records import COMPLETE, FAILED, INTERRUPTED, RUNNING
from vae_cli.training import checkpoint, distribution
from vae_cli.training.checkpoint import Checkpoint
from vae_cli.training.manifest import new_manifest

SAMPLE_POINTS = 100  # latent points decoded after every epoch


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


@dataclass
class Hooks:
    """What a caller adds to a run (a tuning trial): entries of run.json, Keras callbacks that see
    each epoch before it is saved, and a function told the run folder as soon as it exists."""

    manifest: dict = field(default_factory=dict)
    callbacks: list = field(default_factory=list)
    on_folder: Callable[[Path], None] | None = None


def start(cfg: Config, argv: Sequence[str] = (), verbose: int = 2, hooks: Hooks | None = None) -> TrainResult:
    """Trains from a validated config into a new run folder. ``verbose`` as for ``fit``."""
    hooks = hooks or Hooks()
    distribution.prepare_devices(cfg.train)
    # Everything that can fail on bad input happens before the run folder exists.
    data = load_data(cfg.data, seed=cfg.train.seed)
    check_splits(data)
    check_buildable(cfg.model, data.image_shape)
    manifest = new_manifest(cfg, data, argv) | hooks.manifest
    run_dir = folder.create_run_dir(
        cfg.output, folder.plain_name(data.title) if data.name in USER_DATASETS else data.name
    )
    with RunLock(run_dir):
        write_text(run_dir / folder.CONFIG, "# Resolved configuration of this run.\n" + dump_yaml(cfg))
        write_json(run_dir / folder.MANIFEST, manifest)
        if hooks.on_folder:
            hooks.on_folder(run_dir)
        return _recorded(run_dir, lambda: _Run(run_dir, cfg, data, manifest, None, hooks.callbacks).train(verbose))


def resume(
    run_dir: str | Path, data_dir: str | None = None, verbose: int = 2, hooks: Hooks | None = None
) -> TrainResult:
    """Continues an interrupted run from its last completed epoch, holding the run folder's lock."""
    hooks = hooks or Hooks()
    run_dir = folder.existing_folder(run_dir)
    records.read_manifest(run_dir)  # a run folder: only then is a lock file made in it
    with RunLock(run_dir) as lock:
        return _resume(run_dir, lock, data_dir, verbose, hooks)


def _resume(run_dir: Path, lock: RunLock, data_dir: str | None, verbose: int, hooks: Hooks) -> TrainResult:
    manifest = records.read_manifest(run_dir)  # again: another writer may have ended since
    cfg = folder.read_config(run_dir)
    if manifest["status"] == COMPLETE:
        epochs = manifest.get("epochs_completed", 0)
        return TrainResult(
            run_dir,
            epochs,
            manifest.get("best_epoch", epochs),
            manifest.get("test", {}),
            0.0,
            epochs,
            already_finished=True,
        )
    recorded = manifest.get("config_hash")
    same_version = manifest.get("versions", {}).get("vae_cli", __version__) == __version__  # new keys change hashes
    if recorded and same_version and recorded != folder.config_hash(cfg):
        raise RunError(
            f"{run_dir / folder.CONFIG} has changed since this run started, so its checkpoint no longer fits it; "
            "undo the edit, or train a new run with the new settings"
        )
    state = checkpoint.load(run_dir / checkpoint.FILENAME)
    records.required(manifest, run_dir, "precision", "dataset.sha256")
    folder.writable_subfolder(run_dir, folder.SAMPLES)
    lock.remove_stale_temporaries()
    distribution.prepare_devices(cfg.train)
    data = load_data(folder.data_config_for_run(cfg, manifest, data_dir), seed=cfg.train.seed)
    if data.checksum() != manifest["dataset"]["sha256"]:
        raise RunError(
            f"the {data.title} data found in {data.source} differs from the data this run "
            "was trained on (sha256 in run.json)",
            Fix("point_data_dir"),
        )
    manifest["status"] = RUNNING  # until this process records how it ended
    manifest.pop("reason", None)
    manifest.update(hooks.manifest)
    write_json(run_dir / folder.MANIFEST, manifest)
    if hooks.on_folder:
        hooks.on_folder(run_dir)
    return _recorded(run_dir, lambda: _Run(run_dir, cfg, data, manifest, state, hooks.callbacks).train(verbose))


def _recorded(run_dir: Path, work: Callable[[], TrainResult]) -> TrainResult:
    """``work()``, with how it ended recorded in run.json if it did not record that itself: a signal
    that escaped the step-boundary handler becomes ``interrupted``, any other exception ``failed``
    with its reason, and is raised on."""
    try:
        return work()
    except (KeyboardInterrupt, Terminated) as exc:
        folder.mark_ended(run_dir, INTERRUPTED)
        signum = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
        done = (run_dir / checkpoint.FILENAME).is_file()
        raise Interrupted(
            f"{_stopped_by(signum)}; "
            + ("the run folder holds its last completed epoch" if done else "no epoch was completed"),
            Fix("resume", run_dir) if done else Fix("start_again", run_dir / folder.CONFIG),
            signum,
        ) from None
    except BaseException as exc:
        reason = str(exc) if isinstance(exc, VaeError) else f"{type(exc).__name__}: {str(exc).strip()}"
        folder.mark_ended(run_dir, FAILED, reason=" ".join(reason.split())[:500])
        raise


def _stopped_by(signum: int) -> str:
    return "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"


class _Run:
    """One run's models, callbacks and folder, from the first epoch to be trained to the finished run."""

    def __init__(
        self, run_dir: Path, cfg: Config, data: Data, manifest: dict, state: Checkpoint | None, extra: list = ()
    ) -> None:
        from vae_cli.figures.training_figures import epoch_images
        from vae_cli.training import callbacks as cb
        from vae_cli.training.pipeline import steps_per_epoch
        from vae_cli.training.publish import Publisher
        from vae_cli.training.setup import build_run_models

        self.dir, self.cfg, self.data = run_dir, cfg, data
        self.models = build_run_models(
            cfg, data.image_shape, len(data.train), manifest["precision"], state, str(run_dir / checkpoint.FILENAME)
        )
        self.first_epoch, rows, stopper_state, best = 0, [], None, None
        if state is not None:
            self.first_epoch, rows = state.state["epoch"], state.state["history"]
            stopper_state, best = state.state["early_stopping"], state.best
        train_cfg = cfg.train
        self.log = cb.EpochLog(rows)
        self.stopper = cb.EarlyStopper(train_cfg.early_stopping_patience, train_cfg.beta, stopper_state, best)
        self.stop_signals = cb.StopSignals()
        z = np.random.default_rng(train_cfg.seed).standard_normal((SAMPLE_POINTS, cfg.model.latent_dim))
        self.test_images = prepare(data.test.images, cfg.data.binarize)
        shown = epoch_images(data.test.labels, SAMPLE_POINTS, train_cfg.seed)
        self.publisher = Publisher(
            run_dir,
            manifest,
            self.models,
            self.log,
            self.stopper,
            z.astype("float32"),
            self.test_images[shown],
            data.title,
            cfg.model.latent_dim,
            self.first_epoch,
        )
        # The hooks' callbacks after the log and early stopping, before the epoch is saved.
        self.callbacks = [cb.NonFiniteGuard(), self.stop_signals, self.log, self.stopper, *extra]
        if cfg.output.tensorboard:
            from vae_cli.training.board import FOLDER, Board

            # Before EpochEnd: the epoch's log is on disk before its checkpoint.
            self.publisher.board = Board(run_dir / FOLDER, train_cfg.beta, self.log, self.first_epoch)
            self.callbacks.append(self.publisher.board)
        self.callbacks.append(cb.EpochEnd(self.publisher.on_epoch))
        if train_cfg.kl_warmup_epochs:
            steps = steps_per_epoch(len(data.train), train_cfg.batch_size)
            self.callbacks.insert(0, cb.KLWarmup(train_cfg.beta, train_cfg.kl_warmup_epochs, steps))

    def train(self, verbose: int) -> TrainResult:
        tf = backend.load()
        from vae_cli.training.callbacks import StopTraining
        from vae_cli.training.fitting import fit
        from vae_cli.training.pipeline import eval_pipeline

        cfg, done = self.cfg, len(self.log.rows)
        self.val_ds = eval_pipeline(self.test_images)
        try:
            if not self.stopper.stopped and self.first_epoch < cfg.train.epochs:
                fit(
                    self.models.training_copy.vae,
                    self.data.train,
                    self.val_ds,
                    cfg.train,
                    self.first_epoch,
                    self.callbacks,
                    verbose,
                    cfg.data.binarize,
                    self.data.image_shape,
                )
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
        return self.finish(done)

    def finish(self, resumed_at: int) -> TrainResult:
        """The final models (the best epoch's, with early stopping), test losses, figures, manifest."""
        from vae_cli.figures.training_figures import save_final_figures
        from vae_cli.training.history import history_columns

        rows, stopper, final = self.log.rows, self.stopper, self.models.float32_copy
        early = self.cfg.train.early_stopping_patience is not None
        if early and stopper.best_weights is not None:
            final.vae.set_weights(stopper.best_weights)  # as EarlyStopping(restore_best_weights=True)
            best_epoch = stopper.best_epoch
        else:
            final.vae.set_weights(self.models.training_copy.vae.get_weights())
            best_epoch = rows[-1]["epoch"]
        try:
            test = final.vae.evaluate(self.val_ds, verbose=0, return_dict=True)
            test = {k: float(test[k]) for k in ("loss", "reconstruction_loss", "kl_loss")}
            self.publisher.publish(len(rows))
            save_final_figures(
                self.dir,
                final.encoder,
                final.decoder,
                history_columns(rows, self.cfg.train.beta),
                self.cfg.train.beta,
                self.data.title,
                self.cfg.model.latent_dim,
                self.test_images,
                self.data.test.labels,
                self.data.class_names,
                stopper.best_epoch or None,
                "its weights kept" if early else "the last epoch's weights kept",
            )
        except OSError as exc:
            self._save_failed(exc)
        manifest = self.publisher.manifest
        manifest.update(
            status=COMPLETE,
            finished=folder.now_iso(),
            best_epoch=best_epoch,
            test=test | {"negative_elbo": test["reconstruction_loss"] + test["kl_loss"]},
        )
        write_json(self.dir / folder.MANIFEST, manifest)
        seconds = [r["seconds"] for r in rows[resumed_at:]] or [r["seconds"] for r in rows]
        return TrainResult(
            self.dir, len(rows), best_epoch, test, float(np.median(seconds)), resumed_at, history=list(rows)
        )

    def _stopped(self, stop: Exception) -> None:
        done = len(self.log.rows)
        kept = f"the run folder holds epoch {done}" if done else "no epoch was completed"
        if stop.reason == "interrupted":
            self.publisher.mark(INTERRUPTED)
            raise Interrupted(
                f"{_stopped_by(stop.signum)} in epoch {stop.epoch} (its {stop.batch - 1} finished steps are "
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
        what = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise RunError(
            f"could not write into {self.dir}: {what}; the last good checkpoint (epoch {self.publisher.saved_epoch}) "
            "is intact",
            Fix("resume", self.dir, first="free space"),
        ) from None
