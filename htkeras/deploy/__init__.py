"""Deployment of zoo models and sequence classifiers: TF Serving SavedModels and TFLite files, each checked
against Keras before it is reported (``htkeras.deploy.export.export``, also ``htkeras.export.export``)."""

from . import export
from .export import FORMATS, ExportReport

__all__ = ["FORMATS", "ExportReport", "export"]
