"""Shared checks for every htkeras layer and cell (KerasHub-style harness).

``check_model`` runs, on a small model built around the layer under test:
symbolic call (functional model), eager call == predict, ``get_config``/``from_config`` round trip,
``.keras`` save -> load -> identical outputs, trainable-weight count == the formula, and one ``fit`` step
that changes every trainable weight.
"""

import math

import keras
import numpy as np


def check_model(make_model, x, expected_trainable, tmp_path, y=None, atol=1e-5):
    model = make_model()
    symbolic = model.outputs[0] if hasattr(model, "outputs") and model.outputs else None
    assert symbolic is not None, "the model must be functional (built on keras.Input)"

    eager = keras.ops.convert_to_numpy(model(x))
    predicted = model.predict(x, verbose=0)
    np.testing.assert_allclose(eager, predicted, atol=atol, rtol=1e-5)
    assert tuple(symbolic.shape[1:]) == predicted.shape[1:]

    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    assert trainable == expected_trainable, f"trainable weights {trainable} != formula {expected_trainable}"

    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x, verbose=0), predicted, atol=atol, rtol=1e-5)

    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), predicted)

    before = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    y = np.random.default_rng(1).standard_normal(predicted.shape).astype(predicted.dtype) if y is None else y
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    model.fit(x, y, batch_size=len(x), epochs=1, verbose=0)
    unchanged = [w.path for w, b in zip(model.trainable_weights, before) if np.array_equal(keras.ops.convert_to_numpy(w), b)]
    assert not unchanged, f"one fit step left these weights unchanged: {unchanged}"
    return model
