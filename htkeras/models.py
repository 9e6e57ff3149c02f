"""Model builders shared by the training scripts and the zoo: a model is plain data (a spec) plus weights.

``build_classifier(spec)`` builds, from a JSON-safe dict::

    {"kind": "fdht", "cell": "lstm", "units": 32, "ranks": 4, "options": {},   # htkeras.make_cell
     "input_shape": [40, 40], "num_classes": 10}

the model ``features (T, F) -> Masking(0) -> RNN(cell) -> Dense(num_classes, softmax)``. All-zero frames
are padding (the FSDD features are zero-padded at the end).
"""

from __future__ import annotations

import keras

from .factory import make_cell

SPEC_KEYS = {"kind", "cell", "units", "ranks", "options", "input_shape", "num_classes"}


def build_classifier(spec: dict) -> keras.Model:
    """The (uncompiled) sequence classifier described by ``spec`` (see the module docstring)."""
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        raise ValueError(f"Unknown model spec keys {sorted(unknown)}; known: {sorted(SPEC_KEYS)}.")
    ranks = None if spec["kind"] == "dense" else spec.get("ranks", 4)
    cell = make_cell(spec["kind"], int(spec["units"]), spec.get("cell", "lstm"), ranks=ranks, **spec.get("options", {}))
    name = f"{spec['kind']}_{spec.get('cell', 'lstm')}"
    return keras.Sequential(
        [
            keras.Input(tuple(spec["input_shape"]), name="features"),
            keras.layers.Masking(0.0, name="padding_mask"),
            keras.layers.RNN(cell, name=name),
            keras.layers.Dense(int(spec["num_classes"]), activation="softmax", name="label"),
        ],
        name=name,
    )
