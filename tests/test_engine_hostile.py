"""Hostile inputs to the engine (valuegrad.value, valuegrad.backward, valuegrad.higher_order): the
documented error (or IEEE result), nothing changed.

The engine's rules (README, "The engine's rules"): NaN or infinite *inputs* propagate by
IEEE rules, as in PyTorch; finite inputs never produce a silent NaN: ``log`` of a
non-positive value raises `ValueError`, division by zero raises `ZeroDivisionError`,
a negative base with a fractional exponent raises `ValueError`, ``a ** b`` with a Value
exponent needs ``a > 0`` (`ValueError`), ``sin``/``cos`` of inf or NaN and ``sqrt`` of a
negative number raise `ValueError`, and the slope of ``sqrt`` (or ``x ** 0.5``) at 0 is a
`ZeroDivisionError` in ``backward()``: each case of tests/op_cases.py names its own
(``forward_error``, ``backward_error``). Bad types raise `TypeError`. After any error every
existing object is as it was.
"""

from __future__ import annotations

import itertools
import math
import operator
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
import torch

from _state import state
from op_cases import CASES
from valuegrad import Value, gradients, topological_order
from valuegrad.examples import first_expression

inf, nan = math.inf, math.nan


# --- the engine: bad types ------------------------------------------------------------

BAD_DATA = [
    "abc",
    b"1",
    None,
    [1.0],
    (1.0,),
    {1.0},
    {"a": 1.0},
    1j,
    True,
    Decimal("1.5"),
    np.array(1.0),
    np.array([1.0, 2.0]),
    np.bool_(True),
    np.complex128(1),
    object(),
]


@pytest.mark.parametrize("bad", BAD_DATA, ids=lambda b: type(b).__name__)
def test_value_rejects_every_non_real(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


@pytest.mark.parametrize("bad", BAD_DATA, ids=lambda b: type(b).__name__)
@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow])
def test_operators_reject_non_reals_on_either_side(op, bad):
    a = Value(2.0, label="a")
    b = a * 3.0
    before = state(b)
    with pytest.raises(TypeError):
        op(b, bad)
    with pytest.raises(TypeError):
        op(bad, b)
    assert state(b) == before


@pytest.mark.parametrize("bad", [3, 1.5, None, b"a", ["a"]])
def test_label_must_be_a_string(bad):
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=bad)


@pytest.mark.parametrize("bad", [None, 3.0, "L", [Value(1.0)]])
def test_topological_order_and_gradients_need_a_value(bad):
    with pytest.raises(TypeError):
        topological_order(bad)
    with pytest.raises(TypeError):
        gradients(bad)


@pytest.mark.parametrize("bad", [[3.0], "ab", [Value(1.0), None]])
def test_gradients_rejects_inputs_that_are_not_values(bad):
    x = Value(2.0)
    y = x * x
    with pytest.raises(TypeError, match="Value"):
        gradients(y, bad)


def test_gradients_of_unrelated_or_empty_inputs():
    x, z = Value(2.0), Value(Fraction(1, 3))
    y = x * x
    assert gradients(y, []) == {}
    g = gradients(y, [z, x])
    assert g[x] == 4.0 and g[z] == 0 and type(g[z]) is Fraction


# --- the engine: special values against torch, or the documented error -----------------

SPECIAL = [inf, -inf, nan, 0.0, -0.0, 2.0, -2.0, 1000.0, -1000.0]


def same(got: float, want: float, nan_inputs: bool) -> bool:
    if math.isnan(want):
        return math.isnan(got)
    # NaN in, NaN out is always allowed (PyTorch masks a few IEEE NaNs, e.g. d/dx nan**0 = 0);
    # finite results may differ in the last bit (torch writes a few derivatives differently).
    return math.isclose(got, want, rel_tol=4e-16) or (nan_inputs and math.isnan(got))


# Every case of the registry (tests/op_cases.py) at every special value: its forward_error and
# backward_error name the error the README promises there (None: an IEEE result, as PyTorch's).
SPECIAL_POINTS = [
    pytest.param(case, point, id=f"{case}{point}")
    for case in CASES
    for point in itertools.product(SPECIAL if case.arity == 1 else SPECIAL[:7], repeat=case.arity)
]


