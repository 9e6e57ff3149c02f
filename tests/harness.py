"""Shared checks for every htkeras layer and cell (KerasHub-style harness).

``check_model`` runs, on a small model built around the layer under test:
symbolic call (functional model), eager call == predict, ``get_config``/``from_config`` round trip,
``.keras`` save -> load -> identical outputs, trainable-weight count == the formula, one ``fit`` step
that changes every trainable weight, for a model with factorized layers Keras' ``quantize("int8")``
(``check_int8``), and for a model whose cells have dropout its training-only masks (``check_dropout``).
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
    check_int8(model, x, tmp_path)
    check_dropout(make_model, x, tmp_path)
    return model


def without_dropout(config):
    """A copy of a model ``config`` whose cells have no dropout."""
    if isinstance(config, list):
        return [without_dropout(item) for item in config]
    if not isinstance(config, dict):
        return config
    return {key: 0.0 if key in ("dropout", "recurrent_dropout") else without_dropout(value) for key, value in config.items()}


def check_dropout(make_model, x, tmp_path):
    """For a model whose RNN cells have ``dropout`` or ``recurrent_dropout``: in inference it computes as the
    same model without dropout; in training the outputs change, the same seed gives the same ones, and a saved
    model reloads with the same rates and seed."""
    model = make_model()
    cells = [layer for layer in model._flatten_layers() if hasattr(layer, "recurrent_dropout")]
    rates = [(cell.dropout, cell.recurrent_dropout, cell.seed) for cell in cells]
    if not any(dropout or recurrent for dropout, recurrent, _ in rates):
        return
    config = model.get_config()
    plain = keras.Model.from_config(without_dropout(config))
    plain.set_weights(model.get_weights())
    inference = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(inference, keras.ops.convert_to_numpy(plain(x, training=True)), atol=1e-6)
    trained = keras.ops.convert_to_numpy(model(x, training=True))
    assert np.abs(trained - inference).max() > 1e-3, "dropout left the training outputs unchanged"
    twin = keras.Model.from_config(config)  # a fresh seed generator with the same seed
    twin.set_weights(model.get_weights())
    again = make_model()
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(twin(x, training=True)),
                               keras.ops.convert_to_numpy(again(x, training=True)), atol=1e-6)
    path = tmp_path / "dropout.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    cells = [layer for layer in loaded._flatten_layers() if hasattr(layer, "recurrent_dropout")]
    assert [(cell.dropout, cell.recurrent_dropout, cell.seed) for cell in cells] == rates


def check_int8(model, x, tmp_path, relative=0.05):
    """``model.quantize("int8")`` on a copy reaches every factorized layer (inside RNN cells too): its factors
    become int8 with scales, its outputs stay within ``relative`` of the float ones (of their largest
    magnitude), and the quantized model saves and loads with the same outputs (``fit`` on a quantized zoo
    model: ``test_keras_native``)."""
    import warnings

    from htkeras.layers.factorized import FactorizedDense

    factorized = [layer for layer in model._flatten_layers() if isinstance(layer, FactorizedDense)]
    if not factorized:
        return
    quantized = keras.Model.from_config(model.get_config())
    quantized.set_weights(model.get_weights())
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not have a `quantize` method")  # Keras' own layers
        quantized.quantize("int8")
    layers = [layer for layer in quantized._flatten_layers() if isinstance(layer, FactorizedDense)]
    assert all(layer.quantization_mode == "int8" and all(f.dtype == "int8" for f in layer.factors) for layer in layers)
    expected, got = (keras.ops.convert_to_numpy(m(x)) for m in (model, quantized))  # eager: nothing to compile
    error = np.abs(got - expected).max() / max(np.abs(expected).max(), 1e-6)
    assert error < relative, f"int8 factors move the outputs by {error:.3f} of their scale"
    path = tmp_path / "int8.keras"
    quantized.save(path)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(keras.saving.load_model(path)(x)), got)
