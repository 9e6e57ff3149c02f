"""One resolver from a handle to a ``ZooModel``:

* a built-in name (``list_models()``): the copy installed with the package, offline;
* ``hf://org/repo`` or ``hf://org/repo@revision``: downloaded once by ``huggingface_hub`` into its cache
  (``HF_ENDPOINT``, ``HF_HUB_OFFLINE``, revision pinning and file checksums are the Hub client's);
* a local folder holding a zoo model's files;
* a ``ZooModel``, returned as it is (pass it on to resolve a handle only once).
"""

from __future__ import annotations

import importlib.resources
import re
from pathlib import Path

from ..lookup import lookup
from .artifact import FILES, REQUIRED_FILES, ZooModel

HUB_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*")


def builtin_root() -> Path | None:
    """The folder of the built-in models: ``htkeras._zoo`` when installed, ``zoo/`` beside the package in a
    source checkout, None when neither exists."""
    try:
        return Path(str(importlib.resources.files("htkeras._zoo")))
    except ModuleNotFoundError:
        checkout = Path(__file__).resolve().parents[2] / "zoo"
        return checkout if checkout.is_dir() else None


def list_models() -> list:
    """Names of the built-in models."""
    root = builtin_root()
    return sorted(p.parent.name for p in root.glob("*/metrics.json")) if root else []


def download(handle: str) -> Path:
    """The local folder of ``hf://org/repo[@revision]`` (downloaded into the Hub cache, or found there)."""
    repo, _, revision = handle[len("hf://") :].partition("@")
    if not HUB_REPO.fullmatch(repo) or ".." in repo:
        raise ValueError(f"A Hub handle is hf://org/repo or hf://org/repo@revision, got {handle!r}.")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        folder = snapshot_download(repo, revision=revision or None, allow_patterns=list(FILES))
    except LocalEntryNotFoundError as error:
        raise ConnectionError(
            f"Cannot download {handle}: no network (or HF_HUB_OFFLINE=1) and no cached copy. Connect once to "
            f"cache it, or pass a local folder with {', '.join(REQUIRED_FILES)}."
        ) from error
    return Path(folder)


def resolve(handle) -> ZooModel:
    """The ``ZooModel`` that ``handle`` names (see the module docstring), read and validated; helpful errors
    otherwise."""
    if isinstance(handle, ZooModel):
        return handle
    handle = str(handle)
    if handle.startswith("hf://"):
        folder = download(handle)
    elif Path(handle).is_dir():
        folder = Path(handle)
    else:
        root = builtin_root()
        folders = {name: root / name for name in list_models()}
        folder = lookup(folders, handle, "zoo model (a built-in name, hf://org/repo[@revision] or a folder)")
    return ZooModel.read(folder, handle)
