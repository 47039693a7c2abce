"""The benchmark suite keeps working: the runner end to end in its tiny mode, and its checks.

No test here asserts a timing: only that every figure is produced, that each row
measured the engine it is labelled with, and that the engines computed the same
numbers. The tests run with either engine (CI runs the suite once with
``VALUEGRAD_PURE_PYTHON=1``): without the compiled engine the tiny run leaves the
native row out, and a test checks that asking for it is refused.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import valuegrad

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import engines as bench_engines  # noqa: E402
from benchmarks.agreement import (  # noqa: E402
    DisagreementError,
    check_identical,
    check_loss_histories,
    check_same_results,
)
from benchmarks.demo_data import initial_weights, moons  # noqa: E402
from benchmarks.report import figure, markdown  # noqa: E402
from benchmarks.targets import build_targets, ratio, targets_markdown  # noqa: E402
from benchmarks.workloads import (  # noqa: E402
    build_chain,
    demo_loss,
    demo_task,
    expression_shape,
    make_model,
    notebook_modules_missing,
    ops_task,
)

# --- the agreement checks: a fast wrong engine must fail the benchmark -------------


def test_loss_histories_that_agree_pass():
    summary = check_loss_histories({"a": [0.9, 0.5, 0.1], "b": [0.9, 0.5 + 3e-7, 0.1], "c": [0.9, 0.5]})
    assert summary["ok"] and summary["reference"] == "a"
    assert summary["max_abs_diff"] == pytest.approx(3e-7)
    assert summary["steps_compared"] == {"a": 3, "b": 3, "c": 2}


@pytest.mark.parametrize(
    "histories, message",
    [
        ({"a": [0.9, 0.5, 0.1], "b": [0.9, 0.5, 0.1 + 2e-6]}, "step 2"),
        ({"a": [0.9, 0.5], "b": [0.9, math.nan]}, "non-finite"),
        ({"a": [0.9, 0.5], "b": []}, "empty"),
        ({"a": [0.9, 0.5]}, "at least two"),
    ],
)
def test_loss_histories_that_differ_are_rejected(histories, message):
    with pytest.raises(DisagreementError, match=message):
        check_loss_histories(histories)


def test_same_results_rejects_a_wrong_gradient():
    good = {"value": 1.5, "grads": [0.25, -2.0]}
    check_same_results({"x": good, "y": dict(good)}, ["value", "grads"])
    with pytest.raises(DisagreementError, match="grads"):
        check_same_results({"x": good, "y": {"value": 1.5, "grads": [0.25, -2.0001]}}, ["value", "grads"])


def test_identical_means_bit_for_bit():
    assert check_identical({"native#0": [0.5, 0.25], "pure#0": [0.5, 0.25, 0.125], "pure#1": [0.5]}, "x") == 3
    with pytest.raises(DisagreementError, match=r"native gave 0\.25 at item 1"):
        check_identical({"native": [0.5, 0.25], "pure": [0.5, 0.25 + 2**-50]}, "losses")
    with pytest.raises(DisagreementError, match=r"-0\.0"):  # equal as numbers, not as bits
        check_identical({"native": 0.0, "pure": -0.0}, "value")


# --- the workloads compute the same thing in every engine -------------------------


def test_expression_shape_is_shallow_and_of_the_asked_size():
    chains, steps, ops = expression_shape(100_000)
    assert abs(ops - 100_000) < 3 * steps + 2
    assert 3 * steps + math.ceil(math.log2(chains)) < 100  # far below micrograd's recursion limit


def test_the_demo_loss_is_the_same_in_valuegrad_and_micrograd():
    from micrograd.engine import Value as MicroValue

    from valuegrad import Value

    X, y = moons(20, noise=0.1)
    weights, _ = initial_weights()
    losses = []
    for engine, value in (("valuegrad", Value), ("micrograd", MicroValue)):
        model, _ = make_model(engine, weights)
        total, _ = demo_loss(value, model, model.parameters(), X, y)
        total.backward()
        losses.append((total.data, [p.grad for p in model.parameters()]))
    assert losses[0][0] == pytest.approx(losses[1][0], abs=1e-12)
    assert losses[0][1] == pytest.approx(losses[1][1], abs=1e-12)


def test_torch_computes_what_valuegrad_computes(tmp_path):
    # In this process (the tiny run below leaves PyTorch out, to spare three imports of it).
    threads = torch.get_num_threads()
    try:
        ops = {e: ops_task({"engine": e, "n_ops": 300}) for e in ("torch", "valuegrad")}
        check_same_results(ops, ["value", "grad_sum_abs", "grad_first"])
        X, y = moons(100, noise=0.1)
        data = tmp_path / "demo.json"
        data.write_text(json.dumps({"X": X, "y": y, "weights": initial_weights()[0]}))
        runs = {
            e: demo_task({"engine": e, "gc": "default", "steps": 2, "data_path": str(data)})
            for e in ("torch", "valuegrad")
        }
    finally:
        torch.set_num_threads(threads)
    summary = check_loss_histories({e: r["losses"] for e, r in runs.items()})
    assert summary["steps_compared"] == {"torch": 2, "valuegrad": 2}
    assert runs["torch"]["final_accuracy"] == runs["valuegrad"]["final_accuracy"]


def test_chain_gradient_matches_its_closed_form():
    from valuegrad import Value

    n = 1001  # v = ((x*w + b)*w + b)...: d v/d x = w ** (number of multiplications)
    root, x = build_chain(Value, n)
    root.backward()
    assert x.grad == pytest.approx(0.9999995 ** ((n + 1) // 2), rel=1e-12)


# --- engines: each row runs the engine it is labelled with ---------------------------


def test_engine_names_and_environments():
    assert bench_engines.expand(["micrograd", "valuegrad"]) == ["native", "pure", "compiled", "micrograd"]
    assert bench_engines.worker_env("pure")["VALUEGRAD_PURE_PYTHON"] == "1"
    native_env = bench_engines.worker_env("native")
    assert native_env.get("VALUEGRAD_PURE_PYTHON") == os.environ.get("VALUEGRAD_PURE_PYTHON")
    assert str(ROOT) in native_env["PYTHONPATH"].split(os.pathsep)


def test_a_worker_that_ran_the_other_engine_is_refused():
    bench_engines.check_result("native", {"valuegrad_native": True})
    bench_engines.check_result("pure", {"valuegrad_native": False})
    bench_engines.check_result("micrograd", {"valuegrad_native": None})
    with pytest.raises(bench_engines.EngineMismatchError, match=r"plain-Python engine.*mislabelled"):
        bench_engines.check_result("native", {"valuegrad_native": False, "task": "demo"})
    with pytest.raises(bench_engines.EngineMismatchError, match=r"compiled engine.*mislabelled"):
        bench_engines.check_result("pure", {"valuegrad_native": True, "task": "ops"})
    with pytest.raises(bench_engines.EngineMismatchError, match="did not report"):
        bench_engines.check_result("native", {"task": "ops"})


def test_the_probe_sees_the_engine_this_process_runs():
    found = bench_engines.probe("native")  # the caller's environment, as this process's
    assert found["native"] is valuegrad.NATIVE
    assert bench_engines.probe("pure")["native"] is False


def test_a_native_row_without_the_compiled_engine_is_refused(tmp_path):
    # VALUEGRAD_PURE_PYTHON=1 in the caller's environment: the native row cannot run natively.
    out = tmp_path / "r.json"
    env = dict(os.environ, VALUEGRAD_PURE_PYTHON="1")
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--tiny", "--engines", "native", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "refusing to run" in proc.stderr and "valuegrad native" in proc.stderr
    assert "VALUEGRAD_PURE_PYTHON=1 is set" in proc.stderr
    assert "--engines pure compiled micrograd torch" in proc.stderr
    assert not out.exists() and proc.stdout == ""


def _fake_runner(monkeypatch, worker):
    from benchmarks import runner

    monkeypatch.setattr(runner, "run_worker", worker)
    monkeypatch.setattr(runner, "installed", lambda module: True)
    monkeypatch.setattr(runner, "check_engines", lambda engines: {})
    monkeypatch.setattr(runner, "demo_plan", _fake_plan(runner.demo_plan))
    return runner


def _fake_plan(plan):
    def without_probing(cfg, engines):  # the compiled row, without importing valuegrad.compiler
        steps, _ = plan(cfg, [e for e in engines if e != "compiled"])
        return [*steps, ("compiled", "default", cfg.demo_steps)], None

    return without_probing


def _demo_result(spec, losses):
    losses = losses[: spec["steps"]]
    native = {"native": True, "pure": False, "compiled": True}.get(spec["engine"])
    return {
        "step_s": [0.1] * len(losses),
        "losses": losses,
        "final_accuracy": 0.5,
        "compile_s": 0.1,
        "valuegrad_native": native,
    }


def test_runner_refuses_a_worker_that_ran_the_wrong_engine(tmp_path, monkeypatch, capsys):
    runner = _fake_runner(monkeypatch, lambda spec: None)

    def worker(spec):  # the pure row's workers report the compiled engine
        result = _demo_result(spec, [0.9, 0.5]) | {"task": "demo"}
        if spec["engine"] == "pure":
            result["valuegrad_native"] = True
        runner.check_result(spec["engine"], result)
        return result

    monkeypatch.setattr(runner, "run_worker", worker)
    out = tmp_path / "r.json"
    assert runner.main(["--tiny", "--only", "demo", "--out", str(out)]) == 2
    assert "refusing" in capsys.readouterr().err
    assert not out.exists()


def test_runner_fails_loudly_when_an_engine_gets_a_different_loss(tmp_path, monkeypatch, capsys):
    def worker(spec):  # every engine "trains" instantly; torch's step 1 is off by 1e-3
        return _demo_result(spec, [0.9, 0.5 + (1e-3 if spec["engine"] == "torch" else 0.0)])

    runner = _fake_runner(monkeypatch, worker)
    out = tmp_path / "r.json"
    assert runner.main(["--tiny", "--only", "demo", "--out", str(out)]) == 1
    res = json.loads(out.read_text())
    assert res["ok"] is False and res["demo"]["loss_agreement"]["ok"] is False
    assert (
        "step 1" in res["demo"]["loss_agreement"]["error"]
        and "torch" in res["demo"]["loss_agreement"]["error"]
    )
    assert "The demo's loss histories disagree" in capsys.readouterr().out
    agree = {t["target"]: t["met"] for t in res["targets"]}["demo loss histories of all engines agree"]
    assert agree is False


def test_runner_fails_when_native_and_pure_differ_in_the_last_bit(tmp_path, monkeypatch, capsys):
    def worker(spec):  # within 1e-6 of each other, but not the same bits
        return _demo_result(spec, [0.9, 0.5 + (2**-50 if spec["engine"] == "pure" else 0.0)])

    runner = _fake_runner(monkeypatch, worker)
    out = tmp_path / "r.json"
    assert runner.main(["--tiny", "--only", "demo", "--out", str(out)]) == 1
    res = json.loads(out.read_text())
    assert res["demo"]["loss_agreement"]["ok"] is True
    assert res["demo"]["identical"]["ok"] is False
    assert any(p.startswith("NATIVE AND PURE ENGINES DIFFER") for p in res["problems"])
    assert "native and pure gave different numbers" in capsys.readouterr().out


# --- targets and report -------------------------------------------------------------


def _spread(*runs):
    xs = sorted(runs)
    return {"median": xs[len(xs) // 2], "min": xs[0], "max": xs[-1], "runs": list(runs)}


def test_targets_compare_the_right_figures():
    res = {
        "demo": {
            "runs": {
                "micrograd/default": {"step_s": _spread(1.8, 2.0, 2.2)},
                "native/default": {"step_s": _spread(0.04, 0.05, 0.06)},
                "pure/default": {"step_s": _spread(0.1, 0.1, 0.1)},
                "micrograd/disabled": {"step_s": _spread(0.3)},
                "pure/disabled": {"step_s": _spread(0.2)},
            },
            "loss_agreement": {"ok": True, "max_abs_diff": 0.0},
        }
    }
    targets = {t["target"]: t for t in build_targets(res)}
    native = targets["native demo step, plain loop, default collector: micrograd / native"]
    assert native["measured"] == pytest.approx(40.0) and native["met"] is True
    assert native["range"] == pytest.approx([1.8 / 0.06, 2.2 / 0.04])
    pure = targets["pure demo step, plain loop, default collector: micrograd / pure"]
    assert pure["measured"] == pytest.approx(20.0) and pure["met"] is True
    disabled = targets["pure demo step, collector disabled in both: micrograd / pure"]
    assert disabled["measured"] == pytest.approx(1.5) and disabled["met"] is False
    assert targets["compiled demo step: compiled / PyTorch eager"]["met"] is None  # not measured
    assert ratio(None, _spread(1.0)) is None


def test_figures_show_their_spread():
    assert figure(_spread(0.102, 0.112, 0.115), 1e3) == "112 [102–115]"
    assert figure(_spread(136.0)) == "136"
    assert figure(None) == "–"


# --- the runner, end to end ---------------------------------------------------------

TINY_ENGINES = (
    ["native", "pure", "compiled", "micrograd"] if valuegrad.NATIVE else ["pure", "compiled", "micrograd"]
)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "results.json"
    md = out.with_suffix(".md")
    args = ["--tiny", "--engines", *TINY_ENGINES, "--out", str(out), "--markdown", str(md)]
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc, out, md


@pytest.mark.slow
def test_tiny_run_writes_every_figure(tiny_run):
    proc, out, _ = tiny_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text())
    assert res["ok"] is True and res["meta"]["mode"] == "tiny"
    eager = [e for e in TINY_ENGINES if e in ("native", "pure")]
    assert set(res["startup"]) == {"python", *eager, "micrograd"}
    for figures in res["startup"].values():
        assert figures["min"] <= figures["median"] <= figures["max"]
    for engine in [*eager, "micrograd"]:
        figures = res["ops"]["engines"][engine]
        assert figures["forward_ns_per_op"]["median"] > 0 and figures["backward_ns_per_op"]["median"] > 0
    chain = res["chain"]
    assert chain["micrograd_failure"]["failure_depth"] > 100
    for engine in eager:
        assert chain["engines"][engine]["bytes_per_node"]["median"] > 0
        assert chain["engines"][engine]["build_ns_per_node"]["median"] > 0
    runs = res["demo"]["runs"]
    expected = {f"{e}/{mode}" for e in eager for mode in ("default", "disabled", "paused")}
    expected |= {"micrograd/default", "micrograd/disabled", "compiled/default"}
    assert expected <= set(runs)
    assert all(r["step_s"]["median"] > 0 for r in runs.values())
    nodes = {runs[f"{e}/default"]["nodes_per_step"] for e in [*eager, "micrograd"]}
    assert len(nodes) == 1 and nodes.pop() > 1000
    assert not any(key.endswith("/notebook") for key in runs)  # left out of the tiny mode (imports)


def test_the_demo_runs_after_the_notebooks_imports(tmp_path):
    # The tiny run leaves this variant out (importing matplotlib costs a second a process).
    if notebook_modules_missing():
        pytest.skip("numpy or matplotlib is not installed")
    X, y = moons(12, noise=0.1)
    data = tmp_path / "demo.json"
    data.write_text(json.dumps({"X": X, "y": y, "weights": initial_weights()[0]}))
    run = demo_task({"engine": "valuegrad", "gc": "notebook", "steps": 2, "data_path": str(data)})
    plain = demo_task({"engine": "valuegrad", "gc": "default", "steps": 2, "data_path": str(data)})
    assert "matplotlib.pyplot" in sys.modules and "numpy" in sys.modules
    assert run["losses"] == plain["losses"] and run["nodes_per_step"] == plain["nodes_per_step"]


@pytest.mark.slow
def test_tiny_run_labels_every_row_with_the_engine_that_ran(tiny_run):
    _, out, md = tiny_run
    res = json.loads(out.read_text())
    workers = res["meta"]["workers"]
    if "native" in TINY_ENGINES:
        assert workers["native"]["processes"] == workers["native"]["native"] > 0
        assert res["startup"]["native"]["valuegrad_native"] is True
    assert workers["pure"]["processes"] == workers["pure"]["pure"] > 0
    assert res["startup"]["pure"]["valuegrad_native"] is False
    assert workers["micrograd"]["native"] == workers["micrograd"]["pure"] == 0
    assert res["demo"]["runs"]["compiled/default"]["valuegrad_native"] == [valuegrad.NATIVE]
    report = md.read_text()
    assert f"`valuegrad.NATIVE` was False in {workers['pure']['processes']} of its" in report


@pytest.mark.slow
def test_tiny_run_checked_the_numbers(tiny_run):
    _, out, _ = tiny_run
    res = json.loads(out.read_text())
    agreement = res["demo"]["loss_agreement"]
    assert agreement["ok"] is True and agreement["tolerance"] == 1e-6
    runs = res["demo"]["runs"]
    assert set(agreement["steps_compared"]) >= {f"{key}#0" for key in runs}
    # Recompute the agreement from the histories the engines reported.
    histories = [r["losses"] for r in runs.values()]
    first = histories[0]
    assert all(abs(h[0] - first[0]) <= 1e-6 for h in histories)
    assert 0.5 < first[0] < 1.5  # micrograd's demo starts near 0.9 (hinge loss of small random scores)
    assert res["ops"]["agreement"]["ok"] is True
    if "native" in TINY_ENGINES:  # one source, two engines: the same bits
        for part in ("ops", "chain", "demo"):
            assert res[part]["identical"]["ok"] is True
        assert runs["native/default"]["losses"] == runs["pure/default"]["losses"]


@pytest.mark.slow
def test_tiny_run_keeps_the_targets_out_of_the_report(tiny_run, tmp_path, capsys):
    proc, out, md = tiny_run
    res = json.loads(out.read_text())
    report = md.read_text()
    assert report == proc.stdout.strip() + "\n"
    for word in ("issue", "target"):  # user-facing text: the README and docs get this report
        assert word not in report.lower()
    assert "| Measurement | " + " | ".join(bench_engines.LABELS[e] for e in TINY_ENGINES) + " |" in report
    assert res["meta"]["date"] in report and res["meta"]["python"] in report
    assert res["meta"]["machine"]["cpu"] in report
    targets = out.with_suffix(".targets.md").read_text()
    assert "| Issue | Target |" in targets
    assert targets == targets_markdown(res)
    assert len(res["targets"]) == 18
    # The report is rebuilt from the JSON alone, with nothing measured.
    from benchmarks import runner

    again = tmp_path / "again.targets.md"
    assert runner.main(["--from-json", str(out), "--targets", str(again)]) == 0
    assert capsys.readouterr().out.strip() + "\n" == report == markdown(res)
    assert again.read_text() == targets
