"""Video folders: two real UCF11 clips (../shared/data/ucf11_sample) decoded by FFmpeg, sampled to the
papers' 6 frames of 160 x 120 x 3, and fed per frame (57,600 inputs, or the 1,280 features of a frozen
EfficientNet-Lite0) to an HT-LSTM."""

import os

import keras
import numpy as np
import pytest

import htkeras
from htkeras.data import list_clips, load_video_dataset, read_clip, resolve_data_dir

from .test_fsdd_training import data_or_skip


@pytest.fixture(scope="module")
def sample():
    data_or_skip("ucf11_sample")
    return load_video_dataset("ucf11", folder="ucf11_sample")


def test_ucf11_layout_and_decoding(sample):
    x, y, groups, labels = sample
    assert x.shape == (2, 6, 120, 160, 3) and x.dtype == np.uint8
    assert labels == ["basketball"] and y.tolist() == [0, 0] and groups.tolist() == ["v_shooting_01"] * 2
    assert x.std() > 20  # real pictures, not blank frames
    assert np.abs(x[:, 0].astype(int) - x[:, -1].astype(int)).mean() > 5  # the first and last frames differ
    first = read_clip(list_clips(resolve_data_dir(None, "ucf11_sample"), "ucf11")[0][0], num_frames=3, size=(32, 24))
    assert first.shape == (3, 24, 32, 3)


def test_layout_errors_are_clear(tmp_path):
    (tmp_path / "basketball").mkdir()
    (tmp_path / "basketball" / "clip.mpg").write_bytes(b"not a video")
    with pytest.raises(ValueError, match="does not follow the ucf11 layout"):
        list_clips(tmp_path, "ucf11")
    with pytest.raises(ValueError, match="could not be decoded"):
        read_clip(list_clips(tmp_path, "hmdb51")[0][0])
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="No videos"):
        list_clips(tmp_path / "empty", "hmdb51")
    with pytest.raises(FileNotFoundError, match="UCF_YouTube_Action"):
        load_video_dataset("ucf11", data_dir=tmp_path / "nowhere")


def test_ht_lstm_on_real_frames(sample):
    x, y, _, _ = sample
    frames = (x.reshape(2, 6, -1).astype("float32") - 127.0) / 128.0
    keras.utils.set_random_seed(0)
    cell = htkeras.make_cell("ht", 32, "lstm", ranks=4, input_modes=[8, 20, 20, 18])
    model = keras.Sequential([keras.Input((6, 57600)), keras.layers.RNN(cell), keras.layers.Dense(11, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    loss = model.train_on_batch(frames, y)
    assert np.isfinite(loss) and model.count_params() < 20_000


def test_training_command_for_video_configs(sample, tmp_path):
    """The shipped UCF11 configs are the exact command for users with the data; here the same command runs on
    the two sample clips (one epoch, the sample folder) and writes a loadable model folder."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "HTKERAS_CACHE": str(tmp_path / "cache")}
    # the pixel FDHT-LSTM, and the CNN + HT-LSTM (frozen ImageNet EfficientNet-Lite0 per frame, 1,280 features)
    for name, features in (("ucf11_ht_lstm", None), ("ucf11_fdht_lstm", 57600), ("ucf11_cnn_ht_lstm", 1280)):
        config = json.loads((root / "training" / "configs" / f"{name}.json").read_text())
        assert config["dataset"]["layout"] == "ucf11" and config["dataset"]["num_frames"] == 6
        if features is None:
            continue
        config["dataset"]["folder"] = "ucf11_sample"
        config["training"].update({"epochs": 1, "batch_size": 2})
        path, out = tmp_path / f"{name}.json", tmp_path / name
        path.write_text(json.dumps(config))
        result = subprocess.run([sys.executable, "-m", "training.train", str(path), "--out", str(out), "--quiet"],
                                cwd=root, capture_output=True, text=True, timeout=600, check=False, env=env)
        assert result.returncode == 0, result.stderr[-3000:]
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["data"]["examples"] == 2 and metrics["parameters"] < (10_000 if features == 57600 else 300_000)
        assert htkeras.zoo.load(out).predict(np.zeros((1, 6, features), "float32"), verbose=0).shape == (1, 1)
