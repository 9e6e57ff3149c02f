"""Keras-native artifacts: every zoo folder is a Keras save (``keras.saving.load_model`` gives the model
``htkeras.zoo.load`` gives, and the predictions htkeras 0.5 gave before the folders were migrated), a folder
of htkeras 0.5 is refused with the command that converts it and converts to the same predictions, TFLite
files carry a named signature and their labels, ``quantize("int8")`` on a zoo model, and the command's exit
statuses and ``--help``."""

import json
import shutil
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest

import htkeras
from htkeras import cli, zoo
from htkeras.deploy import format_name

from .test_fsdd_training import data_or_skip

DATA = Path(__file__).parent / "data"
BEFORE = json.loads((DATA / "zoo_predictions_0.5.json").read_text())  # zoo.load of htkeras 0.5, before migrating
RETRAINED = {"fsdd-embedding-fdht-lstm", "fsdd-embedding-lstm", "jv-fdht-lstm"}  # new weights since (issue 26's recipe)


def probe(model, name):
    """The inputs the 0.5 predictions were recorded on: seeded, any free length 16, binary for piano rolls."""
    shape = [16 if size is None else size for size in model.input_shape[1:]]
    x = np.random.default_rng(0).standard_normal((2, *shape)).astype("float32")
    return (x > 1.0).astype("float32") if name.startswith(("jsb", "nottingham")) else x


@pytest.mark.parametrize("name", zoo.list_models())
def test_keras_loads_every_zoo_folder_as_htkeras_does(name):
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Skipping variable loading")  # the optimizer state matches
        model = keras.saving.load_model(zoo.resolve(name).folder)
    ours = zoo.load(name)
    x = probe(model, name)
    np.testing.assert_array_equal(model.predict_on_batch(x), ours.predict_on_batch(x))
    if name not in RETRAINED:  # the migrated weights: 0.5's predictions
        np.testing.assert_allclose(model.predict_on_batch(x), BEFORE[name], atol=1e-6)
    assert model.optimizer is not None and model.count_params() == ours.count_params()
    assert [layer.trainable for layer in model.layers] == [layer.trainable for layer in ours.layers]


def test_a_folder_of_htkeras_05_is_refused_then_migrated_to_the_same_predictions(tmp_path, capsys):
    old = shutil.copytree(DATA / "legacy" / "jv-fdht-lstm", tmp_path / "jv")
    card = (old / "README.md").read_bytes()
    with pytest.raises(ValueError, match=r"htkeras 0\.5 or earlier .* convert it with `htkeras migrate .*jv`") as error:
        zoo.load(old)
    assert "\n" not in str(error.value)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["info", str(old)])
    assert exit_info.value.code == 1 and "htkeras migrate" in capsys.readouterr().err

    copy = cli.main(["migrate", str(old), "--out", str(tmp_path / "copy")])  # into a new folder
    assert copy is None and (old / "config.json").exists() and not (old / "htkeras.json").exists()
    cli.main(["migrate", str(old)])  # in place
    assert "keras.saving.load_model" in capsys.readouterr().out
    for folder in (old, tmp_path / "copy"):
        migrated = zoo.resolve(folder)
        assert migrated.name == "jv-fdht-lstm" and (folder / "README.md").read_bytes() == card
        model = keras.saving.load_model(folder)
        np.testing.assert_allclose(model.predict_on_batch(probe(model, "jv")), BEFORE["jv-fdht-lstm"], atol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy", "jv"]  # no staging or old folder left
    with pytest.raises(ValueError, match="already in the Keras-native layout"):
        zoo.migrate(old)


def test_tflite_files_have_a_named_signature_and_their_labels(tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    report = htkeras.deploy.export.export("fsdd-fdht-lstm", "litert", tmp_path)  # Keras' name for tflite
    assert report.format == "tflite" and "get_signature_runner('serving_default')" in str(report)
    runner = Interpreter(report.path)
    assert runner.get_signature_list() == {"serving_default": {"inputs": ["features"], "outputs": ["probabilities"]}}
    x = zoo.preprocess("fsdd-fdht-lstm", [np.sin(np.arange(8000) / 3.0).astype("float32")], sample_rate=8000)
    probabilities = runner.get_signature_runner("serving_default")(features=x)["probabilities"]
    np.testing.assert_allclose(probabilities, zoo.load("fsdd-fdht-lstm").predict(x, verbose=0), atol=1e-5)
    assert Path(report.labels).read_text().splitlines() == zoo.resolve("fsdd-fdht-lstm").labels
    assert format_name("tf_saved_model") == "saved_model" and format_name("litert") == "tflite"
    with pytest.raises(ValueError, match="choose one of saved_model, tflite, tflite-int8, litert, tf_saved_model"):
        format_name("onnx")


def test_quantize_int8_keeps_a_zoo_model_within_one_point():
    """Keras' ``model.quantize("int8")`` reaches the FDHT mega layer inside the cell: int8 factors, 4x fewer
    bytes for them, accuracy on all 2,500 FSDD recordings within 1 point; other modes are refused in one line."""
    data_or_skip("fsdd")
    x, y, _ = zoo.load_data("fsdd-fdht-lstm")
    model = zoo.load("fsdd-fdht-lstm")
    before = float((model.predict(x, verbose=0).argmax(axis=1) == y).mean())
    model.quantize("int8")
    after = float((model.predict(x, verbose=0).argmax(axis=1) == y).mean())
    cell_map = model.get_layer("fdht_lstm").cell.joint_map
    assert cell_map.quantization_mode == "int8" and all(f.dtype == "int8" for f in cell_map.factors)
    assert abs(after - before) <= 0.01, (before, after)
    history = model.fit(x[:64], y[:64], epochs=1, verbose=0)  # the quantized model fine-tunes (its float weights)
    assert np.isfinite(history.history["loss"][0])
    with pytest.raises(ValueError, match=r"quantize\('int8'\) only.*htkeras export MODEL --format tflite-int8") as error:
        zoo.load("fsdd-fdht-lstm").get_layer("fdht_lstm").cell.joint_map.quantize("float8")
    assert "\n" not in str(error.value)


def test_every_subcommand_has_help_and_errors_exit_1_usage_2(capsys):
    for command in ("list", "info", "predict", "evaluate", "export", "migrate"):
        with pytest.raises(SystemExit) as exit_info:
            cli.main([command, "--help"])
        assert exit_info.value.code == 0 and "usage: htkeras" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["info", "no-such-model"])
    assert exit_info.value.code == 1 and capsys.readouterr().err.startswith("error: ")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["export", "fsdd-fdht-lstm", "--format", "onnx", "--out", "x"])
    assert exit_info.value.code == 2
