"""valuegrad's benchmark suite: valuegrad's engines, micrograd and PyTorch side by side, in one run.

    python -m benchmarks            # the full suite (10 to 15 minutes on 2 cores)
    python -m benchmarks --quick    # about a minute, smaller sizes, fewer repetitions
    python -m benchmarks --tiny     # seconds: checks that everything runs (used by the tests)

The engines (see `benchmarks.engines`): valuegrad native (the engine files compiled
by Cython), valuegrad pure (the same files as plain Python, ``VALUEGRAD_PURE_PYTHON=1``),
valuegrad compiled (``valuegrad.compile``), micrograd 0.1.0 and PyTorch. Before
measuring, and in every worker, the runner checks that the native row runs the
compiled engine and the pure row the plain-Python one; it refuses the run (exit
status 2) rather than mislabel a row.

Every measurement runs in a fresh worker process (`benchmarks.worker`) that imports
only the engine it measures, and the engines take turns within each repetition,
so one engine's import or garbage never bills another and slow drifts of a noisy
machine hit all engines alike. Each figure is the median over processes (per-step
times: the median of each process's median), with the lowest and highest process.

What is measured:

1. Op throughput: an expression of ~100,000 ops mixing ``+ * tanh`` (chains of
   ``v = tanh(v * w + c)`` added up by a balanced tree, depth ~40), built (timed)
   then backpropagated (timed): ns per op node. PyTorch builds the same expression
   from scalar float64 tensors. micrograd has no tanh: it gets the one from its
   author's lecture, written the micrograd way (a closure per node). The engines
   must agree on the value and on the leaves' gradients, and valuegrad's native and
   pure engines must agree bit for bit.
2. micrograd's demo: two moons (100 points, noise 0.1), ``MLP(2, [16, 16, 1])``
   (relu hidden, linear output), loss ``mean(relu(1 - y*score)) + 1e-4 * sum(p*p)``,
   full-batch SGD with ``lr = 1.0 - 0.9*k/100``, every engine starting from the same
   weights (micrograd's own initial MLP). Seconds per step (forward, zero_grad,
   backward, update) with Python's default collector ("as users run it") and with
   ``gc.disable()`` during the steps (garbage collected between steps, untimed: the
   pure interpreter work); PyTorch eager (float64, one thread); compiled valuegrad.
   valuegrad also runs each step inside ``gc_paused()``, as ``fit()`` does; and the
   Value engines run once more with the collector on after importing what micrograd's
   demo notebook imports (numpy, matplotlib.pyplot), as in a user's session.
   All loss histories must agree to 1e-6, and native's and pure's bit for bit, or the
   run fails.
3. A chain of 1,000,000 nodes (alternating ``v * w`` and ``v + b``): valuegrad's
   build and backward time per node and bytes per node (tracemalloc);
   micrograd's bytes per node on a 500-node chain (with valuegrad's on the same
   chain for the ratio) and the chain length at which its recursive backward
   raises RecursionError.
4. Start-up: ``python -c "import valuegrad"`` with each engine, against micrograd,
   torch and a bare interpreter.

The report (stdout, and ``--markdown``) is the user-facing table; the figures
against the project's goals go to a separate file (``--targets``, by default
beside the JSON), made by `benchmarks.targets`.

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

from .agreement import DisagreementError, check_identical, check_loss_histories, check_same_results
from .demo_data import initial_weights, moons
from .engines import (
    ENGINES,
    LABELS,
    ROOT,
    SCALAR_ENGINES,
    EngineMismatchError,
    check_engines,
    check_result,
    expand,
    module_of,
    worker_env,
)
from .report import lookup, markdown
from .targets import build_targets, targets_markdown
from .worker import PREFIX

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"
EAGER = ("native", "pure")
"""valuegrad's two eager engines: one source, compiled or plain Python."""


@dataclass(frozen=True)
class Config:
    """Sizes and repetitions of one mode."""

    ops_n: int
    ops_reps: int
    demo_steps: int
    demo_steps_micrograd_default: int  # micrograd with the collector on costs ~1.3-2 s a step
    demo_reps: int
    chain_n: int
    chain_reps: int
    small_chain_n: int
    startup_runs: int
    demo_points: int = 100  # micrograd's demo: 100 points (fewer only to check that all runs)
    failure_max_n: int = 20_000  # the longest chain tried when looking for micrograd's failure
    notebook: bool = True  # the demo after the notebook's imports (matplotlib: ~1 s a process)
    compiled_memory: bool = True  # tracemalloc over a second compilation