@pytest.mark.parametrize(("case", "point"), SPECIAL_POINTS)
def test_special_inputs_follow_torch_or_a_documented_error(case, point):
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    error = case.forward_error(*point)
    if error is not None:
        before = state(*xs)
        with pytest.raises(error):
            case.perform(*xs)
        assert state(*xs) == before
        return
    out = case.perform(*xs)
    error = case.backward_error(*point)
    if error is not None:
        before = state(out)
        with pytest.raises(error):
            out.backward()
        assert state(out) == before  # backward() is all-or-nothing
        return
    out.backward()
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    tout = case.torch(*ts)
    tout.backward()
    nan_in = any(math.isnan(x) for x in point)
    assert same(out.data, tout.item(), nan_in), (out.data, tout.item())
    for x, t in zip(xs, ts):
        assert same(x.grad, t.grad.item(), nan_in), (x.grad, t.grad.item())


@pytest.mark.parametrize("big", [1000.0, -1000.0, 1e308, -1e308])
def test_tanh_and_sigmoid_are_stable_at_extremes(big):
    for method, want in ((Value.tanh, math.copysign(1.0, big)), (Value.sigmoid, 1.0 if big > 0 else 0.0)):
        x = Value(big)
        out = method(x)
        out.backward()
        assert out.data == want and x.grad == 0.0


def test_no_nan_from_finite_inputs_at_the_edges_of_each_domain():
    """Finite inputs at the edge of a domain: a finite answer or the documented error, never NaN."""
    tiny = 5e-324
    for make in (
        lambda: Value(tiny).log(),
        lambda: Value(tiny) ** 0.5,
        lambda: Value(1e308) * Value(1e308) - Value(1e308),  # inf - finite: still inf, no NaN
        lambda: Value(-745.2).exp(),
        lambda: Value(709.0).exp() * Value(0.5),
        lambda: Value(1e-300) / 1e300,
        lambda: Value(1.0) / Value(tiny),
    ):
        out = make()
        assert not math.isnan(out.data)
        out.backward()
        for v in topological_order(out):
            assert not math.isnan(v.grad), (v, out)


@pytest.mark.parametrize(
    ("base", "exponent", "value_exponent"),
    [
        (10.0, 400.0, False),
        (-10.0, 401.0, False),
        (-10.0, 400.0, False),
        (0.5, -1100.0, False),
        (10.0, 400.0, True),
        (2.0, 2000.0, True),
    ],
)
def test_pow_overflow_gives_inf_like_exp_and_torch(base, exponent, value_exponent):
    x = Value(base)
    e = Value(exponent) if value_exponent else exponent
    out = x**e
    out.backward()
    tx = torch.tensor(base, dtype=torch.float64, requires_grad=True)
    te = torch.tensor(exponent, dtype=torch.float64, requires_grad=True) if value_exponent else exponent
    tout = tx**te
    tout.backward()
    assert out.data == tout.item() and math.isinf(out.data)
    assert x.grad == tx.grad.item()
    if value_exponent:
        assert e.grad == te.grad.item()


def test_backward_overflow_of_a_finite_forward_gives_inf():
    x = Value(1e-200)
    y = x**-1.5  # 1e300: finite
    y.backward()
    assert x.grad == -math.inf  # torch: -inf


def test_failed_backward_changes_no_grad():
    x = Value(np.float64(1e-300), label="x")
    a = x * 3.0
    b = 1.0 / x
    L = a + b
    before = state(L)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        L.backward()  # d(1/x)/dx = -1e600 overflows, and NumPy was told to raise
    assert state(L) == before


def test_failing_ops_leave_their_operands_unchanged():
    L = first_expression()
    before = state(L)
    for bad in (
        lambda: (L - L).log(),
        lambda: L / 0,
        lambda: L / (L - L),
        lambda: L**0.5,
        lambda: L ** Value(2.0),
        lambda: L ** Value(-2.0),
        lambda: (L * 0) ** -1,
        lambda: L + "1",
        lambda: L ** Decimal(2),
    ):
        with pytest.raises((ValueError, ZeroDivisionError, TypeError)):
            bad()
        assert state(L) == before


def test_a_failed_backward_puts_back_each_grad_as_it_was_even_one_that_tests_false():
    a, b = Value(0.0), Value(2.0)
    (a * b).backward(create_graph=True)  # b.grad is now a Value with data 0 (it tests false)
    kept = a.grad, b.grad
    assert isinstance(b.grad, Value) and not b.grad
    b.grad = 0  # an int zero: falsy too, and not what zero_like(2.0) gives
    out = (a * b).sqrt()  # sqrt at 0: its local derivative 0.5 / out fails in backward()
    with pytest.raises(ZeroDivisionError):
        out.backward()
    assert a.grad is kept[0] and type(b.grad) is int and b.grad == 0
