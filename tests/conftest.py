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
