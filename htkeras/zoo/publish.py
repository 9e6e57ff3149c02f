"""Publishing zoo models: ``save`` a (fine-tuned) model as a zoo folder, ``push`` a folder or a model to the
Hugging Face Hub. Both are re-exported as ``htkeras.zoo.save`` and ``htkeras.zoo.push``.

Both write through ``htkeras.zoo.artifact`` (``write_artifact``): ``config.json`` (data settings, model spec,
labels), ``model.weights.h5``, ``metrics.json`` (only what was measured), ``metadata.json`` (checksums) and a
``README.md`` card whose YAML header is the Hub's model card metadata (``library_name: keras``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import keras
import numpy as np

from ..models import build_model
from ..version import __version__
from .artifact import metrics_record, write_artifact
from .loading import origin
from .resolver import HubHandle, check_endpoint, resolve
from .tasks import get_task


def hub_metadata(config: dict, base_model: str | None = None) -> list:
    """The YAML header of a zoo card (Hub model-card metadata), as lines, from the model's ``config`` (its
    task's ``HubTags``) and the Hub id of the model it was made from, if any."""
    task = get_task(config["dataset"]["name"])
    return [
        "---",
        "library_name: keras",
        "license: apache-2.0",
        *([f"pipeline_tag: {task.hub.pipeline}"] if task.hub.pipeline else []),
        f"tags: [htkeras, hierarchical-tucker, tensor-decomposition, {task.hub.cell}]",
        f"datasets: [{task.hub_dataset_id(config)}]",
        f"metrics: [{task.hub.metric}]",
        *([f"base_model: {base_model}"] if base_model else []),
        "---",
        "",
    ]


def _base(model, base):
    base = resolve(base) if base is not None else origin(model)
    if base is None:
        raise ValueError("Which zoo model was this one made from? Pass base= (the handle given to zoo.load); it "
                         "gives the preprocessing and the architecture.")
    return base


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
    base = metrics["base"]
    evaluation = metrics["evaluation"]
    measured = (
        f"- Measured when saved: accuracy {100 * evaluation['accuracy']:.1f}% (loss {evaluation['loss']:.3f}) on "
        f"{evaluation['examples']:,} examples: {evaluation['data']}."
        if evaluation else
        "- No evaluation was recorded (`htkeras.zoo.save(..., evaluate_on=(x, y), data=...)` measures one)."
    )
    lines = [
        *hub_metadata(config, base[len("hf://"):].partition("@")[0] if base.startswith("hf://") else None),
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

    ``base``: the zoo handle it was loaded from (default: ``zoo.origin(model)``, recorded by ``zoo.load``); it
    gives the preprocessing and the architecture, which the weights must fit. ``labels``: the class names,
    needed when the head was replaced (``load(..., num_classes=K)``). ``evaluate_on=(x, y)`` with ``data``
    (a description of those examples): measured here and written to ``metrics.json`` and the card; no
    figure is written that was not measured.
    """
    folder = Path(folder)
    if folder.exists():
        raise FileExistsError(f"{folder} exists; save into a new folder.")
    base = _base(model, base)
    num_classes = int(model.output_shape[-1])
    if labels is None and len(base.labels) != num_classes:
        raise ValueError(f"The model has {num_classes} classes, its base {len(base.labels)}: pass labels=.")
    labels = [str(label) for label in (labels if labels is not None else base.labels)]
    if len(labels) != num_classes:
        raise ValueError(f"The model has {num_classes} classes but {len(labels)} labels were given.")
    spec = {**base.spec, "num_classes": num_classes}
    copy = _zoo_copy(model, spec)
    config = {
        **{key: value for key, value in base.config.items() if key != "evaluation_data"},
        **({} if labels == base.labels else {"evaluation_data": data or "the user's, not recorded"}),
        "name": name or folder.name,
        "task": task or (base.config["task"] if labels == base.labels else f"{num_classes}-way classification"),
        "model_spec": spec,
        "labels": labels,
    }
    metrics = metrics_record(
        copy, name=config["name"], task=config["task"], data=base.metrics["data"],
        split={"train": f"unknown to htkeras (a model made from {base.handle} by the user)", "validation": None},
        commit=f"htkeras {__version__}", base=base.handle, evaluation=_evaluation(copy, evaluate_on, data),
        cross_validation=None, train_accuracy=None,
    )
    return write_artifact(folder, config=config, metrics=metrics, save_weights=copy.save_weights,
                          extras={"README.md": card(config, metrics)}).folder


def push(model_or_dir, repo_id: str, *, revision: str | None = None, private: bool | None = None,
         commit_message: str | None = None, token=None, **save_kwargs) -> str:
    """Publish a zoo model on the Hugging Face Hub; returns the commit URL. Load it back with
    ``load("hf://<repo_id>")``.

    ``model_or_dir``: a zoo model folder (as ``training.train`` or ``save`` writes it), any handle
    ``zoo.resolve`` accepts, or a ``keras.Model``, which is first written by ``save(model, ...,
    **save_kwargs)`` (``base``, ``labels``, ``evaluate_on`` and ``data``, as there).
    Uploads what the folder's ``metadata.json`` vouches for, and nothing else: ``config.json``,
    ``model.weights.h5``, ``metrics.json``, the card ``README.md`` (its metadata says ``library_name:
    keras``), ``cv.json`` and ``curves.png`` where listed, and ``metadata.json`` itself (htkeras and Keras
    versions, SHA-256 of each file), from a copy checked against those checksums (``ZooModel.copy_to``: no
    link is followed, no file changed since it was checked is sent). The repo is created if needed.
    ``HF_ENDPOINT`` (https, see ``resolver.check_endpoint``) and the token (``token`` or
    ``HF_TOKEN``/``hf auth login``) are the Hub client's.
    """
    from huggingface_hub import HfApi

    hub = HubHandle.parse(f"hf://{repo_id}" + (f"@{revision}" if revision else ""))
    check_endpoint()
    with tempfile.TemporaryDirectory() as staging:
        if isinstance(model_or_dir, keras.Model):
            zoo_model = resolve(save(model_or_dir, Path(staging) / "saved",
                                     name=save_kwargs.pop("name", hub.repo.split("/")[-1]), **save_kwargs))
        elif save_kwargs:
            raise TypeError(f"{sorted(save_kwargs)} are for pushing a keras.Model, not a folder.")
        else:
            zoo_model = resolve(model_or_dir)
        checked = zoo_model.copy_to(Path(staging) / "upload")
        api = HfApi(token=token)
        api.create_repo(hub.repo, private=private, exist_ok=True)
        info = api.upload_folder(
            folder_path=checked, repo_id=hub.repo, revision=hub.revision, allow_patterns=zoo_model.files(),
            commit_message=commit_message or f"Upload {zoo_model.name} with htkeras {__version__}",
        )
    return info.commit_url