MODES = {
    "full": Config(
        ops_n=100_000, ops_reps=9, demo_steps=100, demo_steps_micrograd_default=30, demo_reps=3,
        chain_n=1_000_000, chain_reps=3, small_chain_n=500, startup_runs=7,
    ),
    "quick": Config(
        ops_n=20_000, ops_reps=2, demo_steps=6, demo_steps_micrograd_default=2, demo_reps=1,
        chain_n=50_000, chain_reps=2, small_chain_n=500, startup_runs=2,
    ),
    "tiny": Config(
        ops_n=400, ops_reps=1, demo_steps=2, demo_steps_micrograd_default=1, demo_reps=1,
        chain_n=2_000, chain_reps=1, small_chain_n=100, startup_runs=1,
        demo_points=12, failure_max_n=2_000, notebook=False, compiled_memory=False,
    ),
}  # fmt: skip


# ---------------------------------------------------------------------------
# Running things
# ---------------------------------------------------------------------------


class WorkerError(RuntimeError):
    """A worker process failed."""


WORKERS: dict[str, dict[str, int]] = {}
"""Per engine: how many worker processes ran, and how many reported each valuegrad engine."""


def _tally(engine: str, result: dict[str, Any]) -> None:
    counts = WORKERS.setdefault(engine, {"processes": 0, "native": 0, "pure": 0})
    counts["processes"] += 1
    ran = result.get("valuegrad_native")
    if ran is not None:
        counts["native" if ran else "pure"] += 1


def run_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one task in a fresh Python process and return its JSON result.

    The process's environment selects the engine (`benchmarks.engines.worker_env`);
    a result from another valuegrad engine than the row's raises `EngineMismatchError`.
    """
    engine = spec.get("engine", "")
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=worker_env(engine),
        cwd=ROOT,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
        raise WorkerError(f"worker {spec.get('task')}/{engine} failed:\n{tail}")
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(PREFIX):
            result: dict[str, Any] = json.loads(line[len(PREFIX) :])
            _tally(engine, result)
            check_result(engine, result)
            return result
    raise WorkerError(f"worker {spec.get('task')}/{engine} printed no result:\n{proc.stdout[-500:]}")


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def rotations(items: list[Any], rep: int) -> list[Any]:
    """``items`` started at a different place each repetition, so no engine always goes first."""
    k = rep % len(items) if items else 0
    return items[k:] + items[:k]


def spread(values: Iterable[float]) -> dict[str, Any]:
    """Median, lowest and highest of per-process figures, and the figures themselves.

    >>> spread([3.0, 1.0, 2.0])
    {'median': 2.0, 'min': 1.0, 'max': 3.0, 'runs': [3.0, 1.0, 2.0]}
    """
    xs = [float(v) for v in values]
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "runs": xs}


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _identical(named: dict[str, Any], what: str) -> dict[str, Any]:
    """`check_identical` as a summary: ok True/False (None when fewer than two to compare)."""
    if len(named) < 2:
        return {"ok": None, "compared": len(named)}
    try:
        return {"ok": True, "compared": check_identical(named, what)}
    except DisagreementError as e:
        return {"ok": False, "compared": len(named), "error": str(e)}


# ---------------------------------------------------------------------------
# The four benchmarks
# ---------------------------------------------------------------------------


def bench_startup(cfg: Config, engines: list[str], probes: dict[str, Any]) -> dict[str, Any]:
    """Wall time of ``python -c "import X"`` in a fresh process, with each engine's environment."""
    commands = {"python": "pass"} | {e: f"import {module_of(e)}" for e in engines if e != "compiled"}
    times: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory() as cwd:
        for rep in range(cfg.startup_runs):
            for name in rotations(list(commands), rep):
                env = worker_env(name if name in ENGINES else None)
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-c", commands[name]], check=True, env=env, cwd=cwd)
                times[name].append(time.perf_counter() - t0)
    return {
        name: spread(ts)
        | {"command": f'python -c "{commands[name]}"', "valuegrad_native": lookup(probes, name, "native")}
        for name, ts in times.items()
    }


