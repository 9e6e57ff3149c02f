"""Model builders shared by the training scripts and the zoo: a model is plain data (a spec) plus weights.

``build_model(spec)`` builds, from a JSON-safe dict::

    {"kind": "fdht", "cell": "lstm", "units": 32, "ranks": 4, "options": {},   # htkeras.make_cell
     "input_shape": [40, 40], "num_classes": 10}

optionally a trainable convolutional front-end (``"frontend": {"filters": [8, 16], "kernel_size": 3}``,
``htkeras.layers.SpectrogramConv``) between the input and the RNN, or a pretrained backbone by name
(``"backbone": "speech_embedding"``, ``BACKBONES``: raw input ``(samples,)`` -> the backbone, frozen ->
the RNN over its output sequence; no masking), and one of two heads (``"head"``):

* ``"label"`` (the default), a sequence classifier: ``features (T, F) -> Masking(0) [-> front-end] -> RNN(cell) ->
  Dense(num_classes, softmax)``. All-zero frames are padding (the FSDD features are zero-padded at the end);
  ``"masking": false`` leaves the masking out (a backbone's features are never padding);
  ``"normalize_features": true`` standardizes each feature before the RNN (``Normalization``, its mean and
  variance adapted on the training data by ``adapt_features``: the speech embedding's values reach about
  100, and a factorized cell's gates saturate on them).
* ``"next_step"``, a next-frame predictor for binary frames (piano rolls): ``frames (T, F) -> RNN(cell,
  return_sequences) -> Dense(num_outputs, sigmoid)`` per step; no masking (an all-zero frame is a rest), so
  padding at the end is left out of the loss by sample weights.

The RNN is ``htkeras.RNN`` for the factorized cells (their state-independent work once per sequence). The
output layer computes in float32 under any dtype policy: with mixed precision (``mixed_float16``,
``mixed_bfloat16``) everything before it runs in 16 bits, the probabilities and the loss in float32.
"""

from __future__ import annotations

import keras
import numpy as np

from .backbones.spectrogram_conv import SpectrogramConv
from .backbones.speech_embedding import SpeechEmbedding, speech_embedding
from .cells import RNN, FactorizedRNNCell
from .factory import make_cell
from .lookup import lookup

HEADS = ("label", "next_step")
OUTPUT_LAYERS = {"label": "label", "next_step": "next_frame"}  # each head's output layer, by name
CLASSIFIER_HEAD = OUTPUT_LAYERS["label"]  # what a new label set replaces
SPEC_KEYS = {"kind", "cell", "units", "ranks", "options", "input_shape", "num_classes", "num_outputs", "head",
             "frontend", "backbone", "masking", "normalize_features"}
# pretrained backbones by name: factory(weights, trainable) -> a built layer, and the ``weights`` value of its
# pretrained weights (``None`` instead: weights loaded afterwards, as a zoo model's weights file holds them)
BACKBONES = {"speech_embedding": speech_embedding}
PRETRAINED = {"speech_embedding": "google"}
BACKBONE_TYPES = (SpeechEmbedding,)  # the layer classes those factories make


def backbone_layer(spec: dict, pretrained: bool = False, trainable: bool = False) -> keras.layers.Layer:
    """The backbone that ``spec`` names, frozen unless ``trainable``; with its pretrained weights when
    ``pretrained`` (otherwise they come with the model's weights)."""
    name = spec["backbone"]
    factory = lookup(BACKBONES, name, "backbone")
    return factory(PRETRAINED[name] if pretrained else None, trainable)


def head_spec(spec: dict, feature_shape) -> dict:
    """The spec of the model without its backbone: what follows it, on the backbone's output ``feature_shape``
    (trained on features computed once by the frozen backbone)."""
    return {**{k: v for k, v in spec.items() if k != "backbone"}, "input_shape": list(feature_shape), "masking": False}


