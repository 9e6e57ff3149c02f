"""The datasets that training runs read, by the name in a config's ``dataset`` section: each builder takes the
section's options and the data root and returns the features, labels, groups and a JSON-safe description
that metrics.json records (``Dataset``), or fixed next-step splits (``NextStepData``). The zoo's task table
(``htkeras.zoo.tasks``) names the builder of each dataset."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .fashion_mnist import LABELS as FASHION_LABELS
from .fashion_mnist import load_fashion_mnist
from .fsdd import LABELS as FSDD_LABELS
from .fsdd import load_fsdd_features, load_fsdd_waveforms
from .poly_music import chunk_rolls, load_poly_music, next_step_batch
from .sequences import image_sequences, pad_series, standardization, standardize
from .uea import load_uea
from .video import load_video_dataset, pixel_inputs


@dataclass
class Dataset:
    """Features ``x`` (an array, or a ``htkeras.data.streaming.ClipSource`` of streamed video clips),
    integer labels ``y``, the group of each example (speaker, ...) for grouped
    cross-validation (``None``: no groups), the class names, a JSON-safe description for metrics.json, the
    published test split ``(x, y)`` when the dataset has one (only measured, never used to choose), and the
    fitted preprocessing that zoo models keep in htkeras.json (``None``: none fitted)."""

    x: np.ndarray
    y: np.ndarray
    groups: np.ndarray | None
    labels: tuple
    description: dict
    test: tuple | None = None
    preprocessing: dict | None = None


def fsdd(options: dict, data_dir=None) -> Dataset:
    """FSDD grouped by speaker: log-mel frames (``num_frames``, ``num_mels``), or with ``"input": "waveform"``
    the recordings at ``sample_rate`` (16,000) fitted to ``seconds`` (for a model whose backbone reads
    raw audio)."""
    if options.get("input") == "waveform":
        rate, seconds = int(options.get("sample_rate", 16000)), float(options.get("seconds", 1.5))
        x, y, speakers = load_fsdd_waveforms(data_dir, options.get("speakers"), rate, round(rate * seconds))
        features = (f"waveform at {rate // 1000} kHz (polyphase from 8 kHz), {seconds:g} s: each recording centred "
                    "between zeros")
    elif options.get("input", "log_mel") == "log_mel":
        frames, mels = int(options.get("num_frames", 40)), int(options.get("num_mels", 40))
        x, y, speakers = load_fsdd_features(data_dir, options.get("speakers"), num_frames=frames, num_mels=mels)
        features = f"{frames} frames x {mels} log-mel bands (32 ms windows, 16 ms hop), normalized per utterance"
    else:
        raise ValueError(f"FSDD input must be 'log_mel' or 'waveform', got {options['input']!r}.")
    description = {
        "name": "Free Spoken Digit Dataset (FSDD), CC BY-SA 4.0",
        "examples": len(y),
        "speakers": sorted(set(speakers.tolist())),
        "features": features,
    }
    return Dataset(x, y, speakers, FSDD_LABELS, description)


def video(options: dict, data_dir=None) -> Dataset:
    """A video folder dataset (``layout``: ucf11, hmdb51 or youtube_celebrities; ``folder`` under the data
    root, default the layout's name): each frame flattened to ``height * width * 3`` inputs, scaled to
    about [-1, 1] by (x - 127) / 128, or with ``"frontend": "efficientnet_lite0"`` the 1,280 features of the
    frozen ImageNet EfficientNet-Lite0 per frame (CNN + HT-LSTM); groups are the UCF11 groups (the official
    leave-one-group-out).

    ``"stream": true``: nothing is decoded up front (``htkeras.data.streaming``): pixel inputs are a
    ``ClipSource`` that training decodes per batch, CNN features are computed batch by batch (only the
    features are kept); ``"cache_dir"``: keep decoded frames on disk for later epochs and runs."""
    layout, frontend, stream = options["layout"], options.get("frontend"), bool(options.get("stream"))
    frames = int(options.get("num_frames", 6))
    width, height = int(options.get("width", 160)), int(options.get("height", 120))
    if frontend not in (None, "efficientnet_lite0"):
        raise ValueError(f"Unknown video frontend {frontend!r}; the one available is 'efficientnet_lite0'.")
    if stream:
        from .streaming import stream_video_dataset  # Keras only for streaming

        source, y, groups, labels = stream_video_dataset(layout, data_dir, options.get("folder"), frames,
                                                         (width, height), False, options.get("cache_dir"))
    else:
        x, y, groups, labels = load_video_dataset(layout, data_dir, options.get("folder"), frames, (width, height),
                                                  verbose=1)
    if frontend == "efficientnet_lite0":
        from ..backbones import clip_features, efficientnet_lite0  # Keras and the CNN only for this front-end

        if stream:
            cnn = efficientnet_lite0(include_top=False, pooling="avg", input_shape=(height, width, 3))
            x = np.concatenate([clip_features(source.load(range(k, min(k + 32, len(source)))), cnn)
                                for k in range(0, len(source), 32)])
        else:
            x = clip_features(x)
        features = "then the 1,280 average-pooled features of the frozen ImageNet EfficientNet-Lite0 per frame"
    else:
        x = replace(source, flatten=True) if stream else pixel_inputs(x)
        features = "(x - 127) / 128, flattened per frame"
    description = {
        "name": f"{layout} video clips in {options.get('folder') or layout}",
        "examples": len(y),
        "groups": sorted(set(groups.tolist())),
        "features": f"{frames} evenly spaced RGB frames of {width} x {height} (FFmpeg scaling), {features}"
        + ("; decoded per batch (streamed)" if stream else ""),
    }
    return Dataset(x, y, groups, tuple(labels), description)


def fashion_mnist(options: dict, data_dir=None) -> Dataset:
    """Fashion-MNIST with its published 60,000 / 10,000 split, each image a sequence (``sequence``: ``rows``,
    28 steps of 28 pixels, or ``patches``, 16 steps of 7 x 7)."""
    sequence = options.get("sequence", "rows")
    (x, y), (x_test, y_test) = (load_fashion_mnist(split, data_dir) for split in ("train", "test"))
    steps, width = image_sequences(x[:1], sequence).shape[1:]
    description = {
        "name": "Fashion-MNIST (Xiao et al., 2017), MIT licence",
        "examples": len(y),
        "test_examples": len(y_test),
        "features": f"{ {'rows': 'row', 'patches': 'patch'}[sequence]}-sequential: {steps} steps of {width} pixels, "
        "scaled to [-1, 1] by x / 127.5 - 1",
    }
    return Dataset(image_sequences(x, sequence), y, None, FASHION_LABELS, description,
                   test=(image_sequences(x_test, sequence), y_test))


def uea(options: dict, data_dir=None) -> Dataset:
    """A UEA multivariate set (``set``, e.g. JapaneseVowels) with its published train/test split, zero-padded
    at the end (masked); each dimension standardized with the training split's mean and deviation."""
    name = options["set"]
    (x, y, labels), (x_test, y_test, _) = (load_uea(name, split, data_dir) for split in ("train", "test"))
    steps = max(x.shape[1], x_test.shape[1])  # the model takes the longest series of either split
    x, x_test = pad_series(x, steps), pad_series(x_test, steps)
    statistics = standardization(x)
    description = {
        "name": f"{name} (UEA multivariate time-series classification archive)",
        "examples": len(y),
        "test_examples": len(y_test),
        "features": f"up to {x.shape[1]} steps of {x.shape[2]} values, standardized per dimension (training split "
        "statistics, kept in htkeras.json), zero-padded at the end",
    }
    return Dataset(standardize(x, statistics), y, None, labels, description,
                   test=(standardize(x_test, statistics), y_test), preprocessing=statistics)


@dataclass
class NextStepData:
    """Fixed splits for next-step prediction: ``splits[name] = (x, y, mask)`` (``next_step_batch``) for
    ``train``, ``valid`` and ``test``, and a JSON-safe description."""

    splits: dict
    description: dict


def poly_music(options: dict, data_dir=None) -> NextStepData:
    """A polyphonic music set (``set``: JSB_Chorales, Nottingham, MuseData or Piano_midi) with its published
    train/valid/test split; sequences cut at ``max_steps`` frames when given. ``train_chunk_steps``: the
    training sequences (only they) in windows of that many predicted frames (``chunk_rolls``): more,
    shorter sequences, so more updates per epoch; validation and test stay whole."""
    name, max_steps, chunk = options.get("set", "JSB_Chorales"), options.get("max_steps"), options.get("train_chunk_steps")
    rolls = {split: load_poly_music(name, split, data_dir) for split in ("train", "valid", "test")}
    if chunk:
        rolls["train"] = chunk_rolls(rolls["train"], int(chunk))
    splits = {split: next_step_batch(r, max_steps) for split, r in rolls.items()}
    description = {
        "name": f"{name} (Boulanger-Lewandowski et al., 2012)",
        "split": {key: f"{len(x)} sequences, {int(mask.sum()):,} predicted frames" for key, (x, _, mask) in splits.items()},
        "features": "88-key binary piano roll frames; predict frame t + 1 from frames 0..t"
        + (f"; training sequences in windows of {chunk} predicted frames" if chunk else ""),
    }
    return NextStepData(splits, description)
