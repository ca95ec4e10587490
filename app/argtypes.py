"""Argument types for the command line: a bad number is refused as it is typed, in one line.

Each type checks with the rule of the setting it fills (``engine/settings_check.py``), so
the command line, the window and a run folder's stored settings accept the same values.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from openbrains.engine.settings_check import MINUTES, RULES, Rule


def _number(text: str, whole: bool) -> int | float:
    try:
        return int(text) if whole else float(text)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None


def checked(rule: Rule) -> Callable[[str], Any]:
    """An argparse ``type`` that parses a number and applies ``rule``."""

    def parse(text: str) -> int | float:
        value = _number(text, rule.whole)
        problem = rule.problem(value)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value

    return parse


def setting(name: str) -> Callable[[str], Any]:
    """The argparse ``type`` of the run setting ``name``."""
    return checked(RULES[name])


def minutes(text: str) -> float:
    """How long to run: more than 0, finite (``nan`` would run forever)."""
    return checked(MINUTES)(text)


def count(text: str) -> int:
    """A number of things to make or show: a whole number, at least 1."""
    return checked(Rule(True, 1))(text)


def at_least(low: int) -> Callable[[str], int]:
    """A whole number of ``low`` or more (a length, a number of rounds)."""
    return checked(Rule(True, low))


def non_negative(text: str) -> float:
    """A finite number, 0 or more (a temperature: 0 is greedy)."""
    return checked(Rule(False, 0.0))(text)


def seconds(text: str) -> float:
    """A duration: more than 0, finite."""
    return checked(Rule(False, 0.0, above=True))(text)
