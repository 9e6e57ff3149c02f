"""One resolver from a handle to a ``ZooModel``:

* a built-in name (``list_models()``): the copy installed with the package, offline;
* ``hf://org/repo`` or ``hf://org/repo@revision``: downloaded once by ``huggingface_hub`` into its cache
  (``HF_ENDPOINT``, ``HF_HUB_OFFLINE`` and revision pinning are the Hub client's). The handle is checked
  first (``HubHandle``: a repo and a revision that can never become paths); the endpoint must be https
  unless ``HTKERAS_ALLOW_HTTP_HUB=1`` (a local test Hub); the server's commit sha, ETags and file sizes are
  checked before anything is downloaded, and the folder the client returns, with every file's link, must lie in
  the repo's own cache folder. A cached copy that fails its checksums is downloaded again once;
* a local folder holding a zoo model's files (``./name`` for a folder that has a built-in's name: a bare
  built-in name always means the built-in);
* a ``ZooModel``, returned as it is (pass it on to resolve a handle only once).
"""

from __future__ import annotations

import importlib.resources
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from ..lookup import lookup
from .artifact import FILES, REQUIRED_FILES, ZooModel, is_legacy, max_bytes

_PART = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}"
HUB_REPO = re.compile(rf"{_PART}/{_PART}")
HUB_REVISION = re.compile(rf"{_PART}(/{_PART}){{0,7}}")  # a branch, a tag, a commit or refs/pr/N
COMMIT = re.compile(r"[0-9a-f]{40}")
ETAG = re.compile(r"[A-Za-z0-9_-]{1,128}")  # the Hub client makes a file's ETag the name of its cache blob
ALLOW_HTTP = "HTKERAS_ALLOW_HTTP_HUB"


@dataclass(frozen=True)
class HubHandle:
    """``hf://org/repo[@revision]``, checked: the repo is ``org/name`` and the revision one to eight
    ``/``-separated parts, each of letters, digits, ``_``, ``.`` and ``-`` not starting with ``.``, with no
    ``..`` anywhere (the Hub client makes both into cache paths)."""

    repo: str
    revision: str | None = None

    @classmethod
    def parse(cls, handle: str) -> "HubHandle":
        repo, at, revision = str(handle).removeprefix("hf://").partition("@")
        if not HUB_REPO.fullmatch(repo) or ".." in repo or (at and (not HUB_REVISION.fullmatch(revision) or ".." in revision)):
            raise ValueError(f"A Hub handle is hf://org/repo or hf://org/repo@revision (letters, digits, '_', '.' and "
                             f"'-', no '..'), got {handle!r}.")
        return cls(repo, revision or None)

    def __str__(self) -> str:
        return f"hf://{self.repo}" + (f"@{self.revision}" if self.revision else "")


def check_endpoint() -> str:
    """The Hub endpoint (``HF_ENDPOINT``), refused unless it is https or ``HTKERAS_ALLOW_HTTP_HUB=1`` (plain
    http lets anyone on the way change the model, and read a token)."""
    from huggingface_hub import constants

    endpoint = constants.ENDPOINT
    if urlparse(endpoint).scheme != "https" and os.environ.get(ALLOW_HTTP) != "1":
        raise ValueError(f"The Hub endpoint {endpoint} is not https: refused (anyone on the way could change the model "
                         f"or read your token). Set {ALLOW_HTTP}=1 to use it anyway, e.g. for a local test Hub.")
    return endpoint


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


