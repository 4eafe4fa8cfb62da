"""The run's manifest (``run.json``) as training starts: command, seed, data, precision, versions."""

from __future__ import annotations

import os
from collections.abc import Sequence

from vae_cli import backend
from vae_cli.config import Config
from vae_cli.data.types import Data
from vae_cli.runs import folder


def new_manifest(cfg: Config, data: Data, argv: Sequence[str]) -> dict:
    tf = backend.load()
    return {
        "status": "running",
        "created": folder.now_iso(),
        "command": " ".join(["vae", *argv]),
        "seed": cfg.train.seed,
        "config_hash": folder.config_hash(cfg),
        "dataset": {
            "name": data.name,
            "title": data.title,
            "source": data.source,
            "image_shape": list(data.image_shape),
            "class_names": list(data.class_names),
            "train_images": len(data.train),
            "test_images": len(data.test),
            "splits": data.splits(),
            "split_rule": data.split_rule,
            "sha256": data.checksum(),
            **({"factor_names": data.factor_names} if data.factor_names else {}),
            **({"generator": data.generator} if data.generator else {}),
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
