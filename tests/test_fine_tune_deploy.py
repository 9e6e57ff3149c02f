"""The user's loop after ``fit``: fine-tune a zoo model on labels of its own, save it, push it, export it in
every format (checked by the exporter on the user's labelled clips) and serve raw audio with class names;
and the input checks that keep a prediction from being silently wrong."""

import re
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

import htkeras.zoo as zoo
from htkeras import cli
from htkeras.data import load_fsdd
from htkeras.data.audio import MIN_WORD_SECONDS, resample
from htkeras.data.bundled import bundled_digits
from htkeras.deploy.export import export
from htkeras.deploy.serving import read_labels

from .hub_server import LocalHub
from .test_fsdd_training import _fsdd_or_skip
from .test_zoo_hub import hub_env

NAME = "fsdd-embedding-fdht-lstm"
README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
WALK_THROUGH = next(block for block in re.findall(r"```python\n(.*?)```", README, re.S)
                    if block.startswith("from htkeras import zoo\nfrom htkeras.deploy import ExportError"))


def write_wav(path, samples, rate, width=2):
    """``samples`` in [-1, 1] as a PCM WAV of ``width`` bytes per sample (1: unsigned 8-bit)."""
    x = np.clip(np.asarray(samples, np.float64), -1, 1)
    data = {1: lambda: np.round(x * 127 + 128).astype(np.uint8).tobytes(),
            2: lambda: np.round(x * 32767).astype("<i2").tobytes(),
            3: lambda: b"".join(int(v).to_bytes(3, "little", signed=True) for v in np.round(x * 8388607))}[width]()
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(data)


def write_float_wav(path, samples, rate):
    """``samples`` as a 32-bit IEEE float WAV (format 3), which the ``wave`` module does not write."""
    data = np.asarray(samples, "<f4").tobytes()
    fmt = (3).to_bytes(2, "little") + (1).to_bytes(2, "little") + rate.to_bytes(4, "little") + \
        (rate * 4).to_bytes(4, "little") + (4).to_bytes(2, "little") + (32).to_bytes(2, "little")
    body = b"WAVE" + b"fmt " + len(fmt).to_bytes(4, "little") + fmt + b"data" + len(data).to_bytes(4, "little") + data
    Path(path).write_bytes(b"RIFF" + len(body).to_bytes(4, "little") + body)


# -- save, load and push every model ---------------------------------------------------------------------
ROUND_TRIP = """
import json, sys
from pathlib import Path
import numpy as np
import htkeras.zoo as zoo
out, root = {}, Path(sys.argv[1])
for name in zoo.list_models():
    model = zoo.load(name)
    shape = [16 if size is None else size for size in zoo.resolve(name).spec["input_shape"]]
    x = 0.1 * np.random.default_rng(0).standard_normal((2, *shape)).astype("float32")
    saved = zoo.save(model, root / name)
    zoo.push(saved, f"org/{name}")
    again = [zoo.load(saved), zoo.load(f"hf://org/{name}")]
    out[name] = max(float(np.abs(m.predict(x, verbose=0) - model.predict(x, verbose=0)).max()) for m in again)
from htkeras.data.bundled import bundled_digits  # a fine-tuned speech model: labels of its own, pushed from memory
waves, digits, rate, _ = bundled_digits()
x = zoo.preprocess("fsdd-embedding-fdht-lstm", waves, sample_rate=rate)
tuned = zoo.fine_tune("fsdd-embedding-fdht-lstm", x, np.array(digits) // 5, labels=["low", "high"], epochs=1)
zoo.push(tuned, "org/tuned")
pushed = zoo.resolve("hf://org/tuned")
assert pushed.labels == ["low", "high"], pushed.labels
again = [zoo.load(zoo.save(tuned, root / "tuned")), zoo.load("hf://org/tuned")]
out["tuned"] = max(float(np.abs(m.predict(x, verbose=0) - tuned.predict(x, verbose=0)).max()) for m in again)
print("RESULT" + json.dumps(out))
"""


