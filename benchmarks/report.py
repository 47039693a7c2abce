"""The benchmark report: Markdown tables with every engine side by side, for the README and docs.

One table of figures (one row per measurement, one column per engine, each figure
the median over fresh processes with the lowest and highest in brackets), then one
table of the same figures relative to micrograd. The header gives the machine, the
date, Python, the versions and which engine every valuegrad row ran.
"""

from __future__ import annotations

from typing import Any, Callable

from .engines import ENGINES, LABELS

Cell = dict[str, Any]
"""A figure's spread (``median``, ``min``, ``max``, ``runs``) or ``{"text": ...}``."""


def lookup(d: Any, *keys: Any) -> Any:
    """``d[k1][k2]...``, or None where a key is missing (results files of partial runs)."""
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def number(x: float) -> str:
    """Three significant figures, thousands separated, no exponent.

    >>> number(1234.5), number(42.25), number(0.7151), number(0.0)
    ('1,234', '42.2', '0.715', '0')
    """
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def figure(cell: Cell | None, scale: float = 1.0) -> str:
    """``median [lowest–highest]`` (one process: the figure alone); text as it is; "–" for nothing.

    >>> figure({"median": 0.112, "min": 0.102, "max": 0.115, "runs": [1, 2, 3]}, 1e3)
    '112 [102–115]'
    >>> figure({"median": 136.0, "min": 136.0, "max": 136.0, "runs": [136.0]})
    '136'
    """
    if cell is None:
        return "–"
    if "text" in cell:
        return str(cell["text"])
    text = number(cell["median"] * scale)
    if len(cell.get("runs", ())) > 1:
        text += f" [{number(cell['min'] * scale)}–{number(cell['max'] * scale)}]"
    return text


def _text(value: str) -> Cell:
    return {"text": value}


Row = tuple[str, dict[str, Cell], float]
"""A measurement: its name (with its unit), a cell per engine, the scale applied to its numbers."""


