"""valuegrad's benchmark suite: valuegrad, micrograd and PyTorch side by side, in one run.

    python -m benchmarks            # the full suite (8 to 13 minutes on 2 cores)
    python -m benchmarks --quick    # under a minute, smaller sizes, fewer repetitions
    python -m benchmarks --tiny     # seconds: checks that everything runs (used by the tests)

Every measurement runs in a fresh worker process (`benchmarks.worker`) that imports
only the engine it measures, and the engines take turns within each repetition,
so one engine's import or garbage never bills another and slow drifts of a noisy
machine hit all engines alike. Reported values are medians over repetitions
(per-step times: the median of each process's median). Ratios are valuegrad's
value divided by the other engine's (below 1: valuegrad is faster or smaller).

What is measured:

1. Op throughput: an expression of ~100,000 ops mixing ``+ * tanh`` (chains of
   ``v = tanh(v * w + c)`` added up by a balanced tree, depth ~40), built (timed)
   then backpropagated (timed): ns per op node. PyTorch builds the same expression
   from scalar float64 tensors. micrograd has no tanh: it gets the one from its
   author's lecture, written the micrograd way (a closure per node). The engines
   must agree on the value and on the leaves' gradients.
2. micrograd's demo: two moons (100 points, noise 0.1), ``MLP(2, [16, 16, 1])``
   (relu hidden, linear output), loss ``mean(relu(1 - y*score)) + 1e-4 * sum(p*p)``,
   full-batch SGD with ``lr = 1.0 - 0.9*k/100``, every engine starting from the same
   weights (micrograd's own initial MLP). Seconds per step (forward, zero_grad,
   backward, update) with Python's default collector ("as users run it") and with
   ``gc.disable()`` during the steps (garbage collected between steps, untimed: the
   pure interpreter work); PyTorch eager (float64, one thread); compiled valuegrad.
   valuegrad also runs each step inside ``gc_paused()``, as ``fit()`` does; and both
   Value engines run once more with the collector on after importing what micrograd's
   demo notebook imports (numpy, matplotlib.pyplot), as in a user's session.
   All loss histories must agree to 1e-6, or the run fails.
3. A chain of 1,000,000 nodes (alternating ``v * w`` and ``v + b``): valuegrad's
   build and backward time per node and bytes per node (tracemalloc);
   micrograd's bytes per node on a 500-node chain (with valuegrad's on the same
   chain for the ratio) and the chain length at which its recursive backward
   raises RecursionError.
4. Start-up: ``python -c "import valuegrad"`` against micrograd, torch and a bare
   interpreter.

The compiled row. If ``benchmarks/demo_compiled.py`` exists and ``valuegrad.compiler``
is importable, the demo also runs compiled valuegrad through this interface::

    make_step(weights: list[float], X: list[list[float]], y: list[int]) -> Callable[[int], float]

``weights`` are the 337 initial parameters in micrograd's ``parameters()`` order
(layer by layer, neuron by neuron, each neuron's weights then its bias), ``X`` the
100 points, ``y`` their labels (-1 or +1). The returned ``step(k)`` does training
step ``k`` in place (forward, backward, SGD update with ``lr = 1.0 - 0.9*k/100``) and
returns that step's loss (computed before the update) as a float. Optionally
``step.accuracy()`` returns the accuracy with the current weights. The
time of ``make_step`` is reported as compile time, and the memory it keeps
(tracemalloc, a second call) as the compiled graph's memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from .agreement import DisagreementError, check_loss_histories, check_same_results
from .demo_data import initial_weights, moons
from .worker import PREFIX

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"
ENGINES = ("valuegrad", "micrograd", "torch")


@dataclass(frozen=True)
class Config:
    """Sizes and repetitions of one mode."""

    ops_n: int
    ops_reps: int
    demo_steps: int
    demo_steps_micrograd_default: int  # micrograd with the collector on costs ~2 s a step
    demo_reps: int
    chain_n: int
    chain_reps: int
    small_chain_n: int
    startup_runs: int
    compiled_memory: bool = True  # tracemalloc over a second compilation


MODES = {
    "full": Config(100_000, 9, 100, 30, 3, 1_000_000, 3, 500, 7),
    "quick": Config(20_000, 2, 6, 2, 1, 100_000, 1, 500, 2),
    "tiny": Config(400, 1, 2, 1, 1, 2_000, 1, 100, 1, compiled_memory=False),
}


# ---------------------------------------------------------------------------
# Running things
# ---------------------------------------------------------------------------


class WorkerError(RuntimeError):
    """A worker process failed."""


def _env() -> dict[str, str]:
    """The environment of worker processes: this checkout's benchmarks (and src/) importable."""
    env = dict(os.environ)
    paths = [str(ROOT)]
    if (ROOT / "src" / "valuegrad").is_dir():
        paths.append(str(ROOT / "src"))
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def run_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one task in a fresh Python process and return its JSON result."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=ROOT,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
        raise WorkerError(f"worker {spec.get('task')}/{spec.get('engine')} failed:\n{tail}")
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(PREFIX):
            result: dict[str, Any] = json.loads(line[len(PREFIX) :])
            return result
    raise WorkerError(
        f"worker {spec.get('task')}/{spec.get('engine')} printed no result:\n{proc.stdout[-500:]}"
    )


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def rotations(items: list[Any], rep: int) -> list[Any]:
    """``items`` started at a different place each repetition, so no engine always goes first."""
    k = rep % len(items) if items else 0
    return items[k:] + items[:k]


