"""valuegrad.gradient_checks: gradcheck and gradgradcheck pass on correct derivatives and catch wrong ones."""

from __future__ import annotations

import math
import re
from math import inf, nan

import pytest

from _state import state
from op_cases import CASES, KINKS, kink_id, reused
from valuegrad import Value, op_functions
from valuegrad.gradient_checks import GradcheckError, gradcheck, gradgradcheck, numerical_grad


def break_cube(monkeypatch, derivative):
    """Give ``x ** k`` a wrong local derivative, as gradcheck sees it (valuegrad.op_functions)."""
    monkeypatch.setitem(op_functions.DERIVATIVES, "pow", lambda x, k, out, f: (derivative(x),))


def cube(x):
    return x**3


def rows_of(message):
    """(index, analytic, numeric, difference) read back from a GradcheckError's message."""
    number = r"(-?[\d.]+(?:e[-+]?\d+)?|nan|-?inf)"
    pattern = re.compile(rf"^\s+(\S+|\(\d+, \d+\))\s+{number}\s+{number}\s+{number}", re.M)
    return [(m[0], float(m[1]), float(m[2]), float(m[3])) for m in pattern.findall(message)]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_correct_derivatives_of_every_op_pass_both_checks(case):
    for point in case.samples():
        assert gradcheck(case.perform, list(point)) is True
        assert gradgradcheck(reused(case.perform), list(point)) is True


FAILING_KINKS = [(c, k) for c, k in KINKS if k.forward_fails or k.backward_fails]


@pytest.mark.parametrize(("case", "kink"), FAILING_KINKS, ids=[kink_id(k) for k in FAILING_KINKS])
def test_an_error_at_a_kink_reaches_the_caller(case, kink):
    """Where the op (or its derivative) is undefined, the checks raise the engine's error, not a verdict.

    (Where a kink is defined, central differences are not its derivative: relu at 0 fails, as
    test_a_kink_fails_and_nan_is_a_failure shows.)"""
    for check in (gradcheck, gradgradcheck):
        with pytest.raises(kink.error):
            check(case.perform, list(kink.point))


def test_gradcheck_catches_a_wrong_derivative_and_lists_the_numbers(monkeypatch):
    break_cube(monkeypatch, lambda x: 2 * x * x)  # the derivative of x**3 written 2 x**2 (should be 3 x**2)

    def f(x, y):
        return cube(x) * y

    with pytest.raises(GradcheckError) as info:
        gradcheck(f, [1.5, 2.0])
    err = info.value
    assert isinstance(err, AssertionError)
    message = str(err)
    assert "1 of 2" in message and "MISMATCH" in message
    rows = rows_of(message)
    assert [r[0] for r in rows] == ["0", "1"]  # every input is listed
    _, analytic, numeric, diff = rows[0]
    # the broken rule gives 2 x**2 * y; finite differences see the true 3 x**2 * y
    assert analytic == pytest.approx(2 * 1.5**2 * 2.0)
    assert numeric == pytest.approx(3 * 1.5**2 * 2.0, rel=1e-6)
    assert diff == pytest.approx(analytic - numeric, rel=1e-3)
    assert rows[1][1] == pytest.approx(rows[1][2], rel=1e-6)  # d/dy = x**3 is right
    # the same rows, as data
    assert [r[4] for r in err.rows] == [False, True]
    assert err.rows[0][1] == analytic


def test_gradgradcheck_catches_a_wrong_double_backward(monkeypatch):
    # first derivatives right, but the recorded (create_graph) derivative is detached: second derivative 0
    break_cube(monkeypatch, lambda x: 3 * x.data * x.data if isinstance(x, Value) else 3 * x * x)

    def f(x, y):
        return cube(x) + x * y

    assert gradcheck(f, [1.5, 2.0]) is True
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(f, [1.5, 2.0])
    message = str(info.value)
    assert "second derivatives" in message
    rows = {r[0]: r[1:] for r in rows_of(message)}
    assert set(rows) == {"(0, 0)", "(0, 1)", "(1, 0)", "(1, 1)"}
    analytic, numeric, _ = rows["(0, 0)"]
    assert analytic == 0.0 and numeric == pytest.approx(6 * 1.5, rel=1e-6)
    assert rows["(0, 1)"][0] == pytest.approx(1.0) and rows["(1, 1)"][0] == 0.0


def test_gradgradcheck_catches_a_recorded_gradient_that_differs_from_the_plain_one(monkeypatch):
    break_cube(monkeypatch, lambda x: 2 * x * x if isinstance(x, Value) else 3 * x * x)
    with pytest.raises(GradcheckError, match="create_graph=True gradient") as info:
        gradgradcheck(cube, [1.5])
    (row,) = rows_of(str(info.value))
    assert row[1] == pytest.approx(2 * 1.5**2) and row[2] == pytest.approx(3 * 1.5**2)


