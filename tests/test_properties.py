"""Property-based gradient tests: hypothesis builds random expression DAGs over every op.

Each generated DAG is a *recipe* (a list of steps over node indices) that is run three
ways: on valuegrad Values, on PyTorch float64 tensors (the same ops, in the same order)
and, for central differences, on Values again at nudged inputs. The ops are the cases
of the registry (tests/op_cases.py), which covers every row of the op table: each step
performs one case (``x - y``, ``3 - x``, ``x ** 2.5``, ``x.softplus()``...), with its
PyTorch counterpart on the tensor side; constants go on either side of binary ops, and
one node feeds 2-5 later operations. Inputs stay inside each case's domain by
construction: when an operand would be outside it (``log`` of a value < 0.1, a divisor
with ``|b| < 0.1``, ``relu`` within 0.05 of its kink...) the operand ``a`` is replaced by
``a + 1`` or ``a*a + k`` (k >= 0.1), which is itself part of the DAG. Any node whose
magnitude exceeds 10 is passed through ``tanh`` before further use, so values stay in a
range where fixed tolerances mean something.

DAGs of the exact cases (the ops that keep Fractions exact) over `fractions.Fraction`
are compared *exactly* with sympy's symbolic derivative of the cases' sympy counterparts.

Tolerances (stated once, here):

- against PyTorch float64: values and gradients (first and second order) agree to
  ``1e-9 * (1 + |reference|)`` plus ``1e-11 * scale``, where scale is the largest
  magnitude in the DAG (the two libraries round a few ulps differently in tanh, exp, pow);
- against central differences (h = 1e-6): ``1e-5 * (1 + |reference|)`` plus
  ``1e-8 * scale`` (rounding error ~ eps * |f| / h, truncation error ~ h**2 * f''');
- `gradients(..., create_graph=True)` evaluates the same formulas on Values, so its
  numbers must equal `backward()`'s exactly.

The hypothesis settings are derandomized (tests/_settings.py: the same examples on every
run); ``VALUEGRAD_HYPOTHESIS_SEED`` and ``VALUEGRAD_HYPOTHESIS_SCALE`` explore more.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import sympy
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from _settings import examples as _settings
from _settings import maybe_seed as _maybe_seed
from op_cases import BY_NAME, CASES, inside
from valuegrad import Value, gradients, nn, numerical_grad, topological_order
from valuegrad import compile as compile_graph

BIG = 10.0  # magnitudes above this are squashed with tanh before further use

# --- running a recipe ---------------------------------------------------------------
#
# A step is one of
#   ("u", case, i)          the one-operand case on node i
#   ("b", case, i, j)       the two-operand case on nodes i and j
#   ("cl", case, c, i)      the two-operand case on the number c and node i (constant on the left)
#   ("cr", case, i, c)      the two-operand case on node i and the number c (constant on the right)
# where case names a case of tests/op_cases.py. Nodes 0..n-1 are the inputs; step k makes
# node n+k. The output is the last node. A recipe runs on Values ("value"), on PyTorch
# tensors ("torch") or on sympy symbols ("sympy"), with each case's counterpart.

ONE_OPERAND = [c for c in CASES if c.arity == 1]
TWO_OPERANDS = [c for c in CASES if c.arity == 2]


def as_sympy(c: Any) -> Any:
    if isinstance(c, Fraction):
        return sympy.Rational(c.numerator, c.denominator)
    return sympy.Integer(c) if isinstance(c, int) else sympy.Float(c)


def apply(step: tuple, nodes: list, backend: str) -> Any:
    case = BY_NAME[step[1]]
    f = {"value": case.perform, "torch": case.torch, "sympy": case.sympy}[backend]
    kind = step[0]
    if kind == "u":
        return f(nodes[step[2]])
    if kind == "b":
        return f(nodes[step[2]], nodes[step[3]])
    if kind == "cl":
        return f(as_sympy(step[2]) if backend == "sympy" else step[2], nodes[step[3]])
    return f(nodes[step[2]], as_sympy(step[3]) if backend == "sympy" else step[3])


def run(recipe: list[tuple], inputs: list, backend: str = "value") -> list:
    nodes = list(inputs)
    for step in recipe:
        nodes.append(apply(step, nodes, backend))
    return nodes


def operands(step: tuple) -> list[int]:
    kind = step[0]
    if kind == "u":
        return [step[2]]
    if kind == "b":
        return [step[2], step[3]]
    return [step[3]] if kind == "cl" else [step[2]]


def operand_data(step: tuple, vals: list) -> tuple:
    """The numbers a step's case is performed on: its nodes' data and its constant."""
    kind = step[0]
    if kind == "u":
        return (vals[step[2]].data,)
    if kind == "b":
        return (vals[step[2]].data, vals[step[3]].data)
    return (step[2], vals[step[3]].data) if kind == "cl" else (vals[step[2]].data, step[3])


# --- generating float DAGs -------------------------------------------------------------

CONSTANTS = [-2.5, -1.0, -0.5, 0.5, 1.0, 2.0, 3.0]
finite = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


@st.composite
def float_dags(draw: st.DrawFn) -> dict[str, Any]:
    xs = draw(st.lists(finite, min_size=1, max_size=3))
    n_steps = draw(st.integers(6, 16))
    # One node (chosen at step `start`) is forced to be the operand of `reuse` later steps.
    start = draw(st.integers(0, n_steps - 5))
    reuse = draw(st.integers(2, 5))
    forced_at = set(
        draw(st.lists(st.integers(start, n_steps - 1), min_size=reuse, max_size=reuse, unique=True))
    )
    recipe: list[tuple] = []
    probe = [Value(x) for x in xs]  # the data of every node, to keep operands in domain
    usable = list(range(len(xs)))  # nodes whose magnitude is <= BIG
    shared: int | None = None

    def emit(step: tuple) -> int:
        recipe.append(step)
        probe.append(apply(step, probe, "value"))
        index = len(probe) - 1
        if abs(probe[index].data) > BIG:  # squash before anyone uses it
            recipe.append(("u", "tanh", index))
            probe.append(probe[index].tanh())
            index = len(probe) - 1
        usable.append(index)
        return index

    def into(i: int, domain: Any) -> int:
        """An operand inside ``domain`` made from node i (i itself when it already is)."""
        if inside(domain, probe[i].data):
            return i
        if abs(probe[i].data) < 0.1:  # near a kink or a pole at 0
            j = emit(("cr", "add", i, 1.0))
            if inside(domain, probe[j].data):
                return j
            i = j
        k = draw(st.sampled_from([0.1, 0.25, 0.5, 1.0]))
        j = emit(("cr", "add", emit(("b", "mul", i, i)), k))  # a*a + k (a*a squashed when big): in [0.1, 10]
        assert inside(domain, probe[j].data), (domain, probe[j])
        return j

    def constant(domain: Any) -> float:
        return draw(st.sampled_from([c for c in CONSTANTS if inside(domain, c)]))

    for k in range(n_steps):
        if k == start:
            shared = draw(st.sampled_from(usable))
        if k in forced_at and shared is not None:
            a = shared
        else:
            a = draw(st.sampled_from(usable))
        kind = draw(st.sampled_from(["u", "u", "u", "b", "b", "cl", "cr"]))
        if kind == "u":
            case = draw(st.sampled_from(ONE_OPERAND))
            emit(("u", case.name, into(a, case.domain[0])))
        elif kind == "b":
            case = draw(st.sampled_from(TWO_OPERANDS))
            b = draw(st.sampled_from(usable))
            if draw(st.booleans()):
                a, b = b, a  # the shared node on either side
            emit(("b", case.name, into(a, case.domain[0]), into(b, case.domain[1])))
        elif kind == "cl":
            case = draw(st.sampled_from(TWO_OPERANDS))
            emit(("cl", case.name, constant(case.domain[0]), into(a, case.domain[1])))
        else:  # (a node ** a number is the case x ** k, a one-operand case)
            case = draw(st.sampled_from([c for c in TWO_OPERANDS if c.op.name != "pow_value"]))
            emit(("cr", case.name, into(a, case.domain[0]), constant(case.domain[1])))

    # Sum every node no later step uses, so that the whole DAG reaches the output.
    used = {i for step in recipe for i in operands(step)}
    dangling = [i for i in range(len(xs), len(probe)) if i not in used]
    out = dangling[0]
    for i in dangling[1:]:
        out = emit(("b", "add", out, i))
    assert shared is not None
    return {"xs": xs, "recipe": recipe, "shared": shared}


def uses(recipe: list[tuple], i: int) -> int:
    return sum(operands(step).count(i) for step in recipe)


def close(got: float, want: float, rel: float, absolute: float) -> bool:
    return abs(got - want) <= rel * (1 + abs(want)) + absolute


# --- the properties -------------------------------------------------------------------


@_maybe_seed
@_settings(max_examples=150)
@given(float_dags())
def test_random_dags_match_pytorch_float64(dag: dict[str, Any]) -> None:
    xs, recipe = dag["xs"], dag["recipe"]
    assert uses(recipe, dag["shared"]) >= 2

    vals = run(recipe, [Value(x) for x in xs])
    out = vals[-1]
    as_dict = gradients(out)
    out.backward()
    # gradients() runs the same chain rule into a dict: the same numbers, bit for bit
    assert all(as_dict.get(v, 0.0) == v.grad for v in vals)

    tin = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    tnodes = run(recipe, tin, "torch")
    for t in tnodes[len(xs) :]:
        t.retain_grad()
    tnodes[-1].backward()

    scale = max(abs(v.data) for v in vals)
    for i, (v, t) in enumerate(zip(vals, tnodes)):
        assert close(v.data, t.item(), 1e-9, 1e-11 * scale), (
            i,
            recipe[i - len(xs)] if i >= len(xs) else "input",
        )
    gscale = max(abs(v.grad) for v in vals)
    for i, (v, t) in enumerate(zip(vals, tnodes)):
        want = 0.0 if t.grad is None else t.grad.item()
        assert close(v.grad, want, 1e-9, 1e-11 * gscale), ("grad", i, v.grad, want)


@_maybe_seed
@_settings(max_examples=100)
@given(float_dags())
def test_random_dags_match_central_differences(dag: dict[str, Any]) -> None:
    xs, recipe = dag["xs"], dag["recipe"]
    inputs = [Value(x) for x in xs]
    vals = run(recipe, inputs)
    vals[-1].backward()
    numeric = numerical_grad(lambda *v: run(recipe, list(v))[-1], xs, h=1e-6)
    scale = max(abs(v.data) for v in vals)
    for x, n in zip(inputs, numeric):
        assert close(x.grad, n, 1e-5, 1e-8 * scale), (x.grad, n)


@_maybe_seed
@_settings(max_examples=60)
@given(float_dags())
def test_random_dags_second_order_match_pytorch(dag: dict[str, Any]) -> None:
    """create_graph gradients equal backward()'s exactly; their own gradient is torch's Hessian row."""
    xs, recipe = dag["xs"], dag["recipe"]
    inputs = [Value(x) for x in xs]
    vals = run(recipe, inputs)
    out = vals[-1]
    # torch masks d(x**y)/dx where y == 0 with a constant, which loses that term's derivative
    # with respect to y (torch says d2/dxdy x**y = 0 at y = 0; it is x**(y-1) = 1 at x = 1):
    # see test_second_derivative_of_x_to_the_y_at_y_zero and the registry's pow_value case
    # (torch_second_wrong). Leave those points out here.
    assume(
        not any(
            (wrong := BY_NAME[s[1]].torch_second_wrong) is not None and wrong(*operand_data(s, vals))
            for s in recipe
        )
    )
    first = gradients(out, inputs, create_graph=True)
    out.backward()
    for x in inputs:
        g = first[x]
        assert (g.data if isinstance(g, Value) else g) == x.grad

    tin = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    tout = run(recipe, tin, "torch")[-1]
    (tg0,) = torch.autograd.grad(tout, tin[0], create_graph=True, allow_unused=True)
    if tg0 is None or not tg0.requires_grad:  # d out / d x0 does not depend on the inputs
        row = [0.0] * len(xs)
    else:
        row = [0.0 if h is None else h.item() for h in torch.autograd.grad(tg0, tin, allow_unused=True)]
    g0 = first[inputs[0]]
    if isinstance(g0, Value):
        second = gradients(g0, inputs)
        got = [float(second[x]) for x in inputs]
    else:
        got = [0.0] * len(xs)
    scale = max(1.0, *(abs(r) for r in row))
    for a, b in zip(got, row):
        assert close(a, b, 1e-8, 1e-10 * scale), (got, row)


def test_second_derivative_of_x_to_the_y_at_y_zero():
    """Where torch's masked pow backward is wrong, valuegrad agrees with sympy."""
    sx, sy = sympy.symbols("x y")
    want = sympy.diff(sx**sy, sx, sy).subs({sx: 1, sy: 0})
    x, y = Value(1.0), Value(0.0)
    dx = gradients(x**y, [x], create_graph=True)[x]
    assert gradients(dx, [y])[y] == float(want) == 1.0
    tx = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    (tdx,) = torch.autograd.grad(tx**ty, tx, create_graph=True)
    (tdxy,) = torch.autograd.grad(tdx, ty, allow_unused=True) if tdx.requires_grad else (None,)
    assert tdxy is None or tdxy.item() == 0.0  # torch's answer, documented here (not a valuegrad bug)


