"""Progress bars for long loops of the command line (Keras' ``Progbar``; silent unless asked)."""

from __future__ import annotations


def track(items, verbose: int = 0, unit: str = "example"):
    """Yield the items of the sized ``items``; with ``verbose`` 1 show a progress bar (2: one line at the end)."""
    bar = None
    if verbose:
        import keras  # only for a bar: the data readers stay free of Keras (and TensorFlow) otherwise

        bar = keras.utils.Progbar(len(items), verbose=verbose, unit_name=unit)
    for count, item in enumerate(items, 1):
        yield item
        if bar is not None:
            bar.update(count)
