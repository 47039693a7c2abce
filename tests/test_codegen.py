"""The op table is the one place that knows an op.

Generated code is current, and a missing piece fails at import, naming the op.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from valuegrad import ops
from valuegrad.formulas import Formula, FormulaError, check_backend

ROOT = Path(__file__).resolve().parents[1]
CODEGEN = ROOT / "tools" / "codegen.py"


def load_codegen():
    spec = importlib.util.spec_from_file_location("valuegrad_codegen_tool", CODEGEN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_generated_files_are_current():
    """What tools/codegen.py would write from ops.py is checked in (as PyTorch checks derivatives.yaml)."""
    codegen = load_codegen()
    files = codegen.generate()
    stale = [str(path.relative_to(ROOT)) for path, text in files.items() if path.read_text() != text]
    assert not stale, f"out of date, run `python tools/codegen.py`: {stale}"


def test_the_check_command_says_so():
    command = [sys.executable, str(CODEGEN), "--check"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout


def test_a_changed_row_is_caught_at_import_naming_the_op():
    sources = {op.name: ops.source_of(op) for op in ops.OPS}
    ops.check_generated(sources, "here")  # the current table passes
    changed = dict(sources, tanh=sources["tanh"].replace("1 - out * out", "1 - out"))
    with pytest.raises(ImportError, match=r"op 'tanh' changed since the generation of here.*codegen.py"):
        ops.check_generated(changed, "here")
    missing = {k: v for k, v in sources.items() if k != "softplus"}
    with pytest.raises(ImportError, match=r"op 'softplus' has no code in here"):
        ops.check_generated(missing, "here")
    with pytest.raises(ImportError, match=r"no longer in the table: \['cube'\]"):
        ops.check_generated(dict(sources, cube="cube | x * x * x | 3 * x * x |  | "), "here")


@pytest.mark.parametrize("module", ["value", "backward", "dual", "op_functions"])
def test_every_generated_file_records_every_row(module):
    generated = importlib.import_module(f"valuegrad.{module}")
    assert generated.SOURCES == {op.name: ops.source_of(op) for op in ops.OPS}


def test_a_backend_without_a_function_fails_naming_the_op_and_the_backend():
    from valuegrad import numpy_math, scalar_math
    from valuegrad.higher_order import VALUE_MATH

    for names in (vars(scalar_math), vars(VALUE_MATH), numpy_math.NAMES):
        check_backend(names, ops.FUNCTIONS, "this", "here")  # every backend has every function
    partial = {name: None for name in ops.FUNCTIONS if name != "softplus"}
    with pytest.raises(ImportError, match=r"op 'softplus' calls softplus\(\), which the NumPy .* \(there\)"):
        check_backend(partial, ops.FUNCTIONS, "NumPy", "there")


def test_numpy_math_provides_what_it_declares(monkeypatch):
    import numpy as np

    from valuegrad import numpy_math

    assert set(vars(numpy_math.functions(np))) == set(numpy_math.NAMES)
    # A name declared in NAMES whose function was not written: the message names it and its op.
    monkeypatch.setattr(numpy_math, "NAMES", (*numpy_math.NAMES, "softsign"))
    with pytest.raises(ImportError, match=r"defines no softsign, which NAMES lists"):
        numpy_math.functions(np)


def test_a_stale_compiled_engine_is_told_to_rebuild_not_to_regenerate():
    sources = {op.name: ops.source_of(op) for op in ops.OPS if op.name != "softplus"}
    with pytest.raises(ImportError, match=r"op 'softplus' has no code in valuegrad/value.py: run `python"):
        ops.check_generated(sources, "valuegrad/value.py")
    with pytest.raises(
        ImportError,
        match=r"op 'softplus' has no code in the compiled engine's valuegrad/value.py .*rebuild it: pip",
    ):
        ops.check_generated(sources, "valuegrad/value.py", compiled=True)


def test_formulas_are_parsed_once_and_refuse_what_is_not_the_formula_language():
    f = Formula.parse("0 if k == 0 else k * power(x, k - 1)")
    assert f.variables == {"k", "x"} and f.functions == {"power"} and f.constant is None
    assert Formula.parse("-1").constant == -1 and Formula.parse("1").constant == 1
    assert f.substitute({"x": "a + b", "k": "2"}) == "0 if 2 == 0 else 2 * power(a + b, 2 - 1)"
    assert Formula.parse("x * y").substitute({"x": "a + b", "y": "c"}) == "(a + b) * c"
    assert Formula.parse("exp(x)").substitute({"x": "v"}, {"exp": "np.exp"}) == "np.exp(v)"
    for bad in ("x.real", "__import__('os')", "z + 1", "lambda: 1", "'a'", "f(x=1)", "[x]", "x if y"):
        with pytest.raises(FormulaError):
            Formula.parse(bad)


def test_a_row_cannot_read_names_it_does_not_have_nor_be_changed():
    with pytest.raises(ValueError, match="reads a name the op does not have"):
        ops.Op("bad", "bad", "x * y", "y")  # one operand, but its value reads y
    with pytest.raises(ValueError, match="reads a name the op does not have"):
        ops.Op("bad", "bad", "x", "out * k")  # no number k
    with pytest.raises(AttributeError, match="cannot be changed"):
        ops.MUL.out = Formula.parse("x + y")  # type: ignore[misc]
    assert ops.by_name("mul") is ops.MUL
    with pytest.raises(KeyError, match="no op named 'cube'"):
        ops.by_name("cube")


def test_rows_survive_copy_and_pickle_as_the_same_rows():
    import copy
    import pickle

    for op in ops.OPS:
        assert copy.deepcopy(op) is op and pickle.loads(pickle.dumps(op)) is op
