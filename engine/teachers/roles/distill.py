"""``--teach distill``: soft targets (Hinton, Vinyals & Dean 2015). The teacher's
log-probabilities for every training example are kept with the training split; a student
learns from ``α·T²·KL(teacher_T ‖ student_T) + (1 − α)·task loss``, both distributions
softened at temperature T. α and T are genes (``distill_alpha``,
``distill_temperature``, declared in ``engine.train.genes``) that a distilling run adds to
every graph and that mutation may change, so evolution tunes them like the learning rate.

A brain teacher (``graph:``/``onnx:``) can be asked about any input, so by default
(``distill_inputs`` "mixup", a third gene) the student is shown mixes of two training views
and learns the teacher's belief about each mix (function matching, ``engine.train.mixup``);
with "views" it learns the teacher's belief about each shifted view. An API teacher's
answers are about the examples as they are.

Examples the teacher did not answer (it went down, or skipped them) have a row of NaN and
learn from the task loss alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from openbrains.engine.teachers.answers import Soft
from openbrains.engine.teachers.cache import question_key


def question(classes: Sequence[str]) -> str:
    return question_key("distill", classes)


def soft_rows(answers: Sequence[Any], classes: Sequence[str]) -> torch.Tensor:
    """``[N, C]`` log-probabilities from answers; NaN rows where there is none."""
    out = torch.full((len(answers), len(classes)), math.nan)
    for i, a in enumerate(answers):
        if isinstance(a, Soft) and len(a.logits) == len(classes):
            out[i] = torch.tensor(a.logits, dtype=torch.float32)
    return out


def distill_loss(
    logits: torch.Tensor,
    teacher_logp: torch.Tensor,
    task_loss: torch.Tensor,
    alpha: float,
    temperature: float,
) -> torch.Tensor:
    """``α·T²·KL(p_T ‖ q_T) + (1 − α)·task_loss`` over the rows the teacher answered.

    ``logits [B, C]`` are the student's, ``teacher_logp [B, C]`` the teacher's
    log-probabilities (NaN rows: no answer). T² keeps the soft gradients' scale when T
    changes (the paper's reason); without any answered row this is the task loss.
    """
    answered = torch.isfinite(teacher_logp).all(dim=-1)
    if not bool(answered.any()):
        return task_loss
    t = float(temperature)
    a = float(alpha)
    p_t = torch.softmax(teacher_logp[answered] / t, dim=-1)
    log_q_t = F.log_softmax(logits[answered] / t, dim=-1)
    kl = F.kl_div(log_q_t, p_t, reduction="batchmean")
    share = answered.float().mean()  # rows without an answer contribute no soft term
    return a * t * t * kl * share + (1.0 - a) * task_loss


@dataclass(frozen=True)
class Taught:
    """A distilling brain's genes: α, T and whether a brain teacher is asked about mixes
    of views (``engine.train.mixup``) rather than the views themselves."""

    alpha: float
    temperature: float
    mixup: bool


def genes_of(hparams: dict[str, Any]) -> Taught:
    """The distillation genes of a graph, the defaults where it carries none."""
    from openbrains.engine.train import genes

    default = genes.distilling()
    alpha = float(hparams.get("distill_alpha", default["distill_alpha"]))
    temperature = float(hparams.get("distill_temperature", default["distill_temperature"]))
    inputs = str(hparams.get("distill_inputs", default["distill_inputs"]))
    return Taught(min(1.0, max(0.0, alpha)), max(0.05, temperature), inputs == "mixup")


TABLE_LIMIT = 200_000  # examples × shifts a brain teacher answers ahead of training, at most


class OnlineTeacher:
    """A brain teacher that gives each training batch, as it is augmented (shifted
    images, or mixes of them: called with the batch itself), its belief about *that*
    view: consistent targets are what make distillation work (Beyer et al. 2022). Only
    brains are asked this way: they are local and cheap; an API teacher's answers come
    from the cache.

    Shifts are whole pixels (``engine.train.augment``: 9 views of an 8×8 digit), so the
    teacher answers every view of every training example once, ahead of training (a table
    ``[views, N, C]``, up to ``TABLE_LIMIT`` answers), and a batch's targets are a lookup:
    asking the teacher on every batch made a distilling step 70 % slower than a plain one,
    and a search of equal wall time trained that many fewer candidates. A larger data set
    asks on every batch instead. The table is the same answers, only computed once."""

    def __init__(self, spec: str, classes: Sequence[str]) -> None:
        from openbrains.engine.teachers import TeacherSpec, open_teacher
        from openbrains.engine.teachers.brain import BrainTeacher

        teacher = open_teacher(TeacherSpec.parse(spec))
        if not isinstance(teacher, BrainTeacher):
            raise TypeError(f"{spec} is not a brain")
        self.teacher = teacher
        self.index = teacher.class_index(list(classes))
        self.spec = spec
        self.classes = list(classes)
        self._source: torch.Tensor | None = None  # the training inputs the table is for
        self._table: torch.Tensor | None = None

    def __call__(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.teacher.logp(next(iter(inputs.values())), self.index)

    def targets(
        self,
        train: Any,
        index: torch.Tensor,
        views: dict[str, torch.Tensor],
        shifts: dict[str, Any],
        inputs: dict[str, torch.Tensor],
    ) -> torch.Tensor:
        """Log-probabilities ``[B, C]`` for the training examples ``index`` as shifted
        (``views``: each one's shift number; ``inputs``: the batch as the student sees it)."""
        name = next(iter(train.inputs))
        table = self.table(train, name, shifts.get(name))
        if table is None:
            return self(inputs)
        view = views.get(name)
        return table[view if view is not None else torch.zeros_like(index), index]

    def table(self, train: Any, name: str, shift: Any) -> torch.Tensor | None:
        """The teacher's answers for every shift of every training example (None: too many)."""
        from openbrains.engine.train.augment import shift_by, variants

        x = train.inputs[name]
        if self._source is x:
            return self._table
        n_views = variants(shift) if shift is not None else 1
        table = None
        if n_views * len(x) <= TABLE_LIMIT:
            side = 2 * shift.pixels + 1 if shift is not None else 1
            rows = []
            for v in range(n_views):
                if shift is not None:
                    oy = torch.full((len(x),), v // side, dtype=torch.long)
                    ox = torch.full((len(x),), v % side, dtype=torch.long)
                    xv = shift_by(x, shift, oy, ox)
                else:
                    xv = x
                rows.append(
                    torch.cat(
                        [
                            self.teacher.logp(xv[i : i + 1024], self.index)
                            for i in range(0, len(x), 1024)
                        ]
                    )
                )
            table = torch.stack(rows)
        self._source, self._table = x, table
        return table

    def __reduce__(self) -> tuple[Any, ...]:  # rebuilt from its spec, never pickled whole
        return (OnlineTeacher, (self.spec, self.classes))


def with_soft_targets(task: Any, info: dict[str, Any]) -> Any:
    """``task`` with the teacher's cached soft targets on its training split (a worker
    rebuilding the run's task; ``info`` is ``TeacherWork.soft_info()`` as plain data).

    Rows are matched by their digest, so recorded samples appended to the split find their
    answers too; a row without one gets NaN and learns from its label alone. An archive
    that cannot be read leaves the task as it is: training on hard labels beats not at all.
    """
    import dataclasses
    from pathlib import Path

    from openbrains.engine.store import Archive, ArchiveError
    from openbrains.engine.teachers.cache import AnswerCache
    from openbrains.engine.teachers.roles.items import split_items

    if getattr(task, "kind", "") != "classification":
        return task
    try:
        archive = Archive(Path(info["run_dir"]), readonly=True)
    except (ArchiveError, KeyError):
        return task
    try:
        items = split_items(task, "train", raw=bool(info.get("raw")))
        found = AnswerCache(archive).get(
            str(info["identity"]), str(info["question"]), [it.digest for it in items]
        )
    finally:
        archive.close()
    soft = soft_rows([found.get(it.digest) for it in items], task.classes)
    online = None
    if info.get("online"):  # a brain: asked on every augmented batch as well
        try:
            online = OnlineTeacher(str(info["online"]), task.classes)
        except Exception:  # the file went away or changed: the cached targets still teach
            online = None
    if online is None and not torch.isfinite(soft).all(dim=-1).any():
        return task
    train = dataclasses.replace(task.train, soft=soft)
    return dataclasses.replace(task, train=train, teacher=online)
