"""Waveform augmentation: new training copies of fixed-length clips that keep their label, for training a
model on few speakers (``training.train``: ``"augment"`` in a config's ``training`` section) or fine-tuning it
on few recordings (``htkeras.zoo.fine_tune(..., augment=N)``).

Each copy of a clip gets, in this order (``Augmentation`` holds the ranges):

* a speed change: resampled by a factor in ``speed`` (0.85-1.15: faster and higher, or slower and lower,
  as a different speaker or speaking rate), then cut or zero-padded back to the window;
* a shift in time within the window (the clip moves, zeros fill in);
* with probability ``reverb``, a synthetic room: the clip convolved with a direct path followed by
  exponentially decaying noise of a reverberation time (RT60) in ``rt60`` seconds, ``drr_db`` weaker;
* a gain change of up to ``gain_db``;
* with probability ``noise``, noise at a signal-to-noise ratio in ``snr_db``: white, pink (1/f power), or
  babble (three other clips of the batch, shifted and summed), one of the three at random.

Drawn from a seeded ``numpy.random.Generator``: the same clips and seed give the same copies. Cost: O(N ·
copies · samples · log samples) (the reverb's FFT convolution dominates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOISES = ("white", "pink", "babble")
BABBLE_VOICES = 3


@dataclass(frozen=True)
class Augmentation:
    """The ranges of ``augment_waveforms`` (see the module docstring). The defaults suit spoken words."""

    speed: tuple = (0.85, 1.15)
    max_shift_seconds: float = 0.1
    reverb: float = 0.5
    rt60: tuple = (0.1, 0.6)
    drr_db: tuple = (0.0, 10.0)
    gain_db: float = 6.0
    noise: float = 0.8
    snr_db: tuple = (5.0, 30.0)
    noises: tuple = NOISES

    @classmethod
    def from_config(cls, config: dict | None) -> "Augmentation":
        """An ``Augmentation`` with the fields of a JSON object (unknown keys: a ValueError naming them)."""
        config = dict(config or {})
        unknown = set(config) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"Unknown augmentation settings {sorted(unknown)}; known: {sorted(cls.__dataclass_fields__)}.")
        made = cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in config.items()})
        made.check()
        return made

    def check(self) -> None:
        def pair(name, low, high):
            value = getattr(self, name)
            if (not isinstance(value, tuple) or len(value) != 2 or not all(isinstance(v, (int, float)) for v in value)
                    or not low <= value[0] <= value[1] <= high):
                raise ValueError(f"augmentation {name} must be [low, high] within [{low}, {high}], got {value!r}.")

        pair("speed", 0.5, 2.0)
        pair("rt60", 0.0, 2.0)
        pair("drr_db", -20.0, 40.0)
        pair("snr_db", -10.0, 80.0)
        for name, high in (("reverb", 1.0), ("noise", 1.0), ("max_shift_seconds", 1.0), ("gain_db", 40.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= high:
                raise ValueError(f"augmentation {name} must be a number in [0, {high}], got {value!r}.")
        if not self.noises or set(self.noises) - set(NOISES):
            raise ValueError(f"augmentation noises must be some of {NOISES}, got {self.noises!r}.")


def shift(clip: np.ndarray, samples: int) -> np.ndarray:
    """``clip`` moved by ``samples`` (later if positive), zeros filling in, its length kept."""
    moved = np.zeros_like(clip)
    if samples >= 0:
        moved[samples:] = clip[: len(clip) - samples]
    else:
        moved[:samples] = clip[-samples:]
    return moved


def change_speed(clip: np.ndarray, factor: float) -> np.ndarray:
    """``clip`` played ``factor`` times faster (linear interpolation; pitch moves with it), cut or zero-padded
    back to its length."""
    length = len(clip)
    times = np.arange(0, length - 1, factor)
    faster = np.interp(times, np.arange(length), clip).astype(np.float32)
    out = np.zeros(length, np.float32)
    out[: min(length, len(faster))] = faster[:length]
    return out


def room(rng: np.random.Generator, rt60: float, sample_rate: int, drr_db: float = 5.0) -> np.ndarray:
    """A synthetic room impulse response: a direct path, then Gaussian noise decaying by 60 dB in ``rt60``
    seconds, ``drr_db`` below the direct path in energy (the direct-to-reverberant ratio); unit energy."""
    length = max(2, int(rt60 * sample_rate))
    t = np.arange(1, length) / sample_rate
    tail = rng.standard_normal(length - 1) * np.exp(-6.9 * t / max(rt60, 1e-3))
    tail *= np.sqrt(10 ** (-drr_db / 10) / max(float(np.sum(tail**2)), 1e-12))
    response = np.concatenate([[1.0], tail])
    return (response / np.sqrt(np.sum(response**2))).astype(np.float32)


def pink(rng: np.random.Generator, samples: int) -> np.ndarray:
    """Pink noise (power falling as 1/f), unit variance."""
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1.0))
    noise = np.fft.irfft(spectrum, samples)
    return noise / max(noise.std(), 1e-12)


def babble(rng: np.random.Generator, pool: np.ndarray, exclude: int) -> np.ndarray:
    """``BABBLE_VOICES`` other clips of ``pool`` (not row ``exclude``), each shifted at random, summed; unit
    variance (white noise when the pool has no other clip)."""
    others = np.delete(np.arange(len(pool)), exclude)
    samples = pool.shape[1]
    if not len(others):
        return rng.standard_normal(samples)
    mix = sum(np.roll(pool[rng.choice(others)], int(rng.integers(samples))) for _ in range(BABBLE_VOICES))
    return mix / max(float(np.std(mix)), 1e-12)


def augment_clip(rng: np.random.Generator, clip: np.ndarray, pool: np.ndarray, row: int, sample_rate: int,
                 settings: Augmentation) -> np.ndarray:
    """One augmented copy of ``clip`` (row ``row`` of ``pool``, the clips babble is made of)."""
    from scipy.signal import fftconvolve

    out = change_speed(clip, float(rng.uniform(*settings.speed)))
    limit = int(settings.max_shift_seconds * sample_rate)
    out = shift(out, int(rng.integers(-limit, limit + 1)))
    if rng.random() < settings.reverb:
        peak = float(np.abs(out).max())
        response = room(rng, float(rng.uniform(*settings.rt60)), sample_rate, float(rng.uniform(*settings.drr_db)))
        out = fftconvolve(out, response)[: len(out)].astype(np.float32)
        out *= peak / max(float(np.abs(out).max()), 1e-12)
    out = out * np.float32(10 ** (rng.uniform(-settings.gain_db, settings.gain_db) / 20))
    if rng.random() < settings.noise:
        kind = settings.noises[int(rng.integers(len(settings.noises)))]
        noise = {"white": lambda: rng.standard_normal(len(out)), "pink": lambda: pink(rng, len(out)),
                 "babble": lambda: babble(rng, pool, row)}[kind]()
        power = float(np.mean(np.square(out, dtype=np.float64)))
        out = out + (noise * np.sqrt(power / 10 ** (rng.uniform(*settings.snr_db) / 10))).astype(np.float32)
    return np.clip(out, -1.0, 1.0)


def augment_waveforms(x, copies: int, sample_rate: int, seed: int = 0, settings: Augmentation | None = None) -> tuple:
    """``(augmented, index)``: ``copies`` new versions of each clip of ``x`` ``(N, samples)`` float32 in
    [-1, 1] at ``sample_rate`` (``(N * copies, samples)``, see the module docstring), and for each the index of
    the clip it came from (``y[index]`` are their labels)."""
    x = np.asarray(x, np.float32)
    if x.ndim != 2:
        raise ValueError(f"Augmentation takes clips of one length (N, samples), got shape {x.shape}.")
    settings = settings or Augmentation()
    rng = np.random.default_rng(seed)
    index = np.repeat(np.arange(len(x)), int(copies))
    out = np.empty((len(index), x.shape[1]), np.float32)
    for row, source in enumerate(index):
        out[row] = augment_clip(rng, x[source], x, int(source), sample_rate, settings)
    return out, index
