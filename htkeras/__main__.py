"""``python -m htkeras``: the ``htkeras`` command (see ``htkeras.cli``)."""

from .cli import main

main()
