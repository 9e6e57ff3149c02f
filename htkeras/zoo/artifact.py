"""The zoo's one artifact type, ``ZooModel``, and the one writer of artifact folders.

A zoo model is a folder:

* ``config.json``: the training config, the model spec (``htkeras.models.build_model``) and the class
  labels (``None`` for a next-step model);
* ``model.weights.h5``: the weights;
* ``metrics.json``: only what a run measured (``metrics_record``);
* ``metadata.json``: the SHA-256 of every other file, the htkeras and Keras versions;
* optionally ``README.md`` (the card), ``cv.json`` (cross-validation), ``curves.png``.

``ZooModel.read`` reads and validates a folder once: the required files, the JSON and its schema, a name
that can never become a path outside a folder (``NAME_PATTERN``), as many labels as the head has classes,
and every checksum. A bad file is named in a one-line ``ValueError`` (``FileNotFoundError`` for a missing
one). Everything else (``load``, ``info``, ``preprocess``, ``export``, ``save``, ``push``) takes the
``ZooModel``, so a handle is resolved, and its files read, once.

``write_artifact`` (training runs and ``zoo.save``) and ``write_files`` (regenerated cards) are the only
writers. They stage every file beside the folder, then move it in: a new folder with one rename; into an
existing folder (a training run's), file by file with ``metadata.json`` removed first and written last, so
that a folder whose write was interrupted fails its checksums instead of passing for a model.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..files import json_text
from ..version import __version__

REQUIRED_FILES = ("config.json", "model.weights.h5", "metrics.json")
OPTIONAL_FILES = ("README.md", "cv.json", "curves.png")
METADATA = "metadata.json"
FILES = (*REQUIRED_FILES, *OPTIONAL_FILES, METADATA)  # everything a zoo folder holds and the Hub serves
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}")  # no separators, no leading dot: never a path
CONFIG_KEYS = {"name": str, "dataset": dict, "model_spec": dict}
SPEC_KEYS = {"kind": str, "units": int, "input_shape": list}
METRICS_KEYS = {"name": str, "data": dict, "split": dict, "parameters": int, "compression": (int, float),
                "commit": str}


def check_name(name, what: str = "A zoo model's name") -> str:
    """``name`` if it is a safe file name (``NAME_PATTERN``: letters, digits, ``.``, ``_``, ``-``; no ``..``);
    a ValueError otherwise."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or ".." in name:
        raise ValueError(f"{what} must be 1-96 letters, digits, '.', '_' or '-' (not starting with '.', no '..'), "
                         f"got {name!r}.")
    return name


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error}).") from None


def _check_keys(data, keys: dict, where: str) -> None:
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a JSON object, got {type(data).__name__}.")
    for key, kind in keys.items():
        value = data.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            expected = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise ValueError(f"{where}: {key!r} must be a {expected}, got {value!r}.")


def validate(config, metrics, where: Path | str) -> None:
    """The schema checks of ``ZooModel.read`` on ``config`` and ``metrics`` dicts (also before writing)."""
    _check_keys(config, CONFIG_KEYS, f"{where}/config.json")
    _check_keys(config["model_spec"], SPEC_KEYS, f"{where}/config.json model_spec")
    _check_keys(config["dataset"], {"name": str}, f"{where}/config.json dataset")
    check_name(config["name"], f"{where}/config.json: 'name'")
    _check_keys(metrics, METRICS_KEYS, f"{where}/metrics.json")
    spec, labels = config["model_spec"], config.get("labels")
    if spec.get("head", "label") == "label":
        classes = spec.get("num_classes")
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise ValueError(f"{where}/config.json: a classifier needs 'labels', a list of class names.")
        if len(labels) != classes:
            raise ValueError(f"{where}/config.json: {len(labels)} labels for a head of {classes} classes.")


