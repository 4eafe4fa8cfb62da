"""The figure commands: from a run folder to a PNG, one batched pass of the model per figure.

TensorFlow is imported inside the functions, never at module import.
"""

from pathlib import Path

from vae_cli import backend, runs
from vae_cli.data import DATASETS, load_data, to_float

GRID = 15


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
    data = load_data(runs.data_config_for_run(cfg, manifest, data_dir), splits=("test",))
    encoder = runs.load_model(run_dir / runs.ENCODER)
    path = Path(out) if out else run_dir / "latent.png"
    title = f"{figures.title_prefix(cfg, manifest.get('epochs_completed', '?'))}: test-set latent means"
    figures.draw_latent(
        encoder, to_float(data.test.images), data.test.labels, DATASETS[cfg.data.dataset].class_names, title, path
    )
    return path
