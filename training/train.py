"""Train a model from a config file, with safe checkpoints and measured metrics.

    python -m training.train CONFIG [--out DIR] [--cv] [--resume] [--overwrite] [--data-dir DIR] [--quiet]
                                    [--distribute {none,mirrored,multi-worker}] [--cpu-devices N]
                                    [--epochs N] [--precision {float32,mixed_float16,mixed_bfloat16}]

``--cv``: grouped cross-validation (for FSDD: leave one speaker out). Each fold trains for the configured
number of epochs and records its held-out accuracy after every epoch; the number of epochs for the final
model is the one with the best *mean* held-out accuracy over the folds. Results go to ``DIR/cv.json``.

Without ``--cv``: the final model, trained on every example (with ``"epochs": "cv"`` for the epoch count
chosen by a previous ``--cv`` run in the same DIR). Optional early stopping on a stratified validation
fraction (``"validation": {"fraction": 0.1}, "patience": 5``). Writes DIR as a zoo model through
``htkeras.zoo.write_artifact``: a Keras save (``config.json``, ``model.weights.h5``), ``htkeras.json``,
``metrics.json`` (accuracy, parameters, compression, time, hardware, git commit, data and split),
``curves.png`` and ``metadata.json`` (checksums). With a validation fraction, the weights of the epoch with the lowest
validation loss are kept. A dataset with a published test split (Fashion-MNIST, UEA sets) is measured on
it once, at the end (``test_accuracy``); it has no groups, so ``--cv`` is refused.

Checkpoints (``training.checkpoint``): after every epoch the whole model (with its optimizer state) and the
run state are written to ``DIR/checkpoint/`` as one atomic unit, so a kill never leaves a broken or mixed
checkpoint; ``--resume`` continues from the last finished epoch (or, with ``--cv``, after the last finished
fold), and refuses a checkpoint made with another config (naming the keys that differ), a damaged one, or one
whose model is not at the step its state records. A folder holding a checkpoint is not trained again without
``--resume``.

The output folder is guarded (``htkeras.files.writing``): one run at a time writes into it (a second gets a
one-line error at once); a folder that holds a zoo model already is refused unless ``--overwrite``, and the
new model then holds only its own files (no card, CV or curves of the old one); a ``cv.json`` is used only
when it was made with the same config. The config's values are checked before any data is read
(``check_config_values``), a checkpoint is written only when the disk has room for it, and every mistake
found later, a full disk included, ends in a one-line error (exit 2).

The config (JSON)::

    {"name": "fsdd-fdht-lstm", "task": "spoken digit classification",
     "dataset": {"name": "fsdd", "num_frames": 40, "num_mels": 40},
     "model": {"kind": "fdht", "cell": "lstm", "units": 32, "ranks": 4, "options": {}},
     "training": {"epochs": "cv", "cv_epochs": 20, "batch_size": 32, "learning_rate": 0.01, "seed": 0}}

``"epochs": "cv"``: cross-validate for ``cv_epochs`` epochs, then train the final model for the chosen count.

A frozen pretrained backbone (``"model": {..., "backbone": "speech_embedding", "normalize_features": true}``
with ``"dataset": {"name": "fsdd", "input": "waveform", "seconds": 1.5}``): its features of every example are
computed once, the head (standardization, RNN, classifier) is cross-validated and trained on them, and the
published model is the backbone followed by the head, waveform in (``Plan``). ``"clipnorm"`` in
``training`` clips the gradient norm.

Next-step prediction (``"dataset": {"name": "poly_music", "set": "JSB_Chorales"}``): the published
train/valid/test split; up to ``epochs`` epochs with early stopping on the validation loss (``patience``),
the best validation epoch's weights kept, and the frame-level NLL of every split in ``metrics.json``.
``"length_buckets": true`` in ``training``: batches of sequences of similar length, each cut to its
longest (``LengthBuckets``), for sets of long and unequal sequences such as Nottingham.

At scale (``training.distribute``): ``--distribute mirrored`` trains on every local GPU (TensorFlow's
``MirroredStrategy``; JAX: ``keras.distribution.DataParallel``), ``--distribute multi-worker`` on several
machines (``MultiWorkerMirroredStrategy``, the cluster from ``TF_CONFIG``; only the chief writes into DIR),
``--cpu-devices N`` splits the CPU into N devices to run either without GPUs. The config's ``batch_size``
is the global batch. ``--precision mixed_float16`` or ``mixed_bfloat16`` sets Keras' dtype policy (float32
variables, computation in 16 bits; float16 with loss scaling); the published weights stay float32.
``--epochs N`` overrides the config's epoch counts (``epochs`` and ``cv_epochs``) for a short run. The
overrides are written into the run's config (``training``), so ``--resume`` checks them too, and
``metrics.json`` records ``"distribution": {"strategy", "replicas"}`` and ``"precision"``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from htkeras.data.buckets import model_nll, predict_frames
from htkeras.data.sets import NextStepData
from htkeras.data.streaming import ClipSource
from htkeras.distillation import pack
from htkeras.files import BusyError, writing
from htkeras.models import adapt_features, backbone_layer, head_spec, with_backbone
from htkeras.zoo.artifact import (
    LIMITS,
    METADATA,
    ZooModel,
    bounded,
    check_dataset_sizes,
    check_name,
    metrics_record,
    write_artifact,
)
from htkeras.zoo.tasks import get_task

from .augmented import augmented_features, settings
from .checkpoint import (
    BEST_WEIGHTS,
    RunError,
    changed_keys,
    check_config,
    fingerprint,
    holds_checkpoint,
    latest,
    read_checkpoint,
    write_checkpoint,
)
from .data import LengthBuckets, load_dataset
from .distribute import ONE_DEVICE, STRATEGIES, Distribution, distribution
from .recipe import Reference, accuracy, check_recipe, compiled, initialize, seeds
from .run_io import git_commit, hardware, read_json, write_json

DEFAULTS = {"batch_size": 32, "learning_rate": 0.01, "seed": 0, "validation": None, "patience": None}
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
MAX_EPOCHS, MAX_BATCH, MAX_CPU_DEVICES = 100_000, 1 << 20, 64
MAX_VALIDATION_FRACTION = 0.5  # the rest trains: a run never publishes a model that saw too little


def check_config_values(config: dict, where: str) -> None:
    """The values of a run's config that are used only once training has started, checked before any data is
    read: a ValueError naming ``where`` and the key."""
    model, training = config["model"], {**DEFAULTS, **config["training"]}
    if not isinstance(model, dict) or not isinstance(training, dict) or not isinstance(config["dataset"], dict):
        raise ValueError(f"{where}: 'dataset', 'model' and 'training' must be JSON objects.")
    bounded(model.get("units"), LIMITS["units"], f"{where}: model.units")
    check_dataset_sizes(config["dataset"], f"{where}:")
    bounded(training["batch_size"], MAX_BATCH, f"{where}: training.batch_size")
    bounded(training["learning_rate"], 10.0, f"{where}: training.learning_rate", (int, float))
    if training.get("epochs") != "cv":
        bounded(training.get("epochs"), MAX_EPOCHS, f"{where}: training.epochs (or \"cv\")")
    if training.get("epochs") == "cv" or "cv_epochs" in training:
        bounded(training.get("cv_epochs"), MAX_EPOCHS, f"{where}: training.cv_epochs")
    if isinstance(training["seed"], bool) or not isinstance(training["seed"], int):
        raise ValueError(f"{where}: training.seed must be an integer, got {training['seed']!r}.")
    for key, kind in (("patience", int), ("clipnorm", (int, float))):
        if training.get(key) is not None:
            bounded(training[key], MAX_EPOCHS, f"{where}: training.{key}", kind)
    validation = training["validation"]
    if validation is not None:
        fraction = validation.get("fraction") if isinstance(validation, dict) else None
        bounded(fraction, MAX_VALIDATION_FRACTION, f"{where}: training.validation.fraction", (int, float))
    check_recipe(training, where)


def holds_model(out: Path) -> bool:
    """Whether ``out`` holds a zoo model's files (a published run, a copied zoo folder)."""
    return any(os.path.lexists(out / name) for name in (METADATA, "model.weights.h5", "config.json", "htkeras.json"))


