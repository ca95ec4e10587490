"""The unit catalog as text: `openbrains units` and the generated docs/units.md."""

from __future__ import annotations

from openbrains.engine.footprint import param_formula, pretty
from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT
from openbrains.engine.unit_tensors import tensor_lines
from openbrains.engine.units import REGISTRY, Unit

CATEGORY_ORDER = (
    "io",
    "learning",
    "conv",
    "pooling",
    "recurrent",
    "attention",
    "norm",
    "activation",
    "regularize",
    "embedding",
    "merge",
    "local",
)


def _ordered() -> list[Unit]:
    rank = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    return sorted(
        REGISTRY.units(), key=lambda u: (rank.get(u.category, len(rank)), u.category, u.name)
    )


def catalog_lines() -> list[str]:
    """One line per unit: name, version, category, doc (for the terminal)."""
    units = _ordered()
    width = max(len(u.name) for u in units)
    return [f"{u.name:<{width}}  v{u.version}  {u.category:<10}  {u.doc}" for u in units]


def _net2net(u: Unit) -> str:
    if u.name == OUTPUT_UNIT:  # the engine owns the output adapter
        return "its adapter follows wider inputs exactly"
    if u.name == INPUT_UNIT:
        return "nothing to follow"
    return u.widening.describe() if u.widening else "not declared"


def catalog_markdown() -> str:
    """docs/units.md, generated from the declarations (a test fails when the file is stale)."""
    out = [
        "# Unit catalog",
        "",
        "Generated from the unit declarations by `openbrains units --markdown`; do not edit by hand.",
        "Every port carries a Signal `[batch, time, channels]`; several wires into one port are",
        "combined by the unit's merge rule (`sum` after learned edge adapters, `concat` on",
        "channels, or `list` handed to the unit). `causal` says whether the unit may sit in a",
        "causal graph (completion and streaming tasks). A unit that *starts as the identity*",
        "returns its input exactly when it is new, so evolution inserts it straight on a wire;",
        "any other new unit enters behind a zero-initialised `residual` gate.",
        "",
        "**Tensors** are stored in a `.graph` under `node/<uid>/<name>` (safetensors, float32,",
        "row-major), with the shapes given here; buffers are stored but not trained. **Cost**:",
        "trainable parameters, and FLOPs of one forward pass for one example in evaluation mode",
        "(2 per multiply-add of matrix products and convolutions, elementwise work not counted,",
        "as `torch.utils.flop_counter` and `Brain.flops` count). Symbols: the unit's params by",
        "name; `C` the channels of its (merged) first input; `T` its time steps; `V` the",
        "vocabulary of a token input; `has_grid`, `rows`, `cols` the image grid of the input",
        "(when the graph is not causal). Shapes, counts and FLOPs are checked against the real",
        "modules by `tests/engine/test_footprint.py`.",
        "",
        "`Net2Net` says what a unit declares",
        "about widening (`widening=` in its declaration, engine/widening.py): whether its own",
        "width grows function-preservingly, and what it does with a wider input; a unit that",
        "declares nothing still evolves, but widening next to it is not function-preserving.",
        "",
        "## Tensor names",
        "",
        "A brain's `weights.safetensors` names each node's tensors `node/<uid>/<name>` and each",
        "wire's adapter `edge/<uid>/weight`. A wire owns an adapter when it enters a `sum`",
        "port whose width differs from the wire's source: a bias-free linear map, shape",
        "`[port width, source width]` (out × in, as `torch.nn.Linear` stores it), applied to",
        "the last (channel) axis. The output unit maps its input to its channels with",
        "`node/<uid>/adapter.weight` `[channels, C_in]` and `node/<uid>/adapter.bias`",
        "`[channels]`. Below, each unit's line `tensors` gives its names and shapes as its",
        "declaration states them; a unit that declares none has them measured by",
        "`engine/unit_tensors.py` (input of `C_in` channels, params at their defaults).",
        "",
    ]
    category = None
    for u in _ordered():
        if u.category != category:
            category = u.category
            out += [f"## {category}", ""]
        out += _unit_markdown(u)
    return "\n".join(out)


def _unit_markdown(u: Unit) -> list[str]:
    causal = "depends on params" if callable(u.causal) else ("yes" if u.causal else "no")
    ports_in = ", ".join(f"{p.name} ({p.kind})" for p in u.inputs) or "none"
    ports_out = ", ".join(p.name for p in u.outputs) or "none"
    identity = "; starts as the identity" if u.starts_as_identity else ""
    out = [f"### `{u.name}` v{u.version}", "", u.doc, ""]
    if u.source:
        out += [f"- source: {u.source}"]
    out += [
        f"- inputs: {ports_in}; outputs: {ports_out}; merge: `{u.merge}`",
        f"- causal: {causal}; recurrent state: {'yes' if u.stateful else 'no'}{identity}; "
        f"package: `{u.package}`",
        f"- Net2Net: {_net2net(u)}",
    ]
    if u.build is not None:
        flops = f"`{pretty(u.flops)}`" if u.flops else "not declared"
        out.append(f"- cost: parameters `{param_formula(u.tensors)}`; FLOPs {flops}")
    if u.tensors:
        out.append("- tensors: " + "; ".join(t.describe() for t in u.tensors))
    else:  # not declared: measured (engine/unit_tensors.py)
        out += tensor_lines(u)
    if u.params:
        out += [
            "",
            "| param | default | range | evolvable | meaning |",
            "|---|---|---|---|---|",
        ]
        for p in u.params:
            out.append(
                f"| `{p.name}` | `{p.default}` | {p.describe()} | {'yes' if p.mutable else 'no'} | {p.doc} |"
            )
    out.append("")
    return out


def catalog_json() -> list[dict]:
    """The catalog as plain data for the canvas (which never imports torch or the units)."""
    out = []
    for u in _ordered():
        out.append(
            {
                "name": u.name,
                "version": u.version,
                "category": u.category,
                "doc": u.doc,
                "source": u.source,
                "package": u.package,
                "merge": u.merge,
                "stateful": u.stateful,
                "causal": "params" if callable(u.causal) else bool(u.causal),
                "inputs": [{"name": p.name, "kind": p.kind} for p in u.inputs],
                "outputs": [{"name": p.name, "kind": p.kind} for p in u.outputs],
                "params": [
                    {
                        "name": p.name,
                        "kind": p.kind,
                        "default": p.default,
                        "low": p.low,
                        "high": p.high,
                        "choices": list(p.choices),
                        "log": p.log,
                        "mutable": p.mutable,
                        "doc": p.doc,
                    }
                    for p in u.params
                ],
            }
        )
    return out