# --- exact: DAGs of the exact cases over Fraction (and int) against sympy ----------------------

small_fractions = st.fractions(min_value=-3, max_value=3, max_denominator=7)


small_ints = st.integers(-4, 4)

EXACT = [c for c in CASES if c.exact]
# Over ints, valuegrad keeps ints where Python does: no division, no negative powers.
INT_EXACT = [c for c in EXACT if c.op.name != "div" and c.name != "pow(x ** -1)"]


@st.composite
def fraction_dags(draw: st.DrawFn, ints: bool = False) -> dict[str, Any]:
    """DAGs of the exact cases over Fraction; with ``ints``, of those that keep ints over int."""
    xs = draw(st.lists(small_ints if ints else small_fractions, min_size=1, max_size=3))
    constants = small_ints if ints else st.fractions(min_value=-3, max_value=3, max_denominator=5)
    cases = INT_EXACT if ints else EXACT
    n_steps = draw(st.integers(3, 10))
    reuse = draw(st.integers(2, 5))
    recipe: list[tuple] = []
    probe = [Value(x) for x in xs]

    def emit(step: tuple) -> None:
        recipe.append(step)
        probe.append(apply(step, probe, "value"))

    shared = draw(st.integers(0, len(xs) - 1))
    for k in range(n_steps):
        a = shared if k < reuse else draw(st.integers(0, len(probe) - 1))
        case = draw(st.sampled_from(cases))
        kind = draw(st.sampled_from(["b", "cl", "cr"])) if case.arity == 2 else "u"
        if kind == "u":
            step: tuple = ("u", case.name, a)
            args: tuple = (probe[a].data,)
        elif kind == "b":
            b = draw(st.integers(0, len(probe) - 1))
            step, args = ("b", case.name, a, b), (probe[a].data, probe[b].data)
        elif kind == "cl":
            c = draw(constants)
            step, args = ("cl", case.name, c, a), (c, probe[a].data)
        else:
            c = draw(constants)
            step, args = ("cr", case.name, a, c), (probe[a].data, c)
        if case.forward_error(*args) is not None:  # a division by zero: multiply instead
            step = (step[0], "mul" if case.arity == 2 else "mul(3 * x)", *step[2:])
        emit(step)
        if abs(Fraction(probe[-1].data).numerator) > 10**40 or Fraction(probe[-1].data).denominator > 10**40:
            break  # keep the numbers (and sympy's expressions) small
    used = {i for step in recipe for i in operands(step)}
    dangling = [i for i in range(len(xs), len(probe)) if i not in used]
    out = dangling[0]
    for i in dangling[1:]:
        emit(("b", "add", out, i))
        out = len(probe) - 1
    return {"xs": xs, "recipe": recipe}


