"""Teachers (DESIGN §7): bigger models, or any brain, that label data, write
call-and-response pairs, rate candidates' outputs, tag what people typed to a live brain,
and give soft targets to distil into tiny brains. A run never needs one.

``open_teacher(TeacherSpec.parse(text, key_env))`` makes the teacher a spec names; a
``TeacherSession`` asks it through the run archive's answer cache. The roles' logic is in
``engine.teachers.roles``; the run's side in ``engine.teachers.work``.
"""

from __future__ import annotations

from openbrains.engine.teachers.base import Teacher
from openbrains.engine.teachers.errors import TeacherDown, TeacherError
from openbrains.engine.teachers.http import HttpPolicy
from openbrains.engine.teachers.spec import KINDS, ROLES, TeacherSpec, check_role


def open_teacher(spec: TeacherSpec, policy: HttpPolicy | None = None) -> Teacher:
    """The teacher ``spec`` names, ready to ask (a ``TeacherError`` if it cannot be)."""
    if spec.kind == "openai":
        from openbrains.engine.teachers.openai import OpenAITeacher

        return OpenAITeacher(spec, policy)
    if spec.kind == "graph":
        from openbrains.engine.teachers.brain import GraphTeacher

        return GraphTeacher(spec)
    if spec.kind == "onnx":
        from openbrains.engine.teachers.brain import OnnxTeacher

        return OnnxTeacher(spec)
    from openbrains.engine.teachers.hf import HFTeacher

    return HFTeacher(spec)


__all__ = [
    "KINDS",
    "ROLES",
    "HttpPolicy",
    "Teacher",
    "TeacherDown",
    "TeacherError",
    "TeacherSpec",
    "check_role",
    "open_teacher",
]
