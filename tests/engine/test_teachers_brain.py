"""Brains as teachers: a real digits brain trained here, saved as a .graph and opened as a
``graph:`` teacher, labels and gives soft targets; a teacher with other classes or other
inputs is refused in one line; the distillation loss and the training loop use them."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.format import load, save_brain
from openbrains.engine.taskrecord import record_of
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.teachers import TeacherError, TeacherSpec, open_teacher
from openbrains.engine.teachers.answers import Case, Label, Score, Skip, Soft
from openbrains.engine.teachers.base import soft_from_label
from openbrains.engine.teachers.roles.distill import OnlineTeacher, distill_loss
from openbrains.engine.teachers.roles.items import split_items
from openbrains.engine.teachers.session import TeacherSession
from openbrains.engine.train.augment import random_offsets, shift_by, shift_specs, variant_of
from openbrains.engine.train.trainer import Budget, evaluate, train

ROOT = Path(__file__).resolve().parents[2]


def train_digits_brain(path: Path, steps: int = 300) -> float:
    """The digits sample's seed, trained for ``steps`` and saved with its task: test acc."""
    task = load_task("digits")
    graph = load(ROOT / "sample_graphs" / "digits.graph").graph
    brain = compile_graph(graph, inputs=task.inputs, outputs=task.outputs, seed=0)
    train(brain, task, Budget(steps=steps), graph.hparams, seed=0, measure_test=False)
    saved = brain.graph.copy()
    saved.tasks = {task.name: record_of(task.name, task.describe(), saved)}
    save_brain(path, saved, brain.weights())
    return evaluate(brain, task, task.test)["accuracy"]