def with_backbone(spec: dict, head: keras.Model) -> keras.Model:
    """The whole model of ``spec``: its pretrained backbone, then the layers of the trained ``head`` (built from
    ``head_spec``), weights copied layer by layer (a layer missing or of another shape is an error)."""
    model = build_model(spec, pretrained=True)
    copy_layer_weights(head, model)
    return model


def copy_layer_weights(source: keras.Model, target: keras.Model, skip=()) -> None:
    """Copy the weights of every layer of ``source`` that has some into the layer of ``target`` with the same
    name (a layer missing or of other shapes is an error), except the layers named in ``skip``. A
    ``Normalization`` layer is refreshed after its copy (it computes its mean and variance from its weights
    only then: a plain ``set_weights`` of the whole model leaves the old ones in use)."""
    for layer in source.layers:
        if layer.weights and layer.name not in skip:
            copied = target.get_layer(layer.name)
            copied.set_weights(layer.get_weights())
            if hasattr(copied, "finalize_state"):
                copied.finalize_state()


def split_backbone(model: keras.Model) -> tuple:
    """``(backbone, head)`` of a model built with a backbone (``build_model``): two models sharing its layers
    and weights, raw input -> features and features -> probabilities (the device pattern: one embedding
    model, many small heads). A ValueError for a model without one."""
    first = model.layers[0] if isinstance(model, keras.Sequential) and model.layers else None
    if not isinstance(first, BACKBONE_TYPES):
        raise ValueError(f"{model.name} has no pretrained backbone to split off.")
    features = first.compute_output_shape(model.input_shape)
    backbone = keras.Sequential([keras.Input(model.input_shape[1:], name="waveform"), first], name=f"{model.name}_backbone")
    head = keras.Sequential([keras.Input(features[1:], name="features"), *model.layers[1:]], name=f"{model.name}_head")
    return backbone, head


def compile_model(model: keras.Model, spec: dict, training: dict | None = None, freeze: bool = False,
                  train_backbone: bool = False, rate=None) -> keras.Model:
    """``model`` (built from ``spec``) made ready to ``fit`` as training does and ``zoo.load`` gives it (the one
    compile recipe): every layer but the output layer trainable unless ``freeze``, a pretrained backbone frozen
    unless ``train_backbone``; Adam at the ``training`` section's ``learning_rate`` (default 0.001; gradients
    clipped to its ``clipnorm`` when given), sparse cross-entropy and accuracy for a classifier, binary
    cross-entropy per key for a next-step model. ``rate``: a learning rate or schedule instead of the section's
    (a training run's schedule). Returns ``model``."""
    training = training or {}
    output = OUTPUT_LAYERS[spec.get("head", "label")]
    for layer in model.layers:
        if layer.name != output:
            layer.trainable = not freeze and (train_backbone or layer.name != spec.get("backbone"))
    rate = float(training.get("learning_rate", 0.001)) if rate is None else rate
    optimizer = keras.optimizers.Adam(rate, clipnorm=training.get("clipnorm"))
    if spec.get("head") == "next_step":
        model.compile(optimizer, "binary_crossentropy")
    else:
        model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def zoo_copy(model: keras.Model, spec: dict, training: dict | None = None) -> keras.Model:
    """``model``'s weights in a fresh model of the zoo architecture ``spec``, as ``zoo.load`` gives it
    (``compile_model``, its optimizer built so that Keras' own ``load_model`` restores the same state): what a
    zoo folder's Keras files are written from. Copied layer by layer (``copy_layer_weights``) and checked: the
    same layers and weight shapes, the same outputs on a probe batch (a ValueError otherwise)."""
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")  # a zoo model is float32, whatever policy it was trained under
    try:
        target = build_model(spec)
    finally:
        keras.config.set_dtype_policy(policy)
    shapes = [tuple(w.shape) for w in model.weights], [tuple(w.shape) for w in target.weights]
    names = [layer.name for layer in model.layers if layer.weights], [layer.name for layer in target.layers if layer.weights]
    if shapes[0] != shapes[1] or names[0] != names[1]:
        raise ValueError(f"The model does not have the architecture of its zoo spec ({spec['kind']} "
                         f"{spec.get('cell', 'lstm')}, {spec['units']} units): layers {names[0]} with weight shapes "
                         f"{shapes[0]}, expected {names[1]} with {shapes[1]}.")
    copy_layer_weights(model, target)
    shape = [16 if size is None else size for size in spec["input_shape"]]  # any length where it is free
    probe = np.random.default_rng(0).standard_normal((2, *shape)).astype("float32")
    difference = float(np.abs(target.predict_on_batch(probe) - model.predict_on_batch(probe)).max())
    in_float32 = all(layer.compute_dtype == "float32" for layer in model.layers)
    if difference > (1e-5 if in_float32 else 5e-2):  # a model trained in 16 bits computes in 16 bits
        raise ValueError(f"The model rebuilt from its weights differs from it by {difference:.2e}: it computes "
                         "something its zoo architecture does not; nothing was written.")
    compile_model(target, spec, training)
    target.optimizer.build(target.trainable_variables)
    return target


