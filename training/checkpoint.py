"""A training run's checkpoint, one atomic unit, and the checks that make ``--resume`` safe.

After every epoch the model with its optimizer (``model.keras``), the weights of the epoch with the lowest
validation loss so far (``best.weights.h5``) and the run state (``state.json``) are written into a staging
folder, which is renamed to ``epoch-NNNN/``; then the file ``LATEST`` is replaced (atomically) by that name,
and older epochs are removed. A kill at any point leaves ``LATEST`` naming a complete epoch (or no
checkpoint at all); the files of one epoch never mix with another's.

The state records the run's config (and its SHA-256) and the optimizer's step count. ``--resume`` refuses
a checkpoint whose config differs from the one given (naming the keys that differ), a model file that does
not load, and a model whose step count is not the state's.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from pathlib import Path

import keras
import numpy as np

from htkeras.files import atomic_write, write_json

LATEST = "LATEST"
BEST_WEIGHTS = "best.weights.h5"
SPACE_MARGIN = 16 << 20  # bytes kept free beyond a checkpoint's size (HDF5 fails badly on a full disk)
WRITE_STEPS = ("model", "best weights", "state", "rename", "point", "clean")  # in order; see write_checkpoint


class RunError(ValueError):
    """A run that cannot go on as asked; the message names the file and the fix."""


def fingerprint(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def changed_keys(old, new, prefix: str = "") -> list:
    """The dotted keys whose values differ between two JSON-like dicts."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return [prefix or "(the whole config)"] if old != new else []
    keys = sorted(set(old) | set(new))
    return [key for k in keys for key in changed_keys(old.get(k), new.get(k), f"{prefix}.{k}" if prefix else k)]


def check_config(saved: dict | None, config: dict, where: Path) -> None:
    """A RunError when ``config`` is not the config ``saved`` with the run in ``where``."""
    if saved is None or fingerprint(saved) != fingerprint(config):
        keys = changed_keys(saved or {}, config)
        raise RunError(f"{where} was made with another config (differs in: {', '.join(keys)}); --resume continues "
                       "the same run only. Start a new run in another --out folder.")


def latest(folder: Path) -> Path | None:
    """The epoch folder ``LATEST`` names in the checkpoint ``folder``, or None when there is no checkpoint."""
    pointer = Path(folder) / LATEST
    if not pointer.is_file():
        return None
    name = pointer.read_text().strip()
    if not name.startswith("epoch-") or "/" in name or not (Path(folder) / name).is_dir():
        raise RunError(f"{pointer} names {name!r}, not an epoch folder of this checkpoint: the checkpoint is damaged.")
    return Path(folder) / name


def holds_checkpoint(out: Path) -> bool:
    """Whether the run folder ``out`` holds any checkpoint (the final run's or a fold's)."""
    return any((Path(out) / "checkpoint").rglob(LATEST))


def check_space(folder: Path, previous: Path | None, model) -> None:
    """A RunError, before anything is written, when the disk of ``folder`` lacks room for a checkpoint: twice
    the last one's size (or, for the first, the model's weights and two optimizer slots, twice over) and
    ``SPACE_MARGIN``. A full disk mid-write can crash the HDF5 writer rather than raise."""
    if previous is not None:
        size = sum(f.stat().st_size for f in previous.rglob("*") if f.is_file())
    else:
        size = 2 * 3 * sum(math.prod(w.shape) * np.dtype(w.dtype).itemsize for w in model.weights)
    need, free = 2 * size + SPACE_MARGIN, shutil.disk_usage(folder).free
    if free < need:
        raise RunError(f"{folder} has {free:,} bytes free; a checkpoint needs about {need:,}. Free some space, then "
                       "continue with --resume.")


def _step(name: str, action) -> None:
    """One write step of a checkpoint (a seam where the tests inject failures)."""
    action()


def write_checkpoint(folder: Path, model, state: dict, improved: bool) -> Path:
    """Write epoch ``state["epochs_done"]`` of the run (see the module docstring); ``improved``: this epoch's
    weights are the best so far. Returns the epoch folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    previous = latest(folder)
    check_space(folder, previous, model)
    name = f"epoch-{state['epochs_done']:04d}"
    staging, final = folder / f".{name}.tmp", folder / name
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    state = {**state, "iterations": int(keras.ops.convert_to_numpy(model.optimizer.iterations))}

    def best():
        if improved:
            model.save_weights(staging / BEST_WEIGHTS)
        elif previous is not None and (previous / BEST_WEIGHTS).is_file():
            shutil.copy2(previous / BEST_WEIGHTS, staging / BEST_WEIGHTS)

    def rename():
        shutil.rmtree(final, ignore_errors=True)  # a complete epoch folder that LATEST never named
        os.rename(staging, final)

    def clean():
        for old in folder.iterdir():
            if old.is_dir() and old.name != name and old.name.lstrip(".").startswith("epoch-"):
                shutil.rmtree(old, ignore_errors=True)

    _step("model", lambda: model.save(staging / "model.keras"))
    _step("best weights", best)
    _step("state", lambda: write_json(staging / "state.json", state))
    _step("rename", rename)
    _step("point", lambda: atomic_write(folder / LATEST, lambda tmp: Path(tmp).write_text(name + "\n")))
    _step("clean", clean)
    return final


def read_checkpoint(folder: Path, config: dict):
    """``(model, state, epoch folder)`` of the checkpoint in ``folder``, checked against ``config``; None when
    there is none."""
    epoch = latest(folder)
    if epoch is None:
        return None
    try:
        state = json.loads((epoch / "state.json").read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise RunError(f"{epoch / 'state.json'} cannot be read ({error}): the checkpoint is damaged.") from None
    check_config(state.get("config"), config, folder)
    try:
        model = keras.saving.load_model(epoch / "model.keras")
    except Exception as error:  # Keras reports a damaged zip as "file not found", among others
        raise RunError(f"{epoch / 'model.keras'} is not a readable Keras model ({type(error).__name__}): the "
                       "checkpoint is damaged; start a new run in another --out folder.") from None
    steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    if steps != state.get("iterations"):
        raise RunError(f"{epoch / 'model.keras'} has taken {steps} optimizer steps but {epoch / 'state.json'} "
                       f"records {state.get('iterations')}: the checkpoint is inconsistent.")
    return model, state, epoch
