"""Augmented copies of a waveform dataset for a head trained on a frozen backbone's features
(``"augment": {"copies": 4, ...}`` in a config's ``training`` section; ``htkeras.data.augment``).

Every clip gets ``copies`` augmented versions (seeded by the run's seed), whose backbone features are
computed once and cached (``$HTKERAS_CACHE/features/<key>.npy``, the key a SHA-256 of the clips, the
settings, the seed and the backbone), so that cross-validation and the final run, and a run again, pay for
them once. A copy belongs to its clip's group and label: a fold never trains on copies of a held-out clip,
and only the original clips are validated on.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

import keras
import numpy as np

from htkeras.backbones.weights_cache import cache_dir
from htkeras.data.augment import Augmentation, augment_waveforms
from htkeras.files import atomic_write

MAX_COPIES = 32


def settings(training: dict, where: str = "training.augment") -> tuple:
    """``(copies, Augmentation)`` of a section's ``augment`` (a ValueError naming ``where`` otherwise)."""
    config = dict(training["augment"]) if isinstance(training.get("augment"), dict) else None
    if config is None:
        raise ValueError(f"{where} must be an object with copies and optional ranges.")
    copies = config.pop("copies", None)
    if isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= MAX_COPIES:
        raise ValueError(f"{where}.copies must be a whole number from 1 to {MAX_COPIES}, got {copies!r}.")
    try:
        return copies, Augmentation.from_config(config)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: {error}") from None


@dataclass
class Copies:
    """The backbone features of the augmented copies, for each the index of its clip (``source``), and what
    they cost (``seconds``, zero-ish when ``cached``)."""

    features: np.ndarray
    source: np.ndarray
    seconds: float
    cached: bool

    def record(self, copies: int, augmentation: Augmentation) -> dict:
        return {"copies": copies, "settings": {k: list(v) if isinstance(v, tuple) else v
                                               for k, v in augmentation.__dict__.items()},
                "examples": int(len(self.source)), "seconds": round(self.seconds, 1), "cached": self.cached}


def augmented_features(backbone: keras.Model, raw: np.ndarray, training: dict, sample_rate: int, name: str) -> Copies:
    """The ``Copies`` of the clips ``raw`` ``(N, samples)`` under the section's ``augment``, their features by
    ``backbone`` (named ``name`` in the cache key), read from the cache when made before."""
    copies, augmentation = settings(training)
    seed = int(training.get("seed", 0))
    digest = hashlib.sha256(np.ascontiguousarray(raw).tobytes())
    digest.update(json.dumps([copies, augmentation.__dict__, seed, sample_rate, name], sort_keys=True, default=list).encode())
    path = cache_dir() / "features" / f"{digest.hexdigest()}.npy"
    source = np.repeat(np.arange(len(raw)), copies)
    start = time.perf_counter()
    if path.is_file():
        try:
            features = np.load(path, allow_pickle=False)
        except (OSError, ValueError):  # a damaged cache file is made again
            features = None
        if features is not None and features.shape[0] == len(source) and np.isfinite(features).all():
            return Copies(features, source, time.perf_counter() - start, True)
    waves, source = augment_waveforms(raw, copies, sample_rate, seed, augmentation)
    features = backbone.predict(waves, batch_size=64, verbose=0)
    atomic_write(path, lambda tmp: np.save(tmp, features))  # tmp ends in .npy: np.save keeps the name
    print(f"{len(source):,} augmented copies and their features: {time.perf_counter() - start:.0f} s (cached in {path})")
    return Copies(features, source, time.perf_counter() - start, False)
