"""htkeras.zoo: built-in models, handles, preprocessing bound to the weights, and fine-tuning."""

import hashlib
import json
import shutil

import keras
import numpy as np
import pytest

import htkeras.zoo as zoo
from htkeras.data import load_fsdd
from htkeras.data.fsdd import SAMPLE_RATE

from .test_fsdd_training import _fsdd_or_skip

CLASSIFIERS = ["fsdd-cnn-fdht-lstm", "fsdd-cnn-ht-lstm", "fsdd-fdht-lstm", "fsdd-ht-lstm", "fsdd-lstm"]
TESTED = ["fashion-fdht-lstm", "fashion-ht-lstm", "fashion-lstm", "jv-fdht-lstm", "jv-ht-lstm", "jv-lstm"]
NEXT_STEP = [f"{music}-{kind}gru" for music in ("jsb", "nottingham") for kind in ("fdht-", "", "ht-", "tt-")]
EMBEDDING = ["fsdd-embedding-fdht-lstm", "fsdd-embedding-ht-lstm", "fsdd-embedding-lstm"]  # tests/test_speech_zoo.py
NAMES = sorted(CLASSIFIERS + TESTED + NEXT_STEP + EMBEDDING)  # test-split and next-step models: tests/test_training_cli.py


def test_built_in_models_and_info():
    assert zoo.list_models() == NAMES
    details = zoo.info("fsdd-fdht-lstm")
    assert details["labels"] == [str(d) for d in range(10)]
    assert details["input"]["shape"] == [None, 40, 40] and details["parameters"] <= 10_000
    assert details["metrics"]["cross_validation"]["scheme"] == "leave one group out"
    assert details["licence"]["data"].startswith("CC BY-SA") and "CVPR 2021" in details["paper"]


def test_handle_errors_are_helpful(tmp_path):
    with pytest.raises(ValueError, match=r"Did you mean \['fsdd-ht-lstm'"):
        zoo.load("fsdd-htlstm")
    with pytest.raises(FileNotFoundError, match="missing htkeras.json, config.json, model.weights.h5, metrics.json"):
        zoo.load(tmp_path)
    with pytest.raises(ValueError, match="hf://org/repo"):
        zoo.load("hf://just-a-name")


@pytest.fixture(scope="module")
def george():
    _fsdd_or_skip()
    records = load_fsdd(speakers=["george"])[::10]
    return [r[0] for r in records], np.array([r[1] for r in records])


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_load_preprocess_predict_in_one_line_each(name, george, tmp_path):
    waveforms, digits = george
    x = zoo.preprocess(name, waveforms, sample_rate=SAMPLE_RATE)
    assert x.shape == (len(waveforms), 40, 40) and x.dtype == np.float32
    predicted = zoo.load(name).predict(x, verbose=0).argmax(axis=1)
    assert (predicted == digits).mean() > 0.8  # george was in the training data of the final weights
    local = shutil.copytree(zoo.resolve(name).folder, tmp_path / name)  # the same files as a local folder
    np.testing.assert_allclose(zoo.load(local).predict(x, verbose=0), zoo.load(name).predict(x, verbose=0), atol=1e-6)


def test_preprocess_resamples_other_rates(george):
    waveform = george[0][0]
    upsampled = np.interp(np.arange(2 * len(waveform)) / 2, np.arange(len(waveform)), waveform)
    a = zoo.preprocess("fsdd-lstm", [waveform], sample_rate=8000)
    b = zoo.preprocess("fsdd-lstm", [upsampled], sample_rate=16000)
    assert np.abs(a - b).mean() < 0.1 * np.abs(a).mean()