@dataclass(frozen=True, eq=False)
class ZooModel:
    """A zoo model folder, read and validated (see the module docstring). ``handle``: how it was named
    (a built-in name, ``hf://org/repo[@revision]`` or a folder)."""

    folder: Path
    handle: str
    config: dict
    metrics: dict
    checksums: dict

    @classmethod
    def read(cls, folder, handle=None) -> "ZooModel":
        folder = Path(folder)
        missing = [name for name in (*REQUIRED_FILES, METADATA) if not (folder / name).is_file()]
        if missing:
            raise FileNotFoundError(f"{folder} is not a zoo model folder: missing {', '.join(missing)}.")
        metadata = _read_json(folder / METADATA)
        checksums = metadata.get("sha256") if isinstance(metadata, dict) else None
        if not isinstance(checksums, dict) or not set(REQUIRED_FILES) <= set(checksums):
            raise ValueError(f"{folder / METADATA} does not list the SHA-256 of {', '.join(REQUIRED_FILES)}.")
        strange = [name for name in checksums if name not in FILES or name == METADATA]
        if strange:
            raise ValueError(f"{folder / METADATA} lists {strange[0]!r}, which is not a zoo model file.")
        for name, digest in checksums.items():
            path = folder / name
            if not path.is_file():
                raise FileNotFoundError(f"{path} is missing (listed in {METADATA}).")
            if sha256(path) != digest:
                raise ValueError(f"{path} does not match its SHA-256 in {METADATA}: the file is corrupt or was "
                                 "changed. Download it again, or write the folder again with htkeras.")
        config, metrics = _read_json(folder / "config.json"), _read_json(folder / "metrics.json")
        validate(config, metrics, folder)
        return cls(folder, str(folder if handle is None else handle), config, metrics, dict(checksums))

    @property
    def name(self) -> str:
        return self.config["name"]

    @property
    def spec(self) -> dict:
        return self.config["model_spec"]

    @property
    def dataset(self) -> dict:
        return self.config["dataset"]

    @property
    def labels(self) -> list | None:
        return self.config.get("labels")

    @property
    def has_own_labels(self) -> bool:
        """Whether its labels are not its dataset's (saved by ``zoo.save`` with labels of its own): its
        dataset's data cannot evaluate it."""
        return "evaluation_data" in self.config

    @property
    def is_classifier(self) -> bool:
        return self.spec.get("head", "label") == "label"

    @property
    def weights(self) -> Path:
        return self.folder / "model.weights.h5"

    def files(self) -> list:
        """The names of the artifact's files present in its folder (what ``push`` uploads)."""
        return [name for name in FILES if (self.folder / name).is_file()]

    def __repr__(self) -> str:
        return f"ZooModel({self.name!r}, handle={self.handle!r}, folder={str(self.folder)!r})"


def metrics_record(model, *, name: str, task, data: dict, split: dict, commit: str, **measured) -> dict:
    """The metrics.json of ``model``: what the run says of its data and split, what it ``measured``, and the
    sizes every zoo model records (parameters, trainable parameters; dense-equivalent parameters and
    compression of the trained layers, a frozen backbone left out), commit and date."""
    from ..summary import compression_summary

    report = compression_summary(model, print_fn=lambda *_: None, trainable_only=True)
    return {
        "name": name, "task": task, "data": data, "split": split, **measured,
        "parameters": int(model.count_params()),
        "trainable_parameters": int(sum(math.prod(w.shape) for w in model.trainable_weights)),
        "dense_parameters": int(report.total.dense_params),
        "compression": report.total.compression,
        "commit": commit,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _metadata(sources: dict, name: str) -> dict:
    """``metadata.json`` of a folder whose files are at ``sources`` (``{file name: path}``)."""
    import keras  # the reader needs no Keras: ``htkeras info`` runs without TensorFlow

    return {"library": "htkeras", "htkeras_version": __version__, "keras_version": keras.__version__, "name": name,
            "sha256": {file: sha256(path) for file, path in sources.items()}}


def write_files(folder, files: dict, *, new: bool = False) -> ZooModel:
    """Write ``files`` (``{file name: bytes, str, or a function writing to the path it is given}``) into the zoo
    folder ``folder`` and seal it with a new ``metadata.json``; returns the folder read back. ``new``: the
    folder must not exist yet (it is created with one rename)."""
    folder = Path(folder)
    unknown = set(files) - set(FILES) - {METADATA}
    if unknown or METADATA in files:
        raise ValueError(f"A zoo folder holds {', '.join(FILES)}; cannot write {sorted(unknown | {METADATA} & set(files))}.")
    if new and folder.exists():
        raise FileExistsError(f"{folder} exists; write the zoo model into a new folder.")
    if not new and not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder.")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for file, content in files.items():
            if callable(content):
                content(staging / file)
            else:
                (staging / file).write_bytes(content.encode() if isinstance(content, str) else content)
        kept = [] if new else [file for file in FILES if file not in files and (folder / file).is_file()]
        sources = {file: staging / file if file in files else folder / file  # the folder's other files count too
                   for file in FILES if file != METADATA and (file in files or file in kept)}
        config, metrics = (_read_json(sources[file]) for file in ("config.json", "metrics.json"))
        validate(config, metrics, folder)
        (staging / METADATA).write_text(json_text(_metadata(sources, config["name"])))
        if new:
            os.rename(staging, folder)
        else:
            (folder / METADATA).unlink(missing_ok=True)  # from here until the last rename the folder is invalid
            for file in files:
                os.replace(staging / file, folder / file)
            os.replace(staging / METADATA, folder / METADATA)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ZooModel.read(folder)


def write_artifact(folder, *, config: dict, metrics: dict, save_weights, extras: dict | None = None,
                   new: bool = True) -> ZooModel:
    """Write a zoo model: ``config`` and ``metrics`` (validated first), the weights by
    ``save_weights(path)`` (e.g. ``model.save_weights``), and ``extras`` (``README.md``, ``curves.png``, ...,
    as in ``write_files``). ``new=False`` writes into an existing folder (a training run's)."""
    validate(config, metrics, folder)
    files = {"config.json": json_text(config), "metrics.json": json_text(metrics), "model.weights.h5": save_weights,
             **(extras or {})}
    return write_files(folder, files, new=new)
