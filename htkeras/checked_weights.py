"""Loading a ``.weights.h5`` file that htkeras did not write itself (a zoo folder, a Hub download, a cache
file): its datasets are compared with the model's variables before any is read, so that a small file that
declares huge datasets cannot make the reader allocate them, and a damaged file is named in one line."""

from __future__ import annotations

from collections import Counter
from pathlib import Path


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def declared_shapes(path) -> dict:
    """``{dataset name: shape}`` of every dataset in the HDF5 file ``path``, read from its metadata only."""
    import h5py

    shapes = {}
    try:
        with h5py.File(path, "r") as f:
            f.visititems(lambda name, item: shapes.__setitem__(name, item.shape) if isinstance(item, h5py.Dataset) else None)
    except (OSError, ValueError, RuntimeError) as error:
        raise ValueError(f"{path} is not a readable weights file ({_first_line(error)}).") from None
    return shapes


def load_weights(model, path) -> None:
    """``model.load_weights(path)`` after checking that the file's layer datasets have exactly the shapes of
    ``model``'s variables, and every other dataset (optimizer slots) one of those shapes or a scalar; a
    ValueError naming the file otherwise, and for a file that h5py or Keras cannot read."""
    path = Path(path)
    shapes = declared_shapes(path)
    expected = Counter(tuple(w.shape) for w in model.weights)
    layers = Counter(tuple(shape) for name, shape in shapes.items() if name.startswith("layers/"))
    strange = [name for name, shape in shapes.items() if tuple(shape) not in expected and tuple(shape) != ()]
    if layers != expected or strange:
        wrong = sorted((layers - expected) + (expected - layers)) or [tuple(shapes[strange[0]])]
        raise ValueError(f"{path} does not hold the weights of this model: the variables and the file's datasets differ "
                         f"in shape {wrong[0]} (and {max(0, len(wrong) - 1)} more).")
    try:
        model.load_weights(path)
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"{path} is not a readable weights file of this model ({_first_line(error)}).") from None
