"""Using a zoo model: ``load`` (compiled, ready to ``fit``), ``preprocess`` (raw inputs -> the input batch, as
bound to the weights) and ``load_data`` (the model's own real data). Each takes a handle or a ``ZooModel``
(``resolve``); ``origin(model)`` says which ``ZooModel`` a loaded ``keras.Model`` came from."""

from __future__ import annotations

import weakref

import keras
import numpy as np

from ..checked_weights import load_weights
from ..math.tree import positive_int
from ..models import CLASSIFIER_HEAD, build_model, compile_model, copy_layer_weights
from .artifact import ZooModel
from .resolver import resolve
from .tasks import get_task

_ORIGINS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


_LABELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def origin(model: keras.Model) -> ZooModel | None:
    """The ``ZooModel`` that ``load`` built ``model`` from (and a fine-tuned model keeps), or None."""
    return _ORIGINS.get(model)


def model_labels(model: keras.Model) -> list | None:
    """The class names of ``model``: those ``fine_tune`` trained it on, else its zoo origin's when its output
    has as many classes, else None."""
    if model in _LABELS:
        return _LABELS[model]
    zoo_model = origin(model)
    if zoo_model is not None and zoo_model.is_classifier and len(zoo_model.labels) == model.output_shape[-1]:
        return zoo_model.labels
    return None


def remember(model: keras.Model, zoo_model: ZooModel, labels: list | None = None) -> None:
    """Record where ``model`` came from (and the ``labels`` it was fine-tuned on) for ``save`` and ``export``."""
    _ORIGINS[model] = zoo_model
    if labels is not None:
        _LABELS[model] = list(labels)


def load(handle, num_classes: int | None = None, freeze: bool = False, train_backbone: bool = False) -> keras.Model:
    """The pretrained model, compiled (``htkeras.models.compile_model``, the training recipe: Adam at the
    training learning rate; a classifier with sparse cross-entropy and accuracy, a next-step model with
    binary cross-entropy per key) so that ``fit`` and ``evaluate`` work as they are.

    ``num_classes``: replace the classification head (the layer named ``label``) with a new one of that size
    (fine-tuning on another label set): the zoo architecture with ``num_classes`` outputs, every other
    layer's pretrained weights copied by name, so that ``zoo.save``, ``export`` and ``split_backbone`` take
    it as they take the zoo model. ``freeze``: keep every layer but the head fixed. A pretrained backbone (the
    speech embedding) stays frozen unless ``train_backbone`` (its signal-processing constants are never
    trained).
    """
    zoo_model = resolve(handle)
    num_classes = None if num_classes is None else positive_int(num_classes, "num_classes")
    model = build_model(zoo_model.spec)
    load_weights(model, zoo_model.weights)  # the file's shapes checked against the model's first
    if not zoo_model.is_classifier and num_classes is not None:
        raise ValueError(f"{zoo_model.name} predicts the next frame; it has no classes to replace.")
    if num_classes is not None and num_classes != zoo_model.spec["num_classes"]:
        pretrained, model = model, build_model({**zoo_model.spec, "num_classes": num_classes})
        copy_layer_weights(pretrained, model, skip={CLASSIFIER_HEAD})
    compile_model(model, zoo_model.spec, zoo_model.config.get("training"), freeze, train_backbone)
    remember(model, zoo_model)  # zoo.save takes the preprocessing and architecture from it
    return model


def load_data(handle, data_dir=None, speakers=None, verbose: int = 0):
    """The real data of the model's dataset in its input format, ``(x, y, groups)``, read from ``data_dir``
    (default ``HTKERAS_DATA`` or ``../shared/data``): FSDD: every recording (or those of ``speakers``) with
    the speaker names as groups (``verbose=1``: a progress bar); Fashion-MNIST and UEA sets: the published
    test split, groups ``None``; a next-step model (piano rolls): its published test split ``(x, y, mask)``
    (``htkeras.data.buckets.model_nll`` scores it)."""
    zoo_model = resolve(handle)
    task = get_task(zoo_model.dataset["name"])
    if zoo_model.has_own_labels:
        raise ValueError(f"{zoo_model.name} predicts its own labels ({', '.join(zoo_model.labels[:5])}, ...), not those "
                         f"of {zoo_model.metrics['data']['name']}; its evaluation data is "
                         f"{zoo_model.config['evaluation_data']}. Measure it on matching data yourself (zoo.load(...)"
                         ".evaluate(x, y); export with data=(x, y)).")
    if task.evaluation is None:
        raise ValueError(f"No loader for a model trained on {task.name!r}; pass the data yourself.")
    return task.evaluation(zoo_model, data_dir, speakers, verbose)


def preprocess(handle, inputs, sample_rate: int | None = None) -> np.ndarray:
    """The model input batch for raw ``inputs``, by the model's dataset:

    * FSDD: a list of float waveforms in [-1, 1] at ``sample_rate`` (required: the rate they were recorded
      at; resampled by polyphase filtering) ->
      log-mel frames ``(N, frames, mels)`` at 8 kHz, or for the ``fsdd-embedding-*`` models (waveform in)
      ``(N, 24000)``: 16 kHz, each clip fitted to 1.5 s (a shorter one centred between zeros, a longer one cut
      around its speech); empty or NaN waveforms are refused, silent ones and ones shorter than a word
      (``MIN_WORD_SECONDS``) named in a warning;
    * Fashion-MNIST: uint8 images ``(N, 28, 28)`` -> row or patch sequences scaled to [-1, 1];
    * UEA: a list of ``(T_i, D)`` series (or a padded ``(N, T, D)`` array) -> zero-padded at the end to the
      model's input length and standardized with the training statistics in htkeras.json.

    Inputs that hold NaN or infinite values are refused, whatever the format: they have no label.
    """
    zoo_model = resolve(handle)
    task = get_task(zoo_model.dataset["name"])
    if task.preprocess is None:
        raise ValueError(f"No preprocessing for a model trained on {task.name!r}.")
    return check_finite(task.preprocess(zoo_model, inputs, sample_rate), "the inputs")


def check_finite(batch, name: str) -> np.ndarray:
    """``batch`` as a float32 array, refused (ValueError naming ``name``) when it is empty or holds NaN or
    infinite values: no label of such an input means anything."""
    batch = np.asarray(batch, np.float32)
    if batch.size == 0:
        raise ValueError(f"No values in {name} (empty): there is nothing to classify.")
    if not np.isfinite(batch).all():
        raise ValueError(f"NaN or infinite values in {name}: there is nothing to classify.")
    return batch
