"""valuegrad.ops, the op table, and the registry of op cases (tests/op_cases.py) that every consumer's
tests are parametrised by: the registry covers exactly the table, its references agree with each other,
and each row's own `Op.forward`/`Op.local_grads` match sympy, exactly where the op keeps Fractions exact."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from _settings import examples, maybe_seed
from op_cases import (
    BY_NAME,
    CASES,
    KINKS,
    OpCase,
    close,
    kink_id,
    reused,
    sympy_derivatives,
    torch_derivatives,
)
from valuegrad import Dual, Value, ops

# --- the registry covers exactly the table ------------------------------------------------


def test_the_registry_covers_exactly_the_op_table():
    """Adding an op to valuegrad.ops.OPS without a case in tests/op_cases.py fails here."""
    in_table = {op.name for op in ops.OPS}
    in_registry = {case.op.name for case in CASES}
    assert in_registry == in_table, (
        f"ops without a case in tests/op_cases.py: {sorted(in_table - in_registry)}; "
        f"cases of ops not in the table: {sorted(in_registry - in_table)}"
    )
    assert all(case.op is ops.by_name(case.op.name) for case in CASES)


def test_every_method_of_every_op_has_a_case():
    """Each method that performs an op (``__sub__`` and the reflected ``__rsub__``) is exercised by a case."""
    methods = {(op.name, m) for op in ops.OPS for m in op.methods}
    performed = {(case.op.name, case.method) for case in CASES if case.method}
    assert performed == methods
    # An op with no method (IDENTITY: valuegrad.grad's new name for a variable, made with
    # valuegrad.value._node) has no Dual counterpart either: forward mode has no variables to
    # rename. Those are exactly the cases left out of the forward-mode tests.
    no_method = {case.name for case in CASES if not case.op.methods}
    assert no_method == {case.name for case in CASES if not case.dual} == {"id"}
    assert all(case.method == "" for case in CASES if not case.op.methods)


def _inputs(case: OpCase, point: tuple[Any, ...]) -> list[Value]:
    return [Value(p) for p in point]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_case_performs_its_op_with_its_method(case):
    xs = _inputs(case, case.sample())
    node = case.perform(*xs)
    assert isinstance(node, Value) and node._operation is case.op
    children = node.children
    if case.op.number:
        assert children == (xs[0],)
    elif case.arity == 2:
        assert children == tuple(xs)
    elif case.method.startswith("__r"):  # a number on the left: a constant leaf, then the input
        assert children[1] is xs[0] and children[0].is_leaf and children[0] is not xs[0]
    else:
        assert children[0] is xs[0] and (len(children) == 1 or children[1].is_leaf)
    if case.dual:
        d = case.perform(*(Dual(p, 1.0) for p in case.sample()))
        assert isinstance(d, Dual) and d.primal == node.data


# --- the references agree with each other -------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_pytorch_and_sympy_counterparts_agree(case):
    """The registry's own references: a wrong counterpart would make every test that uses it vacuous."""
    for f_torch, f_sympy in ((case.torch, case.sympy), (reused(case.torch), reused(case.sympy))):
        for point in case.samples():
            value, grads, hessian = torch_derivatives(f_torch, point)
            s_value, s_grads, s_hessian = sympy_derivatives(f_sympy, point)
            assert close(value, s_value) and all(close(g, s) for g, s in zip(grads, s_grads)), point
            if case.torch_second_wrong is None or not case.torch_second_wrong(*point):
                assert all(close(h, s) for row, s_row in zip(hessian, s_hessian) for h, s in zip(row, s_row))


@pytest.mark.parametrize(("case", "kink"), KINKS, ids=[kink_id(k) for k in KINKS])
def test_kinks_agree_with_the_cases_domain_errors(case, kink):
    forward = case.forward_error(*kink.point)
    backward = case.backward_error(*kink.point) if forward is None else None
    if kink.forward_fails:
        assert forward is kink.error is not None
    elif kink.backward_fails:
        assert backward is kink.error is not None
    else:
        assert forward is backward is kink.error is None
        assert len(kink.grads) == case.arity
        assert kink.hessian is None or [len(row) for row in kink.hessian] == [case.arity] * case.arity


