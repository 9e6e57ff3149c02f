"""Audio preprocessing in NumPy (no audio library needed): reading 16-bit PCM wav files, resampling, and the
log-mel spectrogram frames the FSDD zoo models take."""

from __future__ import annotations

import math
import wave

import numpy as np


def read_wav(path) -> tuple:
    """``(float32 waveform in [-1, 1], sample rate)`` of a 16-bit PCM wav file."""
    try:
        f = wave.open(str(path), "rb")
    except (wave.Error, EOFError) as error:
        raise ValueError(f"{path} is not a readable PCM wav file ({str(error) or 'truncated header'}).") from error
    with f:
        if f.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM wav files are supported, got {8 * f.getsampwidth()}-bit.")
        data = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
        if f.getnchannels() > 1:
            data = data.reshape(-1, f.getnchannels()).mean(axis=1)
        return data, f.getframerate()


def resample(waveform: np.ndarray, rate: int, target: int) -> np.ndarray:
    """``waveform`` at ``rate`` Hz resampled linearly to ``target`` Hz (unchanged when the rates agree)."""
    if rate == target:
        return waveform
    count = max(1, math.floor(len(waveform) * target / rate))
    return np.interp(np.arange(count) * rate / target, np.arange(len(waveform)), waveform).astype(np.float32)


def mel_filterbank(num_mels: int, fft_length: int, sample_rate: int, fmin: float = 0.0, fmax: float | None = None):
    """Triangular HTK-style mel filters, shape ``(fft_length // 2 + 1, num_mels)``."""
    fmax = sample_rate / 2 if fmax is None else fmax
    hz_to_mel = lambda f: 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)
    mel_to_hz = lambda m: 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), num_mels + 2))
    freqs = np.linspace(0, sample_rate / 2, fft_length // 2 + 1)
    lower, center, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs[None] - lower) / (center - lower)
    down = (upper - freqs[None]) / (upper - center)
    return np.maximum(0.0, np.minimum(up, down)).T.astype(np.float32)


def log_mel_frames(
    waveform,
    sample_rate: int = 8000,
    num_mels: int = 40,
    frame_length: int = 256,
    hop_length: int = 128,
    num_frames: int | None = None,
) -> np.ndarray:
    """Log-mel frames ``(num_frames, num_mels)``, normalized per utterance (zero mean, unit variance per
    mel band over time), then cut or zero-padded at the end to ``num_frames`` when given.

    Defaults: 32 ms Hann windows every 16 ms at 8 kHz, 40 mel bands.
    """
    x = np.asarray(waveform, dtype=np.float32).reshape(-1)
    if x.size < frame_length:
        x = np.pad(x, (0, frame_length - x.size))
    count = 1 + (x.size - frame_length) // hop_length
    index = np.arange(frame_length)[None, :] + hop_length * np.arange(count)[:, None]
    spectrum = np.abs(np.fft.rfft(x[index] * np.hanning(frame_length).astype(np.float32), axis=-1)) ** 2
    mel = np.log(spectrum @ mel_filterbank(num_mels, frame_length, sample_rate) + 1e-6)
    mel = (mel - mel.mean(axis=0)) / (mel.std(axis=0) + 1e-5)
    if num_frames is not None:
        mel = mel[:num_frames]
        mel = np.pad(mel, ((0, num_frames - len(mel)), (0, 0)))
    return mel.astype(np.float32)
