"""Next-step sequences of unequal length in batches of similar length (``LengthBuckets``), and a causal
model's predictions and NLL over a padded split computed that way (``predict_frames``, ``model_nll``).

Its own module, imported where used: it needs Keras, which ``htkeras.data`` does not import (``htkeras
list`` and ``info`` answer without starting TensorFlow).
"""

from __future__ import annotations

import keras
import numpy as np

from .poly_music import frame_nll


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


def predict_frames(model, x, mask, batch_size: int = 64) -> np.ndarray:
    """``model``'s outputs for every frame of the padded sequences ``x`` ``(N, T, F)`` (zeros where ``mask``
    is 0: the padding), predicted in length buckets (``LengthBuckets``): a causal model's
    predictions do not depend on the padding cut off at the end, and the cost is about the real frames."""
    buckets, out = LengthBuckets(x, x, mask, batch_size, multiple=256), None  # few distinct lengths: few traces
    for k in range(len(buckets)):
        predicted = np.asarray(model.predict_on_batch(buckets[k][0]))
        if out is None:
            out = np.zeros(x.shape[:2] + predicted.shape[2:], np.float32)
        out[np.sort(buckets.batches[k]), : predicted.shape[1]] = predicted
    return out * np.asarray(mask, np.float32)[..., None]


def model_nll(model, x, y, mask, batch_size: int = 64) -> float:
    """``frame_nll`` of ``model``'s next-step predictions on a split ``(x, y, mask)`` (``predict_frames``)."""
    return frame_nll(predict_frames(model, x, mask, batch_size), y, mask)
