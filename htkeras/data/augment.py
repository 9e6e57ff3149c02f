"""Waveform augmentation: new training copies of fixed-length clips that keep their label, for training or
fine-tuning a model on few recordings (``htkeras.zoo.fine_tune(..., augment=N)``).

Each copy of a clip is shifted in time (the clip moves within its window, zeros fill in), scaled in gain and
given white noise at a signal-to-noise ratio drawn per copy: what changes between two recordings of the same
word that a model must not hear as a difference. Drawn from a seeded ``numpy.random.Generator``: the same seed
gives the same copies.
"""

from __future__ import annotations

import numpy as np

MAX_SHIFT_SECONDS = 0.1  # a copy moves by at most this, either way
GAIN_DB = 6.0  # louder or softer by at most this
SNR_DB = (20.0, 40.0)  # white noise this far below the clip's own power


def shift(clip: np.ndarray, samples: int) -> np.ndarray:
    """``clip`` moved by ``samples`` (later if positive), zeros filling in, its length kept."""
    moved = np.zeros_like(clip)
    if samples >= 0:
        moved[samples:] = clip[: len(clip) - samples]
    else:
        moved[:samples] = clip[-samples:]
    return moved


def augment_waveforms(x, copies: int, sample_rate: int, seed: int = 0) -> tuple:
    """``(augmented, index)``: ``copies`` new versions of each clip of ``x`` ``(N, samples)`` float32 in
    [-1, 1] at ``sample_rate`` (``(N * copies, samples)``), and for each the index of the clip it came from
    (``y[index]`` are their labels). Each copy: shifted by up to ``MAX_SHIFT_SECONDS``, its gain changed by
    up to ``GAIN_DB`` and white noise added at ``SNR_DB`` below its power, clipped to [-1, 1]. Cost: O(N ·
    copies · samples)."""
    x = np.asarray(x, np.float32)
    if x.ndim != 2:
        raise ValueError(f"Augmentation takes clips of one length (N, samples), got shape {x.shape}.")
    rng = np.random.default_rng(seed)
    limit = int(MAX_SHIFT_SECONDS * sample_rate)
    index = np.repeat(np.arange(len(x)), int(copies))
    out = np.empty((len(index), x.shape[1]), np.float32)
    for row, source in enumerate(index):
        clip = shift(x[source], int(rng.integers(-limit, limit + 1))) * np.float32(10 ** (rng.uniform(-GAIN_DB, GAIN_DB) / 20))
        power = float(np.mean(np.square(clip, dtype=np.float64)))
        noise = rng.standard_normal(x.shape[1]) * np.sqrt(power / 10 ** (rng.uniform(*SNR_DB) / 10))
        out[row] = np.clip(clip + noise.astype(np.float32), -1.0, 1.0)
    return out, index