def median(xs: Iterable[float]) -> float | None:
    xs = list(xs)
    return statistics.median(xs) if xs else None


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# The four benchmarks
# ---------------------------------------------------------------------------


def bench_startup(cfg: Config, engines: list[str]) -> dict[str, Any]:
    """Wall time of ``python -c "import X"`` in a fresh process, median of several runs."""
    commands = {"python": "pass"} | {e: f"import {e}" for e in engines}
    times: dict[str, list[float]] = {name: [] for name in commands}
    env = _env()
    with tempfile.TemporaryDirectory() as cwd:
        for rep in range(cfg.startup_runs):
            for name in rotations(list(commands), rep):
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-c", commands[name]], check=True, env=env, cwd=cwd)
                times[name].append(time.perf_counter() - t0)
    return {
        name: {"median_s": median(ts), "runs_s": ts, "command": commands[name]} for name, ts in times.items()
    }


def bench_ops(cfg: Config, engines: list[str]) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    for rep in range(cfg.ops_reps):
        for engine in rotations(engines, rep):
            _log(f"  ops rep {rep + 1}/{cfg.ops_reps}: {engine}")
            runs[engine].append(run_worker({"task": "ops", "engine": engine, "n_ops": cfg.ops_n}))
    check_same_results({e: r[0] for e, r in runs.items()}, ["value", "grad_sum_abs", "grad_first"])
    out: dict[str, Any] = {"agree": True, "engines": {}}
    for engine, rs in runs.items():
        out["n_ops"] = rs[0]["n_ops"]
        out["shape"] = {"chains": rs[0]["chains"], "chain_steps": rs[0]["chain_steps"]}
        out["engines"][engine] = {
            "forward_ns_per_op": median(r["forward_ns_per_op"] for r in rs),
            "backward_ns_per_op": median(r["backward_ns_per_op"] for r in rs),
            "reps": rs,
        }
    return out


