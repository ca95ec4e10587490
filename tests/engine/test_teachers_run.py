"""Teachers in a real run: a distilling ``graph:`` teacher puts soft targets and the α/T
genes into training (in process and in a worker process), a labelling teacher's labels
reach the next candidates' training data, and the teacher's order is never stored in the
run folder."""

from __future__ import annotations

import pickle
from pathlib import Path

import orjson
import torch

from openbrains.engine.graph import Graph
from openbrains.engine.run import Run, RunSettings, status_of
from openbrains.engine.teachers.work import TeacherOrder
from tests.engine import feedback_data as fd
from tests.engine.openai_server import FakeOpenAI
from tests.engine.test_teachers_brain import train_digits_brain
from tests.engine.test_teachers_roles import unlabelled_images, vision


def test_a_distilling_run_trains_on_soft_targets(tmp_path: Path) -> None:
    teacher = tmp_path / "big.graph"
    train_digits_brain(teacher, steps=60)
    settings = RunSettings(
        task={"name": "digits"}, workers=1, population=3, budget_steps=10, sibling_rate=0.0
    )
    run = Run(tmp_path / "run", settings, teacher=TeacherOrder(f"graph:{teacher}", "distill"))
    try:
        run.run(max_individuals=3)
        assert run.task.train.soft is not None and torch.isfinite(run.task.train.soft).all()
        # a brain is also asked on each augmented batch; it travels by its spec, not pickled
        online = run.task.teacher
        assert online is not None and online.spec == f"graph:{teacher}"
        again = pickle.loads(pickle.dumps(online))
        x = {"image": run.task.train.inputs["image"][:4]}
        assert torch.allclose(again(x), online(x)) and torch.allclose(
            online(x), run.task.train.soft[:4], atol=1e-5
        )
        spec = run.task_spec()
        assert spec["teacher"]["version"] == 1 and spec["teacher"]["raw"] is False
        records = run.archive.records()
        assert len(records) == 3 and all(r.status == "done" for r in records)
        for rec in records:  # every candidate carries the genes evolution may tune
            genes = Graph.from_json(rec.graph_json).hparams
            assert {"distill_alpha", "distill_temperature"} <= genes.keys()
        status = run.progress()["teacher"]
        assert status["role"] == "distill" and status["cached"] == len(run.task.train)
        assert status_of(tmp_path / "run")["teacher_answers"] == len(run.task.train)
        stored = orjson.dumps(run.archive.get_meta("settings")).decode()
        assert "big.graph" not in stored and "teacher" not in stored  # never a setting
    finally:
        run.close()


def test_a_labelling_teacher_feeds_the_next_candidates(tmp_path: Path) -> None:
    data = fd.image_folder(tmp_path / "data")
    with FakeOpenAI(vision) as server:
        order = TeacherOrder(
            f"openai:eyes@{server.url}", "label", unlabelled=str(unlabelled_images(tmp_path))
        )
        run = Run(tmp_path / "run", RunSettings(**fd.images_settings(data)), teacher=order)
        try:
            base = len(run.task.train)
            run.run(max_individuals=2)
            assert run.data_version > 0 and len(run.task.train) == base + 8
            # the run waited for the teacher's first round: even the first candidates
            # trained on its labels
            assert [r.train_size for r in run.archive.records()] == [base + 8] * 2
        finally:
            run.close()
