"""Model builders shared by the training scripts and the zoo: a model is plain data (a spec) plus weights.

``build_model(spec)`` builds, from a JSON-safe dict::

    {"kind": "fdht", "cell": "lstm", "units": 32, "ranks": 4, "options": {},   # htkeras.make_cell
     "input_shape": [40, 40], "num_classes": 10}

optionally a trainable convolutional front-end (``"frontend": {"filters": [8, 16], "kernel_size": 3}``,
``htkeras.layers.SpectrogramConv``) between the input and the RNN, and one of two heads (``"head"``):

* ``"label"`` (the default), a sequence classifier: ``features (T, F) -> Masking(0) [-> front-end] -> RNN(cell) ->
  Dense(num_classes, softmax)``. All-zero frames are padding (the FSDD features are zero-padded at the end).
* ``"next_step"``, a next-frame predictor for binary frames (piano rolls): ``frames (T, F) -> RNN(cell,
  return_sequences) -> Dense(num_outputs, sigmoid)`` per step; no masking (an all-zero frame is a rest), so
  padding at the end is left out of the loss by sample weights.

The RNN is ``htkeras.RNN`` for the factorized cells (their state-independent work once per sequence).
"""

from __future__ import annotations

import keras

from .backbones.spectrogram_conv import SpectrogramConv
from .cells import RNN, FactorizedRNNCell
from .factory import make_cell

HEADS = ("label", "next_step")
SPEC_KEYS = {"kind", "cell", "units", "ranks", "options", "input_shape", "num_classes", "num_outputs", "head",
             "frontend"}


def build_model(spec: dict) -> keras.Model:
    """The (uncompiled) model described by ``spec`` (see the module docstring)."""
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        raise ValueError(f"Unknown model spec keys {sorted(unknown)}; known: {sorted(SPEC_KEYS)}.")
    head = spec.get("head", "label")
    if head not in HEADS:
        raise ValueError(f"Unknown head {head!r}; choose one of {HEADS}.")
    ranks = None if spec["kind"] == "dense" else spec.get("ranks", 4)
    cell = make_cell(spec["kind"], int(spec["units"]), spec.get("cell", "lstm"), ranks=ranks, **spec.get("options", {}))
    name = f"{spec['kind']}_{spec.get('cell', 'lstm')}"
    rnn = RNN if isinstance(cell, FactorizedRNNCell) else keras.layers.RNN
    frontend = [SpectrogramConv(**spec["frontend"], name="conv_frontend")] if spec.get("frontend") else []
    if head == "next_step":
        layers = [
            keras.Input(tuple(spec["input_shape"]), name="frames"),
            *frontend,
            rnn(cell, return_sequences=True, name=name),
            keras.layers.Dense(int(spec["num_outputs"]), activation="sigmoid", name="next_frame"),
        ]
    else:
        layers = [
            keras.Input(tuple(spec["input_shape"]), name="features"),
            keras.layers.Masking(0.0, name="padding_mask"),
            *frontend,
            rnn(cell, name=name),
            keras.layers.Dense(int(spec["num_classes"]), activation="softmax", name="label"),
        ]
    return keras.Sequential(layers, name=name)
