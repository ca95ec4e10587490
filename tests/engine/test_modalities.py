"""One task per modality, learning for real (DESIGN §5, issue 5): spoken digits on a voice
never heard, text below its order-0 entropy, call-and-response answers, denoised samples
closer to the data than noise, a byte stream that grows. Each trains the seed graph of its
sample project in sample_graphs/, on one core, for a few seconds."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from openbrains.engine.compile import Brain
from openbrains.engine.datasets.logs import write_log
from openbrains.engine.datasets.pairs import make_pairs, write_pairs
from openbrains.engine.datasets.spoken import SpokenSpec, espeak_path, make_spoken_digits
from openbrains.engine.datasets.spoken import main as spoken_main
from openbrains.engine.format import load_brain
from openbrains.engine.tasks.base import TaskError
from openbrains.engine.tasks.callresponse import (
    IGNORE,
    baseline_exact_match,
    encode_pairs,
    exact_match,
    read_pairs,
    respond,
)
from openbrains.engine.tasks.denoise import Schedule, denoise_task, sample_images, time_embedding
from openbrains.engine.tasks.denoise_score import sample_quality
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.tasks.stream import StreamTask
from openbrains.engine.tasks.text import order0_entropy
from openbrains.engine.textgen import complete, continue_batch
from openbrains.engine.train.trainer import Budget, evaluate, train

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_graphs"


@pytest.fixture(autouse=True)
def one_thread() -> None:
    torch.set_num_threads(1)


def seed_brain(name: str) -> Brain:
    """The seed graph of ``sample_graphs/<name>.graph``, ready to train."""
    _graph, brain = load_brain(SAMPLES / f"{name}.graph")
    return brain.train()


def fit(brain: Brain, task, steps: int, lr: float = 3e-3, batch: int = 32) -> None:
    result = train(brain, task, Budget(steps=steps), {"lr": lr, "batch_size": batch}, seed=0)
    assert not result.diverged, result.reason


# ----- audio: spoken digits ------------------------------------------------------------------

needs_espeak = pytest.mark.skipif(
    espeak_path() is None, reason="espeak-ng is not installed (scripts/setup.sh installs it)"
)
SMALL = SpokenSpec(
    voices=("us-m1", "gb-f2", "sc-m3", "rp-f4", "ny-f3"), speeds=(140, 180), pitches=(40, 60)
)


@needs_espeak
def test_spoken_digits_made_once(tmp_path: Path) -> None:
    spec = SpokenSpec(voices=("us-m1", "gb-f2"), speeds=(160,), pitches=(50,))
    folder = tmp_path / "spoken"
    assert make_spoken_digits(folder, spec) is True
    files = sorted(folder.rglob("*.wav"))
    assert len(files) == spec.files() == 20
    assert sorted(p.name for p in folder.iterdir()) == [".complete", *map(str, range(10))]
    wave, rate = sf.read(str(folder / "7" / "gb-f2_160_50.wav"))
    assert rate == 16000 and wave.ndim == 1 and len(wave) == 16000
    assert 0.05 < np.abs(wave).max() <= 1.0
    stamp = (folder / ".complete").stat().st_mtime_ns
    assert make_spoken_digits(folder, spec) is False  # present: nothing rewritten
    assert (folder / ".complete").stat().st_mtime_ns == stamp
    mine = tmp_path / "mine"
    mine.mkdir()
    with pytest.raises(Exception, match="not a spoken-digits set made here"):
        make_spoken_digits(mine, spec)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_spoken_digits_command_refuses_unknown_voices(tmp_path: Path, capsys) -> None:
    assert spoken_main([str(tmp_path / "x"), "--voices", "us-m1,zz-q9"]) == 2
    assert "unknown voice tag(s) ['zz-q9']" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@needs_espeak
def test_spoken_digits_held_out_voice(tmp_path: Path) -> None:
    """Trained on four voices, tested on a fifth (ny-f3) that it never heard."""
    make_spoken_digits(tmp_path / "spoken", SMALL)
    task = load_task("audio", data=tmp_path / "spoken", holdout="ny-f3_")
    assert len(task.test) == 40 and len(task.train) + len(task.val) == 160
    brain = seed_brain("spoken_digits")
    fit(brain, task, steps=800)
    accuracy = evaluate(brain, task, task.test)["accuracy"]
    print(f"spoken digits, held-out voice: accuracy {accuracy:.3f} (chance 0.1)")
    assert accuracy >= 0.6


# ----- text: completion and sampling -----------------------------------------------------------


def test_text_below_order0_of_its_file() -> None:
    path = ROOT / "docs" / "format.md"
    task = load_task("text", data=path, context=64, stride=16)
    brain = seed_brain("text")
    fit(brain, task, steps=700)
    bpc = evaluate(brain, task, task.test)["bpc"]
    h0 = order0_entropy(path.read_bytes())
    print(f"text {path.name}: {bpc:.3f} bits/char on test vs order-0 {h0:.3f}")
    assert bpc < h0 - 0.5
    # sampling: seeded, greedy equals temperature → 0, length as asked
    a = complete(brain, "The file ", 40, temperature=0.8, seed=1, context=64)
    assert a == complete(brain, "The file ", 40, temperature=0.8, seed=1, context=64)
    assert len(a) == 40
    greedy = complete(brain, "The file ", 20, temperature=0.0, context=64)
    assert greedy == complete(brain, "The file ", 20, temperature=1e-6, seed=5, context=64)
    assert greedy != complete(brain, "The file ", 20, temperature=5.0, seed=5, context=64)


def test_continue_batch_matches_one_by_one() -> None:
    brain = seed_brain("text").eval()
    prompts = [b"ab", b"hello there", b""]
    together = continue_batch(brain, prompts, 6, context=8)
    alone = [continue_batch(brain, [p], 6, context=8)[0] for p in prompts]
    assert together == alone and all(len(x) == 6 for x in together)


# ----- text: call and response ----------------------------------------------------------------


def test_read_pairs_formats_and_errors(tmp_path: Path) -> None:
    tsv = tmp_path / "a.tsv"
    tsv.write_text("prompt\tresponse\nhi\thello\n\n2+2\t4\twith a tab\n")
    assert read_pairs(tsv) == [(b"hi", b"hello"), (b"2+2", b"4\twith a tab")]
    csv_file = tmp_path / "b.csv"
    csv_file.write_text('call,response\n"a, b","c"\nx,y\n')
    assert read_pairs(csv_file) == [(b"a, b", b"c"), (b"x", b"y")]
    bad = tmp_path / "c.csv"
    bad.write_text("a,b,c\n")
    with pytest.raises(TaskError, match=r"c\.csv line 1 has 3 column\(s\)"):
        read_pairs(bad)
    empty = tmp_path / "d.tsv"
    empty.write_text("q\t\n")
    with pytest.raises(TaskError, match=r"d\.tsv line 1 has an empty response"):
        read_pairs(empty)


def test_callresponse_scores_responses_only() -> None:
    split = encode_pairs([(b"ab", b"xyz")], 8)
    x, y = split.inputs["text"][0, :, 0].long().tolist(), split.target[0].tolist()
    # sequence a b STX x y z ETX: inputs are all but the last byte, targets only the answer
    assert x == [97, 98, 2, 120, 121, 122, 0, 0]
    assert y == [IGNORE, IGNORE, 120, 121, 122, 3, IGNORE, IGNORE]
    cut = encode_pairs([(b"long prompt", b"ok")], 5)  # the prompt loses its oldest bytes
    assert bytes(cut.inputs["text"][0, :, 0].long().tolist()) == b"pt\x02ok"
    assert cut.target[0].tolist() == [IGNORE, IGNORE, ord("o"), ord("k"), 3]
    task = load_task("callresponse", data=ROOT / "data/samples/callresponse.tsv")
    out = torch.zeros(2, task.train.target.shape[1], 256)  # uniform: 8 bits per scored byte
    _loss, metric, count = task.metric_sums(out, task.train.target[:2])
    assert count == int((task.train.target[:2] != IGNORE).sum())
    assert task.finish_metric(metric, count, task.train) == pytest.approx(8.0)


def test_callresponse_loss_batched_like_alone() -> None:
    """Sibling training under vmap scores the same bytes as training alone."""
    from openbrains.engine.train.batched import stacked_loss

    task = load_task("callresponse", data=ROOT / "data/samples/callresponse.tsv")
    target = torch.stack([task.train.target[:4], task.train.target[4:8]])
    out = torch.randn(2, 4, target.shape[-1], 256, generator=torch.Generator().manual_seed(0))
    alone = torch.stack([task.loss(out[i], target[i]) for i in range(2)])
    assert torch.allclose(stacked_loss(task, out, target), alone, atol=1e-6)


def test_callresponse_sample_file_is_current(tmp_path: Path) -> None:
    assert (
        write_pairs(tmp_path / "p.tsv").read_bytes()
        == (ROOT / "data/samples/callresponse.tsv").read_bytes()
    ), "stale: run `python -m openbrains.engine.datasets.pairs`"
    assert len(set(make_pairs())) == len(make_pairs())


def test_callresponse_learns() -> None:
    task = load_task("callresponse", data=ROOT / "data/samples/callresponse.tsv")
    brain = seed_brain("callresponse")
    before = exact_match(brain, task)
    fit(brain, task, steps=3000)
    bpc = evaluate(brain, task, task.test)["bpc"]
    match, baseline = exact_match(brain, task), baseline_exact_match(task)
    h0 = task.settings["order0_entropy"]
    print(
        f"callresponse: exact match {match:.3f} on unseen prompts (baseline {baseline:.3f}, "
        f"untrained {before:.3f}); {bpc:.3f} bits/char of responses vs order-0 {h0:.3f}"
    )
    assert match >= baseline + 0.3 and match > before
    assert bpc < h0 - 2.0
    prompts = [p for p, _ in task.pairs["test"][:4]]
    assert respond(brain, prompts, 8) == respond(brain, prompts, 8)  # greedy is deterministic


# ----- generation: denoising ------------------------------------------------------------------


def test_time_embedding_and_schedule() -> None:
    emb = time_embedding(torch.tensor([0, 50, 99]), 100)
    assert emb.shape == (3, 1, 16) and torch.isfinite(emb).all()
    assert not torch.allclose(emb[0], emb[1])
    ab = Schedule(100).alpha_bars
    assert ab[0] > 0.99 and ab[-1] < 1e-3 and bool((ab[1:] < ab[:-1]).all())


def test_denoiser_samples_closer_to_data_than_noise() -> None:
    task = load_task("denoise")
    assert task.kind == "regression" and sorted(task.inputs) == ["noisy", "step"]
    brain = seed_brain("denoise")
    untrained = sample_quality(brain, task.settings, n=200)
    fit(brain, task, steps=8000, batch=64)
    r2 = evaluate(brain, task, task.test)["r2"]
    q = sample_quality(brain, task.settings, n=200)
    print(
        f"denoise: R² {r2:.3f}; nearest-neighbour distance samples {q['samples']:.3f}, "
        f"noise {q['noise']:.3f}, matched noise {q['matched']:.3f}, real test digits "
        f"{q['test']:.3f}; ratio {q['ratio']:.3f}, vs matched {q['ratio_matched']:.3f} "
        f"(untrained ratio {untrained['ratio']:.3f})"
    )
    assert r2 > 0.5
    assert q["ratio"] < 0.6 and q["ratio_matched"] < 1.0
    assert untrained["ratio"] > 0.9  # the measure does not flatter an untrained brain
    images = sample_images(brain, task.settings, n=3, seed=7)
    assert images.shape == (3, 8, 8) and images.min() >= 0 and images.max() <= 1
    assert np.array_equal(images, sample_images(brain, task.settings, n=3, seed=7))


# ----- streams --------------------------------------------------------------------------------


def test_stream_refresh_follows_the_file(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    n = write_log(log, 300)
    task = load_task("stream", data=log, context=32)
    assert isinstance(task, StreamTask) and task.causal and task.metric == "bpc"
    size = log.stat().st_size
    assert task.settings["bytes"] == size and len(task.blob) == size
    assert task.refresh() is False  # nothing new
    first_test = task.test.inputs["text"].clone()
    write_log(log, 100, start=n)
    assert task.refresh() is True
    assert task.settings["bytes"] == log.stat().st_size
    assert task.blob == log.read_bytes()
    assert not torch.equal(task.test.inputs["text"][: len(first_test)], first_test)
    assert task.refresh() is False
    # rotation: a new, short file keeps the old splits; once long enough, it is learned
    n_train = len(task.train)
    os.replace(log, tmp_path / "app.log.1")
    log.write_bytes(b"fresh start\n")
    assert task.refresh() is False and len(task.train) == n_train
    write_log(log, 200)
    assert task.refresh() is True
    assert task.blob == log.read_bytes() and len(task.train) < n_train


def test_stream_tail_and_learning(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    write_log(log, 2000)
    task = load_task("stream", data=log, context=64, tail=40_000)
    assert len(task.blob) == 40_000 and task.blob == log.read_bytes()[-40_000:]
    brain = seed_brain("stream")
    fit(brain, task, steps=300)
    bpc = evaluate(brain, task, task.test)["bpc"]
    assert math.isfinite(bpc) and bpc < order0_entropy(task.blob) - 1.0
    with pytest.raises(TaskError, match="tail 100 is too small for context 64"):
        load_task("stream", data=log, tail=100)


def test_denoise_refuses_schedules_whose_steps_are_all_noise() -> None:
    """β runs up to 20/steps: with 20 steps or fewer a step would replace the image by noise
    (and training meets NaN at once), so such schedules are refused by name."""
    with pytest.raises(TaskError, match="steps must be >= 25"):
        denoise_task(steps=20)
    assert denoise_task(steps=25, draws=1).settings["steps"] == 25
