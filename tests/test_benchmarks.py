"""The benchmark suite keeps working: the runner end to end in its tiny mode, and its checks.

No test here asserts a timing: only that every figure is produced, and that the
engines computed the same numbers.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.agreement import DisagreementError, check_loss_histories, check_same_results  # noqa: E402
from benchmarks.demo_data import initial_weights, moons  # noqa: E402
from benchmarks.runner import build_targets  # noqa: E402
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


# --- targets -----------------------------------------------------------------------


def test_targets_compare_the_right_figures():
    res = {
        "demo": {
            "runs": {
                "micrograd/default": {"step_s": 2.0},
                "valuegrad/default": {"step_s": 0.1},
                "micrograd/disabled": {"step_s": 0.3},
                "valuegrad/disabled": {"step_s": 0.2},
            },
            "loss_agreement": {"ok": True, "max_abs_diff": 0.0},
        }
    }
    targets = {t["target"]: t for t in build_targets(res)}
    default = targets["demo step, default GC: micrograd / valuegrad"]
    assert default["measured"] == pytest.approx(20.0) and default["met"] is True
    disabled = targets["demo step, GC disabled in both: micrograd / valuegrad"]
    assert disabled["measured"] == pytest.approx(1.5) and disabled["met"] is False
    assert targets["demo step: compiled valuegrad / PyTorch eager"]["met"] is None  # not measured


# --- the runner, end to end ---------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "results.json"
    md = out.with_suffix(".md")
    args = ["--tiny", "--engines", "valuegrad", "micrograd", "--out", str(out), "--markdown", str(md)]
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
    proc, out, md = tiny_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text())
    assert res["ok"] is True and res["meta"]["mode"] == "tiny"
    assert set(res["startup"]) == {"python", "valuegrad", "micrograd"}
    for engine in ("valuegrad", "micrograd"):
        figures = res["ops"]["engines"][engine]
        assert figures["forward_ns_per_op"] > 0 and figures["backward_ns_per_op"] > 0
    assert res["chain"]["micrograd_failure"]["failure_depth"] > 100
    assert res["chain"]["valuegrad_memory"]["bytes_per_node"] > 0
    runs = res["demo"]["runs"]
    assert {
        "valuegrad/default",
        "valuegrad/disabled",
        "valuegrad/paused",
        "micrograd/default",
        "micrograd/disabled",
    } <= set(runs)
    assert all(r["step_s"] > 0 for r in runs.values())
    assert runs["valuegrad/default"]["nodes_per_step"] == runs["micrograd/default"]["nodes_per_step"]
    if not notebook_modules_missing():  # numpy and matplotlib: in the test extras' [all]
        assert {"valuegrad/notebook", "micrograd/notebook"} <= set(runs)
        assert runs["valuegrad/notebook"]["nodes_per_step"] == runs["valuegrad/default"]["nodes_per_step"]
    names = {t["target"] for t in res["targets"]}
    assert len(names) == 10 and "loss histories of all engines agree" in names
    report = md.read_text()
    assert report == proc.stdout.strip() + "\n"
    assert all(f"| {r['engine']} | {r['metric']} |" in report for r in res["rows"])


@pytest.mark.slow
def test_tiny_run_checked_the_loss_histories(tiny_run):
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


def test_runner_fails_loudly_when_an_engine_gets_a_different_loss(tmp_path, monkeypatch, capsys):
    from benchmarks import runner

    def fake_worker(spec):  # every engine "trains" instantly; torch's step 1 is off by 1e-3
        losses = [0.9, 0.5 + (1e-3 if spec["engine"] == "torch" else 0.0)][: spec["steps"]]
        return {"step_s": [0.1] * len(losses), "losses": losses, "final_accuracy": 0.5, "compile_s": 0.1}

    monkeypatch.setattr(runner, "run_worker", fake_worker)
    monkeypatch.setattr(runner, "installed", lambda module: True)
    out = tmp_path / "r.json"
    assert runner.main(["--tiny", "--only", "demo", "--out", str(out)]) == 1
    res = json.loads(out.read_text())
    assert res["ok"] is False and res["demo"]["loss_agreement"]["ok"] is False
    assert (
        "step 1" in res["demo"]["loss_agreement"]["error"]
        and "torch" in res["demo"]["loss_agreement"]["error"]
    )
    assert "LOSS HISTORIES DISAGREE" in capsys.readouterr().out
    agree = {t["target"]: t["met"] for t in res["targets"]}["loss histories of all engines agree"]
    assert agree is False