def bench_chain(cfg: Config, engines: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": cfg.chain_n, "small_n": cfg.small_chain_n}
    if "valuegrad" in engines:
        reps = []
        for rep in range(cfg.chain_reps):
            _log(f"  chain rep {rep + 1}/{cfg.chain_reps}: valuegrad, {cfg.chain_n:,} nodes")
            reps.append(run_worker({"task": "chain_time", "engine": "valuegrad", "n": cfg.chain_n}))
        out["valuegrad_time"] = {
            "build_ns_per_node": median(r["build_ns_per_node"] for r in reps),
            "backward_ns_per_node": median(r["backward_ns_per_node"] for r in reps),
            "reps": reps,
        }
        _log("  chain memory: valuegrad")
        out["valuegrad_memory"] = run_worker(
            {"task": "chain_memory", "engine": "valuegrad", "n": cfg.chain_n}
        )
        out["valuegrad_memory_small"] = run_worker(
            {"task": "chain_memory", "engine": "valuegrad", "n": cfg.small_chain_n}
        )
    if "micrograd" in engines:
        _log("  chain memory and failure depth: micrograd")
        out["micrograd_memory_small"] = run_worker(
            {"task": "chain_memory", "engine": "micrograd", "n": cfg.small_chain_n}
        )
        out["micrograd_failure"] = run_worker(
            {"task": "failure_depth", "engine": "micrograd", "max_n": 20_000}
        )
    return out


def bench_demo(cfg: Config, engines: list[str], data_path: str) -> dict[str, Any]:
    from .workloads import compiled_available, notebook_modules_missing

    plan: list[tuple[str, str, int]] = []
    for engine in ("valuegrad", "micrograd"):
        if engine in engines:
            default_steps = cfg.demo_steps_micrograd_default if engine == "micrograd" else cfg.demo_steps
            plan += [(engine, "default", default_steps), (engine, "disabled", cfg.demo_steps)]
            if engine == "valuegrad":
                plan.append((engine, "paused", cfg.demo_steps))
            if not notebook_modules_missing():
                plan.append((engine, "notebook", default_steps))
    if "torch" in engines:
        plan.append(("torch", "default", cfg.demo_steps))
    why_not = compiled_available() if "valuegrad" in engines else "valuegrad is not installed"
    if why_not is None:
        plan.append(("compiled", "default", cfg.demo_steps))
    runs: dict[str, list[dict[str, Any]]] = {f"{e}/{g}": [] for e, g, _ in plan}
    errors: dict[str, str] = {}
    for rep in range(cfg.demo_reps):
        for engine, gc_mode, steps in rotations(plan, rep):
            key = f"{engine}/{gc_mode}"
            if key in errors:
                continue
            _log(f"  demo rep {rep + 1}/{cfg.demo_reps}: {key}, {steps} steps")
            spec = {
                "task": "demo",
                "engine": engine,
                "gc": gc_mode,
                "steps": steps,
                "data_path": data_path,
                "measure_memory": cfg.compiled_memory,
            }
            try:
                runs[key].append(run_worker(spec))
            except WorkerError as e:
                if engine != "compiled":
                    raise
                errors[key] = str(e)
                _log(f"  compiled demo failed: {e}")
    out: dict[str, Any] = {"runs": {}, "compiled_unavailable": why_not, "errors": errors}
    for key, rs in runs.items():
        if not rs:
            continue
        full = max(rs, key=lambda r: len(r["losses"]))
        summary = {
            "step_s": statistics.median(statistics.median(r["step_s"]) for r in rs),
            "steps": len(full["losses"]),
            "reps": len(rs),
            "final_accuracy": full["final_accuracy"],
            "first_loss": full["losses"][0],
            "final_loss": full["losses"][-1],
            "model": full.get("model"),
            "nodes_per_step": full.get("nodes_per_step"),
            "phases_s": {
                phase: statistics.median(r[phase] for r in rs)
                for phase in ("forward_s", "backward_s", "update_s")
                if phase in full
            },
            "per_rep_median_step_s": [statistics.median(r["step_s"]) for r in rs],
            "losses": full["losses"],
        }
        if key.startswith("compiled"):
            summary["compile_s"] = median(r["compile_s"] for r in rs)
            summary["compiled_bytes"] = full.get("compiled_bytes")
            summary["compile_peak_bytes"] = full.get("compile_peak_bytes")
        out["runs"][key] = summary
    histories = {f"{key}#{i}": r["losses"] for key, rs in runs.items() for i, r in enumerate(rs)}
    try:
        if len(histories) < 2:
            out["loss_agreement"] = {"ok": None, "error": "fewer than two runs: nothing to compare"}
        else:
            out["loss_agreement"] = check_loss_histories(histories)
    except DisagreementError as e:
        out["loss_agreement"] = {"ok": False, "error": str(e)}
    return out


# ---------------------------------------------------------------------------
# The report: rows, targets, Markdown
# ---------------------------------------------------------------------------


def _get(d: Any, *keys: Any) -> Any:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


NOTEBOOK_METRIC = "demo step, default GC, after importing numpy and matplotlib.pyplot, as the demo notebook"


def build_rows(res: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (engine, metric): value, unit, and valuegrad's value divided by it."""
    rows: list[dict[str, Any]] = []

    def row(
        engine: str, metric: str, value: Any, unit: str, vg: float | None = None, kind: str = "time"
    ) -> None:
        rows.append(
            {
                "engine": engine,
                "metric": metric,
                "value": value,
                "unit": unit,
                "ratio": _ratio(vg, value) if isinstance(value, (int, float)) else None,
                "kind": kind,
            }
        )

    ops = res.get("ops") or {}
    n_ops = ops.get("n_ops")
    for phase in ("forward", "backward"):
        vg = _get(ops, "engines", "valuegrad", f"{phase}_ns_per_op")
        for engine, r in (ops.get("engines") or {}).items():
            what = "build" if phase == "forward" else "backward"
            row(engine, f"ops: {what} ({n_ops:,} ops of + * tanh)", r[f"{phase}_ns_per_op"], "ns/op", vg)

    demo = res.get("demo") or {}
    runs = demo.get("runs") or {}
    vg_default = _get(runs, "valuegrad/default", "step_s")
    vg_disabled = _get(runs, "valuegrad/disabled", "step_s")
    labels = {
        "valuegrad/default": ("valuegrad", "demo step, default GC", vg_default),
        "micrograd/default": ("micrograd", "demo step, default GC", vg_default),
        "valuegrad/paused": (
            "valuegrad",
            "demo step, default GC, step in gc_paused() as fit() runs it",
            vg_default,
        ),
        "valuegrad/notebook": ("valuegrad", NOTEBOOK_METRIC, _get(runs, "valuegrad/notebook", "step_s")),
        "micrograd/notebook": ("micrograd", NOTEBOOK_METRIC, _get(runs, "valuegrad/notebook", "step_s")),
        "valuegrad/disabled": ("valuegrad", "demo step, GC disabled", vg_disabled),
        "micrograd/disabled": ("micrograd", "demo step, GC disabled", vg_disabled),
        "torch/default": ("torch", "demo step (eager, float64, 1 thread)", vg_default),
        "compiled/default": ("valuegrad compiled", "demo step", vg_default),
    }
    for key, (engine, metric, vg) in labels.items():
        if key in runs:
            row(engine, metric, runs[key]["step_s"], "s/step", vg)
            reps, steps = runs[key]["reps"], runs[key]["steps"]
            rows[-1]["note"] = f"{reps} run{'s' if reps > 1 else ''} × {steps} steps"
        elif key == "compiled/default":
            reason = _get(demo, "errors", key) or demo.get("compiled_unavailable") or "not run"
            row(engine, metric, "not available", "", kind="text")
            rows[-1]["note"] = reason.splitlines()[-1]
    if "compiled/default" in runs:
        r = runs["compiled/default"]
        row("valuegrad compiled", "demo: compile time", r["compile_s"], "s", kind="info")
        if r.get("compiled_bytes") is not None:
            row(
                "valuegrad compiled",
                "demo: memory kept by the compiled step",
                r["compiled_bytes"],
                "bytes",
                kind="info",
            )
    for engine_key in ("valuegrad", "micrograd", "torch", "compiled"):
        mine = [r for key, r in runs.items() if key.split("/")[0] == engine_key]
        if not mine:
            continue
        r = max(mine, key=lambda r: r["steps"])
        engine = labels[f"{engine_key}/default"][0]
        acc = r["final_accuracy"]
        value = f"{acc:.0%} after {r['steps']} steps" if acc is not None else f"n/a ({r['steps']} steps)"
        if engine_key == "compiled" and acc is not None:
            value += " (with the weights after the last update)"
        row(engine, "demo: final accuracy", value, "", kind="text")
    for key in ("valuegrad/default", "micrograd/default", "valuegrad/disabled", "micrograd/disabled"):
        phases = _get(runs, key, "phases_s")
        if phases:
            text = ", ".join(f"{name[:-2]} {_fmt_value(t, 's')}" for name, t in phases.items())
            row(labels[key][0], f"{labels[key][1]}: step phases", text, "", kind="text")
    for key in ("valuegrad/default", "micrograd/default"):
        if _get(runs, key, "nodes_per_step"):
            row(labels[key][0], "demo: Values built per step", runs[key]["nodes_per_step"], "", kind="info")

    chain = res.get("chain") or {}
    n = chain.get("n")
    small = chain.get("small_n")
    if "valuegrad_time" in chain:
        t = chain["valuegrad_time"]
        row("valuegrad", f"chain of {n:,}: build", t["build_ns_per_node"], "ns/node", kind="info")
        row("valuegrad", f"chain of {n:,}: backward", t["backward_ns_per_node"], "ns/node", kind="info")
        row(
            "valuegrad",
            f"chain of {n:,}: memory",
            chain["valuegrad_memory"]["bytes_per_node"],
            "bytes/node",
            kind="info",
        )
    vg_small = _get(chain, "valuegrad_memory_small", "bytes_per_node")
    if vg_small is not None:
        row("valuegrad", f"chain of {small:,}: memory", vg_small, "bytes/node", vg_small, kind="bytes")
    mg_small = _get(chain, "micrograd_memory_small", "bytes_per_node")
    if mg_small is not None:
        row("micrograd", f"chain of {small:,}: memory", mg_small, "bytes/node", vg_small, kind="bytes")
    fail = chain.get("micrograd_failure")
    if fail:
        depth = fail.get("failure_depth")
        text = f"RecursionError at {depth:,} ops" if depth else f"no failure up to {fail['works_up_to']:,}"
        row("micrograd", "chain: backward fails at length", text, "", kind="text")
        if n:
            row("valuegrad", "chain: backward fails at length", f"none (ran {n:,} ops)", "", kind="text")

    start = res.get("startup") or {}
    vg_start = _get(start, "valuegrad", "median_s")
    for name, r in start.items():
        engine = "python (bare)" if name == "python" else name
        row(engine, f'start-up: python -c "{r["command"]}"', r["median_s"], "s", vg_start)
    return rows


def build_targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets of issues 6 and 7, each with its measured ratio and whether it is met."""
    runs = _get(res, "demo", "runs") or {}

    def step(key: str) -> float | None:
        return _get(runs, key, "step_s")

    mg_def, vg_def = step("micrograd/default"), step("valuegrad/default")
    vg_paused = step("valuegrad/paused")
    mg_dis, vg_dis = step("micrograd/disabled"), step("valuegrad/disabled")
    comp, torch_s = step("compiled/default"), step("torch/default")
    ops = _get(res, "ops", "engines") or {}
    chain = res.get("chain") or {}
    targets = [
        ("6", "demo step, default GC: micrograd / valuegrad", _ratio(mg_def, vg_def), ">=", 15.0),
        (
            "6",
            "demo step, default GC: micrograd / valuegrad as fit() runs it",
            _ratio(mg_def, vg_paused),
            ">=",
            15.0,
        ),
        (
            "6",
            "demo step, default GC, with the demo notebook's imports: micrograd / valuegrad",
            _ratio(step("micrograd/notebook"), step("valuegrad/notebook")),
            ">=",
            15.0,
        ),
        ("6", "demo step, GC disabled in both: micrograd / valuegrad", _ratio(mg_dis, vg_dis), ">=", 2.0),
        (
            "6",
            "backward ns/op: micrograd / valuegrad",
            _ratio(
                _get(ops, "micrograd", "backward_ns_per_op"), _get(ops, "valuegrad", "backward_ns_per_op")
            ),
            ">=",
            2.0,
        ),
        (
            "6",
            "memory per node: valuegrad / micrograd",
            _ratio(
                _get(chain, "valuegrad_memory_small", "bytes_per_node"),
                _get(chain, "micrograd_memory_small", "bytes_per_node"),
            ),
            "<=",
            0.5,
        ),
        ("7", "demo step: micrograd (default GC) / compiled valuegrad", _ratio(mg_def, comp), ">=", 1000.0),
        ("7", "demo step: compiled valuegrad / PyTorch eager", _ratio(comp, torch_s), "<=", 2.0),
        ("7", "demo: compile time (s)", _get(runs, "compiled/default", "compile_s"), "<", 1.0),
    ]
    out = []
    for issue, name, measured, op, bound in targets:
        met = (
            None
            if measured is None
            else (measured >= bound if op == ">=" else measured <= bound if op == "<=" else measured < bound)
        )
        out.append(
            {"issue": issue, "target": name, "required": f"{op} {bound:g}", "measured": measured, "met": met}
        )
    agreement = _get(res, "demo", "loss_agreement") or {}
    out.append(
        {
            "issue": "6, 7",
            "target": "loss histories of all engines agree",
            "required": "<= 1e-6",
            "measured": agreement.get("max_abs_diff"),
            "met": agreement.get("ok"),
        }
    )
    return out


def _fmt_value(value: Any, unit: str) -> str:
    if isinstance(value, str):
        return value
    if unit in ("s", "s/step"):
        suffix = "/step" if unit == "s/step" else ""
        if value < 1e-2:
            return f"{value * 1e3:.3g} ms{suffix}"
        return f"{value:.3g} s{suffix}"
    if unit == "bytes":
        return f"{value / 1e6:.2f} MB"
    if isinstance(value, int) or abs(value) >= 100:
        return f"{value:,.0f} {unit}".strip()
    return f"{value:.3g} {unit}".strip()


def _fmt_ratio(r: dict[str, Any]) -> str:
    ratio = r["ratio"]
    if ratio is None:
        return ""
    if r["engine"] == "valuegrad":
        return "1"
    if r["engine"] == "valuegrad compiled":
        if ratio >= 1:
            return f"{ratio:.3g} (compiled {ratio:.3g}x faster than eager)"
        return f"{ratio:.3g} (compiled {1 / ratio:.3g}x slower than eager)"
    better, worse = ("less memory", "more memory") if r["kind"] == "bytes" else ("faster", "slower")
    if ratio <= 1:
        return f"{ratio:.3g} (valuegrad {1 / ratio:.3g}x {better})"
    return f"{ratio:.3g} (valuegrad {ratio:.3g}x {worse})"


def _fmt_measured(t: dict[str, Any]) -> str:
    m = t["measured"]
    if m is None:
        return "not measured"
    if "agree" in t["target"]:
        return f"{m:.2g}"
    if "time" in t["target"]:
        return f"{m:.3g} s"
    return f"{m:,.0f}x" if m >= 100 else f"{m:.3g}x"


def markdown(res: dict[str, Any]) -> str:
    meta = res["meta"]
    lines = [
        f"valuegrad benchmarks, mode `{meta['mode']}`, {meta['date']}: Python {meta['python']}, "
        f"{meta['machine']}, {meta['cpu_count']} cores. Versions: "
        + ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
        + (f" (valuegrad at git {meta['git']})" if meta.get("git") else "")
        + ".",
        "",
        "| Engine | Metric | Value | valuegrad / engine |",
        "|---|---|---|---|",
    ]
    for r in res["rows"]:
        value = _fmt_value(r["value"], r["unit"])
        if r.get("note"):
            value += f" ({r['note']})"
        lines.append(f"| {r['engine']} | {r['metric']} | {value} | {_fmt_ratio(r)} |")
    lines += [
        "",
        "valuegrad / engine: valuegrad's figure divided by that engine's (below 1: valuegrad is faster or"
        " smaller). Medians over runs, each run in a fresh process, engines taking turns.",
        "",
        "| Issue | Target | Required | Measured | Met |",
        "|---|---|---|---|---|",
    ]
    for t in res["targets"]:
        met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
        lines.append(f"| {t['issue']} | {t['target']} | {t['required']} | {_fmt_measured(t)} | {met} |")
    agreement = _get(res, "demo", "loss_agreement") or {}
    lines.append("")
    if agreement.get("ok"):
        lines.append(
            f"Loss histories: {len(agreement['steps_compared'])} runs agree with `{agreement['reference']}` "
            f"to {agreement['max_abs_diff']:.2g} (tolerance {agreement['tolerance']:g})."
        )
    elif agreement.get("ok") is False:
        lines.append(f"**LOSS HISTORIES DISAGREE: {agreement.get('error')}**")
    elif agreement:
        lines.append(f"Loss histories not compared: {agreement.get('error')}.")
    lines.append(f"Command: `{meta['command']}`")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def _versions(engines: list[str]) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for e in engines:
        try:
            out[e] = version(e)
        except PackageNotFoundError:
            out[e] = "unknown"
    return out


def _git_state() -> str | None:
    """This checkout's commit, marked "+ local changes" when src/ differs from it (None outside git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + (" + local changes" if dirty.stdout.strip() else "")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark valuegrad against micrograd and PyTorch; print a Markdown table, write JSON.",
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="smaller sizes and fewer repetitions (under a minute)"
    )
    size.add_argument(
        "--tiny", action="store_true", help="minimal sizes: checks that everything runs (seconds)"
    )
    p.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"JSON results file (default: {DEFAULT_OUT})"
    )
    p.add_argument("--markdown", type=Path, help="also write the Markdown report to this file")
    p.add_argument(
        "--only", nargs="+", choices=["startup", "ops", "chain", "demo"], help="run only these parts"
    )
    p.add_argument("--engines", nargs="+", choices=ENGINES, help="measure only these engines (default: all)")
    p.add_argument("--reps", type=int, help="repetitions of every timed part (overrides the mode's)")
    p.add_argument("--demo-steps", type=int, help="training steps per demo run (overrides the mode's)")
    return p.parse_args(argv)


