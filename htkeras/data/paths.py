"""Where datasets live: an explicit ``data_dir``, else ``$HTKERAS_DATA``, else ``../shared/data``."""

from __future__ import annotations

import os
from pathlib import Path


def resolve_data_dir(data_dir=None, subdir: str = "", how_to_get: str = "") -> Path:
    """The folder ``<data root>/<subdir>``; a FileNotFoundError says where it looked and how to get it.

    The data root is ``data_dir`` when given, else the ``HTKERAS_DATA`` environment variable, else
    ``../shared/data`` (relative to the working directory, or to a source checkout of htkeras) when that
    exists.
    """
    if data_dir is not None:
        candidates = [Path(data_dir)]
    elif os.environ.get("HTKERAS_DATA"):
        candidates = [Path(os.environ["HTKERAS_DATA"])]
    else:
        checkout = Path(__file__).resolve().parents[2]  # the repository, when htkeras runs from a source checkout
        beside = [checkout.parent / "shared" / "data"] if (checkout / "setup.py").is_file() else []
        candidates = [Path("../shared/data"), *beside]  # never a path inside an installed package's environment
    tried = []
    for root in candidates:
        # The data root, or the dataset folder itself.
        for path in [root / subdir] + ([root] if subdir and root.name == subdir else []):
            tried.append(str(path))
            if path.is_dir():
                return path
    raise FileNotFoundError(
        f"Dataset folder {subdir!r} not found (looked in: {', '.join(dict.fromkeys(tried))}). Pass "
        f"data_dir=... (CLI: --data-dir) or set HTKERAS_DATA to the folder that contains it. {how_to_get}"
    )
