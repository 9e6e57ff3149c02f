"""The training recipe beyond plain Adam (training.recipe, training.augmented, htkeras.data.augment): the
augmentation, the learning-rate schedule, conversion init on real data, and a cross-validation run that
distils from a zoo teacher on augmented copies with several seeds."""

import json

import keras
import numpy as np
import pytest

from htkeras import zoo
from htkeras.data import augment
from htkeras.data.augment import Augmentation, augment_waveforms
from htkeras.models import adapt_features, build_model, compile_model
from training.recipe import EpochSchedule, check_recipe, initialize
from training.run_io import read_json

from .test_fsdd_training import _fsdd_or_skip
from .test_training_cli import train

RATE = 16000


@pytest.fixture
def clips(rng):
    t = np.arange(RATE) / RATE
    tones = [0.3 * np.sin(2 * np.pi * f * t) * np.hanning(RATE) for f in (220, 330, 440, 550)]
    return np.stack(tones).astype("float32") + 0.001 * rng.standard_normal((4, RATE)).astype("float32")


def test_augmentation_is_deterministic_per_seed(clips):
    first, index = augment_waveforms(clips, 3, RATE, seed=5)
    again, _ = augment_waveforms(clips, 3, RATE, seed=5)
    other, _ = augment_waveforms(clips, 3, RATE, seed=6)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first.shape == (12, RATE) and index.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert np.abs(first).max() <= 1.0 and all(not np.allclose(first[k], clips[index[k]]) for k in range(12))


@pytest.mark.parametrize("noise", augment.NOISES)
def test_each_noise_at_its_snr(clips, noise):
    settings = Augmentation(speed=(1.0, 1.0), max_shift_seconds=0.0, reverb=0.0, gain_db=0.0, noise=1.0,
                            snr_db=(10.0, 10.0), noises=(noise,))
    noisy, index = augment_waveforms(clips, 1, RATE, seed=0, settings=settings)
    added = noisy - clips[index]
    snr = 10 * np.log10(np.mean(clips[index] ** 2, axis=1) / np.mean(added**2, axis=1))
    np.testing.assert_allclose(snr, 10.0, atol=0.5)


def test_speed_room_and_pink_noise():
    tone = np.sin(2 * np.pi * 100 * np.arange(RATE) / RATE).astype("float32")
    faster = augment.change_speed(tone, 1.25)
    assert len(faster) == RATE and not faster[int(RATE / 1.25) + 1 :].any()  # the shorter clip padded with zeros
    crossings = np.sum(np.diff(np.sign(faster[: int(RATE / 1.25) - 10])) != 0)
    assert crossings == pytest.approx(2 * 125 * 0.8, rel=0.05)  # 125 Hz for 0.8 s
    response = augment.room(np.random.default_rng(0), 0.3, RATE, drr_db=6.0)
    tail = np.cumsum(response[:0:-1] ** 2)[::-1]  # Schroeder decay of the reverberation
    decay_db = 10 * np.log10(tail[int(0.15 * RATE)] / tail[0])
    assert np.sum(response**2) == pytest.approx(1.0, rel=1e-5) and -40 < decay_db < -20  # about -30 dB at half the RT60
    assert 10 * np.log10(response[0] ** 2 / tail[0]) == pytest.approx(6.0, abs=1e-3)
    spectrum = np.abs(np.fft.rfft(augment.pink(np.random.default_rng(0), 1 << 16))) ** 2
    low, high = spectrum[100:200].mean(), spectrum[10000:20000].mean()
    assert 50 < low / high < 200  # 1/f: about 100 times the power a hundred times lower


@pytest.mark.parametrize("bad, message", [({"speed": [1.2, 0.9]}, "speed"), ({"noises": ["brown"]}, "noises"),
                                          ({"reverb": 2}, "reverb"), ({"pitch": 1}, "Unknown augmentation")])
def test_augmentation_settings_are_checked(bad, message):
    with pytest.raises(ValueError, match=message):
        Augmentation.from_config(bad)


@pytest.mark.parametrize("training, message", [
    ({"distill": {"alpha": 0.5}}, "needs a training.teacher"),
    ({"teacher": "fsdd-lstm", "distill": {"alpha": 2}}, "alpha"),
    ({"schedule": {"decay": "linear"}}, "decay"),
    ({"cv_seeds": 0}, "cv_seeds"),
    ({"augment": {"copies": 0}}, "copies"),
    ({"augment": {"copies": 2, "speed": [0.1, 3]}}, "speed"),
    ({"init": ""}, "training.init"),
])
def test_recipe_settings_are_checked_before_any_data(training, message):
    with pytest.raises(ValueError, match=message):
        check_recipe(training, "config.json")


