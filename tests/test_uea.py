"""UEA .ts loader: the sets bundled in the aeon wheel (read by path, never through aeon's downloader), a
hand-written file with unequal lengths and missing values, and the errors."""

import numpy as np
import pytest

from htkeras.data import load_uea, pad_series, read_ts

TS = """# a comment
@problemName Tiny
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true up down
@data
1,2,3:4,5,6:up
7,?:8,9:down
"""


def test_bundled_japanese_vowels_is_read_by_path():
    x, y, classes = load_uea("JapaneseVowels", "train")
    assert x.shape == (270, 26, 12) and x.dtype == np.float32 and classes == tuple(str(k) for k in range(1, 10))
    assert np.bincount(y).tolist() == [30] * 9  # the published balanced training set
    x_test, y_test, _ = load_uea("JapaneseVowels", "test")
    assert len(x_test) == len(y_test) == 370 and not np.isnan(x_test).any()
    assert (np.abs(x_test).sum(axis=-1) == 0).any()  # shorter utterances are zero-padded at the end


def test_ts_file_from_a_data_root(tmp_path):
    folder = tmp_path / "uea" / "Tiny"
    folder.mkdir(parents=True)
    (folder / "Tiny_TRAIN.ts").write_text(TS)
    series, labels, classes = read_ts(folder / "Tiny_TRAIN.ts")
    assert [s.shape for s in series] == [(3, 2), (2, 2)] and labels == ["up", "down"] and classes == ["up", "down"]
    assert np.isnan(series[1][1, 0])
    x, y, names = load_uea("Tiny", "train", data_dir=tmp_path)
    assert x.shape == (2, 3, 2) and y.tolist() == [0, 1] and names == ("up", "down")
    np.testing.assert_array_equal(x[0], [[1, 4], [2, 5], [3, 6]])
    assert x[1, 2].tolist() == [0, 0]  # padding


def test_errors_name_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Tiny_TEST.ts not found.*htkeras\[uea\]"):
        load_uea("Tiny", "test", data_dir=tmp_path)
    with pytest.raises(ValueError, match="Unknown split"):
        load_uea("Tiny", "valid", data_dir=tmp_path)
    bad = tmp_path / "bad.ts"
    bad.write_text(TS.replace("@classLabel true up down", "@classLabel false"))
    with pytest.raises(ValueError, match="not a classification set"):
        read_ts(bad)


def test_pad_series_to_a_model_length():
    series = [np.ones((2, 3), np.float32), np.ones((4, 3), np.float32)]
    x = pad_series(series, 5)
    assert x.shape == (2, 5, 3) and x[0, 2:].sum() == 0 and x[1, :4].sum() == 12
    np.testing.assert_array_equal(pad_series(x, 4), x[:, :4])  # zero padding beyond the length is not data
    with pytest.raises(ValueError, match="4 steps is longer than the 3 steps"):
        pad_series(series, 3)