def adapt_features(model: keras.Model, x) -> None:
    """Fit the model's feature standardization (``"normalize_features"``) to the training inputs ``x`` (the
    features it sees: after the backbone, for a head trained on them); nothing for a model without one."""
    if any(layer.name == "feature_norm" for layer in model.layers):
        model.get_layer("feature_norm").adapt(x)


def build_model(spec: dict, pretrained: bool = False) -> keras.Model:
    """The (uncompiled) model described by ``spec`` (see the module docstring); ``pretrained``: a backbone
    with its pretrained weights (otherwise they are loaded with the model's weights)."""
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        raise ValueError(f"Unknown model spec keys {sorted(unknown)}; known: {sorted(SPEC_KEYS)}.")
    head = spec.get("head", "label")
    if head not in HEADS:
        raise ValueError(f"Unknown head {head!r}; choose one of {HEADS}.")
    if spec.get("backbone") and (head != "label" or spec.get("frontend")):
        raise ValueError("A backbone is followed by the RNN and a label head, with no other front-end.")
    ranks = None if spec["kind"] == "dense" else spec.get("ranks", 4)
    cell = make_cell(spec["kind"], int(spec["units"]), spec.get("cell", "lstm"), ranks=ranks, **spec.get("options", {}))
    name = f"{spec['kind']}_{spec.get('cell', 'lstm')}"
    rnn = RNN if isinstance(cell, FactorizedRNNCell) else keras.layers.RNN
    frontend = [SpectrogramConv(**spec["frontend"], name="conv_frontend")] if spec.get("frontend") else []
    norm = [keras.layers.Normalization(axis=-1, name="feature_norm")] if spec.get("normalize_features") else []
    if head == "next_step":
        layers = [
            keras.Input(tuple(spec["input_shape"]), name="frames"),
            *frontend,
            rnn(cell, return_sequences=True, name=name),
            keras.layers.Dense(int(spec["num_outputs"]), activation="sigmoid", dtype="float32",
                               name=OUTPUT_LAYERS["next_step"]),
        ]
    elif spec.get("backbone"):
        layers = [
            keras.Input(tuple(spec["input_shape"]), name="waveform"),
            backbone_layer(spec, pretrained),
            *norm,
            rnn(cell, name=name),
            keras.layers.Dense(int(spec["num_classes"]), activation="softmax", dtype="float32", name=CLASSIFIER_HEAD),
        ]
    else:
        layers = [
            keras.Input(tuple(spec["input_shape"]), name="features"),
            *([keras.layers.Masking(0.0, name="padding_mask")] if spec.get("masking", True) else []),
            *norm,
            *frontend,
            rnn(cell, name=name),
            keras.layers.Dense(int(spec["num_classes"]), activation="softmax", dtype="float32", name=CLASSIFIER_HEAD),
        ]
    return keras.Sequential(layers, name=name)