def _config(mode: str, args: argparse.Namespace) -> Config:
    cfg = asdict(MODES[mode])
    if args.reps is not None:
        if args.reps < 1:
            raise SystemExit("--reps must be at least 1")
        cfg |= {"ops_reps": args.reps, "demo_reps": args.reps, "chain_reps": args.reps}
    if args.demo_steps is not None:
        if args.demo_steps < 1:
            raise SystemExit("--demo-steps must be at least 1")
        cfg["demo_steps"] = args.demo_steps
        cfg["demo_steps_micrograd_default"] = min(args.demo_steps, cfg["demo_steps_micrograd_default"])
    return Config(**cfg)


def _run_demo(cfg: Config, engines: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        X, y = moons(100, noise=0.1)
        weights, source = initial_weights()
        data_path = str(Path(tmp) / "demo.json")
        Path(data_path).write_text(json.dumps({"X": X, "y": y, "weights": weights}))
        return bench_demo(cfg, engines, data_path) | {"weights_from": source}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "quick" if args.quick else "tiny" if args.tiny else "full"
    cfg = _config(mode, args)
    wanted = args.engines or list(ENGINES)
    engines = [e for e in wanted if installed(e)]
    missing = [e for e in wanted if e not in engines]
    if missing:
        _log(f"not installed, skipped: {', '.join(missing)} (pip install 'valuegrad[bench]')")
    parts = {
        "startup": ("start-up", lambda: bench_startup(cfg, engines)),
        "ops": ("op throughput", lambda: bench_ops(cfg, engines)),
        "chain": ("chains", lambda: bench_chain(cfg, engines)),
        "demo": ("micrograd's demo", lambda: _run_demo(cfg, engines)),
    }
    selected = args.only or list(parts)
    part_seconds: dict[str, float] = {}
    res: dict[str, Any] = {
        "meta": {
            "mode": mode,
            "command": " ".join(["python -m benchmarks", *(sys.argv[1:] if argv is None else argv)]),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "python": platform.python_version(),
            "machine": f"{platform.system()} {platform.machine()}",
            "cpu_count": os.cpu_count(),
            "versions": _versions(engines),
            "git": _git_state(),
            "config": asdict(cfg),
            "engines": engines,
            "part_seconds": part_seconds,
        }
    }
    problems = []
    started = time.perf_counter()
    for name in selected:
        title, run = parts[name]
        _log(f"{title} ...")
        t0 = time.perf_counter()
        try:
            res[name] = run()
        except DisagreementError as e:  # the op-throughput engines computed different numbers
            res[name] = {"agree": False, "error": str(e)}
            problems.append(f"ENGINES DISAGREE ({title}): {e}")
        part_seconds[name] = round(time.perf_counter() - t0, 1)
    demo = res.get("demo") or {}
    if demo and demo["loss_agreement"]["ok"] is False:
        problems.append(f"LOSS HISTORIES DISAGREE: {demo['loss_agreement']['error']}")
    for key, error in (demo.get("errors") or {}).items():
        problems.append(f"{key} FAILED: {error}")
    res["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    res["rows"] = build_rows(res)
    res["targets"] = build_targets(res)
    res["ok"] = not problems
    res["problems"] = problems
    report = markdown(res)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1) + "\n")
    if args.markdown:
        args.markdown.write_text(report)
    for problem in problems:
        _log(problem)
    _log(f"wrote {args.out} ({res['meta']['seconds']} s)")
    return 1 if problems else 0
