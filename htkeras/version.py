"""The version of htkeras, in one place (``setup.py`` reads it from here)."""

__version__ = "0.7.0"
