"""Data: the preprocessing that zoo models apply at inference, and readers of local dataset files.

Inference (bound to a model's weights; ``htkeras.zoo.preprocess`` calls them):

* ``audio``: 16-bit PCM wav files, polyphase resampling, fitting clips to an input length, refusing
  meaningless audio, log-mel frames;
* ``sequences``: images as row or patch sequences, series padded and standardized.

Readers of local files (nothing is downloaded; see ``resolve_data_dir``): ``fsdd`` (Free Spoken Digit
Dataset), ``fashion_mnist``, ``uea`` (``.ts`` sets), ``poly_music`` (piano rolls), ``video`` (UCF11 / HMDB51 /
YouTube Celebrities folders; ``streaming``: the same clips decoded per batch, for sets larger than memory,
imported on its own as it needs Keras); ``sets``: the datasets of training runs, built from those readers.
"""

from . import fashion_mnist
from .audio import fit_to_length, log_mel_frames, read_wav, resample, waveform_batch
from .fashion_mnist import load_fashion_mnist
from .fsdd import FSDD_SPEAKERS, load_fsdd, load_fsdd_features, load_fsdd_waveforms
from .paths import resolve_data_dir
from .poly_music import POLY_MUSIC_SETS, chunk_rolls, frame_nll, load_poly_music, next_step_batch
from .sequences import image_sequences, pad_series, padding_frames, standardization, standardize
from .uea import load_uea, read_ts
from .video import list_clips, load_video_dataset, read_clip

__all__ = [
    "FSDD_SPEAKERS", "POLY_MUSIC_SETS", "chunk_rolls", "fashion_mnist", "fit_to_length", "frame_nll", "image_sequences",
    "list_clips", "load_fashion_mnist", "load_fsdd", "load_fsdd_features", "load_fsdd_waveforms", "load_poly_music",
    "load_uea", "load_video_dataset", "log_mel_frames", "next_step_batch", "pad_series", "padding_frames", "read_clip",
    "read_ts", "read_wav", "resample", "resolve_data_dir", "standardization", "standardize", "waveform_batch",
]
