"""Publishing zoo models: ``save`` a (fine-tuned) model as a zoo folder, ``push`` a folder or a model to the
Hugging Face Hub. Both are re-exported as ``htkeras.zoo.save`` and ``htkeras.zoo.push``.

A zoo folder holds ``config.json`` (data settings, model spec, labels), ``model.weights.h5``,
``metrics.json`` (only what a run measured) and a ``README.md`` card whose YAML header is the Hub's model
card metadata (``library_name: keras``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from . import zoo
from .models import build_model


HUB_TASKS = {  # Hub card metadata by the model's data: (pipeline tag or None, dataset id, cell tag, metric)
    "fsdd": ("audio-classification", "free-spoken-digit-dataset", "lstm", "accuracy"),
    "poly_music": (None, "jsb-chorales", "gru", "negative-log-likelihood"),
    "fashion_mnist": ("image-classification", "fashion_mnist", "lstm", "accuracy"),
    "uea": (None, "uea-multivariate-time-series", "lstm", "accuracy"),
}


def hub_metadata(base_model: str | None = None, dataset: str = "fsdd", dataset_id: str | None = None) -> list:
    """The YAML header of a zoo card (Hub model-card metadata), as lines; ``dataset``: the config's
    dataset name (``HUB_TASKS``); ``dataset_id``: the Hub dataset id when it is not the task's default."""
    pipeline, data, cell, metric = HUB_TASKS[dataset]
    data = dataset_id or data
    return [
        "---",
        "library_name: keras",
        "license: apache-2.0",
        *([f"pipeline_tag: {pipeline}"] if pipeline else []),
        f"tags: [htkeras, hierarchical-tucker, tensor-decomposition, {cell}]",
        f"datasets: [{data}]",
        f"metrics: [{metric}]",
        *([f"base_model: {base_model}"] if base_model else []),
        "---",
        "",
    ]


def _base_handle(model, base):
    base = base if base is not None else getattr(model, "zoo_handle", None)
    if base is None:
        raise ValueError("Which zoo model was this one made from? Pass base= (the handle given to zoo.load); it "
                         "gives the preprocessing and the architecture.")
    return str(base)


def _zoo_copy(model: keras.Model, spec: dict) -> keras.Model:
    """``model``'s weights in the zoo architecture ``spec`` (checked: same shapes, same outputs)."""
    target = build_model(spec)
    shapes = [tuple(w.shape) for w in model.weights], [tuple(w.shape) for w in target.weights]
    if shapes[0] != shapes[1]:
        raise ValueError(f"The model does not have the architecture of its base ({spec['kind']} "
                         f"{spec.get('cell', 'lstm')}, {spec['units']} units): weight shapes {shapes[0]} != {shapes[1]}.")
    target.set_weights(model.get_weights())
    probe = np.random.default_rng(0).standard_normal((2, *spec["input_shape"])).astype("float32")
    np.testing.assert_allclose(target.predict_on_batch(probe), model.predict_on_batch(probe), atol=1e-5)
    return target


def _evaluation(model, evaluate_on, data: str | None) -> dict | None:
    if evaluate_on is None:
        return None
    if not data:
        raise ValueError("evaluate_on needs data=: a description of those examples (which data, which split).")
    x, y = evaluate_on
    probabilities = model.predict(np.asarray(x, np.float32), verbose=0)
    y = np.asarray(y).reshape(-1)
    loss = keras.losses.sparse_categorical_crossentropy(y, probabilities)
    return {"data": data, "examples": int(len(y)), "accuracy": float((probabilities.argmax(axis=1) == y).mean()),
            "loss": float(np.mean(keras.ops.convert_to_numpy(loss)))}


def card(config: dict, metrics: dict) -> str:
    """The README card of a saved (fine-tuned) model, from its config and measured metrics."""
    from . import __version__

    base = metrics["base"]
    evaluation = metrics["evaluation"]
    measured = (
        f"- Measured when saved: accuracy {100 * evaluation['accuracy']:.1f}% (loss {evaluation['loss']:.3f}) on "
        f"{evaluation['examples']:,} examples: {evaluation['data']}."
        if evaluation else
        "- No evaluation was recorded (`htkeras.zoo.save(..., evaluate_on=(x, y), data=...)` measures one)."
    )
    lines = [
        *hub_metadata(base[len("hf://"):].partition("@")[0] if base.startswith("hf://") else None,
                      config["dataset"]["name"]),
        f"# {config['name']}",
        "",
        f"Task: {config['task']}. Labels: {', '.join(config['labels'])}.",
        "",
        f"- Made from the htkeras zoo model `{base}` (see its card for its training data and measured accuracy); "
        f"saved with htkeras {__version__} on {metrics['created']}.",
        f"- Parameters: {metrics['parameters']:,} ({metrics['compression']:.1f}× fewer than the same model with dense "
        f"gate matrices, {metrics['dense_parameters']:,}).",
        measured,
        f"- Input: `htkeras.zoo.preprocess(handle, raw inputs)` gives the batch "
        f"{[None, *config['model_spec']['input_shape']]} ({metrics['data']['features']}).",
        "",
        "Load: `htkeras.zoo.load(handle)`. Files: `config.json` (model spec and labels), `model.weights.h5`, "
        "`metrics.json`.",
    ]
    return "\n".join(lines) + "\n"