@_maybe_seed
@_settings(max_examples=120)
@given(st.one_of(fraction_dags(), fraction_dags(ints=True)))
def test_exact_dags_match_sympy(dag: dict[str, Any]) -> None:
    """Fraction DAGs get exact Fraction gradients; int DAGs (no division) exact int gradients."""
    xs, recipe = dag["xs"], dag["recipe"]
    number = type(xs[0])
    inputs = [Value(x) for x in xs]
    vals = run(recipe, inputs)
    out = vals[-1]
    out.backward()
    assert all(type(v.data) is number for v in vals), [type(v.data) for v in vals]

    symbols = sympy.symbols(f"x0:{len(xs)}", real=True)
    expr = run(recipe, list(symbols), "sympy")[-1]
    point = {s: as_sympy(x) for s, x in zip(symbols, xs)}
    assert sympy.Rational(expr.xreplace(point)) == as_sympy(out.data)
    for s, x in zip(symbols, inputs):
        want = sympy.diff(expr, s).xreplace(point)
        assert type(x.grad) is number, type(x.grad)
        assert x.grad == Fraction(int(want.p), int(want.q)), (x.grad, want)


# --- the same DAGs in other settings -----------------------------------------------------------------


@_maybe_seed
@_settings(max_examples=60)
@given(float_dags(), st.data())
def test_backward_from_an_inner_node_then_from_the_output_matches_torch(dag: dict[str, Any], data) -> None:
    """Two backward() calls from different roots accumulate exactly as torch's retained grads do."""
    xs, recipe = dag["xs"], dag["recipe"]
    vals = run(recipe, [Value(x) for x in xs])
    inner = data.draw(st.integers(len(xs), len(vals) - 1), label="inner node")
    vals[inner].backward()
    vals[-1].backward()

    tin = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    tnodes = run(recipe, tin, "torch")
    for t in tnodes[len(xs) :]:
        t.retain_grad()
    tnodes[inner].backward(retain_graph=True)
    tnodes[-1].backward()
    gscale = max(abs(v.grad) for v in vals)
    for i, (v, t) in enumerate(zip(vals, tnodes)):
        want = 0.0 if t.grad is None else t.grad.item()
        assert close(v.grad, want, 1e-9, 1e-11 * gscale), ("grad", i, v.grad, want)


