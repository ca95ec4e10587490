"""`openbrains run … --device-budget flash=…,ram=…` is a hard limit: every candidate of a
real run fits, so the champion's C build does too; a budget nothing fits is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from openbrains.engine.compile import compile_graph
from openbrains.engine.exporters.budget import DeviceBudget, measure_graph
from openbrains.engine.exporters.c import emit_c
from openbrains.engine.exporters.meta import describe
from openbrains.engine.format import load
from openbrains.engine.graph import Graph
from openbrains.engine.store import Archive
from tests.cli_kit import ob
from tests.engine.exporting import ROOT


def test_budgets_parse_sizes_and_the_weights_they_count() -> None:
    assert DeviceBudget.parse("flash=32k,ram=2k") == DeviceBudget(32768, 2048, "float32")
    assert DeviceBudget.parse(" ram=1.5KB , flash=100000, weights=int8") == DeviceBudget(
        100000, 1536, "int8"
    )
    for bad, why in [
        ("flash=32k", "missing ram"),
        ("flash=lots,ram=2k", "not a size"),
        ("flash=32k,ram=2k,speed=9", "expected flash"),
        ("flash=32k,ram=2k,weights=int4", "float32 or int8"),
        ("flash=32k,flash=1k,ram=2k", "twice"),
        ("flash=0,ram=2k", "more than 0"),
    ]:
        with pytest.raises(ValueError, match=why):
            DeviceBudget.parse(bad)


def test_the_budget_measures_what_the_c_export_reports() -> None:
    doc = load(ROOT / "sample_graphs" / "digits.graph")
    brain = compile_graph(doc.graph)
    brain.load_weights(doc.weights)
    fp = emit_c(brain, describe(brain, doc.graph)).footprint
    fit = measure_graph(doc.graph, DeviceBudget(fp.flash, fp.ram))
    assert fit.fits and (fit.flash, fit.ram) == (fp.flash, fp.ram)
    assert not measure_graph(doc.graph, DeviceBudget(fp.flash - 1, fp.ram)).fits
    assert not measure_graph(doc.graph, DeviceBudget(fp.flash, fp.ram - 1)).fits
    small = measure_graph(doc.graph, DeviceBudget(fp.flash, fp.ram, "int8"))
    assert small.fits and small.flash < fp.flash / 2


def test_every_candidate_of_a_budgeted_run_fits(tmp_path: Path) -> None:
    budget = DeviceBudget.parse("flash=6k,ram=1.5k,weights=int8")
    run_dir = tmp_path / "run"
    out = ob(
        "run", "--task", "digits", "--run-dir", str(run_dir), "--individuals", "8",
        "--workers", "0", "--budget-steps", "60", "--quiet",
        "--device-budget", "flash=6k,ram=1.5k,weights=int8", timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    archive = Archive(run_dir, readonly=True)
    try:
        records = archive.records()
        best = archive.best()
        settings = archive.get_meta("settings")
    finally:
        archive.close()
    assert len(records) >= 8 and best is not None
    assert settings["device_budget"] == budget.to_dict()
    for rec in records:
        fit = measure_graph(Graph.from_json(rec.graph_json), budget)
        assert fit.fits, (rec.id, rec.mutation, fit)
    exported = ob(
        "export", str(run_dir), "--best", "-o", str(tmp_path / "champ_c"), "--quantize", "int8"
    )
    assert exported.returncode == 0, exported.stderr
    assert "flash" in exported.stdout


def test_a_budget_nothing_fits_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for arg, match in [
        ("flash=100,ram=100", "does not fit the device budget"),
        ("flash=32k", "missing ram"),
    ]:
        out = ob("run", "--task", "digits", "--run-dir", str(tmp_path / "r"),
                      "--device-budget", arg, "--minutes", "0.05")  # fmt: skip
        assert out.returncode == 2, out.stderr
        assert match in out.stderr.strip().splitlines()[-1]


def test_a_stored_budget_from_a_stranger_is_checked_like_any_setting() -> None:
    from openbrains.engine.run.settings import RunSettings
    from openbrains.engine.settings_check import SettingsError

    good = {"task": {"name": "digits"}, "device_budget": {"flash": 8192, "ram": 2048}}
    assert RunSettings.from_dict(good).device_budget == {"flash": 8192, "ram": 2048}
    for bad in ["32k", {"flash": -1, "ram": 2048}, {"flash": 8192}, {"flash": 1, "ram": 1,
                "weights": "int4"}, {"flash": True, "ram": 2048}]:  # fmt: skip
        with pytest.raises(SettingsError, match="device_budget"):
            RunSettings.from_dict({**good, "device_budget": bad}, where="run")