def model_spec(config: dict, data) -> dict:
    if isinstance(data, NextStepData):
        width = data.splits["train"][0].shape[-1]
        return {**config["model"], "head": "next_step", "input_shape": [None, width], "num_outputs": width}
    return {**config["model"], "input_shape": list(data.x.shape[1:]), "num_classes": len(data.labels)}


@dataclass
class Plan:
    """What a run trains and what it publishes: ``spec`` describes the published model, ``trained`` the model
    that is fitted on ``data``. They are the same unless the spec names a frozen pretrained backbone: then
    ``data`` holds the backbone's features of every example, computed once (``seconds``), the head alone
    (``head_spec``) is fitted on them, and the published model is the backbone followed by that head
    (``with_backbone``), checked on ``raw`` inputs against the head on their features."""

    spec: dict
    trained: dict
    data: object
    raw: np.ndarray | None = None
    seconds: float = 0.0
    source: np.ndarray | None = None  # with augmentation: the clip each row of ``data`` was made from
    augmentation: dict | None = None  # what the augmented copies were and cost

    def originals(self) -> np.ndarray:
        """Which rows of ``data`` are the dataset's own examples (the rest: augmented copies, after them)."""
        rows = len(self.data.y)
        return np.ones(rows, bool) if self.source is None else np.arange(rows) < len(self.raw)

    def clip(self) -> np.ndarray:
        """For each row of ``data``, the index of the example it was made from."""
        return np.arange(len(self.data.y)) if self.source is None else self.source


