"""Reliability and security, round 3: every attack and accident of the issue, as a hostile or careless user
would try it. Each test failed on the code before this round; each now ends in a one-line error (or the
right answer) and leaves nothing written outside its target."""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tracemalloc
import wave
from pathlib import Path

import h5py
import numpy as np
import pytest

from htkeras import zoo
from htkeras.data import audio
from htkeras.data.fsdd import load_fsdd
from htkeras.deploy import export as exporting
from htkeras.zoo.artifact import REQUIRED_FILES, ZooModel
from training import checkpoint, train

from .hub_server import LocalHub, folder_files
from .test_reliability import run_cli
from .test_zoo import _copy, forge_config
from .test_zoo_hub import hub_env, run_client

NAME = "jv-fdht-lstm"  # its data is bundled in aeon: fast, and no ../shared needed
ROOT = Path(__file__).resolve().parent.parent
CONFIG = {"name": "jv-tiny", "task": "vowels", "dataset": {"name": "uea", "set": "JapaneseVowels"},
          "model": {"kind": "fdht", "cell": "lstm", "units": 4, "ranks": 2, "options": {}},
          "training": {"epochs": 1, "batch_size": 64, "learning_rate": 0.01, "seed": 0}}


def reseal(folder, names=None) -> None:
    """Recompute ``metadata.json`` for the files ``names`` (default: those it lists), as an attacker would."""
    metadata = json.loads((folder / "metadata.json").read_text())
    names = list(metadata["sha256"]) if names is None else names
    metadata["sha256"] = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in names}
    (folder / "metadata.json").write_text(json.dumps(metadata))


def config_file(tmp_path, **changes) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**CONFIG, **changes}))
    return path


def train_cli(argv, capsys) -> str:
    """``training.train`` in this process; its one-line error (exit 2)."""
    with pytest.raises(SystemExit) as exit_info:
        train.main([*map(str, argv), "--quiet"])
    error = capsys.readouterr().err
    assert exit_info.value.code == 2 and error.startswith("error: ") and error.count("\n") == 1, error
    return error


