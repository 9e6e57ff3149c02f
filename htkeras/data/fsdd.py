"""Free Spoken Digit Dataset (FSDD): ``recordings/{digit}_{speaker}_{take}.wav``, 8 kHz mono 16-bit.

Get it from https://github.com/Jakobovski/free-spoken-digit-dataset (licence CC BY-SA 4.0); point
``data_dir`` (or ``HTKERAS_DATA``) at the folder that holds ``fsdd/recordings`` or at ``fsdd`` itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..progress import track
from .audio import fit_to_length, log_mel_frames, read_wav, resample
from .paths import resolve_data_dir

FSDD_SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
LABELS = tuple(str(d) for d in range(10))
SAMPLE_RATE = 8000
_HOW_TO_GET = "Download it from https://github.com/Jakobovski/free-spoken-digit-dataset (CC BY-SA 4.0)."


def load_fsdd(data_dir=None, speakers=None) -> list:
    """All recordings as a list of ``(waveform, digit, speaker, take)``, sorted by file name.

    Args:
        data_dir: data root or the ``fsdd`` folder (see ``resolve_data_dir``).
        speakers: keep only these speakers (names as in the file names).
    """
    folder = resolve_data_dir(data_dir, "fsdd", _HOW_TO_GET) / "recordings"
    files = sorted(folder.glob("*.wav"))
    if not files:
        raise FileNotFoundError(f"No .wav files in {folder}. {_HOW_TO_GET}")
    result = []
    for path in files:
        digit, speaker, take = _parse_name(path)
        if speakers is not None and speaker not in speakers:
            continue
        waveform, rate = read_wav(path)
        if rate != SAMPLE_RATE:
            raise ValueError(f"{path}: expected {SAMPLE_RATE} Hz, got {rate} Hz.")
        result.append((waveform, digit, speaker, take))
    if speakers is not None and not result:
        raise ValueError(f"No FSDD recordings for speakers {list(speakers)} in {folder}.")
    return result


def _parse_name(path) -> tuple:
    """``(digit, speaker, take)`` of ``{digit}_{speaker}_{take}.wav``; a ValueError naming the file when its name
    is not of that form or its digit is not 0-9 (it would count as a class no model has)."""
    parts = Path(path).stem.split("_")
    if len(parts) != 3 or parts[0] not in LABELS or not parts[1] or not parts[2].isdigit():
        raise ValueError(f"{path} is not named {{digit 0-9}}_{{speaker}}_{{take}}.wav, as FSDD's recordings are.")
    return int(parts[0]), parts[1], int(parts[2])


def _arrays(records: list, transform, verbose: int) -> tuple:
    """``(x, y, speakers)``: ``transform(waveform)`` of every record stacked, the digits and speaker names."""
    x = np.stack([transform(w) for w, *_ in track(records, verbose, unit="recording")])
    y = np.array([digit for _, digit, _, _ in records], dtype=np.int32)
    who = np.array([speaker for _, _, speaker, _ in records])
    return x, y, who


def load_fsdd_features(data_dir=None, speakers=None, num_frames: int = 40, num_mels: int = 40, verbose: int = 0):
    """Log-mel features ``x (N, num_frames, num_mels)``, digits ``y (N,)`` and speaker names ``(N,)``
    (``verbose=1``: a progress bar)."""
    return _arrays(load_fsdd(data_dir, speakers),
                   lambda w: log_mel_frames(w, SAMPLE_RATE, num_mels=num_mels, num_frames=num_frames), verbose)


def load_fsdd_waveforms(data_dir=None, speakers=None, rate: int = 16000, samples: int = 24000, verbose: int = 0):
    """Waveforms ``x (N, samples)`` resampled from 8 kHz to ``rate`` (polyphase) and fitted to ``samples``
    (``fit_to_length``: centred between zeros; none of FSDD's recordings is longer than 1.5 s), digits ``y``
    and speaker names."""
    return _arrays(load_fsdd(data_dir, speakers), lambda w: fit_to_length(resample(w, SAMPLE_RATE, rate), samples)[0],
                   verbose)
