"""The figures of one run against the project's performance goals, for a closing note.

This is kept apart from the report (`benchmarks.report`), which is what users
read: the README and the docs never speak of goals met or missed. Each goal is a
ratio of two medians of the same run, with the range that pairs the extreme
processes (the least favourable slowest-against-fastest pairing to the most
favourable one), and whether it is met.
"""

from __future__ import annotations

from typing import Any

from .report import agreement_lines, header, lookup, number

PREVIOUS_RUN = "da0f58f"
"""The full run whose figures the plain-Python engine must keep (issue 6's closing note)."""

PREVIOUS: dict[str, tuple[float, str]] = {
    # what: (figure at PREVIOUS_RUN, range over issue 6's four full runs)
    "demo_default": (11.7, "11-12.9x"),
    "demo_paused": (14.7, "14.7-17.2x"),
    "demo_notebook": (11.0, "9.76-12.1x"),
    "demo_disabled": (2.7, "2.27-3.22x"),
    "backward": (2.21, "1.55-2.21x"),
    "build": (10.4, ""),  # the closing note gives only this run's build figure
    "memory": (0.196, "0.196 in all four"),
}

IMPORT_SECONDS = 0.15
"""`import valuegrad` before the compiled engine: 0.10-0.15 s (issue 16)."""


def ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> tuple[float, float, float] | None:
    """``a / b`` of two spreads: the ratio of medians, and the lowest and highest over processes.

    >>> ratio({"median": 2.0, "min": 1.5, "max": 3.0}, {"median": 0.1, "min": 0.1, "max": 0.12})
    (20.0, 12.5, 30.0)
    """
    if not a or not b or not b.get("median") or not b.get("min"):
        return None
    return a["median"] / b["median"], a["min"] / b["max"], a["max"] / b["min"]


def _absolute(a: dict[str, Any] | None) -> tuple[float, float, float] | None:
    return None if not a else (a["median"], a["min"], a["max"])


