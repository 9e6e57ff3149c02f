"""Dataset loaders (local files only; see ``resolve_data_dir``)."""

from . import fashion_mnist
from .audio import log_mel_frames
from .fashion_mnist import image_sequences, load_fashion_mnist
from .fsdd import FSDD_SPEAKERS, load_fsdd, load_fsdd_features
from .paths import resolve_data_dir
from .poly_music import POLY_MUSIC_SETS, chunk_rolls, frame_nll, load_poly_music, next_step_batch
from .uea import load_uea, pad_series, padding_frames, read_ts, standardization, standardize
from .video import list_clips, load_video_dataset, read_clip

__all__ = [
    "FSDD_SPEAKERS", "POLY_MUSIC_SETS", "chunk_rolls", "fashion_mnist", "frame_nll", "image_sequences", "list_clips",
    "load_fashion_mnist", "load_fsdd", "load_fsdd_features", "load_poly_music", "load_uea", "load_video_dataset",
    "log_mel_frames", "next_step_batch", "pad_series", "padding_frames", "read_clip", "read_ts", "resolve_data_dir",
    "standardization", "standardize",
]
