"""The built-in unit library. Each family lives in its own module and lists its ``UNITS``.

``register_all`` is the ``openbrains.units`` entry point of this package; third-party
packages expose the same kind of hook (a callable taking the registry).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openbrains.engine.units import Registry

FAMILIES = (
    "io",
    "dense",
    "conv",
    "sepconv",
    "dwconv",
    "pooling",
    "reshape",
    "recurrent",
    "attention",
    "norm",
    "activation",
    "regularize",
    "embedding",
    "merge",
    "hebbian",
    "reservoir",
    "ssm",
    "mamba",
    "rwkv",
    "moe",
    "kan",
    "cfc",
    "spiking",
    "hopfield",
    "local_signal",
)


def register_all(registry: Registry) -> None:
    for family in FAMILIES:
        module = importlib.import_module(f"{__name__}.{family}")
        for unit in module.UNITS:
            registry.register(unit)