def measurements(res: dict[str, Any]) -> list[Row]:
    """The rows of the figures table, in report order."""
    rows: list[Row] = []

    ops = res.get("ops") or {}
    if ops.get("engines"):
        n = ops["n_ops"]
        for phase, key in (("build", "forward_ns_per_op"), ("backward", "backward_ns_per_op")):
            cells = {e: r[key] for e, r in ops["engines"].items()}
            rows.append((f"ops: {phase}, {n:,} ops of + * tanh (ns per op)", cells, 1.0))

    demo = res.get("demo") or {}
    runs = demo.get("runs") or {}

    def by_engine(mode: str, pick: Callable[[dict[str, Any]], Any]) -> dict[str, Cell]:
        return {
            key.split("/")[0]: pick(r) for key, r in runs.items() if key.split("/")[1] == mode and pick(r)
        }

    step_rows = (
        ("default", "demo step, plain loop, default collector (ms)"),
        ("paused", "demo step, inside gc_paused() as fit() runs it (ms)"),
        ("notebook", "demo step, default collector, after importing numpy and matplotlib.pyplot (ms)"),
        ("disabled", "demo step, collector disabled (ms)"),
    )
    for mode, name in step_rows:
        cells = by_engine(mode, lambda r: r["step_s"])
        if cells:
            rows.append((name, cells, 1e3))
    for mode, title in (("default", "default collector"), ("disabled", "collector disabled")):
        for phase in ("forward", "backward", "update"):  # PyTorch and compiled time only the whole step
            cells = by_engine(mode, lambda r, p=phase: lookup(r, "phases_s", f"{p}_s"))
            if cells:
                rows.append((f"demo step, {title}: {phase} (ms)", cells, 1e3))
    compiled = runs.get("compiled/default")
    if compiled:
        rows.append(("demo: compile time (s)", {"compiled": compiled["compile_s"]}, 1.0))
        if compiled.get("compiled_bytes"):
            rows.append(
                (
                    "demo: memory kept by the compiled step (MB)",
                    {"compiled": compiled["compiled_bytes"]},
                    1e-6,
                )
            )
    nodes = by_engine("default", lambda r: r.get("nodes_per_step"))
    if nodes:
        rows.append(("demo: Values built per step", {e: _text(f"{n:,}") for e, n in nodes.items()}, 1.0))
    accuracy: dict[str, Cell] = {}
    for key, r in runs.items():
        engine = key.split("/")[0]
        longest = max((s for k, s in runs.items() if k.split("/")[0] == engine), key=lambda s: s["steps"])
        if r is longest and r["final_accuracy"] is not None:
            accuracy[engine] = _text(f"{r['final_accuracy']:.0%} after {r['steps']} steps")
    if accuracy:
        rows.append(("demo: final accuracy", accuracy, 1.0))

    chain = res.get("chain") or {}
    engines = chain.get("engines") or {}
    n, small = chain.get("n"), chain.get("small_n")
    for key, name in (
        ("build_ns_per_node", f"chain of {n:,}: build (ns per node)" if n else ""),
        ("backward_ns_per_node", f"chain of {n:,}: backward (ns per node)" if n else ""),
        ("bytes_per_node", f"chain of {n:,}: memory (bytes per node)" if n else ""),
        ("small_bytes_per_node", f"chain of {small:,}: memory (bytes per node)" if small else ""),
    ):
        cells = {e: r[key] for e, r in engines.items() if key in r}
        if cells:
            rows.append((name, cells, 1.0))
    fail = chain.get("micrograd_failure")
    if fail or engines:
        cells = {e: _text(f"none up to {n:,} ops") for e in engines if "build_ns_per_node" in engines[e]}
        if fail:
            depth = fail.get("failure_depth")
            works = fail.get("works_up_to")
            cells["micrograd"] = _text(
                f"RecursionError at {depth:,} ops" if depth else f"none up to {works:,} ops"
            )
        rows.append(("chain: length at which backward() fails", cells, 1.0))

    start = res.get("startup") or {}
    cells = {name: r for name, r in start.items() if name in ENGINES}
    if cells:
        rows.append(('start-up: python -c "import ..." (ms)', cells, 1e3))
    return rows


def _speedup(a: Cell | None, b: Cell | None) -> str:
    if not a or not b or "median" not in a or "median" not in b or not b["median"]:
        return "–"
    return f"{number(a['median'] / b['median'])}x"


