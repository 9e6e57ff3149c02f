"""Pretrained models in one line: ``htkeras.zoo.load("fsdd-fdht-lstm")``.

A zoo model is a folder (``artifact``): a Keras unzipped save (``config.json``, ``model.weights.h5``,
``metadata.json``, which also holds the checksums; ``keras.saving.load_model(folder)`` loads it) with
htkeras' record ``htkeras.json`` and ``metrics.json``, read and validated once into a ``ZooModel``. One resolver
(``resolve``) turns a handle into it: a built-in name (``list_models()``; installed with the package,
offline), ``hf://org/repo[@revision]`` (downloaded once into the Hugging Face cache) or a local folder.
``load``, ``info``, ``preprocess``, ``load_data``, ``fine_tune``, ``save``, ``push`` and ``htkeras.export.export`` take a
handle or a ``ZooModel``. What the zoo knows of each dataset (preprocessing bound to the weights,
evaluation data, licence, Hub tags) is one table, ``tasks.TASKS``.

Modules: ``artifact`` (the type and its one writer), ``resolver``, ``tasks``, ``describe`` (info),
``loading`` (load, preprocess, load_data), ``fine_tuning`` (fine_tune: a frozen front-end's features computed once),
``publish`` (save, push), ``migrate`` (folders of htkeras 0.5 and earlier). Each name below is imported from its
module on first use, so that ``list_models``, ``resolve`` and ``info`` run without Keras or TensorFlow.
"""

import importlib

_EXPORTS = {
    "ZooModel": "artifact", "write_artifact": "artifact", "PAPERS": "describe", "info": "describe",
    "fine_tune": "fine_tuning", "load": "loading", "load_data": "loading", "migrate": "migrate",
    "model_labels": "loading", "origin": "loading", "preprocess": "loading", "push": "publish",
    "save": "publish", "list_models": "resolver", "resolve": "resolver", "TASKS": "tasks", "get_task": "tasks",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_EXPORTS])
