"""Publishing zoo models: ``save`` a (fine-tuned) model as a zoo folder, ``push`` a folder or a model to the
Hugging Face Hub. Both are re-exported as ``htkeras.zoo.save`` and ``htkeras.zoo.push``.

Both write through ``htkeras.zoo.artifact`` (``write_artifact``): a Keras save (``config.json``,
``model.weights.h5``), ``htkeras.json`` (data settings, model spec, labels), ``metrics.json`` (only what was
measured), ``metadata.json`` (Keras' metadata and the checksums) and a ``README.md`` card whose YAML header
is the Hub's model card metadata (``library_name: keras``): the repo loads with ``htkeras.zoo.load`` and
with ``keras.saving.load_model("hf://...")``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import keras
import numpy as np

from ..models import zoo_copy
from ..version import __version__
from .artifact import metrics_record, write_artifact
from .loading import model_labels, origin
from .resolver import HubHandle, check_endpoint, resolve
from .tasks import get_task


def hub_metadata(config: dict, base_model: str | None = None, own_data: bool = False) -> list:
    """The YAML header of a zoo card (Hub model-card metadata), as lines, from the model's ``config`` (its
    task's ``HubTags``) and the Hub id of the model it was made from, if any. ``own_data``: the model was
    trained on the user's data (no dataset id is claimed for it)."""
    task = get_task(config["dataset"]["name"])
    return [
        "---",
        "library_name: keras",
        "license: apache-2.0",
        *([f"pipeline_tag: {task.hub.pipeline}"] if task.hub.pipeline else []),
        f"tags: [htkeras, hierarchical-tucker, tensor-decomposition, {task.hub.cell}]",
        *([] if own_data else [f"datasets: [{task.hub_dataset_id(config)}]"]),
        f"metrics: [{task.hub.metric}]",
        *([f"base_model: {base_model}"] if base_model else []),
        "---",
        "",
    ]


def trained_parameters(metrics: dict) -> int:
    """The parameters a run trained, from its ``metrics.json``: all of them, or those after a frozen backbone."""
    return metrics.get("trainable_parameters", metrics["parameters"])


def whole_dense_parameters(metrics: dict) -> int:
    """The parameters of the whole model with dense gate matrices (a frozen backbone's as they are, the
    trained part's dense equivalent), from its ``metrics.json``."""
    return metrics["parameters"] - trained_parameters(metrics) + metrics["dense_parameters"]


def parameter_lines(metrics: dict, backbone: str | None) -> list:
    """What a card says of a model's size, from its ``metrics.json``: the trained parameters and their
    compression against dense gate matrices, and with a frozen ``backbone`` the whole model's too (the same
    model with a dense head has the backbone's parameters plus the head's dense equivalent)."""
    sizes = (f"{trained_parameters(metrics):,} ({metrics['compression']:.1f}× fewer than the same model with dense gate "
             f"matrices, {metrics['dense_parameters']:,})")
    if not backbone:
        return [f"- Parameters: {sizes}."]
    whole = whole_dense_parameters(metrics)
    return [f"- Trained parameters (the recurrent head after the frozen {backbone}): {sizes}; the whole model "
            f"{metrics['parameters']:,} ({whole / metrics['parameters']:.2f}× fewer than with a dense head, {whole:,})."]


def use_lines(config: dict, own_labels: bool = False, base: str | None = None) -> list:
    """The card's "Intended use and limitations", from the task table (``Task.use``, ``Task.limits``); for a
    model with labels of its own (fine-tuned), the user's task on inputs prepared as for its ``base``."""
    task = get_task(config["dataset"]["name"])
    use = (f"{config['task']} ({', '.join(config['labels'][:10])}{', ...' if len(config['labels']) > 10 else ''}), on "
           f"inputs prepared as for {base}" if own_labels else task.use)
    limits = ("measured only as stated above, on the data named there; its front-end and preprocessing are those of "
              f"{base}, whose card says what inputs that model knows" if own_labels else task.limits)
    return ["## Intended use and limitations", "", f"- Intended use: {use}.", f"- Limitations: {limits}.", ""]


def _base(model, base):
    base = resolve(base) if base is not None else origin(model)
    if base is None:
        raise ValueError("Which zoo model was this one made from? Pass base= (the handle given to zoo.load); it "
                         "gives the preprocessing and the architecture.")
    return base


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


def load_lines(handle: str, record: str, more: str = "") -> list:
    """What a card says of loading the model named ``handle`` (htkeras' way and Keras' own) and of its files:
    ``record``, what its ``htkeras.json`` holds; ``more``: the files it has besides the common ones."""
    return [
        "```python",
        "import htkeras, keras",
        f'model = htkeras.zoo.load("{handle}")  # compiled; htkeras.zoo.preprocess gives its input from raw data',
        "model = keras.saving.load_model(folder)  # the same model with Keras alone: this folder, or hf://org/repo",
        "```",
        "",
        f"Files: a Keras save (`config.json`, `model.weights.h5`, `metadata.json` with the SHA-256 of every file), "
        f"`htkeras.json` ({record}), `metrics.json`{more}.",
    ]


