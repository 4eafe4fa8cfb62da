"""The validation split of MNIST and Fashion-MNIST: training images held out, never the test set.

Early stopping and the per-epoch curves are judged on these images, so the test
set is touched only by the final evaluation, the figures and ``vae evaluate``.
The split is a function of ``train.seed`` alone, so a resumed run holds out the
very same images and the data checksum in ``run.json`` still identifies them.
"""

from __future__ import annotations

import numpy as np

from vae_cli.data.types import Data

MAX_FRACTION = 5  # hold out at most a fifth of the training images (tiny sets and data.limit runs)


def held_out_count(train_size: int, size: int) -> int:
    """Images held out of ``train_size`` when ``size`` are asked: at least one, at most a fifth; none for 0."""
    return 0 if size == 0 else max(1, min(size, train_size // MAX_FRACTION))


NO_VALIDATION = (
    "no validation split (data.validation_size 0): every training image trains; each epoch's val_ columns are "
    "the test set's, which chooses nothing (no early stopping)"
)


def hold_out(data: Data, size: int, seed: int) -> Data:
    """``data`` with ``size`` of its training images (at most a fifth), drawn with ``seed``, as its validation split."""
    count = len(data.train)
    if size == 0:
        data.split_rule = NO_VALIDATION
        return data
    if count < 2:
        return data
    held = held_out_count(count, size)
    order = np.random.default_rng(seed).permutation(count)
    validation_idx, train_idx = np.sort(order[:held]), np.sort(order[held:])
    data.validation = data.train.take(validation_idx)
    data.train = data.train.take(train_idx)
    data.split_rule = (
        f"validation: {held} of the {count} training images, drawn with train.seed {seed}; test: the dataset's own"
    )
    return data
