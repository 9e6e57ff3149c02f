"""Datasets for the training scripts, by the name in a config's ``dataset`` section."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from htkeras.datasets import load_fsdd_features, load_poly_music, load_video_dataset, next_step_batch
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


def video(options: dict, data_dir=None) -> Dataset:
    """A video folder dataset (``layout``: ucf11, hmdb51 or youtube_celebrities; ``folder`` under the data
    root, default the layout's name): each frame flattened to ``height * width * 3`` inputs, scaled to
    about [-1, 1] by (x - 127) / 128; groups are the UCF11 groups (the official leave-one-group-out)."""
    layout = options["layout"]
    frames = int(options.get("num_frames", 6))
    width, height = int(options.get("width", 160)), int(options.get("height", 120))
    x, y, groups, labels = load_video_dataset(layout, data_dir, options.get("folder"), frames, (width, height),
                                              verbose=1)
    x = (x.reshape(len(x), frames, -1).astype(np.float32) - 127.0) / 128.0
    description = {
        "name": f"{layout} video clips in {options.get('folder') or layout}",
        "examples": len(y),
        "groups": sorted(set(groups.tolist())),
        "features": f"{frames} evenly spaced RGB frames of {width} x {height} (FFmpeg scaling), (x - 127) / 128",
    }
    return Dataset(x, y, groups, tuple(labels), description)


@dataclass
class NextStepData:
    """Fixed splits for next-step prediction: ``splits[name] = (x, y, mask)`` (``next_step_batch``) for
    ``train``, ``valid`` and ``test``, and a JSON-safe description."""

    splits: dict
    description: dict


def poly_music(options: dict, data_dir=None) -> NextStepData:
    """A polyphonic music set (``set``: JSB_Chorales, Nottingham, MuseData or Piano_midi) with its published
    train/valid/test split; sequences cut at ``max_steps`` frames when given."""
    name, max_steps = options.get("set", "JSB_Chorales"), options.get("max_steps")
    splits = {split: next_step_batch(load_poly_music(name, split, data_dir), max_steps)
              for split in ("train", "valid", "test")}
    description = {
        "name": f"{name} (Boulanger-Lewandowski et al., 2012)",
        "split": {key: f"{len(x)} sequences, {int(mask.sum()):,} predicted frames" for key, (x, _, mask) in splits.items()},
        "features": "88-key binary piano roll frames; predict frame t + 1 from frames 0..t",
    }
    return NextStepData(splits, description)


DATASETS = {"fsdd": fsdd, "video": video, "poly_music": poly_music}


def load_dataset(options: dict, data_dir=None) -> Dataset:
    return lookup(DATASETS, options["name"], "dataset")(options, data_dir)
