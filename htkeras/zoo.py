"""Pretrained models in one line: ``htkeras.zoo.load("fsdd-fdht-lstm")``.

A zoo model is a folder: ``config.json`` (the training config, the model spec and the class labels),
``model.weights.h5`` and ``metrics.json`` (what the training run measured). One resolver turns a handle
into such a folder:

* a built-in name (``list_models()``): the copy installed with the package, offline;
* ``hf://org/repo`` or ``hf://org/repo@revision``: downloaded once by ``huggingface_hub`` into its cache
  (``HF_ENDPOINT``, ``HF_HUB_OFFLINE``, revision pinning and file checksums are the Hub client's);
* a local directory holding those files.

``preprocess(handle, inputs)`` applies the preprocessing bound to the weights (FSDD: waveforms to log-mel
frames; Fashion-MNIST: images to row or patch sequences; UEA: series padded and standardized with the
training statistics kept in config.json); ``load_data(handle)`` reads the model's own real data.
"""

from __future__ import annotations

import importlib.resources
import json
import math
from pathlib import Path

import keras
import numpy as np

from .datasets import (image_sequences, load_fashion_mnist, load_fsdd_features, load_uea, log_mel_frames, pad_series,
                       standardize)
from .lookup import lookup
from .models import build_model

REQUIRED_FILES = ("config.json", "model.weights.h5", "metrics.json")
PUBLISHED_FILES = (*REQUIRED_FILES, "README.md", "cv.json", "curves.png")  # what push uploads
PAPERS = {
    "ht": 'Yin et al., "Compressing RNNs Using Hierarchical Tucker Tensor Decomposition"',
    "fdht": 'Yin et al., "Towards Extremely Compact RNNs for Video Recognition with Fully Decomposed '
    'Hierarchical Tucker Structure", CVPR 2021',
    "dense": "Hochreiter and Schmidhuber, 1997 (LSTM baseline)",
}
DATA_LICENCES = {"fsdd": "CC BY-SA 4.0 (Free Spoken Digit Dataset)", "fashion_mnist": "MIT (Fashion-MNIST)",
                 "poly_music": "see Boulanger-Lewandowski et al. (2012)", "uea": "see the UEA/UCR archive"}


def _builtin_root() -> Path | None:
    try:  # installed: zoo/ ships as htkeras._zoo
        return Path(str(importlib.resources.files("htkeras._zoo")))
    except ModuleNotFoundError:  # a source checkout: zoo/ beside the package
        checkout = Path(__file__).resolve().parent.parent / "zoo"
        return checkout if checkout.is_dir() else None


def list_models() -> list:
    """Names of the built-in models."""
    root = _builtin_root()
    return sorted(p.parent.name for p in root.glob("*/metrics.json")) if root else []


def _download(handle: str) -> Path:
    repo, _, revision = handle[len("hf://") :].partition("@")
    if repo.count("/") != 1:
        raise ValueError(f"A Hub handle is hf://org/repo or hf://org/repo@revision, got {handle!r}.")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        folder = snapshot_download(repo, revision=revision or None, allow_patterns=[*PUBLISHED_FILES, "metadata.json"])
    except LocalEntryNotFoundError as error:
        raise ConnectionError(
            f"Cannot download {handle}: no network (or HF_HUB_OFFLINE=1) and no cached copy. Connect once to "
            f"cache it, or pass a local folder with {', '.join(REQUIRED_FILES)}."
        ) from error
    return Path(folder)


def resolve(handle) -> Path:
    """The folder holding ``handle``'s files (see the module docstring); helpful errors otherwise."""
    handle = str(handle)
    if handle.startswith("hf://"):
        folder = _download(handle)
    elif Path(handle).is_dir():
        folder = Path(handle)
    else:
        root = _builtin_root()
        folders = {name: root / name for name in list_models()}
        folder = lookup(folders, handle, "zoo model (a built-in name, hf://org/repo[@revision] or a folder)")
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} is not a zoo model folder: missing {', '.join(missing)}.")
    return folder


def _read(folder: Path, name: str) -> dict:
    return json.loads((folder / name).read_text())


def info(handle) -> dict:
    """Task, dataset, class labels, metrics with their split, parameters, input spec, licence and paper."""
    folder = resolve(handle)
    config, metrics = _read(folder, "config.json"), _read(folder, "metrics.json")
    dataset = config["dataset"]
    return {
        "name": config["name"],
        "task": config.get("task"),
        "dataset": metrics["data"]["name"],
        "labels": config.get("labels"),
        "metrics": {"cross_validation": metrics.get("cross_validation"), "train_accuracy": metrics.get("train_accuracy"),
                    "test_accuracy": metrics.get("test_accuracy"), "nll": metrics.get("nll"),
                    "evaluation": metrics.get("evaluation"), "split": metrics["split"]},
        "base": metrics.get("base"),
        "parameters": metrics["parameters"],
        "compression": metrics["compression"],
        "input": {
            "shape": [None, *config["model_spec"]["input_shape"]],
            "dtype": "float32",
            "preprocessing": (f"htkeras.zoo.preprocess: waveform at 8 kHz -> {metrics['data']['features']}"
                              if dataset["name"] == "fsdd" else metrics["data"]["features"]),
        },
        "licence": {"weights": "Apache-2.0", "data": DATA_LICENCES.get(dataset["name"], "see the dataset")},
        "paper": PAPERS.get(config["model"]["kind"]),
        "commit": metrics["commit"],
    }


