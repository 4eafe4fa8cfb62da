"""The Python API, for notebooks and scripts: train a run or open one; encode, decode, sample and reconstruct;
each figure as a matplotlib figure (displayed inline in Jupyter); history and metrics as plain Python data.

It runs the code the command line runs (``vae train``, ``vae sample`` ...): the same run folders, the same
files, the same checks and errors (``vae_cli.errors.VaeError`` and its kinds).

>>> import vae_cli.api as vae
>>> run = vae.train("mnist", {"train.epochs": 1, "data.validation_size": 50})
>>> run.manifest["status"], len(run.history)
('complete', 1)
>>> images, labels = run.test_images(8)
>>> run.encode(images).shape                  # latent means
(8, 2)
>>> run.decode(run.encode(images)).shape      # images, values in [0, 1]
(8, 28, 28, 1)
>>> run.sample(4).shape
(4, 28, 28, 1)
>>> fig = run.grid(15)                        # a matplotlib figure; a notebook shows it inline
>>> type(fig).__name__, (run.dir / "grid.png").is_file()
('Figure', True)
>>> vae.open_run().dir == run.dir             # the latest run under outputs/
True
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vae_cli import defaults

__all__ = ["Run", "open_run", "train"]


def train(
    config: str | Path | Sequence[str | Path] = "mnist",
    overrides: Mapping[str, Any] | None = None,
    *,
    data_dir: str | Path | None = None,
    output_dir: str | Path | None = None,
    verbose: int = 0,
) -> Run:
    """Trains a new run, as ``vae train --config CONFIG --set KEY=VALUE ...`` does, and returns it.

    ``config``: a config file, a built-in config's name (``vae configs`` lists them) or several, later ones
    winning; ``overrides``: dotted keys and Python values (``{"train.epochs": 3}``); ``verbose``: Keras's
    progress (0 silent, 2 one line per epoch).
    """
    from vae_cli.config import load_config
    from vae_cli.training import run as training

    given = dict(overrides or {})
    if data_dir is not None:
        given["data.data_dir"] = str(data_dir)
    if output_dir is not None:
        given["output.dir"] = str(output_dir)
    cfg = load_config(config, list(given.items()))
    result = training.start(cfg, _command(config, given), verbose)
    return Run(result.run_dir)


def open_run(
    run: str | Path | None = None, output_dir: str | Path = defaults.OUTPUT_DIR, data_dir: str | Path | None = None
) -> Run:
    """A run folder: ``run``, else the latest finished one under ``output_dir``."""
    return Run(run, output_dir, data_dir)


def _command(config: Any, overrides: Mapping[str, Any]) -> list[str]:
    """The call as the equivalent command line, recorded in run.json like a typed command."""
    from vae_cli.yamlfile import yaml_text

    configs = [config] if isinstance(config, (str, Path)) else list(config)
    args = ["train", *[item for c in configs for item in ("--config", str(c))]]
    return args + [item for key, value in overrides.items() for item in ("--set", f"{key}={yaml_text(value)}")]


class Run:
    """One run folder, its models loaded on first use."""

    def __init__(
        self,
        run: str | Path | None = None,
        output_dir: str | Path = defaults.OUTPUT_DIR,
        data_dir: str | Path | None = None,
    ) -> None:
        from vae_cli.runs.view import RunView

        self._view = RunView(run, output_dir, None if data_dir is None else str(data_dir))
        self.dir: Path = self._view.dir

    def __repr__(self) -> str:
        return f"Run({str(self.dir)!r})"

    # ------------------------------------------------------------ plain data
    @property
    def config(self) -> dict:
        """The run's resolved config, section by section."""
        from vae_cli.config import to_dict

        return to_dict(self._view.cfg)

    @property
    def manifest(self) -> dict:
        """run.json: status, command, dataset, versions, epochs completed."""
        return self._view.manifest

    @property
    def history(self) -> list[dict[str, float]]:
        """history.csv: one dict of numbers per epoch."""
        from vae_cli.runs import folder
        from vae_cli.runs.history import read_history

        return read_history(self.dir / folder.HISTORY)

    @property
    def metrics(self) -> dict:
        """metrics.json: what ``vae evaluate`` measured ({} before it has run)."""
        from vae_cli.runs import records

        return records.read_metrics(self.dir)

    @property
    def summary(self) -> dict:
        """What ``vae show --json`` prints."""
        from vae_cli.runs.summary import summary_record

        return summary_record(self.dir)

    # ------------------------------------------------------------ the models
    @property
    def latent_dim(self) -> int:
        return int(self._view.cfg.model.latent_dim)

    def test_images(self, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The first ``n`` test images (all when None) as the model sees them, and their labels."""
        test = self._view.split("test", None if n is None else lambda count: np.arange(min(n, count)))
        return test.images, test.labels

    def encode(self, images: np.ndarray, labels: Any = None) -> np.ndarray:
        """The latent means of ``images`` (shape (n, height, width, channels), values in [0, 1]); a cvae
        needs their labels."""
        return self._codec.encode(np.asarray(images, dtype="float32"), labels)

    def decode(self, z: np.ndarray, labels: Any = None) -> np.ndarray:
        """The decoder's images of the codes ``z`` (shape (n, latent_dim)); a cvae decodes as ``labels``."""
        return self._codec.decode(z, labels)

    def reconstruct(self, images: np.ndarray, labels: Any = None) -> np.ndarray:
        """Each image decoded from its latent mean."""
        return self._codec.reconstruct(np.asarray(images, dtype="float32"), labels)

    def sample(self, n: int, seed: int = defaults.SEED, label: int | None = None) -> np.ndarray:
        """``n`` images decoded from random codes: the prior's (an autoencoder: a Gaussian fitted to its
        codes); a cvae draws class ``label``, or the classes in turn."""
        from vae_cli.figures import kind_figures

        codec = self._codec
        codes = None if codec.kind.has_prior else codec.encode(self._view.split("test").images)
        z, _ = kind_figures.random_codes(codec, n, seed, codes)
        labels, _ = kind_figures.random_labels(codec, n, label, self._view.class_names)
        return codec.decode(z, labels)

    @property
    def _codec(self) -> Any:
        from vae_cli.figures.requested import codec_of

        return codec_of(self._view)

    # ------------------------------------------------------------ figures, as the commands draw them
    def grid(self, n: int = defaults.GRID, dims: tuple[int, int] | str | None = None, label: int | None = None) -> Any:
        """The decoded latent grid (``vae sample --grid N``); also written to the run folder."""
        from vae_cli.figures import from_run

        asked = from_run.GridAsked(n=n, dims=dims, label=label)
        return self._figure(lambda out: from_run.sample_grid(self._view, asked, out))

    def samples(self, n: int = 64, seed: int = defaults.SEED, label: int | None = None) -> Any:
        """Random samples (``vae sample --random N``)."""
        from vae_cli.figures import from_run

        return self._figure(lambda out: from_run.sample_random(self._view, n, seed, out, label))

    def latent_scatter(self, method: str = "pca", limit: int | None = None) -> Any:
        """The test set's latent means coloured by class (``vae plot-latent``)."""
        from vae_cli.figures import from_run

        return self._figure(lambda out: from_run.plot_latent(self._view, method, "test", limit, defaults.SEED, out))

    def reconstructions(self, n: int = defaults.RECONSTRUCT_COUNT, seed: int = defaults.SEED) -> Any:
        """Test images above their reconstructions (``vae reconstruct``)."""
        from vae_cli.figures import rows_from_run

        return self._figure(lambda out: rows_from_run.reconstruct(self._view, n, seed, out))

    def interpolation(
        self, start: int | None = None, end: int | None = None, steps: int = defaults.INTERPOLATE_STEPS
    ) -> Any:
        """The decoded line between two test images' latent means (``vae interpolate``)."""
        from vae_cli.figures import rows_from_run

        return self._figure(lambda out: rows_from_run.interpolate(self._view, start, end, steps, out))

    def traversal(self, dim: int | None = None, steps: int = defaults.TRAVERSE_STEPS) -> Any:
        """Each latent dimension moved on its own around a test image's code (``vae traverse``)."""
        from vae_cli.figures import rows_from_run

        how = rows_from_run.Traversal(dim=dim, steps=steps)
        return self._figure(lambda out: rows_from_run.traverse(self._view, how, None, defaults.SEED, out))

    def loss_curves(self) -> Any:
        """Loss per epoch, train and validation, the best epoch marked (the run's loss.png)."""
        from vae_cli.figures import charts
        from vae_cli.figures.draw import title_prefix
        from vae_cli.kinds import Score
        from vae_cli.runs.history import best_epoch, columns

        rows, view = self.history, self._view
        score = Score.of_run(view.cfg.model, view.cfg.train)
        prefix = title_prefix(view.dataset_title, self.latent_dim, len(rows))
        best, _ = best_epoch(rows, score)

        def draw(out: Path) -> list[Path]:
            return [charts.save_loss_curves(out, columns(rows), prefix, view.cfg.train.beta, best)]

        return self._figure(draw, keep_file=False)

    def _figure(self, draw: Any, keep_file: bool = True) -> Any:
        """The figure ``draw(out)`` saves: to the command's default file in the run folder, or (``keep_file``
        False) to a temporary file."""
        from vae_cli.figures.writer import keeping_figures

        with keeping_figures() as kept, tempfile.TemporaryDirectory() as scratch:
            draw(None if keep_file else Path(scratch) / "figure.png")
        return kept[-1]