def save(model: keras.Model, folder, *, base=None, labels=None, name: str | None = None, task: str | None = None,
         evaluate_on=None, data: str | None = None) -> Path:
    """Write ``model`` (e.g. ``zoo.load(...)`` then ``fit``) as a zoo folder that ``load``, ``export`` and
    ``push`` take; returns the folder, which must not exist yet.

    ``base``: the zoo handle it was loaded from (default: the one ``zoo.load`` recorded on the model); it
    gives the preprocessing and the architecture, which the weights must fit. ``labels``: the class names,
    needed when the head was replaced (``load(..., num_classes=K)``). ``evaluate_on=(x, y)`` with ``data``
    (a description of those examples): measured here and written to ``metrics.json`` and the card; no
    figure is written that was not measured.
    """
    from . import __version__
    from .summary import compression_summary

    folder = Path(folder)
    if folder.exists():
        raise FileExistsError(f"{folder} exists; save into a new folder.")
    base = _base_handle(model, base)
    base_folder = zoo.resolve(base)  # once: a hf:// base is looked up on the Hub only here
    base_config, base_metrics = zoo._read(base_folder, "config.json"), zoo._read(base_folder, "metrics.json")
    num_classes = int(model.output_shape[-1])
    if labels is None and len(base_config["labels"]) != num_classes:
        raise ValueError(f"The model has {num_classes} classes, its base {len(base_config['labels'])}: pass labels=.")
    labels = [str(label) for label in (labels if labels is not None else base_config["labels"])]
    if len(labels) != num_classes:
        raise ValueError(f"The model has {num_classes} classes but {len(labels)} labels were given.")
    spec = {**base_config["model_spec"], "num_classes": num_classes}
    copy = _zoo_copy(model, spec)
    evaluation = _evaluation(copy, evaluate_on, data)
    report = compression_summary(copy, print_fn=lambda *_: None)
    config = {
        **base_config,
        "name": name or folder.name,
        "task": task or (base_config["task"] if labels == base_config["labels"] else f"{num_classes}-way classification"),
        "model_spec": spec,
        "labels": labels,
    }
    metrics = {
        "name": config["name"],
        "task": config["task"],
        "base": base,
        "data": base_metrics["data"],
        "split": {"train": f"unknown to htkeras (a model made from {base} by the user)", "validation": None},
        "evaluation": evaluation,
        "cross_validation": None,
        "train_accuracy": None,
        "parameters": int(copy.count_params()),
        "dense_parameters": int(report.total.dense_params),
        "compression": report.total.compression,
        "commit": f"htkeras {__version__}",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    with tempfile.TemporaryDirectory(dir=folder.parent if folder.parent.exists() else None) as staging:
        staging = Path(staging)
        copy.save_weights(staging / "model.weights.h5")
        (staging / "config.json").write_text(json.dumps(config, indent=2) + "\n")
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        (staging / "README.md").write_text(card(config, metrics))
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, folder)
    return folder


def push(model_or_dir, repo_id: str, *, revision: str | None = None, private: bool | None = None,
         commit_message: str | None = None, token=None, **save_kwargs) -> str:
    """Publish a zoo model on the Hugging Face Hub; returns the commit URL. Load it back with
    ``load("hf://<repo_id>")``.

    ``model_or_dir``: a zoo model folder (as ``training.train`` or ``save`` writes it), any handle
    ``zoo.resolve`` accepts, or a ``keras.Model``, which is first written by ``save(model, ...,
    **save_kwargs)`` (``base``, ``labels``, ``evaluate_on`` and ``data``, as there).
    Uploads ``config.json``, ``model.weights.h5``, ``metrics.json``, the card ``README.md`` (its metadata
    says ``library_name: keras``), ``cv.json`` and ``curves.png`` where present, and a generated
    ``metadata.json`` (htkeras and Keras versions, SHA-256 of each file). The repo is created if needed.
    ``HF_ENDPOINT`` and the token (``token`` or ``HF_TOKEN``/``hf auth login``) are the Hub client's.
    """
    from huggingface_hub import HfApi

    from . import __version__

    with tempfile.TemporaryDirectory() as staging:
        staging = Path(staging)
        if isinstance(model_or_dir, keras.Model):
            folder = save(model_or_dir, staging / "saved", name=save_kwargs.pop("name", repo_id.split("/")[-1]),
                          **save_kwargs)
        elif save_kwargs:
            raise TypeError(f"{sorted(save_kwargs)} are for pushing a keras.Model, not a folder.")
        else:
            folder = zoo.resolve(model_or_dir)
        upload = staging / "upload"
        upload.mkdir()
        files = [name for name in zoo.PUBLISHED_FILES if (folder / name).is_file()]
        for name in files:
            shutil.copy2(folder / name, upload / name)
        metadata = {
            "library": "htkeras", "htkeras_version": __version__, "keras_version": keras.__version__,
            "name": zoo._read(folder, "config.json")["name"],
            "sha256": {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in files},
        }
        (upload / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
        api = HfApi(token=token)
        api.create_repo(repo_id, private=private, exist_ok=True)
        info = api.upload_folder(
            folder_path=upload, repo_id=repo_id, revision=revision,
            commit_message=commit_message or f"Upload {metadata['name']} with htkeras {__version__}",
        )
    return info.commit_url