@_maybe_seed
@_settings(max_examples=60)
@given(float_dags())
def test_numpy_float64_inputs_give_the_same_bits_as_floats(dag: dict[str, Any]) -> None:
    xs, recipe = dag["xs"], dag["recipe"]
    plain = run(recipe, [Value(x) for x in xs])
    plain[-1].backward()
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # no inf/NaN the float path lacks
        numpy = run(recipe, [Value(np.float64(x)) for x in xs])
        numpy[-1].backward()
    for p, n in zip(plain, numpy):
        assert float(n.data) == p.data and float(n.grad) == p.grad, (p, n)
        assert type(n.data) in (float, np.float64)


# --- structural properties ------------------------------------------------------------------


def _build_topo(root: Value) -> list[Value]:
    """micrograd's build_topo (recursive, depth first), visiting operands in order."""
    topo: list[Value] = []
    visited: set[int] = set()

    def build(v: Value) -> None:
        if id(v) not in visited:
            visited.add(id(v))
            for child in v.children:
                build(child)
            topo.append(v)

    build(root)
    return topo


@_maybe_seed
@_settings(max_examples=80)
@given(float_dags())
def test_topological_order_is_a_valid_order_and_backward_accumulates(dag: dict[str, Any]) -> None:
    xs, recipe = dag["xs"], dag["recipe"]
    inputs = [Value(x) for x in xs]
    out = run(recipe, inputs)[-1]
    order = topological_order(out)
    position = {id(v): k for k, v in enumerate(order)}
    assert len(position) == len(order) and order[-1] is out
    for v in order:
        assert all(position[id(c)] < position[id(v)] for c in v.children)
        assert v.height == (1 + max(c.height for c in v.children) if v.children else 0)
    assert [id(v) for v in order] == [id(v) for v in _build_topo(out)]
    # backward() applies the chain rule in exactly the reverse topological order: the same
    # sums in the same order as backward_step by hand and as gradients(), to the bit.
    exact = gradients(out)
    out.grad = 1.0
    for v in reversed(order):
        v.backward_step()
    by_hand = [v.grad for v in order]
    for v in order:
        v.grad = 0.0
    out.backward()
    once = [v.grad for v in order]
    assert once == by_hand
    assert once == [exact.get(v, 0.0) for v in order]
    out.backward()
    twice = [v.grad for v in order]
    # A second call adds exactly one more pass. An intermediate node computes this pass
    # from zero and adds back what it held, so it doubles exactly; a leaf adds each
    # contribution into what it holds, so it doubles up to rounding.
    gscale = max(abs(g) for g in once)
    for v, g1, g2 in zip(order, once, twice):
        if v.is_leaf:
            assert close(g2, 2 * g1, 1e-12, 1e-14 * gscale), (g1, g2)
        else:
            assert g2 == 2 * g1, (v.op, g1, g2)


