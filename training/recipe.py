"""What a config's ``training`` section may add to plain Adam on cross-entropy: a teacher to distil from, a
dense model to start from, augmented copies, a learning-rate schedule, and several seeds for cross-validation.

* ``"teacher": "<zoo name | folder | hf://...>"`` with ``"distill": {"alpha": 0.3, "temperature": 4}``: the
  loss is ``htkeras.distillation``'s (``alpha`` on the labels, ``1 - alpha`` on the teacher's softened
  outputs). The teacher must have been trained on the same dataset config and labels; its outputs are
  computed once per example (``Reference.outputs``). In cross-validation a teacher that saw the held-out group
  would pass on what it learnt from it, so each fold distils from a teacher of the same recipe (its spec,
  training section and epoch count) retrained without that group (``Reference.for_fold``), once per fold.
* ``"init": "<dense zoo model>"``: the factorized model starts from the trained dense one (``initialize``:
  its recurrent layer converted by ``htkeras.from_rnn``, HT-SVD at the cell's ranks; the other layers
  copied), then trains as usual. In cross-validation, as a teacher, it is retrained without the held-out group.
* ``"schedule": {"warmup_epochs": 2, "decay": "cosine", "epochs": 40}``: the learning rate rises linearly
  from 0 over the warm-up, then follows a cosine to 0 at ``epochs`` (default: ``cv_epochs``, else
  ``epochs``). The schedule is a function of the epoch (``EpochSchedule``), so a final run stopped at the
  epoch count that cross-validation chose has had the learning rates that the folds had up to that epoch.
* ``"augment": {"copies": 4, ...}``: augmented copies of every clip for a head on a frozen backbone's
  features (``training.augmented``).
* ``"cv_seeds": 3``: cross-validation trains every fold with seeds ``seed, seed + 1, ...``, chooses the epoch
  count on the mean over all of them, and reports the spread between seeds.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from htkeras.distillation import check_distill, distillation_loss, packed_accuracy
from htkeras.models import adapt_features, build_model, compile_model, head_spec, split_backbone
from htkeras.zoo import load
from htkeras.zoo.resolver import resolve

from .augmented import settings
from .checkpoint import RunError

DECAYS = ("cosine", "constant")
MAX_SEEDS = 10


def check_recipe(training: dict, where: str) -> None:
    """The recipe keys of a ``training`` section, checked before any data is read (a ValueError naming
    ``where`` and the key)."""
    for key in ("teacher", "init"):
        if key in training and (not isinstance(training[key], str) or not training[key]):
            raise ValueError(f"{where}: training.{key} must name a zoo model, a folder or an hf:// repo.")
    if "teacher" in training:
        distill = training.get("distill", {})
        if not isinstance(distill, dict):
            raise ValueError(f"{where}: training.distill must be an object with alpha and temperature.")
        check_distill(distill.get("alpha", 0.5), distill.get("temperature", 4.0), f"{where}: training.distill")
    elif "distill" in training:
        raise ValueError(f"{where}: training.distill needs a training.teacher to distil from.")
    schedule = training.get("schedule")
    if schedule is not None:
        if not isinstance(schedule, dict) or schedule.get("decay", "cosine") not in DECAYS:
            raise ValueError(f"{where}: training.schedule must be an object whose decay is one of {', '.join(DECAYS)}.")
        for key in ("warmup_epochs", "epochs"):
            value = schedule.get(key, 1 if key == "epochs" else 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 100_000:
                raise ValueError(f"{where}: training.schedule.{key} must be a whole number of epochs, got {value!r}.")
    if "augment" in training:
        settings(training, f"{where}: training.augment")
    seeds = training.get("cv_seeds", 1)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise ValueError(f"{where}: training.cv_seeds must be a whole number from 1 to {MAX_SEEDS}, got {seeds!r}.")


def seeds(training: dict) -> list:
    """The seeds cross-validation trains each fold with."""
    first = int(training.get("seed", 0))
    return list(range(first, first + int(training.get("cv_seeds", 1))))


@keras.saving.register_keras_serializable(package="htkeras_training")
class EpochSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up over ``warmup_epochs``, then a cosine from ``peak`` down to 0 at ``epochs`` (or the
    constant ``peak`` with ``decay="constant"``), as a function of the fractional epoch
    ``step / steps_per_epoch``."""

    def __init__(self, peak, steps_per_epoch, warmup_epochs=0, epochs=1, decay="cosine"):
        self.peak, self.steps_per_epoch = float(peak), int(steps_per_epoch)
        self.warmup_epochs, self.epochs, self.decay = int(warmup_epochs), max(1, int(epochs)), decay

    def __call__(self, step):
        epoch = keras.ops.cast(step, "float32") / float(self.steps_per_epoch)
        warm = keras.ops.minimum(1.0, (epoch + 1.0 / self.steps_per_epoch) / max(self.warmup_epochs, 1e-9))
        if self.decay == "constant":
            return self.peak * warm
        span = max(self.epochs - self.warmup_epochs, 1)
        progress = keras.ops.clip((epoch - self.warmup_epochs) / span, 0.0, 1.0)
        return self.peak * warm * 0.5 * (1.0 + keras.ops.cos(math.pi * progress))

    def get_config(self):
        return {"peak": self.peak, "steps_per_epoch": self.steps_per_epoch, "warmup_epochs": self.warmup_epochs,
                "epochs": self.epochs, "decay": self.decay}