def _check_server(hub: HubHandle, cache: Path) -> None:
    """Before downloading (the Hub client makes the server's words into cache paths): the commit must be a
    commit sha, each file to download must have an ETag without separators and a declared size within its
    bound (``artifact.MAX_BYTES``). Skipped offline (only the cache can answer then)."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url, snapshot_download
    from huggingface_hub.errors import DryRunError

    try:
        planned = snapshot_download(hub.repo, revision=hub.revision, allow_patterns=list(FILES), cache_dir=cache,
                                    dry_run=True)
    except DryRunError:
        return
    for file in planned:
        if not COMMIT.fullmatch(str(file.commit_hash)):
            raise ValueError(f"The Hub at {check_endpoint()} names commit {file.commit_hash!r} for {hub}, not a commit "
                             "sha: refused.")
        if file.file_size is not None and file.file_size > max_bytes(file.filename):
            raise ValueError(f"{hub}: {file.filename} is {file.file_size:,} bytes, more than the "
                             f"{max_bytes(file.filename):,} a zoo model's {file.filename} may have: refused.")
        if file.will_download:
            etag = get_hf_file_metadata(hf_hub_url(hub.repo, file.filename, revision=file.commit_hash)).etag
            if not ETAG.fullmatch(str(etag)):
                raise ValueError(f"The Hub at {check_endpoint()} gives {hub}'s {file.filename} the ETag {etag!r}, "
                                 "which is not a plain name: refused.")


def download(handle, force: bool = False) -> tuple:
    """``(folder, repo cache folder)`` of ``hf://org/repo[@revision]`` (downloaded into the Hub cache, or
    found there; ``force``: downloaded again). The folder must lie in the repo's cache folder."""
    hub = HubHandle.parse(handle)
    check_endpoint()
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    cache = Path(constants.HF_HUB_CACHE).expanduser().resolve()
    repo_cache = cache / f"models--{hub.repo.replace('/', '--')}"
    try:
        _check_server(hub, cache)
        folder = Path(snapshot_download(hub.repo, revision=hub.revision, allow_patterns=list(FILES), cache_dir=cache,
                                        force_download=force))
    except LocalEntryNotFoundError as error:
        raise ConnectionError(
            f"Cannot download {hub}: no network (or HF_HUB_OFFLINE=1) and no cached copy. Connect once to "
            f"cache it, or pass a local folder with {', '.join(REQUIRED_FILES)}."
        ) from error
    snapshots = repo_cache / "snapshots"
    if folder.resolve().parent != snapshots.resolve() or not COMMIT.fullmatch(folder.resolve().name):
        raise ValueError(f"The Hub client gave {folder} for {hub}, not a snapshot folder in {snapshots}: refused.")
    return folder, repo_cache


def _read_hub(handle: str) -> ZooModel:
    folder, repo_cache = download(handle)
    try:
        return ZooModel.read(folder, handle, links_within=repo_cache)
    except (ValueError, FileNotFoundError) as error:
        from huggingface_hub import constants

        if is_legacy(folder, repo_cache):  # not damaged: made by an older htkeras (the error names the conversion)
            raise

        if constants.HF_HUB_OFFLINE:
            raise ValueError(f"{error} The cached copy of {handle} is damaged and HF_HUB_OFFLINE=1: delete "
                             f"{repo_cache} and load it again online.") from None
    folder, repo_cache = download(handle, force=True)  # a damaged cached copy: once more from the Hub
    return ZooModel.read(folder, handle, links_within=repo_cache)


def resolve(handle) -> ZooModel:
    """The ``ZooModel`` that ``handle`` names (see the module docstring), read and validated; helpful errors
    otherwise."""
    if isinstance(handle, ZooModel):
        return handle
    handle = str(handle)
    if handle.startswith("hf://"):
        return _read_hub(handle)
    root = builtin_root()
    builtins = {name: root / name for name in list_models()}
    if handle in builtins:
        if Path(handle).is_dir():
            warnings.warn(f"{handle!r} is the built-in model; the folder of that name here is not read (pass "
                          f"./{handle} for the folder).", UserWarning, stacklevel=2)
        folder = builtins[handle]
    elif Path(handle).is_dir():
        folder = Path(handle)
    else:
        folder = lookup(builtins, handle, "zoo model (a built-in name, hf://org/repo[@revision] or a folder)")
    return ZooModel.read(folder, handle)