OPERAND_KINDS = ["a new leaf", "a listed leaf", "a listed op node", "an op node not reached yet"]


@pytest.mark.parametrize("second", [None, *OPERAND_KINDS])
@pytest.mark.parametrize("first", OPERAND_KINDS)
def test_a_second_operand_is_listed_in_build_topo_order_whatever_its_operands(
    first: str, second: str | None
) -> None:
    """The walk lists a second operand in place when it can: each kind of operand it may have."""
    listed_leaf = Value(0.5)
    listed_op = listed_leaf.exp()
    before = listed_op + listed_leaf  # out's first operand: these two are listed first

    def operand(kind: str) -> Value:
        return {
            "a new leaf": Value(1.5),
            "a listed leaf": listed_leaf,
            "a listed op node": listed_op,
            "an op node not reached yet": Value(0.25).sin(),
        }[kind]

    z = operand(first)
    y = z.tanh() if second is None else z * operand(second)
    out = before * y
    order = topological_order(out)
    assert [id(v) for v in order] == [id(v) for v in _build_topo(out)]
    out.backward()
    once = [v.grad for v in order]
    out.backward()  # the op nodes' grads, found by the walk, are set aside: they double exactly
    for v, g1 in zip(order, once):
        if not v.is_leaf:
            assert v.grad == 2 * g1, (v.op, g1, v.grad)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_shared_node_gets_every_contribution(n: int) -> None:
    """A node used n times as the same operand gets n contributions (micrograd's `a + a`)."""
    x = Value(1.5)
    s = x.tanh()
    out = s
    for _ in range(n - 1):
        out = out * s
    out.backward()
    t = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    (torch.tanh(t) ** n).backward()
    assert x.grad == pytest.approx(t.grad.item(), rel=1e-12)


