"""Maps the repository's top-level folders (engine/, nodes/, canvas/, app/) to sub-packages
of ``openbrains``, so an installed Open Brains adds one top-level name and the layout of
the repository stays as DESIGN.md asks. Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

LAYERS = ("engine", "nodes", "canvas", "app")
# data shipped as packages (their files are pyproject's package-data): icons, desktop entry
# and MIME type (openbrains.assets); the ready-made sample projects (openbrains.sample_graphs)
DATA = ("assets", "sample_graphs")

packages = ["openbrains"]
for layer in LAYERS + DATA:
    packages += [f"openbrains.{p}" for p in find_packages(include=[layer, f"{layer}.*"])]

setup(
    packages=packages,
    package_dir={"openbrains": "openbrains", **{f"openbrains.{x}": x for x in LAYERS + DATA}},
)
