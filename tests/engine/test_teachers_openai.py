"""openai: teachers against a loopback OpenAI-compatible server: spec parsing, the HTTP
client's retries, timeouts and refusals, JSON-schema labels and ratings with their
fallbacks, embeddings, and the answer cache proven by counting requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from openbrains.engine.store import Archive
from openbrains.engine.teachers import HttpPolicy, TeacherError, TeacherSpec, open_teacher
from openbrains.engine.teachers.answers import Case, Item, Label, Reply, Score, Skip
from openbrains.engine.teachers.cache import AnswerCache
from openbrains.engine.teachers.errors import TeacherDown
from openbrains.engine.teachers.http import JsonClient
from openbrains.engine.teachers.session import TeacherSession
from tests.engine.openai_server import FakeOpenAI, user_text

FAST = HttpPolicy(timeout_s=0.5, retries=2, backoff_s=0.01, max_backoff_s=0.02)
CLASSES = ["yes", "no"]


def yes_no(body: dict[str, Any]) -> Any:
    """Labels 'yes' for texts with 'good' in them, else 'no'; rates by length; tags 'love'."""
    text = user_text(body)
    system = body["messages"][0]["content"]
    if "rate" in system:
        return {"score": min(10, len(text) / 10), "reason": "length"}
    if "pleased" in system:
        return {"score": 9 if "love" in text else 1, "reason": "tone"}
    if "Answer the user's prompt" in system:
        return text.upper()
    return {"label": "yes" if "good" in text else "no", "confidence": 0.9}


def teacher(server: FakeOpenAI, key_env: str = "") -> Any:
    return open_teacher(TeacherSpec.parse(f"openai:tiny-model@{server.url}", key_env), FAST)


def texts(*words: str) -> list[Item]:
    return [Item("text", w.encode()) for w in words]


# ----- specs ---------------------------------------------------------------------------------
def test_specs_parse_and_bad_ones_say_what_a_spec_is(tmp_path: Path) -> None:
    s = TeacherSpec.parse("openai:llama3:8b@http://127.0.0.1:8080/v1/")
    assert (s.kind, s.model, s.base_url) == ("openai", "llama3:8b", "http://127.0.0.1:8080/v1")
    assert str(s) == "openai:llama3:8b@http://127.0.0.1:8080/v1"
    assert TeacherSpec.parse("hf:distilbert-base").model == "distilbert-base"
    brain = tmp_path / "big.graph"
    brain.write_bytes(b"x")
    assert TeacherSpec.parse(f"graph:{brain}").path == brain.resolve()
    for bad, words in [
        ("gpt4", "is not a teacher"),
        ("openai:gpt4", "openai:MODEL@BASE_URL"),
        ("openai:m@http://user:pw@host/v1", "no password"),
        (f"graph:{tmp_path / 'missing.graph'}", "does not exist"),
        (f"onnx:{brain}", "is a .onnx file"),
    ]:
        with pytest.raises(TeacherError, match=words):
            TeacherSpec.parse(bad)
    with pytest.raises(TeacherError, match="for openai: teachers"):
        TeacherSpec.parse(f"graph:{brain}", key_env="KEY")


def test_the_key_comes_from_the_named_variable_only(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAI(yes_no, key="s3cret") as server:
        monkeypatch.delenv("OB_TEST_KEY", raising=False)
        with pytest.raises(TeacherError, match="OB_TEST_KEY is not set"):
            teacher(server, "OB_TEST_KEY")
        monkeypatch.setenv("OB_TEST_KEY", "wrong")
        t = teacher(server, "OB_TEST_KEY")
        with pytest.raises(TeacherDown, match="refused the key") as err:
            t.label(texts("good"), CLASSES)
        assert err.value.fatal and len(server.requests) == 1  # a refused key is not retried
        monkeypatch.setenv("OB_TEST_KEY", "s3cret")
        assert teacher(server, "OB_TEST_KEY").label(texts("good"), CLASSES) == [Label("yes", 0.9)]
        assert "s3cret" not in str(TeacherSpec.parse(f"openai:m@{server.url}", "OB_TEST_KEY"))


# ----- the HTTP client -----------------------------------------------------------------------
def test_client_retries_500_and_garbage_then_succeeds() -> None:
    waits: list[float] = []
    with FakeOpenAI(yes_no) as server:
        server.faults = ["500", "garbage"]
        client = JsonClient(server.url, policy=FAST, sleep=waits.append)
        reply = client.post("chat/completions", {"messages": [{"role": "user", "content": "good"}]})
        assert json.loads(reply["choices"][0]["message"]["content"])["label"] == "yes"
        assert len(server.requests) == 3 and client.requests == 3
        assert waits == [0.01, 0.02]  # exponential backoff


def test_client_gives_up_with_one_line_after_retries() -> None:
    with FakeOpenAI(yes_no) as server:
        server.always = "500"
        client = JsonClient(server.url, policy=FAST, sleep=lambda s: None)
        with pytest.raises(TeacherDown, match=r"HTTP 500: overloaded \(gave up after 3 tries\)"):
            client.post("chat/completions", {})
        assert len(server.requests) == 3
        server.always = "garbage"
        with pytest.raises(TeacherDown, match="not JSON"):
            client.post("chat/completions", {})


def test_client_times_out_and_names_the_wait() -> None:
    with FakeOpenAI(yes_no) as server:
        server.always, server.slow_s = "slow", 1.5
        policy = HttpPolicy(timeout_s=0.2, retries=1, backoff_s=0.0)
        client = JsonClient(server.url, policy=policy, sleep=lambda s: None)
        with pytest.raises(TeacherDown, match=r"did not answer within 0.2 s"):
            client.post("chat/completions", {})
        assert client.requests == 2


def test_unreachable_and_unknown_routes_are_one_line_each() -> None:
    with FakeOpenAI(yes_no) as server:
        url = server.url
        with pytest.raises(TeacherDown, match=r"HTTP 404.*BASE_URL") as err:
            JsonClient(url, policy=FAST).post("nowhere", {})
        assert err.value.fatal
    client = JsonClient(url, policy=FAST, sleep=lambda s: None)  # the server is gone now
    with pytest.raises(TeacherDown, match="is unreachable") as err:
        client.get("models")
    assert "\n" not in str(err.value) and client.requests == 3


def test_rate_limit_spaces_requests() -> None:
    waits: list[float] = []
    with FakeOpenAI(yes_no) as server:
        policy = HttpPolicy(min_interval_s=0.5, retries=0)
        client = JsonClient(server.url, policy=policy, sleep=waits.append)
        client.post("chat/completions", {"messages": [{"role": "user", "content": "a"}]})
        client.post("chat/completions", {"messages": [{"role": "user", "content": "b"}]})
    assert len(waits) == 1 and 0 < waits[0] <= 0.5  # the second waited for its turn


# ----- the roles' questions ------------------------------------------------------------------
def test_labels_use_a_json_schema_and_bad_answers_are_skips() -> None:
    answers = iter(
        [
            {"label": "yes", "confidence": 0.75},
            {"label": "maybe", "confidence": 0.9},  # not a class of the task
            "certainly yes",  # not JSON
            {"label": "NO", "confidence": 1.5},  # confidence out of range
            {"label": "NO", "confidence": 0.6},  # case folds onto the class
        ]
    )
    with FakeOpenAI(lambda body: next(answers)) as server:
        got = teacher(server).label(texts(*"abcde"), CLASSES)
        fmt = server.requests[0]["response_format"]
        assert fmt["type"] == "json_schema"
        assert fmt["json_schema"]["schema"]["properties"]["label"]["enum"] == CLASSES
    assert got[0] == Label("yes", 0.75)
    assert isinstance(got[1], Skip) and "not a label of the task" in got[1].reason
    assert isinstance(got[2], Skip) and "not JSON" in got[2].reason
    assert isinstance(got[3], Skip) and "between 0 and 1" in got[3].reason
    assert got[4] == Label("no", 0.6)


def test_a_server_without_json_schema_is_asked_with_json_object() -> None:
    with FakeOpenAI(yes_no) as server:
        server.reject_schema = True
        t = teacher(server)
        assert t.label(texts("good", "bad"), CLASSES) == [Label("yes", 0.9), Label("no", 0.9)]
        kinds = [(r.get("response_format") or {}).get("type") for r in server.requests]
        assert kinds == ["json_schema", "json_object", "json_object"]  # the fallback is kept


def test_replies_ratings_tags_and_embeddings() -> None:
    with FakeOpenAI(yes_no) as server:
        t = teacher(server)
        assert t.respond(["rev abc"], 5) == [Reply("REV A")]  # clipped to the room it has
        case = Case(
            {"kind": "text", "text": "x"}, {"kind": "text", "text": "y" * 50}, "t", "completion"
        )
        [score] = t.rate([case])
        assert isinstance(score, Score) and 0 <= score.score <= 10
        assert t.tag(["I love it", "meh"], []) == [Score(9, "tone"), Score(1, "tone")]
        assert t.tag(["good one"], CLASSES) == [Label("yes", 0.9)]
        assert t.embed(["aa", "b"]) == [[2.0, 2.0, 1.0], [1.0, 0.0, 1.0]]
        audio = Item("audio", b"\0" * 8, {"rate": 16000})
        [skip] = t.label([audio], CLASSES)
        assert isinstance(skip, Skip) and "audio" in skip.reason


# ----- session and cache ---------------------------------------------------------------------
def test_the_cache_never_asks_twice(tmp_path: Path) -> None:
    with FakeOpenAI(yes_no) as server:
        archive = Archive(tmp_path / "run")
        session = TeacherSession(teacher(server), "label", AnswerCache(archive))
        items = texts("good", "bad", "good")  # the same input twice is asked once

        def ask() -> list[Any]:
            return session.ask(
                "label:q", items, lambda it: it.digest, lambda b: session.teacher.label(b, CLASSES)
            )

        first = ask()
        assert first == [Label("yes", 0.9), Label("no", 0.9), Label("yes", 0.9)]
        assert len(server.requests) == 2
        archive.close()
        # a new process, a new teacher object: the archive answers, the server is not asked
        archive = Archive(tmp_path / "run")
        session = TeacherSession(teacher(server), "label", AnswerCache(archive))
        assert ask() == first and len(server.requests) == 2
        status = session.status()
        assert (status.cached, status.hits, status.asked) == (2, 3, 0)
        archive.close()


def test_a_dead_teacher_is_marked_down_and_nothing_raises(tmp_path: Path) -> None:
    lines: list[tuple[str, str]] = []
    with FakeOpenAI(yes_no) as server:
        server.always = "500"
        archive = Archive(tmp_path / "run")
        t = teacher(server)
        t.client.sleep = lambda s: None
        t.batch_size = 1
        session = TeacherSession(t, "label", AnswerCache(archive), log=lambda *a: lines.append(a))
        got = session.ask(
            "q", texts(*"abcdef"), lambda it: it.digest, lambda b: t.label(b, CLASSES)
        )
        assert got == [None] * 6
        assert session.down and session.status().state == "down"
        assert len(server.requests) == 3 * 3  # three failed batches of three tries, then no more
        assert any("is down" in line for _, line in lines)
        assert AnswerCache(archive).count() == 0  # a failure is not an answer: asked next run
        archive.close()


def test_hf_teachers_say_how_to_install_the_extra() -> None:
    """transformers is an optional extra ([teachers]), not in the tested set: the message
    says how to install it (the extra itself is not installed in CI: heavy, and useless
    without models in the user's cache)."""
    pytest.importorskip("torch")
    try:
        import transformers  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("transformers is installed here")
    with pytest.raises(TeacherError, match=r"pip install 'openbrains\[teachers\]'") as err:
        open_teacher(TeacherSpec.parse("hf:distilbert-base-uncased"))
    assert "\n" not in str(err.value)
