"""Polyphonic music (Boulanger-Lewandowski et al., 2012): JSB Chorales, Nottingham, MuseData and Piano-midi
as 88-key piano rolls, for next-step prediction scored by the frame-level negative log-likelihood.

Files: ``<data root>/poly_music/<name>.mat`` with keys ``traindata``, ``validdata``, ``testdata``, each a
cell array of ``(T_i, 88)`` 0/1 matrices (one row a time step, one column a key, A0 to C8).
"""

from __future__ import annotations

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
