"""``openbrains.start_run`` / ``resume``: real short searches into real archives."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import openbrains
from openbrains.engine.store import Archive

SMALL = {"population": 4, "workers": 0, "budget_steps": 20, "seed": 1}


def test_events_of_a_run_then_resume_and_its_champion(tmp_path: Path) -> None:
    run_dir = tmp_path / "xor"
    seen: list[openbrains.Event] = []
    with openbrains.start_run("xor", run_dir, on_event=seen.append, **SMALL) as run:
        events = list(run.events(individuals=3))
        assert run.individuals >= 3
        summary = run.summary()
    kinds = [e.kind for e in events]
    assert kinds[0] == "started" and kinds[-1] == "stopped"
    assert kinds.count("individual") == summary.individuals >= 3
    assert [e.kind for e in seen] == kinds  # the callback saw the same stream
    assert isinstance(summary.best, openbrains.Champion) and summary.best.metric == "accuracy"

    with openbrains.resume(run_dir) as again:
        assert again.settings.population == 4
        after = again.run(individuals=1)
        champion = again.champion()
    assert after.individuals > summary.individuals
    assert champion is not None and champion.task == "xor"
    assert champion.score is not None and champion.score.metric == "accuracy"
    assert openbrains.load_individual(run_dir).params == champion.params
    assert openbrains.evaluate(champion, "xor").examples == 4


def test_leaving_the_event_loop_stops_the_run(tmp_path: Path) -> None:
    with openbrains.start_run("xor", tmp_path / "r", **SMALL) as run:
        for event in run.events():  # no limit: only the break ends it
            if event.kind == "individual":
                break
        assert run.engine.stop_event.is_set()  # stopped, its thread joined
        assert [e.kind for e in run.events(individuals=1)][-1] == "stopped"  # and reusable
    assert Archive(tmp_path / "r", readonly=True).count() >= 2


def test_seeds_start_the_first_generation(tmp_path: Path) -> None:
    seed = openbrains.load(Path(__file__).resolve().parents[2] / "sample_graphs" / "xor.graph")
    with openbrains.start_run("xor", tmp_path / "s", seeds=[seed], **SMALL) as run:
        assert run.settings.seeds and (tmp_path / "s" / "seeds").exists()
        run.run(individuals=1)


def _stored_run(run_dir: Path, task: dict) -> None:  # type: ignore[type-arg]
    archive = Archive(run_dir)
    archive.set_meta("settings", {"task": task})
    archive.close()


def test_resume_runs_no_code_a_run_folder_names(tmp_path: Path) -> None:
    _stored_run(tmp_path / "r", {"name": "stranger_mod:Game"})
    with pytest.raises(openbrains.OpenBrainsError, match="pass your class as task="):
        openbrains.resume(tmp_path / "r")
    assert "stranger_mod" not in sys.modules


def test_resume_reads_no_data_path_a_run_folder_names(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    _stored_run(tmp_path / "r", {"name": "csv", "data": str(secret)})
    with pytest.raises(openbrains.OpenBrainsError, match="pass data=PATH"):
        openbrains.resume(tmp_path / "r")
    with pytest.raises(openbrains.OpenBrainsError, match="was run on"):
        openbrains.resume(tmp_path / "r", data=tmp_path / "other.csv")


def test_settings_or_a_task_not_both() -> None:
    settings = openbrains.RunSettings(task={"name": "xor"})
    with pytest.raises(openbrains.OpenBrainsError, match="not both"):
        openbrains.start_run("xor", settings=settings)
    with pytest.raises(openbrains.OpenBrainsError, match="needs a task"):
        openbrains.start_run()


def test_an_unknown_backend_is_refused_before_a_run_folder_is_made(tmp_path: Path) -> None:
    with pytest.raises(openbrains.OpenBrainsError, match="unknown backend"):
        openbrains.start_run("xor", tmp_path / "r", backend="cloud", **SMALL)
    assert not (tmp_path / "r").exists()
