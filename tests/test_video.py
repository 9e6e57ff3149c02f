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


def linked_clips(sample_root, folder, links: int) -> list:
    """The real clips, each linked ``links`` times under ``folder`` in the UCF11 layout."""
    paths = []
    for k, (path, label, group) in enumerate(list_clips(sample_root, "ucf11")):
        for j in range(links):
            link = folder / label / f"{group}_{j:03d}" / f"clip_{k}_{j:03d}{path.suffix}"
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path.resolve())
            paths.append(str(link))
    return paths


def test_streamed_clips_train_in_bounded_memory(sample, tmp_path):
    """One epoch of ``fit`` on the two real clips linked 50 times (100 clips) and 200 times (400 clips), decoded
    per batch by 2 threads: the traced peak memory (NumPy's buffers included) does not grow with the clips,
    and stays far below the 400 clips' arrays (which a loader decoding everything into memory holds)."""
    import tracemalloc

    from htkeras.data.streaming import ClipSource

    root = resolve_data_dir(None, "ucf11_sample")
    sources = {links: ClipSource(tuple(linked_clips(root, tmp_path / f"x{links}", links)), size=(32, 24))
               for links in (8, 50, 200)}
    model = keras.Sequential([keras.Input(sources[8].shape[1:]), keras.layers.GlobalAveragePooling1D(),
                              keras.layers.Dense(1)])
    model.compile("sgd", "mse")

    def peak(source) -> int:
        batches = source.batches(np.zeros(len(source), "float32"), batch_size=8, shuffle=True, workers=2)
        tracemalloc.start()
        try:
            model.fit(batches, epochs=1, verbose=0)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(sources[8])  # warm-up: the train function is traced once
    small, large = peak(sources[50]), peak(sources[200])
    whole = len(sources[200]) * np.prod(sources[200].shape[1:]) * 4  # float32 inputs of every clip
    assert large < 1.5 * small, (small, large)  # room for the threads' timing; all 400 clips would be 4x the 100
    assert large < whole / 4, (large, whole)


def test_decoded_frames_are_cached_on_disk(sample, tmp_path):
    from htkeras.data.streaming import ClipSource, stream_video_dataset

    source, y, groups, labels = stream_video_dataset("ucf11", folder="ucf11_sample", size=(32, 24),
                                                     cache_dir=tmp_path / "cache")
    assert source.shape == (2, 6, 24 * 32 * 3) and labels == ["basketball"] and y.tolist() == [0, 0]
    first = source.load()
    cached = sorted((tmp_path / "cache").glob("*.npy"))
    assert len(cached) == 2
    np.testing.assert_array_equal(source.load(), first)  # read back from the cache
    cached[0].write_bytes(b"damaged")
    np.testing.assert_array_equal(source.load(), first)  # decoded again
    assert np.load(cached[0]).shape == (6, 24, 32, 3)
    uncached = ClipSource(source.paths, size=(32, 24))
    np.testing.assert_array_equal(uncached[[1]].load(), first[1:])
    assert len(source[np.array([True, False])]) == 1
    batches = source.batches(y, batch_size=1)
    assert len(batches) == 2 and batches[1][0].shape == (1, 6, 2304) and batches[1][1].tolist() == [0]
