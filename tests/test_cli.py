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
    assert re.search(r"Done in .* training accuracy \d+% -> \d+% \(\d+/30\)", result.stdout)
    model = nn.MLP.load(tmp_path / "run" / "model.json")
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
    assert "training accuracy 50% -> 100% (4/4)" in capsys.readouterr().out
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
    pytest.importorskip("valuegrad.viz")
    assert main(["graph", "-o", str(tmp_path / "neuron.dot")]) == 0
    assert (tmp_path / "neuron.dot").read_text().lstrip().startswith("digraph")


BAD = [
    [],
    ["frobnicate"],
    ["train", "--hidden", "16,x"],
    ["train", "--hidden", "16,,16"],
    ["train", "--hidden", "0"],
    ["train", "--hidden", "-4"],
    ["train", "--steps", "-1"],
    ["train", "--steps", "0"],
    ["train", "--steps", "ten"],
    ["train", "--lr", "-0.1"],
    ["train", "--lr", "nan"],
    ["train", "--l2", "inf"],
    ["train", "--noise", "-1"],
    ["train", "--n", "1"],
    ["train", "--dataset", "mnist"],
    ["train", "--optimizer", "lbfgs"],
    ["train", "--activation", "gelu"],
    ["demo", "--steps", "1.5"],
    ["demo", "--lr", "0"],
    ["demo", "--seed", "x"],
    ["graph", "-o", "graph.txt"],
    ["graph", "-o", "no/such/folder/graph.svg"],
]


@pytest.mark.parametrize("argv", BAD, ids=lambda a: " ".join(a) or "nothing")
def test_bad_arguments_exit_2_with_usage_and_no_traceback(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "usage: valuegrad" in err and "error:" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # nothing was written


def test_demo_without_matplotlib_or_viz_still_runs_and_says_what_it_skipped(tmp_path, capsys, monkeypatch):
    for name in ("matplotlib", "matplotlib.figure", "valuegrad.viz"):
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    assert main(["demo", "--out", str(tmp_path), "--steps", "3"]) == 0
    out = capsys.readouterr().out
    assert "note: loss.png was not written" in out and "pip install 'valuegrad[plot]'" in out
    assert "note: graph.svg was not written" in out and "valuegrad[viz]" in out
    assert "iteration  3 - loss:" in out and list(tmp_path.iterdir()) == []


def test_unwritable_output_folder_is_a_clean_exit_2(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for argv in (["demo", "--out", str(blocker / "out")], ["train", "--out", str(blocker)]):
        result = run(*argv, cwd=tmp_path)
        assert result.returncode == 2
        assert "cannot write to the output folder" in result.stderr and "Traceback" not in result.stderr


def test_diverging_training_is_a_clean_exit_1(tmp_path, capsys):
    code = main(
        [
            "train",
            "--dataset",
            "notebook",
            "--loss",
            "mse",
            "--activation",
            "linear",
            "--lr",
            "5",
            "--steps",
            "60",
            "--no-progress",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 1
    assert "valuegrad: error:" in capsys.readouterr().err


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
