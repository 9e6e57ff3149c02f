"""Pretrained models in one line: ``htkeras.zoo.load("fsdd-fdht-lstm")``.

A zoo model is a folder (``artifact``: ``config.json``, ``model.weights.h5``, ``metrics.json``,
``metadata.json`` with checksums), read and validated once into a ``ZooModel``. One resolver
(``resolve``) turns a handle into it: a built-in name (``list_models()``; installed with the package,
offline), ``hf://org/repo[@revision]`` (downloaded once into the Hugging Face cache) or a local folder.
``load``, ``info``, ``preprocess``, ``load_data``, ``save``, ``push`` and ``htkeras.export.export`` take a
handle or a ``ZooModel``. What the zoo knows of each dataset (preprocessing bound to the weights,
evaluation data, licence, Hub tags) is one table, ``tasks.TASKS``.

Modules: ``artifact`` (the type and its one writer), ``resolver``, ``tasks``, ``loading`` (load, info,
preprocess, load_data), ``publish`` (save, push).
"""

from .artifact import ZooModel, write_artifact
from .loading import PAPERS, info, load, load_data, origin, preprocess
from .publish import push, save
from .resolver import list_models, resolve
from .tasks import TASKS, get_task

__all__ = ["PAPERS", "TASKS", "ZooModel", "get_task", "info", "list_models", "load", "load_data", "origin", "preprocess",
           "push", "resolve", "save", "write_artifact"]