def plan_run(config: dict, data) -> Plan:
    """The ``Plan`` of a run of ``config`` on ``data`` (the backbone's features computed here, once, and those
    of the augmented copies, cached: ``training.augmented``)."""
    spec, training = model_spec(config, data), config["training"]
    if not spec.get("backbone"):
        if "augment" in training:
            raise RunError("training.augment makes new waveforms for a model whose frozen backbone reads them; "
                           f"{config['name']} has none.")
        return Plan(spec, spec, data)
    start = time.perf_counter()
    backbone = backbone_layer(spec, pretrained=True)
    inputs = keras.Input(tuple(spec["input_shape"]))
    extractor = keras.Model(inputs, backbone(inputs))
    features = extractor.predict(data.x, batch_size=64, verbose=0)
    print(f"{spec['backbone']} features of {len(features):,} examples: {features.shape[1:]}")
    plan = Plan(spec, head_spec(spec, features.shape[1:]), replace(data, x=features), data.x, time.perf_counter() - start)
    if "augment" not in training:
        return plan
    rate = int(config["dataset"].get("sample_rate", 16000))
    copies = augmented_features(extractor, data.x, training, rate, spec["backbone"])
    source = np.concatenate([np.arange(len(data.y)), copies.source])
    grown = replace(plan.data, x=np.concatenate([features, copies.features]), y=data.y[source],
                    groups=None if data.groups is None else data.groups[source])
    return replace(plan, data=grown, source=source, augmentation=copies.record(*settings(training)))


def published_model(plan: Plan, model: keras.Model) -> keras.Model:
    """The model to publish: ``model`` itself, or the backbone followed by it, which must give the same
    probabilities on raw inputs as ``model`` on their features (a RunError otherwise)."""
    if plan.raw is None:
        return model
    whole = with_backbone(plan.spec, model)
    check = slice(0, 64)
    difference = float(np.abs(whole.predict(plan.raw[check], verbose=0) - model.predict(plan.data.x[check], verbose=0)).max())
    if difference > 1e-4:
        raise RunError(f"The model with its backbone differs from the trained head by {difference:.2e} on the same "
                       "inputs; nothing was published.")
    return whole


def compiled_model(spec: dict, training: dict, examples: int = 1) -> keras.Model:
    """``spec``'s model compiled for a run on ``examples`` examples (``training.recipe.compiled``: the recipe
    ``zoo.load`` shares, with the section's schedule and distillation loss)."""
    return compiled(spec, training, examples)


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """``EarlyStopping`` on ``val_loss`` whose counters survive a resume (``state``: from a checkpoint)."""

    def __init__(self, patience: int, state: dict | None = None):
        super().__init__("val_loss", patience=patience)
        self.saved = state

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.saved:
            self.wait, self.best, self.best_epoch = self.saved["wait"], self.saved["best"], self.saved["best_epoch"]

    def state(self) -> dict:
        best = None if self.best is None else float(self.best)
        return {"wait": self.wait, "best": best, "best_epoch": self.best_epoch}


class Checkpoint(keras.callbacks.Callback):
    """After every epoch, the checkpoint (``training.checkpoint.write_checkpoint``: the model with its
    optimizer, the weights of the epoch with the lowest validation loss so far and the run state: epochs
    done, history, training seconds, best epoch, early-stopping counters, the config and the optimizer's
    step count), one atomic unit."""

    def __init__(self, folder: Path, state: dict, early_stopping=None):
        super().__init__()
        self.folder, self.state, self.early_stopping = folder, state, early_stopping
        self.start, self.seconds_before = time.time(), state["seconds"]

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.state["history"].setdefault(key, []).append(float(value))
        val_loss = (logs or {}).get("val_loss")
        improved = val_loss is not None and val_loss < self.state.get("best_val_loss", float("inf"))
        if improved:
            self.state.update({"best_val_loss": float(val_loss), "best_epoch": epoch + 1})
        self.state.update({"epochs_done": epoch + 1, "seconds": self.seconds_before + time.time() - self.start})
        if self.early_stopping is not None:
            self.state["early_stopping"] = self.early_stopping.state()
        write_checkpoint(self.folder, self.model, self.state, improved)


