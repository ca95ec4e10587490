"""`openbrains publish | browse | pull` as a user types them, through a real folder: the
listing, a pull whose claimed score is measured again (and one whose claim is false), and
brain.onnx published and pulled beside the .graph (``--no-onnx`` leaves it out)."""

from __future__ import annotations

from pathlib import Path

from openbrains.engine.format import load, save
from tests.exchange_kit import make_brain, ob


def test_publish_browse_pull_verify(tmp_path: Path) -> None:
    brain = make_brain(tmp_path / "xor.graph")
    done = ob(
        "publish",
        "xor.graph",
        "--to",
        "share",
        "--name",
        "xor-mine",
        "--license",
        "mit",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "published xor-mine to share/xor-mine" in done.stdout
    assert "without brain.onnx" not in done.stdout

    listed = ob("browse", "share", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.strip().splitlines()
    assert header.split()[:4] == ["published", "task", "score", "params"]
    assert "xor" in row and "accuracy" in row and row.endswith("share/xor-mine")

    got = ob("pull", "share/xor-mine", "-o", "mine.graph", "--verify", cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    assert "measured" in got.stdout and "confirmed" in got.stdout
    assert (tmp_path / "mine.graph").read_bytes() == brain.read_bytes()
    published_onnx = (tmp_path / "share" / "xor-mine" / "brain.onnx").read_bytes()
    assert (tmp_path / "mine.onnx").read_bytes() == published_onnx
    assert "wrote mine.onnx: the same brain for onnxruntime" in got.stdout
    again = ob("pull", "share/xor-mine", "-o", "mine.graph", cwd=tmp_path)
    assert again.returncode == 2 and "exists; choose another -o or add --force" in again.stderr

    # a brain whose file (and so its card) claims a test score it does not have
    doc = load(brain)
    doc.graph.tasks["xor"].score["test"] = 0.123
    save(tmp_path / "boast.graph", doc)
    assert (
        ob(
            "publish", "boast.graph", "--to", "share", "--name", "boast", "--no-onnx", cwd=tmp_path
        ).returncode
        == 0
    )
    assert not (tmp_path / "share" / "boast" / "brain.onnx").exists()
    lie = ob("pull", "share/boast", "-o", "boast-pulled.graph", "--verify", cwd=tmp_path)
    assert lie.returncode == 2
    assert len(lie.stderr.strip().splitlines()) == 1
    assert "the card claims 0.1230" in lie.stderr and "the claim does not hold" in lie.stderr
    assert not (tmp_path / "boast-pulled.graph").exists()
