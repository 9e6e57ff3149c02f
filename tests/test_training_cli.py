"""The training CLI on real FSDD data (a small model, three speakers): cross-validation, the final run's
files, a kill during training followed by --resume, and the generated model cards."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from training import make_cards
from training.checkpoint import latest
from training.run_io import atomic_write, read_json

from .test_fsdd_training import _fsdd_or_skip, data_or_skip

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def small_config(tmp_path, epochs):
    config = {
        "name": "fsdd-tiny-fdht-lstm",
        "task": "spoken digit classification",
        "dataset": {"name": "fsdd", "num_frames": 20, "num_mels": 20, "speakers": ["george", "jackson", "lucas"]},
        "model": {"kind": "fdht", "cell": "lstm", "units": 8, "ranks": 2, "options": {}},
        "training": {"epochs": epochs, "cv_epochs": 2, "batch_size": 64, "learning_rate": 0.01, "seed": 0},
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def train(*args, env=None):
    command = [sys.executable, "-m", "training.train", *map(str, args), "--quiet"]
    return subprocess.run(command, cwd=ROOT, env={**ENV, **(env or {})}, capture_output=True, text=True, check=False)


def test_cross_validation_then_final_model(tmp_path):
    _fsdd_or_skip()
    config, out = small_config(tmp_path, "cv"), tmp_path / "run"
    result = train(config, "--out", out, "--cv")
    assert result.returncode == 0, result.stderr[-3000:]
    cv = read_json(out / "cv.json")
    assert cv["groups"] == ["george", "jackson", "lucas"] and len(cv["mean_curve"]) == 2
    assert cv["chosen_epochs"] in (1, 2) and 0.0 <= cv["accuracy_std"] <= cv["accuracy_mean"] <= 1.0
    result = train(config, "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("htkeras.json", "config.json", "model.weights.h5", "metrics.json", "curves.png", "metadata.json", "cv.json"):
        assert (out / name).stat().st_size > 0, name
    from htkeras import zoo

    assert zoo.resolve(out).checksums["cv.json"]  # the run folder is a zoo model, sealed with checksums
    assert not (out / "checkpoint").exists()
    metrics = read_json(out / "metrics.json")
    assert metrics["epochs"] == cv["chosen_epochs"]
    assert metrics["cross_validation"]["accuracy_mean"] == cv["accuracy_mean"]
    assert metrics["parameters"] < metrics["dense_parameters"] and metrics["data"]["examples"] == 1500
    assert len(metrics["commit"]) >= 40 and metrics["hardware"]["backend"] == "tensorflow"
    assert read_json(out / "htkeras.json")["labels"] == [str(d) for d in range(10)]


def test_kill_then_resume_loses_nothing(tmp_path):
    _fsdd_or_skip()
    config, out = small_config(tmp_path, 6), tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "training.train", str(config), "--out", str(out), "--quiet"],
        cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    def state():
        epoch = latest(out / "checkpoint") if (out / "checkpoint").is_dir() else None
        return read_json(epoch / "state.json") if epoch else {"epochs_done": 0}

    deadline = time.time() + 300
    while time.time() < deadline and state()["epochs_done"] < 2:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed = state()
    assert 2 <= killed["epochs_done"] < 6, "the run finished before it could be killed"
    result = train(config, "--out", out, "--resume")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Resuming after epoch {killed['epochs_done']}" in result.stdout
    metrics = read_json(out / "metrics.json")
    assert metrics["epochs"] == 6  # the epochs before the kill are kept, not repeated
    assert metrics["train_seconds"] >= killed["seconds"]


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text("old")

    def broken(tmp):
        tmp.write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_model_cards_are_generated_from_metrics(tmp_path):
    def write_config(folder, name, dataset):  # a zoo folder's files besides metrics.json (the weights: a stand-in)
        spec = {"kind": "fdht", "units": 8, "input_shape": [40, 40], "num_classes": 10}
        config = {"name": name, "dataset": {"name": dataset}, "model_spec": spec, "labels": list("0123456789")}
        (folder / "htkeras.json").write_text(json.dumps(config))
        (folder / "config.json").write_text(json.dumps({"class_name": "Sequential", "config": {}}))  # Keras' (a stand-in)
        (folder / "model.weights.h5").write_bytes(b"weights")

    def metrics(name, params, accuracy):
        return {
            "name": name, "task": "digits", "parameters": params, "dense_parameters": 4 * params, "compression": 4.0,
            "epochs": 3, "train_seconds": 12.0, "commit": "a" * 40, "created": "2026-11-24T00:00:00Z",
            "data": {"name": "FSDD", "examples": 2500, "speakers": ["a", "b"], "features": "log-mel"},
            "split": {"train": "all examples"}, "train_accuracy": 0.9,
            "hardware": {"cpu": "cpu", "cpu_cores": 2, "backend": "tensorflow", "keras": "3"},
            "cross_validation": {"scheme": "leave one group out", "groups": ["a", "b"], "chosen_epochs": 3,
                                 "accuracy_mean": accuracy, "accuracy_std": 0.02,
                                 "fold_accuracy": {"a": accuracy - 0.02, "b": accuracy + 0.02}},
        }

    zoo = tmp_path / "zoo"
    for name, params, accuracy in [("fsdd-lstm", 27530, 0.7123), ("fsdd-fdht-lstm", 1740, 0.6511),
                                   ("fsdd-cnn-fdht-lstm", 3264, 0.7301)]:
        (zoo / name).mkdir(parents=True)
        measured = metrics(name, params, accuracy)
        if name == "fsdd-fdht-lstm":  # distilled, CV over 3 seeds
            measured["cross_validation"].update({"seeds": [0, 1, 2], "seed_std": 0.013})
            measured["distillation"] = {"teacher": "fsdd-lstm", "teacher_name": "fsdd-lstm", "alpha": 0.3, "temperature": 4}
        (zoo / name / "metrics.json").write_text(json.dumps(measured))
        write_config(zoo / name, name, "fsdd")
    tested = {**metrics("fashion-fdht-lstm", 2708, 0), "cross_validation": None, "test_accuracy": 0.87654,
              "validation_accuracy": 0.88, "best_epoch": 2,
              "data": {"name": "Fashion-MNIST", "examples": 60000, "test_examples": 10000, "features": "rows"},
              "split": {"train": "54000 examples", "validation": "6000", "chosen by": "validation loss"}}
    (zoo / "fashion-fdht-lstm").mkdir()
    (zoo / "fashion-fdht-lstm" / "metrics.json").write_text(json.dumps(tested))
    write_config(zoo / "fashion-fdht-lstm", "fashion-fdht-lstm", "fashion_mnist")
    readme = tmp_path / "README.md"
    readme.write_text("# Project\n\n<!-- comparison:start -->\nSTALE TABLE\n<!-- comparison:end -->\n\nThe rest.\n")
    make_cards.main(["--zoo", str(zoo), "--out", str(tmp_path / "MODEL_CARDS.md"), "--readme", str(readme)])
    text = (tmp_path / "MODEL_CARDS.md").read_text()
    row = ("| [fsdd-fdht-lstm](zoo/fsdd-fdht-lstm/README.md) | [fsdd-lstm](zoo/fsdd-lstm/README.md) | leave-one-speaker-out "
           "CV, 3 seeds (%) | 65.1 ± 2.0 (folds) ± 1.3 (seeds) | 71.2 ± 2.0 (folds) | -6.12 points | 1,740 / 27,530 | "
           "15.8× | **no**: more than 1 point behind |")
    assert row in text and row in readme.read_text() and "STALE TABLE" not in readme.read_text()
    assert readme.read_text().endswith("<!-- comparison:end -->\n\nThe rest.\n")
    assert "fsdd-cnn-fdht-lstm](zoo" not in readme.read_text()  # no dense sibling of its name: not compared
    assert "| 27,530 |" in text and "71.2 ± 2.0" in text and "65.1 ± 2.0" in text
    assert "fsdd-fdht-lstm, **not met**: within 1 point of fsdd-lstm" in text
    assert "measured 65.1% vs 71.2% (6.1 points behind)" in text and "fsdd-fdht-lstm, met: at most 10,000 parameters" in text
    assert "The best FDHT model within 10,000 parameters on the same cross-validation is fsdd-cnn-fdht-lstm" in text
    assert "fsdd-cnn-fdht-lstm, met: within 1 point of fsdd-lstm on leave-one-speaker-out CV: measured 73.0% vs 71.2% " \
           "(1.8 points ahead)" in text
    card = (zoo / "fsdd-fdht-lstm" / "README.md").read_text()
    assert "each trained with 3 seeds): 65.1 ± 2.0% at 3 epochs" in card and "± 1.3 between seeds" in card
    assert "**not met**: at least 90% on unseen speakers" in card
    assert "Distilled from the teacher `fsdd-lstm` (fsdd-lstm): 0.3 of the loss on the labels, 0.7 on its outputs" in card
    assert "## Intended use and limitations" in card and "only 5 speakers" in card
    assert "## Fashion-MNIST" in text and "| 87.65 | 88.00 | 3 (2) |" in text
    card = (zoo / "fashion-fdht-lstm" / "README.md").read_text()
    assert "**Test accuracy 87.65%**" in card and "pipeline_tag: image-classification" in card
    assert (zoo / "accuracy_vs_parameters.png").stat().st_size > 0
    from htkeras import zoo as zoo_api

    assert "README.md" in zoo_api.resolve(zoo / "fsdd-lstm").checksums  # the card is sealed in metadata.json


def _zoo_models(dataset: str) -> list:
    return sorted(p.parent.name for p in (ROOT / "zoo").glob("*/htkeras.json") if read_json(p)["dataset"]["name"] == dataset)


@pytest.mark.parametrize("name", _zoo_models("fsdd"))
def test_published_zoo_weights_are_the_trained_ones(name):
    """Each zoo model rebuilds from its config, loads its weights, and fits the training data as well as its
    metrics say (all five speakers were its training data)."""
    _fsdd_or_skip()
    import keras

    from htkeras import zoo

    metrics = read_json(ROOT / "zoo" / name / "metrics.json")
    model = zoo.load(name)
    assert model.count_params() == metrics["parameters"]
    x, y, _ = zoo.load_data(name)  # log-mel frames, or 16 kHz waveforms for a model with the speech front-end
    x, y = x[::4], y[::4]  # every 4th recording: 625 of the 2,500
    predicted = keras.ops.convert_to_numpy(model.predict(x, verbose=0)).argmax(axis=1)
    assert abs((predicted == y).mean() - metrics["train_accuracy"]) < 0.08


@pytest.mark.parametrize("name", _zoo_models("poly_music"))
def test_published_next_step_models_measure_their_nll(name):
    """Each polyphonic-music zoo model loads in one line and measures, on the test split, the NLL its
    metrics and card report (the figures come from this computation, not from a typed-in number)."""
    data_or_skip("poly_music")
    from htkeras import zoo
    from htkeras.data import frame_nll, load_poly_music, next_step_batch

    config, metrics = read_json(ROOT / "zoo" / name / "htkeras.json"), read_json(ROOT / "zoo" / name / "metrics.json")
    model = zoo.load(name)
    assert model.count_params() == metrics["parameters"] and zoo.info(name)["metrics"]["nll"] == metrics["nll"]
    x, y, mask = next_step_batch(load_poly_music(config["dataset"]["set"], "test"))
    assert abs(frame_nll(model.predict(x, batch_size=64, verbose=0), y, mask) - metrics["nll"]["test"]) < 1e-3
    assert f"test {metrics['nll']['test']:.3f}" in (ROOT / "zoo" / name / "README.md").read_text()
    with pytest.raises(ValueError, match="no classes to replace"):
        zoo.load(name, num_classes=3)


@pytest.mark.parametrize("name", _zoo_models("fashion_mnist") + _zoo_models("uea"))
def test_published_test_split_models_measure_their_accuracy(name):
    """Each Fashion-MNIST / UEA zoo model loads in one line, reads its dataset's published test split with
    ``zoo.load_data`` and measures the test accuracy its metrics and card report."""
    from htkeras import zoo
    from htkeras.data.fashion_mnist import DEBIAN_FOLDER

    config, metrics = read_json(ROOT / "zoo" / name / "htkeras.json"), read_json(ROOT / "zoo" / name / "metrics.json")
    if config["dataset"]["name"] == "fashion_mnist" and not DEBIAN_FOLDER.is_dir():
        data_or_skip("fashion-mnist")
    model = zoo.load(name)
    x, y, groups = zoo.load_data(name)
    assert groups is None and len(y) == metrics["data"]["test_examples"] and model.count_params() == metrics["parameters"]
    accuracy = float((model.predict(x, batch_size=500, verbose=0).argmax(axis=1) == y).mean())
    assert abs(accuracy - metrics["test_accuracy"]) < 1e-3
    assert f"**Test accuracy {100 * metrics['test_accuracy']:.2f}%**" in (ROOT / "zoo" / name / "README.md").read_text()


def test_next_step_training_on_real_music(tmp_path):
    """JSB Chorales, a tiny FDHT-GRU: the final files and the NLL of every split; --cv is refused."""
    data_or_skip("poly_music")
    config = tmp_path / "jsb.json"
    write = {"name": "jsb-tiny", "task": "test", "dataset": {"name": "poly_music", "set": "JSB_Chorales", "max_steps": 48},
             "model": {"kind": "fdht", "cell": "gru", "units": 8, "ranks": 2},
             "training": {"epochs": 3, "batch_size": 64, "learning_rate": 0.01, "patience": 2, "seed": 0,
                          "length_buckets": True}}
    config.write_text(json.dumps(write))
    out = tmp_path / "run"
    result = train(config, "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = read_json(out / "metrics.json")
    assert set(metrics["nll"]) == {"train", "valid", "test"} and all(0 < v < 61 for v in metrics["nll"].values())
    assert 1 <= metrics["best_epoch"] <= metrics["epochs"] <= 3 and metrics["parameters"] < 1000
    assert {p.name for p in out.iterdir()} == {"htkeras.json", "config.json", "model.weights.h5", "metrics.json", "curves.png",
                                               "metadata.json"}
    assert train(config, "--out", out, "--cv").returncode == 2  # fixed splits: no grouped CV


def test_published_test_split_training_on_real_data(tmp_path):
    """A UEA set (JapaneseVowels, bundled in aeon): early stopping on a validation part of the training split,
    the best epoch's weights kept, the published test split measured once; --cv refused (no groups)."""
    config = tmp_path / "jv.json"
    config.write_text(json.dumps({
        "name": "jv-tiny", "task": "test", "dataset": {"name": "uea", "set": "JapaneseVowels"},
        "model": {"kind": "fdht", "cell": "lstm", "units": 8, "ranks": 2},
        "training": {"epochs": 3, "batch_size": 32, "learning_rate": 0.01, "validation": {"fraction": 0.2},
                     "patience": 2, "seed": 0}}))
    out = tmp_path / "run"
    result = train(config, "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics, saved = read_json(out / "metrics.json"), read_json(out / "htkeras.json")
    assert 0 < metrics["test_accuracy"] <= 1 and metrics["data"]["test_examples"] == 370
    assert "published test split" in metrics["split"]["test"] and 1 <= metrics["best_epoch"] <= 3
    assert len(saved["preprocessing"]["mean"]) == 12 and saved["labels"] == [str(k) for k in range(1, 10)]
    result = train(config, "--out", tmp_path / "cv", "--cv")
    assert result.returncode == 2 and "no groups" in result.stderr


def test_length_buckets_cover_every_sequence_once_and_keep_the_nll():
    """Next-step batches of similar length: every sequence once per epoch, each batch cut no shorter than its
    longest sequence, two different lengths first (a variable time axis for Keras), new batches every
    epoch; the NLL computed over the buckets equals the NLL over the whole padded split."""
    import keras
    import numpy as np

    from htkeras.data import frame_nll, next_step_batch
    from htkeras.data.buckets import LengthBuckets, model_nll, predict_frames
    from htkeras.models import build_model

    rng = np.random.default_rng(0)
    rolls = [(rng.random((n, 88)) < 0.1).astype("float32") for n in rng.integers(5, 120, 37)]
    x, y, mask = next_step_batch(rolls)
    buckets = LengthBuckets(x, y, mask, batch_size=8, shuffle=True, seed=1, multiple=16)
    first = [sorted(map(tuple, (b.tolist() for b in buckets.batches)))]
    seen = []
    for k in range(len(buckets)):
        bx, by, bm = buckets[k]
        assert bx.shape[1] % 16 == 0 or bx.shape[1] == x.shape[1]
        assert bm.sum() == mask[np.sort(buckets.batches[k])].sum()  # no real frame cut off
        seen += buckets.batches[k].tolist()
    assert sorted(seen) == list(range(37)) and buckets[0][0].shape[1] != buckets[1][0].shape[1]
    buckets.on_epoch_end()
    assert sorted(map(tuple, (b.tolist() for b in buckets.batches))) != first[0]
    keras.utils.set_random_seed(0)
    model = build_model({"kind": "fdht", "cell": "gru", "units": 8, "ranks": 2, "head": "next_step",
                         "input_shape": [None, 88], "num_outputs": 88})
    whole = frame_nll(model.predict(x, verbose=0), y, mask)
    assert abs(model_nll(model, x, y, mask, batch_size=8) - whole) < 1e-4
    framed = predict_frames(model, x, mask, batch_size=8)
    assert not framed[mask == 0].any() and framed.shape == y.shape


def test_mixed_precision_run_publishes_float32_weights(tmp_path):
    """``--precision mixed_float16`` (loss scaling) with ``--epochs 2``: both written into the run's config,
    the precision into metrics.json; the published weights are float32 and load under the default policy."""
    out = tmp_path / "run"
    result = train("training/configs/jv_fdht_lstm.json", "--out", out, "--precision", "mixed_float16", "--epochs", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    metrics, saved = read_json(out / "metrics.json"), read_json(out / "htkeras.json")
    assert metrics["precision"] == "mixed_float16" and metrics["epochs"] == 2
    assert saved["training"]["precision"] == "mixed_float16" and saved["training"]["epochs"] == 2
    assert metrics["distribution"] == {"strategy": "none", "replicas": 1}
    from htkeras import zoo

    model = zoo.load(out)
    assert {w.dtype for w in model.weights} == {"float32"} and metrics["test_accuracy"] > 1 / 9
    assert train("training/configs/jv_fdht_lstm.json", "--out", tmp_path / "bad", "--precision", "float8").returncode == 2
