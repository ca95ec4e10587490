"""Maps the repository's top-level folders (engine/, nodes/, canvas/, app/) to sub-packages
of ``openbrains``, so an installed Open Brains adds one top-level name and the layout of
the repository stays as DESIGN.md asks. Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

LAYERS = ("engine", "nodes", "canvas", "app")
DATA = ("sample_graphs",)  # data shipped as a package: the samples (pyproject's package-data)

packages = ["openbrains"]
for layer in LAYERS:
    packages += [f"openbrains.{p}" for p in find_packages(include=[layer, f"{layer}.*"])]
packages += [f"openbrains.{x}" for x in DATA]

setup(
    packages=packages,
    package_dir={"openbrains": "openbrains", **{f"openbrains.{x}": x for x in (*LAYERS, *DATA)}},
)
