"""The zoo's one artifact type, ``ZooModel``, and the one writer of artifact folders.

A zoo model is a folder that is a genuine Keras unzipped save (what ``keras.saving.save_model(model, folder,
zipped=False)`` writes, so that ``keras.saving.load_model(folder)`` and ``load_model("hf://org/repo")``
return the whole compiled model after ``import htkeras``) plus htkeras' own files:

* ``config.json``: Keras' model config (the architecture, its compile config);
* ``model.weights.h5``: Keras' weights file (the optimizer's built, untrained state included);
* ``metadata.json``: Keras' metadata (``keras_version``, ``date_saved``) and htkeras' seal: the SHA-256 of
  every other file, the htkeras version, the model's name;
* ``htkeras.json``: htkeras' record: the training config, the model spec (``htkeras.models.build_model``),
  the dataset and its preprocessing, the class labels (``None`` for a next-step model);
* ``metrics.json``: only what a run measured (``metrics_record``);
* optionally ``README.md`` (the card), ``cv.json`` (cross-validation), ``curves.png``.

A folder of htkeras 0.5 and earlier (htkeras' record in ``config.json``, no Keras config) is refused with
the command that converts it (``htkeras migrate``, ``htkeras.zoo.migrate``).

``ZooModel.read`` reads and validates a folder once, and is the one place that decides what a folder may
contain: only the files that ``metadata.json`` vouches for (listed with their SHA-256) exist for htkeras,
each a regular file (no symbolic link, device or FIFO; in the Hugging Face cache, whose files are links, a
link must stay inside the repo's own cache folder) of a bounded size (``MAX_BYTES``), hashed in chunks; the
JSON and its schema, with bounded sizes (``validate``); a name that can never become a path outside a
folder (``NAME_PATTERN``); as many labels as the head has classes. A bad file is named in a one-line
``ValueError`` (``FileNotFoundError`` for a missing one). Everything else (``load``, ``info``,
``preprocess``, ``export``, ``save``, ``push``) takes the ``ZooModel``, so a handle is resolved, and its
files read, once; ``push`` uploads a verified copy of the listed files (``ZooModel.copy_to``), nothing else.

``write_artifact`` (training runs, ``zoo.save``, ``migrate``) and ``write_files`` (regenerated cards) are the
only writers, under the folder's write lock (``htkeras.files.writing``). They stage every file beside the
folder, then move it in: a new folder with one rename; into an existing folder (a training run's), file by
file with ``metadata.json`` removed first and written last, so that a folder whose write was interrupted
fails its checksums instead of passing for a model. The new folder holds exactly the files written and those
``keep`` names: no file of an earlier model in that folder is sealed into the new one.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ..files import file_sha256, json_text, open_regular, regular_file, staging_folder, writing
from ..version import __version__

RECORD = "htkeras.json"  # htkeras' own record; config.json, model.weights.h5 and metadata.json are Keras'
KERAS_CONFIG, WEIGHTS = "config.json", "model.weights.h5"
REQUIRED_FILES = (RECORD, KERAS_CONFIG, WEIGHTS, "metrics.json")
OPTIONAL_FILES = ("README.md", "cv.json", "curves.png")
METADATA = "metadata.json"
FILES = (*REQUIRED_FILES, *OPTIONAL_FILES, METADATA)  # everything a zoo folder holds and the Hub serves
LEGACY_REQUIRED = (KERAS_CONFIG, WEIGHTS, "metrics.json")  # htkeras <= 0.5: the record in config.json
LEGACY_FILES = (*LEGACY_REQUIRED, *OPTIONAL_FILES)
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}")  # no separators, no leading dot: never a path
CONFIG_KEYS = {"name": str, "dataset": dict, "model_spec": dict}  # of htkeras.json
KERAS_CONFIG_KEYS = {"class_name": str, "config": dict}
SPEC_KEYS = {"kind": str, "units": int, "input_shape": list}
METRICS_KEYS = {"name": str, "data": dict, "split": dict, "parameters": int, "compression": (int, float),
                "commit": str}
GIB = 1 << 30
MAX_BYTES = {WEIGHTS: 2 * GIB, "curves.png": 16 << 20}  # every other file (JSON, the card): 16 MiB
MAX_TEXT_BYTES = 16 << 20
# Bounds on the sizes a config may ask for (a forged one must not make htkeras allocate without limit)
LIMITS = {"units": 16_384, "num_classes": 100_000, "input_shape": 10_000_000, "num_frames": 100_000,
          "num_mels": 1_024, "seconds": 600}


def max_bytes(name: str) -> int:
    """The largest size of the zoo file ``name``."""
    return MAX_BYTES.get(name, MAX_TEXT_BYTES)


def check_name(name, what: str = "A zoo model's name") -> str:
    """``name`` if it is a safe file name (``NAME_PATTERN``: letters, digits, ``.``, ``_``, ``-``; no ``..``);
    a ValueError otherwise."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or ".." in name:
        raise ValueError(f"{what} must be 1-96 letters, digits, '.', '_' or '-' (not starting with '.', no '..'), "
                         f"got {name!r}.")
    return name


