"""The trainable spectrogram front-end of the CNN + HT-LSTM audio models: the shared layer harness, the
padding mask passed through to the recurrent layer, and its place in a model spec."""

import keras
import numpy as np
import pytest

from htkeras.backbones import SpectrogramConv
from htkeras.models import build_model

from .harness import check_model


def test_layer_harness(tmp_path, rng):
    x = rng.standard_normal((4, 6, 12)).astype("float32")

    def make():
        inputs = keras.Input((6, 12))
        return keras.Model(inputs, SpectrogramConv((3, 5), kernel_size=3)(inputs))

    model = check_model(make, x, expected_trainable=(9 * 1 * 3) + 3 * 2 + (9 * 3 * 5) + 5 * 2, tmp_path=tmp_path)
    assert model.output_shape == (None, 6, (12 // 4) * 5)


def test_padding_mask_reaches_the_rnn():
    """With Masking in front, zero frames appended at the end change nothing (the RNN skips them); the
    same frames without the mask do change the output."""
    spec = {"kind": "ht", "cell": "lstm", "units": 8, "ranks": 2, "input_shape": [None, 16], "num_classes": 3,
            "frontend": {"filters": [4], "kernel_size": 3}}
    model = build_model(spec)
    x = np.random.default_rng(0).standard_normal((2, 5, 16)).astype("float32")
    padded = np.concatenate([x, np.zeros((2, 3, 16), "float32")], axis=1)
    np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(padded, verbose=0), atol=1e-6)
    frames = keras.Input((None, 16))
    outputs = frames
    for layer in model.layers[1:]:  # the same layers without the Masking in front
        outputs = layer(outputs)
    unmasked = keras.Model(frames, outputs)
    assert np.abs(unmasked.predict(x, verbose=0) - unmasked.predict(padded, verbose=0)).max() > 1e-4


def test_spec_errors():
    with pytest.raises(ValueError, match="at least one entry"):
        SpectrogramConv(())