def learning_rate(training: dict, examples: int):
    """The learning rate of a run on ``examples`` examples: the ``EpochSchedule`` the section names, or its
    constant ``learning_rate``."""
    rate, schedule = float(training.get("learning_rate", 0.01)), training.get("schedule")
    if schedule is None:
        return rate
    horizon = schedule.get("epochs") or training.get("cv_epochs") or training.get("epochs")
    steps = max(1, math.ceil(examples / int(training.get("batch_size", 32))))
    return EpochSchedule(rate, steps, schedule.get("warmup_epochs", 0), int(horizon), schedule.get("decay", "cosine"))


def compiled(spec: dict, training: dict, examples: int) -> keras.Model:
    """``spec``'s model compiled for a run on ``examples`` examples: ``compile_model``'s recipe with the
    schedule's learning rate, and the distillation loss when the section names a teacher (``y``: ``pack``ed
    labels)."""
    model = compile_model(build_model(spec), spec, training, rate=learning_rate(training, examples))
    if "teacher" in training:
        distill = training.get("distill", {})
        head = spec.get("head", "label")
        loss = distillation_loss(head, distill.get("alpha", 0.5), distill.get("temperature", 4.0))
        metrics = [keras.metrics.MeanMetricWrapper(packed_accuracy, name="accuracy")] if head == "label" else None
        model.compile(model.optimizer, loss, metrics=metrics)
    return model


def accuracy(model: keras.Model, x, y, batch_size: int = 256) -> float:
    """The share of ``x`` that ``model`` labels as ``y`` (whatever loss it was compiled with)."""
    return float((model.predict(x, batch_size=batch_size, verbose=0).argmax(axis=-1) == np.asarray(y)).mean())


def without_speakers(dataset) -> dict:
    """A dataset config without its choice of speakers (which examples, not how they are prepared)."""
    return {key: value for key, value in (dataset or {}).items() if key != "speakers"}


