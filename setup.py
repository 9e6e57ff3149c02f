from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="htkeras",
    version="0.1.0",
    description="Compact recurrent networks from Hierarchical Tucker and other tensor decompositions, for Keras 3",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["htkeras", "htkeras.*"]),
    install_requires=[
        "keras>=3.6,<4",
        "numpy>=1.26,<3",
        "t3f==1.2.0",  # TTDense: unmaintained; only its core math is used (see htkeras/layers/tt_dense.py)
        "tensorflow>=2.16,<2.22",
    ],
    extras_require={
        "dev": ["pytest>=8", "pytest-xdist>=3.5", "matplotlib>=3.7"],
        "train": ["matplotlib>=3.7"],
        "jax": ["jax>=0.4.30"],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Keras",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