def test_every_builtin_model_saves_loads_and_pushes_unchanged(tmp_path):
    """``zoo.save`` of each built-in model as loaded (the speech models' feature standardization included),
    loaded back from the folder and from a local Hub after ``zoo.push``: the same outputs; likewise a speech
    model fine-tuned on labels of its own, pushed from memory."""
    import json

    with LocalHub({}) as hub:
        result = subprocess.run([sys.executable, "-c", ROUND_TRIP, str(tmp_path / "saved")],
                                env=hub_env(tmp_path, hub.url), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    differences = json.loads(result.stdout.split("RESULT", 1)[1])
    assert sorted(differences) == sorted([*zoo.list_models(), "tuned"])
    assert max(differences.values()) <= 1e-6, differences


# -- the README walk-through, on real recordings ----------------------------------------------------------
@pytest.fixture(scope="module")
def speakers():
    """FSDD recordings labelled by who speaks (labels no zoo model has): ``(clips at 16 kHz, class ids,
    names, take numbers)``."""
    _fsdd_or_skip()
    records = load_fsdd()[::4]
    names = sorted({r[2] for r in records})
    clips = [resample(r[0], 8000, 16000) for r in records]
    return clips, np.array([names.index(r[2]) for r in records]), names, np.array([r[3] for r in records])


def test_readme_walk_through_fine_tune_save_export_serve(speakers, tmp_path, monkeypatch, capsys):
    """The README's block as written: ``fine_tune`` on takes 0-29 of each speaker, then every export format
    checked by the exporter on the other takes (``check_folder``: one folder per label), then the SavedModel
    serving raw waveforms with class names. Fine-tuning beats the new head's start on held-out takes."""
    import tensorflow as tf

    clips, y, names, takes = speakers
    train, held = np.flatnonzero(takes < 30), np.flatnonzero(takes >= 30)
    monkeypatch.chdir(tmp_path)
    for index in held:
        folder = tmp_path / "my-check-clips" / names[y[index]]
        folder.mkdir(parents=True, exist_ok=True)
        write_wav(folder / f"{index}.wav", clips[index], 16000)
    namespace = {"my_clips": [clips[i] for i in train], "my_class_ids": y[train], "my_names": names}
    exec(compile(WALK_THROUGH, "README.md walk-through", "exec"), namespace)
    out = capsys.readouterr().out
    assert out.count("checked on") == 2 and "label (class name)" in out and "waveform float32" in out
    # the int8 file is checked on the same clips: written when it keeps the accuracy, refused (no file) otherwise
    int8 = tmp_path / "deploy" / "my-model.int8.tflite"
    kept = re.search(r"tflite-int8: .*\n.*\n  accuracy: Keras ([\d.]+)%, exported ([\d.]+)%", out)
    if kept:
        assert int8.exists() and float(kept[1]) - float(kept[2]) <= 1.0
    else:
        assert "int8 quantization lost" in out and "nothing was written" in out and not int8.exists()

    x_held = zoo.preprocess(NAME, [clips[i] for i in held], sample_rate=16000)
    start = zoo.load(NAME, num_classes=len(names)).evaluate(x_held, y[held], verbose=0)[1]
    tuned = zoo.load("my-model")
    after = tuned.evaluate(x_held, y[held], verbose=0)[1]
    print(f"speaker identity by fine_tune: {start:.3f} -> {after:.3f}")
    assert after > start + 0.2
    assert zoo.resolve("my-model").labels == names and "datasets:" not in (tmp_path / "my-model" / "README.md").read_text()
    assert read_labels(tmp_path / "deploy" / "my-model.labels.txt") == names
    assert read_labels(tmp_path / "deploy" / "my-model" / "1" / "assets" / "labels.txt") == names

    # raw waveforms of several lengths (shorter than, equal to and longer than the 1.5 s window): the same
    # probabilities and labels as zoo.preprocess + the Keras model
    serve = tf.saved_model.load("deploy/my-model/1").signatures["serving_default"]
    clip = clips[held[0]]
    for length in (len(clip), 24000, 24000 + 7001):
        raw = np.pad(clip, (4000, max(0, length - len(clip) - 4000)))[:length].astype(np.float32)
        served = serve(waveform=tf.constant(np.stack([raw, 0.5 * raw])))
        expected = tuned.predict(zoo.preprocess("my-model", [raw, 0.5 * raw], sample_rate=16000), verbose=0)
        np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-5)
        assert [v.decode() for v in served["label"].numpy()] == [names[i] for i in expected.argmax(axis=1)]


