"""The valuegrad command: demo, train and graph end to end in a temporary folder, valid PNG/SVG files,
and bad arguments giving argparse's message and exit code 2, never a traceback."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from valuegrad import nn
from valuegrad.cli import main
from valuegrad.data import make_moons
from valuegrad.train import DIVERGENCE_FACTOR, compute_loss

PNG = b"\x89PNG\r\n\x1a\n"
HAS_PLOT = importlib.util.find_spec("matplotlib") is not None


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "valuegrad", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def graphviz_available() -> bool:
    try:
        from valuegrad.viz import render_engine
    except ImportError:
        return False
    return render_engine() is not None


def assert_svg(path: Path) -> None:
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")


def test_demo_end_to_end(tmp_path):
    result = run("demo", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert "L = -8" in out and "dL/da = 6" in out and "dL/db = -4" in out
    assert "o = 0.7071" in out and "do/dw₁ = 1" in out and "41 parameters" in out
    lines = re.findall(r"^iteration ([ \d]\d) - loss: (\d+\.\d{5})$", out, flags=re.M)
    assert [int(k) for k, _ in lines] == list(range(1, 33))
    losses = [float(v) for _, v in lines]
    assert losses[0] > 5.5 and losses[-1] < 0.2  # the notebook: 6.45 -> 0.11
    if HAS_PLOT:
        assert (tmp_path / "out" / "loss.png").read_bytes().startswith(PNG)
        assert f"Wrote {Path('out') / 'loss.png'}" in out
    if graphviz_available():
        assert_svg(tmp_path / "out" / "graph.svg")
        assert f"Wrote {Path('out') / 'graph.svg'}" in out
    else:
        assert "note: graph.svg was not written" in out


def test_train_moons_end_to_end(tmp_path):
    result = run(
        "train", "--steps", "4", "--n", "30", "--hidden", "8", "--out", str(tmp_path / "run"), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "4/4" in result.stderr and "loss=" in result.stderr and "acc=" in result.stderr  # the tqdm bar
    out = result.stdout
    assert re.search(r"^Done in [\d.]+ s, 4 steps\.$", out, flags=re.M)
    before = re.search(
        r"before the first update: loss (\d+\.\d{4}), training accuracy \d+%$", out, flags=re.M
    )
    after = re.search(
        r"after the last update: +loss (\d+\.\d{4}), training accuracy \d+% \(\d+/30\)$", out, re.M
    )
    shown = re.search(
        r"the progress bar shows each step's loss before its update: (\d+\.\d{4}) at step 4", out
    )
    assert before and after and shown
    # The bar's last loss is the one before the last update: what its postfix printed.
    assert f"loss={shown.group(1)}" in result.stderr
    model = nn.MLP.load(tmp_path / "run" / "model.json")
    # "after the last update" is the saved model's own loss on the same data.
    X, y = make_moons(30, noise=0.1, seed=0)
    assert f"{compute_loss(model, X, y, 'hinge', 1e-4)[0].data:.4f}" == after.group(1)
    assert model.nouts == [8, 1] and model.activation == "relu" and model.last_activation == "linear"
    if HAS_PLOT:
        for name in ("loss.png", "decision_boundary.png"):
            assert (tmp_path / "run" / name).read_bytes().startswith(PNG)


def test_train_notebook_dataset_in_process(tmp_path, capsys):
    out = tmp_path / "nb"
    code = main(
        [
            "train",
            "--dataset",
            "notebook",
            "--hidden",
            "4,4",
            "--activation",
            "tanh",
            "--last-activation",
            "tanh",
            "--loss",
            "mse",
            "--l2",
            "0",
            "--lr",
            "0.02",
            "--steps",
            "32",
            "--seed",
            "1",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "training accuracy 50%\n" in printed and "training accuracy 100% (4/4)" in printed
    assert "progress bar" not in printed  # --no-progress: there is no bar to explain
    assert (out / "model.json").exists() and not (out / "decision_boundary.png").exists()
    assert nn.MLP.load(out / "model.json").nouts == [4, 4, 1]


def test_train_adam_bce_and_compile(tmp_path, capsys):
    args = [
        "train",
        "--n",
        "20",
        "--hidden",
        "4",
        "--loss",
        "bce",
        "--optimizer",
        "adam",
        "--steps",
        "3",
        "--no-progress",
        "--out",
        str(tmp_path),
    ]
    if importlib.util.find_spec("valuegrad.compiler") is not None and importlib.util.find_spec("numpy"):
        args.append("--compile")
    assert main(args) == 0
    assert "adam lr 0.01" in capsys.readouterr().out


def test_graph_command(tmp_path):
    if not graphviz_available():
        result = run("graph", "-o", "neuron.svg", cwd=tmp_path)
        assert (
            result.returncode == 1
            and "valuegrad: error:" in result.stderr
            and "Traceback" not in result.stderr
        )
        return
    result = run("graph", "-o", "neuron.svg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_svg(tmp_path / "neuron.svg")
    assert main(["graph", "-o", str(tmp_path / "neuron.png"), "--expanded"]) == 0
    assert (tmp_path / "neuron.png").read_bytes().startswith(PNG)
    assert run("graph", cwd=tmp_path).returncode == 0
    assert_svg(tmp_path / "graph.svg")


def test_graph_dot_text_needs_no_graphviz(tmp_path):
    assert main(["graph", "-o", str(tmp_path / "neuron.dot")]) == 0
    dot = (tmp_path / "neuron.dot").read_text()
    assert dot.lstrip().startswith("digraph") and 'rankdir="LR";' in dot  # the lecture's layout
    assert main(["graph", "--rankdir", "TB", "--example", "expression", "-o", str(tmp_path / "L.dot")]) == 0
    dot = (tmp_path / "L.dot").read_text()
    assert 'rankdir="TB";' in dot and "<B>L</B>" in dot


BAD = [
    [],
    ["frobnicate"],
    ["train", "--hidden", "16,x"],
    ["train", "--hidden", "16,,16"],
    ["train", "--hidden", "0"],
    ["train", "--hidden", "-4"],
    ["train", "--hidden", ""],
    ["train", "--steps", "-1"],
    ["train", "--steps", "0"],
    ["train", "--steps", "ten"],
    ["train", "--lr", "-0.1"],
    ["train", "--lr", "nan"],
    ["train", "--l2", "inf"],
    ["train", "--noise", "-1"],
    ["train", "--n", "0"],
    ["train", "--n", "1"],
    ["train", "--dataset", "mnist"],
    ["train", "--optimizer", "lbfgs"],
    ["train", "--activation", "gelu"],
    ["train", "--out", "a-file/out"],
    ["demo", "--steps", "1.5"],
    ["demo", "--lr", "0"],
    ["demo", "--seed", "x"],
    ["demo", "--out", "a-file"],
    ["graph", "-o", "graph.txt"],
    ["graph", "-o", "n.jpg"],
    ["graph", "-o", "no/such/folder/graph.svg"],
    ["graph", "-o", "."],
    ["graph", "-o", "page.html"],
    ["graph", "--steps", "-o", "graph.svg"],
    ["graph", "--example", "expression", "--expanded"],
]


@pytest.mark.parametrize("argv", BAD, ids=lambda a: " ".join(a) or "nothing")
def test_bad_arguments_exit_2_with_the_commands_usage_and_no_traceback(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if argv and argv[0] in ("demo", "train", "graph"):
        # argparse's own form for the subcommand, also for what is checked after parsing.
        assert err.startswith(f"usage: valuegrad {argv[0]} [-h]"), err
        assert f"\nvaluegrad {argv[0]}: error: " in err, err
    else:
        assert err.startswith("usage: valuegrad [-h]") and "valuegrad: error: " in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # nothing was written


def test_the_number_of_moons_has_one_lower_bound(capsys):
    for n in ("0", "1"):
        with pytest.raises(SystemExit):
            main(["train", "--n", n])
        assert f"argument --n: must be at least 2 (one point per moon), got {n}" in capsys.readouterr().err


def test_demo_without_matplotlib_or_viz_still_runs_and_says_what_it_skipped(tmp_path, capsys, monkeypatch):
    for name in ("matplotlib", "matplotlib.figure", "valuegrad.viz"):
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    out_dir = tmp_path / "valuegrad-demo"
    assert main(["demo", "--out", str(out_dir), "--steps", "3"]) == 0
    out = capsys.readouterr().out
    assert "note: loss.png was not written: it needs matplotlib: pip install 'valuegrad[plot]'" in out
    assert "note: graph.svg was not written: it needs the viz extra: pip install 'valuegrad[viz]'" in out
    assert "(pip install" not in out  # the command is not wrapped in stray parentheses
    assert "iteration  3 - loss:" in out
    assert list(tmp_path.iterdir()) == []  # nothing written, so no empty folder left behind


def test_train_without_matplotlib_names_the_extra_for_both_plots(tmp_path, capsys, monkeypatch):
    for name in ("matplotlib", "matplotlib.figure", "numpy"):
        monkeypatch.setitem(sys.modules, name, None)
    argv = ["train", "--n", "10", "--hidden", "2", "--steps", "2", "--no-progress", "--out", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    for picture in ("loss.png", "decision_boundary.png"):
        assert f"note: {picture} was not written: it needs matplotlib: pip install 'valuegrad[plot]'" in out
    assert "No module named" not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]


def test_compile_without_numpy_refuses_and_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)
    argv = [
        "train",
        "--n",
        "10",
        "--steps",
        "2",
        "--compile",
        "--no-progress",
        "--out",
        str(tmp_path / "run"),
    ]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("valuegrad: error: --compile needs NumPy")
    assert "pip install 'valuegrad[compile]'" in err
    assert not (tmp_path / "run").exists()


def test_hidden_none_is_a_linear_model_and_says_so(tmp_path, capsys):
    argv = ["train", "--n", "10", "--hidden", "none", "--steps", "2", "--no-progress", "--out", str(tmp_path)]
    assert main(argv) == 0
    assert "Training a 2-1 MLP (no hidden layer, linear output, 3 parameters)" in capsys.readouterr().out


def test_unwritable_output_folder_is_a_clean_exit_2(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for argv in (["demo", "--out", str(blocker / "out")], ["train", "--out", str(blocker)]):
        result = run(*argv, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.startswith(f"usage: valuegrad {argv[0]} ")
        assert f"valuegrad {argv[0]}: error: cannot write to the output folder" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_diverging_run_stops_keeps_its_loss_curve_and_exits_1(tmp_path):
    # micrograd's demo with lr 100: the loss passes 1e12 within a few steps (it is finite all along).
    out = tmp_path / "run"
    result = run(
        "train", "--lr", "100", "--steps", "50", "--n", "40", "--no-progress", "--out", str(out), cwd=tmp_path
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("valuegrad: error: training diverged at step "), lines
    step = int(re.search(r"at step (\d+):", lines[0]).group(1))
    reached = float(re.search(r"the loss reached ([\d.e+]+)", lines[0]).group(1))
    first = float(re.search(r"it started at ([\d.e+]+)", lines[0]).group(1))
    assert 1 < step < 50 and reached > DIVERGENCE_FACTOR * max(first, 1.0)
    assert f"{DIVERGENCE_FACTOR:,.0f} times max(its first loss, 1)" in lines[0] and "--lr" in lines[0]
    assert "Traceback" not in result.stderr and "Done in" not in result.stdout
    written = sorted(p.name for p in out.iterdir())
    if HAS_PLOT:
        assert written == ["loss.png"] and (out / "loss.png").read_bytes().startswith(PNG)
        assert f"Wrote {out / 'loss.png'} (the loss and accuracy up to where it diverged)" in result.stdout
    else:
        assert written == []


def test_a_loss_that_becomes_nan_is_a_clean_exit_1(tmp_path, capsys):
    argv = ["train", "--dataset", "notebook", "--loss", "mse", "--activation", "linear", "--lr", "5"]
    code = main([*argv, "--steps", "60", "--no-progress", "--out", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("valuegrad: error: training diverged at step ") and err.count("\n") == 1


def test_renders_are_quiet_in_a_fresh_process(tmp_path):
    """No `Fontconfig warning` (nor anything else) on stderr from the bundled Graphviz."""
    assert graphviz_available()  # (the viz extra is installed with the tests)
    for argv in (["graph", "-o", "n.png"], ["graph", "--steps", "-o", "b.html"], ["graph", "-o", "n.svg"]):
        result = run(*argv, cwd=tmp_path)
        assert result.returncode == 0 and result.stderr == "", (argv, result.stderr)
    demo = run("demo", "--steps", "2", "--out", "d", cwd=tmp_path)
    assert demo.returncode == 0 and demo.stderr == "", demo.stderr


def test_graph_steps_page_and_examples(tmp_path):
    assert graphviz_available()  # (the viz extra is installed with the tests)
    result = run("graph", "--steps", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Wrote backprop.html" in result.stdout and "5 chain-rule steps" in result.stdout
    page = (tmp_path / "backprop.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count('<figure class="frame"') == 6
    assert "o = tanh(n), n = x₁w₁ + x₂w₂ + b" in page
    assert main(["graph", "--steps", "--example", "expression", "-o", str(tmp_path / "L.html")]) == 0
    page = (tmp_path / "L.html").read_text(encoding="utf-8")
    assert page.count('<figure class="frame"') == 4 and "L = (a*b + c) * f" in page


def test_graph_expanded_spells_tanh_as_the_help_says(tmp_path, capsys):
    assert main(["graph", "--expanded", "-o", str(tmp_path / "n.dot")]) == 0
    assert "(exp(2n) - 1) / (exp(2n) + 1)" in capsys.readouterr().out
    dot = (tmp_path / "n.dot").read_text(encoding="utf-8")
    # The lecture's e = exp(2n) = 5.8284 for n = 0.8814, then (e - 1) / (e + 1).
    assert re.search(r"<TD>e</TD><TD>data 5\.8284</TD>", dot)
    assert 'label="exp"' in dot and 'label="/"' in dot and "data -2.0000" not in dot
    help_text = subprocess.run(
        [sys.executable, "-m", "valuegrad", "graph", "--help"], capture_output=True, text=True
    ).stdout
    assert "(exp(2n) - 1) / (exp(2n) + 1)" in " ".join(help_text.split())


def test_start_up_imports_no_heavy_dependency():
    heavy = "('matplotlib', 'torch', 'numpy', 'tqdm')"
    code = f"import sys, valuegrad.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_help_and_version_and_console_script(tmp_path):
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0 and "demo" in result.stdout and "train" in result.stdout
    assert run("--version", cwd=tmp_path).stdout.startswith("valuegrad ")
    script = Path(sys.executable).parent / "valuegrad"
    if script.exists():
        result = subprocess.run([str(script), "train", "--help"], capture_output=True, text=True)
        assert result.returncode == 0 and "--hidden" in result.stdout