def card(config: dict, metrics: dict) -> str:
    """The README card of a saved (fine-tuned) model, from its config and measured metrics."""
    base, evaluation = metrics["base"], metrics["evaluation"]
    own_labels = "evaluation_data" in config
    measured = (
        f"- Measured when saved: accuracy {100 * evaluation['accuracy']:.1f}% (loss {evaluation['loss']:.3f}) on "
        f"{evaluation['examples']:,} examples: {evaluation['data']}."
        if evaluation else
        "- No evaluation was recorded (`htkeras.zoo.save(..., evaluate_on=(x, y), data=...)` measures one)."
    )
    made = (f"- Fine-tuned by its user from the htkeras zoo model `{base}` on {metrics['data']['name']}; the base model's "
            "card gives the base's own training data and measurements" if own_labels else
            f"- Made from the htkeras zoo model `{base}` (see its card for its training data and measured accuracy)")
    lines = [
        *hub_metadata(config, base[len("hf://"):].partition("@")[0] if base.startswith("hf://") else None, own_labels),
        f"# {config['name']}",
        "",
        f"Task: {config['task']}." + (f" Labels: {', '.join(config['labels'])}." if config.get("labels") else ""),
        "",
        f"{made}; saved with htkeras {__version__} on {metrics['created']}.",
        *parameter_lines(metrics, config["model_spec"].get("backbone")),
        measured,
        f"- Input: `htkeras.zoo.preprocess(handle, raw inputs)` gives the batch "
        f"{[None, *config['model_spec']['input_shape']]} ({metrics['data']['features']}).",
        "",
        *use_lines(config, own_labels, base),
        *load_lines(config["name"], "model spec, labels and preprocessing"),
    ]
    return "\n".join(lines) + "\n"


def _labels_and_spec(model, base, labels, evaluate_on) -> tuple:
    """``(labels or None, spec)`` of ``model`` saved on ``base``: a classifier's class names (given, recorded by
    ``fine_tune``, or the base's when the counts agree) and the base spec with their number; a next-step
    model's spec as it is (it has no labels)."""
    if not base.is_classifier:
        if labels is not None or evaluate_on is not None:
            raise ValueError(f"{base.name} predicts next frames: it has no labels and no accuracy to evaluate.")
        return None, base.spec
    num_classes = int(model.output_shape[-1])
    labels = model_labels(model) if labels is None and origin(model) is base else labels
    if labels is None and len(base.labels) != num_classes:
        raise ValueError(f"The model has {num_classes} classes, its base {len(base.labels)}: pass labels=.")
    labels = [str(label) for label in (labels if labels is not None else base.labels)]
    if len(labels) != num_classes:
        raise ValueError(f"The model has {num_classes} classes but {len(labels)} labels were given.")
    return labels, {**base.spec, "num_classes": num_classes}


def save(model: keras.Model, folder, *, base=None, labels=None, name: str | None = None, task: str | None = None,
         evaluate_on=None, data: str | None = None) -> Path:
    """Write ``model`` (e.g. ``zoo.load(...)`` then ``fit``) as a zoo folder that ``load``, ``export`` and
    ``push`` take; returns the folder, which must not exist yet.

    ``base``: the zoo handle it was loaded from (default: ``zoo.origin(model)``, recorded by ``zoo.load``); it
    gives the preprocessing and the architecture, which the weights must fit. ``labels``: the class names,
    needed when the head was replaced by ``load(..., num_classes=K)`` (``fine_tune`` records them).
    ``evaluate_on=(x, y)`` with ``data`` (a description of those examples): measured here and written to
    ``metrics.json`` and the card; no
    figure is written that was not measured.
    """
    folder = Path(folder)
    if folder.exists():
        raise FileExistsError(f"{folder} exists; save into a new folder.")
    base = _base(model, base)
    labels, spec = _labels_and_spec(model, base, labels, evaluate_on)
    num_classes = len(labels) if labels is not None else None
    copy = zoo_copy(model, spec, base.config.get("training"))
    config = {
        **{key: value for key, value in base.config.items() if key != "evaluation_data"},
        **({} if labels == base.labels else {"evaluation_data": data or "the user's, not recorded"}),
        "name": name or folder.name,
        "task": task or (base.config["task"] if labels == base.labels else f"{num_classes}-way classification"),
        "model_spec": spec,
        **({"labels": labels} if labels is not None else {}),
    }
    own_data = {"name": data or "the user's data (not described when saved)",
                "features": base.metrics["data"]["features"]}
    metrics = metrics_record(
        copy, name=config["name"], task=config["task"], data=base.metrics["data"] if labels == base.labels else own_data,
        split={"train": f"unknown to htkeras (a model made from {base.handle} by the user)", "validation": None},
        commit=f"htkeras {__version__}", base=base.handle, evaluation=_evaluation(copy, evaluate_on, data),
        cross_validation=None, train_accuracy=None,
    )
    return write_artifact(folder, config=config, metrics=metrics, model=copy,
                          extras={"README.md": card(config, metrics)}).folder


def push(model_or_dir, repo_id: str, *, revision: str | None = None, private: bool | None = None,
         commit_message: str | None = None, token=None, **save_kwargs) -> str:
    """Publish a zoo model on the Hugging Face Hub; returns the commit URL. Load it back with
    ``load("hf://<repo_id>")``.

    ``model_or_dir``: a zoo model folder (as ``training.train`` or ``save`` writes it), any handle
    ``zoo.resolve`` accepts, or a ``keras.Model``, which is first written by ``save(model, ...,
    **save_kwargs)`` (``base``, ``labels``, ``evaluate_on`` and ``data``, as there).
    Uploads what the folder's ``metadata.json`` vouches for, and nothing else: ``htkeras.json``,
    ``config.json``, ``model.weights.h5``, ``metrics.json``, the card ``README.md`` (its metadata says ``library_name:
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
