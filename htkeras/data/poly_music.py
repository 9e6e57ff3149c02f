"""Polyphonic music (Boulanger-Lewandowski et al., 2012): JSB Chorales, Nottingham, MuseData and Piano-midi
as 88-key piano rolls, for next-step prediction scored by the frame-level negative log-likelihood.

Files: ``<data root>/poly_music/<name>.mat`` with keys ``traindata``, ``validdata``, ``testdata``, each a
cell array of ``(T_i, 88)`` 0/1 matrices (one row a time step, one column a key, A0 to C8).
"""

from __future__ import annotations

import keras
import numpy as np

from .paths import resolve_data_dir

POLY_MUSIC_SETS = ("JSB_Chorales", "Nottingham", "MuseData", "Piano_midi")
SPLITS = {"train": "traindata", "valid": "validdata", "test": "testdata"}
NUM_KEYS = 88
HOW_TO_GET = ("The .mat files are published with Boulanger-Lewandowski et al. (2012), 'Modeling Temporal "
              "Dependencies in High-Dimensional Sequences' (www-etud.iro.umontreal.ca/~boulanni/icml2012).")


def load_poly_music(name: str, split: str, data_dir=None) -> list:
    """The ``split`` (``train``, ``valid`` or ``test``) of the set ``name`` as a list of float32 piano
    rolls ``(T_i, 88)``."""
    try:
        from scipy.io import loadmat
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError('Reading the .mat files needs SciPy: pip install "htkeras[data]".') from error
    if name not in POLY_MUSIC_SETS:
        raise ValueError(f"Unknown polyphonic music set {name!r}; choose one of {', '.join(POLY_MUSIC_SETS)}.")
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}; choose one of {', '.join(SPLITS)}.")
    path = resolve_data_dir(data_dir, "poly_music", HOW_TO_GET) / f"{name}.mat"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing. {HOW_TO_GET}")
    cells = loadmat(path)[SPLITS[split]].ravel()
    rolls = [np.asarray(roll, np.float32) for roll in cells]
    if any(roll.ndim != 2 or roll.shape[1] != NUM_KEYS for roll in rolls):
        raise ValueError(f"{path}: expected (T, {NUM_KEYS}) piano rolls in {SPLITS[split]}.")
    return rolls


def chunk_rolls(rolls, steps: int) -> list:
    """Each roll cut into pieces of ``steps + 1`` frames that overlap by one frame, so that every transition
    ``t -> t + 1`` is predicted in exactly one piece (training on long sequences in short windows, each
    starting from a zero state); a last piece of one frame, with nothing to predict, is dropped."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}.")
    return [roll[start : start + steps + 1] for roll in rolls for start in range(0, len(roll) - 1, steps)]


def next_step_batch(rolls, max_steps: int | None = None):
    """Inputs, targets and a step mask for next-step prediction, zero-padded at the end to the longest
    sequence (or cut at ``max_steps + 1`` frames): ``x[i, t] = roll[t]``, ``y[i, t] = roll[t + 1]``,
    shapes ``(N, T, 88)``, ``(N, T, 88)`` and ``(N, T)`` (1 where ``t + 1`` is a real frame)."""
    rolls = [roll[: max_steps + 1] if max_steps else roll for roll in rolls]
    steps = max(len(roll) for roll in rolls) - 1
    x = np.zeros((len(rolls), steps, NUM_KEYS), np.float32)
    y = np.zeros_like(x)
    mask = np.zeros((len(rolls), steps), np.float32)
    for i, roll in enumerate(rolls):
        x[i, : len(roll) - 1], y[i, : len(roll) - 1], mask[i, : len(roll) - 1] = roll[:-1], roll[1:], 1
    return x, y, mask


def frame_nll(probabilities, targets, mask) -> float:
    """Mean negative log-likelihood per time step (nats, summed over the 88 independent Bernoulli keys),
    the measure of the literature (e.g. ~8.5 for a GRU on JSB Chorales)."""
    p = np.clip(np.asarray(probabilities, np.float64), 1e-7, 1 - 1e-7)
    y = np.asarray(targets, np.float64)
    per_step = -(y * np.log(p) + (1 - y) * np.log(1 - p)).sum(axis=-1)
    mask = np.asarray(mask, np.float64)
    return float((per_step * mask).sum() / mask.sum())


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
