"""Video classification folders (UCF11, HMDB51, YouTube Celebrities), decoded with FFmpeg
(``imageio-ffmpeg``: ``pip install "htkeras[video]"``), as clips of ``T`` evenly spaced RGB frames.

Layouts under ``<data root>/<name>``:

* ``ucf11``: ``<action>/<group>/<clip>.mpg`` (e.g. ``basketball/v_shooting_01/v_shooting_01_01.mpg``); the
  25 groups are the official protocol's folds (leave-one-group-out);
* ``hmdb51``: ``<action>/<clip>.avi`` (the official split files are not read here);
* ``youtube_celebrities``: ``<person>/<clip>.avi``.

The papers' setting is 6 frames of 160 x 120 x 3 = 57,600 inputs per frame, the UCF11 HT-LSTM shape.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..progress import track
from .paths import resolve_data_dir

VIDEO_EXTENSIONS = (".mpg", ".mpeg", ".avi", ".mp4", ".mkv")
LAYOUTS = {"ucf11": 2, "hmdb51": 1, "youtube_celebrities": 1}  # folder levels from the class to the clip
HOW_TO_GET = {
    "ucf11": "UCF11 (UCF YouTube Action): www.crcv.ucf.edu/data/UCF_YouTube_Action.php",
    "hmdb51": "HMDB51: serre-lab.clps.brown.edu/resource/hmdb-a-large-human-motion-database",
    "youtube_celebrities": "YouTube Celebrities Face Tracking and Recognition Dataset (Kim et al., CVPR 2008)",
}


def list_clips(root, layout: str) -> list:
    """``(path, class, group)`` of every video under ``root`` in ``layout`` (group: the UCF11 group folder,
    else the class), sorted by path."""
    if layout not in LAYOUTS:
        raise ValueError(f"Unknown video layout {layout!r}; choose one of {', '.join(LAYOUTS)}.")
    root = Path(root)
    clips = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in VIDEO_EXTENSIONS or not path.is_file():
            continue
        parts = path.relative_to(root).parts
        if len(parts) != LAYOUTS[layout] + 1:
            raise ValueError(f"{path} does not follow the {layout} layout ({_pattern(layout)}).")
        clips.append((path, parts[0], parts[1] if layout == "ucf11" else parts[0]))
    if not clips:
        raise FileNotFoundError(f"No videos ({', '.join(VIDEO_EXTENSIONS)}) under {root} ({_pattern(layout)}).")
    return clips


def _pattern(layout: str) -> str:
    return "<class>/<group>/<clip>" if layout == "ucf11" else "<class>/<clip>"


def read_clip(path, num_frames: int = 6, size=(160, 120)) -> np.ndarray:
    """``num_frames`` evenly spaced RGB frames of the video at ``path``, resized to ``size = (width,
    height)`` by FFmpeg: uint8 ``(num_frames, height, width, 3)``. A clip shorter than ``num_frames``
    repeats frames."""
    try:
        import imageio_ffmpeg
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError('Decoding videos needs imageio-ffmpeg: pip install "htkeras[video]".') from error
    width, height = size
    reader = imageio_ffmpeg.read_frames(str(path), output_params=["-vf", f"scale={width}:{height}"])
    try:
        next(reader)  # metadata
        frames = [np.frombuffer(frame, np.uint8).reshape(height, width, 3) for frame in reader]
    except (RuntimeError, OSError) as error:
        raise ValueError(f"{path} could not be decoded as a video ({error}).") from error
    finally:
        reader.close()
    if not frames:
        raise ValueError(f"{path} has no video frames.")
    picks = np.linspace(0, len(frames) - 1, num_frames).round().astype(int)
    return np.stack([frames[k] for k in picks])


def pixel_inputs(clips: np.ndarray) -> np.ndarray:
    """uint8 clips ``(N, T, H, W, 3)`` as the pixel models' input: float32 ``(N, T, H * W * 3)``, scaled to
    about [-1, 1] by (x - 127) / 128."""
    return (clips.reshape(*clips.shape[:2], -1).astype(np.float32) - 127.0) / 128.0


def find_clips(layout: str, data_dir=None, folder: str | None = None):
    """The clips of a dataset in ``layout`` (a key of ``LAYOUTS``) found in ``<data root>/<folder>``
    (``folder`` defaults to the layout's name), nothing decoded: their paths, class indices, groups (UCF11
    groups, for leave-one-group-out) and the sorted class names."""
    folder = folder or layout
    root = resolve_data_dir(data_dir, folder, f"Get {HOW_TO_GET.get(layout, 'the dataset')} and unpack it there.")
    clips = list_clips(root, layout)
    labels = sorted({label for _, label, _ in clips})
    y = np.array([labels.index(label) for _, label, _ in clips], np.int32)
    return [path for path, _, _ in clips], y, np.array([group for _, _, group in clips]), labels


def load_video_dataset(layout: str, data_dir=None, folder: str | None = None, num_frames: int = 6,
                       size=(160, 120), verbose: int = 0):
    """Every clip of ``find_clips`` decoded into memory: ``x`` uint8 ``(N, num_frames, height, width, 3)``,
    ``y`` class indices, ``groups`` and the sorted class names (``htkeras.data.streaming`` decodes per batch
    instead)."""
    paths, y, groups, labels = find_clips(layout, data_dir, folder)
    x = np.stack([read_clip(path, num_frames, size) for path in track(paths, verbose, unit="clip")])
    return x, y, groups, labels
