"""`openbrains graft | lineage | breed`: brains that travel between files and people."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from openbrains.app import argtypes
from openbrains.app.cli import command
from openbrains.app.taskargs import add_option_arg
from openbrains.engine.errors import OpenBrainsError


def _uids(text: str) -> list[str]:
    uids = [u.strip() for u in text.split(",") if u.strip()]
    if not uids:
        raise argparse.ArgumentTypeError("name at least one node uid")
    return uids


def _graft_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "graft",
        help="copy nodes of one brain, with their weights, into another (function-preserving)",
    )
    p.add_argument("source", type=Path, help="the .graph to copy nodes from")
    p.add_argument("--nodes", type=_uids, required=True, help="UID[,UID…] of the nodes to copy")
    p.add_argument("target", type=Path, help="the .graph to graft them into")
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("--at", help="the target's node the piece reads from and adds to")


@command(_graft_args)
def cmd_graft(args: argparse.Namespace) -> int:
    from openbrains.engine.format import load, save
    from openbrains.engine.graft import graft_files

    doc, done = graft_files(load(args.source), args.nodes, load(args.target), args.at)
    save(args.output, doc)
    print(
        f"wrote {args.output}: {len(done.uids)} node(s) grafted behind a closed gate "
        f"({done.gate}), {len(done.adapters)} boundary adapter(s), {len(done.copied)} tensor(s) "
        f"copied, {len(done.fresh)} fresh"
    )
    return 0


def _lineage_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lineage", help="the family tree a .graph carries")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true")


@command(_lineage_args)
def cmd_lineage(args: argparse.Namespace) -> int:
    import orjson

    from openbrains.engine.format import load
    from openbrains.engine.format.identity import content_id
    from openbrains.engine.lineage import family

    doc = load(args.file)
    if doc.graph is None:
        raise OpenBrainsError(f"{args.file}: this {doc.kind} file has no graph")
    cid = content_id(doc.graph, doc.weights)
    lineage = doc.graph.lineage
    if args.json:
        out = {
            "id": cid,
            "tasks": list(doc.graph.tasks),
            "parents": lineage.get("parents") or [],
            "tree": lineage.get("tree") or {},
        }
        print(orjson.dumps(out, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
        return 0
    print(f"{cid[:12]}  {args.file.name}  tasks: {', '.join(doc.graph.tasks) or 'none'}")
    lines = family(lineage)
    if not lines:
        print("  (no parents recorded: a brain born here, or made before lineage was kept)")
    for depth, ancestor, relation, tasks in lines:
        known = f"  tasks: {', '.join(tasks)}" if tasks else ""
        print(f"{'  ' * depth}└─ {relation:<9} {ancestor[:12]}{known}")
    return 0


def _breed_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "breed", help="cross two brains from different files (genes aligned by global id)"
    )
    p.add_argument("first", type=Path)
    p.add_argument("second", type=Path)
    p.add_argument("--task", required=True, help="the task to train the child on")
    p.add_argument("--data")
    p.add_argument("--label")
    add_option_arg(p)
    p.add_argument("--steps", type=argtypes.count, default=300, help="training steps for the child")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", type=Path, required=True)


@command(_breed_args)
def cmd_breed(args: argparse.Namespace) -> int:
    from openbrains.engine.breed import breed
    from openbrains.engine.format import load, save
    from openbrains.engine.tasks.registry import load_task

    if ":" in args.task:
        raise OpenBrainsError("breed trains on dataset tasks; games are bred by `run`")
    task = load_task(**_spec(args))
    if not hasattr(task, "train"):
        raise OpenBrainsError(f"breed trains on dataset tasks; {args.task!r} is not one")
    bred = breed(load(args.first), load(args.second), task, args.steps, args.seed)
    save(args.output, bred.doc)
    metric = task.metric
    print(
        f"wrote {args.output}: {bred.matched_nodes} node(s) and {bred.matched_edges} wire(s) "
        f"lined up by global id; {bred.detail}; {metric} {bred.val[metric]:.4f} (validation)"
    )
    return 0


def _spec(args: argparse.Namespace) -> dict[str, Any]:
    from openbrains.app.taskargs import parse_options

    spec: dict[str, Any] = {"name": args.task}
    if args.data:
        spec["data"] = str(Path(args.data).resolve())
    if args.label:
        spec["label"] = args.label
    spec.update(parse_options(args.option))
    return spec
