"""Archive schema version 2: an older run folder still opens (read-only as it is, for
writing upgraded in place), and recorded samples and ratings round-trip through SQLite."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from openbrains.engine.store import SCHEMA_VERSION, VAL_EVERY, Archive, ArchiveError, Record

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "runs" / "xor_v1"


@pytest.fixture
def v1_run(tmp_path: Path) -> Path:
    """A copy of a run folder written by schema version 1 (5 xor individuals)."""
    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    return run


def test_version_1_folder_reads_read_only_without_changing(v1_run: Path) -> None:
    before = (v1_run / "run.sqlite").read_bytes()
    archive = Archive(v1_run, readonly=True)
    try:
        recs = archive.records()
        assert len(recs) == 5 and all(r.train_size == 0 and r.scored_version == 0 for r in recs)
        assert archive.best() is not None
        assert archive.samples() == [] and archive.ratings() == []
        assert archive.samples_version() == 0 and archive.sample_counts() == {}
    finally:
        archive.close()
    assert (v1_run / "run.sqlite").read_bytes() == before


def test_version_1_folder_is_upgraded_when_opened_for_writing(v1_run: Path) -> None:
    archive = Archive(v1_run)
    try:
        assert archive.get_meta("schema_version") == SCHEMA_VERSION == 2
        assert {"samples", "ratings"} <= {
            r[0] for r in archive.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        old = archive.records()
        assert len(old) == 5 and old[0].graph_json  # nothing lost
        new = Record(0, "x", [1], old[0].graph_json, "s", "done", train_size=7, trained_version=3)
        ind = archive.add(new, b"w", {"val": {"accuracy": 1.0}})
        assert archive.get(ind).train_size == 7 and archive.get(ind).trained_version == 3
        assert archive.integrity_ok()
    finally:
        archive.close()
    again = Archive(v1_run)  # opening an upgraded folder again changes nothing
    try:
        assert again.count() == 6 and again.get_meta("schema_version") == 2
    finally:
        again.close()


def test_newer_archive_is_refused(tmp_path: Path) -> None:
    Archive(tmp_path / "run").close()
    db = sqlite3.connect(tmp_path / "run" / "run.sqlite")
    db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.commit()
    db.close()
    with pytest.raises(ArchiveError, match="newer Open Brains"):
        Archive(tmp_path / "run")


def test_samples_split_per_label_and_round_trip(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "run")
    try:
        ids = archive.add_samples([("yes", "text", f"y{i}".encode(), {}) for i in range(10)])
        ids += archive.add_samples([("no", "text", b"n", {"bytes": 1})] * 4)
        samples = archive.samples()
        assert [s.id for s in samples] == ids == list(range(1, 15))
        yes = [s.split for s in samples if s.label == "yes"]
        assert yes.count("val") == 10 // VAL_EVERY and yes[VAL_EVERY - 1] == "val"
        assert archive.sample_counts() == {
            "yes": {"train": 8, "val": 2},
            "no": {"train": 4, "val": 0},
        }
        assert archive.samples_version() == 14
        assert len(archive.samples(upto=5)) == 5 and samples[10].meta == {"bytes": 1}
        forced = archive.add_samples([("yes", "text", b"z", {})], split="val")
        assert archive.samples()[-1].split == "val" and forced == [15]
        with pytest.raises(ArchiveError):
            archive.add_samples([("yes", "text", b"z", {})], split="test")
    finally:
        archive.close()


def test_ratings_are_checked_and_stored(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "run")
    try:
        ind = archive.add(Record(0, "x", [], "{}", "s", "done"), b"w", {})
        ids = archive.add_ratings([(ind, "val:1", 7, "ana", "b1"), (ind, "val:1", 3.5, "", "b1")])
        assert [r.score for r in archive.ratings()] == [
            7.0,
            3.5,
        ] and archive.ratings_version() == ids[-1]
        assert archive.ratings(since_id=ids[0])[0].rater == ""
        with pytest.raises(ArchiveError, match="0 to 10"):
            archive.add_ratings([(ind, "val:1", 11, "", "")])
        with pytest.raises(ArchiveError, match="no individual 99"):
            archive.add_ratings([(99, "val:1", 5, "", "")])
        assert len(archive.ratings()) == 2  # a refused batch stores nothing
    finally:
        archive.close()