def test_schedule_warms_up_then_follows_a_cosine_to_zero():
    schedule = EpochSchedule(0.01, steps_per_epoch=10, warmup_epochs=2, epochs=10)
    rate = [float(schedule(step)) for step in range(0, 100, 10)]  # at the start of each epoch
    assert rate[0] == pytest.approx(0.0005, rel=1e-5) and rate[1] == pytest.approx(0.0055, rel=1e-5)  # (epoch + 1 step) / 2
    assert rate[2] == pytest.approx(0.01, rel=1e-5) and rate[6] == pytest.approx(0.005, rel=1e-4)
    assert float(schedule(100)) == pytest.approx(0.0, abs=1e-9) and all(a >= b for a, b in zip(rate[2:], rate[3:]))
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert float(again(37)) == pytest.approx(float(schedule(37)))


def test_conversion_init_starts_at_a_lower_loss_than_random_init():
    """An HT-LSTM at ranks 16 started from the published dense fsdd-lstm (its recurrent layer converted by
    HT-SVD, its standardization and classifier copied) begins far below the loss of a random start, on real
    recordings of a speaker."""
    _fsdd_or_skip()
    x, y, _ = zoo.load_data("fsdd-lstm", speakers=["george"])
    spec = {**zoo.resolve("fsdd-ht-lstm").spec, "ranks": 16}
    losses = {}
    for start in ("random", "converted"):
        keras.utils.set_random_seed(0)
        model = compile_model(build_model(spec), spec)
        adapt_features(model, x)
        if start == "converted":
            report = initialize(model, spec, zoo.load("fsdd-lstm"))
            assert 0 < report["relative_error"] < 0.6
        losses[start] = model.evaluate(x, y, verbose=0)[0]
    assert losses["converted"] < 0.5 * losses["random"], losses


def test_cv_distils_from_a_teacher_on_augmented_copies_with_seeds(tmp_path):
    """A waveform model on the speech embedding's features, two speakers: each fold's teacher is the zoo
    teacher's recipe retrained without the held-out speaker, every clip has an augmented copy (features
    cached: a second run reads them), two seeds per fold, a warm-up and cosine schedule; cv.json records it."""
    _fsdd_or_skip()
    config = {
        "name": "fsdd-tiny-embedding-fdht", "task": "test",
        "dataset": {"name": "fsdd", "input": "waveform", "sample_rate": 16000, "seconds": 1.5,
                    "speakers": ["george", "jackson"]},
        "model": {"kind": "fdht", "cell": "lstm", "units": 16, "ranks": 2, "options": {"dropout": 0.1},
                  "backbone": "speech_embedding", "normalize_features": True},
        "training": {"epochs": "cv", "cv_epochs": 2, "batch_size": 64, "learning_rate": 0.01, "seed": 0,
                     "teacher": "fsdd-embedding-lstm", "distill": {"alpha": 0.3, "temperature": 4},
                     "schedule": {"warmup_epochs": 1}, "cv_seeds": 2, "augment": {"copies": 1}},
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    env = {"HTKERAS_CACHE": str(tmp_path / "cache")}
    result = train(path, "--out", tmp_path / "run", "--cv", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    cv = read_json(tmp_path / "run" / "cv.json")
    assert sorted(cv["folds"]) == ["george@seed0", "george@seed1", "jackson@seed0", "jackson@seed1"]
    assert cv["seeds"] == [0, 1] and cv["teacher"] == "fsdd-embedding-lstm" and set(cv["seed_accuracy"]) == {"0", "1"}
    assert 0 <= cv["seed_std"] <= 0.5 and cv["accuracy_mean"] > 0.1 and cv["seconds"] > cv["train_seconds"] > 0
    assert len(list((tmp_path / "cache" / "features").glob("*.npy"))) == 1
    result = train(path, "--out", tmp_path / "final", env=env)  # "epochs": "cv" needs this folder's cv.json
    assert result.returncode == 2 and "--cv first" in result.stderr
    config["training"]["epochs"] = 1
    path.write_text(json.dumps(config))
    result = train(path, "--out", tmp_path / "final", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "augmented copies" not in result.stdout  # read from the cache
    metrics = read_json(tmp_path / "final" / "metrics.json")
    assert metrics["distillation"]["teacher_name"] == "fsdd-embedding-lstm" and metrics["distillation"]["alpha"] == 0.3
    assert metrics["augmentation"]["copies"] == 1 and metrics["augmentation"]["cached"] is True
    assert metrics["augmentation"]["examples"] == 1000 and metrics["data"]["examples"] == 1000
    model = zoo.load(tmp_path / "final")  # published with the plain recipe: no teacher needed to load or fit it
    assert model.loss == "sparse_categorical_crossentropy"
