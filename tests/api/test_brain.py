"""``openbrains.load`` / ``Brain`` / ``save`` / ``read``: real sample files, real torch."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import openbrains
from openbrains.engine.format import GraphFile, save
from openbrains.engine.graph import Graph

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_graphs"


def test_import_is_light_and_load_works_from_any_folder(tmp_path: Path) -> None:
    """The issue's line, run as written from a folder that is not the repository."""
    (tmp_path / "sample_graphs").mkdir()
    shutil.copy(SAMPLES / "xor.graph", tmp_path / "sample_graphs" / "xor.graph")
    code = (
        "import sys, openbrains\n"
        "assert 'torch' not in sys.modules, 'import openbrains pulled torch in'\n"
        "b = openbrains.load('sample_graphs/xor.graph'); print(b)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Brain(task='xor', params=42, score=None)"


def test_repr_shows_task_params_and_recorded_score() -> None:
    brain = openbrains.load(SAMPLES / "xor.graph")
    assert (brain.task, brain.params, brain.score) == ("xor", 42, None)
    brain.graph.scores = {"xor": {"metric": "accuracy", "validation": 0.75, "test": 1.0}}
    assert brain.score == openbrains.Score("xor", "accuracy", test=1.0, validation=0.75)
    assert repr(brain) == "Brain(task='xor', params=42, score='accuracy 1.0000 (test)')"


def test_raw_inputs_go_through_the_recorded_codec_tensors_go_straight_in() -> None:
    brain = openbrains.load(SAMPLES / "xor.graph")
    rows = [[0.0, 1.0], [1.0, 1.0]]
    expected = brain.module(torch.tensor(rows).unsqueeze(1))
    assert torch.equal(brain(rows), expected)  # the xor codec records no scaling
    assert torch.equal(brain.run(torch.tensor(rows).unsqueeze(1)), expected)
    assert torch.equal(brain(x=np.array(rows)), expected)
    assert torch.equal(brain({"x": rows}), expected)


def test_text_in_text_out_through_the_bytes_codec() -> None:
    brain = openbrains.load(SAMPLES / "text.graph")
    out = brain(["hello", "hi"])
    assert isinstance(out, list) and len(out) == 2 and all(isinstance(s, str) for s in out)
    assert len(out[0].encode("utf-8", "replace")) >= 1


def test_images_through_the_image_codec() -> None:
    brain = openbrains.load(SAMPLES / "digits.graph")
    logits = brain(np.zeros((3, 8, 8), np.float32))
    assert logits.shape[0] == 3 and logits.shape[-1] == 10


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda b: b([[0, 1]], [[1, 0]]), "takes inputs ['x']"),
        (lambda b: b(y=[[0, 1]]), "takes inputs ['x']"),
        (lambda b: b(torch.zeros(2, 2)), "[batch, time, channels]"),
        (lambda b: b([[0, 1, 2]]), "input 'x'"),
    ],
)
def test_bad_inputs_are_one_clear_error(call, message: str) -> None:  # type: ignore[no-untyped-def]
    brain = openbrains.load(SAMPLES / "xor.graph")
    with pytest.raises(openbrains.OpenBrainsError) as err:
        call(brain)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_save_and_load_round_trip_keeps_weights_and_kind(tmp_path: Path) -> None:
    brain = openbrains.load(SAMPLES / "xor.graph")
    with torch.no_grad():
        next(iter(brain.module.parameters())).add_(0.5)  # changed weights are what is saved
    path = openbrains.save(brain, tmp_path / "mine.graph")
    again = openbrains.load(path)
    x = torch.tensor([[[0.0, 1.0]]])
    assert torch.equal(again(x), brain(x))
    assert openbrains.read(path).kind == "project" and again.task == "xor"
    plain = openbrains.Brain(brain.graph.copy(), brain.weights)
    assert openbrains.read(plain.save(tmp_path / "plain.graph")).kind == "graph"


def test_a_file_without_a_brain_is_refused_in_one_line(tmp_path: Path) -> None:
    save(tmp_path / "p.graph", GraphFile(kind="project", project={"task": {"name": "xor"}}))
    with pytest.raises(openbrains.OpenBrainsError, match="holds no brain"):
        openbrains.load(tmp_path / "p.graph")
    with pytest.raises(openbrains.OpenBrainsError, match="cannot read"):
        openbrains.load(tmp_path / "missing.graph")


def test_an_untrained_genome_gets_fresh_weights_when_run() -> None:
    graph = Graph.from_json(openbrains.read(SAMPLES / "xor.graph").graph.to_json())
    brain = openbrains.Brain(graph)
    assert not brain.trained and brain.params == 42
    assert brain(torch.zeros(1, 1, 2)).shape == (1, 1, 2)


def test_every_public_name_resolves_and_is_listed() -> None:
    from openbrains import _API

    assert sorted(openbrains.__all__) == sorted([*_API, "__version__"])
    for name in openbrains.__all__:
        assert getattr(openbrains, name) is not None
    with pytest.raises(AttributeError):
        _ = openbrains.no_such_name
