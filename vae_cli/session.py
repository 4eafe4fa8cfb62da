"""One training run from a fresh or resumed state to a finished run folder.

After every completed epoch the run folder is brought up to date: checkpoint,
models, history and the epoch's samples, each written atomically. So whatever
stops the process (SIGKILL, Ctrl-C, a full disk, a NaN) the folder holds the
last completed epoch, loadable, and ``vae train --resume`` continues from it.
"""

import errno
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_cli import __version__, backend, checkpoint, distribution, runs
from vae_cli.config import dump_yaml
from vae_cli.defaults import GRID
from vae_cli.data import load_data, prepare
from vae_cli.errors import EXIT_INTERRUPTED, VaeError
from vae_cli.history import history_columns, history_csv

SAMPLE_POINTS = 100  # latent points decoded after every epoch
USER_DATA = ("image_folder", "npz")  # runs named after the folder or file, not the dataset kind


class Interrupted(VaeError):
    exit_code = EXIT_INTERRUPTED


@dataclass
class TrainResult:
    run_dir: Path
    epochs: int
    best_epoch: int
    test: dict  # loss, reconstruction_loss, kl_loss (nats per image)
    seconds_per_epoch: float
    resumed_from: int = 0
    already_finished: bool = False


def start(cfg, argv=(), verbose=2):
    """Trains from a validated config into a new run folder. ``verbose`` as for ``fit``."""
    distribution.prepare_devices(cfg.train)
    # Everything that can fail on bad input happens before the run folder exists.
    data = load_data(cfg.data, seed=cfg.train.seed)
    manifest = _manifest(cfg, data, argv)
    run_dir = runs.create_run_dir(cfg.output, runs.plain_name(data.title) if data.name in USER_DATA else data.name)
    runs.write_text(run_dir / runs.CONFIG, "# Resolved configuration of this run.\n" + dump_yaml(cfg))
    runs.write_json(run_dir / runs.MANIFEST, manifest)
    return _Run(run_dir, cfg, data, manifest, None).train(verbose)


def resume(run_dir, data_dir=None, verbose=2):
    """Continues an interrupted run from its last completed epoch."""
    run_dir = runs.existing_folder(run_dir)
    manifest = runs.read_manifest(run_dir)
    cfg = runs.read_config(run_dir)
    if manifest.get("status") == "complete":
        epochs = manifest.get("epochs_completed", 0)
        return TrainResult(run_dir, epochs, manifest.get("best_epoch", epochs), manifest.get("test", {}), 0.0,
                           epochs, already_finished=True)
    recorded = manifest.get("config_hash")
    same_version = manifest.get("versions", {}).get("vae_cli", __version__) == __version__  # new keys change hashes
    if recorded and same_version and recorded != runs.config_hash(cfg):
        raise runs.RunError(
            f"{run_dir / runs.CONFIG} has changed since this run started, so its checkpoint no longer fits it; "
            "undo the edit, or train a new run with the new settings"
        )
    state = checkpoint.load(run_dir / checkpoint.FILENAME)
    runs.remove_stale_temporaries(run_dir)
    distribution.prepare_devices(cfg.train)
    data = load_data(runs.data_config_for_run(cfg, manifest, data_dir), seed=cfg.train.seed)
    if data.checksum() != manifest["dataset"]["sha256"]:
        raise runs.RunError(
            f"the {data.title} data found in {data.source} differs from the data this run "
            "was trained on (sha256 in run.json); point --data-dir at the original files"
        )
    return _Run(run_dir, cfg, data, manifest, state).train(verbose)


