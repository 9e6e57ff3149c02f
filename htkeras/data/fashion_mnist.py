"""Fashion-MNIST (Xiao et al., 2017; MIT licence): 28 x 28 grey images of 10 kinds of clothing, 60,000 for
training and 10,000 for testing, read from the original IDX files (gzipped or not), local files only.

Where the files are found, in order: ``<data root>/fashion-mnist/`` (an explicit ``data_dir``,
``$HTKERAS_DATA`` or ``../shared/data``), then ``/usr/share/datasets/fashion-mnist/``, where the Debian
package ``dataset-fashion-mnist`` puts them (``apt-get install dataset-fashion-mnist``).

As sequences (``htkeras.data.sequences``): ``image_sequences(images, "rows")`` gives 28 steps of 28 pixels
(row-sequential); ``"patches"`` gives 16 steps of 7 x 7 = 49 pixels (patch-sequential, in reading order).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from .paths import resolve_data_dir

LABELS = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")
HOW_TO_GET = ("Install it with 'apt-get install dataset-fashion-mnist' (Debian/Ubuntu) or download the four "
              "*-ubyte.gz files from https://github.com/zalandoresearch/fashion-mnist into <data root>/fashion-mnist/.")
IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """The array in an IDX file (``.gz`` or plain): magic ``0 0 type ndim``, big-endian int32 sizes, data."""
    path = Path(path)
    data = (gzip.open if path.suffix == ".gz" else open)(path, "rb").read()
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (magic bytes {data[:4]!r}).")
    ndim = data[3]
    shape = tuple(int(s) for s in np.frombuffer(data, ">i4", ndim, offset=4))
    dtype = np.dtype(IDX_TYPES[data[2]])
    count, offset = int(np.prod(shape)), 4 + 4 * ndim
    if len(data) - offset != count * dtype.itemsize:
        raise ValueError(f"{path}: {len(data) - offset} data bytes for shape {shape} of {dtype} (truncated?).")
    return np.frombuffer(data, dtype, count, offset=offset).reshape(shape).astype(dtype.newbyteorder("="))


def _find(stem: str, folders: list) -> Path | None:
    for folder in folders:
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def load_fashion_mnist(split: str, data_dir=None) -> tuple:
    """``(images, labels)`` of ``split`` (``train``: 60,000, ``test``: 10,000): uint8 ``(N, 28, 28)`` and
    int64 ``(N,)`` class indices into ``LABELS``."""
    if split not in FILES:
        raise ValueError(f"Unknown split {split!r}; choose one of {', '.join(FILES)}.")
    folders = []
    try:
        folders.append(resolve_data_dir(data_dir, "fashion-mnist"))
    except FileNotFoundError:
        pass
    folders.append(DEBIAN_FOLDER)
    paths = [_find(stem, folders) for stem in FILES[split]]
    if None in paths:
        missing = [stem for stem, path in zip(FILES[split], paths) if path is None]
        raise FileNotFoundError(
            f"Fashion-MNIST {split} files {missing} not found (looked in: {', '.join(map(str, folders))}). {HOW_TO_GET}"
        )
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise ValueError(f"{paths[0]} holds {images.shape} images for {len(labels)} labels; expected (N, 28, 28).")
    return images, labels.astype(np.int64)