# --- networks: predict() is model(x).data bit for bit; files round-trip every float -----------------

any_finite = st.floats(allow_nan=False, allow_infinity=False)


@_maybe_seed
@_settings(max_examples=60)
@given(
    st.integers(1, 4),
    st.lists(st.integers(1, 4), min_size=1, max_size=3),
    st.sampled_from(["tanh", "relu", "sigmoid", "linear"]),
    st.sampled_from(["tanh", "relu", "sigmoid", "linear"]),
    st.integers(0, 2**32),
    st.data(),
)
def test_predict_is_the_graphs_output_bit_for_bit(nin, nouts, act, last, seed_, data) -> None:
    model = nn.MLP(nin, nouts, act, last, seed=seed_)
    x = data.draw(st.lists(st.floats(-50, 50) | st.integers(-5, 5), min_size=nin, max_size=nin))
    out = model(x)
    pred = model.predict(x)
    if isinstance(out, list):
        assert [o.data for o in out] == pred
    else:
        assert out.data == pred


@_maybe_seed
@_settings(max_examples=40)
@given(st.integers(1, 3), st.lists(st.integers(1, 3), min_size=1, max_size=3), st.data())
def test_saved_models_round_trip_every_float_exactly(tmp_path_factory, nin, nouts, data) -> None:
    model = nn.MLP(nin, nouts, seed=0)
    for p in model.parameters():  # subnormals, -0.0, 1e308, integers: every finite float
        p.data = data.draw(any_finite | st.sampled_from([-0.0, 5e-324, -1.7976931348623157e308]))
    path = tmp_path_factory.mktemp("m") / "model.json"
    model.save(path)
    loaded = nn.MLP.load(path)
    assert [p.data.hex() for p in loaded.parameters()] == [float(p.data).hex() for p in model.parameters()]
    again = nn.MLP(nin, nouts, seed=1)
    again.load_state_dict(model.state_dict())
    assert [p.data.hex() for p in again.parameters()] == [float(p.data).hex() for p in model.parameters()]


@_maybe_seed
@_settings(max_examples=40)
@given(float_dags())
def test_compiled_dags_match_eager(dag: dict[str, Any]) -> None:
    """`valuegrad.compile` replays the same DAGs: mode "python" bit for bit, NumPy modes to rounding."""
    xs, recipe = dag["xs"], dag["recipe"]

    def fn(*v: Value) -> Value:
        return run(recipe, list(v))[-1]

    inputs = [Value(x) for x in xs]
    out = fn(*inputs)
    out.backward()
    for mode in ("python", "level"):
        compiled = compile_graph(fn, xs, mode=mode)
        value = float(np.asarray(compiled(xs)).reshape(-1)[0])
        grads = [float(np.asarray(g).reshape(-1)[0]) for g in compiled.backward()]
        if mode == "python":
            assert value == out.data and grads == [x.grad for x in inputs]
        else:
            assert close(value, out.data, 1e-12, 0.0)
            assert all(close(g, x.grad, 1e-9, 1e-12) for g, x in zip(grads, inputs)), (grads, inputs)