def build_targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    """Every goal with its measured figure, range and whether it is met (None: not measured)."""
    runs = lookup(res, "demo", "runs") or {}
    ops = lookup(res, "ops", "engines") or {}
    chain = lookup(res, "chain", "engines") or {}
    start = res.get("startup") or {}

    def step(key: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = lookup(runs, key, "step_s")
        return result

    def ops_fig(engine: str, phase: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = lookup(ops, engine, f"{phase}_ns_per_op")
        return result

    def memory(engine: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = lookup(chain, engine, "small_bytes_per_node")
        return result

    mg = step("micrograd/default")
    goals: list[tuple[str, str, tuple[float, float, float] | None, str, float, str]] = []

    def goal(
        issue: str,
        name: str,
        measured: tuple[float, float, float] | None,
        op: str,
        bound: float,
        note: str = "",
    ) -> None:
        goals.append((issue, name, measured, op, bound, note))

    name = "native demo step, plain loop, default collector: micrograd / native"
    goal("16", name, ratio(mg, step("native/default")), ">=", 40.0)
    name = "native backward, ns/op on the ops expression: micrograd / native"
    goal("16", name, ratio(ops_fig("micrograd", "backward"), ops_fig("native", "backward")), ">=", 5.0)
    name = "native build, ns/op on the ops expression: micrograd / native"
    goal("16", name, ratio(ops_fig("micrograd", "forward"), ops_fig("native", "forward")), ">=", 25.0)
    name = "native memory per node: native / micrograd"
    goal("16", name, ratio(memory("native"), memory("micrograd")), "<=", 0.25)
    for engine in ("native", "pure"):
        name = f'import time, {engine}: python -c "import valuegrad" (s)'
        goal("16", name, _absolute(start.get(engine)), "<=", IMPORT_SECONDS, "0.10-0.15 s before")

    pure_goals = {
        "demo_default": (
            "pure demo step, plain loop, default collector: micrograd / pure",
            ratio(mg, step("pure/default")),
        ),
        "demo_paused": (
            "pure demo step inside gc_paused() as fit() runs it: micrograd (plain loop) / pure",
            ratio(mg, step("pure/paused")),
        ),
        "demo_notebook": (
            "pure demo step after the notebook's imports: micrograd / pure",
            ratio(step("micrograd/notebook"), step("pure/notebook")),
        ),
        "demo_disabled": (
            "pure demo step, collector disabled in both: micrograd / pure",
            ratio(step("micrograd/disabled"), step("pure/disabled")),
        ),
        "backward": (
            "pure backward, ns/op: micrograd / pure",
            ratio(ops_fig("micrograd", "backward"), ops_fig("pure", "backward")),
        ),
        "build": (
            "pure build, ns/op: micrograd / pure",
            ratio(ops_fig("micrograd", "forward"), ops_fig("pure", "forward")),
        ),
        "memory": ("pure memory per node: pure / micrograd", ratio(memory("pure"), memory("micrograd"))),
    }
    for key, (name, measured) in pure_goals.items():
        bound, before = PREVIOUS[key]
        note = f"issue 6 at {PREVIOUS_RUN}" + (f"; its four full runs: {before}" if before else "")
        goal("16", name, measured, "<=" if key == "memory" else ">=", bound, note)

    compiled = step("compiled/default")
    goal(
        "7", "compiled demo step: micrograd (default collector) / compiled", ratio(mg, compiled), ">=", 1000.0
    )
    goal(
        "7", "compiled demo step: compiled / PyTorch eager", ratio(compiled, step("torch/default")), "<=", 2.0
    )
    compile_s = _absolute(lookup(runs, "compiled/default", "compile_s"))
    goal("7", "compile time of the demo (s)", compile_s, "<", 1.0)
    out = []
    for issue, name, measured, op, bound, note in goals:
        met = None
        if measured is not None:
            m = measured[0]
            met = m >= bound if op == ">=" else m <= bound if op == "<=" else m < bound
        out.append(
            {
                "issue": issue,
                "target": name,
                "required": f"{op} {bound:g}",
                "note": note,
                "measured": None if measured is None else measured[0],
                "range": None if measured is None else [measured[1], measured[2]],
                "met": met,
            }
        )
    agreement = lookup(res, "demo", "loss_agreement") or {}
    out.append(
        {
            "issue": "6, 16",
            "target": "demo loss histories of all engines agree",
            "required": "<= 1e-6",
            "note": "",
            "measured": agreement.get("max_abs_diff"),
            "range": None,
            "met": agreement.get("ok"),
        }
    )
    checks = [lookup(res, part, "identical", "ok") for part in ("ops", "chain", "demo")]
    compared = sum(lookup(res, part, "identical", "compared") or 0 for part in ("ops", "chain", "demo"))
    out.append(
        {
            "issue": "16",
            "target": "native and pure give the same numbers bit for bit (ops, chain gradient, demo losses)",
            "required": "identical",
            "note": "",
            "measured": f"{compared} results compared" if any(c is not None for c in checks) else None,
            "range": None,
            "met": None if all(c is None for c in checks) else all(c is not False for c in checks),
        }
    )
    return out


def _measured(t: dict[str, Any]) -> str:
    m = t["measured"]
    if m is None:
        return "not measured"
    if isinstance(m, str):
        return m
    if "agree" in t["target"]:
        return f"{m:.2g}"
    unit = "" if "(s)" in t["target"] else "x"
    return f"{number(m)}{unit}"


def _range(t: dict[str, Any]) -> str:
    r = t.get("range")
    if not r:
        return ""
    unit = "" if "(s)" in t["target"] else "x"
    return f"{number(r[0])}{unit} to {number(r[1])}{unit}"


def _mode_warning(res: dict[str, Any]) -> list[str]:
    mode = res["meta"].get("mode")
    if mode == "full":
        return []
    return [f"**{mode.capitalize()} mode: smaller sizes and fewer processes than the full run.**", ""]


def targets_markdown(res: dict[str, Any]) -> str:
    """The goals table of one run, for a closing note (not for users: see the module's docstring)."""
    lines = [
        "# Benchmark figures against the performance targets",
        "",
        *header(res),
        "",
        *_mode_warning(res),
        "Ratios of medians from this one run; the range pairs the extreme processes (a ratio's "
        "least and most favourable pairing). Timing ratios are micrograd's time over the engine's: "
        "above 1, faster. Memory ratios are the engine's bytes over micrograd's.",
        "",
        "| Issue | Target | Required | Measured | Range across processes | Met | Previous figures |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in res["targets"]:
        met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
        lines.append(
            f"| {t['issue']} | {t['target']} | {t['required']} | {_measured(t)} | {_range(t)} | {met} "
            f"| {t.get('note', '')} |"
        )
    lines += ["", *agreement_lines(res)]
    problems = res.get("problems") or []
    if problems:
        lines += ["", "Problems in this run:", *[f"- {p}" for p in problems]]
    return "\n".join(lines).rstrip() + "\n"