def bench_ops(cfg: Config, engines: list[str]) -> dict[str, Any]:
    chosen = [e for e in engines if e in SCALAR_ENGINES or e == "torch"]
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in chosen}
    for rep in range(cfg.ops_reps):
        for engine in rotations(chosen, rep):
            _log(f"  ops rep {rep + 1}/{cfg.ops_reps}: {LABELS[engine]}")
            runs[engine].append(run_worker({"task": "ops", "engine": engine, "n_ops": cfg.ops_n}))
    if not runs:
        return {}
    first = next(iter(runs.values()))[0]
    out: dict[str, Any] = {
        "n_ops": first["n_ops"],
        "shape": {"chains": first["chains"], "chain_steps": first["chain_steps"]},
        "engines": {},
    }
    for engine, rs in runs.items():
        out["engines"][engine] = {
            "forward_ns_per_op": spread(r["forward_ns_per_op"] for r in rs),
            "backward_ns_per_op": spread(r["backward_ns_per_op"] for r in rs),
            "reps": rs,
        }
    try:
        check_same_results({e: r[0] for e, r in runs.items()}, ["value", "grad_sum_abs", "grad_first"])
        out["agreement"] = {"ok": True}
    except DisagreementError as e:
        out["agreement"] = {"ok": False, "error": str(e)}
    numbers = {
        f"{e}#{i}": [r["value"], r["grad_sum_abs"], *r["grad_first"]]
        for e in EAGER
        for i, r in enumerate(runs.get(e, []))
    }
    out["identical"] = _identical(numbers if len({k.split("#")[0] for k in numbers}) == 2 else {}, "ops")
    return out


def bench_chain(cfg: Config, engines: list[str]) -> dict[str, Any]:
    eager = [e for e in EAGER if e in engines]
    small_engines = eager + (["micrograd"] if "micrograd" in engines else [])
    times: dict[str, list[dict[str, Any]]] = {e: [] for e in eager}
    memory: dict[str, list[dict[str, Any]]] = {e: [] for e in eager}
    small: dict[str, list[dict[str, Any]]] = {e: [] for e in small_engines}
    for rep in range(cfg.chain_reps):
        for engine in rotations(eager, rep):
            _log(f"  chain rep {rep + 1}/{cfg.chain_reps}: {LABELS[engine]}, {cfg.chain_n:,} nodes, timed")
            times[engine].append(run_worker({"task": "chain_time", "engine": engine, "n": cfg.chain_n}))
        for engine in rotations(eager, rep):
            _log(f"  chain rep {rep + 1}/{cfg.chain_reps}: {LABELS[engine]}, {cfg.chain_n:,} nodes, memory")
            memory[engine].append(run_worker({"task": "chain_memory", "engine": engine, "n": cfg.chain_n}))
        for engine in rotations(small_engines, rep):
            _log(
                f"  chain rep {rep + 1}/{cfg.chain_reps}: {LABELS[engine]}, "
                f"{cfg.small_chain_n:,} nodes, memory"
            )
            small[engine].append(
                run_worker({"task": "chain_memory", "engine": engine, "n": cfg.small_chain_n})
            )
    out: dict[str, Any] = {"n": cfg.chain_n, "small_n": cfg.small_chain_n, "engines": {}}
    for engine in small_engines:
        figures: dict[str, Any] = {"small_bytes_per_node": spread(r["bytes_per_node"] for r in small[engine])}
        if engine in eager:
            figures |= {
                "build_ns_per_node": spread(r["build_ns_per_node"] for r in times[engine]),
                "backward_ns_per_node": spread(r["backward_ns_per_node"] for r in times[engine]),
                "bytes_per_node": spread(r["bytes_per_node"] for r in memory[engine]),
                "backward_peak_bytes_per_node": spread(
                    r["backward_peak_bytes_per_node"] for r in memory[engine]
                ),
                "reps": times[engine],
            }
        out["engines"][engine] = figures
    if "micrograd" in engines:
        _log("  chain: micrograd's failure depth")
        out["micrograd_failure"] = run_worker(
            {"task": "failure_depth", "engine": "micrograd", "max_n": cfg.failure_max_n}
        )
    grads = {f"{e}#{i}": r["x_grad"] for e in eager for i, r in enumerate(times[e])}
    out["identical"] = _identical(grads if len(eager) == 2 else {}, "chain gradient")
    return out


