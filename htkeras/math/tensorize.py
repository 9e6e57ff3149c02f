"""Automatic tensorization: split a dimension into balanced integer factors ("modes").

``factorize(n, d)`` gives the most balanced exact factorization of ``n`` into ``d`` factors (smallest
largest factor). ``tensorize(n, d, pad=True)`` may instead round ``n`` up to a nearby size that factors
well; zero-padding the *input* of a linear map to that size changes nothing in its output, so padding is
exact on the input side.

A factorization is called *good* when its largest factor is at most ``2 * ceil(n ** (1 / d))``.
"""

from __future__ import annotations

import math
from functools import lru_cache


def default_num_modes(n: int) -> int:
    """Number of modes for a size ``n``: about one mode per factor of 8, between 2 and 4 (1 below 4, where
    there is nothing to factorize).

    8 -> 2 ([2, 4]), 40 -> 2 ([5, 8]), 64 -> 2, 256 -> 3, 4,096 -> 4, 57,600 -> 4.
    """
    if n < 4:
        return 1
    return max(2, min(4, round(math.log(n) / math.log(8))))


@lru_cache(maxsize=4096)
def factorize(n: int, d: int) -> tuple:
    """Most balanced ``d`` factors of ``n`` (ascending; product exactly ``n``; 1s allowed).

    Minimizes the largest factor, then maximizes the smallest one. Cost: enumerates the divisors of
    ``n``, which is instant for any layer size.
    """
    if n < 1 or d < 1:
        raise ValueError(f"factorize needs n >= 1 and d >= 1, got n={n}, d={d}.")
    divisors = [k for k in range(1, int(math.isqrt(n)) + 1) if n % k == 0]
    divisors = sorted(set(divisors + [n // k for k in divisors]))
    best = None

    def search(rest, parts, lo):
        nonlocal best
        if len(parts) == d - 1:
            if rest >= lo:
                cand = tuple(parts) + (rest,)
                key = (cand[-1], -cand[0])
                if best is None or key < best[0]:
                    best = (key, cand)
            return
        for k in divisors:
            if k < lo:
                continue
            if k ** (d - len(parts)) > rest:
                break
            if rest % k == 0:
                search(rest // k, parts + [k], k)

    search(n, [], 1)
    return best[1]


def is_good(modes) -> bool:
    n, d = math.prod(modes), len(modes)
    return max(modes) <= 2 * math.ceil(n ** (1.0 / d) - 1e-9)


def tensorize(n: int, d: int | None = None, pad: bool = True, max_pad_fraction: float = 0.25) -> tuple:
    """Modes for a size ``n``: the exact factorization when it is good, else (``pad=True``) the
    smallest size ``m >= n`` within ``max_pad_fraction`` whose factorization is good.

    Returns ``modes`` with ``prod(modes) >= n``. Raises ValueError when ``pad=False`` and ``n`` does not
    factor well, naming the padded size that would.
    """
    d = default_num_modes(n) if d is None else d
    exact = factorize(n, d)
    if is_good(exact):
        return exact
    limit = n + max(1, int(n * max_pad_fraction))
    padded = next((factorize(m, d) for m in range(n + 1, limit + 1) if is_good(factorize(m, d))), None)
    if pad and padded is not None:
        return padded
    if pad:
        return exact
    hint = f"pad to {math.prod(padded)} = {list(padded)}" if padded else f"use fewer modes than {d}"
    raise ValueError(
        f"size {n} does not factor well into {d} modes (best is {list(exact)}); {hint} by passing "
        f"pad_inputs=True, or choose a size that factors well."
    )


def suggest_modes(n: int, d: int | None = None) -> str:
    """A short hint such as ``'[5, 8] (or [2, 4, 5])'`` for error messages."""
    d = default_num_modes(n) if d is None else d
    options = []
    for k in sorted({d, d + 1} | ({d - 1} if d > 2 else set())):
        modes = list(factorize(n, k))
        if modes not in options:
            options.append(modes)
    return " or ".join(str(m) for m in options)
