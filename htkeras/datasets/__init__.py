"""Dataset loaders (local files only; see ``resolve_data_dir``)."""

from .audio import log_mel_frames
from .fsdd import FSDD_SPEAKERS, load_fsdd, load_fsdd_features
from .paths import resolve_data_dir
from .poly_music import POLY_MUSIC_SETS, frame_nll, load_poly_music, next_step_batch
from .uea import load_uea, read_ts
from .video import list_clips, load_video_dataset, read_clip

__all__ = [
    "FSDD_SPEAKERS", "POLY_MUSIC_SETS", "frame_nll", "load_fsdd", "load_fsdd_features", "load_poly_music",
    "list_clips", "load_uea", "load_video_dataset", "log_mel_frames", "next_step_batch", "read_clip", "read_ts",
    "resolve_data_dir",
]
