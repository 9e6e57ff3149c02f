"""Audio preprocessing in NumPy (no audio library needed): the one bounded reader of audio (WAV files, and
waveform arrays of any numeric type), polyphase resampling, checks that refuse meaningless audio, fitting a
clip to a model's input length, and the log-mel spectrogram frames of the log-mel FSDD zoo models.

Bounds, each refused in a one-line ValueError that names the input: sample rates from ``MIN_RATE`` to
``MAX_RATE`` Hz (whole numbers), at most ``MAX_SECONDS`` of audio and ``MAX_CHANNELS`` channels, no NaN or
infinite sample, float waveforms within ``MAX_FLOAT_PEAK`` (integer samples are scaled by their type), and a
file must be a regular file (a FIFO or a device would make the reader wait or never end)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..files import open_regular

MIN_RATE, MAX_RATE = 1_000, 384_000  # Hz
MAX_SECONDS = 600  # one recording: 10 minutes
MAX_CHANNELS = 64
MAX_FLOAT_PEAK = 2.0  # a float waveform is in [-1, 1]; far beyond that it holds unscaled integer samples
MAX_WAV_BYTES = MAX_RATE * MAX_SECONDS * 8 * 2 + (1 << 20)
WAVE_FORMATS = {1: "PCM", 3: "IEEE float", 0xFFFE: "extensible"}
ENCODINGS = {("PCM", 8): "u1", ("PCM", 16): "<i2", ("PCM", 24): "int24", ("PCM", 32): "<i4",
             ("IEEE float", 32): "<f4", ("IEEE float", 64): "<f8"}


def check_rate(rate, what: str = "sample_rate") -> int:
    """``rate`` as an int when it is a whole number of Hz from ``MIN_RATE`` to ``MAX_RATE``; a ValueError
    naming ``what`` otherwise (a fractional, string or absurd rate is never coerced)."""
    whole = isinstance(rate, (int, np.integer)) or (isinstance(rate, (float, np.floating)) and float(rate).is_integer())
    if isinstance(rate, bool) or not whole or not MIN_RATE <= rate <= MAX_RATE:
        raise ValueError(f"{what} must be a whole number of Hz from {MIN_RATE:,} to {MAX_RATE:,}, got {rate!r}.")
    return int(rate)


def _samples(data: bytes, encoding: str) -> np.ndarray:
    """Little-endian sample bytes of ``encoding`` as float32 in [-1, 1] (floats as they are)."""
    if encoding == "int24":
        b = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
        return (((b[:, 0] | b[:, 1] << 8 | b[:, 2] << 16) << 8) >> 8).astype(np.float32) / np.float32(1 << 23)
    return as_float_waveform(np.frombuffer(data, encoding), "the file")


def read_wav(path) -> tuple:
    """``(float32 mono waveform, sample rate)`` of a WAV file: 8-bit unsigned, 16-, 24- or 32-bit signed
    integer PCM or 32- or 64-bit float (``WAVE_FORMAT_EXTENSIBLE`` too); channels averaged; integer samples
    scaled to [-1, 1]. Refused, in a ValueError naming the file: anything but a regular file, another
    encoding, a rate, length or channel count beyond the module's bounds, a truncated file, NaN or infinite
    samples."""
    with open_regular(path, MAX_WAV_BYTES) as f:
        header = f.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:] != b"WAVE":
            raise ValueError(f"{path} is not a WAV file (no RIFF/WAVE header).")
        layout = None
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                raise ValueError(f"{path} is not a readable WAV file: it has no data chunk (truncated?).")
            kind, size = chunk[:4], int.from_bytes(chunk[4:], "little")
            if kind == b"fmt ":
                layout = _format(f.read(min(size, 64)), path)
                f.seek(size - min(size, 64) + (size & 1), 1)
            elif kind == b"data":
                break
            else:
                f.seek(size + (size & 1), 1)
        if layout is None:
            raise ValueError(f"{path} is not a readable WAV file: its data comes before its format.")
        encoding, channels, rate, width = layout
        frames = size // (width * channels)
        if frames > rate * MAX_SECONDS:
            raise ValueError(f"{path} holds {frames / rate:,.0f} s of audio; at most {MAX_SECONDS} s are read at once.")
        data = f.read(frames * width * channels)
    x = _samples(data[: len(data) - len(data) % (width * channels)], encoding)  # a truncated last frame dropped
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1)
    return check_waveform(x, str(path)), rate


def _format(body: bytes, path) -> tuple:
    """``(encoding, channels, rate, bytes per sample)`` from the body of a ``fmt `` chunk."""
    if len(body) < 16:
        raise ValueError(f"{path} is not a readable WAV file: its format chunk is {len(body)} bytes.")
    field = lambda start, end: int.from_bytes(body[start:end], "little")
    tag, channels, rate, bits = field(0, 2), field(2, 4), field(4, 8), field(14, 16)
    if tag == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the real format opens the sub-format GUID
        tag = int.from_bytes(body[24:26], "little")
    encoding = ENCODINGS.get((WAVE_FORMATS.get(tag), bits))
    if encoding is None:
        raise ValueError(f"{path}: only PCM WAV files of 8, 16, 24 or 32-bit integers or 32 or 64-bit floats are read; "
                         f"this one is format {tag:#x}, {bits}-bit.")
    if not 1 <= channels <= MAX_CHANNELS:
        raise ValueError(f"{path} declares {channels} channels; 1 to {MAX_CHANNELS} are read.")
    return encoding, channels, check_rate(rate, f"{path}: the sample rate"), bits // 8


def as_float_waveform(samples, name: str = "the waveform") -> np.ndarray:
    """``samples`` as float32 in [-1, 1]: integer samples scaled by their type (int16 by 1/32,768, uint8
    around 128, as ``scipy.io.wavfile.read`` returns them); floats as they are, refused beyond
    ``MAX_FLOAT_PEAK`` (unscaled integers); any other type refused."""
    x = np.asarray(samples)
    if x.dtype.kind in "iu":
        half = float(1 << (8 * x.dtype.itemsize - 1))
        return ((x.astype(np.float64) - (half if x.dtype.kind == "u" else 0.0)) / half).astype(np.float32)
    if x.dtype.kind != "f":
        raise ValueError(f"{name} must hold numbers (float in [-1, 1] or integer samples), got {x.dtype}.")
    x = x.astype(np.float32)
    peak = float(np.abs(x).max()) if x.size else 0.0  # NaN or inf: refused by check_waveform, by name
    if np.isfinite(peak) and peak > MAX_FLOAT_PEAK:
        raise ValueError(f"{name} peaks at {peak:g}: float waveforms are in [-1, 1]. Integer samples "
                         "read as floats? Pass the integer array (it is scaled by its type) or divide by 32768 (16-bit).")
    return x


def resample(waveform: np.ndarray, rate: int, target: int) -> np.ndarray:
    """``waveform`` at ``rate`` Hz resampled to ``target`` Hz by polyphase filtering (unchanged when the rates
    agree): upsampling by ``up`` and downsampling by ``down`` (``target / rate`` in lowest terms) through one
    Kaiser-windowed (beta 5) sinc low-pass of ``20 * max(up, down) + 1`` taps at the lower Nyquist rate, the
    design of ``scipy.signal.resample_poly``; ``ceil(len * up / down)`` samples.

    Cost: about ``20 * max(up, down) / up`` multiply-adds per output sample (22 for 8 -> 16 kHz, 57 for 44.1
    -> 16 kHz), computed in blocks of output samples."""
    rate, target = check_rate(rate), check_rate(target, "the target sample rate")
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
MIN_WORD_SECONDS = 0.25  # a clip shorter than this holds no whole spoken word (a short "six" lasts about 0.3 s)


def check_waveform(waveform, name: str = "the waveform") -> np.ndarray:
    """``waveform`` as float32 in [-1, 1] (``as_float_waveform``: integer samples scaled by their type),
    refused (ValueError naming ``name``) when it is empty, not one-dimensional, longer than ``MAX_SECONDS``
    at ``MAX_RATE``, or holds NaN or infinite values."""
    x = as_float_waveform(waveform, name)
    if x.size > MAX_RATE * MAX_SECONDS:
        raise ValueError(f"{name} has {x.size:,} samples; at most {MAX_RATE * MAX_SECONDS:,} are read at once.")
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


def _named(indices: list) -> str:
    return ", ".join(map(str, indices[:10])) + (", ..." if len(indices) > 10 else "")


def checked_waveforms(waves, sample_rate: int) -> list:
    """A waveform or a list of them at ``sample_rate``, each checked (``check_waveform``: empty or NaN is
    refused); silent ones (peak below ``SILENCE_DBFS``) and ones far shorter than a spoken word (under
    ``MIN_WORD_SECONDS``) are kept but named in a warning: no label of theirs means much."""
    sample_rate = check_rate(sample_rate)
    if isinstance(waves, np.ndarray) and waves.ndim == 1:
        waves = [waves]
    checked = [check_waveform(waveform, f"waveform {index}") for index, waveform in enumerate(waves)]
    if not checked:
        raise ValueError("No waveforms to preprocess.")
    silent = [index for index, x in enumerate(checked) if peak_dbfs(x) < SILENCE_DBFS]
    if silent:
        warnings.warn(f"{len(silent)} of {len(checked)} waveforms are silent (peak below {SILENCE_DBFS:g} dBFS; index "
                      f"{_named(silent)}): a label predicted for them means nothing.", UserWarning, stacklevel=3)
    short = [index for index, x in enumerate(checked) if len(x) < MIN_WORD_SECONDS * sample_rate]
    if short:
        warnings.warn(f"{len(short)} of {len(checked)} waveforms last less than {MIN_WORD_SECONDS:g} s at {sample_rate:,} Hz, "
                      f"far shorter than a spoken word (index {_named(short)}): a label predicted for them means "
                      "little; is sample_rate right?", UserWarning, stacklevel=3)
    return checked


def waveform_batch(waves, sample_rate: int, target_rate: int, samples: int) -> np.ndarray:
    """Float waveforms in [-1, 1] at ``sample_rate`` -> ``(N, samples)`` float32 at ``target_rate``: each
    checked (``checked_waveforms``), resampled (``resample``) and fitted to the input length
    (``fit_to_length``: short clips centred, long ones cut around their speech)."""
    return np.stack([fit_to_length(resample(x, sample_rate, target_rate), samples)[0]
                     for x in checked_waveforms(waves, sample_rate)]).astype(np.float32)


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