def load(handle, num_classes: int | None = None, freeze: bool = False) -> keras.Model:
    """The pretrained model, compiled (Adam at the training learning rate; a classifier with sparse
    cross-entropy and accuracy, a next-step model with binary cross-entropy per key) so that ``fit`` and
    ``evaluate`` work as they are.

    ``num_classes``: replace the classification head with a new one of that size (fine-tuning on another
    label set). ``freeze``: keep every layer but the head fixed.
    """
    folder = resolve(handle)
    config = _read(folder, "config.json")
    spec = config["model_spec"]
    model = build_model(spec)
    model.load_weights(folder / "model.weights.h5")
    classifier = spec.get("head", "label") == "label"
    if not classifier and num_classes is not None:
        raise ValueError(f"{config['name']} predicts the next frame; it has no classes to replace.")
    if num_classes is not None and num_classes != spec["num_classes"]:
        features = model.layers[-2].output
        head = keras.layers.Dense(int(num_classes), activation="softmax", name="label")
        model = keras.Model(model.inputs, head(features), name=f"{model.name}_finetune")
    for layer in model.layers[:-1]:
        layer.trainable = not freeze
    model.compile(
        keras.optimizers.Adam(config["training"].get("learning_rate", 0.001)),
        "sparse_categorical_crossentropy" if classifier else "binary_crossentropy",
        metrics=["accuracy"] if classifier else None,
    )
    model.zoo_handle = str(handle)  # zoo.save / zoo.push take the preprocessing and architecture from it
    return model


def load_data(handle, data_dir=None, speakers=None, verbose: int = 0):
    """The real data of the model's dataset in its input format, ``(x, y, groups)``, read from ``data_dir``
    (default ``HTKERAS_DATA`` or ``../shared/data``): FSDD: every recording (or those of ``speakers``) with
    the speaker names as groups (``verbose=1``: a progress bar); Fashion-MNIST and UEA sets: the published
    test split, groups ``None``."""
    config = _read(resolve(handle), "config.json")
    dataset = config["dataset"]
    if dataset["name"] == "fsdd":
        return load_fsdd_features(data_dir, speakers, num_frames=dataset["num_frames"], num_mels=dataset["num_mels"],
                                  verbose=verbose)
    if dataset["name"] == "fashion_mnist":
        images, labels = load_fashion_mnist("test", data_dir)
        return image_sequences(images, dataset.get("sequence", "rows")), labels, None
    if dataset["name"] == "uea":
        x, labels, _ = load_uea(dataset["set"], "test", data_dir)
        return _standardized(config, x), labels, None
    raise ValueError(f"No loader for a model trained on {dataset['name']!r}; pass the data yourself.")


def _standardized(config: dict, series) -> np.ndarray:
    return standardize(pad_series(series, config["model_spec"]["input_shape"][0]), config["preprocessing"])


def _resample(waveform: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return waveform
    count = max(1, math.floor(len(waveform) * target / rate))
    return np.interp(np.arange(count) * rate / target, np.arange(len(waveform)), waveform).astype(np.float32)


def preprocess(handle, inputs, sample_rate: int = 8000) -> np.ndarray:
    """The model input batch for raw ``inputs``, by the model's dataset:

    * FSDD: a list of float waveforms in [-1, 1] (resampled linearly to 8 kHz when ``sample_rate``
      differs) -> log-mel frames ``(N, frames, mels)``;
    * Fashion-MNIST: uint8 images ``(N, 28, 28)`` -> row or patch sequences scaled to [-1, 1];
    * UEA: a list of ``(T_i, D)`` series (or a padded ``(N, T, D)`` array) -> zero-padded at the end to the
      model's input length and standardized with the training statistics in config.json.
    """
    config = _read(resolve(handle), "config.json")
    dataset = config["dataset"]
    if dataset["name"] == "fashion_mnist":
        return image_sequences(inputs, dataset.get("sequence", "rows"))
    if dataset["name"] == "uea":
        return _standardized(config, inputs)
    if dataset["name"] != "fsdd":
        raise ValueError(f"No preprocessing for a model trained on {dataset['name']!r}.")
    if isinstance(inputs, np.ndarray) and inputs.ndim == 1:
        inputs = [inputs]
    batch = [
        log_mel_frames(_resample(np.asarray(w, np.float32), int(sample_rate), 8000), 8000,
                       num_mels=dataset["num_mels"], num_frames=dataset["num_frames"])
        for w in inputs
    ]
    return np.stack(batch).astype(np.float32)


from .publish import push, save  # noqa: E402  (publish uses resolve, above)
