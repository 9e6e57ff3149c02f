"""UEA/UCR time-series classification sets in the ``.ts`` format, read from local files only.

Where the files are found, in order: ``<data root>/uea/<Name>/<Name>_{TRAIN,TEST}.ts`` (an explicit
``data_dir``, ``$HTKERAS_DATA`` or ``../shared/data``), then the copies bundled inside an installed ``aeon``
or ``sktime`` wheel (``<package>/datasets/data/<Name>/``: JapaneseVowels, BasicMotions, ...). The packages
are located without being imported, and never asked to load anything: aeon's ``load_classification``
downloads what it does not bundle.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from .paths import resolve_data_dir
from .sequences import pad_series

BUNDLING_PACKAGES = ("aeon", "sktime")
SPLITS = ("train", "test")


def _bundled_folders(name: str) -> list:
    folders = []
    for package in BUNDLING_PACKAGES:
        spec = importlib.util.find_spec(package)
        for location in (spec.submodule_search_locations or []) if spec else []:
            folders.append(Path(location) / "datasets" / "data" / name)
    return folders


def find_uea_file(name: str, split: str, data_dir=None) -> Path:
    """The ``.ts`` file of ``split`` (``train`` or ``test``) of the set ``name`` (see the module docstring)."""
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}; choose one of {', '.join(SPLITS)}.")
    folders = []
    try:
        folders.append(resolve_data_dir(data_dir, "uea") / name)
    except FileNotFoundError:
        pass
    folders += _bundled_folders(name)
    filename = f"{name}_{split.upper()}.ts"
    for folder in folders:
        if (folder / filename).is_file():
            return folder / filename
    looked = ", ".join(str(f) for f in folders) or "no data root and no aeon/sktime installed"
    raise FileNotFoundError(
        f"{filename} not found (looked in: {looked}). Put the UEA archive's {name}/ folder under <data root>/uea/, "
        'or pip install "htkeras[uea]" (aeon bundles JapaneseVowels, BasicMotions and a few more).'
    )


def read_ts(path) -> tuple:
    """``(series, labels, class_names)`` from a ``.ts`` file: a list of ``(T_i, D)`` float32 arrays (missing
    values ``?`` as NaN), the class label of each as a string, and the declared classes in order."""
    series, labels, classes, in_data = [], [], None, False
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            key, _, value = line.partition(" ")
            if key.lower() == "@classlabel":
                flag, *names = value.split()
                classes = names if flag.lower() == "true" else None
            in_data = key.lower() == "@data"
            continue
        *dimensions, label = line.split(":")
        values = [np.array([np.nan if v == "?" else float(v) for v in d.split(",")], np.float32) for d in dimensions]
        if len({len(v) for v in values}) != 1:
            raise ValueError(f"{path}: a case whose dimensions differ in length ({[len(v) for v in values]}).")
        series.append(np.stack(values, axis=-1))
        labels.append(label.strip())
    if classes is None:
        raise ValueError(f"{path} declares no class labels (@classLabel true ...): not a classification set.")
    return series, labels, classes


def load_uea(name: str, split: str, data_dir=None) -> tuple:
    """The ``split`` of the UEA set ``name`` as ``(x, y, class_names)``: ``x`` of shape ``(N, T, D)``, each
    series zero-padded at the end to the longest one ``T`` (a Masking(0) layer skips the padding), ``y`` the
    class indices in the order the file declares."""
    series, labels, classes = read_ts(find_uea_file(name, split, data_dir))
    x = pad_series(series)
    index = {c: k for k, c in enumerate(classes)}
    unknown = sorted(set(labels) - set(index))
    if unknown:
        raise ValueError(f"{name} {split}: labels {unknown} are not among the declared classes {classes}.")
    return x, np.array([index[label] for label in labels]), tuple(classes)
