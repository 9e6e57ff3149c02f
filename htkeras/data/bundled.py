"""Real recordings shipped inside the package, so that a spoken-digit model can be tried on a machine with no
dataset: the ten digits spoken by Allison Smith (Asterisk core sound prompts, CC BY-SA 3.0; see
``samples/allison_digits/README.md`` and ``LICENSE``), a voice no zoo model was trained on."""

from __future__ import annotations

from pathlib import Path

from .audio import read_wav

FOLDER = Path(__file__).resolve().parent / "samples" / "allison_digits"
DESCRIPTION = ("the 10 bundled recordings of a voice no zoo model was trained on (the digits 0-9 by Allison "
               "Smith, Asterisk sound prompts, CC BY-SA 3.0)")


def bundled_digits() -> tuple:
    """``(waveforms, digits, sample rate, file names)`` of ``0.wav`` ... ``9.wav``."""
    paths = [FOLDER / f"{digit}.wav" for digit in range(10)]
    waves = [read_wav(path) for path in paths]
    rates = {rate for _, rate in waves}
    if len(rates) != 1:
        raise ValueError(f"The bundled recordings in {FOLDER} have sample rates {sorted(rates)}; expected one.")
    return [wave for wave, _ in waves], list(range(10)), rates.pop(), [path.name for path in paths]
