"""The engine service's teacher command, merged into ``engine.service.HANDLERS``.

``teacher {order: {spec, role, key_env?, unlabelled?, prompts?, min_confidence?}}`` puts a
teacher to work on the open run (``order: null`` sends it home) and replies with its
status; ``teacher`` events carry the status as it changes, ``teacher_error`` events the
lines it logs. The order comes from the window's teacher dialog, the user's own hands: the
service never reads one from a project or a run folder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openbrains.engine.teachers.errors import TeacherError

if TYPE_CHECKING:
    from openbrains.engine.service import Service


def _teacher(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    from openbrains.engine.teachers.work import TeacherOrder

    run = svc.need_run()
    raw = msg.get("order")
    order = None
    if raw:
        if not isinstance(raw, dict):
            raise TeacherError("a teacher order is {spec, role, …}")
        known = set(TeacherOrder.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise TeacherError(f"a teacher order has no {', '.join(unknown)}")
        order = TeacherOrder(**raw).checked()
    return {"teacher": run.use_teacher(order)}


COMMANDS = {"teacher": _teacher}
