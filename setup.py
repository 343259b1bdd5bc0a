"""Packaging beyond setup.cfg: the shipped models are package data.

The trained models live in ``checkpoints/`` at the top of the repository (where the README and
the docs point). A wheel carries them as the package data folder ``nar_solver/checkpoints/``, so a
non-editable install (``pip install .`` or a built wheel) finds them too; the lookup is
``nar_solver.run.shipped.shipped_models``.
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["nar_solver", "nar_solver.*"]) + ["nar_solver.checkpoints"],
    package_dir={"nar_solver.checkpoints": "checkpoints"},
    package_data={"nar_solver.checkpoints": ["*/*.json", "*/*.jsonl", "*/*.safetensors", "*/figures/*"]},
)
