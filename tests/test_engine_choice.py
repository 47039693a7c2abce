"""One engine source, two speeds: valuegrad.NATIVE, VALUEGRAD_PURE_PYTHON=1, the same numbers from both."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import valuegrad
from valuegrad import _engine_choice

PACKAGE = Path(valuegrad.__file__).resolve().parent


def run(code: str, *, pure: bool, cwd: Path | None = None, path: Path | None = None) -> str:
    env = dict(os.environ)
    env.pop("VALUEGRAD_PURE_PYTHON", None)
    if pure:
        env["VALUEGRAD_PURE_PYTHON"] = "1"
    if path is not None:
        env["PYTHONPATH"] = str(path)
    command = [sys.executable, "-c", textwrap.dedent(code)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


WHICH = """
    import json, valuegrad
    print(json.dumps([valuegrad.NATIVE, valuegrad.value.__file__, valuegrad.backward.__file__]))
"""


def test_native_says_which_engine_runs():
    files = [Path(valuegrad.value.__file__), Path(valuegrad.backward.__file__)]
    if valuegrad.NATIVE:
        assert all(f.suffix in (".so", ".pyd") for f in files), files
    else:
        assert all(f.suffix == ".py" for f in files), files


def test_the_environment_variable_forces_the_plain_python_files():
    native, value_file, backward_file = json.loads(run(WHICH, pure=True))
    assert native is False and value_file.endswith("value.py") and backward_file.endswith("backward.py")


@pytest.mark.skipif(
    not all(_engine_choice.compiled_file(m) for m in _engine_choice.ENGINE_MODULES),
    reason="this installation has no compiled engine (it was built without a C compiler)",
)
def test_without_the_variable_the_compiled_files_run_and_a_half_built_engine_is_never_mixed(tmp_path):
    native, value_file, _ = json.loads(run(WHICH, pure=False))
    assert native is True and not value_file.endswith(".py")
    # A copy of the package with one compiled file missing runs both engine files as plain Python.
    copy = tmp_path / "valuegrad"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    missing = _engine_choice.compiled_file("backward")
    assert missing is not None
    (copy / Path(missing).name).unlink()
    native, value_file, backward_file = json.loads(run(WHICH, pure=False, cwd=tmp_path, path=tmp_path))
    assert native is False
    assert value_file == str(copy / "value.py") and backward_file == str(copy / "backward.py")


SAME_NUMBERS = """
    import json, random, valuegrad
    from fractions import Fraction
    from valuegrad import Value, nn, losses
    from valuegrad.data import make_moons

    X, y = make_moons(40, noise=0.1, seed=3)
    model = nn.MLP(2, [8, 8, 1], activation="relu", last_activation="linear", seed=5)
    history = []
    for step in range(5):
        scores = [model(x) for x in X]
        loss = losses.hinge(scores, y) + losses.l2(model.parameters(), 1e-4)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.5 * p.grad
        history.append(loss.data.hex())
    a, b = Value(Fraction(1, 3)), Value(2)
    out = (a * b + a / b - b ** 3).relu() + abs(a - b) + (a * 0.5).sin() + b.sqrt() * a.softplus()
    out.backward()
    exact = [str(a.grad), str(b.grad)]
    x = Value(0.7)
    z = (x * x).tanh() * x.exp() + x.sigmoid() / (1 + x.cos())
    z.backward(create_graph=True)
    second = valuegrad.gradients(x.grad, [x])[x]
    second = second.hex() if isinstance(second, float) else repr(second)
    print(json.dumps([valuegrad.NATIVE, history, exact, second]))
"""


def test_both_engines_give_the_same_numbers_bit_for_bit():
    pure = json.loads(run(SAME_NUMBERS, pure=True))
    this = json.loads(run(SAME_NUMBERS, pure=False))
    assert pure[0] is False
    assert pure[1:] == this[1:]  # every loss of the training run, exact Fractions, a second derivative
