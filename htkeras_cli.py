"""The ``htkeras`` command's entry point (``htkeras.cli`` does the work).

``htkeras list``, ``htkeras info NAME`` and ``htkeras --help`` answer without importing Keras or TensorFlow:
the ``htkeras`` package is entered without running its ``__init__`` (which imports the whole library), and
those commands use only the zoo's reader. For the other commands the library is imported with the C++
start-up lines of TensorFlow (and everything else written to the process's error stream below Python) sent
to ``/dev/null``, while Python's own messages and errors still reach the terminal; ``HTKERAS_TF_LOGS=1``
keeps TensorFlow's lines.
"""

from __future__ import annotations

import importlib.util
import os
import sys

LIGHT = ("list", "info")  # commands that need no Keras


def _quiet_native_stderr() -> None:
    """Send file descriptor 2 to /dev/null and give Python's ``sys.stderr`` a copy of the original."""
    sys.stderr.flush()
    original = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = os.fdopen(original, "w", buffering=1)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    light = not argv or argv[0] in LIGHT or argv[0] in ("-h", "--help")
    if "htkeras" not in sys.modules:
        spec = importlib.util.find_spec("htkeras")
        package = importlib.util.module_from_spec(spec)
        sys.modules["htkeras"] = package  # submodules import from its path; its __init__ has not run
        if not light:
            if not os.environ.get("HTKERAS_TF_LOGS"):
                _quiet_native_stderr()
            spec.loader.exec_module(package)  # the whole library: Keras and its backend
    from htkeras import cli

    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
