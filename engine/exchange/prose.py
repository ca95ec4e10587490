"""The body of a model card, written for people: what the brain does, how well, how big,
where it came from, and the commands that run it."""

from __future__ import annotations

from openbrains.engine.exchange.card import Card, TaskScore
from openbrains.engine.exchange.layout import ONNX

_MODALITY = {
    "image": "images",
    "audio": "sound",
    "text": "text (bytes)",
    "tokens": "text (bytes)",
    "vector": "numbers",
}


def _summary(task: str) -> str:
    from openbrains.engine.tasks.registry import TASKS

    info = TASKS.get(task)
    return info.summary if info is not None else "a task of its author's"


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


def _size(n: int) -> str:
    return f"{n / 1024:.1f} KB" if n < 1 << 20 else f"{n / (1 << 20):.1f} MB"


def _scores_table(tasks: tuple[TaskScore, ...]) -> list[str]:
    if not tasks:
        return ["The file records no task scores."]
    lines = ["| task | metric | validation | test |", "|---|---|---|---|"]
    lines += [
        f"| {t.name} | {t.metric} | {_score(t.validation)} | {_score(t.test)} |" for t in tasks
    ]
    return lines


def card_body(
    card: Card,
    units: dict[str, int],
    size_bytes: int,
    source: str,
    missing: dict[str, str] | None = None,
) -> str:
    """The card's body; ``missing``: renditions left out (``brain.onnx``), with why."""
    task = card.task
    name = task.name if task else "its task"
    what = _MODALITY.get(card.modality, card.modality)
    lines = [f"# {card.name}", ""]
    lines.append(
        f"A tiny neural network grown by evolution with Open Brains, "
        f"for **{name}** ({what}): {_summary(name) if task else 'no task recorded'}."
    )
    if card.description:
        lines += ["", card.description]
    lines += ["", "## Scores", "", *_scores_table(card.tasks)]
    lines += [
        "",
        "Validation scores chose the brain; test scores were measured once, on data the",
        "search never saw. `openbrains pull ... --verify --data DATA` measures them again.",
    ]
    counted = ", ".join(f"{u} ×{n}" for u, n in sorted(units.items(), key=lambda kv: -kv[1]))
    lines += [
        "",
        "## Size",
        "",
        f"{card.params:,} parameters in {card.nodes} nodes ({counted}); "
        f"`brain.graph` is {_size(size_bytes)}.",
    ]
    why = (missing or {}).get(ONNX)
    if why:
        lines += ["", f"No `{ONNX}` is published: the ONNX exporter refused this brain ({why})."]
    lines += ["", "## Lineage", ""]
    lineage = card.lineage or "not recorded in the file"
    lines.append(f"Born as {lineage}." if card.lineage else f"Lineage: {lineage}.")
    parents = list(card.base_models) + list(card.parents)
    if parents:
        lines.append("Grown from: " + ", ".join(f"`{p}`" for p in parents) + ".")
    if card.plan is not None:
        lines.append(
            f"Made by training plan `{card.plan.id}` version {card.plan.version} "
            f"(plan file sha256 `{card.plan.sha256[:12]}…`)."
        )
    lines += [
        "",
        f'Content id: `{card.content_id}` (docs/format.md, "Content id").',
        f"Licence: {card.license}"
        + (
            " — no licence was chosen: ask the author before reusing it."
            if card.license == "unknown"
            else "."
        ),
        "",
        "## How to run it",
        "",
        "```bash",
        f"openbrains pull {source} -o {card.name}.graph",
        f"openbrains inspect {card.name}.graph",
    ]
    if task:
        lines.append(
            f"openbrains eval {card.name}.graph --task {task.name}   # add --data for tasks with data"
        )
        lines.append(
            f"openbrains run {card.name}.graph --task {task.name}    # keep evolving from it"
        )
    lines += ["```", "", "Opening a `.graph` runs no code from it (docs/security.md)."]
    if ONNX in card.files:
        lines += [
            "",
            f"`{ONNX}` runs the same brain without Open Brains, in onnxruntime (`pull` writes",
            f"it beside the `.graph`, as `{card.name}.onnx`); its metadata names every input and",
            "output, the codecs and the classes:",
            "",
            "```python",
            "import onnxruntime",
            f'session = onnxruntime.InferenceSession("{card.name}.onnx")',
            "print([(i.name, i.shape) for i in session.get_inputs()])",
            "print(session.get_modelmeta().custom_metadata_map)",
            "```",
        ]
    return "\n".join(lines)