def demo_plan(cfg: Config, engines: list[str]) -> tuple[list[tuple[str, str, int]], str | None]:
    """The demo runs of one repetition, ``(engine, collector mode, steps)``, and why compiled cannot run."""
    from .workloads import compiled_available, notebook_modules_missing

    notebook = cfg.notebook and not notebook_modules_missing()
    plan: list[tuple[str, str, int]] = []
    for engine in (*EAGER, "micrograd"):
        if engine not in engines:
            continue
        default_steps = cfg.demo_steps_micrograd_default if engine == "micrograd" else cfg.demo_steps
        plan += [(engine, "default", default_steps), (engine, "disabled", cfg.demo_steps)]
        if engine in EAGER:
            plan.append((engine, "paused", cfg.demo_steps))
        if notebook:
            plan.append((engine, "notebook", default_steps))
    if "torch" in engines:
        plan.append(("torch", "default", cfg.demo_steps))
    why_not = compiled_available() if "compiled" in engines else "not asked for"
    if why_not is None:
        plan.append(("compiled", "default", cfg.demo_steps))
    return plan, why_not


def bench_demo(cfg: Config, engines: list[str], data_path: str) -> dict[str, Any]:
    plan, why_not = demo_plan(cfg, engines)
    runs: dict[str, list[dict[str, Any]]] = {f"{e}/{g}": [] for e, g, _ in plan}
    errors: dict[str, str] = {}
    for rep in range(cfg.demo_reps):
        for engine, gc_mode, steps in rotations(plan, rep):
            key = f"{engine}/{gc_mode}"
            if key in errors:
                continue
            _log(f"  demo rep {rep + 1}/{cfg.demo_reps}: {LABELS[engine]}, {gc_mode}, {steps} steps")
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
            "step_s": spread(statistics.median(r["step_s"]) for r in rs),
            "steps": len(full["losses"]),
            "reps": len(rs),
            "final_accuracy": full["final_accuracy"],
            "first_loss": full["losses"][0],
            "final_loss": full["losses"][-1],
            "model": full.get("model"),
            "nodes_per_step": full.get("nodes_per_step"),
            "valuegrad_native": [r.get("valuegrad_native") for r in rs],
            "phases_s": {
                phase: spread(r[phase] for r in rs)
                for phase in ("forward_s", "backward_s", "update_s")
                if phase in full
            },
            "losses": full["losses"],
        }
        if key.startswith("compiled"):
            summary["compile_s"] = spread(r["compile_s"] for r in rs)
            if all(r.get("compiled_bytes") is not None for r in rs):
                summary["compiled_bytes"] = spread(r["compiled_bytes"] for r in rs)
        out["runs"][key] = summary
    histories = {f"{key}#{i}": r["losses"] for key, rs in runs.items() for i, r in enumerate(rs)}
    try:
        if len(histories) < 2:
            out["loss_agreement"] = {"ok": None, "error": "fewer than two runs: nothing to compare"}
        else:
            out["loss_agreement"] = check_loss_histories(histories)
    except DisagreementError as e:
        out["loss_agreement"] = {"ok": False, "error": str(e)}
    eager = {name: h for name, h in histories.items() if name.split("/")[0] in EAGER}
    both = {name.split("/")[0] for name in eager} == set(EAGER)
    out["identical"] = _identical(eager if both else {}, "demo loss histories")
    return out


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def _versions(engines: list[str]) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for module in dict.fromkeys(module_of(e) for e in engines):
        try:
            out[module] = version(module)
        except PackageNotFoundError:
            out[module] = "unknown"
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


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _valuegrad_origin(probes: dict[str, Any]) -> dict[str, Any] | None:
    """Which valuegrad the workers imported, and whether it is this checkout's ``src``."""
    found = next((p for p in probes.values() if p.get("file")), None)
    if found is None:
        return None
    path = Path(found["file"]).resolve().parent
    checkout = path.is_relative_to((ROOT / "src").resolve())
    return {"path": str(path), "checkout": checkout, "git": _git_state() if checkout else None}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark valuegrad's engines against micrograd and PyTorch; "
        "print a Markdown table, write JSON.",
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="smaller sizes and fewer repetitions (about a minute)"
    )
    size.add_argument(
        "--tiny", action="store_true", help="minimal sizes: checks that everything runs (seconds)"
    )
    p.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"JSON results file (default: {DEFAULT_OUT})"
    )
    p.add_argument("--markdown", type=Path, help="also write the Markdown report to this file")
    p.add_argument(
        "--targets",
        type=Path,
        help="write the figures against the project's goals (Markdown) to this file "
        "(default: beside --out, ending in .targets.md)",
    )
    p.add_argument(
        "--from-json",
        type=Path,
        metavar="RESULTS",
        help="measure nothing: print the report of a results file written by an earlier run",
    )
    p.add_argument(
        "--only", nargs="+", choices=["startup", "ops", "chain", "demo"], help="run only these parts"
    )
    p.add_argument(
        "--engines",
        nargs="+",
        choices=[*ENGINES, "valuegrad"],
        help="measure only these engines (default: all; 'valuegrad' means native, pure and compiled)",
    )
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
        X, y = moons(cfg.demo_points, noise=0.1)
        weights, source = initial_weights()
        data_path = str(Path(tmp) / "demo.json")
        Path(data_path).write_text(json.dumps({"X": X, "y": y, "weights": weights}))
        return bench_demo(cfg, engines, data_path) | {"weights_from": source, "points": len(X)}


