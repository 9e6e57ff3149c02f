"""Deployment of zoo models and sequence classifiers: TF Serving SavedModels and TFLite files, each checked
against Keras before it is reported (``htkeras.deploy.export.export``, also ``htkeras.export.export``).

``FORMATS`` and ``ExportError`` are defined here, without Keras, for the command line's ``--help``; the
``export`` module (and ``ExportReport``) is imported on first use.
"""

import importlib

FORMATS = ("saved_model", "tflite", "tflite-int8")


class ExportError(RuntimeError):
    """An export that failed its checks (nothing is left at its path), or that cannot be checked here."""


__all__ = ["FORMATS", "ExportError", "ExportReport", "export"]


def __getattr__(name):
    if name == "export":
        return importlib.import_module(f"{__name__}.export")
    if name == "ExportReport":
        return importlib.import_module(f"{__name__}.export").ExportReport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
