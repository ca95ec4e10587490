"""Shared test setup. Qt must run offscreen and before anything imports it."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest


@pytest.fixture(autouse=True)
def private_data_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> object:
    """Run folders of templates and untitled projects go to the user's data folder
    (``app.places``); in tests, to a folder of the test's own."""
    folder = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("OPENBRAINS_DATA", str(folder))
    return folder


def uses_a_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(d.scope == "module" for defs in info.name2fixturedefs.values() for d in defs)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A module-scoped fixture (a trained run, a built bundle, every bomb through every
    command) is made once per process, and pytest-xdist hands tests out one at a time: a
    module that uses one stays in one process, as its own ``xdist_group`` unless it names
    one (tests/test_suite_grouping.py)."""
    module = {item: getattr(item, "module", None) for item in items}
    grouped = {
        module[item]
        for item in items
        if uses_a_module_fixture(item) and not item.get_closest_marker("xdist_group")
    }
    for item in items:
        if module[item] in grouped and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(module[item].__name__))