class _Run:
    """The models of one run and what happens to the run folder as they train."""

    def __init__(self, run_dir, cfg, data, manifest, state):
        backend.load()
        import keras

        from vae_cli import model, train as training

        self.dir, self.cfg, self.data, self.manifest = run_dir, cfg, data, manifest
        training.seed_everything(cfg.train.seed)
        n_train = len(data.train)
        strategy_scope, _ = distribution.scope(cfg.train)
        keras.mixed_precision.set_global_policy(manifest["precision"])
        try:
            with strategy_scope:
                self.built = model.build_models(cfg.model, data.image_shape, cfg.train.beta, cfg.train.seed)
                training.compile_vae(self.built.vae, cfg.train, n_train)
                if state is not None:
                    checkpoint.restore(self.built.vae, state, run_dir / checkpoint.FILENAME)
        finally:
            keras.mixed_precision.set_global_policy("float32")
        # Saved models and figures are float32 whatever the training precision, so the
        # files load and decode the same on machines without bfloat16 hardware.
        self.final = model.build_models(cfg.model, data.image_shape, cfg.train.beta, cfg.train.seed)
        training.compile_vae(self.final.vae, cfg.train, n_train)
        self._callbacks(state)
        self.test_images = prepare(data.test.images, cfg.data.binarize)
        z = np.random.default_rng(cfg.train.seed).standard_normal((SAMPLE_POINTS, cfg.model.latent_dim))
        self.z_fixed = z.astype("float32")

    def _callbacks(self, state):
        from vae_cli import callbacks as cb, train as training

        self.first_epoch, rows, stopper_state, best = 0, [], None, None
        self.saved_epoch = 0  # the epoch the checkpoint on disk holds
        if state is not None:
            if state.best is not None:
                checkpoint.check_shapes(self.built.vae.weights, state.best, "checkpoint best weights")
            self.first_epoch, rows = state.state["epoch"], state.state["history"]
            self.saved_epoch = self.first_epoch
            stopper_state, best = state.state["early_stopping"], state.best
        train_cfg = self.cfg.train
        self.log = cb.EpochLog(rows)
        self.stopper = cb.EarlyStopper(train_cfg.early_stopping_patience, train_cfg.beta, stopper_state, best)
        self.ctrl_c = cb.CtrlC()
        self.callbacks = [cb.NonFiniteGuard(), self.ctrl_c, self.log, self.stopper, cb.EpochEnd(self.on_epoch)]
        if train_cfg.kl_warmup_epochs:
            steps = training.steps_per_epoch(len(self.data.train), train_cfg.batch_size)
            self.callbacks.insert(0, cb.KLWarmup(train_cfg.beta, train_cfg.kl_warmup_epochs, steps))

    def publish(self, epochs_done):
        """Models (the float32 copies), history and manifest into the run folder."""
        runs.save_model(self.final.encoder, self.dir / runs.ENCODER)
        runs.save_model(self.final.decoder, self.dir / runs.DECODER)
        runs.save_model(self.final.vae, self.dir / runs.VAE)
        runs.write_text(self.dir / "history.csv", history_csv(self.log.rows))
        self.manifest["epochs_completed"] = epochs_done
        runs.write_json(self.dir / runs.MANIFEST, self.manifest)

    def on_epoch(self, epoch):
        from vae_cli import callbacks as cb

        self.final.vae.set_weights(self.built.vae.get_weights())
        title = f"{self.data.title} · latent {self.cfg.model.latent_dim} · epoch {epoch}"
        cb.save_samples(self.final.decoder, self.z_fixed, self.dir / "samples" / f"epoch_{epoch:03d}.png", title)
        self.publish(epoch)
        # The checkpoint last: once it names epoch k, everything of epoch k is on disk.
        checkpoint.save(
            self.dir / checkpoint.FILENAME,
            self.built.vae,
            self.stopper.best_weights,
            {"epoch": epoch, "history": self.log.rows, "early_stopping": self.stopper.state()},
        )
        self.saved_epoch = epoch

    def train(self, verbose):
        tf = backend.load()
        from vae_cli import callbacks as cb, train as training

        cfg, done = self.cfg, len(self.log.rows)
        self.val_ds = training.eval_pipeline(self.test_images)
        try:
            if not self.stopper.stopped and self.first_epoch < cfg.train.epochs:
                training.fit(self.built.vae, self.data.train, self.val_ds, cfg.train, self.first_epoch,
                             self.callbacks, verbose, cfg.data.binarize, self.data.image_shape)
        except cb.StopTraining as stop:
            _stopped(self.dir, self.manifest, stop, len(self.log.rows), cfg)
        except OSError as exc:
            _save_failed(self.dir, self.manifest, exc, self.saved_epoch)
        except tf.errors.OpError as exc:  # most often an image file that cannot be decoded, mid-epoch
            _mark(self.dir, self.manifest, "failed")
            raise VaeError(
                f"training stopped in epoch {len(self.log.rows) + 1}: {exc.message.splitlines()[0]}; "
                "if an image file is unreadable, fix or remove it and train a new run"
            ) from None
        finally:
            self.ctrl_c.restore()
        return self.finish(done)

    def finish(self, resumed_at):
        """The final models (the best epoch's, with early stopping), test losses, figures, manifest."""
        from vae_cli import figures, plots

        rows, stopper = self.log.rows, self.stopper
        if self.cfg.train.early_stopping_patience is not None and stopper.best_weights is not None:
            self.final.vae.set_weights(stopper.best_weights)  # as EarlyStopping(restore_best_weights=True)
            best_epoch = stopper.best_epoch
        else:
            self.final.vae.set_weights(self.built.vae.get_weights())
            best_epoch = rows[-1]["epoch"]
        try:
            test = self.final.vae.evaluate(self.val_ds, verbose=0, return_dict=True)
            test = {k: float(test[k]) for k in ("loss", "reconstruction_loss", "kl_loss")}
            self.publish(len(rows))
            prefix = figures.title_prefix(self.data.title, self.cfg.model.latent_dim, len(rows))
            plots.save_loss_curves(self.dir / "loss.png", history_columns(rows, self.cfg.train.beta), prefix,
                                    self.cfg.train.beta)
            figures.draw_manifold(self.final.decoder, GRID, f"{prefix}: decoded latent grid",
                                  self.dir / "grid.png")
            figures.draw_latent(self.final.encoder, self.test_images, self.data.test.labels, self.data.class_names,
                                f"{prefix}: test-set latent means", self.dir / "latent.png")
            figures.progress_gif(self.dir)
        except OSError as exc:
            _save_failed(self.dir, self.manifest, exc, self.saved_epoch)
        self.manifest.update(
            status="complete",
            finished=runs.now_iso(),
            best_epoch=best_epoch,
            test=test | {"negative_elbo": test["reconstruction_loss"] + test["kl_loss"]},
        )
        runs.write_json(self.dir / runs.MANIFEST, self.manifest)
        seconds = [r["seconds"] for r in rows[resumed_at:]] or [r["seconds"] for r in rows]
        return TrainResult(self.dir, len(rows), best_epoch, test, float(np.median(seconds)), resumed_at)


