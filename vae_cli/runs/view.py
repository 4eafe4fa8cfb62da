"""A finished (or interrupted) run folder as the figure and evaluation commands read it."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from vae_cli.data.load import load_data
from vae_cli.data.source import DataSource
from vae_cli.data.types import Data, Split, prepare
from vae_cli.defaults import OUTPUT_DIR
from vae_cli.errors import RunError
from vae_cli.kinds import ModelKind, kind_of
from vae_cli.names import DECODER, ENCODER
from vae_cli.runs import folder, inference, records
from vae_cli.runs.modelfile import load_model
from vae_cli.sources import SOURCES


class RunView:
    """A run folder's config and manifest, with its models loaded on first use.

    ``notes`` say which damaged folders the search for the latest run passed over.
    """

    def __init__(
        self, run: str | Path | None = None, output_dir: str | Path = OUTPUT_DIR, data_dir: str | None = None
    ) -> None:
        found = folder.resolve_run(run, output_dir)
        self.dir, self.notes = found.dir, found.notes
        self.cfg = folder.read_config(self.dir)
        self.manifest = records.read_manifest(self.dir)
        self.data_dir = data_dir

    @property
    def kind(self) -> ModelKind:
        return kind_of(self.cfg.model)

    @cached_property
    def encoder(self) -> Any:
        return self._of_its_kind(load_model(self.dir / folder.ENCODER), folder.ENCODER)

    @cached_property
    def decoder(self) -> Any:
        return self._of_its_kind(load_model(self.dir / folder.DECODER), folder.DECODER)

    @property
    def figure_models(self) -> FigureModels:
        return FigureModels(self)

    @cached_property
    def figure_encoder(self) -> Any:
        """The encoder the figures use: the run's ONNX copy where one is current (no TensorFlow), else Keras's."""
        return self._figure_model(ENCODER)

    @cached_property
    def figure_decoder(self) -> Any:
        """The decoder the figures use: the run's ONNX copy where one is current (no TensorFlow), else Keras's."""
        return self._figure_model(DECODER)

    def _figure_model(self, name: str) -> Any:
        image = tuple(self.manifest.get("dataset", {}).get("image_shape") or ())
        latent = (self.cfg.model.latent_dim,)
        shapes = (image, latent) if name == ENCODER else (latent, image)
        copy = inference.copy_for(self.dir, name, self.manifest, shapes)
        if copy is None or (len(copy.inputs), len(copy.outputs)) != self.kind.model_io(name):
            return getattr(self, name)  # the .h5 model, checked against the kind as ever
        return self._of_its_kind(copy, f"{name}.h5")

    def _of_its_kind(self, model: Any, name: str) -> Any:
        """``model``, if it has the inputs and outputs of ``model.kind`` in config.yaml (which a user may edit)."""
        kind = self.kind
        found = (len(model.inputs), len(model.outputs))
        if found != kind.model_io(name.removesuffix(".h5")):
            ins, outs = (
                f"{n} {word}{'s' if n > 1 else ''}" for n, word in zip(found, ("input", "output"), strict=True)
            )
            raise RunError(
                f"{self.dir / name} takes {ins} and gives {outs}, but {self.dir / folder.CONFIG} says model.kind: "
                f"{kind.name}; the run folder is damaged (was config.yaml edited?): undo the edit, or train a new run"
            )
        if kind.conditional and model.inputs[1].shape[-1] != len(self.class_names):
            raise RunError(
                f"{self.dir / name} is given {model.inputs[1].shape[-1]} classes, but {self.dir / folder.MANIFEST} "
                f"names {len(self.class_names)}; the run folder is damaged (was run.json edited?): undo the edit, "
                "or train a new run"
            )
        return model

    @property
    def source(self) -> DataSource:
        return SOURCES.get(self.cfg.data.dataset)

    @property
    def class_names(self) -> list[str]:
        return self.manifest["dataset"].get("class_names") or self.source.class_names or []

    @property
    def dataset_title(self) -> str:
        return self.manifest["dataset"].get("title") or self.source.title or self.cfg.data.dataset

    @property
    def epochs(self) -> int:
        return self.manifest.get("epochs_completed", 0)

    def load(self, splits: tuple[str, ...] = ("test",)) -> Data:
        data_cfg = folder.data_config_for_run(self.cfg, self.manifest, self.data_dir)
        return load_data(data_cfg, splits, self.cfg.train.seed)

    def split(self, name: str = "test", pick: Callable[[int], np.ndarray] | None = None) -> Split:
        """A data split as the model sees it at test time: float32, binarized like the training data.

        ``pick(count)`` returns the indices to keep, chosen before a streamed folder is decoded.
        """
        split = getattr(self.load((name,)), name)
        keep = np.arange(len(split)) if pick is None else pick(len(split))
        if split.images is None:  # a streamed training folder: decode the chosen files now
            from vae_cli.data.imagefiles import decode_files

            records.required(self.manifest, self.dir, "dataset.image_shape")
            images = decode_files([split.files[i] for i in keep], tuple(self.manifest["dataset"]["image_shape"]))
        else:
            images = split.images[keep]
        factors = None if split.factors is None else split.factors[keep]
        return Split(prepare(images, self.cfg.data.binarize), split.labels[keep], factors=factors)


class FigureModels:
    """A run's ``encoder`` and ``decoder`` as the figures use them (``RunView.figure_encoder``), each loaded
    when first asked for."""

    def __init__(self, view: RunView) -> None:
        self.view = view

    @property
    def encoder(self) -> Any:
        return self.view.figure_encoder

    @property
    def decoder(self) -> Any:
        return self.view.figure_decoder
