"""Sequence preprocessing in NumPy that zoo models apply at inference: images as row or patch sequences, series
zero-padded at the end (``Masking(0.0)`` skips all-zero frames) and standardized with training statistics."""

from __future__ import annotations

import numpy as np

SEQUENCES = {"rows": (28, 28), "patches": (16, 49)}


def image_sequences(images: np.ndarray, sequence: str = "rows") -> np.ndarray:
    """uint8 images ``(N, 28, 28)`` (or integers from 0 to 255) as float32 sequences scaled to [-1, 1] (so
    that no step is all zeros, which a Masking layer would skip): ``rows`` ``(N, 28, 28)`` or ``patches``
    ``(N, 16, 49)``. Float images are refused: scaled to [0, 1] they would pass for nearly black ones."""
    if sequence not in SEQUENCES:
        raise ValueError(f"Unknown sequence {sequence!r}; choose one of {', '.join(SEQUENCES)}.")
    images = np.asarray(images)
    if images.dtype.kind not in "iu":
        raise ValueError(f"Expected uint8 images (pixels 0-255), got {images.dtype}; for images scaled to [0, 1] pass "
                         "(images * 255).round().astype('uint8').")
    if images.size and (images.min() < 0 or images.max() > 255):
        raise ValueError(f"Expected pixels from 0 to 255, got values from {images.min()} to {images.max()}.")
    x = images.astype(np.float32) / 127.5 - 1.0
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise ValueError(f"Expected images of shape (N, 28, 28), got {x.shape}.")
    if sequence == "patches":
        x = x.reshape(len(x), 4, 7, 4, 7).transpose(0, 1, 3, 2, 4).reshape(len(x), 16, 49)
    return x


def padding_frames(x) -> np.ndarray:
    """Which frames of ``x`` ``(..., T, D)`` are zero padding (every value zero, what ``Masking(0.0)`` skips): a
    boolean ``(..., T)``."""
    return ~np.any(x, axis=-1)


def standardization(x: np.ndarray) -> dict:
    """Per-dimension ``{"mean": [...], "std": [...]}`` over the frames of ``x`` ``(N, T, D)`` that are not
    zero padding (JSON-safe: zoo models keep it in their htkeras.json)."""
    frames = x[~padding_frames(x)]
    return {"mean": frames.mean(axis=0).tolist(), "std": (frames.std(axis=0) + 1e-6).tolist()}


def standardize(x: np.ndarray, statistics: dict) -> np.ndarray:
    """``(x - mean) / std`` (``standardization``) on every frame but the zero padding, which stays zero."""
    x = np.asarray(x, np.float32)
    padding = padding_frames(x)[..., None]
    scaled = (x - np.float32(statistics["mean"])) / np.float32(statistics["std"])
    return np.where(padding, 0.0, scaled).astype(np.float32)


def _length_without_padding(series) -> int:
    """Steps of a ``(T, D)`` series up to its last frame that is not zero padding."""
    real = np.flatnonzero(~padding_frames(series))
    return int(real[-1]) + 1 if real.size else 0


def pad_series(series, steps: int | None = None) -> np.ndarray:
    """``(T_i, D)`` series (a list, or an ``(N, T, D)`` array) as one ``(N, steps, D)`` float32 array,
    zero-padded at the end; ``steps`` defaults to the longest series. A series longer than ``steps`` (not
    counting zero padding) is an error: it would be cut."""
    series = [np.asarray(s, np.float32) for s in series]
    lengths = [_length_without_padding(s) for s in series]
    steps = max(lengths) if steps is None else int(steps)
    if max(lengths) > steps:
        raise ValueError(f"A series of {max(lengths)} steps is longer than the {steps} steps the model takes.")
    x = np.zeros((len(series), steps, series[0].shape[1]), np.float32)
    for i, (s, length) in enumerate(zip(series, lengths)):
        x[i, :length] = s[:length]
    return x
