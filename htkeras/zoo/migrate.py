"""Converting a zoo model of htkeras 0.5 and earlier into the Keras-native layout (``htkeras migrate``).

Those folders held htkeras' record in ``config.json`` (Keras' own name for its model config) and the
weights that ``model.save_weights`` writes, so Keras could not load them. ``migrate`` reads such a folder
with the checks of ``ZooModel.read`` (every listed file against its SHA-256, the record's schema, the
weights' shapes against the model's), rebuilds the model from its spec and writes it through
``write_artifact``: Keras' ``config.json``, ``model.weights.h5`` and ``metadata.json``, htkeras' record in
``htkeras.json``, ``metrics.json``, the card, ``cv.json`` and ``curves.png`` as they were. The weights'
values do not change, so neither do the predictions.
"""

from __future__ import annotations

import os
import shutil
from functools import partial
from pathlib import Path

from ..checked_weights import load_weights
from ..models import build_model
from .artifact import OPTIONAL_FILES, RECORD, WEIGHTS, ZooModel, is_legacy, read_legacy, write_artifact


def migrate(source, out=None) -> ZooModel:
    """Convert the zoo model ``source`` (a folder of htkeras 0.5 or earlier, or ``hf://org/repo[@revision]``)
    into the Keras-native layout; returns the new folder, read back. ``out``: a new folder to write (required
    for a Hub model); without it the folder is converted in place: the new one is written beside it and takes
    its name by renames, so it is never half written."""
    from .resolver import download

    handle = str(source)
    if handle.startswith("hf://"):
        if out is None:
            raise ValueError(f"A model on the Hub is migrated into a new folder: pass --out (out=) for {handle}.")
        folder, within = download(handle)
    else:
        folder, within = Path(handle), None
    if not is_legacy(folder, within):
        if os.path.lexists(folder / RECORD):
            raise ValueError(f"{handle} is already in the Keras-native layout (it has {RECORD}): nothing to migrate.")
        raise FileNotFoundError(f"{handle} is not a zoo model folder of htkeras 0.5 or earlier (no config.json and "
                                "metadata.json).")
    config, metrics, checksums, paths = read_legacy(folder, within)
    model = build_model(config["model_spec"])
    load_weights(model, paths[WEIGHTS])
    extras = {name: partial(shutil.copyfile, paths[name]) for name in OPTIONAL_FILES if name in checksums}
    target = Path(out) if out is not None else folder.with_name(f".{folder.name}.migrated")
    written = write_artifact(target, config=config, metrics=metrics, model=model, extras=extras)
    if out is not None:
        return written
    old = folder.with_name(f".{folder.name}.legacy")
    os.rename(folder, old)
    os.rename(target, folder)
    shutil.rmtree(old)
    return ZooModel.read(folder)