def _problems(res: dict[str, Any]) -> list[str]:
    """What makes the run fail: engines that computed different numbers, a compiled demo that broke."""
    problems = []
    for part, title in (("ops", "op throughput"), ("demo", "micrograd's demo")):
        agreement = lookup(res, part, "agreement" if part == "ops" else "loss_agreement") or {}
        if agreement.get("ok") is False:
            problems.append(f"ENGINES DISAGREE ({title}): {agreement['error']}")
    for part in ("ops", "chain", "demo"):
        identical = lookup(res, part, "identical") or {}
        if identical.get("ok") is False:
            problems.append(f"NATIVE AND PURE ENGINES DIFFER: {identical['error']}")
    for key, error in (lookup(res, "demo", "errors") or {}).items():
        problems.append(f"{key} FAILED: {error}")
    return problems


def _write_reports(res: dict[str, Any], args: argparse.Namespace, out: Path) -> Path:
    report = markdown(res)
    print(report)
    if args.markdown:
        args.markdown.write_text(report)
    targets_path = args.targets or out.with_suffix(".targets.md")
    targets_path.parent.mkdir(parents=True, exist_ok=True)
    targets_path.write_text(targets_markdown(res))
    met = [t["met"] for t in res["targets"]]
    _log(
        f"targets: {met.count(True)} met, {met.count(False)} not met, {met.count(None)} not measured "
        f"(see {targets_path})"
    )
    return targets_path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json:
        res = json.loads(args.from_json.read_text())
        res["targets"] = build_targets(res)
        _write_reports(res, args, args.from_json)
        return 0 if res.get("ok") else 1
    mode = "quick" if args.quick else "tiny" if args.tiny else "full"
    cfg = _config(mode, args)
    wanted = expand(args.engines) if args.engines else list(ENGINES)
    engines = [e for e in wanted if installed(module_of(e))]
    missing = [e for e in wanted if e not in engines]
    if missing:
        _log(f"not installed, skipped: {', '.join(LABELS[e] for e in missing)} (pip install '.[bench]')")
    WORKERS.clear()
    try:
        probes = check_engines(engines)
    except EngineMismatchError as e:
        _log(str(e))
        return 2
    parts = {
        "startup": ("start-up", lambda: bench_startup(cfg, engines, probes)),
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
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "machine": {
                "system": f"{platform.system()} {platform.machine()}",
                "cpu": _cpu_model(),
                "cores": os.cpu_count(),
                "load_start": _load(),
            },
            "versions": _versions(engines),
            "valuegrad": _valuegrad_origin(probes),
            "probes": probes,
            "config": asdict(cfg),
            "engines": engines,
            "part_seconds": part_seconds,
            "workers": WORKERS,
        }
    }
    started = time.perf_counter()
    for name in selected:
        title, run = parts[name]
        _log(f"{title} ...")
        t0 = time.perf_counter()
        try:
            res[name] = run()
        except EngineMismatchError as e:  # a worker ran another engine than its row says
            _log(str(e))
            return 2
        part_seconds[name] = round(time.perf_counter() - t0, 1)
    res["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    res["meta"]["machine"]["load_end"] = _load()
    problems = _problems(res)
    res["targets"] = build_targets(res)
    res["ok"] = not problems
    res["problems"] = problems
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1) + "\n")
    _write_reports(res, args, args.out)
    for problem in problems:
        _log(problem)
    _log(f"wrote {args.out} ({res['meta']['seconds']} s)")
    return 1 if problems else 0