def fit_with_checkpoints(model, x, y, epochs, folder: Path, training: dict, validation=None, resume=False, verbose=1,
                         sample_weight=None, config=None, spread: Distribution = ONE_DEVICE):
    """Fit for ``epochs`` epochs in total, continuing the checkpoint in ``folder`` when ``resume`` (which must
    have been made with the same ``config``), under the distribution ``spread`` (whose scope the caller
    entered). Returns ``(model, state)`` with ``state["history"]`` and ``state["seconds"]`` (training time in
    all)."""
    state = {"epochs_done": 0, "history": {}, "seconds": 0.0, "config": config, "config_sha256": fingerprint(config)}
    found = read_checkpoint(folder, config) if resume else None
    if found is not None:
        model, state, _ = found
        print(f"Resuming after epoch {state['epochs_done']} from {folder}")
    es = None
    if training.get("patience") and validation is not None:
        es = ResumableEarlyStopping(int(training["patience"]), state.get("early_stopping"))
    callbacks = ([es] if es is not None else []) + [Checkpoint(folder, state, es)]  # the counters first
    if isinstance(x, ClipSource):  # streamed clips: decoded per batch
        batch_size = int(training["batch_size"])
        x, y = x.batches(y, batch_size, shuffle=True, seed=int(training["seed"])), None
        validation = None if validation is None else validation[0].batches(validation[1], batch_size)
    if state["epochs_done"] < epochs:
        batch_size = None if y is None else int(training["batch_size"])  # y None: x is a dataset of batches
        spread.prepare(model).fit(
            x, y, batch_size=batch_size, epochs=epochs, initial_epoch=state["epochs_done"],
            validation_data=validation, callbacks=callbacks, verbose=verbose, sample_weight=sample_weight,
        )
    return model, state


def best_weights(folder: Path) -> Path:
    """The best validation epoch's weights in the checkpoint ``folder``."""
    return latest(folder) / BEST_WEIGHTS


