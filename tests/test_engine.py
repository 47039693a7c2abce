"""The engine: the notebook's worked numbers, number types, every op of the table (tests/op_cases.py)
against PyTorch and sympy and at its kinks, deep graphs and bad input."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

import valuegrad
from _settings import examples, maybe_seed
from op_cases import (
    CASES,
    KINKS,
    close,
    data_of,
    kink_id,
    reused,
    sympy_derivatives,
    torch_derivatives,
)
from valuegrad import Value, gradients, numerical_grad, ops, topological_order
from valuegrad.examples import ONE_NEURON_BIAS, first_expression, one_neuron


def by_label(root: Value) -> dict[str, Value]:
    return {v.label: v for v in topological_order(root) if v.label}


# --- the notebook's numbers -------------------------------------------------


def test_first_expression_values_and_gradients():
    L = first_expression()
    L.backward()
    v = by_label(L)
    assert L.data == -8.0
    grads = {k: v[k].grad for k in "abcdefL"}
    assert grads == {"a": 6.0, "b": -4.0, "c": -2.0, "d": -2.0, "e": -2.0, "f": 4.0, "L": 1.0}
    assert v["d"].op == "*" and v["e"].op == "+" and L.op == "*"
    assert v["d"].children == (v["a"], v["b"])


def test_finite_difference_matches_notebook_exactly():
    # The notebook nudges d by h = 0.001 and prints -2.000000000000668.
    got = numerical_grad(lambda d, c, f: (d + c) * f, [-6.0, 10.0, -2.0], h=0.001, method="forward")
    assert got[0] == -2.000000000000668
    central = numerical_grad(lambda a, b, c, f: (a * b + c) * f, [2.0, -3.0, 10.0, -2.0])
    assert central == pytest.approx([6.0, -4.0, -2.0, 4.0], abs=1e-6)


@pytest.mark.parametrize("via_exp", [False, True])
def test_one_neuron(via_exp):
    o = one_neuron(tanh_via_exp=via_exp)
    o.backward()
    v = by_label(o)
    assert o.data == pytest.approx(1 / math.sqrt(2), abs=1e-12)
    assert v["x₁"].grad == pytest.approx(-1.5, abs=1e-12)
    assert v["w₁"].grad == pytest.approx(1.0, abs=1e-12)
    assert v["x₂"].grad == pytest.approx(0.5, abs=1e-12)
    assert v["w₂"].grad == 0.0
    assert v["n"].grad == pytest.approx(0.5, abs=1e-12)
    assert v["b"].grad == pytest.approx(0.5, abs=1e-12)
    assert v["b"].data == ONE_NEURON_BIAS


def test_manual_backward_steps_in_reverse_topological_order_match_backward():
    o = one_neuron()
    o.grad = 1.0
    for node in reversed(topological_order(o)):
        node.backward_step()
    manual = [v.grad for v in topological_order(o)]
    o2 = one_neuron()
    o2.backward()
    assert manual == [v.grad for v in topological_order(o2)]


def test_a_plus_a_accumulates():
    a = Value(-2.0, label="a")
    b = a + a
    assert b.children == (a, a)
    b.backward()
    assert a.grad == 2.0


def test_backward_twice_accumulates_exactly_one_pass_more():
    a, b = Value(2.0), Value(-3.0)
    c = (a * b).tanh() * a + b
    c.backward()
    first = (a.grad, b.grad)
    c.backward()
    assert (a.grad, b.grad) == pytest.approx((2 * first[0], 2 * first[1]), rel=1e-15)
    a.grad = b.grad = 0.0
    c.backward()
    assert (a.grad, b.grad) == pytest.approx(first, rel=1e-15)


def test_repr_and_attributes():
    a = Value(2.0)
    assert repr(a) == "Value(data=2.0, grad=0.0)"
    a.label = "a"
    assert repr(a) == "Value(data=2.0, grad=0.0, label='a')"
    assert a.op == "" and a.children == () and a.is_leaf
    assert (a * 2).op == "*" and (a**2).op == "**" and (2**a).op == "**"
    for case in CASES:  # every op shows its row's symbol
        assert case.perform(*(Value(p) for p in case.sample())).op == case.op.symbol


# --- number types: the notebook's promotion rules, done the Python way ------------


@pytest.mark.parametrize(
    ("make", "expected_type"),
    [
        (lambda: Value(2) + 3, int),
        (lambda: 3 + Value(2), int),
        (lambda: Value(2.0) + 3, float),
        (lambda: Value(2) + 3.0, float),
        (lambda: Value(2) + Value(2.0), float),
        (lambda: Value(2) * Fraction(1, 3), Fraction),
        (lambda: Fraction(1, 3) - Value(2), Fraction),
        (lambda: Value(2) / 4, float),
        (lambda: Value(Fraction(1, 2)) / 4, Fraction),
        (lambda: Value(np.float32(2)) * 3, np.float32),
        (lambda: np.float32(2) * Value(3.0), np.float32 if np.__version__ >= "2" else np.float64),
        (lambda: Value(np.float64(2)) + 1, np.float64),
        (lambda: np.float64(2) + Value(1), np.float64),
        (lambda: Value(2).tanh(), float),
        (lambda: Value(Fraction(1, 2)).exp(), float),
    ],
)
def test_promotion(make, expected_type):
    v = make()
    assert isinstance(v, Value)
    assert type(v.data) is expected_type


def test_int_graph_stays_int():
    v = Value(2) + 3
    assert v.data == 5 and type(v.data) is int and type(v.grad) is int
    a, b = Value(3), Value(4)
    c = a * b + a
    c.backward()
    assert (a.grad, b.grad) == (5, 3) and type(a.grad) is int


def test_fraction_polynomial_exact_gradient():
    x = Value(Fraction(1, 3))
    y = x**3 + 2 * x * x - x / 5 + Fraction(7, 2)
    y.backward()
    assert y.data == Fraction(1, 27) + Fraction(2, 9) - Fraction(1, 15) + Fraction(7, 2)
    assert x.grad == 3 * Fraction(1, 9) + 4 * Fraction(1, 3) - Fraction(1, 5)
    assert type(x.grad) is Fraction


def test_numpy_scalars_on_either_side():
    x = Value(np.float64(1.5))
    y = np.float64(2.0) * x + x * np.float64(3.0) - np.float64(1.0)
    y.backward()
    assert y.data == pytest.approx(6.5) and x.grad == pytest.approx(5.0)


# --- every op of the table (tests/op_cases.py) against PyTorch, sympy and at its kinks -------


@maybe_seed
@examples(10)
@given(data=st.data())
@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_op_value_and_first_derivative_match_pytorch(case, data):
    """The op alone, then its result used twice (``reused``): gradients from several uses add up."""
    point = data.draw(case.points(), label="point")
    for f, f_torch in ((case.perform, case.torch), (reused(case.perform), reused(case.torch))):
        xs = [Value(p) for p in point]
        out = f(*xs)
        out.backward()
        want, want_grads, _ = torch_derivatives(f_torch, point, second=False)
        assert close(out.data, want), (out.data, want)
        assert all(close(x.grad, g) for x, g in zip(xs, want_grads)), ([x.grad for x in xs], want_grads)
        # gradients() runs the same chain rule into a dict, without touching .grad: the same bits
        assert list(gradients(out, xs).values()) == [x.grad for x in xs]


@maybe_seed
@examples(8)
@given(data=st.data())
@pytest.mark.parametrize("case", [c for c in CASES if c.exact], ids=str)
def test_every_exact_op_backpropagates_exact_fractions(case, data):
    point = data.draw(case.fraction_points(), label="point")
    assume(case.forward_error(*point) is None)
    f = reused(case.perform)
    xs = [Value(p) for p in point]
    out = f(*xs)
    out.backward()
    want, want_grads, _ = sympy_derivatives(reused(case.sympy), point)
    assert type(out.data) is Fraction and out.data == want
    assert [type(x.grad) for x in xs] == [Fraction] * len(xs) and [x.grad for x in xs] == want_grads


def engine_state(*values: Value) -> list[tuple]:
    return [(v.data, v.grad) for root in values for v in topological_order(root)]


@pytest.mark.parametrize(("case", "kink"), KINKS, ids=[kink_id(k) for k in KINKS])
def test_every_op_at_its_kinks(case, kink):
    xs = [Value(p) for p in kink.point]
    if kink.forward_fails:
        before = engine_state(*xs)
        with pytest.raises(kink.error):
            case.perform(*xs)
        assert engine_state(*xs) == before
        return
    out = case.perform(*xs)
    assert out.data == kink.value, (out.data, kink.value)
    if kink.backward_fails:
        before = engine_state(out)
        with pytest.raises(kink.error):
            out.backward()
        assert engine_state(out) == before  # no grad changed
        with pytest.raises(kink.error):
            gradients(out, xs)
        return
    assert [data_of(g) for g in gradients(out, xs).values()] == list(kink.grads)
    out.backward()
    assert [x.grad for x in xs] == list(kink.grads), ([x.grad for x in xs], kink.grads)
    if kink.torch_first:
        want, want_grads, _ = torch_derivatives(case.torch, kink.point, second=False)
        assert close(out.data, want) and all(close(x.grad, g) for x, g in zip(xs, want_grads))


@pytest.mark.parametrize(
    ("f", "tf"),
    [
        (
            lambda x, y: (x * y + x).tanh() * (x - y) / (y * y + 1),
            lambda x, y: torch.tanh(x * y + x) * (x - y) / (y * y + 1),
        ),
        (
            lambda x, y: (x.exp() + y.sigmoid()).log() - (x * 0.5).relu() ** 2 + 2 ** (y / 3),
            lambda x, y: torch.log(torch.exp(x) + torch.sigmoid(y)) - torch.relu(x * 0.5) ** 2 + 2 ** (y / 3),
        ),
    ],
    ids=["reuse", "mixed"],
)
@pytest.mark.parametrize("point", [(-2.5, -1.3), (0.3, 0.9), (1.7, -0.4)])
def test_composite_functions_against_torch_and_central_differences(f, tf, point):
    xs = [Value(p) for p in point]
    out = f(*xs)
    out.backward()
    want, want_grads, _ = torch_derivatives(tf, point, second=False)
    assert out.data == pytest.approx(want, rel=1e-12, abs=1e-12)
    assert [x.grad for x in xs] == pytest.approx(want_grads, rel=1e-10, abs=1e-12)
    assert [x.grad for x in xs] == pytest.approx(numerical_grad(f, list(point), h=1e-6), rel=1e-5, abs=1e-6)


# --- deep and wide graphs ---------------------------------------------------


def test_million_op_chain_backpropagates_without_recursion():
    import sys

    limit = sys.getrecursionlimit()
    x = Value(0.5)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0 + 0.0  # 2 ops per step; scale keeps the value at 0.5
    y = y.tanh()
    y.backward()
    assert sys.getrecursionlimit() == limit
    assert x.grad == pytest.approx(1 - math.tanh(0.5) ** 2)


def test_topological_order_is_deterministic_and_complete():
    o = one_neuron()
    order = topological_order(o)
    assert len(order) == 10 and order[-1] is o
    position = {id(v): i for i, v in enumerate(order)}
    for v in order:
        for c in v.children:
            assert position[id(c)] < position[id(v)]
    assert [v.label for v in order] == [v.label for v in topological_order(one_neuron())]


def test_topological_order_of_shared_subgraphs_and_from_threads():
    # The sort marks nodes with a per-call token: a sort of a subgraph, or a sort in
    # another thread, must not disturb another sort's marks.
    import threading

    x = Value(0.5, label="x")
    shared = (x * x).tanh()
    a = shared + shared * x
    b = shared * 2.0 + a
    assert [v.op for v in topological_order(b)] == [v.op for v in topological_order(b)]
    assert {id(v) for v in topological_order(shared)} <= {id(v) for v in topological_order(b)}

    deep = x
    for _ in range(20_000):
        deep = deep * 1.0 + shared
    expected = [id(v) for v in topological_order(deep)]
    results: list[list[int]] = []

    def sort() -> None:
        for _ in range(3):
            results.append([id(v) for v in topological_order(deep)])

    threads = [threading.Thread(target=sort) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 12 and all(r == expected for r in results)
    assert len(expected) == len(set(expected))


def test_backward_from_threads_on_graphs_sharing_a_node():
    # Each backward() marks the nodes it reaches with its own token, under a lock: a
    # walk in another thread over the same nodes must neither skip a node nor process
    # one twice, and a shared node must pass on each call's gradient only once.
    # Ints make every sum exact whatever order the threads take.
    import sys
    import threading

    a, b, c = Value(2), Value(-3), Value(5)
    shared = a * b + c  # an intermediate node that every graph uses

    def graph(seed: int) -> Value:
        out = shared
        for i in range(3_000):
            out = out + (shared if i % 4 == seed else a) * (b if i % 2 else c)
        return out

    for g in [graph(seed) for seed in range(4)]:
        g.backward()
    expected = [v.grad for v in (a, b, c, shared)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for _ in range(3):
            for v in (a, b, c, shared):
                v.grad = 0
            threads = [threading.Thread(target=graph(seed).backward) for seed in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert [v.grad for v in (a, b, c, shared)] == expected
    finally:
        sys.setswitchinterval(interval)


def test_value_methods_are_written_from_the_op_table():
    import inspect
    from pathlib import Path

    from valuegrad import value

    # The methods are real code in value.py: go-to-definition, tracebacks and coverage see them
    # (compiled, the same file is what Cython compiled).
    source = (Path(value.__file__).parent / "value.py").read_text()
    if not valuegrad.NATIVE:
        assert inspect.getsourcefile(Value.__mul__) == inspect.getsourcefile(value)
        method = inspect.getsource(Value.__mul__)
        assert "return _node(self.data * operand.data, MUL, self, operand)" in method
    assert "        return _node(self.data * operand.data, MUL, self, operand)\n" in source
    assert "        return _node(operand.data - self.data, SUB, operand, self)\n" in source
    for op in ops.OPS:
        for name in op.methods:
            body = source[source.index(f"    def {name}(") :].split("\n\n")[0]
            assert f", {op.name.upper()}, " in body, (op.name, name)
    assert (2.0 - Value(5.0)).data == -3.0 and Value.__rsub__.__qualname__ == "Value.__rsub__"


def test_a_failing_local_derivative_names_the_node_in_backward():
    import traceback

    x = Value(0.0, label="x")
    y = x**0.5
    y.label = "root"
    with pytest.raises(ZeroDivisionError) as err:
        y.backward()
    message = str(err.value)
    assert message.startswith("backward() failed at the '**0.5' node 'root' (out = 0.0, x = 0.0)")
    assert "d out/dx = 0 if k == 0 else k * power(x, k - 1)" in message
    assert "No grad was changed" in message and x.grad == 0.0 and y.grad == 0.0
    # the traceback shows the generated line of backward.py that failed, as written in the file
    shown = "".join(traceback.format_exception(err.value))
    assert "X.grad += (0 if k == 0 else k * power(X.data, k - 1)) * g" in shown


def test_gradients_does_not_touch_grad():
    x = Value(3.0)
    y = x * x * x
    g = gradients(y, [x])
    assert g[x] == 27.0 and x.grad == 0.0


def test_create_graph_second_derivative():
    x = Value(3.0)
    y = x * x * x
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 27.0
    assert gradients(x.grad, [x])[x] == 18.0


# --- bad input: a clear error, nothing changed --------------------------------------


@pytest.mark.parametrize("bad", ["abc", None, [1, 2], (1,), 1j, True, Value(2.0)])
def test_value_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match=type(bad).__name__ if not isinstance(bad, Value) else "Value"):
        Value(bad)


def test_label_must_be_str():
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)
    node = Value(1.0) * 2.0
    assert node.label == ""  # a node made by an operation has no label until given one
    with pytest.raises(TypeError, match="label must be a str, got int"):
        node.label = 3  # type: ignore[assignment]
    assert node.label == ""
    node.label = "n"
    assert node.label == "n" and "label='n'" in repr(node)


@pytest.mark.parametrize("bad", [0.0, -1.0, -1e-300])
def test_log_of_non_positive(bad):
    with pytest.raises(ValueError, match=repr(bad)):
        Value(bad).log()


def test_division_by_zero():
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / Value(0.0)
    with pytest.raises(ZeroDivisionError):
        1 / Value(0)


def test_unsupported_operand_types():
    for bad in ("2", None, [1.0], {1: 2}):
        with pytest.raises(TypeError):
            Value(1.0) + bad
        with pytest.raises(TypeError):
            bad * Value(1.0)
    with pytest.raises(TypeError):
        Value(1.0) ** "2"


def test_no_silent_complex_or_nan_from_pow():
    with pytest.raises(ValueError, match="not a real number"):
        Value(-4.0) ** 0.5
    with pytest.raises(ValueError, match="positive base"):
        Value(-2.0) ** Value(2.0)
    with pytest.raises(ValueError, match="positive base"):
        (-2.0) ** Value(2.0)


def test_failed_op_changes_nothing():
    a = Value(-1.0)
    before = (a.data, a.grad, a.label, a.op)
    with pytest.raises(ValueError):
        a.log()
    assert (a.data, a.grad, a.label, a.op) == before
