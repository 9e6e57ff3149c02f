"""Datasets for the training scripts, by the name in a config's ``dataset`` section."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from htkeras.datasets import load_fsdd_features
from htkeras.datasets.fsdd import LABELS as FSDD_LABELS
from htkeras.lookup import lookup


@dataclass
class Dataset:
    """Features ``x``, integer labels ``y``, the group of each example (speaker, ...) for grouped
    cross-validation, the class names, and a JSON-safe description for metrics.json."""

    x: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    labels: tuple
    description: dict


def fsdd(options: dict, data_dir=None) -> Dataset:
    frames, mels = int(options.get("num_frames", 40)), int(options.get("num_mels", 40))
    x, y, speakers = load_fsdd_features(data_dir, options.get("speakers"), num_frames=frames, num_mels=mels)
    description = {
        "name": "Free Spoken Digit Dataset (FSDD), CC BY-SA 4.0",
        "examples": len(y),
        "speakers": sorted(set(speakers.tolist())),
        "features": f"{frames} frames x {mels} log-mel bands (32 ms windows, 16 ms hop), normalized per utterance",
    }
    return Dataset(x, y, speakers, FSDD_LABELS, description)


DATASETS = {"fsdd": fsdd}


def load_dataset(options: dict, data_dir=None) -> Dataset:
    return lookup(DATASETS, options["name"], "dataset")(options, data_dir)