def _read_json(path: Path):
    with open_regular(path, MAX_TEXT_BYTES) as f:
        data = f.read()
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error}).") from None
    except RecursionError:
        raise ValueError(f"{path} is nested too deeply to be a zoo file.") from None


def bounded(value, limit: int, where: str, kind=int):
    """``value`` when it is a positive ``kind`` (not a bool) of at most ``limit``; a ValueError naming
    ``where`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, kind) or not 0 < value <= limit:
        noun = "a positive integer" if kind is int else "a positive number"
        raise ValueError(f"{where} must be {noun} of at most {limit:,}, got {value!r}.")
    return value


def _check_keys(data, keys: dict, where: str) -> None:
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a JSON object, got {type(data).__name__}.")
    for key, kind in keys.items():
        value = data.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            expected = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise ValueError(f"{where}: {key!r} must be a {expected}, got {value!r}.")


def check_sizes(spec: dict, dataset: dict, where: str) -> None:
    """The sizes a model spec and a dataset section ask for, each a positive number within ``LIMITS`` (and a
    sample rate within ``htkeras.data.audio``'s bounds)."""
    bounded(spec.get("units"), LIMITS["units"], f"{where} model_spec 'units'")
    shape = spec.get("input_shape")
    if not isinstance(shape, list) or not shape or not all(d is None or isinstance(d, int) for d in shape):
        raise ValueError(f"{where} model_spec 'input_shape' must be a list of sizes, got {shape!r}.")
    for size in shape:
        if size is not None:
            bounded(size, LIMITS["input_shape"], f"{where} model_spec 'input_shape'")
    if spec.get("head", "label") == "label":
        bounded(spec.get("num_classes"), LIMITS["num_classes"], f"{where} model_spec 'num_classes'")
    check_dataset_sizes(dataset, where)


def check_dataset_sizes(dataset: dict, where: str) -> None:
    """The sizes a dataset section asks for (frames, mel bands, seconds, sample rate), within ``LIMITS``."""
    from ..data.audio import check_rate

    for key in ("num_frames", "num_mels"):
        if key in dataset:
            bounded(dataset[key], LIMITS[key], f"{where} dataset {key!r}")
    if "seconds" in dataset:
        bounded(dataset["seconds"], LIMITS["seconds"], f"{where} dataset 'seconds'", (int, float))
    if "sample_rate" in dataset:
        check_rate(dataset["sample_rate"], f"{where} dataset 'sample_rate'")


def validate(config, metrics, where: Path | str, record: str = RECORD) -> None:
    """The schema checks of ``ZooModel.read`` on the ``config`` (htkeras' record, read from the file
    ``record``) and ``metrics`` dicts (also before writing)."""
    _check_keys(config, CONFIG_KEYS, f"{where}/{record}")
    _check_keys(config["model_spec"], SPEC_KEYS, f"{where}/{record} model_spec")
    _check_keys(config["dataset"], {"name": str}, f"{where}/{record} dataset")
    check_name(config["name"], f"{where}/{record}: 'name'")
    _check_keys(metrics, METRICS_KEYS, f"{where}/metrics.json")
    _check_keys(metrics["data"], {"name": str}, f"{where}/metrics.json data")
    spec, labels = config["model_spec"], config.get("labels")
    check_sizes(spec, config["dataset"], f"{where}/{record}")
    if spec.get("head", "label") == "label":
        classes = spec.get("num_classes")
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise ValueError(f"{where}/{record}: a classifier needs 'labels', a list of class names.")
        if len(labels) != classes:
            raise ValueError(f"{where}/{record}: {len(labels)} labels for a head of {classes} classes.")


def _member(folder: Path, name: str, within: Path | None) -> Path:
    """The path to read the zoo file ``name`` of ``folder`` from: the file itself, a regular file within its
    size bound; in the Hub cache (``within``: the repo's cache folder) the target of its link, which must lie
    inside ``within``."""
    path = folder / name
    if within is not None and path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(within.resolve()):
            raise ValueError(f"{path} links to {target}, outside the Hub cache folder {within}: refused.")
        path = target
    regular_file(path, max_bytes(name))
    return path


def is_legacy(folder: Path, links_within=None) -> bool:
    """Whether ``folder`` is a zoo folder of htkeras 0.5 or earlier: its ``metadata.json`` vouches for a
    ``config.json`` (then htkeras' record) and for no ``htkeras.json``. A folder of today that lost its
    ``htkeras.json`` is not one: it is named as damaged."""
    if os.path.lexists(folder / RECORD) or not all(os.path.lexists(folder / name) for name in (KERAS_CONFIG, METADATA)):
        return False
    try:
        metadata = _read_json(_member(folder, METADATA, None if links_within is None else Path(links_within)))
    except (ValueError, OSError):
        return False
    checksums = metadata.get("sha256") if isinstance(metadata, dict) else None
    return isinstance(checksums, dict) and KERAS_CONFIG in checksums and RECORD not in checksums


def _check_keras_config(path: Path, folder: Path) -> None:
    """The folder's ``config.json`` at ``path`` is a Keras model config (a JSON object with its class)."""
    _check_keys(_read_json(path), KERAS_CONFIG_KEYS, f"{folder}/{KERAS_CONFIG} (Keras' model config)")


def verified_files(folder: Path, required, allowed, links_within=None) -> tuple:
    """``(checksums, paths)`` of the files that ``folder``'s ``metadata.json`` vouches for, each checked
    (``_member``) and hashed against its SHA-256; ``required``: the names it must list, ``allowed``: every name
    it may list. A one-line ValueError (FileNotFoundError for a missing file) names the first bad one."""
    within = None if links_within is None else Path(links_within)
    missing = [name for name in (*required, METADATA) if not os.path.lexists(folder / name)]
    if missing:
        raise FileNotFoundError(f"{folder} is not a zoo model folder: missing {', '.join(missing)}.")
    metadata = _read_json(_member(folder, METADATA, within))
    checksums = metadata.get("sha256") if isinstance(metadata, dict) else None
    if not isinstance(checksums, dict) or not set(required) <= set(checksums):
        raise ValueError(f"{folder / METADATA} does not list the SHA-256 of {', '.join(required)}.")
    strange = [name for name in checksums if name not in allowed or name == METADATA]
    if strange:
        raise ValueError(f"{folder / METADATA} lists {strange[0]!r}, which is not a zoo model file.")
    paths = {}
    for name, digest in checksums.items():
        if not os.path.lexists(folder / name):
            raise FileNotFoundError(f"{folder / name} is missing (listed in {METADATA}).")
        paths[name] = _member(folder, name, within)
        if file_sha256(paths[name], max_bytes(name)) != digest:
            raise ValueError(f"{folder / name} does not match its SHA-256 in {METADATA}: the file is corrupt or "
                             "was changed. Download it again, or write the folder again with htkeras.")
    return dict(checksums), paths


def read_legacy(folder: Path, links_within=None) -> tuple:
    """``(record, metrics, checksums, paths)`` of a zoo folder of htkeras 0.5 or earlier (``is_legacy``: its
    record in ``config.json``, the weights without a Keras config), checked as ``ZooModel.read`` checks a
    folder: for ``htkeras migrate`` only."""
    checksums, paths = verified_files(folder, LEGACY_REQUIRED, LEGACY_FILES, links_within)
    config, metrics = _read_json(paths[KERAS_CONFIG]), _read_json(paths["metrics.json"])
    validate(config, metrics, folder, record=KERAS_CONFIG)
    return config, metrics, checksums, paths


@dataclass(frozen=True, eq=False)
class ZooModel:
    """A zoo model folder, read and validated (see the module docstring). ``handle``: how it was named
    (a built-in name, ``hf://org/repo[@revision]`` or a folder); ``paths``: where each listed file is read
    from (its link's target in the Hub cache)."""

    folder: Path
    handle: str
    config: dict
    metrics: dict
    checksums: dict
    paths: dict = field(default_factory=dict)

    @classmethod
    def read(cls, folder, handle=None, links_within=None) -> "ZooModel":
        """Read and check ``folder`` (see the module docstring). ``links_within``: a Hub cache folder, whose
        links (to its blobs) are followed when they stay inside it; elsewhere no link is read."""
        folder = Path(folder)
        handle = str(folder if handle is None else handle)
        if is_legacy(folder, links_within):
            out = " --out NEW_FOLDER" if handle.startswith("hf://") else ""
            raise ValueError(f"{handle} is a zoo model of htkeras 0.5 or earlier (htkeras' record in config.json, not a "
                             f"Keras save): convert it with `htkeras migrate {handle}{out}`.")
        checksums, paths = verified_files(folder, REQUIRED_FILES, FILES, links_within)
        _check_keras_config(paths[KERAS_CONFIG], folder)
        config, metrics = _read_json(paths[RECORD]), _read_json(paths["metrics.json"])
        validate(config, metrics, folder)
        return cls(folder, handle, config, metrics, checksums, paths)

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
        """The weights file (by its name in the folder: Keras reads a file by its ending; in the Hub cache a
        link, checked by ``read`` to stay in the repo's cache folder)."""
        return self.folder / WEIGHTS

    def files(self) -> list:
        """The names of the artifact's files: those ``metadata.json`` lists, and itself."""
        return [name for name in FILES if name in self.checksums or name == METADATA]

    def copy_to(self, destination) -> Path:
        """Copy the artifact's files (``files``) into the new folder ``destination``, each checked against its
        SHA-256 as it is copied (a file changed since ``read`` is refused): exactly the bytes that were
        verified, and nothing else, e.g. for ``push`` to upload."""
        destination = Path(destination)
        destination.mkdir()
        for name in self.files():
            source = self.paths.get(name) or _member(self.folder, name, None)
            digest = file_sha256(source, max_bytes(name), copy_to=destination / name)
            if name != METADATA and digest != self.checksums[name]:
                raise ValueError(f"{self.folder / name} changed after it was checked: nothing was copied.")
        return destination

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


def _metadata(sources: dict, name: str, saved_by: dict) -> dict:
    """``metadata.json`` of a folder whose files are at ``sources`` (``{file name: path}``): Keras' own keys
    (``saved_by``: ``keras_version`` and ``date_saved`` of its Keras files) and htkeras' seal."""
    return {**saved_by, "library": "htkeras", "htkeras_version": __version__, "name": name,
            "sha256": {file: file_sha256(path, max_bytes(file)) for file, path in sources.items()}}


def _saved_by(folder: Path, rewritten) -> dict:
    """Keras' metadata keys for a folder whose files ``rewritten`` are new: now and this Keras when its Keras
    files are among them, otherwise those its ``metadata.json`` has (a regenerated card changes no model)."""
    import keras  # the reader needs no Keras: ``htkeras info`` runs without TensorFlow

    now = {"keras_version": keras.__version__, "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S")}
    if KERAS_CONFIG in rewritten or not os.path.lexists(folder / METADATA):
        return now
    old = _read_json(_member(folder, METADATA, None))
    return {key: old[key] for key in now if isinstance(old, dict) and isinstance(old.get(key), str)} or now


