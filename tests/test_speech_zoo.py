"""The spoken-digit zoo models with the pretrained speech front-end: waveform in, probabilities out; offline
load with the front-end's weights inside; preprocessing bound to the weights (any rate, any length);
fine-tuning with the front-end frozen; export of the whole pipeline and of the head alone; meaningless
audio refused."""

import math
import wave

import keras
import numpy as np
import pytest

import htkeras.zoo as zoo
from htkeras.data import load_fsdd
from htkeras.data.bundled import bundled_digits
from htkeras.deploy.export import export, interpreter
from htkeras.models import split_backbone

from .test_fsdd_training import _fsdd_or_skip

EMBEDDING_MODELS = ["fsdd-embedding-fdht-lstm", "fsdd-embedding-ht-lstm", "fsdd-embedding-lstm"]
NAME = "fsdd-embedding-fdht-lstm"
SAMPLES = 24000


@pytest.mark.parametrize("name", EMBEDDING_MODELS)
def test_loads_offline_and_reproduces_its_recorded_accuracy_on_the_bundled_voice(name, tmp_path, monkeypatch):
    """The zoo weights hold the front-end: no converted weights are read or written."""
    monkeypatch.setenv("HTKERAS_CACHE", str(tmp_path / "cache"))
    model = zoo.load(name)
    assert not (tmp_path / "cache").exists()
    waves, digits, rate, _ = bundled_digits()
    x = zoo.preprocess(name, waves, sample_rate=rate)
    assert x.shape == (10, SAMPLES) and model.input_shape == (None, SAMPLES)
    accuracy = float((model.predict(x, verbose=0).argmax(axis=1) == digits).mean())
    assert accuracy == pytest.approx(zoo.resolve(name).metrics["bundled_accuracy"], abs=1e-6)
    trained = sum(math.prod(w.shape) for w in model.trainable_weights)
    assert trained == zoo.info(name)["trainable_parameters"]
    assert model.layers[0].name == "speech_embedding" and not model.layers[0].trainable


def test_the_fdht_head_is_within_its_budget():
    metrics = zoo.resolve(NAME).metrics
    assert metrics["trainable_parameters"] <= 10_000 and metrics["backbone"]["name"] == "speech_embedding"
    assert metrics["cross_validation"]["groups"] == ["george", "jackson", "lucas", "nicolas", "yweweler"]


def test_preprocess_takes_any_rate_and_any_length():
    waves, _, rate, _ = bundled_digits()
    base = zoo.preprocess(NAME, waves[:1], sample_rate=rate)
    from htkeras.data.audio import resample

    model = zoo.load(NAME)
    expected = model.predict(base, verbose=0)
    for other in (16000, 44100, 48000):  # the same clip at another rate: the same answer
        again = zoo.preprocess(NAME, [resample(waves[0], rate, other)], sample_rate=other)
        assert again.shape == (1, SAMPLES)
        np.testing.assert_allclose(model.predict(again, verbose=0), expected, atol=0.05)
    long = np.concatenate([np.zeros(3 * rate, np.float32), waves[0], np.zeros(2 * rate, np.float32)])
    fitted = zoo.preprocess(NAME, [long], sample_rate=rate)[0]  # 5.9 s: cut around the speech, not the first 1.5 s
    power = np.square(fitted.astype(np.float64))
    assert power.sum() > 0.99 * np.square(base.astype(np.float64)).sum()
    assert abs(power @ np.arange(SAMPLES) / power.sum() - SAMPLES / 2) < 160  # its energy centred, within 10 ms
    with pytest.raises(ValueError, match="NaN"):
        zoo.preprocess(NAME, [np.full(8000, np.nan)], sample_rate=8000)
    with pytest.warns(UserWarning, match="silent"):
        zoo.preprocess(NAME, [np.zeros(8000)], sample_rate=8000)


def _write_wav(path, samples, rate=8000):
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def test_predict_refuses_silent_and_empty_recordings(tmp_path, capsys):
    from htkeras import cli

    waves, digits, rate, _ = bundled_digits()
    _write_wav(tmp_path / "seven.wav", waves[7], rate)
    _write_wav(tmp_path / "silent.wav", np.zeros(8000))
    _write_wav(tmp_path / "empty.wav", np.zeros(0))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["predict", NAME, str(tmp_path / "seven.wav"), str(tmp_path / "silent.wav")])
    captured = capsys.readouterr()
    assert exit_info.value.code == 1 and "silent.wav is silent (peak -inf dBFS): no label" in captured.err
    assert captured.out.startswith(f"{tmp_path / 'seven.wav'}: ") and "silent.wav" not in captured.out
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["predict", NAME, str(tmp_path / "empty.wav")])
    assert exit_info.value.code == 1 and "empty.wav is empty" in capsys.readouterr().err


def test_main_command_on_the_bundled_voice(capsys):
    from htkeras import cli

    cli.main(["evaluate", NAME, "--data-dir", "/nonexistent"])
    out = capsys.readouterr().out
    assert "accuracy on the bundled recordings:" in out and "ms per example at batch 1" in out
    assert "parameters" in out and "not found here" in out


