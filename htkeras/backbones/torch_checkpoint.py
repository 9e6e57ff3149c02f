"""Read PyTorch checkpoints in the legacy (pre-1.6, non-zip) serialization without importing torch.

The legacy format is a stream of pickles: a magic number, the protocol version, the system info, then the
object (a state dict) whose tensors reference storages by persistent id, then the list of storage keys in
file order, each followed by its raw data (an int64 element count, then the elements, little-endian).

Only what a state dict needs is unpickled: ``collections.OrderedDict``, the tensor rebuild function and
the storage type names; anything else is refused (no arbitrary code runs, unlike ``torch.load`` of an
untrusted file).
"""

from __future__ import annotations

import collections
import pickle
import struct
from pathlib import Path

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16, "LongStorage": np.int64,
    "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _Storage:
    def __init__(self, dtype):
        self.dtype, self.array = np.dtype(dtype), None


class _Tensor(collections.namedtuple("_Tensor", "storage offset shape strides")):
    def numpy(self) -> np.ndarray:
        item = self.storage.dtype.itemsize
        flat = self.storage.array[self.offset :]
        strided = np.lib.stride_tricks.as_strided(flat, self.shape, tuple(s * item for s in self.strides))
        return np.ascontiguousarray(strided)  # a C-ordered copy


def _rebuild_tensor(storage, offset, shape, strides, *_):  # torch._utils._rebuild_tensor_v2's arguments
    return _Tensor(storage, offset, tuple(shape), tuple(strides))


class _StateDictUnpickler(pickle.Unpickler):
    def __init__(self, file, storages: dict):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return name
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a plain state dict; refusing to load it.")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, _numel, _view = pid
        if kind != "storage":
            raise pickle.UnpicklingError(f"Unknown persistent id {kind!r}.")
        return self.storages.setdefault(key, _Storage(STORAGE_DTYPES[storage_type]))


def read_legacy_torch_checkpoint(path) -> dict:
    """``{name: numpy array}`` of the state dict saved by ``torch.save`` (legacy format) in ``path``."""
    path = Path(path)
    with open(path, "rb") as file:
        try:
            magic, protocol, _info = pickle.load(file), pickle.load(file), pickle.load(file)
        except (pickle.UnpicklingError, EOFError, ValueError) as error:
            raise ValueError(f"{path} is not a legacy PyTorch checkpoint: {error}") from error
        if magic != MAGIC_NUMBER or protocol != PROTOCOL_VERSION:
            raise ValueError(f"{path} is not a legacy PyTorch checkpoint (magic {magic!r}, protocol {protocol!r}).")
        storages: dict = {}
        state = _StateDictUnpickler(file, storages).load()
        for key in pickle.load(file):
            (count,) = struct.unpack("<q", file.read(8))
            storage = storages[key]
            data = file.read(count * storage.dtype.itemsize)
            if len(data) != count * storage.dtype.itemsize:
                raise ValueError(f"{path} is truncated (storage {key}).")
            storage.array = np.frombuffer(data, storage.dtype.newbyteorder("<"))
    if not isinstance(state, dict):
        raise ValueError(f"{path} holds a {type(state).__name__}, not a state dict.")
    return {name: tensor.numpy() for name, tensor in state.items()}