def write_files(folder, files: dict, *, new: bool = False, keep=None) -> ZooModel:
    """Write ``files`` (``{file name: bytes, str, or a function writing to the path it is given}``) into the zoo
    folder ``folder`` and seal it with a new ``metadata.json``; returns the folder read back. ``new``: the
    folder must not exist yet (it is created with one rename). ``keep``: the names of the folder's files to
    seal again with the new ones (default: those its ``metadata.json`` vouches for, checked first); every
    other zoo file in the folder is removed, so nothing of an earlier model is sealed into this one."""
    folder = Path(folder)
    unknown = set(files) - set(FILES) - {METADATA}
    if unknown or METADATA in files:
        raise ValueError(f"A zoo folder holds {', '.join(FILES)}; cannot write {sorted(unknown | {METADATA} & set(files))}.")
    with writing(folder):
        if new and os.path.lexists(folder):
            raise FileExistsError(f"{folder} exists; write the zoo model into a new folder.")
        if not new and not folder.is_dir():
            raise FileNotFoundError(f"{folder} is not a folder.")
        if new:
            kept = []
        elif keep is None:
            kept = [file for file in ZooModel.read(folder).files() if file not in files and file != METADATA]
        else:
            kept = [file for file in keep if file not in files]
        staging = staging_folder(folder)
        try:
            for file, content in files.items():
                if callable(content):
                    content(staging / file)
                else:
                    (staging / file).write_bytes(content.encode() if isinstance(content, str) else content)
            sources = {file: staging / file for file in files}
            sources.update({file: _member(folder, file, None) for file in kept})  # hashed where they are
            config, metrics = (_read_json(sources[file]) for file in (RECORD, "metrics.json"))
            validate(config, metrics, folder)
            _check_keras_config(sources[KERAS_CONFIG], folder)
            metadata = _metadata(sources, config["name"], _saved_by(folder, files))
            (staging / METADATA).write_text(json_text(metadata))
            if new:
                os.rename(staging, folder)
            else:
                (folder / METADATA).unlink(missing_ok=True)  # from here until the last rename the folder is invalid
                for file in files:
                    os.replace(staging / file, folder / file)
                for file in FILES:  # an earlier model's files that this one does not vouch for
                    if file not in sources and file != METADATA and os.path.lexists(folder / file):
                        os.unlink(folder / file)
                os.replace(staging / METADATA, folder / METADATA)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return ZooModel.read(folder)