def write_wav(path, rate, samples=b"\0\0" * 100, tag=1, bits=16, channels=1, extensible=False):
    """A WAV file written byte by byte (the ``wave`` module writes 16-bit PCM only)."""
    fmt = (tag if not extensible else 0xFFFE).to_bytes(2, "little") + channels.to_bytes(2, "little")
    fmt += rate.to_bytes(4, "little") + (rate * channels * bits // 8 % 2**32).to_bytes(4, "little")
    fmt += (channels * bits // 8).to_bytes(2, "little") + bits.to_bytes(2, "little")
    if extensible:
        fmt += (22).to_bytes(2, "little") + bits.to_bytes(2, "little") + (0).to_bytes(4, "little")
        fmt += tag.to_bytes(2, "little") + bytes(14)
    body = b"WAVE" + b"fmt " + len(fmt).to_bytes(4, "little") + fmt + b"data" + len(samples).to_bytes(4, "little") + samples
    Path(path).write_bytes(b"RIFF" + len(body).to_bytes(4, "little") + body)
    return path


# -- High ------------------------------------------------------------------------------------------------
def test_training_into_a_model_folder_is_refused_and_overwrite_keeps_nothing_of_the_old_model(tmp_path, capsys):
    out = _copy("fsdd-fdht-lstm", tmp_path)  # a card, a cross-validation and curves of another model
    config = config_file(tmp_path)
    assert "holds a zoo model already: pass --overwrite" in train_cli([config, "--out", out], capsys)
    assert zoo.resolve(out).name == "fsdd-fdht-lstm"  # untouched
    train.main([str(config), "--out", str(out), "--overwrite", "--quiet"])
    new = zoo.resolve(out)
    assert new.name == "jv-tiny" and set(new.files()) == {"htkeras.json", "config.json", "model.weights.h5", "metrics.json",
                                                          "curves.png", "metadata.json"}
    assert not (out / "README.md").exists() and not (out / "cv.json").exists()
    assert new.metrics["cross_validation"] is None and new.metrics["parameters"] < 1000


def test_the_final_run_refuses_a_cross_validation_of_another_config(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    other = {**CONFIG, "training": {**CONFIG["training"], "learning_rate": 0.5, "epochs": "cv", "cv_epochs": 9}}
    (out / "cv.json").write_text(json.dumps({"config": other, "chosen_epochs": 7, "accuracy_mean": 0.99}))
    config = config_file(tmp_path, training={**other["training"], "learning_rate": 0.01})
    error = train_cli([config, "--out", out], capsys)
    assert "was made with another config (differs in: training.learning_rate)" in error
    assert sorted(p.name for p in out.iterdir()) == ["cv.json"]


PUSH = """
import sys
import htkeras.zoo as zoo
print(zoo.push(sys.argv[1], "org/pushed"))
print("RESULT{}")
"""


def test_push_uploads_only_what_metadata_vouches_for_and_follows_no_link(tmp_path):
    folder = _copy(NAME, tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("the secret")
    for name in ("README.md", "cv.json", "curves.png"):
        (folder / name).unlink(missing_ok=True)
    (folder / "curves.png").symlink_to(secret)
    (folder / "cv.json").symlink_to("/etc/hostname")
    reseal(folder, list(REQUIRED_FILES))
    with LocalHub({}) as hub:
        run_client(tmp_path, hub.url, str(folder), script=PUSH)
        files = hub.commits[("org/pushed", hub.refs[("org/pushed", "main")])]
    assert set(files) == {*REQUIRED_FILES, "metadata.json"}
    assert not any(b"the secret" in data for data in files.values())
    reseal(folder, [*REQUIRED_FILES, "curves.png"])  # a listed link is refused outright
    with pytest.raises(ValueError, match="curves.png is a symbolic link"):
        zoo.resolve(folder)


@pytest.mark.parametrize("handle", ["hf://org/repo@../../../../tmp/victim", "hf://org/repo@main/../../x",
                                    "hf://org/repo@/etc", "hf://org/repo@.hidden", "hf://org/../repo"])
def test_a_hub_revision_can_never_become_a_path(handle, tmp_path, capsys):
    assert "A Hub handle is" in run_cli(["info", handle], capsys)
    from htkeras.zoo.resolver import HubHandle

    with pytest.raises(ValueError, match="A Hub handle is hf://org/repo"):
        HubHandle.parse(handle)
    assert HubHandle.parse("hf://org/repo@refs/pr/1") == HubHandle("org/repo", "refs/pr/1")


@pytest.mark.parametrize("lie", [{"commit": "../../../../outside"}, {"etag": "../../../../outside/blob"},
                                 {"size": 3 << 30}])
def test_a_hostile_hub_is_refused_before_anything_is_written_outside_the_cache(lie, tmp_path):
    script = """
import sys
import htkeras.zoo as zoo
try:
    zoo.resolve(sys.argv[1])
    print("RESULT" + '"loaded"')
except ValueError as error:
    print("RESULT" + __import__("json").dumps(str(error)))
"""
    with LocalHub({"org/evil": {"main": folder_files(zoo.resolve(NAME).folder)}}, lies=lie) as hub:
        message = run_client(tmp_path, hub.url, "hf://org/evil", script=script)
    assert message != "loaded" and "refused" in message and "\n" not in message
    cache = tmp_path / "hf" / "hub"
    written = [p for p in tmp_path.rglob("*") if p.is_file() and cache not in p.parents]
    assert written == [], written  # nothing outside the Hub cache


def test_plain_http_endpoints_are_refused_unless_asked(tmp_path):
    env = {**hub_env(tmp_path, "http://127.0.0.1:9"), "HTKERAS_ALLOW_HTTP_HUB": ""}
    command = [sys.executable, "-c", "import htkeras_cli; htkeras_cli.main(['info', 'hf://org/repo'])"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 1 and "is not https: refused" in result.stderr and result.stderr.count("\n") == 1


def test_nan_and_empty_inputs_get_no_label(tmp_path, capsys):
    np.save(tmp_path / "nan.npy", np.full((29, 12), np.nan, np.float32))
    assert "NaN or infinite values in" in run_cli(["predict", NAME, str(tmp_path / "nan.npy")], capsys)
    np.save(tmp_path / "empty.npy", np.zeros((0, 29, 12), np.float32))
    assert "(empty): there is nothing to classify" in run_cli(["predict", NAME, str(tmp_path / "empty.npy")], capsys)
    np.save(tmp_path / "wrong.npy", np.ones((5, 3), np.float32))
    assert "the model takes [29, 12]" in run_cli(["predict", NAME, str(tmp_path / "wrong.npy")], capsys)
    with pytest.raises(ValueError, match="NaN or infinite"):
        zoo.preprocess(NAME, [np.full((10, 12), np.nan)])


# -- Medium ----------------------------------------------------------------------------------------------
def test_a_weights_file_declaring_huge_datasets_is_refused_before_reading(tmp_path):
    folder = _copy(NAME, tmp_path)
    with h5py.File(folder / "model.weights.h5", "r+") as f:
        name = "layers/dense/vars/0"
        del f[name]
        f.create_dataset(name, shape=(1 << 30,), dtype="float32", chunks=(1024,))  # 4 GiB declared, nothing stored
    reseal(folder)
    assert (folder / "model.weights.h5").stat().st_size < 1 << 20
    tracemalloc.start()
    with pytest.raises(ValueError, match="does not hold the weights of this model"):
        zoo.load(folder)
    assert tracemalloc.get_traced_memory()[1] < 200 << 20
    tracemalloc.stop()


def test_a_truncated_weights_file_is_named_in_one_line(tmp_path):
    folder = _copy(NAME, tmp_path)
    data = (folder / "model.weights.h5").read_bytes()
    (folder / "model.weights.h5").write_bytes(data[: len(data) // 2])
    reseal(folder)
    with pytest.raises(ValueError, match="model.weights.h5 is not a readable weights file") as error:
        zoo.load(folder)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("rate", [1, 999_983, 4_294_967_291])
def test_absurd_sample_rates_are_refused(rate, tmp_path):
    with pytest.raises(ValueError, match="whole number of Hz from 1,000 to 384,000"):
        audio.read_wav(write_wav(tmp_path / "tiny.wav", rate))
    with pytest.raises(ValueError, match="whole number of Hz"):
        zoo.preprocess("fsdd-embedding-fdht-lstm", [np.ones(100) * 0.1], sample_rate=rate)


@pytest.mark.parametrize("key, value, message", [
    ("dataset", {"name": "fsdd", "input": "waveform", "sample_rate": 1}, "'sample_rate' must be a whole number"),
    ("dataset", {"name": "fsdd", "num_frames": 10**9, "num_mels": 40}, "'num_frames' must be a positive integer"),
    ("dataset", {"name": "fsdd", "num_frames": 1e9, "num_mels": 40}, "'num_frames' must be a positive integer"),
])
def test_config_sizes_are_bounded(key, value, message, tmp_path):
    folder = _copy("fsdd-fdht-lstm", tmp_path)
    forge_config(folder, {**json.loads((folder / "htkeras.json").read_text()), key: value})
    with pytest.raises(ValueError, match=message):
        zoo.resolve(folder)


def test_a_folder_here_does_not_shadow_a_built_in_name(tmp_path, monkeypatch):
    shutil.copytree(zoo.resolve(NAME).folder, tmp_path / "fsdd-fdht-lstm")
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UserWarning, match="pass ./fsdd-fdht-lstm for the folder"):
        assert zoo.resolve("fsdd-fdht-lstm").name == "fsdd-fdht-lstm"
    assert zoo.resolve("./fsdd-fdht-lstm").name == NAME


def test_integer_waveforms_are_scaled_by_their_type():
    waves = [w for w, *_ in load_fsdd(speakers=["george"])[:3]] if Path("../shared/data/fsdd").is_dir() else [
        np.sin(np.arange(8000) / 5.0).astype(np.float32) * 0.5]
    as_int16 = [np.round(w * 32767).astype(np.int16) for w in waves]
    expected = zoo.preprocess("fsdd-embedding-fdht-lstm", [w.astype(np.float32) / 32768 for w in as_int16], sample_rate=8000)
    np.testing.assert_allclose(zoo.preprocess("fsdd-embedding-fdht-lstm", as_int16, sample_rate=8000), expected, atol=1e-6)
    with pytest.raises(ValueError, match="float waveforms are in \\[-1, 1\\]"):
        zoo.preprocess("fsdd-embedding-fdht-lstm", [w.astype(np.float32) for w in as_int16], sample_rate=8000)


def test_one_training_run_at_a_time_per_folder(tmp_path, capsys):
    out = tmp_path / "run"
    with open(tmp_path / ".run.lock", "w") as held:  # another process's lock, as writing() takes it
        fcntl.flock(held, fcntl.LOCK_EX)
        assert "is being written by another htkeras process" in train_cli([config_file(tmp_path), "--out", out], capsys)
    assert not out.exists()
    from htkeras.files import writing

    with writing(tmp_path / "run"):
        script = f"from htkeras.files import writing\nwith writing({str(tmp_path / 'run')!r}): pass"
        other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert "BusyError" in other.stderr and "being written by another" in other.stderr


def test_fifos_never_make_a_reader_wait(tmp_path, capsys):
    fifo = tmp_path / "x.wav"
    os.mkfifo(fifo)
    assert "is not a regular file" in run_cli(["predict", "fsdd-lstm", str(fifo)], capsys)
    os.mkfifo(tmp_path / "y.npy")
    assert "is not a regular file" in run_cli(["predict", NAME, str(tmp_path / "y.npy")], capsys)
    recordings = tmp_path / "fsdd" / "recordings"
    recordings.mkdir(parents=True)
    os.mkfifo(recordings / "1_george_0.wav")
    with pytest.raises(ValueError, match="1_george_0.wav is not a regular file"):
        load_fsdd(tmp_path)


def test_absurd_cpu_device_counts_and_validation_fractions_are_refused(tmp_path, capsys):
    assert "at most 64 logical CPU devices" in train_cli([config_file(tmp_path), "--cpu-devices", "5000"], capsys)
    whole = config_file(tmp_path, training={**CONFIG["training"], "validation": {"fraction": 1.0}})
    assert "validation.fraction must be a positive number of at most 0.5" in train_cli([whole, "--out", tmp_path / "r"],
                                                                                       capsys)
    assert not (tmp_path / "r").exists()
    frames = config_file(tmp_path, dataset={"name": "fsdd", "num_frames": 10**9, "num_mels": 40})
    assert "dataset 'num_frames' must be a positive integer" in train_cli([frames, "--out", tmp_path / "r"], capsys)


def test_checksums_are_computed_in_chunks(tmp_path):
    folder = _copy(NAME, tmp_path)
    with open(folder / "curves.png", "wb") as f:  # a sparse file of 15 MiB, listed with another digest
        f.truncate(15 << 20)
    tracemalloc.start()
    with pytest.raises(ValueError, match="curves.png does not match its SHA-256"):
        ZooModel.read(folder)
    assert tracemalloc.get_traced_memory()[1] < 4 << 20
    tracemalloc.stop()
    with open(folder / "curves.png", "wb") as f:
        f.truncate(17 << 20)
    with pytest.raises(ValueError, match="more than the 16,777,216 allowed"):
        ZooModel.read(folder)


@pytest.mark.parametrize("edit, message", [
    (lambda c: {**c, "name": {"a": json.loads("[" * 5000 + "]" * 5000)}}, "nested too deeply"),
    (lambda c: {**c, "model_spec": {**c["model_spec"], "units": 10**9}}, "'units' must be a positive integer of at most"),
    (lambda c: {**c, "model_spec": {**c["model_spec"], "num_classes": "9"}}, "'num_classes' must be a positive integer"),
])
def test_forged_configs_give_one_line_errors(edit, message, tmp_path):
    folder = _copy(NAME, tmp_path)
    if "nested" in message:
        (folder / "htkeras.json").write_text('{"name": ' + "[" * 100_000 + "]" * 100_000 + "}")
        reseal(folder)
    else:
        forge_config(folder, edit(json.loads((folder / "htkeras.json").read_text())))
    with pytest.raises(ValueError, match=message) as error:
        zoo.resolve(folder)
    assert "\n" not in str(error.value)


def test_metrics_without_a_data_name_are_refused(tmp_path):
    folder = _copy(NAME, tmp_path)
    metrics = json.loads((folder / "metrics.json").read_text())
    (folder / "metrics.json").write_text(json.dumps({**metrics, "data": {}}))
    reseal(folder)
    with pytest.raises(ValueError, match="metrics.json data: 'name' must be a str"):
        zoo.info(folder)


def test_training_mistakes_found_late_and_a_full_disk_are_one_line_errors(tmp_path, capsys, monkeypatch):
    bad_kind = config_file(tmp_path, model={**CONFIG["model"], "kind": "nonsense"})
    assert "error: " in train_cli([bad_kind, "--out", tmp_path / "a"], capsys)
    monkeypatch.setattr(checkpoint.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(1 << 30, 1 << 30, 1000))
    error = train_cli([config_file(tmp_path), "--out", tmp_path / "b"], capsys)
    assert "has 1,000 bytes free; a checkpoint needs about" in error and not (tmp_path / "b" / "checkpoint" / "LATEST").exists()


def test_more_replicas_than_examples_in_a_batch_is_refused(tmp_path):
    config = config_file(tmp_path, training={**CONFIG["training"], "batch_size": 1})
    result = subprocess.run([sys.executable, "-m", "training.train", str(config), "--out", str(tmp_path / "r"),
                             "--distribute", "mirrored", "--cpu-devices", "2"], cwd=ROOT, capture_output=True, text=True,
                            check=False, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 2 and "is smaller than the 2 replicas" in result.stderr.splitlines()[-1]


def test_untrusted_strings_are_printed_escaped(tmp_path, capsys):
    folder = _copy(NAME, tmp_path)
    config = json.loads((folder / "htkeras.json").read_text())
    forge_config(folder, {**config, "labels": ["\x1b[2J\x1b[Hpwned\nfake: 9 (1.00)", *config["labels"][1:]]})
    np.save(tmp_path / "x.npy", zoo.load_data(NAME)[0][:20])
    cli_main(["predict", str(folder), str(tmp_path / "x.npy")])
    out = capsys.readouterr().out
    assert "\x1b" not in out and len(out.splitlines()) == 20


def cli_main(argv):
    from htkeras import cli

    cli.main(argv)


# -- Low -------------------------------------------------------------------------------------------------
def test_exports_lock_their_target_clean_a_killed_ones_staging_and_refuse_an_existing_one_first(tmp_path, monkeypatch):
    x, y, _ = zoo.load_data(NAME)
    target = tmp_path / f"{NAME}.tflite"
    (tmp_path / f".{NAME}.tflite.staging-killed").mkdir()  # what a killed export left
    with open(tmp_path / f".{NAME}.tflite.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(OSError, match="being written by another"):
            exporting.export(NAME, "tflite", tmp_path, data=(x[:20], y[:20]))
    exporting.export(NAME, "tflite", tmp_path, data=(x[:20], y[:20]))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{NAME}.labels.txt", target.name]
    monkeypatch.setattr(exporting.zoo, "load", lambda *a: pytest.fail("the model was loaded before the check"))
    with pytest.raises(FileExistsError, match="--overwrite"):
        exporting.export(NAME, "tflite", tmp_path, data=(x[:20], y[:20]))


@pytest.mark.parametrize("tag, bits, extensible, encode", [
    (1, 8, False, lambda x: np.round(x * 127 + 128).astype(np.uint8).tobytes()),
    (1, 16, True, lambda x: np.round(x * 32767).astype("<i2").tobytes()),
    (1, 24, False, lambda x: b"".join(int(v).to_bytes(3, "little", signed=True) for v in np.round(x * (2**23 - 1)))),
    (1, 32, True, lambda x: np.round(x * (2**31 - 1)).astype("<i4").tobytes()),
    (3, 32, False, lambda x: x.astype("<f4").tobytes()),
    (3, 64, True, lambda x: x.astype("<f8").tobytes()),
])
def test_wav_encodings(tag, bits, extensible, encode, tmp_path):
    x = (0.5 * np.sin(np.arange(2000) / 7.0)).astype(np.float32)
    stereo = np.repeat(x, 2)  # two equal channels
    path = write_wav(tmp_path / "x.wav", 16000, encode(stereo), tag=tag, bits=bits, channels=2, extensible=extensible)
    waveform, rate = audio.read_wav(path)
    assert rate == 16000 and waveform.shape == x.shape
    np.testing.assert_allclose(waveform, x, atol=2.0 / 2 ** min(bits, 24))


def test_wav_files_that_cannot_be_read(tmp_path):
    with wave.open(str(tmp_path / "ok.wav"), "wb") as f:
        f.setnchannels(1), f.setsampwidth(2), f.setframerate(8000), f.writeframes(b"\1\0" * 10)
    assert audio.read_wav(tmp_path / "ok.wav")[1] == 8000
    nan = write_wav(tmp_path / "nan.wav", 8000, np.full(10, np.nan, "<f4").tobytes(), tag=3, bits=32)
    with pytest.raises(ValueError, match="NaN or infinite"):
        audio.read_wav(nan)
    with pytest.raises(ValueError, match="format 0x2, 4-bit"):
        audio.read_wav(write_wav(tmp_path / "adpcm.wav", 8000, tag=2, bits=4))
    long = write_wav(tmp_path / "long.wav", 1000, b"")
    data = bytearray(long.read_bytes())
    data[-4:] = (2 * 1000 * 700).to_bytes(4, "little")  # declares 700 s
    long.write_bytes(bytes(data) + bytes(2 * 1000 * 700))
    with pytest.raises(ValueError, match="at most 600 s are read at once"):
        audio.read_wav(long)


@pytest.mark.parametrize("rate", [16000.5, "16000", True])
def test_sample_rates_are_never_coerced(rate):
    with pytest.raises(ValueError, match="whole number of Hz"):
        zoo.preprocess("fsdd-embedding-fdht-lstm", [np.ones(100) * 0.1], sample_rate=rate)


def test_fashion_images_must_be_pixels():
    images = np.random.default_rng(0).integers(0, 256, (2, 28, 28)).astype(np.uint8)
    assert zoo.preprocess("fashion-fdht-lstm", images).shape == (2, 28, 28)
    with pytest.raises(ValueError, match=r"Expected uint8 images .* \(images \* 255\)"):
        zoo.preprocess("fashion-fdht-lstm", images / 255.0)
    with pytest.raises(ValueError, match="from 0 to 255"):
        zoo.preprocess("fashion-fdht-lstm", images.astype(np.int32) * 2)


def test_a_changed_backbone_cache_file_is_converted_again(tmp_path, monkeypatch):
    from htkeras.backbones import weights_cache

    monkeypatch.setenv("HTKERAS_CACHE", str(tmp_path))
    path = weights_cache.save_cached(lambda p: Path(p).write_bytes(b"weights"), "x.weights.h5")
    assert weights_cache.cached("x.weights.h5") == path
    path.write_bytes(b"changed")
    assert weights_cache.cached("x.weights.h5") is None


@pytest.mark.parametrize("name", ["12_george_0.wav", "-1_george_0.wav", "1_george.wav", "x.wav"])
def test_fsdd_file_names_are_checked_and_named(name, tmp_path):
    recordings = tmp_path / "fsdd" / "recordings"
    recordings.mkdir(parents=True)
    with wave.open(str(recordings / name), "wb") as f:
        f.setnchannels(1), f.setsampwidth(2), f.setframerate(8000), f.writeframes(b"\1\0" * 10)
    with pytest.raises(ValueError, match=f"{name} is not named {{digit 0-9}}_{{speaker}}_{{take}}.wav"):
        load_fsdd(tmp_path)


def test_a_damaged_hub_cache_is_downloaded_again(tmp_path):
    files = folder_files(zoo.resolve(NAME).folder)
    with LocalHub({"org/vowels": {"main": files}}) as hub:
        script = "import sys, htkeras.zoo as zoo\nzoo.resolve(sys.argv[1])\nprint('RESULT' + '1')"
        run_client(tmp_path, hub.url, "hf://org/vowels", script=script)
        blob = next(p for p in (tmp_path / "hf" / "hub").rglob("blobs/*") if p.read_bytes() == files["config.json"])
        blob.write_bytes(blob.read_bytes().replace(b"fdht", b"fdhu"))
        assert run_client(tmp_path, hub.url, "hf://org/vowels", script=script) == 1
        assert hub.requests[("org/vowels", "config.json")] == 2
    assert blob.read_bytes() == files["config.json"]


def test_a_closed_pipe_is_no_error():
    """``htkeras list | head -1`` where ``head`` has gone before the first line: no traceback, no error."""
    read, write = os.pipe()
    os.close(read)
    result = subprocess.run([sys.executable, "-c", "import htkeras_cli; htkeras_cli.main(['list'])"], cwd=ROOT,
                            stdout=write, stderr=subprocess.PIPE, text=True, check=False)
    os.close(write)
    assert result.returncode == 1 and result.stderr == ""
