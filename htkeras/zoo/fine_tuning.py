"""Fine-tuning a zoo classifier on labels of your own, fast: ``fine_tune``.

A model with a frozen pretrained front-end (the ``fsdd-embedding-*`` models' speech embedding) computes the
same features of a clip in every epoch when trained with ``fit``; ``fine_tune`` computes them once (over the
clips and their augmented copies) and trains only what follows the front-end on them, then returns the whole
model, waveform in. ``zoo.load(handle, num_classes=K)`` followed by ``fit`` stays the plain Keras route to the
same model; this one is faster by the front-end's share of an epoch (``benchmarks/fine_tune_speed.py``).
"""

from __future__ import annotations

import keras
import numpy as np

from ..data.augment import augment_waveforms
from ..models import CLASSIFIER_HEAD, compile_model, split_backbone
from .loading import check_finite, load, remember
from .resolver import resolve


def _class_ids(y, num_classes: int, name: str) -> np.ndarray:
    y = np.asarray(y).reshape(-1)
    if y.dtype.kind not in "iu" or y.size == 0 or y.min() < 0 or y.max() >= num_classes:
        span = f" from {y.min()} to {y.max()}" if y.size and y.dtype.kind in "iuf" else ""
        got = f"{y.size} values of type {y.dtype}{span}"
        raise ValueError(f"{name} must hold class indices from 0 to {num_classes - 1} (an index into labels for each "
                         f"example), got {got}.")
    return y


def _inputs(zoo_model, x, name: str) -> np.ndarray:
    x = check_finite(x, name)
    shape = tuple(zoo_model.spec["input_shape"])
    if x.shape[1:] != shape:
        raise ValueError(f"{name} has shape {x.shape}; {zoo_model.name} takes (N, {', '.join(map(str, shape))}): "
                         f"htkeras.zoo.preprocess({zoo_model.name!r}, raw inputs, ...) gives it.")
    return x


def _new_head(model: keras.Model) -> None:
    """Draw the output layer's weights anew (new labels, as many as the base's: its kernel means nothing)."""
    head = model.get_layer(CLASSIFIER_HEAD)
    head.kernel.assign(head.kernel_initializer(head.kernel.shape))
    head.bias.assign(np.zeros(head.bias.shape, "float32"))


def fine_tune(handle, x, y, *, labels, epochs: int = 10, batch_size: int = 32, validation_data=None,
              augment: int = 0, learning_rate: float | None = None, callbacks=None, seed: int = 0,
              verbose: int = 0) -> keras.Model:
    """The zoo classifier ``handle`` trained on ``(x, y)`` with the class names ``labels``; returns the whole
    model (the front-end and the trained head in one ``keras.Model``, the same input as the zoo model's),
    compiled, which ``zoo.save``, ``zoo.push`` and ``htkeras.export.export`` take as they are (its labels
    included).

    ``x``: the model's input batch (``zoo.preprocess(handle, raw inputs, sample_rate=...)``); ``y``: class
    indices into ``labels``. A model with a frozen pretrained front-end (a backbone) computes its features of
    ``x`` (and of ``validation_data``'s inputs) once and trains the layers after it on them; any other model
    is trained whole by ``fit``. ``augment=N``: N augmented copies of every training clip besides the clip
    (``htkeras.data.augment``: speed, time shift, room, gain, noise; waveform-input models only). ``learning_rate``:
    default the base model's training rate. ``callbacks``: passed to ``fit`` (a ``keras.callbacks.History``
    among them keeps the curves). ``seed``: the new head's initial weights and the augmentation.
    The output layer is always new when ``labels`` differ from the base model's.
    """
    zoo_model = resolve(handle)
    if not zoo_model.is_classifier:
        raise ValueError(f"{zoo_model.name} predicts the next frame; it has no classes to fine-tune.")
    labels = [str(label) for label in labels]
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ValueError(f"labels must be two or more different class names, got {labels[:10]}.")
    x, y = _inputs(zoo_model, x, "x"), _class_ids(y, len(labels), "y")
    if len(x) != len(y):
        raise ValueError(f"x holds {len(x)} examples but y {len(y)} labels.")
    validation = None
    if validation_data is not None:
        validation = (_inputs(zoo_model, validation_data[0], "validation_data[0]"),
                      _class_ids(validation_data[1], len(labels), "validation_data[1]"))
    waveform_in = zoo_model.dataset.get("input") == "waveform"
    if augment and not waveform_in:
        raise ValueError(f"augment= makes new copies of waveforms; {zoo_model.name} takes "
                         f"{zoo_model.metrics['data']['features']}.")
    if augment:
        copies, index = augment_waveforms(x, augment, int(zoo_model.dataset.get("sample_rate", 16000)), seed)
        x, y = np.concatenate([x, copies]), np.concatenate([y, y[index]])

    keras.utils.set_random_seed(seed)
    model = load(zoo_model, num_classes=len(labels))
    if labels != zoo_model.labels and len(labels) == len(zoo_model.labels):
        _new_head(model)
    trained = model
    if zoo_model.spec.get("backbone"):
        backbone, trained = split_backbone(model)  # shares the model's layers: training it trains the model
        x = backbone.predict(x, batch_size=64, verbose=0)
        validation = None if validation is None else (backbone.predict(validation[0], batch_size=64, verbose=0),
                                                      validation[1])
    training = dict(zoo_model.config.get("training", {}))
    if learning_rate is not None:
        training["learning_rate"] = float(learning_rate)
    compile_model(trained, zoo_model.spec, training)
    trained.fit(x, y, epochs=int(epochs), batch_size=int(batch_size), validation_data=validation, shuffle=True,
                callbacks=callbacks, verbose=verbose)
    if trained is not model:
        compile_model(model, zoo_model.spec, training)
    remember(model, zoo_model, labels)
    return model
