"""Jobs and results cross every boundary whole: through the worker pipe's wire format
(orjson header + safetensors blobs), through pickle (what a distributed backend may use),
and a job from another format version is refused with one line."""

from __future__ import annotations

import pickle

import orjson
import pytest
import torch

from openbrains.engine.graph import Graph
from openbrains.engine.jobs import (
    JOB_FORMAT,
    JobFormatError,
    JobResult,
    JobSpec,
    MatchTally,
    Opponent,
    Outcome,
    Sibling,
    TaskRef,
)
from openbrains.engine.weights import decode_weights, encode_weights


def blob(value: float) -> bytes:
    return encode_weights({"node/a/weight": torch.full((2, 3), value)})


SPEC = JobSpec(
    job=7,
    task=TaskRef({"name": "digits", "recorded": {"run_dir": "/r", "upto": 3}}, generation=2),
    graph=Graph(hparams={"lr": 0.003}).to_json().decode(),
    seed=12345,
    steps=300,
    weights=blob(1.0),
    seconds=4.5,
    siblings=(Sibling(1, {"lr": 0.01}), Sibling(2, {"lr": 0.002})),
    opponents=(Opponent(3, '{"x": 1}', 812.5, blob(2.0)), Opponent(4, "{}", -10.0, b"")),
)
RESULT = JobResult(
    job=7,
    outcomes=[
        Outcome(
            status="done",
            val={"accuracy": 0.9, "loss": 0.3},
            test={"accuracy": 0.8},
            steps=300,
            train_seconds=1.5,
            curve=[[1, 2.0], [11, 1.5]],
            params=1234,
            flops=99,
            latency_ms=0.2,
            weights=blob(3.0),
            matches={"#3": MatchTally(2, 1, 0), "random": MatchTally(3, 0, 0)},
            references={"random": 0.0},
            details={"inherit": {"copied": 2}},
        ),
        Outcome(status="diverged", error="loss became nan at step 3"),
    ],
    data_version=3,
    train_size=718,
    batched=True,
    wall_seconds=2.0,
)


def through_bytes(header: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
    """What the pipe does to a message: JSON out and back, blobs as bytes."""
    return orjson.loads(orjson.dumps(header)), [bytes(b) for b in blobs]


def test_a_job_survives_the_wire_and_pickle() -> None:
    assert JobSpec.from_wire(*through_bytes(*SPEC.to_wire())) == SPEC
    continued = SPEC.with_(keep="share", probes=b"probe tensors")  # a continued run's job
    assert JobSpec.from_wire(*through_bytes(*continued.to_wire())) == continued
    assert pickle.loads(pickle.dumps(SPEC)) == SPEC
    assert SPEC.candidates == 2 and SPEC.sibling_graph(1).hparams["lr"] == 0.002


def test_a_result_survives_the_wire_and_pickle() -> None:
    back = JobResult.from_wire(*through_bytes(*RESULT.to_wire()))
    assert back == RESULT
    assert pickle.loads(pickle.dumps(RESULT)) == RESULT
    assert torch.equal(
        decode_weights(back.outcomes[0].weights)["node/a/weight"], torch.full((2, 3), 3.0)
    )
    assert back.shared == 2 and back.outcomes[0].matches["#3"].games == 3
    assert back.outcomes[0].pace(back.shared) == pytest.approx(1.5 / 300 / 2)
    assert back.outcomes[1].pace() is None


def test_another_format_is_refused_in_one_line() -> None:
    header, blobs = SPEC.to_wire()
    with pytest.raises(JobFormatError, match=f"reads job format {JOB_FORMAT}, got 99"):
        JobSpec.from_wire({**header, "format": 99}, blobs)
    header, blobs = RESULT.to_wire()
    with pytest.raises(JobFormatError, match="reads result format"):
        JobResult.from_wire({**header, "format": None}, blobs)
    with pytest.raises(JobFormatError, match="weight blobs"):
        JobResult.from_wire(header, blobs[:1])
    bad = {**header, "outcomes": [{**header["outcomes"][0], "status": "great"}]}
    with pytest.raises(JobFormatError, match="unknown candidate status"):
        JobResult.from_wire(bad, blobs[:1])


def test_a_lost_job_fails_every_candidate_with_the_reason() -> None:
    lost = JobResult.failed(SPEC, "worker process died (exit code -9)")
    assert [o.status for o in lost.outcomes] == ["failed", "failed"]
    assert all("exit code -9" in o.error for o in lost.outcomes)


def test_a_task_ref_names_its_data_generation() -> None:
    a, b = TaskRef({"name": "xor"}), TaskRef({"name": "xor"}, generation=1)
    assert a.key() != b.key() and a.key() == TaskRef({"name": "xor"}).key()