def relative(res: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """micrograd's median divided by each engine's (times faster, or times less memory),
    and pure's divided by native's."""
    runs = lookup(res, "demo", "runs") or {}
    ops = lookup(res, "ops", "engines") or {}
    chain = lookup(res, "chain", "engines") or {}
    out: list[tuple[str, dict[str, str]]] = []

    def add(name: str, cells: dict[str, Cell | None], reference: Cell | None) -> None:
        if reference is None or not any(cells.values()):
            return
        row = {e: _speedup(reference, c) for e, c in cells.items() if e != "micrograd"}
        row["native vs pure"] = _speedup(cells.get("pure"), cells.get("native"))
        out.append((name, row))

    for phase, key in (("build", "forward_ns_per_op"), ("backward", "backward_ns_per_op")):
        add(
            f"ops: {phase}",
            {e: lookup(ops, e, key) for e in ENGINES},
            lookup(ops, "micrograd", key),
        )
    mg_default = lookup(runs, "micrograd/default", "step_s")
    add(
        "demo step, plain loop, default collector",
        {e: lookup(runs, f"{e}/default", "step_s") for e in ENGINES},
        mg_default,
    )
    add(
        "demo step, inside gc_paused() (micrograd: plain loop)",
        {e: lookup(runs, f"{e}/paused", "step_s") for e in ENGINES},
        mg_default,
    )
    add(
        "demo step, after importing numpy and matplotlib.pyplot",
        {e: lookup(runs, f"{e}/notebook", "step_s") for e in ENGINES},
        lookup(runs, "micrograd/notebook", "step_s"),
    )
    add(
        "demo step, collector disabled",
        {e: lookup(runs, f"{e}/disabled", "step_s") for e in ENGINES},
        lookup(runs, "micrograd/disabled", "step_s"),
    )
    add(
        "memory per node (less memory)",
        {e: lookup(chain, e, "small_bytes_per_node") for e in ENGINES},
        lookup(chain, "micrograd", "small_bytes_per_node"),
    )
    return out


def header(res: dict[str, Any]) -> list[str]:
    """Machine, date, Python, versions and engines: the lines above every table."""
    meta = res["meta"]
    machine = meta["machine"]
    load = ""
    if machine.get("load_start") is not None:
        load = f"; load average {machine['load_start']:g} at the start"
        if machine.get("load_end") is not None:
            load += f", {machine['load_end']:g} at the end"
    versions = dict(meta.get("versions") or {})
    origin = meta.get("valuegrad") or {}
    vg = f"valuegrad {versions.pop('valuegrad', 'unknown')}"
    if origin.get("checkout"):
        vg += f" (this checkout, git {origin['git']})" if origin.get("git") else " (this checkout)"
    elif origin.get("path"):
        vg += f" (installed at {origin['path']})"
    names = {"torch": "PyTorch"}
    lines = [
        f"Benchmarks of {meta['date']}, `{meta['command']}` ({meta['mode']} mode).",
        "",
        f"- Machine: {machine['system']}, {machine['cpu']}, {machine['cores']} cores{load}.",
        f"- {meta['python']}; "
        + ", ".join([vg] + [f"{names.get(k, k)} {v}" for k, v in versions.items()])
        + ".",
    ]
    workers = meta.get("workers") or {}
    described = {
        "native": "the engine compiled by Cython",
        "pure": "the same engine files run as plain Python (`VALUEGRAD_PURE_PYTHON=1`)",
        "compiled": "`valuegrad.compile` of the demo's loss",
    }
    for engine, what in described.items():
        counts = workers.get(engine)
        if not counts or not (counts["native"] or counts["pure"]):
            probe = lookup(meta, "probes", engine)
            if probe is not None and engine != "compiled":
                lines.append(
                    f"- {LABELS[engine]}: {what}; `valuegrad.NATIVE` was {probe['native']} "
                    "in a fresh `import valuegrad`."
                )
            continue
        engines_ran = " and ".join(
            f"`valuegrad.NATIVE` was {k == 'native'} in {counts[k]} of its {counts['processes']} "
            "worker processes"
            for k in ("native", "pure")
            if counts[k]
        )
        if engine == "compiled":
            traced = (
                "the native engine" if counts["native"] and not counts["pure"] else "the plain-Python engine"
            )
            lines.append(f"- {LABELS[engine]}: {what}, traced and run by {traced} ({engines_ran}).")
        else:
            lines.append(f"- {LABELS[engine]}: {what}; {engines_ran}.")
    if "torch" in meta.get("engines", ()):
        lines.append(
            "- PyTorch: CPU, float64, one thread, eager; scalar tensors for the ops expression, "
            "the demo as batched tensors."
        )
    if "micrograd" in meta.get("engines", ()):
        lines.append(
            "- micrograd: no tanh of its own, so the ops expression uses the one from its author's lecture."
        )
    return lines


def _legend(res: dict[str, Any]) -> str:
    cfg = res["meta"].get("config") or {}
    demo = res.get("demo") or {}
    parts = []
    if res.get("ops"):
        parts.append(f"ops {cfg.get('ops_reps')} per engine")
    if demo.get("runs"):
        parts.append(
            f"demo {cfg.get('demo_reps')} per row ({cfg.get('demo_steps')} steps each; micrograd with the "
            f"collector on: {cfg.get('demo_steps_micrograd_default')})"
        )
    if res.get("chain"):
        parts.append(f"chains {cfg.get('chain_reps')}")
    if res.get("startup"):
        parts.append(f"start-up {cfg.get('startup_runs')}")
    text = (
        "Each figure is the median over fresh processes, with [the lowest–the highest] process; "
        "a figure alone is one process. Processes: " + "; ".join(parts) + "."
    )
    points = demo.get("points")
    if points and points != 100:
        text += f" The demo ran on {points} points instead of micrograd's 100."
    if demo.get("runs"):
        text += " With the collector on, a demo step includes freeing its graph."
    if lookup(demo, "runs", "compiled/default", "final_accuracy") is not None:
        text += " Compiled accuracy: with the weights after the last update."
    return text


def markdown(res: dict[str, Any]) -> str:
    """The report as Markdown: header, figures, figures relative to micrograd, agreement."""
    present = [e for e in ENGINES if e in (res["meta"].get("engines") or ENGINES)]
    lines = [*header(res), ""]
    rows = measurements(res)
    if rows:
        lines += [
            "| Measurement | " + " | ".join(LABELS[e] for e in present) + " |",
            "|---" * (len(present) + 1) + "|",
        ]
        for name, cells, scale in rows:
            lines.append(f"| {name} | " + " | ".join(figure(cells.get(e), scale) for e in present) + " |")
        lines += ["", _legend(res)]
    python = lookup(res, "startup", "python")
    if python:
        lines += ["", f'A bare interpreter (`python -c "pass"`) starts in {figure(python, 1e3)} ms.']
    reasons = lookup(res, "demo", "errors") or {}
    unavailable = lookup(res, "demo", "compiled_unavailable")
    if "compiled" in present and "compiled/default" not in (lookup(res, "demo", "runs") or {}):
        why = reasons.get("compiled/default") or unavailable
        if why and res.get("demo"):
            lines.append(f"valuegrad compiled did not run: {why.splitlines()[-1]}.")
    rel = relative(res)
    if rel:
        others = [e for e in present if e != "micrograd"]
        columns = [LABELS[e] for e in others] + ["native vs pure"]
        lines += [
            "",
            "Relative to micrograd: how many times faster than micrograd each engine is (memory: how many "
            "times less it uses); below 1, slower. The last column compares valuegrad's two engines.",
            "",
            "| Measurement | " + " | ".join(columns) + " |",
            "|---" * (len(columns) + 1) + "|",
        ]
        for name, row in rel:
            keys = [*others, "native vs pure"]
            lines.append(f"| {name} | " + " | ".join(row.get(k, "–") for k in keys) + " |")
    lines += ["", *agreement_lines(res)]
    return "\n".join(lines).rstrip() + "\n"


def agreement_lines(res: dict[str, Any]) -> list[str]:
    """What the run checked: all engines' loss histories agree; native and pure bit for bit."""
    lines = []
    agreement = lookup(res, "demo", "loss_agreement") or {}
    if agreement.get("ok"):
        lines.append(
            f"The demo's loss histories of all {len(agreement['steps_compared'])} runs agree to "
            f"{agreement['max_abs_diff']:.2g} (required: {agreement['tolerance']:g})."
        )
    elif agreement.get("ok") is False:
        lines.append(f"**The demo's loss histories disagree: {agreement.get('error')}**")
    ops_agree = lookup(res, "ops", "agreement") or {}
    if ops_agree.get("ok") is False:
        lines.append(
            f"**The engines computed different numbers on the ops expression: {ops_agree['error']}**"
        )
    checks = {
        "ops": "the ops expression's value and gradients",
        "chain": "the chain's gradient",
        "demo": "the demo's loss histories",
    }
    same = [what for part, what in checks.items() if lookup(res, part, "identical", "ok") is True]
    differ = [
        lookup(res, part, "identical", "error")
        for part in checks
        if lookup(res, part, "identical", "ok") is False
    ]
    if differ:
        lines += [f"**valuegrad native and pure gave different numbers: {error}**" for error in differ]
    elif same:
        lines.append(f"valuegrad native and pure gave identical numbers, bit for bit: {', '.join(same)}.")
    return lines