def stratified_split(y, fraction: float, seed: int):
    """Boolean mask of a validation set holding ``fraction`` of every class."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(y), bool)
    for label in np.unique(y):
        index = np.flatnonzero(y == label)
        count = max(1, round(fraction * len(index)))
        if count >= len(index):
            raise RunError(f"A validation fraction of {fraction} leaves class {label} ({len(index)} examples) nothing to "
                           "train on; lower training.validation.fraction.")
        mask[rng.choice(index, count, replace=False)] = True
    return mask


def cross_validate(config, plan: Plan, out: Path, resume: bool, verbose: int, spread: Distribution = ONE_DEVICE,
                   teacher: Reference | None = None, init: Reference | None = None) -> dict:
    """Leave one group out, each fold trained with every seed of ``training.recipe.seeds``, distilling from the
    ``teacher``'s recipe and starting from the ``init`` model's retrained without the held-out group (once per
    fold, with the run's seed; one model when both name the same). The epoch count with the best mean held-out
    accuracy over all of them is chosen. ``cv.json``: each fold's curves, the choice, the mean accuracy at it,
    its spread over folds (``accuracy_std``) and over seeds (``seed_std``), and the time it took."""
    training, data = {**DEFAULTS, **config["training"]}, plan.data
    epochs = int(training["cv_epochs"] if training["epochs"] == "cv" else training["epochs"])
    path = out / "cv.json"
    result = {"config": config, "folds": {}}
    if resume and path.exists():
        result = read_json(path)
        check_config(result.get("config"), config, path)
    spec, run_seeds, groups = plan.trained, seeds(training), sorted(set(data.groups.tolist()))
    start, references = time.perf_counter(), {}
    for group in groups:
        for seed in run_seeds:
            key = str(group) if len(run_seeds) == 1 else f"{group}@seed{seed}"
            if key in result["folds"]:
                continue
            held_out = data.groups == group
            checked = held_out & plan.originals()  # the held-out group's own clips, not their copies
            x, y, validation = data.x[~held_out], data.y[~held_out], (data.x[checked], data.y[checked])
            for ref in (teacher, init):  # once per fold, with the run's seed: shared by the seeds of the fold
                if ref is not None and (ref.handle, group) not in references:
                    references = {key: m for key, m in references.items() if key[1] == group}  # one fold's in memory
                    references[ref.handle, group] = ref.for_fold(plan.spec, x, y, int(training["seed"]))
            retrained = {handle: model for (handle, _), model in references.items()}
            if teacher is not None:  # a teacher that never saw the held-out group
                fold_teacher = retrained[teacher.handle]
                y = pack(y, fold_teacher.predict(x, batch_size=256, verbose=0))
                validation = (validation[0], pack(validation[1], fold_teacher.predict(validation[0], batch_size=256, verbose=0)))
            keras.utils.set_random_seed(seed)
            model = compiled_model(spec, {**training, "seed": seed}, len(x))
            adapt_features(model, x)  # the fold's training data only
            if init is not None:
                initialize(model, spec, retrained[init.handle])
            folder = out / "checkpoint" / f"cv-{group}-{seed}"
            _, state = fit_with_checkpoints(model, x, y, epochs, folder, training, validation=validation, resume=resume,
                                            verbose=verbose, config=config, spread=spread)
            history = state["history"]
            result["folds"][key] = {"group": group, "seed": seed, "val_accuracy": history["val_accuracy"],
                                    "seconds": state["seconds"]}
            write_json(path, result)
            shutil.rmtree(folder, ignore_errors=True)
            print(f"fold {key}: held-out accuracy by epoch {np.round(history['val_accuracy'], 3).tolist()}")
    folds = list(result["folds"].values())
    curves = np.array([fold["val_accuracy"] for fold in folds])
    best = int(np.argmax(curves.mean(axis=0)))
    by_group = {g: float(np.mean([f["val_accuracy"][best] for f in folds if f["group"] == g])) for g in groups}
    by_seed = {str(s): float(np.mean([f["val_accuracy"][best] for f in folds if f["seed"] == s])) for s in run_seeds}
    result.update(
        {
            "scheme": "leave one group out" + (f", {len(run_seeds)} seeds" if len(run_seeds) > 1 else ""),
            "groups": groups,
            "seeds": run_seeds,
            "mean_curve": curves.mean(axis=0).tolist(),
            "chosen_epochs": best + 1,
            "accuracy_mean": float(curves[:, best].mean()),
            "accuracy_std": float(np.std(list(by_group.values()))),
            "fold_accuracy": by_group,
            "seed_accuracy": by_seed,
            "seed_std": float(np.std(list(by_seed.values()))),
            "train_seconds": float(sum(fold["seconds"] for fold in folds)),
            "seconds": plan.seconds + (plan.augmentation or {}).get("seconds", 0.0) + time.perf_counter() - start,
            **({"teacher": teacher.handle} if teacher is not None else {}),
            **({"init": init.handle} if init is not None else {}),
            "commit": git_commit(),
            "hardware": hardware(),
            "distribution": spread.record(),
            "precision": keras.config.dtype_policy().name,
        }
    )
    write_json(path, result)
    print(f"CV: {result['accuracy_mean']:.3f} +- {result['accuracy_std']:.3f} over groups, +- {result['seed_std']:.3f} over "
          f"seeds, at {best + 1} epochs")
    return result


def plot_curves(history: dict, cv: dict | None, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 2 if "accuracy" in history else 1
    fig, axes = plt.subplots(1, panels, figsize=(4.5 * panels, 3.2), squeeze=False)
    axes = axes[0]
    for key in ("loss", "val_loss"):
        if key in history:
            axes[0].plot(range(1, len(history[key]) + 1), history[key], label=key)
    for key in ("accuracy", "val_accuracy") if panels == 2 else ():
        if key in history:
            axes[1].plot(range(1, len(history[key]) + 1), history[key], label=key)
    if cv:
        axes[1].plot(range(1, len(cv["mean_curve"]) + 1), cv["mean_curve"], "--", label="CV mean held-out")
    for ax, title in zip(axes, ("loss", "accuracy")):
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)


def publish_run(out: Path, config: dict, model, state: dict, cv: dict | None, spread: Distribution, **measured) -> dict:
    """Write the finished run in ``out`` as a zoo model (``htkeras.zoo.write_artifact``, the one writer):
    ``config`` (with its model spec and labels), the weights, metrics.json (``metrics_record``: what was
    ``measured``, plus the training time, hardware, distribution, precision, sizes and commit) and the
    curves; then drop the checkpoint. Returns the metrics."""
    metrics = metrics_record(model, name=config["name"], task=config.get("task"), commit=git_commit(),
                             **measured, train_seconds=state["seconds"], hardware=hardware(),
                             distribution=spread.record(), precision=keras.config.dtype_policy().name)
    curves = lambda path: plot_curves(state["history"], cv, path)
    write_artifact(out, config=config, metrics=metrics, model=model,
                   extras={"curves.png": curves}, new=False, keep=("cv.json",) if cv else ())
    shutil.rmtree(out / "checkpoint", ignore_errors=True)
    return metrics


def own_cv(out: Path, config: dict, needed: bool, overwrite: bool) -> dict | None:
    """The ``cv.json`` in ``out`` when it was made with ``config`` (a RunError names the keys otherwise; with
    ``overwrite`` and a fixed epoch count, another config's is left out of the new model), or None."""
    path = out / "cv.json"
    if not path.exists():
        return None
    cv = read_json(path)
    made_with = cv.get("config") if isinstance(cv, dict) else None
    if made_with is not None and fingerprint(made_with) == fingerprint(config):
        return cv
    if needed or not overwrite:
        raise RunError(f"{path} was made with another config (differs in: {', '.join(changed_keys(made_with or {}, config))}); "
                       "the final run uses only a cross-validation of its own config: run --cv again, or remove it.")
    return None


def train_final(config, plan: Plan, out: Path, resume: bool, verbose: int, spread: Distribution = ONE_DEVICE,
                overwrite: bool = False, teacher: Reference | None = None, init: Reference | None = None) -> dict:
    training, data = {**DEFAULTS, **config["training"]}, plan.data
    cv = own_cv(out, config, training["epochs"] == "cv", overwrite)
    epochs = training["epochs"]
    if epochs == "cv":
        if cv is None or "chosen_epochs" not in cv:
            raise RunError(f'"epochs": "cv" needs a finished cross-validation in {out}: run with --cv first.')
        epochs = cv["chosen_epochs"]
    seed = int(training["seed"])
    x, y, validation, split = data.x, data.y, None, {"train": "all examples", "validation": None}
    if teacher is not None:  # its outputs once per example, beside the labels
        y = pack(y, teacher.outputs(plan))
    if training["validation"]:
        originals = plan.originals()
        held = stratified_split(data.y[originals], float(training["validation"]["fraction"]), seed)[plan.clip()]
        checked = held & originals  # validated on its own clips; their copies are not trained on
        x, y, validation = x[~held], y[~held], (x[checked], y[checked])
        split = {"train": f"{int((~held).sum())} examples", "validation": f"{int(checked.sum())} (stratified, seed {seed})"}
    keras.utils.set_random_seed(seed)
    model = compiled_model(plan.trained, training, len(x))
    adapt_features(model, x)
    started = None if init is None else {"from": init.handle, **initialize(model, plan.trained, init.head(plan))}
    model, state = fit_with_checkpoints(model, x, y, int(epochs), out / "checkpoint", training, validation, resume, verbose,
                                        config=config, spread=spread)
    history, best_epoch = state["history"], state.get("best_epoch")
    if validation is not None:
        model.load_weights(best_weights(out / "checkpoint"))
        split["chosen by"] = f"validation loss (the weights of epoch {best_epoch} kept)"
    test_accuracy = None
    if data.test is not None:  # the published test split: measured once, at the end
        test_accuracy = accuracy(model, *data.test)
        split["test"] = f"{len(data.test[1])} examples (the published test split, measured only)"
    config = {**config, "model_spec": plan.spec, "labels": list(data.labels),
              **({"preprocessing": data.preprocessing} if data.preprocessing else {})}
    model = published_model(plan, model)
    bundled = bundled_accuracy(model, config, out)
    metrics = publish_run(
        out, config, model, state, cv, spread, data=data.description, split=split,
        cross_validation=None if cv is None else {
            key: cv[key] for key in ("scheme", "groups", "seeds", "chosen_epochs", "accuracy_mean", "accuracy_std",
                                     "fold_accuracy", "seed_accuracy", "seed_std", "train_seconds") if key in cv
        },
        epochs=len(history.get("loss", [])),
        best_epoch=best_epoch,
        train_accuracy=history["accuracy"][-1] if history.get("accuracy") else None,
        **distillation_record(training, teacher),
        **({"init": started} if started else {}),
        validation_accuracy=history["val_accuracy"][best_epoch - 1] if best_epoch else None,
        test_accuracy=test_accuracy,
        **({"bundled_accuracy": bundled} if bundled is not None else {}),
        **({"backbone": {"name": plan.spec["backbone"], "frozen": True, "feature_seconds": plan.seconds}}
           if plan.raw is not None else {}),
        **({"augmentation": plan.augmentation} if plan.augmentation else {}),
    )
    tested = "" if test_accuracy is None else f", test accuracy {100 * test_accuracy:.2f}%"
    print(f"{config['name']}: {metrics['parameters']:,} parameters{tested}, written to {out}")
    return metrics


def bundled_accuracy(model, config: dict, out: Path) -> float | None:
    """The accuracy on the real examples bundled with the package for the task (FSDD: the ten digits of a voice
    no model was trained on), measured before publishing (the preprocessing reads only the config), or
    None for a task without any."""
    bundled = get_task(config["dataset"]["name"]).bundled
    if bundled is None:
        return None
    x, y, _, description = bundled(ZooModel(out, config["name"], config, {}, {}))  # not written yet
    accuracy = float((model.predict(x, verbose=0).argmax(axis=1) == y).mean())
    print(f"accuracy on {description}: {accuracy:.1%}")
    return accuracy


def train_next_step(config, data: NextStepData, out: Path, resume: bool, verbose: int,
                    spread: Distribution = ONE_DEVICE, teacher: Reference | None = None) -> dict:
    """A next-step model on fixed train/valid/test splits: early stopping on the validation loss, the
    weights of the best validation epoch kept; the frame-level NLL of every split measured at the end (the
    test split is only ever measured, never used to choose)."""
    training = {**DEFAULTS, **config["training"]}
    keras.utils.set_random_seed(int(training["seed"]))
    spec = model_spec(config, data)
    splits = {name: data.splits[name] for name in ("train", "valid")}
    if teacher is not None:  # the teacher's probabilities of every frame, once, beside the targets
        splits = {name: (x, pack(y, predict_frames(teacher.model, x, mask)), mask) for name, (x, y, mask) in splits.items()}
    model = compiled_model(spec, training, len(splits["train"][0]))
    batch_size, seed, folder = int(training["batch_size"]), int(training["seed"]), out / "checkpoint"
    if training.get("length_buckets"):
        train = LengthBuckets(*splits["train"], batch_size, shuffle=True, seed=seed)
        model, state = fit_with_checkpoints(model, train, None, int(training["epochs"]), folder, training,
                                            LengthBuckets(*splits["valid"], batch_size), resume, verbose,
                                            config=config, spread=spread)
    else:
        x, y, mask = splits["train"]
        model, state = fit_with_checkpoints(model, x, y, int(training["epochs"]), folder, training,
                                            splits["valid"], resume, verbose, sample_weight=mask, config=config,
                                            spread=spread)
    model.load_weights(best_weights(folder))
    nll = {name: model_nll(model, *split) for name, split in data.splits.items()}
    metrics = publish_run(
        out, {**config, "model_spec": spec}, model, state, None, spread, data=data.description,
        split={**data.description["split"], "chosen by": "validation loss (early stopping, best epoch kept)"},
        epochs=len(state["history"].get("loss", [])),
        best_epoch=state["best_epoch"],
        nll=nll,
        **distillation_record(training, teacher),
        nll_unit="nats per frame, summed over the 88 keys, mean over predicted frames",
    )
    print(f"{config['name']}: {metrics['parameters']:,} parameters, test NLL {nll['test']:.3f}, written to {out}")
    return metrics


def distillation_record(training: dict, teacher: Reference | None) -> dict:
    """What metrics.json says of the run's teacher (none: nothing)."""
    if teacher is None:
        return {}
    distill = training.get("distill", {})
    return {"distillation": {"teacher": teacher.handle, "teacher_name": teacher.zoo_model.name,
                             "alpha": distill.get("alpha", 0.5), "temperature": distill.get("temperature", 4.0)}}


def with_overrides(config: dict, epochs: int | None, precision: str | None) -> dict:
    """``config`` with the command line's ``--epochs`` (``epochs``, and ``cv_epochs`` where the config has
    it) and ``--precision`` written into its ``training`` section."""
    training = dict(config["training"])
    if epochs is not None:
        training.update({"epochs": epochs, **({"cv_epochs": epochs} if "cv_epochs" in training else {})})
    if precision is not None:
        training["precision"] = precision
    return {**config, "training": training}


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def worker_folder(out: Path, resume: bool) -> Path:
    """Where a worker that is not the chief writes: a private temporary folder (deleted at the end), holding
    a copy of the chief's checkpoint in ``out`` when resuming, so that the chief's folder has one writer."""
    folder = Path(tempfile.mkdtemp(prefix="htkeras-worker-"))
    if resume and (out / "checkpoint").is_dir():
        shutil.copytree(out / "checkpoint", folder / "checkpoint")
    if resume and (out / "cv.json").is_file():
        shutil.copy2(out / "cv.json", folder / "cv.json")
    return folder


def run(config: dict, data, out: Path, args, spread: Distribution):
    verbose = 2 if args.quiet else 1
    training = config["training"]
    teacher = Reference(training["teacher"], config, "teacher") if "teacher" in training else None
    init = Reference(training["init"], config, "init") if "init" in training else None
    if teacher is not None and init is not None and init.handle == teacher.handle:
        init = teacher  # one model: retrained once per fold
    if isinstance(data, NextStepData):
        if args.cv:
            raise RunError(f"{config['name']} has fixed train/valid/test splits; --cv is for grouped data.")
        if init is not None:
            raise RunError("training.init converts a trained classifier's recurrent layer; next-step models start from "
                           "random weights.")
        return train_next_step(config, data, out, args.resume, verbose, spread, teacher)
    for reference in (teacher, init):
        if reference is not None:
            reference.check_labels(data.labels)
    if args.cv:
        if data.groups is None:
            raise RunError(f"{config['name']} has a fixed train/test split and no groups; --cv is for grouped "
                           "data (FSDD speakers, UCF11 groups). Use a validation fraction instead.")
        return cross_validate(config, plan_run(config, data), out, args.resume, verbose, spread, teacher, init)
    return train_final(config, plan_run(config, data), out, args.resume, verbose, spread, args.overwrite, teacher, init)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", help="a JSON config (see training/configs/)")
    parser.add_argument("--out", default=None, help="output folder (default: runs/<config name>)")
    parser.add_argument("--cv", action="store_true", help="cross-validate over groups (speakers) instead")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    parser.add_argument("--overwrite", action="store_true", help="replace the zoo model that --out holds already")
    parser.add_argument("--data-dir", default=None, help="data root (default: $HTKERAS_DATA or ../shared/data)")
    parser.add_argument("--quiet", action="store_true", help="one line per epoch instead of a progress bar")
    parser.add_argument("--distribute", choices=STRATEGIES, default="none",
                        help="data-parallel training: every local device (mirrored) or several machines (multi-worker, "
                             "TF_CONFIG); the config's batch size is the global batch")
    parser.add_argument("--cpu-devices", type=positive, default=None, metavar="N",
                        help="split the CPU into N logical devices (distribution without GPUs)")
    parser.add_argument("--epochs", type=positive, default=None, metavar="N",
                        help="train N epochs (and cross-validate N) instead of the config's counts")
    parser.add_argument("--precision", choices=PRECISIONS, default=None,
                        help="Keras dtype policy (default: the config's training.precision, else float32)")
    args = parser.parse_args(argv)
    try:
        config = read_json(args.config)
        if not isinstance(config, dict) or not {"name", "dataset", "model", "training"} <= set(config):
            raise ValueError(f"{args.config} must be a JSON object with 'name', 'dataset', 'model' and 'training'.")
        check_name(config["name"], f"{args.config}: 'name'")  # it names the zoo model and the default folder
        config = with_overrides(config, args.epochs, args.precision)
        precision = config["training"].get("precision", "float32")
        if precision not in PRECISIONS:
            raise ValueError(f"{args.config}: training.precision {precision!r} is not one of {', '.join(PRECISIONS)}.")
        check_config_values(config, args.config)
        if args.cpu_devices is not None and args.cpu_devices > MAX_CPU_DEVICES:
            raise ValueError(f"--cpu-devices {args.cpu_devices}: at most {MAX_CPU_DEVICES} logical CPU devices.")
    except (OSError, ValueError, RecursionError) as error:  # json.JSONDecodeError is a ValueError
        fail = f"{args.config}: nested too deeply" if isinstance(error, RecursionError) else error
        parser.exit(2, f"error: {args.config}: {error}\n" if isinstance(error, OSError) else f"error: {fail}\n")
    out = Path(args.out or Path("runs") / config["name"])
    try:
        spread = distribution(args.distribute, args.cpu_devices)
        batch = int(config["training"].get("batch_size", DEFAULTS["batch_size"]))
        if batch < spread.replicas:
            raise ValueError(f"training.batch_size {batch} is smaller than the {spread.replicas} replicas that share each "
                             "batch; raise it, or use fewer devices.")
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")
    try:
        with writing(out) if spread.chief else contextlib.nullcontext():  # one writer until the model is published
            return guarded_run(config, out, args, precision, spread, parser)
    except BusyError as error:
        parser.exit(2, f"error: {error}\n")


def guarded_run(config: dict, out: Path, args, precision: str, spread: Distribution, parser):
    """The run of ``main`` inside the output folder's lock: the folder's checks, then the run; every error a
    one-line message (exit 2)."""
    if spread.chief and holds_model(out) and not args.overwrite:
        parser.exit(2, f"error: {out} holds a zoo model already: pass --overwrite to replace it (the new model keeps "
                       "none of its files), or choose another --out folder.\n")
    if not args.resume and holds_checkpoint(out):
        parser.exit(2, f"error: {out} holds a checkpoint of an unfinished run: pass --resume to continue it, or "
                       "choose another --out folder.\n")
    keras.config.set_dtype_policy(precision)
    try:
        data = load_dataset(config["dataset"], args.data_dir)
    except (OSError, ValueError) as error:
        parser.exit(2, f"error: {error}\n")
    written = out if spread.chief else worker_folder(out, args.resume)
    try:
        with spread.scope():
            return run(config, data, written, args, spread)
    except (RunError, ValueError, OSError) as error:  # a config mistake found late, a full disk: one line
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        parser.exit(2, f"error: {message}\n")
    finally:
        if written != out:
            shutil.rmtree(written, ignore_errors=True)


if __name__ == "__main__":
    main()
