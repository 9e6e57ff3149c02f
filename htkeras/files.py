"""Safe writes: a file is replaced by a rename of a complete temporary file, so a kill never leaves half of it;
one guard (``writing``) for every path htkeras writes a model, a run or an export to; and the checks of
files that htkeras reads from folders it does not own (``regular_file``, ``file_sha256``)."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

CHUNK = 1 << 20  # bytes hashed at a time: a file's size never becomes memory


class BusyError(OSError):
    """Another process is writing the same path."""


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


_HELD: set = set()  # the lock paths this process holds: a write nested in another to the same target


def _staging_prefix(target: Path) -> str:
    return f".{target.name}.staging-"


def staging_folder(target) -> Path:
    """A new empty folder beside ``target`` to write into before one rename moves it in place (call inside
    ``writing(target)``, which removes such folders that a killed writer left)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=_staging_prefix(target), dir=target.parent))


@contextlib.contextmanager
def writing(target):
    """Hold the write lock of ``target`` (a file or folder, which need not exist) for the ``with`` block: a
    second writer, in another process, gets ``BusyError`` at once instead of mixing its files with this one's.
    Inside the lock, the staging folders of ``target`` that a killed writer left (``staging_folder``) are
    removed. The lock is ``.<name>.lock`` beside ``target`` (``flock``, released by the system when the
    process dies), removed at the end."""
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = target.parent / f".{target.name}.lock"
    key = str(lock)
    if key in _HELD:  # this process holds it already (a run that publishes into its own folder)
        yield target
        return
    import fcntl

    while True:
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise BusyError(f"{target} is being written by another htkeras process (it holds {lock}); wait for it to "
                            "finish, or write somewhere else.") from None
        try:
            if os.stat(lock, follow_symlinks=False).st_ino == os.fstat(descriptor).st_ino:
                break  # still the file at that path (not one that the last holder removed meanwhile)
        except FileNotFoundError:
            pass
        os.close(descriptor)
    _HELD.add(key)
    try:
        for stale in glob.glob(os.path.join(glob.escape(str(target.parent)), glob.escape(_staging_prefix(target)) + "*")):
            shutil.rmtree(stale, ignore_errors=True)
        yield target
    finally:
        _HELD.discard(key)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(descriptor)


def regular_file(path, limit: int, what: str = "") -> int:
    """The size of ``path`` when it is a regular file (not a link, a device, a FIFO or a folder) of at most
    ``limit`` bytes; an OSError (FileNotFoundError when it is missing) or a ValueError naming it otherwise.
    Nothing is opened: a FIFO cannot make the caller wait."""
    path = Path(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} is missing{what}.") from None
    if stat.S_ISLNK(info.st_mode):
        raise ValueError(f"{path} is a symbolic link{what}: htkeras reads only regular files there.")
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(f"{path} is a directory, not a file{what}.")
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{path} is not a regular file{what} (a FIFO, socket or device is never read).")
    if info.st_size > limit:
        raise ValueError(f"{path} is {info.st_size:,} bytes{what}, more than the {limit:,} allowed.")
    return info.st_size


def open_regular(path, limit: int):
    """``path`` opened for reading in binary, when it is a regular file of at most ``limit`` bytes
    (``regular_file``), checked again on the open descriptor (a file swapped for a link or a FIFO meanwhile
    is refused, and opening never blocks)."""
    regular_file(path, limit)
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        os.close(descriptor)
        raise ValueError(f"{path} changed while it was opened: not a regular file of at most {limit:,} bytes.")
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def file_sha256(path, limit: int, copy_to=None) -> str:
    """The SHA-256 of the regular file ``path`` (``open_regular``), read in chunks of ``CHUNK`` bytes; with
    ``copy_to`` (a path that must not exist), the same bytes are written there as they are hashed."""
    digest = hashlib.sha256()
    with open_regular(path, limit) as f, open(copy_to, "xb") if copy_to else contextlib.nullcontext() as out:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
            if out is not None:
                out.write(chunk)
    return digest.hexdigest()
