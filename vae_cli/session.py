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
from vae_cli.data import load_data, prepare
from vae_cli.errors import EXIT_INTERRUPTED, VaeError
from vae_cli.history import history_columns, history_csv

SAMPLE_POINTS = 100  # latent points decoded after every epoch
GRID = 15


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
    data = load_data(cfg.data, seed=cfg.train.seed)  # before the run folder: no data, no empty run
    run_dir = runs.create_run_dir(cfg.output, cfg.data.dataset)
    runs.write_text(run_dir / runs.CONFIG, "# Resolved configuration of this run.\n" + _dump(cfg))
    manifest = _manifest(cfg, data, argv)
    runs.write_json(run_dir / runs.MANIFEST, manifest)
    return _train(run_dir, cfg, data, manifest, None, verbose)


def resume(run_dir, data_dir=None, verbose=2):
    """Continues an interrupted run from its last completed epoch."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise runs.RunError(f"run folder {run_dir} does not exist; pass a folder made by `vae train`")
    manifest = runs.read_manifest(run_dir)
    cfg = runs.read_config(run_dir)
    if manifest.get("status") == "complete":
        epochs = manifest.get("epochs_completed", 0)
        return TrainResult(run_dir, epochs, manifest.get("best_epoch", epochs), manifest.get("test", {}), 0.0,
                           epochs, already_finished=True)
    state = checkpoint.load(run_dir / checkpoint.FILENAME)
    runs.remove_stale_temporaries(run_dir)
    distribution.prepare_devices(cfg.train)
    data = load_data(runs.data_config_for_run(cfg, manifest, data_dir), seed=cfg.train.seed)
    if data.checksum() != manifest["dataset"]["sha256"]:
        raise runs.RunError(
            f"the {data.title} data found in {data.source} differs from the data this run "
            "was trained on (sha256 in run.json); point --data-dir at the original files"
        )
    return _train(run_dir, cfg, data, manifest, state, verbose)


def _train(run_dir, cfg, data, manifest, state, verbose):
    tf = backend.load()
    import keras

    from vae_cli import callbacks as cb, commands, figures, model, plots, train as training

    training.seed_everything(cfg.train.seed)
    title = f"{data.title} · latent {cfg.model.latent_dim}"  # + the epoch
    n_train = len(data.train)
    strategy_scope, _ = distribution.scope(cfg.train)
    keras.mixed_precision.set_global_policy(manifest["precision"])
    try:
        with strategy_scope:
            built = model.build_models(cfg.model, data.image_shape, beta=cfg.train.beta, seed=cfg.train.seed)
            training.compile_vae(built.vae, cfg.train, n_train)
            if state is not None:
                checkpoint.restore(built.vae, state, run_dir / checkpoint.FILENAME)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    # Saved models and figures are float32 whatever the training precision, so the
    # files load and decode the same on machines without bfloat16 hardware.
    final = model.build_models(cfg.model, data.image_shape, beta=cfg.train.beta, seed=cfg.train.seed)
    training.compile_vae(final.vae, cfg.train, n_train)

    first_epoch, rows, stopper_state, best = 0, [], None, None
    if state is not None:
        if state.best is not None:
            checkpoint.check_shapes(built.vae.weights, state.best, "checkpoint best weights")
        first_epoch, rows = state.state["epoch"], state.state["history"]
        stopper_state, best = state.state["early_stopping"], state.best
    log = cb.EpochLog(rows)
    stopper = cb.EarlyStopper(cfg.train.early_stopping_patience, cfg.train.beta, stopper_state, best)
    z_fixed = np.random.default_rng(cfg.train.seed).standard_normal((SAMPLE_POINTS, cfg.model.latent_dim))
    z_fixed = z_fixed.astype("float32")

    def publish(weights, epochs_done):
        """Models and history of ``weights`` into the run folder (float32 copies)."""
        final.vae.set_weights(weights)
        runs.save_model(final.encoder, run_dir / runs.ENCODER)
        runs.save_model(final.decoder, run_dir / runs.DECODER)
        runs.save_model(final.vae, run_dir / runs.VAE)
        runs.write_text(run_dir / "history.csv", history_csv(log.rows))
        manifest["epochs_completed"] = epochs_done
        runs.write_json(run_dir / runs.MANIFEST, manifest)

    def on_epoch(epoch):
        weights = built.vae.get_weights()
        final.vae.set_weights(weights)
        cb.save_samples(final.decoder, z_fixed, run_dir / "samples" / f"epoch_{epoch:03d}.png", f"{title} · epoch {epoch}")
        # Checkpoint last: once it names epoch k, everything of epoch k is on disk.
        publish(weights, epoch)
        checkpoint.save(
            run_dir / checkpoint.FILENAME,
            built.vae,
            stopper.best_weights,
            {"epoch": epoch, "history": log.rows, "early_stopping": stopper.state()},
        )

    ctrl_c = cb.CtrlC()
    callbacks = [cb.NonFiniteGuard(), ctrl_c, log, stopper, cb.EpochEnd(on_epoch)]
    if cfg.train.kl_warmup_epochs:
        steps = training.steps_per_epoch(n_train, cfg.train.batch_size)
        callbacks.insert(0, cb.KLWarmup(cfg.train.beta, cfg.train.kl_warmup_epochs, steps))
    test_images = prepare(data.test.images, cfg.data.binarize)
    val_ds = training.eval_pipeline(test_images)
    try:
        if not stopper.stopped and first_epoch < cfg.train.epochs:
            training.fit(built.vae, data.train, val_ds, cfg.train, first_epoch, callbacks, verbose,
                         cfg.data.binarize, data.image_shape)
    except cb.StopTraining as stop:
        _stopped(run_dir, manifest, stop, len(log.rows), cfg)
    except OSError as exc:
        _save_failed(run_dir, manifest, exc, len(log.rows))
    except tf.errors.OpError as exc:  # an image file that cannot be decoded, mid-epoch
        _mark(run_dir, manifest, "failed")
        raise VaeError(
            f"training stopped in epoch {len(log.rows) + 1}: {exc.message.splitlines()[0]}; fix or remove the "
            f"file and continue with: vae train --resume {run_dir}"
        ) from None
    finally:
        ctrl_c.restore()

    rows = log.rows
    if cfg.train.early_stopping_patience is not None and stopper.best_weights is not None:
        final.vae.set_weights(stopper.best_weights)  # the best epoch, as EarlyStopping(restore_best_weights)
        best_epoch = stopper.best_epoch
    else:
        final.vae.set_weights(built.vae.get_weights())
        best_epoch = rows[-1]["epoch"]
    try:
        test = final.vae.evaluate(val_ds, verbose=0, return_dict=True)
        test = {k: float(test[k]) for k in ("loss", "reconstruction_loss", "kl_loss")}
        publish(final.vae.get_weights(), len(rows))
        prefix = figures.title_prefix(data.title, cfg.model.latent_dim, len(rows))
        plots.save_loss_curves(run_dir / "loss.png", history_columns(rows), prefix)
        figures.draw_manifold(final.decoder, GRID, f"{prefix}: decoded latent grid", run_dir / "grid.png")
        figures.draw_latent(
            final.encoder, test_images, data.test.labels, data.class_names,
            f"{prefix}: test-set latent means", run_dir / "latent.png",
        )
        commands.progress_gif(run_dir)
    except OSError as exc:
        _save_failed(run_dir, manifest, exc, len(rows))
    manifest.update(
        status="complete",
        finished=runs.now_iso(),
        best_epoch=best_epoch,
        test=test | {"negative_elbo": test["reconstruction_loss"] + test["kl_loss"]},
    )
    runs.write_json(run_dir / runs.MANIFEST, manifest)
    seconds = [r["seconds"] for r in rows[first_epoch:]] or [r["seconds"] for r in rows]
    return TrainResult(run_dir, len(rows), best_epoch, test, float(np.median(seconds)), first_epoch)


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


def _dump(cfg):
    from vae_cli import config

    return config.dump_yaml(cfg)


def _manifest(cfg, data, argv):
    import platform

    tf = backend.load()
    import keras

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
        "versions": {
            "vae_cli": __version__,
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
        },
    }