def _mark(run_dir, manifest, status, **extra):
    manifest.update(status=status, **extra)
    try:
        runs.write_json(run_dir / runs.MANIFEST, manifest)
    except OSError:
        pass  # the message about the original failure matters more


def _stopped(run_dir, manifest, stop, done, cfg):
    resume_cmd = f"vae train --resume {run_dir}"
    kept = f"the run folder holds epoch {done}" if done else "no epoch was completed"
    if stop.reason == "interrupted":
        _mark(run_dir, manifest, "interrupted")
        raise Interrupted(
            f"interrupted in epoch {stop.epoch} (its {stop.batch - 1} finished steps are discarded); "
            f"{kept}; continue with: {resume_cmd}"
        )
    _mark(run_dir, manifest, "diverged", diverged_at={"epoch": stop.epoch, "batch": stop.batch})
    raise VaeError(
        f"training diverged: the loss became {stop.value} at epoch {stop.epoch}, batch {stop.batch}; {kept}, "
        f"with finite weights; lower train.learning_rate (now {cfg.train.learning_rate:g}) and train again"
    )


def _save_failed(run_dir, manifest, exc, done):
    what = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    _mark(run_dir, manifest, "failed")
    raise runs.RunError(
        f"could not write into {run_dir}: {what}; the last good checkpoint (epoch {done}) is intact; "
        f"free space and continue with: vae train --resume {run_dir}"
    ) from None


def _manifest(cfg, data, argv):
    tf = backend.load()
    return {
        "status": "running",
        "created": runs.now_iso(),
        "command": " ".join(["vae", *argv]),
        "seed": cfg.train.seed,
        "config_hash": runs.config_hash(cfg),
        "dataset": {
            "name": data.name,
            "title": data.title,
            "source": data.source,
            "image_shape": list(data.image_shape),
            "class_names": list(data.class_names),
            "train_images": len(data.train),
            "test_images": len(data.test),
            "sha256": data.checksum(),
        },
        "distribute": {"strategy": cfg.train.distribute, "devices": cfg.train.devices},
        "precision": backend.resolve_precision(cfg.train.precision),
        "threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
            "cpu_count": os.cpu_count(),
        },
        "versions": backend.versions(),
    }

