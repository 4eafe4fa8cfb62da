"""What each subcommand does, from a validated config or a run folder to files on disk.

The CLI parses and prints; these functions do the work and return what to print.
TensorFlow is imported here, inside the functions, never at module import.
"""

import csv
import dataclasses
import io
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_cli import __version__, backend, runs
from vae_cli.data import DATASETS, load_data, local_folder, to_float

SAMPLE_POINTS = 100  # latent points decoded after every epoch
GRID = 15


@dataclass
class TrainResult:
    run_dir: Path
    epochs: int
    best_epoch: int
    test: dict  # loss, reconstruction_loss, kl_loss (nats per image)
    seconds_per_epoch: float


def train(cfg, argv=(), verbose=2):
    """Trains from a validated config into a new run folder. ``verbose`` as for ``fit``."""
    data = load_data(cfg.data)  # before the run folder: no data, no empty run
    run_dir = runs.create_run_dir(cfg.output, cfg.data.dataset)
    runs.write_text(run_dir / runs.CONFIG, _config_yaml(cfg))
    manifest = _manifest(cfg, data, argv)
    runs.write_json(run_dir / runs.MANIFEST, manifest)

    import keras

    from vae_cli import figures, model, plots, train as training

    training.seed_everything(cfg.train.seed)
    title = f"{DATASETS[cfg.data.dataset].title} · latent {cfg.model.latent_dim}"
    keras.mixed_precision.set_global_policy(manifest["precision"])
    try:
        built = model.build_models(cfg.model, data.image_shape, beta=cfg.train.beta, seed=cfg.train.seed)
        training.compile_vae(built.vae, cfg.train, len(data.train.images))
        train_ds = training.image_pipeline(data.train.images, cfg.train.batch_size, shuffle=True, seed=cfg.train.seed)
        test_ds = training.image_pipeline(data.test.images, training.EVAL_BATCH, shuffle=False)
        z_fixed = np.random.default_rng(cfg.train.seed).standard_normal((SAMPLE_POINTS, cfg.model.latent_dim))
        log = training.EpochLog(lambda rows: runs.write_text(run_dir / "history.csv", history_csv(rows)))
        callbacks = [log, training.EpochSamples(built.decoder, z_fixed.astype("float32"), run_dir / "samples", title)]
        training.fit(built.vae, train_ds, test_ds, cfg.train, callbacks, verbose=verbose)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    # Saved models and figures are float32 whatever the training precision, so the
    # files load and decode the same on machines without bfloat16 hardware.
    final = model.build_models(cfg.model, data.image_shape, beta=cfg.train.beta, seed=cfg.train.seed)
    final.vae.set_weights(built.vae.get_weights())
    training.compile_vae(final.vae, cfg.train, len(data.train.images))

    test = final.vae.evaluate(test_ds, verbose=0, return_dict=True)
    test = {k: float(test[k]) for k in ("loss", "reconstruction_loss", "kl_loss")}
    rows = log.rows
    best = min(rows, key=lambda r: r["val_loss"]) if cfg.train.early_stopping_patience is not None else rows[-1]
    runs.save_model(final.encoder, run_dir / runs.ENCODER)
    runs.save_model(final.decoder, run_dir / runs.DECODER)
    runs.save_model(final.vae, run_dir / runs.VAE)

    prefix = f"{title} · {len(rows)} epochs"
    plots.save_loss_curves(run_dir / "loss.png", history_columns(rows), prefix)
    figures.draw_manifold(final.decoder, GRID, f"{prefix}: decoded latent grid", run_dir / "grid.png")
    figures.draw_latent(
        final.encoder, to_float(data.test.images), data.test.labels, DATASETS[cfg.data.dataset].class_names,
        f"{prefix}: test-set latent means", run_dir / "latent.png",
    )
    manifest.update(
        status="complete",
        finished=runs.now_iso(),
        epochs_completed=len(rows),
        best_epoch=best["epoch"],
        test=test | {"negative_elbo": test["reconstruction_loss"] + test["kl_loss"]},
    )
    runs.write_json(run_dir / runs.MANIFEST, manifest)
    seconds = float(np.median([r["seconds"] for r in rows]))
    return TrainResult(run_dir, len(rows), best["epoch"], test, seconds)


def sample_grid(n, run=None, out=None, output_dir="outputs"):
    backend.load()
    from vae_cli import figures

    run_dir = runs.resolve_run(run, output_dir)
    cfg, manifest = runs.read_config(run_dir), runs.read_manifest(run_dir)
    decoder = runs.load_model(run_dir / runs.DECODER)
    path = Path(out) if out else run_dir / ("grid.png" if n == GRID else f"grid-{n}.png")
    title = f"{figures.title_prefix(cfg, manifest.get('epochs_completed', '?'))}: decoded latent grid"
    figures.draw_manifold(decoder, n, title, path)
    return path


def plot_latent(run=None, out=None, output_dir="outputs", data_dir=None):
    backend.load()
    from vae_cli import figures

    run_dir = runs.resolve_run(run, output_dir)
    cfg, manifest = runs.read_config(run_dir), runs.read_manifest(run_dir)
    data = load_data(_data_config_for_run(cfg, manifest, data_dir), splits=("test",))
    encoder = runs.load_model(run_dir / runs.ENCODER)
    path = Path(out) if out else run_dir / "latent.png"
    title = f"{figures.title_prefix(cfg, manifest.get('epochs_completed', '?'))}: test-set latent means"
    figures.draw_latent(
        encoder, to_float(data.test.images), data.test.labels, DATASETS[cfg.data.dataset].class_names, title, path
    )
    return path


def _data_config_for_run(cfg, manifest, data_dir=None):
    """The run's data settings; with no folder given anywhere, the folder it was trained from."""
    if data_dir:
        return dataclasses.replace(cfg.data, data_dir=data_dir)
    recorded = manifest.get("dataset", {}).get("source", "keras")
    if local_folder(cfg.data) is None and recorded != "keras" and Path(recorded).is_dir():
        return dataclasses.replace(cfg.data, data_dir=recorded)
    return cfg.data


HISTORY_KEYS = ["loss", "reconstruction_loss", "kl_loss", "val_loss", "val_reconstruction_loss", "val_kl_loss"]


def history_csv(rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["epoch", *HISTORY_KEYS, "seconds"], extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


def history_columns(rows):
    return {key: [row.get(key, np.nan) for row in rows] for key in ["epoch", *HISTORY_KEYS]}


def _config_yaml(cfg):
    from vae_cli import config

    return "# Resolved configuration of this run (defaults filled in).\n" + config.dump_yaml(cfg)


def _manifest(cfg, data, argv):
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
            "source": data.source,
            "train_images": len(data.train.images),
            "test_images": len(data.test.images),
            "sha256": data.checksum(),
        },
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