def test_the_registry_states_the_conventions():
    """PyTorch's conventions, written in the registry that every consumer's kink tests read."""

    def at(name: str, point: tuple[float, ...]):
        return next(k for k in BY_NAME[name].kinks if k.point == point and str(k) == str(point[0]))

    assert at("relu", (0.0,)).grads == (0,) and at("abs", (0.0,)).grads == (0,)
    assert at("pow(x ** 0)", (0.0,)).grads == (0,) and at("pow(x ** 0)", (0.0,)).value == 1
    for name in ("sqrt", "pow(x ** 0.5)"):
        assert at(name, (0.0,)).backward_fails and at(name, (0.0,)).error is ZeroDivisionError
    assert at("softplus", (1000.0,)).value == 1000.0 and at("softplus", (-1000.0,)).value == 0.0
    assert at("log", (0.0,)).forward_fails


# --- each row's forward and local derivatives, over plain numbers -------------------------------


def table_call(case: OpCase, point: tuple[Any, ...]) -> tuple[Any, Any, list[int]]:
    """The arguments of ``case.op.forward``/``local_grads`` at ``point`` (x, and y or k), and where
    each input of the case sits among the op's operands (``3 - x``: x is the op's ``y``)."""
    xs = _inputs(case, case.sample())
    node = case.perform(*xs)
    children = list(node.children)
    positions = [next(j for j, c in enumerate(children) if c is x) for x in xs]
    args = [c.data for c in children]
    for p, j in zip(point, positions):
        args[j] = p
    second = node._k if case.op.number else (args[1] if case.op.binary else None)
    return args[0], second, positions


def local_grads(case: OpCase, point: tuple[Any, ...]) -> tuple[Any, list[Any]]:
    """``(out, [d out / d input for each input])`` from the op table's own row."""
    x, second, positions = table_call(case, point)
    out = case.op.forward(x, second)
    local = case.op.local_grads(x, second, out)
    local = (local,) if not case.op.binary else local
    return out, [local[j] for j in positions]


@maybe_seed
@examples(8)
@given(data=st.data())
@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_rows_forward_and_local_derivatives_match_sympy(case, data):
    point = data.draw(case.points(), label="point")
    out, grads = local_grads(case, point)
    assert out == case.perform(*_inputs(case, point)).data  # the same number the engine computes
    want, want_grads, _ = sympy_derivatives(case.sympy, point)
    assert close(out, want, 1e-13), (out, want)
    assert all(close(g, w, 1e-12) for g, w in zip(grads, want_grads)), (grads, want_grads)


@maybe_seed
@examples(8)
@given(data=st.data())
@pytest.mark.parametrize("case", [c for c in CASES if c.exact], ids=str)
def test_exact_rows_keep_fractions_exact(case, data):
    point = data.draw(case.fraction_points(), label="point")
    assume(case.forward_error(*point) is None)
    out, grads = local_grads(case, point)
    want, want_grads, _ = sympy_derivatives(case.sympy, point)
    assert type(out) is Fraction and out == want
    assert all(type(g) in (int, Fraction) for g in grads) and grads == want_grads, (grads, want_grads)


@pytest.mark.parametrize(("case", "kink"), KINKS, ids=[kink_id(k) for k in KINKS])
def test_each_row_at_its_kinks(case, kink):
    if kink.forward_fails:
        with pytest.raises(kink.error):
            local_grads(case, kink.point)
        return
    x, second, _ = table_call(case, kink.point)
    assert case.op.forward(x, second) == kink.value
    if kink.backward_fails:
        with pytest.raises(kink.error):
            local_grads(case, kink.point)
        return
    assert local_grads(case, kink.point) == (kink.value, list(kink.grads))
