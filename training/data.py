"""Datasets for the training scripts: the builder named by the zoo's task table for a config's ``dataset``
section (``htkeras.data.sets``), and length-bucketed batches for long next-step sequences."""

from __future__ import annotations

import keras
import numpy as np

from htkeras.data.sets import Dataset, NextStepData
from htkeras.zoo.tasks import get_task


def load_dataset(options: dict, data_dir=None) -> Dataset | NextStepData:
    """The dataset a config's ``dataset`` section describes (``{"name": "fsdd", ...}``)."""
    task = get_task(options["name"])
    if task.training is None:
        raise ValueError(f"The {options['name']!r} task has no training data reader.")
    return task.training(options, data_dir)


class LengthBuckets(keras.utils.PyDataset):
    """Batches ``(x, y, mask)`` of next-step sequences of similar length, each cut to its longest sequence
    (rounded up to ``multiple`` steps), so that an epoch costs about the real frames rather than
    ``N * longest``: Nottingham's 176,561 training frames instead of 694 x 1,788 = 1.24 M.

    ``shuffle``: new batches every epoch (sorted by length plus a random jitter of ``multiple`` steps) in a
    random order. The batch cut shortest and the one cut longest come first: Keras reads the input shapes
    off the first two batches, and two lengths make the time axis variable (one trace, no retracing).
    """

    def __init__(self, x, y, mask, batch_size: int, shuffle: bool = False, seed: int = 0, multiple: int = 32):
        super().__init__()
        self.x, self.y, self.mask = x, y, mask
        self.lengths = mask.sum(axis=1).astype(int)
        self.batch_size, self.shuffle, self.multiple = int(batch_size), shuffle, int(multiple)
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def on_epoch_end(self):
        jitter = self.rng.uniform(0, self.multiple, len(self.lengths)) if self.shuffle else 0
        order = np.argsort(self.lengths + jitter, kind="stable")
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if self.shuffle:
            batches = [batches[k] for k in self.rng.permutation(len(batches))]
        steps = [self._steps(b) for b in batches]
        first = [int(np.argmin(steps)), int(np.argmax(steps))]
        self.batches = [batches[k] for k in dict.fromkeys(first)] + [b for k, b in enumerate(batches) if k not in first]

    def _steps(self, batch) -> int:
        longest = max(1, int(self.lengths[batch].max()))
        return min(self.x.shape[1], -(-longest // self.multiple) * self.multiple)

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        batch = np.sort(self.batches[index])
        steps = self._steps(batch)
        return self.x[batch, :steps], self.y[batch, :steps], self.mask[batch, :steps]