def test_fine_tune_on_speaker_identity(tmp_path):
    """A new 5-way head (who is speaking) on the pretrained digit model; a short fit improves on the start;
    ``zoo.save`` writes it as a zoo folder that loads back with the same predictions and measured metrics."""
    _fsdd_or_skip()
    records = load_fsdd()
    speakers = sorted({r[2] for r in records})
    x = zoo.preprocess("fsdd-fdht-lstm", [r[0] for r in records], sample_rate=8000)
    y = np.array([speakers.index(r[2]) for r in records])
    take = np.array([r[3] for r in records])
    train, test = take < 35, take >= 35  # recordings of every speaker on both sides, split by take
    keras.utils.set_random_seed(0)
    model = zoo.load("fsdd-fdht-lstm", num_classes=len(speakers))
    assert model.output_shape == (None, 5) and all(layer.trainable for layer in model.layers)
    before = model.evaluate(x[test], y[test], verbose=0)[1]
    model.fit(x[train], y[train], epochs=3, batch_size=32, verbose=0)
    after = model.evaluate(x[test], y[test], verbose=0)[1]
    print(f"speaker identity: {before:.3f} -> {after:.3f}")
    assert after > before + 0.2

    with pytest.raises(ValueError, match="5 classes, its base 10: pass labels="):
        zoo.save(model, tmp_path / "nolabels")
    saved = zoo.save(model, tmp_path / "speakers", labels=speakers, evaluate_on=(x[test], y[test]),
                     data="FSDD takes 35-49 of each speaker")
    np.testing.assert_allclose(zoo.load(saved).predict(x[test], verbose=0), model.predict(x[test], verbose=0), atol=1e-5)
    details = zoo.info(saved)
    assert details["labels"] == speakers and details["base"] == "fsdd-fdht-lstm" and details["name"] == "speakers"
    evaluation = details["metrics"]["evaluation"]
    assert evaluation["examples"] == int(test.sum()) and abs(evaluation["accuracy"] - after) < 1e-6
    card = (saved / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: keras\n") and f"{100 * after:.1f}%" in card
    with pytest.raises(FileExistsError):
        zoo.save(model, saved, labels=speakers)
    with pytest.raises(ValueError, match="does not have the architecture of its zoo spec"):
        zoo.save(zoo.load("fsdd-lstm", num_classes=5), tmp_path / "mismatch", base="fsdd-fdht-lstm", labels=speakers)

    frozen = zoo.load("fsdd-fdht-lstm", num_classes=5, freeze=True)
    assert [layer.trainable for layer in frozen.layers] == [False] * (len(frozen.layers) - 1) + [True]


def test_command_line(george, tmp_path, capsys):
    from htkeras import cli

    waveforms, digits = george
    np.save(tmp_path / "two.npy", zoo.preprocess("fsdd-lstm", waveforms[:2], sample_rate=8000))
    cli.main(["predict", "fsdd-lstm", str(tmp_path / "two.npy")])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[1].split()[0] for line in lines] == [str(d) for d in digits[:2]]
    cli.main(["evaluate", "fsdd-fdht-lstm", "--speakers", "george"])
    out = capsys.readouterr().out
    assert f"{zoo.info('fsdd-fdht-lstm')['parameters']:,} parameters" in out and "ms per example" in out
    assert "accuracy on 500 FSDD recordings (george)" in out
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["info", "fsdd-htlstm"])
    assert exit_info.value.code == 1 and "Did you mean" in capsys.readouterr().err
    (tmp_path / "noise.wav").write_text("not audio")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["predict", "fsdd-lstm", str(tmp_path / "noise.wav")])
    assert exit_info.value.code == 1 and "noise.wav is not a WAV file" in capsys.readouterr().err


def test_progress_bar_for_long_loops(capsys):
    from htkeras.progress import track

    assert list(track(range(3))) == [0, 1, 2] and capsys.readouterr().out == ""  # silent unless asked
    assert list(track(range(3), verbose=2, unit="clip")) == [0, 1, 2]
    assert "3/3" in capsys.readouterr().out


def test_preprocess_raw_images_and_series_as_load_data_does():
    """Fashion-MNIST: uint8 images -> row sequences; UEA: raw series of unequal length -> padded and
    standardized with the training statistics in htkeras.json; both as ``load_data`` gives them."""
    from htkeras.data import load_uea, read_ts
    from htkeras.data.uea import find_uea_file

    series, _, _ = read_ts(find_uea_file("JapaneseVowels", "test"))
    x, y, _ = zoo.load_data("jv-fdht-lstm")
    np.testing.assert_allclose(zoo.preprocess("jv-fdht-lstm", series), x, atol=1e-6)
    assert len(y) == len(load_uea("JapaneseVowels", "test")[1])
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    rows = zoo.preprocess("fashion-fdht-lstm", images)
    assert rows.shape == (3, 28, 28) and zoo.load("fashion-fdht-lstm").predict(rows, verbose=0).shape == (3, 10)
    assert zoo.info("fashion-lstm")["labels"][9] == "Ankle boot"


def _copy(name, tmp_path):
    return shutil.copytree(zoo.resolve(name).folder, tmp_path / name)


def forge_config(folder, config) -> None:
    """Write ``config`` into the zoo ``folder`` and recompute its checksum, as an attacker would."""
    (folder / "htkeras.json").write_text(json.dumps(config))
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["sha256"]["htkeras.json"] = hashlib.sha256((folder / "htkeras.json").read_bytes()).hexdigest()
    (folder / "metadata.json").write_text(json.dumps(metadata))


