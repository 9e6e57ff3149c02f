"""Safe writes: a file is replaced by a rename of a complete temporary file, so a kill never leaves half of it."""

from __future__ import annotations

import json
import os
from pathlib import Path


def atomic_write(path, write) -> None:
    """Call ``write(temporary_path)``, then rename the file onto ``path`` (a kill never leaves half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")  # same ending: Keras checks it
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def json_text(data) -> str:
    """``data`` as the indented JSON text every htkeras file uses."""
    return json.dumps(data, indent=2) + "\n"


def write_json(path, data) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(json_text(data)))
