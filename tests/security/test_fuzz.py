"""Fuzzing the JSON members of a real sample: whatever a stranger writes into them (with the
manifest's hashes fixed up, so every file gets past the integrity check), opening the file
is a clean load or a clean refusal (an ``OpenBrainsError``), never another exception. And
what loads goes on the same way through what `inspect` prints and through compiling it
with its weights, as `eval` and `run` do."""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openbrains.app.describe import describe_file
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.format import loads, runnable
from tests.security import hostile

SAMPLES = ("xor.graph", "digits.graph", "text.graph")
MEMBERS = ("graph.json", "project.json", "manifest.json")
BASE = {name: hostile.sample_members(name) for name in SAMPLES}

# JSON values, small and odd: what a hand edit or a hostile writer puts where a value was
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([0, 1, -1, 2, 4096, 4097, 1 << 20, 2**31, 2**63])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "x", "in", "out", "dense", "input", "output", "nan", "../x", "a" * 40])
    | st.text(max_size=12)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


def paths(value: Any, here: tuple = ()) -> list[tuple]:
    """Every place in a JSON value: key paths into objects and index paths into arrays."""
    out = [here]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*here, i))
    return out


def mutate(doc: Any, path: tuple, how: str, new: Any, key: str) -> Any:
    """``doc`` with the value at ``path`` replaced, deleted, or given a new key/element."""
    if not path:
        return new if how == "replace" else doc
    doc = copy.deepcopy(doc)
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "replace":
        parent[last] = new
    elif how == "delete":
        del parent[last]
    elif isinstance(parent[last], dict):
        parent[last][key] = new
    elif isinstance(parent[last], list):
        parent[last].append(new)
    else:
        parent[last] = [parent[last], new]
    return doc


@st.composite
def fuzzed_files(draw: st.DrawFn) -> bytes:
    sample = draw(st.sampled_from(SAMPLES))
    members = dict(BASE[sample])
    for _ in range(draw(st.integers(1, 3))):
        member = draw(st.sampled_from(MEMBERS))
        doc = orjson.loads(members[member])
        where = draw(st.sampled_from(paths(doc)))
        how = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        doc = mutate(doc, where, how, draw(values), draw(st.text(max_size=8)))
        members[member] = json.dumps(doc, ensure_ascii=False).encode()  # big ints too
    return hostile.zip_members(members)


def opened(data: bytes) -> str:
    """What happened: "loaded", "ran" or "refused" (an ``OpenBrainsError``, one line)."""
    try:
        doc = loads(data, name="fuzzed.graph")
        describe_file(doc)
        if doc.graph is None:
            return "loaded"
        runnable(doc, "fuzzed.graph")
        return "ran"
    except OpenBrainsError as exc:
        message = str(exc)
        assert message and "\n" not in message, repr(message)
        return "refused"


OUTCOMES: dict[str, int] = {}


@pytest.mark.slow
@settings(
    max_examples=2000,
    deadline=None,
    derandomize=True,  # the same 2,000 files on every machine: CI stays deterministic
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(fuzzed_files())
def test_fuzzed_json_members_load_or_are_refused_cleanly(data: bytes) -> None:
    outcome = opened(data)
    OUTCOMES[outcome] = OUTCOMES.get(outcome, 0) + 1


def test_the_fuzzer_reaches_all_outcomes() -> None:
    """Not a fuzzer that only ever makes broken zips: a good share of its files load and run."""
    seen = {opened(hostile.zip_members(dict(BASE[s]))) for s in SAMPLES}
    assert seen == {"ran"}
    print("fuzz outcomes:", OUTCOMES)
    if sum(OUTCOMES.values()) >= 2000:  # after the fuzz test, when both ran in this session
        assert OUTCOMES.get("ran", 0) > 200 and OUTCOMES.get("refused", 0) > 200, OUTCOMES
