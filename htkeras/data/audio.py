"""Audio preprocessing in NumPy (no audio library needed): reading 16-bit PCM wav files, polyphase resampling,
checks that refuse meaningless audio, fitting a clip to a model's input length, and the log-mel spectrogram
frames of the log-mel FSDD zoo models."""

from __future__ import annotations

import math
import warnings
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
    """``waveform`` at ``rate`` Hz resampled to ``target`` Hz by polyphase filtering (unchanged when the rates
    agree): upsampling by ``up`` and downsampling by ``down`` (``target / rate`` in lowest terms) through one
    Kaiser-windowed (beta 5) sinc low-pass of ``20 * max(up, down) + 1`` taps at the lower Nyquist rate, the
    design of ``scipy.signal.resample_poly``; ``ceil(len * up / down)`` samples.

    Cost: about ``20 * max(up, down) / up`` multiply-adds per output sample (22 for 8 -> 16 kHz, 57 for 44.1
    -> 16 kHz), computed in blocks of output samples."""
    rate, target = int(rate), int(target)
    if rate <= 0 or target <= 0:
        raise ValueError(f"Sample rates must be positive, got {rate} and {target}.")
    if rate == target:
        return waveform
    x = np.asarray(waveform, np.float64).reshape(-1)
    common = math.gcd(rate, target)
    up, down = target // common, rate // common
    widest = max(up, down)
    half = 10 * widest
    taps = np.arange(-half, half + 1)
    kernel = np.sinc(taps / widest) * np.kaiser(2 * half + 1, 5.0)
    kernel *= up / kernel.sum()
    count = -(-len(x) * up // down)
    width = 2 * half // up + 2
    result = np.empty(count)
    for begin in range(0, count, 4096):  # blocks bound the (block, width) index arrays
        position = np.arange(begin, min(count, begin + 4096)) * down  # on the upsampled grid
        first = -(-(position - half) // up)
        k = first[:, None] + np.arange(width)[None, :]  # input samples within the kernel's reach
        tap = position[:, None] - k * up + half
        valid = (tap >= 0) & (tap <= 2 * half) & (k >= 0) & (k < len(x))
        result[begin : begin + len(position)] = np.where(
            valid, x[np.clip(k, 0, len(x) - 1)] * kernel[np.clip(tap, 0, 2 * half)], 0.0).sum(axis=1)
    return result.astype(np.float32)


SILENCE_DBFS = -60.0  # a clip whose peak is below this (0.1 % of full scale) holds no speech to classify


def check_waveform(waveform, name: str = "the waveform") -> np.ndarray:
    """``waveform`` as float32, refused (ValueError naming ``name``) when it is empty, not one-dimensional
    or holds NaN or infinite values."""
    x = np.asarray(waveform, np.float32)
    if x.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (samples), got shape {x.shape}.")
    if x.size == 0:
        raise ValueError(f"{name} is empty: there is nothing to classify.")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} holds NaN or infinite values: there is nothing to classify.")
    return x


def peak_dbfs(waveform) -> float:
    """The peak level of a waveform in [-1, 1], in dB below full scale (``-inf`` for digital silence)."""
    peak = float(np.max(np.abs(waveform))) if np.size(waveform) else 0.0
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def fit_to_length(waveform, samples: int) -> tuple:
    """``(clip of exactly samples samples, start)``: a shorter waveform centred between zeros (``start`` <= 0:
    minus the zeros before it); a longer one cut around its speech: the ``samples`` consecutive samples of
    the highest energy, then moved (within the recording) to centre the energy they hold, so an utterance
    in a long silence lands in the middle as a short clip would (``start`` > 0 says where the cut begins).
    Never only the first part of a long recording."""
    x = np.asarray(waveform, np.float32).reshape(-1)
    samples = int(samples)
    if len(x) <= samples:
        before = (samples - len(x)) // 2
        return np.pad(x, (before, samples - len(x) - before)), -before
    power = np.square(x, dtype=np.float64)
    energy = np.concatenate([[0.0], np.cumsum(power)])
    loudest = int(np.argmax(energy[samples:] - energy[:-samples]))
    held = power[loudest : loudest + samples]
    centre = loudest + (float(held @ np.arange(samples)) / held.sum() if held.sum() > 0 else samples / 2)
    start = int(np.clip(round(centre - samples / 2), 0, len(x) - samples))
    return x[start : start + samples], start


def checked_waveforms(waves) -> list:
    """A waveform or a list of them, each checked (``check_waveform``: empty or NaN is refused); silent ones
    (peak below ``SILENCE_DBFS``) are kept but named in a warning: no label of theirs means anything."""
    if isinstance(waves, np.ndarray) and waves.ndim == 1:
        waves = [waves]
    checked = [check_waveform(waveform, f"waveform {index}") for index, waveform in enumerate(waves)]
    if not checked:
        raise ValueError("No waveforms to preprocess.")
    silent = [index for index, x in enumerate(checked) if peak_dbfs(x) < SILENCE_DBFS]
    if silent:
        warnings.warn(f"{len(silent)} of {len(checked)} waveforms are silent (peak below {SILENCE_DBFS:g} dBFS; index "
                      f"{', '.join(map(str, silent[:10]))}{', ...' if len(silent) > 10 else ''}): a label predicted "
                      "for them means nothing.", UserWarning, stacklevel=3)
    return checked


def waveform_batch(waves, sample_rate: int, target_rate: int, samples: int) -> np.ndarray:
    """Float waveforms in [-1, 1] at ``sample_rate`` -> ``(N, samples)`` float32 at ``target_rate``: each
    checked (``checked_waveforms``), resampled (``resample``) and fitted to the input length
    (``fit_to_length``: short clips centred, long ones cut around their speech)."""
    return np.stack([fit_to_length(resample(x, sample_rate, target_rate), samples)[0]
                     for x in checked_waveforms(waves)]).astype(np.float32)


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