def test_a_zoo_model_is_read_and_validated_once(tmp_path):
    """``resolve`` gives a ``ZooModel`` whose files were checked against their SHA-256; every entry point takes
    it as it is, so nothing is read again."""
    model = zoo.resolve("jv-fdht-lstm")
    assert isinstance(model, zoo.ZooModel) and zoo.resolve(model) is model
    assert model.name == "jv-fdht-lstm" and model.labels == [str(k) for k in range(1, 10)]
    assert set(model.checksums) >= {"config.json", "model.weights.h5", "metrics.json", "README.md"}
    assert zoo.info(model)["sha256"] == model.checksums and zoo.origin(zoo.load(model)) is model


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "model.weights.h5").write_bytes((f / "model.weights.h5").read_bytes()[:-7]),
     "model.weights.h5 does not match its SHA-256"),
    (lambda f: (f / "model.weights.h5").write_bytes(b""), "model.weights.h5 does not match its SHA-256"),
    (lambda f: (f / "model.weights.h5").write_bytes(bytes([(f / "model.weights.h5").read_bytes()[0] ^ 1]) +
                                                   (f / "model.weights.h5").read_bytes()[1:]),
     "model.weights.h5 does not match its SHA-256"),
    (lambda f: (f / "config.json").write_text("{"), "config.json does not match its SHA-256"),
    (lambda f: (f / "metadata.json").unlink(), "missing metadata.json"),
    (lambda f: (f / "metadata.json").write_text("{}"), "does not list the SHA-256"),
    (lambda f: (f / "metadata.json").write_text('{"sha256": {"htkeras.json": "0", "config.json": "0", "model.weights.h5": "0", '
                                                 '"metrics.json": "0", "../x": "0"}}'), "not a zoo model file"),
])
def test_a_damaged_folder_is_named_in_one_line(damage, message, tmp_path):
    folder = _copy("jv-fdht-lstm", tmp_path)
    damage(folder)
    with pytest.raises((ValueError, FileNotFoundError), match=message) as error:
        zoo.load(folder)
    assert "\n" not in str(error.value) and str(folder) in str(error.value)


@pytest.mark.parametrize("edit, message", [
    (lambda c: {**c, "name": "../../x"}, "'name' must be 1-96 letters"),
    (lambda c: {**c, "name": "/tmp/x"}, "'name' must be"),
    (lambda c: {**c, "name": ""}, "'name' must be"),
    (lambda c: [c], "must be a JSON object"),
    (lambda c: {k: v for k, v in c.items() if k != "model_spec"}, "'model_spec' must be a dict"),
    (lambda c: {**c, "labels": c["labels"][:3]}, "3 labels for a head of 9 classes"),
])
def test_config_schema_and_names_are_checked_before_use(edit, message, tmp_path):
    """A config that cannot be right (or whose name would become a path) is refused by the writer, and by the
    reader even when its checksums were recomputed for it."""
    from htkeras.zoo.artifact import write_files

    folder = _copy("jv-fdht-lstm", tmp_path)
    config = edit(json.loads((folder / "htkeras.json").read_text()))
    with pytest.raises(ValueError, match=message):
        write_files(folder, {"htkeras.json": json.dumps(config)})
    assert zoo.load(folder) is not None  # the refused write left the folder as it was
    forge_config(folder, config)
    with pytest.raises(ValueError, match=message):
        zoo.resolve(folder)


def test_writing_into_a_folder_seals_it_last(tmp_path, monkeypatch):
    """A write that dies before the end leaves a folder that fails its checks, never one that passes with
    mixed files; a finished write reads back with new checksums."""
    import os

    from htkeras.zoo import artifact

    folder = _copy("jv-fdht-lstm", tmp_path)
    card = "---\nlibrary_name: keras\n---\n# new card\n"
    real_replace = os.replace

    def dies_before_metadata(source, target):
        if str(target).endswith("metadata.json"):
            raise OSError("killed")
        return real_replace(source, target)

    monkeypatch.setattr(artifact.os, "replace", dies_before_metadata)
    with pytest.raises(OSError, match="killed"):
        artifact.write_files(folder, {"README.md": card})
    with pytest.raises(FileNotFoundError, match="missing metadata.json"):
        zoo.resolve(folder)
    monkeypatch.setattr(artifact.os, "replace", real_replace)
    with pytest.raises(FileNotFoundError, match="missing metadata.json"):  # nothing vouches for its files now
        artifact.write_files(folder, {"README.md": card})
    vouched = [name for name in zoo.resolve("jv-fdht-lstm").checksums if name != "README.md"]  # the caller does
    written = artifact.write_files(folder, {"README.md": card}, keep=vouched)
    assert (folder / "README.md").read_text() == card and written.checksums["README.md"] != zoo.resolve(
        "jv-fdht-lstm").checksums["README.md"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left behind


@pytest.mark.parametrize("name", NAMES)
def test_evaluate_runs_for_every_built_in_model(name, capsys):
    """``htkeras evaluate NAME`` for every built-in model on its own real data (FSDD: one speaker, to keep it
    short): a classifier's accuracy, a music model's test NLL, which is the one its training run measured."""
    from htkeras import cli

    from .test_fsdd_training import data_or_skip

    if name in NEXT_STEP or name.startswith("fsdd"):  # the other sets come from installed packages
        data_or_skip("poly_music" if name in NEXT_STEP else "fsdd")
    cli.main(["evaluate", name, *(["--speakers", "george"] if name.startswith("fsdd") else [])])
    out = capsys.readouterr().out
    if name in NEXT_STEP:
        measured = zoo.info(name)["metrics"]["nll"]["test"]
        nll = float(out.split("nats per frame")[0].split(": ")[-1])
        assert nll == pytest.approx(measured, abs=2e-3), out
    else:
        assert "accuracy on" in out and "ms per example at batch 1" in out, out
