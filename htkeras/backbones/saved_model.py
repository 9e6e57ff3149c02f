"""Pretrained CNN backbones from SavedModels, as Keras 3 layers: ``SavedModelBackbone(handle)``.

``handle`` is a SavedModel folder, or a TF-Hub / Kaggle Models handle or a URL of a ``.tar.gz``
SavedModel, which ``tensorflow_hub.resolve`` downloads once into its cache (``TFHUB_CACHE_DIR``;
``pip install "htkeras[hub]"``). The SavedModel is wrapped in ``keras.layers.TFSMLayer``:
``tensorflow_hub.KerasLayer`` is Keras-2-only. TensorFlow backend only.

Per-frame use on video batches ``(batch, frames, H, W, 3)``: ``keras.layers.TimeDistributed(backbone)``
followed by an HT-LSTM; the layer states its output shape for that.
"""

from __future__ import annotations

from pathlib import Path

import keras


def resolve_saved_model(handle) -> str:
    """A local SavedModel folder for ``handle`` (see the module docstring)."""
    handle = str(handle)
    if Path(handle).is_dir():
        if not (Path(handle) / "saved_model.pb").is_file():
            raise FileNotFoundError(f"{handle} is not a SavedModel folder: no saved_model.pb.")
        return handle
    if "://" not in handle and not handle.startswith(("gs:", "/")) and handle.count("/") < 2:
        raise FileNotFoundError(f"{handle!r} is neither a SavedModel folder nor a TF-Hub/Kaggle handle or URL.")
    try:
        import tensorflow_hub as hub
    except ImportError as error:
        raise ImportError(f'Resolving {handle!r} needs tensorflow_hub: pip install "htkeras[hub]".') from error
    try:
        return hub.resolve(handle)
    except Exception as error:  # tensorflow_hub raises URLError/OSError/ValueError subclasses
        raise ConnectionError(
            f"Cannot resolve {handle}: {error}. Without network, pass a local SavedModel folder (or set "
            "TFHUB_CACHE_DIR to a cache that holds it)."
        ) from error


@keras.saving.register_keras_serializable(package="htkeras")
class SavedModelBackbone(keras.layers.TFSMLayer):
    """A frozen (by default) SavedModel signature as a layer returning one tensor.

    Args:
        handle: SavedModel folder, TF-Hub/Kaggle handle or ``.tar.gz`` URL (``resolve_saved_model``).
        call_endpoint: the signature or function to call (default ``"serving_default"``).
        output_key: which output of a signature that returns several; default: its only one.
        trainable: as in ``TFSMLayer`` (the backbone's variables get gradients).

    Shapes: input as the signature takes it, e.g. ``(batch, 224, 224, 3)``; output the signature's, e.g.
    ``(batch, 1280)``. Deserializing (``keras.models.load_model``) needs ``safe_mode=False``, as for any
    ``TFSMLayer``: a SavedModel can run arbitrary graph code.
    """

    def __init__(self, handle, call_endpoint="serving_default", output_key=None, trainable=False, **kwargs):
        kwargs.pop("filepath", None)
        self.handle = str(handle)
        super().__init__(resolve_saved_model(handle), call_endpoint=call_endpoint, trainable=trainable, **kwargs)
        spec = self.call_endpoint_fn.structured_outputs
        if isinstance(spec, dict):
            if output_key is None and len(spec) != 1:
                raise ValueError(f"{self.handle} returns {sorted(spec)}: choose one with output_key.")
            output_key = output_key or next(iter(spec))
            if output_key not in spec:
                raise ValueError(f"output_key {output_key!r} is not an output of {self.handle}: {sorted(spec)}.")
            spec = spec[output_key]
        self.output_key = output_key
        self._output_shape = tuple(spec.shape)[1:]

    def call(self, inputs, training=False):
        outputs = super().call(inputs, training=training)
        return outputs[self.output_key] if self.output_key is not None else outputs

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self._output_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"handle": self.handle, "output_key": self.output_key})
        return config