@pytest.fixture(scope="module")
def digits_teacher(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    path = tmp_path_factory.mktemp("teacher") / "digits.graph"
    return path, train_digits_brain(path)


def test_a_trained_graph_teaches_digits(digits_teacher: tuple[Path, float]) -> None:
    path, accuracy = digits_teacher
    assert accuracy > 0.7  # trained (chance is 0.1)
    task = load_task("digits")
    teacher = open_teacher(TeacherSpec.parse(f"graph:{path}"))
    teacher.check("distill", task)
    items = split_items(task, "test")
    soft = teacher.soft(items, task.classes)
    assert all(isinstance(s, Soft) for s in soft)
    probs = torch.tensor([s.logits for s in soft]).exp()
    assert torch.allclose(probs.sum(1), torch.ones(len(items)), atol=1e-5)
    agree = (probs.argmax(1) == task.test.target).float().mean().item()
    assert agree == pytest.approx(accuracy, abs=1e-6)  # the file is the brain that was trained
    labels = teacher.label(items[:20], task.classes)
    assert all(isinstance(a, Label) and a.label in task.classes for a in labels)
    # the identity is the file's content: the same brain under another name is one teacher
    copy = path.with_name("copy.graph")
    copy.write_bytes(path.read_bytes())
    assert open_teacher(TeacherSpec.parse(f"graph:{copy}")).identity == teacher.identity


def test_a_graph_teacher_rates_labels_by_its_belief(digits_teacher: tuple[Path, float]) -> None:
    task = load_task("digits")
    teacher = open_teacher(TeacherSpec.parse(f"graph:{digits_teacher[0]}"))
    x = task.test.inputs["image"][:1]
    truth = task.classes[int(task.test.target[0])]
    wrong = task.classes[(int(task.test.target[0]) + 1) % 10]
    cases = [
        Case(
            {}, {"kind": "label", "label": lab}, "digits", "classification", tuple(task.classes), x
        )
        for lab in (truth, wrong)
    ]
    good, bad = teacher.rate(cases)
    assert isinstance(good, Score) and isinstance(bad, Score) and good.score > bad.score
    [text] = teacher.rate([dataclasses.replace(cases[0], output={"kind": "text", "text": "7"})])
    assert isinstance(text, Skip)


def test_other_classes_or_inputs_are_refused_in_one_line(
    digits_teacher: tuple[Path, float],
) -> None:
    teacher = open_teacher(TeacherSpec.parse(f"graph:{digits_teacher[0]}"))
    task = load_task("digits")
    letters = dataclasses.replace(task, classes=list("abcdefghij"))
    with pytest.raises(TeacherError, match=r"knows other classes .* cannot teach a, b"):
        teacher.check("label", letters)
    fewer = dataclasses.replace(task, classes=["3", "5"])  # a subset is fine: mapped by name
    teacher.check("label", fewer)
    [soft] = teacher.soft(split_items(fewer, "test")[:1], fewer.classes)
    assert isinstance(soft, Soft) and len(soft.logits) == 2
    with pytest.raises(TeacherError, match="takes inputs of 64 steps × 1 channels"):
        teacher.check("label", load_task("xor"))
    with pytest.raises(TeacherError, match="cannot pairs"):
        teacher.check("pairs", task)
    broken = digits_teacher[0].with_name("broken.graph")
    broken.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(TeacherError, match=r"broken\.graph"):
        open_teacher(TeacherSpec.parse(f"graph:{broken}"))


def test_distillation_loss_is_hintons() -> None:
    torch.manual_seed(0)
    student = torch.randn(6, 4)
    teacher = torch.log_softmax(torch.randn(6, 4), -1)
    task = torch.tensor(1.25)
    assert distill_loss(student, teacher, task, 0.0, 4.0) == pytest.approx(1.25)
    t = 4.0
    p = torch.softmax(teacher / t, -1)
    q = torch.log_softmax(student / t, -1)
    kl = (p * (p.log() - q)).sum(-1).mean()
    expected = 0.7 * t * t * kl + 0.3 * 1.25
    assert distill_loss(student, teacher, task, 0.7, t).item() == pytest.approx(expected.item())
    # rows without an answer (NaN) learn from the task loss alone
    holes = teacher.clone()
    holes[3:] = math.nan
    half = distill_loss(student, holes, task, 1.0, 1.0).item()
    p1 = torch.softmax(teacher[:3], -1)
    kl1 = (p1 * (p1.log() - torch.log_softmax(student[:3], -1))).sum(-1).mean().item()
    assert half == pytest.approx(kl1 * 0.5)
    assert distill_loss(student, torch.full_like(teacher, math.nan), task, 0.9, 2.0) == 1.25
    # a label with a confidence is a soft target too (for teachers that only give labels)
    soft = soft_from_label(Label("b", 0.7), ["a", "b", "c"])
    assert [round(math.exp(v), 3) for v in soft.logits] == [0.15, 0.7, 0.15]


def test_distillation_gradient_is_the_formulas() -> None:
    """The student's gradient on a tiny batch is Hinton's: for the soft term
    ∂/∂s of T²·KL(p_T ‖ q_T) is T·(q_T − p_T), so with the mean over the batch
    ∂L/∂s = [α·T·(q_T − p_T) + (1 − α)·(softmax(s) − onehot(y))] / B."""
    torch.manual_seed(1)
    b, c, alpha, t = 3, 5, 0.6, 3.0
    student = torch.randn(b, c, requires_grad=True)
    teacher = torch.log_softmax(2.0 * torch.randn(b, c), -1)
    y = torch.tensor([0, 3, 1])
    task = torch.nn.functional.cross_entropy(student, y)
    distill_loss(student, teacher, task, alpha, t).backward()
    with torch.no_grad():
        q_t = torch.softmax(student / t, -1)
        p_t = torch.softmax(teacher / t, -1)
        hard = torch.softmax(student, -1) - torch.nn.functional.one_hot(y, c)
        expected = (alpha * t * (q_t - p_t) + (1 - alpha) * hard) / b
    assert student.grad is not None
    assert torch.allclose(student.grad, expected, atol=1e-6)


def test_probabilities_logits_and_log_probabilities_are_one_teacher() -> None:
    """A brain may end in a softmax (probabilities), in a log-softmax, or in raw scores:
    all three are the same teacher. Probabilities are not softened as if they were
    logits (softmax(p / T) would be nearly uniform whatever the teacher believes)."""
    from openbrains.engine.teachers.brain import is_probabilities, log_probs

    torch.manual_seed(2)
    z = 3.0 * torch.randn(8, 10)
    index = [3, 1, 4, 0]  # the task's classes among the teacher's outputs, in its order
    want = torch.log_softmax(z[:, index].double(), -1)
    probs = torch.softmax(z, -1)
    assert is_probabilities(probs) and not is_probabilities(z)
    assert not is_probabilities(torch.log_softmax(z, -1))
    for out in (z, probs, torch.log_softmax(z, -1)):
        assert torch.allclose(log_probs(out, index), want, atol=1e-9)
    # the mistake this guards against: a confident teacher's probabilities as logits
    flat = torch.softmax(torch.log_softmax(probs[:, index].double(), -1) / 2.0, -1)
    assert flat.max() < 0.36 < torch.softmax(want / 2.0, -1).max()


def test_soft_targets_train_a_student(digits_teacher: tuple[Path, float]) -> None:
    """The training loop learns from soft targets: a student trained with α = 1 (the
    teacher's targets only, no labels at all) still learns the digits."""
    task = load_task("digits")
    teacher = open_teacher(TeacherSpec.parse(f"graph:{digits_teacher[0]}"))
    session = TeacherSession(teacher, "distill")
    answers = session.ask(
        "q",
        split_items(task, "train"),
        lambda it: it.digest,
        lambda b: teacher.soft(b, task.classes),
    )
    soft = torch.tensor([a.logits for a in answers], dtype=torch.float32)
    wrong = torch.zeros_like(task.train.target)  # labels that would teach nothing
    blind = dataclasses.replace(
        task, train=dataclasses.replace(task.train, target=wrong, soft=soft)
    )
    graph = load(ROOT / "sample_graphs" / "digits.graph").graph

    def student(alpha: float) -> float:
        genes = {**graph.hparams, "distill_alpha": alpha, "distill_temperature": 2.0}
        brain = compile_graph(graph, inputs=task.inputs, outputs=task.outputs, seed=1)
        result = train(brain, blind, Budget(steps=150), genes, seed=1, measure_test=False)
        assert not result.diverged
        return evaluate(brain, task, task.test)["accuracy"]

    # α = 0: the (useless) labels alone teach nothing; α = 1: the teacher's targets teach
    assert student(0.0) < 0.2 < 0.4 < student(1.0)


def test_an_online_brain_answers_each_shifted_view(digits_teacher: tuple[Path, float]) -> None:
    """A brain teacher's targets are its belief about the view the student is shown (the
    shifted image), looked up from a table it answered once, and the loop learns from them
    with no labels at all."""
    task = load_task("digits")
    online = OnlineTeacher(f"graph:{digits_teacher[0]}", task.classes)
    shifts = shift_specs(task)
    spec = shifts["image"]
    gen = torch.Generator().manual_seed(3)
    index = torch.randperm(len(task.train), generator=gen)[:64]
    oy, ox = random_offsets(64, spec, gen)
    seen = shift_by(task.train.inputs["image"][index], spec, oy, ox)
    views = {"image": variant_of(spec, oy, ox)}
    got = online.targets(task.train, index, views, shifts, {"image": seen})
    assert torch.allclose(got, online({"image": seen}), atol=1e-5)
    assert online.table(task.train, "image", spec).shape == (9, len(task.train), 10)
    unshifted = online.targets(task.train, index, {}, shifts, {})
    assert not torch.allclose(got, unshifted)  # the view matters
    wrong = torch.zeros_like(task.train.target)
    blind = dataclasses.replace(
        task, train=dataclasses.replace(task.train, target=wrong), teacher=online
    )
    graph = load(ROOT / "sample_graphs" / "digits.graph").graph
    brain = compile_graph(graph, inputs=task.inputs, outputs=task.outputs, seed=1)
    genes = {
        **graph.hparams,
        "distill_alpha": 1.0,
        "distill_temperature": 2.0,
        "distill_inputs": "views",
    }
    train(brain, blind, Budget(steps=150), genes, seed=1, measure_test=False)
    assert evaluate(brain, task, task.test)["accuracy"] > 0.4


class _Recording(OnlineTeacher):
    """An online teacher that keeps what it was asked about, and how."""

    def __init__(self, spec: str, classes: list[str]) -> None:
        super().__init__(spec, classes)
        self.asked: list[torch.Tensor] = []
        self.looked_up = 0

    def __call__(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        self.asked.append(inputs["image"])
        return super().__call__(inputs)

    def targets(self, *args: object, **kwargs: object) -> torch.Tensor:
        self.looked_up += 1
        return super().targets(*args, **kwargs)  # type: ignore[arg-type]


def test_a_brain_teacher_is_asked_about_mixes_of_views(
    digits_teacher: tuple[Path, float],
) -> None:
    """Function matching (the default): the student is shown mixes of two views, the
    teacher is asked about each mix itself (pixels off the digits' sixteenths) rather than
    looked up in its table of views, and those beliefs alone teach the digits (the labels
    here are all wrong); with ``distill_inputs`` "views" the table answers instead."""
    task = load_task("digits", labelled=200)
    wrong = torch.zeros_like(task.train.target)
    blind = dataclasses.replace(task, train=dataclasses.replace(task.train, target=wrong))
    graph = load(ROOT / "sample_graphs" / "digits.graph").graph
    steps = 300

    def student(inputs: str) -> tuple[float, _Recording]:
        online = _Recording(f"graph:{digits_teacher[0]}", task.classes)
        taught = dataclasses.replace(blind, teacher=online)
        genes = {**graph.hparams, "distill_alpha": 1.0, "distill_temperature": 1.0}
        genes["distill_inputs"] = inputs
        brain = compile_graph(graph, inputs=task.inputs, outputs=task.outputs, seed=1)
        train(brain, taught, Budget(steps=steps), genes, seed=1, measure_test=False)
        return evaluate(brain, task, task.test)["accuracy"], online

    accuracy, mixes = student("mixup")
    assert len(mixes.asked) == steps and mixes.looked_up == 0
    sixteenths = torch.cat(mixes.asked) * 16
    assert (sixteenths - sixteenths.round()).abs().max() > 0.1  # not a view of a digit
    assert accuracy > 0.4
    _, views = student("views")
    assert views.looked_up == steps and not views.asked


class _Softmaxed(torch.nn.Module):
    """A brain whose head ends in a softmax, as many exported classifiers do."""

    def __init__(self, brain: torch.nn.Module) -> None:
        super().__init__()
        self.brain = brain

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.brain(x)
        return torch.softmax(out[0] if isinstance(out, tuple) else out, dim=-1)


def export_onnx(
    graph_path: Path, out: Path, classes: list[str] | None, softmax: bool = False
) -> Path:
    """The .graph brain as an ONNX file (torch.onnx.export), its classes in the metadata
    (``softmax``: its outputs are probabilities rather than raw scores)."""
    import onnx
    import orjson

    from openbrains.engine.format import load_brain

    _graph, brain = load_brain(graph_path)
    model_in: torch.nn.Module = _Softmaxed(brain) if softmax else brain
    x = torch.zeros(2, 64, 1)
    torch.onnx.export(
        model_in, (x,), str(out), input_names=["image"], output_names=["label"],
        dynamic_axes={"image": {0: "batch"}, "label": {0: "batch"}}, dynamo=False,
    )  # fmt: skip
    model = onnx.load(str(out))
    if classes is not None:
        model.metadata_props.add(key="classes", value=orjson.dumps(classes).decode())
    onnx.save(model, str(out))
    return out


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:Converting a tensor")
def test_an_onnx_brain_teaches_like_its_graph(
    digits_teacher: tuple[Path, float], tmp_path: Path
) -> None:
    pytest.importorskip("onnxruntime")
    task = load_task("digits")
    path = export_onnx(digits_teacher[0], tmp_path / "digits.onnx", task.classes)
    onnx_teacher = open_teacher(TeacherSpec.parse(f"onnx:{path}"))
    graph_teacher = open_teacher(TeacherSpec.parse(f"graph:{digits_teacher[0]}"))
    onnx_teacher.check("distill", task)
    items = split_items(task, "test")[:64]
    a = torch.tensor([s.logits for s in onnx_teacher.soft(items, task.classes)])
    b = torch.tensor([s.logits for s in graph_teacher.soft(items, task.classes)])
    assert torch.allclose(a, b, atol=1e-4)
    reversed_classes = export_onnx(digits_teacher[0], tmp_path / "rev.onnx", task.classes[::-1])
    flipped = open_teacher(TeacherSpec.parse(f"onnx:{reversed_classes}"))
    c = torch.tensor([s.logits for s in flipped.soft(items, task.classes)])
    assert torch.allclose(c, b.flip(1), atol=1e-4)  # classes are matched by name
    # a softmax head gives probabilities: the same teacher, the same soft targets
    probs = export_onnx(digits_teacher[0], tmp_path / "p.onnx", task.classes, softmax=True)
    d = torch.tensor([s.logits for s in open_teacher(TeacherSpec.parse(f"onnx:{probs}")).soft(
        items, task.classes)])  # fmt: skip
    assert torch.allclose(d.exp(), b.exp(), atol=1e-4)  # (tiny ones underflow in float32)
    letters = dataclasses.replace(task, classes=list("abcdefghij"))
    with pytest.raises(TeacherError, match="knows other classes"):
        onnx_teacher.check("label", letters)
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x07 not a model")
    with pytest.raises(TeacherError, match="not a usable ONNX model"):
        open_teacher(TeacherSpec.parse(f"onnx:{garbage}"))


def test_a_distilling_refit_keeps_its_teacher_over_the_validation_images(
    digits_teacher: tuple[Path, float],
) -> None:
    from dataclasses import replace

    from openbrains.engine.runners.dataset import refit_view
    from openbrains.engine.teachers.roles.distill import OnlineTeacher
    from openbrains.engine.train.augment import shift_specs

    task = load_task("digits")
    online = OnlineTeacher(f"graph:{digits_teacher[0]}", task.classes)
    view = refit_view(replace(task, teacher=online))
    assert view.teacher is online and len(view.train) == len(task.train) + len(task.val)
    shifts = shift_specs(view)
    first_val = torch.tensor([len(task.train), len(view.train) - 1])
    spec = shifts["image"]
    still = torch.full((2,), spec.pixels * (2 * spec.pixels + 1) + spec.pixels)  # no move
    got = online.targets(view.train, first_val, {"image": still}, shifts, {})
    want = online.teacher.logp(view.train.inputs["image"][first_val], online.index)
    assert torch.allclose(got, want, atol=1e-5)  # its answers on those very images
