"""Where a search's jobs train: the ``--backend`` and ``--ray-address`` options of
`openbrains run` and `openbrains service install` (engine.backends), one definition for
both, checked before anything is opened (docs/scale.md)."""

from __future__ import annotations

import argparse
from typing import Any

from openbrains.engine.backends import CHOICES, check_backend
from openbrains.engine.errors import OpenBrainsError


def add_backend_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("where jobs train (docs/scale.md)")
    g.add_argument(
        "--backend",
        choices=CHOICES,
        default=None,
        help="local: worker processes on this machine (default); "
        "ray: Ray tasks on a Ray cluster (the [ray] extra)",
    )
    g.add_argument(
        "--ray-address",
        metavar="auto|HOST:PORT",
        help="the Ray cluster to join: auto (the one `ray start` began on this machine) or "
        "its head's HOST:PORT; without it, --backend ray starts a private local cluster",
    )


def backend_values(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The backend's name and options, refused in one line if they cannot work."""
    name = args.backend or "local"
    if args.ray_address is not None and name != "ray":
        raise OpenBrainsError("--ray-address needs --backend ray")
    options = {"address": args.ray_address} if name == "ray" else {}
    check_backend(name, options)
    return name, options


def backend_argv(args: argparse.Namespace) -> list[str]:
    """The same choice as options of `openbrains run` (a service unit's command line)."""
    out = []
    if args.backend:
        out += ["--backend", args.backend]
    if args.ray_address:
        out += ["--ray-address", args.ray_address]
    return out
