"""The published model artifacts (one folder per model), installed as ``htkeras._zoo`` so that the built-in
models load offline right after ``pip install``; read them with ``htkeras.zoo``."""
