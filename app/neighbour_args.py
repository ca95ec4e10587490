"""The good-neighbour options of `openbrains run` and `openbrains service install`
(engine.neighbour): one parser definition, and the same values as run settings, project
evolver settings and a unit's command line."""

from __future__ import annotations

import argparse
from typing import Any

from openbrains.engine.neighbour import PolicySettings

FLAGS = {  # setting → option
    "pause_on_battery": "--pause-on-battery",
    "pause_when_busy": "--pause-when-busy",
    "resume_after_idle": "--resume-after-idle",
    "hours": "--hours",
}


def add_neighbour_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("good neighbour (the search steps aside; off unless given)")
    g.add_argument(
        "--pause-on-battery",
        action="store_true",
        default=None,
        help="pause while the machine runs on battery",
    )
    g.add_argument(
        "--pause-when-busy",
        type=float,
        metavar="PCT",
        help="pause while other programs use more than PCT %% of the machine (30 s average)",
    )
    g.add_argument(
        "--resume-after-idle",
        type=float,
        metavar="MIN",
        help="run only after keyboard and mouse were idle MIN minutes "
        "(where the desktop cannot tell, you count as present)",
    )
    g.add_argument("--hours", metavar="FROM-TO", help="run only in these hours, e.g. 22-07")


def neighbour_values(args: argparse.Namespace) -> dict[str, Any]:
    """The rules given on the command line (checked: a bad one is one clear error)."""
    given = {k: getattr(args, k) for k in FLAGS if getattr(args, k, None) is not None}
    PolicySettings.from_mapping(given)
    return given


def neighbour_argv(values: dict[str, Any]) -> list[str]:
    """Rules back as options (for a unit's command line); rules that are off are left out."""
    argv: list[str] = []
    for key, flag in FLAGS.items():
        value = values.get(key)
        if not value:
            continue
        argv += (
            [flag]
            if value is True
            else [flag, f"{value:g}" if isinstance(value, float) else str(value)]
        )
    return argv
