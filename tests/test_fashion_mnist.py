"""Fashion-MNIST: the IDX reader on hand-written files (gzipped and plain, every error), the loader's
search order, row and patch sequences, and the real files of Debian's dataset-fashion-mnist package."""

import gzip
import os

import numpy as np
import pytest

from htkeras.data import image_sequences, load_fashion_mnist, padding_frames
from htkeras.data.fashion_mnist import DEBIAN_FOLDER, LABELS, read_idx


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + np.array(array.shape, ">i4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_split(folder, prefix, images, labels, gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    for stem, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
        data = idx_bytes(array)
        if gz:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)


def test_read_idx_plain_gzip_and_other_types(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    (tmp_path / "a").write_bytes(idx_bytes(images))
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(images)))
    np.testing.assert_array_equal(read_idx(tmp_path / "a"), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), images)
    floats = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    (tmp_path / "f").write_bytes(idx_bytes(floats, 0x0D))
    np.testing.assert_array_equal(read_idx(tmp_path / "f"), floats)
    (tmp_path / "bad").write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(idx_bytes(images)[:-5])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "short")


def test_loader_reads_a_data_root_and_names_the_fix(tmp_path):
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), np.array([0, 9, 3, 3, 1], np.uint8)
    write_split(tmp_path / "fashion-mnist", "t10k", images, labels, gz=False)
    x, y = load_fashion_mnist("test", data_dir=tmp_path)
    np.testing.assert_array_equal(x, images)
    assert y.tolist() == [0, 9, 3, 3, 1] and y.dtype == np.int64
    if not (DEBIAN_FOLDER / "train-images-idx3-ubyte.gz").is_file():
        with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
            load_fashion_mnist("train", data_dir=tmp_path)
    with pytest.raises(ValueError, match="Unknown split"):
        load_fashion_mnist("valid", data_dir=tmp_path)


def test_row_and_patch_sequences():
    images = np.arange(28 * 28).reshape(1, 28, 28) % 256
    rows = image_sequences(images, "rows")
    assert rows.shape == (1, 28, 28) and rows.dtype == np.float32 and rows.min() >= -1 and rows.max() <= 1
    np.testing.assert_allclose(rows[0, 3], images[0, 3] / 127.5 - 1)
    patches = image_sequences(images, "patches")
    assert patches.shape == (1, 16, 49)
    np.testing.assert_allclose(patches[0, 5].reshape(7, 7), images[0, 7:14, 7:14] / 127.5 - 1)  # row 1, column 1
    assert not padding_frames(image_sequences(np.zeros((1, 28, 28), np.uint8))).any()  # no step looks like padding
    with pytest.raises(ValueError, match="Unknown sequence"):
        image_sequences(images, "columns")


def test_real_files_from_the_debian_package():
    if not (DEBIAN_FOLDER / "t10k-images-idx3-ubyte.gz").is_file():
        if os.environ.get("HTKERAS_REQUIRE_DATA"):
            pytest.fail(f"{DEBIAN_FOLDER} is missing: .ci/run installs dataset-fashion-mnist")
        pytest.skip("apt-get install dataset-fashion-mnist")
    x, y = load_fashion_mnist("test", data_dir="/nonexistent")  # found in the Debian folder after the data root
    assert x.shape == (10_000, 28, 28) and x.dtype == np.uint8 and np.bincount(y).tolist() == [1000] * 10
    assert len(LABELS) == 10 and 60 < x.mean() < 90  # mostly dark background
