"""Export of the zoo models: TF Serving SavedModel, TFLite float and int8 (builtin ops only), each loaded
back and compared with Keras on the real FSDD recordings."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.lite.tools import flatbuffer_utils

import htkeras
from htkeras import zoo
from htkeras.deploy import FORMATS
from htkeras.deploy.export import export, interpreter, run_tflite

from .test_fsdd_training import _fsdd_or_skip

NAME = "fsdd-fdht-lstm"
INT8 = 9  # the TFLite tensor type


@pytest.fixture(scope="module")
def fsdd():
    _fsdd_or_skip()
    x, y, _ = zoo.load_data(NAME)
    return x, y


def test_saved_model_in_tf_serving_layout(fsdd, tmp_path):
    report = export(NAME, "saved_model", tmp_path, data=fsdd)
    version = tmp_path / NAME / "1"
    assert report.path == str(version)
    assert (version / "saved_model.pb").is_file() and (version / "variables").is_dir()
    assert report.max_abs_difference <= 1e-5 and report.exported_accuracy == report.keras_accuracy

    signature = tf.saved_model.load(str(version)).signatures["serving_default"]
    (spec,) = signature.structured_input_signature[1].values()
    assert spec.name == "features" and spec.shape.as_list() == [None, 40, 40]
    assert set(signature.structured_outputs) == {"probabilities", "class_id", "label"}
    assert (version / "assets" / "labels.txt").read_text().split() == [str(d) for d in range(10)]
    x, y = fsdd
    outputs = signature(features=tf.constant(x[:8]))
    np.testing.assert_allclose(outputs["probabilities"].numpy(), zoo.load(NAME).predict(x[:8], verbose=0), atol=1e-5)
    np.testing.assert_array_equal(outputs["class_id"].numpy(), outputs["probabilities"].numpy().argmax(axis=1))

    with pytest.raises(FileExistsError, match="--version"):
        export(NAME, "saved_model", tmp_path, data=fsdd)
    assert export(NAME, "saved_model", tmp_path, version=2, data=fsdd).path == str(tmp_path / NAME / "2")


def test_tflite_float_builtin_only_matches_keras(fsdd, tmp_path):
    report = export(NAME, "tflite", tmp_path, data=fsdd)
    assert report.path == str(tmp_path / f"{NAME}.tflite")
    assert not [op for op in report.operators if op.startswith("Flex")] and "WHILE" in report.operators
    assert report.check_examples == len(fsdd[0]) == 2500
    assert report.max_abs_difference <= 1e-5
    assert report.exported_accuracy == report.keras_accuracy
    runner = interpreter(open(report.path, "rb").read())
    np.testing.assert_allclose(run_tflite(runner, fsdd[0][:3]), zoo.load(NAME).predict(fsdd[0][:3], verbose=0), atol=1e-5)


def _weight_types(path):
    """Types of the constant matrices that are not all zeros (the weights; zeros start the loop state)."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(open(path, "rb").read()))
    data = lambda tensor: model.buffers[tensor.buffer].data
    return {
        tensor.type
        for graph in model.subgraphs
        for tensor in graph.tensors
        if data(tensor) is not None and len(tensor.shape) >= 2 and np.any(data(tensor))
    }


def test_tflite_int8_small_and_accurate(fsdd, tmp_path):
    report = export(NAME, "tflite-int8", tmp_path, data=fsdd)
    assert report.path == str(tmp_path / f"{NAME}.int8.tflite")
    assert report.bytes <= 32 * 1024, report.bytes
    assert {"QUANTIZE", "WHILE"} <= set(report.operators)
    assert not [op for op in report.operators if op.startswith("Flex")]
    assert _weight_types(report.path) == {INT8}  # every weight matrix is int8
    assert report.check_examples == 2000  # every 5th example calibrated; the others measure
    assert report.keras_accuracy - report.exported_accuracy <= 0.01, report

    io = export(NAME, "tflite-int8", tmp_path / "io", data=fsdd, int8_io=True)
    runner = interpreter(open(io.path, "rb").read())
    assert runner.get_input_details()[0]["dtype"] == np.int8 and runner.get_output_details()[0]["dtype"] == np.int8
    assert io.keras_accuracy - io.exported_accuracy <= 0.015, io


def _flex_model():
    import keras

    inputs = keras.Input((6, 4), name="features")
    rough = keras.layers.Lambda(lambda t: tf.math.cumprod(t, axis=1), name="cumprod")(inputs)
    hidden = keras.layers.RNN(htkeras.HTLSTMCell(8, ranks=2))(rough)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(hidden), name="flexy")


def test_flex_ops_only_on_request(tmp_path):
    model, x = _flex_model(), np.random.default_rng(0).normal(size=(5, 6, 4)).astype("float32")
    with pytest.raises(ValueError, match=r"no TFLite builtin \(Cumprod\); pass allow_flex=True"):
        export(model, "tflite", tmp_path, data=x)
    report = export(model, "tflite", tmp_path, data=x, allow_flex=True)
    assert "FlexCumprod" in report.operators and (tmp_path / "flexy.tflite").stat().st_size == report.bytes
    assert report.check_examples == 0 and "Flex delegate" in report.note


def test_errors_are_helpful(tmp_path):
    with pytest.raises(ValueError, match="saved_model, tflite, tflite-int8"):
        export(NAME, "onnx", tmp_path)
    with pytest.raises(ValueError, match="check inputs"):
        export(_flex_model(), "tflite", tmp_path)
    assert FORMATS == ("saved_model", "tflite", "tflite-int8")
    import keras

    inputs = keras.Input((6, 4))
    branch = keras.layers.Dense(4)(inputs)
    skip = keras.layers.Add()([inputs, branch])
    hidden = keras.layers.RNN(htkeras.HTLSTMCell(8, ranks=2))(skip)
    graph = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(hidden), name="branchy")
    with pytest.raises(NotImplementedError, match="chain of layers"):
        export(graph, "tflite", tmp_path, data=np.zeros((2, 6, 4), "float32"))


def test_export_command(tmp_path):
    _fsdd_or_skip()
    result = subprocess.run(
        [sys.executable, "-m", "htkeras", "export", NAME, "--format", "tflite-int8", "--out", str(tmp_path)],
        capture_output=True, text=True, check=True,
    )
    assert f"{NAME}.int8.tflite" in result.stdout and "accuracy: Keras" in result.stdout
    assert (tmp_path / f"{NAME}.int8.tflite").stat().st_size <= 32 * 1024
    bad = subprocess.run([sys.executable, "-m", "htkeras", "export", "fsdd-fdht-lstn", "--format", "tflite",
                          "--out", str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode == 1 and "fsdd-fdht-lstm" in bad.stderr
    report = export(NAME, "tflite", tmp_path, data=zoo.load_data(NAME, speakers=["george"])[:2])
    assert json.loads(json.dumps(report.to_dict()))["check_examples"] == 500