def test_fine_tune_on_speaker_identity_with_the_front_end_frozen():
    """A new 5-way head (who is speaking) over the frozen front-end: only the head trains, and a short fit
    improves on its start; ``train_backbone=True`` unfreezes the embedding network (not the spectrogram)."""
    _fsdd_or_skip()
    records = load_fsdd()[::5]
    speakers = sorted({r[2] for r in records})
    x = zoo.preprocess(NAME, [r[0] for r in records], sample_rate=8000)
    y = np.array([speakers.index(r[2]) for r in records])
    take = np.array([r[3] for r in records])
    train, test = take < 35, take >= 35  # every speaker on both sides, split by take
    keras.utils.set_random_seed(0)
    model = zoo.load(NAME, num_classes=len(speakers))
    backbone = model.get_layer("speech_embedding")
    frozen = [w.numpy().copy() for w in backbone.weights]
    assert model.output_shape == (None, 5) and not backbone.trainable
    before = model.evaluate(x[test], y[test], verbose=0)[1]
    model.fit(x[train], y[train], epochs=4, batch_size=32, verbose=0)
    after = model.evaluate(x[test], y[test], verbose=0)[1]
    print(f"speaker identity: {before:.3f} -> {after:.3f}")
    assert after > before + 0.2
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(frozen, backbone.weights))
    unfrozen = zoo.load(NAME, train_backbone=True).get_layer("speech_embedding")
    assert len(unfrozen.trainable_weights) == 39  # the 20 convolutions; the window and mel matrix stay fixed


@pytest.fixture(scope="module")
def fsdd_waveforms():
    _fsdd_or_skip()
    return zoo.load_data(NAME)[:2]


@pytest.fixture(scope="module")
def check_data(fsdd_waveforms):
    x, y = fsdd_waveforms
    keep = np.random.default_rng(0).permutation(len(y))[:250]
    return x[keep], y[keep]


def test_int8_export_of_the_whole_pipeline_is_small_builtin_and_accurate(fsdd_waveforms, tmp_path):
    """The acceptance check as the exporter makes it: all 2,500 recordings, every 5th calibrating."""
    report = export(NAME, "tflite-int8", tmp_path, data=fsdd_waveforms)
    assert report.bytes <= 1024 * 1024, report.bytes
    assert {"RFFT2D", "CONV_2D", "WHILE", "QUANTIZE"} <= set(report.operators)
    assert not [op for op in report.operators if op.startswith("Flex")]
    assert report.keras_accuracy - report.exported_accuracy <= 0.01, report
    runner = interpreter(open(report.path, "rb").read())
    assert runner.get_input_details()[0]["shape"].tolist() == [1, SAMPLES]


def test_head_alone_exports_on_embedding_input(check_data, tmp_path):
    report = export(NAME, "tflite", tmp_path, data=check_data, part="head")
    assert report.path.endswith(f"{NAME}-head.tflite") and report.max_abs_difference <= 1e-5
    runner = interpreter(open(report.path, "rb").read())
    assert runner.get_input_details()[0]["shape"].tolist() == [1, 9, 96]
    backbone, head = split_backbone(zoo.load(NAME))
    x = check_data[0][:4]
    np.testing.assert_allclose(head.predict(backbone.predict(x, verbose=0), verbose=0),
                               zoo.load(NAME).predict(x, verbose=0), atol=1e-5)
    with pytest.raises(ValueError, match="no pretrained backbone"):
        export("fsdd-fdht-lstm", "tflite", tmp_path, data=(np.zeros((2, 40, 40), np.float32), None), part="head")


def test_a_head_trained_on_features_becomes_the_same_model_on_waveforms(rng):
    """``with_backbone`` copies every head weight, the feature standardization's statistics included."""
    from htkeras.models import adapt_features, build_model, head_spec, with_backbone

    spec = {"kind": "fdht", "cell": "lstm", "units": 16, "ranks": 2, "backbone": "speech_embedding",
            "normalize_features": True, "input_shape": [SAMPLES], "num_classes": 10}
    waves = 0.1 * rng.standard_normal((3, SAMPLES)).astype(np.float32)
    backbone = split_backbone(build_model(spec, pretrained=True))[0]
    features = backbone.predict(waves, verbose=0)
    head = build_model(head_spec(spec, features.shape[1:]))
    adapt_features(head, features)
    whole = with_backbone(spec, head)
    np.testing.assert_allclose(whole.predict(waves, verbose=0), head.predict(features, verbose=0), atol=1e-5)


def test_saved_model_of_the_whole_pipeline_serves_waveforms(check_data, tmp_path):
    import tensorflow as tf

    report = export(NAME, "saved_model", tmp_path, data=check_data)
    assert report.max_abs_difference <= 1e-5 and report.keras_accuracy == report.exported_accuracy
    serve = tf.saved_model.load(report.path).signatures["serving_default"]
    outputs = serve(waveform=tf.constant(check_data[0][:3]))
    assert outputs["probabilities"].shape == (3, 10) and outputs["class_id"].shape == (3,)
    assert [v.decode() for v in outputs["label"].numpy()] == [str(i) for i in outputs["class_id"].numpy()]
