"""The run's TensorBoard log in ``RUN/tensorboard/``: per-epoch scalars, the epoch's samples, the model graph.

Layout, as Keras's own ``TensorBoard`` callback writes it, so train and test curves
share one chart: ``train/`` and ``validation/`` hold the ``epoch_*`` scalars; the
folder itself holds the conceptual model graph (Keras's ``graph_keras_model``
summary) and the ``samples`` image per epoch. Steps are epoch numbers, counted
from 1 as in ``history.csv``. Every epoch is flushed before its checkpoint is
written; a resumed run first trims what a killed process logged past its
checkpoint, then appends, so each epoch appears once.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import keras

from vae_cli import backend
from vae_cli.names import VAE_LOSS
from vae_cli.runs import folder
from vae_cli.runs.atomic import atomic_write
from vae_cli.training.callbacks import EpochLog

FOLDER = folder.TENSORBOARD
TRAIN, VALIDATION = "train", "validation"
LOSSES = ("loss", "reconstruction_loss", "kl_loss", "iwae_loss")  # those a run has
SAMPLES_TAG = "samples"
GRAPH_TAG = "keras"
GRAPH_PLUGIN = "graph_keras_model"  # the plugin TensorBoard's graph dashboard reads Keras models from


class Board(keras.callbacks.Callback):
    """Writes each finished epoch to TensorBoard; ``add_image`` logs the epoch's sample grid."""

    def __init__(self, log_dir: Path, beta: float, log: EpochLog, first_epoch: int) -> None:
        super().__init__()
        self.dir, self.beta, self.log, self.first_epoch = Path(log_dir), beta, log, first_epoch
        self._writers: dict[str, Any] = {}

    def _writer(self, name: str) -> Any:
        if name not in self._writers:
            tf = backend.load()
            self._writers[name] = tf.summary.create_file_writer(str(self.dir / name if name else self.dir))
        return self._writers[name]

    def on_train_begin(self, logs: dict | None = None) -> None:
        trim_after(self.dir, self.first_epoch)
        if self.first_epoch == 0:  # a resumed run keeps the graph written when it started
            write_graph(self._writer(""), self.model)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        tf = backend.load()
        logs, step = logs or {}, epoch + 1
        for prefix, name in (("", TRAIN), ("val_", VALIDATION)):
            values = {key: logs[prefix + key] for key in LOSSES if prefix + key in logs}
            if "reconstruction_loss" in values:  # an autoencoder has no KL: its objective is its reconstruction
                values["objective"] = values["reconstruction_loss"] + self.beta * values.get("kl_loss", 0.0)
            if name == TRAIN:
                values["learning_rate"] = current_learning_rate(self.model)
                weight = kl_weight(self.model)
                if weight is not None:  # an autoencoder has no KL term
                    values["kl_weight"] = weight
                values["seconds"] = self.log.rows[-1]["seconds"] if self.log.rows else math.nan
            with self._writer(name).as_default():
                for key, value in values.items():
                    tf.summary.scalar(f"epoch_{key}", float(value), step=step)
            self._writer(name).flush()

    def add_image(self, epoch: int, png: Path) -> None:
        """The epoch's sample grid, the PNG as drawn into ``samples/``, under the ``samples`` tag."""
        tf = backend.load()
        image = tf.io.decode_png(tf.io.read_file(str(png)), channels=3)
        with self._writer("").as_default():
            tf.summary.image(SAMPLES_TAG, image[None], step=epoch)
        self._writer("").flush()

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def on_train_end(self, logs: dict | None = None) -> None:
        self.close()


def current_learning_rate(model: Any) -> float:
    optimizer = getattr(model.optimizer, "inner_optimizer", model.optimizer)  # under loss scaling
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def kl_weight(model: Any) -> float | None:
    weight = getattr(model.get_layer(VAE_LOSS), "kl_weight", None)
    return None if weight is None else float(keras.ops.convert_to_numpy(weight))


def write_graph(writer: Any, model: Any) -> None:
    """The model's config as Keras's ``TensorBoard(write_graph=True)`` writes it: the graph dashboard draws it."""
    tf = backend.load()
    metadata = tf.compat.v1.SummaryMetadata()
    metadata.plugin_data.plugin_name = GRAPH_PLUGIN
    metadata.plugin_data.content = b"1"
    with writer.as_default():
        tf.summary.write(tag=GRAPH_TAG, tensor=model.to_json(), step=0, metadata=metadata)
    writer.flush()


def trim_after(log_dir: Path, epoch: int) -> None:
    """Drops events logged after ``epoch`` (and a torn last record) from every event file under ``log_dir``.

    A process killed between an epoch's log and its checkpoint leaves events the
    resumed run logs again; each file is rewritten atomically, only when it changes.
    """
    if not Path(log_dir).is_dir():
        return
    tf = backend.load()
    for path in sorted(Path(log_dir).rglob("events.out.tfevents.*")):
        kept, changed = [], False
        try:
            for record in tf.data.TFRecordDataset(str(path)).as_numpy_iterator():
                if tf.compat.v1.Event.FromString(record).step <= epoch:
                    kept.append(record)
                else:
                    changed = True
        except tf.errors.DataLossError:  # the killed process's last record, half written
            changed = True
        if changed:
            atomic_write(path, lambda tmp, records=kept: _write_records(tf, tmp, records))


def _write_records(tf, path, records):
    with tf.io.TFRecordWriter(path) as writer:
        for record in records:
            writer.write(record)