def test_gradgradcheck_also_checks_first_derivatives(monkeypatch):
    break_cube(monkeypatch, lambda x: 2 * x * x)
    with pytest.raises(GradcheckError, match="MISMATCH"):
        gradgradcheck(cube, [1.0])


def test_a_kink_fails_and_nan_is_a_failure():
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: x.relu(), [0.0])  # analytic 0, numeric 0.5
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: x * math.nan, [1.0])  # NaN on both sides is not agreement
    assert math.isnan(info.value.rows[0][1]) and "nan" in str(info.value)
    with pytest.raises(ValueError, match="not a real number"):  # the engine's error, not a silent NaN
        gradcheck(lambda x: x**0.5, [1e-13])  # the numeric side steps to a negative x


def test_tolerances_are_used(monkeypatch):
    # analytic 2 x**2 = 2, numeric 3: a difference of 1 passes only with a tolerance above it
    break_cube(monkeypatch, lambda x: 2 * x * x)
    assert gradcheck(cube, [1.0], atol=1.01, rtol=0.0)
    with pytest.raises(GradcheckError):
        gradcheck(cube, [1.0], atol=0.99, rtol=0.0)
    assert gradcheck(cube, [1.0], atol=0.0, rtol=0.34)


def test_inputs_and_outputs_are_validated():
    with pytest.raises(ValueError, match="eps"):
        gradcheck(lambda x: x, [1.0], eps=0.0)
    with pytest.raises(ValueError, match="atol"):
        gradcheck(lambda x: x, [1.0], atol=-1.0)
    with pytest.raises(TypeError, match="input 0"):
        gradcheck(lambda x: x, ["1.0"])
    with pytest.raises(TypeError, match="list"):
        gradcheck(lambda x: x, 1.0)
    with pytest.raises(TypeError, match="scalar Value"):
        gradcheck(lambda x: [x], [1.0])
    # a constant function has zero derivatives: passes
    assert gradcheck(lambda x: 3.0, [1.0]) and gradgradcheck(lambda x: 3.0, [1.0])


def test_gradcheck_leaves_values_untouched():
    x = Value(0.5)
    w = Value(2.0)
    w.grad = 7.0
    assert gradgradcheck(lambda a: (a * w).tanh(), [x])
    assert (x.data, x.grad, w.data, w.grad) == (0.5, 0.0, 2.0, 7.0)


def test_numerical_grad_is_unchanged():
    # the notebook's forward difference, and the central default
    d, c, f = -6.0, 10.0, -2.0
    h = 0.001
    want = (((d + h) + c) * f - (d + c) * f) / h
    assert numerical_grad(lambda d, c, f: (d + c) * f, [d, c, f], h=h, method="forward")[0] == want
    assert numerical_grad(lambda x: x * x, [3.0])[0] == pytest.approx(6.0, rel=1e-8)


def test_docstring_examples():
    import doctest
    import sys

    module = sys.modules[numerical_grad.__module__]  # `valuegrad.gradcheck` the module, not the function
    result = doctest.testmod(module)
    assert result.attempted >= 3 and result.failed == 0


# --- numerical_grad: bad input -------------------------------------------------------


@pytest.mark.parametrize("h", [0, 0.0, -1e-6, nan, inf, True, "1e-6", None])
def test_numerical_grad_rejects_bad_steps(h):
    with pytest.raises(ValueError, match="h must be"):
        numerical_grad(lambda a: a * a, [1.0], h=h)


@pytest.mark.parametrize("method", ["backward", "", None, "Central"])
def test_numerical_grad_rejects_unknown_methods(method):
    with pytest.raises(ValueError, match="method"):
        numerical_grad(lambda a: a * a, [1.0], method=method)


@pytest.mark.parametrize("bad", ["1", None, True, 1j, [1.0]])
def test_numerical_grad_rejects_non_number_inputs(bad):
    with pytest.raises(TypeError, match="input 1"):
        numerical_grad(lambda a, b: a * b, [1.0, bad])


def test_numerical_grad_edge_cases():
    assert numerical_grad(lambda: Value(1.0), []) == []
    with pytest.raises(TypeError):  # f takes 2 arguments, 3 inputs given: Python's own error
        numerical_grad(lambda a, b: a * b, [1.0, 2.0, 3.0])
    got = numerical_grad(lambda a, b: a * b, [nan, 2.0])
    assert all(math.isnan(g) for g in got)  # NaN in, NaN out
    v = Value(3.0, label="v")
    before = state(v)
    assert numerical_grad(lambda a: a * a, [v]) == pytest.approx([6.0])
    assert state(v) == before  # the input Value itself is not nudged
