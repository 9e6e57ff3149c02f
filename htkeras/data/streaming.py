"""Video datasets larger than memory: clips stay on disk and are decoded per batch, in parallel, never all at
once (``pip install "htkeras[video]"``).

* ``ClipSource``: the clips of a dataset as paths (indexable like an array of clips, ``shape`` included,
  so that training code slices it as it slices arrays); ``load(indices)`` decodes just those clips.
* ``ClipBatches``: a ``keras.utils.PyDataset`` of ``(clips, labels)`` batches for ``model.fit``,
  ``evaluate`` and ``predict``. ``workers`` threads decode ahead (FFmpeg runs in its own process, so threads
  decode in parallel), at most ``max_queue_size`` batches wait, so memory holds about ``(workers +
  max_queue_size) * batch_size`` decoded clips whatever the number of clips. ``shuffle``: a new order of
  the clip indices every epoch: a full shuffle that holds indices, not decoded clips.
* ``cache_dir``: decoded frames (uint8, before scaling) are kept as one ``.npy`` file per clip, keyed by the
  file's path, size and modification time and the decoding settings, and written atomically; a later epoch
  or run reads them instead of decoding again. A cached file that does not load, or holds another shape, is
  decoded again.

    source, y, groups, labels = stream_video_dataset("ucf11", num_frames=6, size=(160, 120))
    model.fit(source.batches(y, batch_size=32, shuffle=True, workers=4), epochs=20)
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np

from ..files import atomic_write
from .video import find_clips, pixel_inputs, read_clip


@dataclass(frozen=True)
class ClipSource:
    """Video clips on disk, decoded only when asked for: ``paths``, ``num_frames`` evenly spaced RGB frames
    of ``size = (width, height)``; ``flatten``: clips as float32 ``(num_frames, height * width * 3)`` scaled
    by (x - 127) / 128 (the pixel models' input), else uint8 ``(num_frames, height, width, 3)``; ``cache_dir``
    (see the module docstring)."""

    paths: tuple
    num_frames: int = 6
    size: tuple = (160, 120)
    flatten: bool = True
    cache_dir: str | None = None

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def shape(self) -> tuple:
        width, height = self.size
        clip = (self.num_frames, height * width * 3) if self.flatten else (self.num_frames, height, width, 3)
        return (len(self), *clip)

    def __getitem__(self, index) -> ClipSource:
        """The clips at ``index`` (any NumPy index of ``len(self)`` clips: a slice, indices, a boolean mask)
        as a new source."""
        picked = np.atleast_1d(np.arange(len(self))[index])
        return replace(self, paths=tuple(self.paths[k] for k in picked))

    def clip(self, k: int) -> np.ndarray:
        """Clip ``k`` decoded, uint8 ``(num_frames, height, width, 3)`` (from the cache when it holds it)."""
        width, height = self.size
        if self.cache_dir is None:
            return read_clip(self.paths[k], self.num_frames, self.size)
        path = Path(self.paths[k])
        stat = path.stat()
        key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{self.num_frames}|{width}x{height}"
        cached = Path(self.cache_dir) / f"{hashlib.sha256(key.encode()).hexdigest()}.npy"
        expected = (self.num_frames, height, width, 3)
        try:
            frames = np.load(cached)
            if frames.shape == expected and frames.dtype == np.uint8:
                return frames
        except (OSError, ValueError, EOFError):  # not there yet, or damaged: decode again
            pass
        frames = read_clip(path, self.num_frames, self.size)

        def write(tmp):
            with open(tmp, "wb") as file:
                np.save(file, frames)

        atomic_write(cached, write)
        return frames

    def load(self, indices=None) -> np.ndarray:
        """The clips at ``indices`` (default: all; mind the memory) as one array of ``shape[1:]`` each."""
        indices = range(len(self)) if indices is None else indices
        clips = np.stack([self.clip(int(k)) for k in indices])
        return pixel_inputs(clips) if self.flatten else clips

    def batches(self, y=None, batch_size: int = 32, shuffle: bool = False, seed: int = 0, workers: int = 2,
                max_queue_size: int = 4) -> ClipBatches:
        """A ``ClipBatches`` dataset of these clips and their labels ``y`` (None: clips only, for ``predict``)."""
        return ClipBatches(self, y, batch_size, shuffle, seed, workers, max_queue_size)


class ClipBatches(keras.utils.PyDataset):
    """Batches ``(clips, labels)`` (``(clips,)`` without labels) of a ``ClipSource``, decoded when Keras asks
    for them (see the module docstring)."""

    def __init__(self, source: ClipSource, y=None, batch_size: int = 32, shuffle: bool = False, seed: int = 0,
                 workers: int = 2, max_queue_size: int = 4):
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=max_queue_size)
        if y is not None and len(y) != len(source):
            raise ValueError(f"{len(y)} labels for {len(source)} clips.")
        self.source, self.y, self.batch_size, self.shuffle = source, y, int(batch_size), shuffle
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(source)) if shuffle else np.arange(len(source))

    def __len__(self) -> int:
        return math.ceil(len(self.source) / self.batch_size)

    def __getitem__(self, index: int):
        picked = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        clips = self.source.load(picked)
        return (clips,) if self.y is None else (clips, np.asarray(self.y)[picked])

    def on_epoch_end(self):
        if self.shuffle:
            self.order = self.rng.permutation(len(self.source))


def stream_video_dataset(layout: str, data_dir=None, folder: str | None = None, num_frames: int = 6,
                         size=(160, 120), flatten: bool = True, cache_dir=None):
    """``load_video_dataset`` without decoding anything: ``(ClipSource, y, groups, labels)``."""
    paths, y, groups, labels = find_clips(layout, data_dir, folder)
    source = ClipSource(tuple(str(path) for path in paths), int(num_frames), tuple(size), flatten,
                        None if cache_dir is None else str(cache_dir))
    return source, y, groups, labels
