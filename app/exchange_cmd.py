"""`openbrains publish | pull | browse`: share brains through a folder or the Hugging Face Hub.

A place is a folder (an exchange: a shared drive, a synced folder, a USB stick) or
``hf:OWNER[/NAME]``. The Hub's address and token are ``huggingface_hub``'s own settings
(``HF_ENDPOINT``, ``HF_TOKEN`` or ``hf auth login``).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from openbrains.app.cli import command
from openbrains.app.taskargs import add_option_arg, grant_if_code, parse_options
from openbrains.engine.errors import OpenBrainsError

_HEX = re.compile(r"^[0-9a-fA-F]{12,64}$")
SCORE_TOLERANCE = 1e-4
"""How far a re-measured score may be from the card's (float sums in another order)."""


def _publish_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("publish", help="publish a brain to an exchange folder or the Hub")
    p.add_argument("file", type=Path, help="a brain (.graph of kind graph, with weights)")
    p.add_argument("--to", required=True, help="a folder, hf:OWNER or hf:OWNER/NAME")
    p.add_argument("--name", help="its name there (default: TASK-<first 8 of its content id>)")
    p.add_argument("--license", default="unknown", help="e.g. mit, apache-2.0, cc-by-4.0")
    p.add_argument("--description", default="", help="a sentence for the card")
    p.add_argument(
        "--base-model",
        action="append",
        default=[],
        metavar="OWNER/NAME",
        help="a parent on the Hub (repeatable)",
    )
    p.add_argument(
        "--no-onnx",
        action="store_true",
        help="publish only the .graph (by default brain.onnx is exported beside it)",
    )


@command(_publish_args)
def cmd_publish(args: argparse.Namespace) -> int:
    from openbrains.engine.exchange.actions import publish
    from openbrains.engine.exchange.package import PublishRequest

    req = PublishRequest(
        graph_path=args.file,
        name=args.name,
        license=args.license,
        description=args.description,
        base_models=tuple(b.removeprefix("hf:") for b in args.base_model),
        onnx=not args.no_onnx,
    )
    ref, package = publish(req, args.to)
    card = package.card
    task = card.task
    score = f", {task.metric} {task.test:.4f} (test)" if task and task.test is not None else ""
    print(f"published {package.name} to {ref}: {card.params:,} params{score}")
    print(f"content id {card.content_id}")
    for name, why in package.missing.items():
        print(f"published without {name}: {why}")
    print(f"pull it with: openbrains pull {ref} -o {package.name}.graph")
    return 0


def _pull_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pull", help="download a published brain, check it, save it")
    p.add_argument("src", help="a published brain: FOLDER/NAME or hf:OWNER/NAME")
    p.add_argument("-o", "--output", type=Path, required=True, help="the .graph to write")
    p.add_argument("--id", help="the content id you expect (at least 12 hex digits)")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument(
        "--verify",
        action="store_true",
        help="measure the card's test score again on your data before saving",
    )
    p.add_argument("--data", help="data for --verify (tasks that need data)")
    p.add_argument("--label", help="label column for --verify (csv)")
    p.add_argument("--task", help="the task for --verify (default: the card's, built-in only)")
    add_option_arg(p)


@command(_pull_args)
def cmd_pull(args: argparse.Namespace) -> int:
    from openbrains.engine.exchange.actions import fetch
    from openbrains.engine.exchange.pull import verify, write_pulled

    if args.id and not _HEX.match(args.id):
        raise OpenBrainsError("--id takes a content id: 12 to 64 hex digits")
    if (args.data or args.task) and not args.verify:
        raise OpenBrainsError("--data and --task are for --verify; add --verify")
    if args.output.exists() and not args.force:
        raise OpenBrainsError(f"{args.output} exists; choose another -o or add --force")
    pulled = verify(fetch(args.src), args.src, args.id)
    card = pulled.card
    if args.verify:
        print(_reverify(pulled, args))
    written = write_pulled(args.output, pulled, overwrite=args.force)
    task = card.task
    what = f", {task.name}" if task else ""
    print(
        f"wrote {args.output}: {card.name}{what}, {card.params:,} params, "
        f"content id {card.content_id[:12]} (checked)"
    )
    for extra in written[1:]:
        print(f"wrote {extra}: the same brain for onnxruntime (sha256 checked)")
    return 0


def _reverify(pulled: Any, args: argparse.Namespace) -> str:
    """The card's test score measured again on the user's data; an error if it differs."""
    from openbrains.engine.export import evaluate_file
    from openbrains.engine.trust import is_code_name

    card = pulled.card
    task = card.task
    if task is None or task.test is None:
        raise OpenBrainsError(f"{args.src}: the card claims no test score to verify")
    name = args.task or task.name
    if is_code_name(name) and not args.task:
        raise OpenBrainsError(
            f"{args.src} was trained on Python code {name!r}; a download never runs code: "
            f"if you trust it, name it yourself with --task {name}"
        )
    grant_if_code(args.task, "--task")
    spec: dict[str, Any] = {"name": name}
    if args.data:
        spec["data"] = str(Path(args.data).resolve())
    if args.label:
        spec["label"] = args.label
    spec.update(parse_options(args.option))
    with tempfile.TemporaryDirectory(prefix="openbrains-verify-") as tmp:
        path = Path(tmp) / "brain.graph"
        path.write_bytes(pulled.data)
        result = evaluate_file(path, spec)
    measured, claimed = float(result["test"]), float(task.test)
    line = f"{task.metric}: the card claims {claimed:.4f} (test), measured {measured:.4f} on {result['examples']} examples"
    if abs(measured - claimed) > SCORE_TOLERANCE:
        raise OpenBrainsError(f"{args.src}: {line}: the claim does not hold; nothing was written")
    return line + ": confirmed"


def _browse_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("browse", help="list the brains an exchange holds, newest first")
    p.add_argument("src", help="a folder, hf: (all of the Hub) or hf:OWNER")
    p.add_argument("--task", help="only brains for this task")
    p.add_argument("--modality", help="only brains for this input modality (image, audio, text…)")
    p.add_argument("--plan", help="only results of this training plan (its id)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")


@command(_browse_args)
def cmd_browse(args: argparse.Namespace) -> int:
    import orjson

    from openbrains.engine.exchange.actions import browse

    entries = browse(
        args.src, task=args.task, modality=args.modality, plan=args.plan, limit=args.limit
    )
    if args.json:
        sys.stdout.write(orjson.dumps([e.to_dict() for e in entries]).decode() + "\n")
        return 0
    if not entries:
        print(
            f"{args.src}: no brains" + (" match" if args.task or args.modality or args.plan else "")
        )
        return 0
    rows = [("published", "task", "score", "params", "plan", "pull")]
    for e in entries:
        c = e.card
        if c is None:
            rows.append((e.created[:10] or "?", "?", "?", "?", "", f"{e.ref}  ({e.problem})"))
            continue
        t = c.task
        score = f"{t.metric} {t.test:.4f}" if t and t.test is not None else "–"
        plan = f"{c.plan.id} v{c.plan.version}" if c.plan else ""
        rows.append((c.published[:10], t.name if t else "?", score, f"{c.params:,}", plan, e.ref))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r[:5], widths)) + "  " + r[5])
    return 0