def write_artifact(folder, *, config: dict, metrics: dict, model, extras: dict | None = None,
                   new: bool = True, keep=()) -> ZooModel:
    """Write a zoo model: ``config`` (htkeras' record) and ``metrics`` (validated first), ``model`` as Keras
    saves it (``keras.saving.save_model(..., zipped=False)``: ``config.json`` and ``model.weights.h5``) from
    ``htkeras.models.zoo_copy`` (a fresh model of the record's spec with ``model``'s weights, compiled as
    ``zoo.load`` gives it; a model of another architecture is refused), and ``extras`` (``README.md``,
    ``curves.png``, ..., as in ``write_files``). ``new=False`` writes into an existing folder (a training
    run's), sealing with them only the folder's files named in ``keep`` (a run's own ``cv.json``)."""
    import keras

    from ..models import zoo_copy

    validate(config, metrics, folder)
    ready = zoo_copy(model, config["model_spec"], config.get("training"))
    with tempfile.TemporaryDirectory() as saved:
        keras.saving.save_model(ready, Path(saved) / "model", zipped=False)
        files = {RECORD: json_text(config), "metrics.json": json_text(metrics), **(extras or {})}
        files.update({name: partial(shutil.copyfile, Path(saved) / "model" / name) for name in (KERAS_CONFIG, WEIGHTS)})
        return write_files(folder, files, new=new, keep=keep)
