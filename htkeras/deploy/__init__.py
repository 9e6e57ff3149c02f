"""Deployment of zoo models and sequence classifiers: TF Serving SavedModels and TFLite files, each checked
against Keras before it is reported (``htkeras.deploy.export.export``, also ``htkeras.export.export``).

``FORMATS`` (with Keras' names as ``ALIASES``: ``litert``, ``tf_saved_model``) and ``ExportError`` are
defined here, without Keras, for the command line's ``--help``; the
``export`` module (and ``ExportReport``) is imported on first use.
"""

import importlib

FORMATS = ("saved_model", "tflite", "tflite-int8")
ALIASES = {"litert": "tflite", "tf_saved_model": "saved_model"}  # Keras' own names (``model.export(format=)``)


def format_name(format: str) -> str:
    """The export format that ``format`` names: one of ``FORMATS`` or a Keras name in ``ALIASES``."""
    if format not in FORMATS and format not in ALIASES:
        raise ValueError(f"Unknown export format {format!r}; choose one of {', '.join((*FORMATS, *ALIASES))}.")
    return ALIASES.get(format, format)


class ExportError(RuntimeError):
    """An export that failed its checks (nothing is left at its path), or that cannot be checked here."""


__all__ = ["ALIASES", "FORMATS", "ExportError", "ExportReport", "export", "format_name"]


def __getattr__(name):
    if name == "export":
        return importlib.import_module(f"{__name__}.export")
    if name == "ExportReport":
        return importlib.import_module(f"{__name__}.export").ExportReport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
