"""The ``htkeras`` command starts quickly and quietly: ``list``, ``info`` and ``--help`` answer without
importing Keras or TensorFlow, and the other commands keep TensorFlow's start-up lines out of the terminal
while their own output and errors still reach it."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = """
import sys, htkeras_cli
try:
    htkeras_cli.main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
else:
    code = 0
print("IMPORTED", "tensorflow" in sys.modules, "keras" in sys.modules, file=sys.stderr)
sys.exit(code)
"""


def htkeras(*args):
    return subprocess.run([sys.executable, "-c", RUN, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False, env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT)})


@pytest.mark.parametrize("args, expected", [(["list"], "jv-fdht-lstm\n"), (["info", "jv-fdht-lstm"], '"sha256"'),
                                            (["--help"], "usage: htkeras")])
def test_list_info_and_help_do_not_import_tensorflow(args, expected):
    result = htkeras(*args)
    assert result.returncode == 0 and expected in result.stdout
    assert result.stderr == "IMPORTED False False\n"


def test_other_commands_keep_tensorflows_start_up_lines_out_of_the_terminal(tmp_path):
    features = tmp_path / "series.npy"
    np.save(features, np.ones((29, 12), np.float32))
    result = htkeras("predict", "jv-fdht-lstm", features)
    assert result.returncode == 0 and result.stdout.startswith(f"{features}: ")
    assert result.stderr == "IMPORTED True True\n"  # no I0000 / E0000 / absl lines
    failed = htkeras("predict", "jv-fdht-lstm", tmp_path)
    assert failed.returncode == 2 and failed.stderr.startswith("error: ") and "Is a directory" in failed.stderr
