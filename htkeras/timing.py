"""Wall-clock latency as every htkeras report measures it: the median over repeats, after one warm-up."""

from __future__ import annotations

import time

import numpy as np


def median_seconds(step, repeats: int) -> float:
    """Median wall time of ``step(i)`` for ``i`` in ``range(repeats)``, after a warm-up call ``step(0)``
    (which traces and compiles). ``step`` must finish its work before returning (e.g. convert to NumPy)."""
    step(0)
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def interleaved_median_seconds(steps: dict, rounds: int, repeats: int) -> dict:
    """``{name: [seconds per round]}``: in each of ``rounds`` rounds, every step in turn is timed by
    ``median_seconds(step, repeats)``. Ratios taken within a round compare runs a few seconds apart, which
    holds when a shared machine's speed drifts between the start and the end of a benchmark."""
    times = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            times[name].append(median_seconds(step, repeats))
    return times
