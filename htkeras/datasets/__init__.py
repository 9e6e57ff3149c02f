"""Dataset loaders (local files only; see ``resolve_data_dir``)."""

from .audio import log_mel_frames
from .fsdd import FSDD_SPEAKERS, load_fsdd, load_fsdd_features
from .paths import resolve_data_dir

__all__ = ["FSDD_SPEAKERS", "load_fsdd", "load_fsdd_features", "log_mel_frames", "resolve_data_dir"]
