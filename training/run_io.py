"""Files of training runs: atomic writes (``htkeras.files``), the run's provenance (commit, hardware, versions)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path

from htkeras.files import atomic_write, write_json

__all__ = ["atomic_write", "git_commit", "hardware", "read_json", "write_json"]


def read_json(path):
    return json.loads(Path(path).read_text())


def git_commit() -> str:
    """The checkout's commit, with ``-dirty`` when tracked files differ from it; "unknown" outside git."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def _accelerator():
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        devices = [d for d in jax.devices() if d.platform != "cpu"]
        return devices[0].device_kind if devices else None
    if backend == "tensorflow":
        import tensorflow as tf

        return "GPU" if tf.config.list_physical_devices("GPU") else None
    return None


def hardware() -> dict:
    import keras

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cpu_cores": usable,
        "accelerator": _accelerator(),
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "python": platform.python_version(),
    }


def replace_block(path: Path, name: str, lines: list) -> None:
    """Replace what stands between ``<!-- name:start -->`` and ``<!-- name:end -->`` in the file ``path`` (a
    generated part of a hand-written page) with ``lines``, atomically."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = Path(path).read_text()
    if start not in text or end not in text:
        raise ValueError(f"{path} has no {start} ... {end} block to fill.")
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    atomic_write(Path(path), lambda tmp: Path(tmp).write_text(head + start + "\n" + "\n".join(lines) + "\n" + end + tail))