class Reference:
    """A trained zoo model a run builds on (``training.teacher`` to distil from, ``training.init`` to start
    from), checked against the run's config: the same dataset config (but for a choice of speakers) and labels.
    ``key`` names the setting in messages."""

    def __init__(self, handle: str, config: dict, key: str = "teacher"):
        try:
            self.zoo_model = resolve(handle)
        except (OSError, ValueError) as error:
            raise RunError(f"training.{key} {handle!r}: {str(error).splitlines()[0]}") from None
        record = self.zoo_model.config
        if without_speakers(record.get("dataset")) != without_speakers(config["dataset"]):
            raise RunError(f"training.{key} {handle!r} was trained on the dataset config {record.get('dataset')}, not "
                           f"{config['dataset']}: it was made for other inputs.")
        self.handle, self.key, self.record = handle, key, record
        self.model = load(self.zoo_model)

    def check_labels(self, labels) -> None:
        if self.zoo_model.is_classifier and list(self.zoo_model.labels) != list(labels):
            raise RunError(f"training.{self.key} {self.handle!r} has the labels {self.zoo_model.labels}, not the data's "
                           f"{list(labels)}.")

    def head(self, plan) -> keras.Model:
        """The model that takes what the student is trained on (``plan.data.x``): the zoo model, or its head
        when both have the same frozen backbone (whose features the student is trained on)."""
        if plan.raw is None:
            return self.model
        if self.record["model_spec"].get("backbone") != plan.spec.get("backbone"):
            raise RunError(f"training.{self.key} {self.handle!r} has another front-end than the student "
                           f"({plan.spec.get('backbone')}); use a model on the same frozen backbone.")
        return split_backbone(self.model)[1]

    def outputs(self, plan) -> np.ndarray:
        """The teacher's probabilities of every example of a run's ``plan`` (``training.train.Plan``: the
        augmented copies too), once."""
        return self.head(plan).predict(plan.data.x, batch_size=256, verbose=0)

    def for_fold(self, student_spec: dict, x, y, seed: int) -> keras.Model:
        """The model's recipe (spec, training section, epoch count) retrained on one fold's training inputs
        ``x`` (the student's inputs: features of the same frozen backbone, or the same raw inputs), so that a
        fold never builds on a model that saw its held-out group."""
        spec, training = self.record["model_spec"], dict(self.record.get("training", {}))
        if spec.get("backbone") != student_spec.get("backbone"):
            raise RunError(f"Cross-validating with training.{self.key} {self.handle!r} retrains it in each fold, which "
                           "needs the same inputs as the student (the same frozen backbone, or none).")
        if spec.get("backbone"):
            spec = head_spec(spec, x.shape[1:])
        for key in ("teacher", "init", "augment"):
            training.pop(key, None)
        training.update({"seed": seed, "cv_seeds": 1})
        keras.utils.set_random_seed(seed)
        model = compiled(spec, training, len(x))
        adapt_features(model, x)
        epochs = int(self.zoo_model.metrics.get("epochs") or 1)
        model.fit(x, y, batch_size=int(training.get("batch_size", 32)), epochs=epochs, verbose=0)
        return model


def padded(value: np.ndarray, shape: tuple, name: str) -> np.ndarray:
    """A converted weight zero-padded to the cell's ``shape``: a rank that the conversion found above a node's
    full rank (where more adds nothing) gets zero components, which leave the product unchanged."""
    if value.shape == shape:
        return value
    if len(value.shape) != len(shape) or any(have > want for have, want in zip(value.shape, shape)):
        raise RunError(f"training.init: a converted weight of {name} has the shape {value.shape}, not the cell's {shape}.")
    return np.pad(value, [(0, want - have) for have, want in zip(value.shape, shape)])


def initialize(model: keras.Model, spec: dict, trained: keras.Model) -> dict:
    """Start the factorized ``model`` (of ``spec``) from the ``trained`` dense one: its recurrent layer
    converted by ``htkeras.from_rnn`` at the cell's ranks and modes (HT-SVD for HT maps), every other layer
    with weights (standardization, classifier) copied where the names and shapes match. A RunError where the
    shapes do not allow it (another number of units). Returns ``{"relative_error": ...}`` of the conversion."""
    from htkeras.convert import from_rnn

    rnn = next(layer for layer in model.layers if isinstance(layer, keras.layers.RNN))
    source = next((layer for layer in trained.layers if isinstance(layer, keras.layers.RNN)), None)
    if source is None or source.cell.units != rnn.cell.units:
        raise RunError(f"training.init: {trained.name} has no recurrent layer of {rnn.cell.units} units to convert; "
                       "conversion keeps the number of units.")
    cell = rnn.cell.get_config()
    options = {key: cell[key] for key in ("input_modes", "hidden_modes", "map_options", "num_modes") if cell.get(key)}
    converted, report = from_rnn(source, spec["kind"], rank=cell["ranks"], **options)
    for variable, value in zip(rnn.cell.weights, converted.cell.get_weights()):
        variable.assign(padded(value, tuple(variable.shape), trained.name))
    names = {layer.name: layer for layer in model.layers}
    for layer in trained.layers:
        target = names.get(layer.name)
        if layer is not source and layer.weights and target is not None and target is not rnn:
            if [w.shape for w in layer.weights] == [w.shape for w in target.weights]:
                target.set_weights(layer.get_weights())
                if hasattr(target, "finalize_state"):
                    target.finalize_state()
    return {"relative_error": float(report.relative_error)}