def test_export_of_a_fine_tuned_folder_from_the_command_line(speakers, tmp_path, capsys):
    """``htkeras export FOLDER --check-data DIR`` for a fine-tuned folder, and the in-memory model's TFLite
    export and ``--part head`` (both refused before)."""
    clips, y, names, takes = speakers
    pick = np.flatnonzero(takes < 3)
    x = zoo.preprocess(NAME, [clips[i] for i in pick], sample_rate=16000)
    model = zoo.fine_tune(NAME, x, y[pick], labels=names, epochs=2)
    folder = zoo.save(model, tmp_path / "tuned")
    for index in pick:
        (tmp_path / "clips" / names[y[index]]).mkdir(parents=True, exist_ok=True)
        write_wav(tmp_path / "clips" / names[y[index]] / f"{index}.wav", clips[index], 16000)
    cli.main(["export", str(folder), "--format", "tflite", "--out", str(tmp_path / "out"), "--part", "head",
              "--check-data", str(tmp_path / "clips")])
    out = capsys.readouterr().out
    assert "tuned-head.tflite" in out and f"checked on {len(pick)} real examples" in out and "class names:" in out
    report = export(model, "tflite", tmp_path / "memory")  # no data: the bundled clips, unlabelled
    assert report.check_examples == 10 and report.max_abs_difference <= 1e-4
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["export", str(folder), "--format", "tflite-int8", "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 1 and "--check-data" in capsys.readouterr().err
    (tmp_path / "clips" / "nobody").mkdir()
    with pytest.raises(ValueError, match=r"folders \['nobody'\] that are not labels"):
        export(str(folder), "saved_model", tmp_path / "out", check_folder=tmp_path / "clips")


def test_export_without_the_dataset_checks_on_the_bundled_clips(tmp_path, monkeypatch):
    """A machine without ../shared: the FSDD models export, checked on the recordings in the package."""
    monkeypatch.setenv("HTKERAS_DATA", str(tmp_path / "nothing"))
    report = export("fsdd-fdht-lstm", "tflite", tmp_path)
    assert report.check_examples == 10 and report.keras_accuracy is not None
    assert read_labels(tmp_path / "fsdd-fdht-lstm.labels.txt") == [str(d) for d in range(10)]


# -- inputs that cannot be silently wrong ------------------------------------------------------------------
def test_preprocess_needs_the_sample_rate_and_warns_of_clips_shorter_than_a_word():
    waves, _, rate, _ = bundled_digits()
    with pytest.raises(ValueError, match="pass sample_rate="):
        zoo.preprocess(NAME, waves[:1])
    with pytest.raises(ValueError, match="pass sample_rate="):
        zoo.preprocess("fsdd-fdht-lstm", waves[:1])
    loudest = int(np.argmax(np.abs(waves[1])))
    short = waves[1][max(0, loudest - int(0.05 * rate)):][: int(0.1 * rate)]
    with pytest.warns(UserWarning, match=f"less than {MIN_WORD_SECONDS:g} s"):
        zoo.preprocess(NAME, [short], sample_rate=rate)


def test_predict_reads_every_wav_encoding_and_goes_on_past_a_bad_file(tmp_path, capsys):
    waves, digits, rate, _ = bundled_digits()
    write_wav(tmp_path / "a8.wav", waves[2], rate, width=1)
    write_wav(tmp_path / "b24.wav", waves[3], rate, width=3)
    write_float_wav(tmp_path / "c32f.wav", waves[4], rate)
    (tmp_path / "d_broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    write_wav(tmp_path / "e16.wav", waves[5], rate)
    loudest = int(np.argmax(np.abs(waves[6])))
    write_wav(tmp_path / "f_short.wav", waves[6][max(0, loudest - int(0.05 * rate)):][: int(0.1 * rate)], rate)
    files = sorted(str(path) for path in tmp_path.glob("*.wav"))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["predict", NAME, *files])
    captured = capsys.readouterr()
    printed = dict(line.split(": ", 1) for line in captured.out.splitlines())
    assert exit_info.value.code == 1 and len(printed) == 5 and not any("d_broken" in path for path in printed)
    assert [printed[str(tmp_path / f)].split(" ")[0] for f in ("a8.wav", "b24.wav", "c32f.wav", "e16.wav")] == \
        ["2", "3", "4", "5"]
    errors = captured.err.splitlines()
    assert any(line.startswith("error: ") and "d_broken.wav" in line for line in errors)
    assert any(line.startswith("warning: ") and "f_short.wav" in line and "shorter than a spoken word" in line
               for line in errors)
    assert "1 of 6 inputs got no label" in captured.err
