"""valuegrad.functional and valuegrad.higher_order: higher-order reverse mode (create_graph, grad,
hessian, hvp) and forward mode (Dual, jvp).

Every op of the table (tests/op_cases.py) is checked at generated points and at its kinks;
second and third derivatives against PyTorch's double backward
(``torch.autograd.grad(..., create_graph=True)``) in float64, with the same Python
function run on Values and on tensors, and exactly against sympy over Fractions.
"""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest
import sympy
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

import valuegrad
from _settings import examples, maybe_seed
from op_cases import (
    CASES,
    KINKS,
    data_of,
    into_domain,
    kink_id,
    reused,
    sympy_derivatives,
    torch_derivatives,
)
from valuegrad import ops
from valuegrad.engine import Value, gradients
from valuegrad.functional import Dual, grad, hessian, hvp, jvp, value_and_grad


def close(a, b, tol=1e-9):
    return a == b or abs(a - b) <= tol * (1 + abs(b))  # (equal infinities are close)


def torch_hessian_by_double_backward(f, point):
    _, first, rows = torch_derivatives(f, point)
    return first, rows


# --- every op of the table (tests/op_cases.py): second derivatives, at generated points and kinks ---


def second_order_by_create_graph(f, point):
    """``f``'s gradient by ``backward(create_graph=True)`` (as numbers), and the Hessian from it."""
    xs = [Value(p) for p in point]
    f(*xs).backward(create_graph=True)
    grads = [data_of(x.grad) for x in xs]
    rows = []
    for x in xs:
        if isinstance(x.grad, Value):
            d = gradients(x.grad, xs)
            rows.append([d[v] for v in xs])
        else:  # a constant gradient: its derivatives are 0
            rows.append([0] * len(xs))
    return grads, rows


def second_order_by_nested_grad(f, arity):
    """The Hessian's rows by ``grad(grad(f))``."""
    if arity == 1:
        return lambda x: [[grad(grad(f))(x)]]
    first = [lambda x, y, i=i: grad(f, argnums=i)(x, y) for i in range(arity)]
    return lambda x, y: [list(grad(g, argnums=(0, 1))(x, y)) for g in first]


@maybe_seed
@examples(6)
@given(data=st.data())
@pytest.mark.parametrize("case", CASES, ids=str)
def test_second_derivatives_of_every_op_match_torch_double_backward(case, data):
    """hessian, backward(create_graph=True) and grad(grad(f)) against PyTorch (the op's result used twice)."""
    point = data.draw(case.points(), label="point")
    if case.torch_second_wrong is not None:
        assume(not case.torch_second_wrong(*point))  # PyTorch is wrong there: see the kinks
    f = reused(case.perform)
    _, want_grads, want = torch_derivatives(reused(case.torch), point)
    n = case.arity

    def same(got):
        return all(close(got[i][j], want[i][j]) for i in range(n) for j in range(n))

    got = hessian(f)(list(point))
    assert same(got), (point, got, want)
    grads, rows = second_order_by_create_graph(f, point)
    assert all(close(g, w) for g, w in zip(grads, want_grads)) and same(rows), (point, grads, rows, want)
    nested = second_order_by_nested_grad(f, n)(*point)
    assert same(nested), (point, nested, want)


@maybe_seed
@examples(5)
@given(data=st.data())
@pytest.mark.parametrize("case", [c for c in CASES if c.exact], ids=str)
def test_second_derivatives_of_every_exact_op_are_exact_fractions(case, data):
    point = data.draw(case.fraction_points(), label="point")
    assume(case.forward_error(*point) is None)
    _, _, want = sympy_derivatives(reused(case.sympy), point)
    got = hessian(reused(case.perform))(list(point))
    assert got == want and all(type(h) in (int, Fraction) for row in got for h in row), (got, want)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_backward_with_create_graph_twice_adds_both_passes(case):
    """A second ``backward(create_graph=True)`` adds to ``.grad`` (a Value) as the first did, like PyTorch."""
    f = reused(case.perform)
    point = case.sample()
    once, once_rows = second_order_by_create_graph(f, point)
    xs = [Value(p) for p in point]
    out = f(*xs)
    out.backward(create_graph=True)
    out.backward(create_graph=True)
    assert all(close(data_of(x.grad), 2 * g, 1e-14) for x, g in zip(xs, once)), ([x.grad for x in xs], once)
    for x, row in zip(xs, once_rows):
        if isinstance(x.grad, Value):
            d = gradients(x.grad, xs)
            assert all(close(d[v], 2 * h, 1e-14) for v, h in zip(xs, row)), (d, row)
    # and a plain backward() on top adds its numbers to the recorded gradients
    out.backward()
    assert all(close(data_of(x.grad), 3 * g, 1e-14) for x, g in zip(xs, once))


@pytest.mark.parametrize(("case", "kink"), KINKS, ids=[kink_id(k) for k in KINKS])
def test_higher_order_and_forward_mode_at_every_kink(case, kink):
    """create_graph, grad, grad(grad), hessian and jvp at each kink: the registry's numbers or error."""
    point = list(kink.point)
    n = case.arity
    argnums = 0 if n == 1 else tuple(range(n))
    if kink.forward_fails or kink.backward_fails:
        xs = [Value(p) for p in point]
        if kink.backward_fails:
            out = case.perform(*xs)
            with pytest.raises(kink.error):
                out.backward(create_graph=True)
            assert [x.grad for x in xs] == [0.0] * n and out.grad == 0.0  # no grad changed
        for call in (
            lambda: grad(case.perform, argnums=argnums)(*point),
            lambda: hessian(case.perform)(point),
            *((lambda: jvp(case.perform, point, [1.0] * n)),) * case.dual,
        ):
            with pytest.raises(kink.error):
                call()
        return
    grads, rows = second_order_by_create_graph(case.perform, point)
    assert grads == list(kink.grads), (grads, kink.grads)
    got = grad(case.perform, argnums=argnums)(*point)
    assert (got if n == 2 else (got,)) == kink.grads
    if kink.hessian is not None:
        want = [list(row) for row in kink.hessian]
        assert rows == want and hessian(case.perform)(point) == want, (rows, want)
        assert second_order_by_nested_grad(case.perform, n)(*point) == want
        if kink.torch_second:
            _, _, torch_rows = torch_derivatives(case.torch, point)
            assert all(close(h, t) for row, t_row in zip(want, torch_rows) for h, t in zip(row, t_row))
    if case.dual:
        for i in range(n):
            tangent = [1.0 if j == i else 0.0 for j in range(n)]
            value, directional = jvp(case.perform, point, tangent)
            assert value == kink.value and directional == kink.grads[i], (value, directional)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_backward_create_graph_then_backward_again_accumulates_like_torch():
    # PyTorch: y.backward(create_graph=True); x.grad.backward() adds d2y/dx2 to x.grad.
    def f(x):
        return (x * x).tanh() * x

    x = Value(0.7)
    f(x).backward(create_graph=True)
    first = x.grad
    first.backward()
    t = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    f(t).backward(create_graph=True)
    t_first = t.grad.clone()
    t.grad.backward()
    assert close(first.data, t_first.item())
    assert close(float(x.grad.data if isinstance(x.grad, Value) else x.grad), t.grad.item())


def torch_nth_derivative(f, x0, n):
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    y = f(x)
    for _ in range(n):
        if not y.requires_grad:  # a constant derivative: the next one is 0
            return 0.0
        (y,) = torch.autograd.grad(y, x, create_graph=True, allow_unused=True)
        if y is None:
            return 0.0
    return y.item()


@pytest.mark.parametrize("case", [c for c in CASES if c.arity == 1], ids=str)
def test_third_derivatives_of_every_one_operand_op_match_torch(case):
    f = reused(case.perform)
    third = grad(grad(grad(f)))
    for (x0,) in case.samples():
        assert close(third(x0), torch_nth_derivative(reused(case.torch), x0, 3)), x0


def test_higher_derivatives_of_powers_at_zero():
    # was an engine bug: POW_CONST's partial y * x ** (y - 1) recorded x ** 0, whose own derivative
    # 0 * x ** -1 divided by zero at x = 0 (notes/engine_bugs.md)
    # torch: every derivative of x**k at 0 is k! for the k-th and 0 beyond
    assert grad(grad(grad(lambda x: x**2)))(0.0) == torch_nth_derivative(lambda x: x**2, 0.0, 3)
    assert grad(grad(lambda x: x**1))(0.0) == 0.0
    assert grad(lambda x: x**0)(0.0) == 0.0


def test_higher_derivatives_of_powers_away_from_zero():
    f = lambda x: x**5  # noqa: E731
    g = f
    for n in range(1, 7):  # up to the 6th derivative, which is 0
        g = grad(g)
        assert close(g(2.0), torch_nth_derivative(f, 2.0, n)), n


# --- no perturbation confusion; nesting ------------------------------------


def test_nested_grad_keeps_perturbations_apart():
    # d/dx [x * (d/dy x*y at y=2)] = d/dx x**2 = 2x; a grad returning plain floats inside gives 3.0
    assert grad(lambda x: x * grad(lambda y: x * y)(2.0))(3.0) == 6.0
    # Siskind & Pearlmutter's example: d/dx [x * (d/dy (x + y) at y=1)] = 1 (confusion gives 2)
    assert grad(lambda x: x * grad(lambda y: x + y)(1.0))(1.0) == 1.0
    # the inner variable is the outer one: d/dy (x*y) = x, then d/dx x = 1 (not d/dx x*x = 2x)
    assert grad(lambda x: grad(lambda y: x * y)(x))(3.0) == 1.0


def test_three_levels_of_nesting():
    # innermost: d/dz xyz = xy; middle: d/dy (x * y * xy) = 2 x**2 y, at y = 1: 2 x**2;
    # outer: d/dx (x * 2 x**2) = 6 x**2 = 24 at x = 2
    inner = lambda x, y: grad(lambda z: x * y * z)(1.0)  # noqa: E731
    middle = lambda x: grad(lambda y: x * y * inner(x, y))(1.0)  # noqa: E731
    assert grad(lambda x: x * middle(x))(2.0) == 24.0
    assert grad(lambda x: grad(lambda y: grad(lambda z: x * y * z)(1.0))(1.0))(5.0) == 1.0


def test_inner_grad_returns_a_value_outer_returns_a_number():
    seen = []

    def f(x):  # d/dy (y*y*x) at y = x: 2 x**2
        g = grad(lambda y: y * y * x)(x)
        seen.append(g)
        return g

    assert grad(f)(2.0) == grad(lambda x: 2 * x * x)(2.0) == 8.0
    assert isinstance(seen[0], Value) and type(grad(f)(2.0)) is float


def test_grad_of_grad_matches_second_derivative_and_depth_is_restored_after_an_error():
    f = lambda x: (x * x).tanh()  # noqa: E731
    assert close(grad(grad(f))(0.8), torch_nth_derivative(f, 0.8, 2))

    def boom(x):
        raise RuntimeError("inside f")

    with pytest.raises(RuntimeError):
        grad(lambda x: grad(boom)(x))(1.0)
    # a later outermost call returns numbers again (the nesting counter went back to 0)
    assert grad(f)(0.8) == pytest.approx(torch_nth_derivative(f, 0.8, 1), rel=1e-12)
    assert type(grad(f)(0.8)) is float


def test_grad_argnums_kwargs_and_value_and_grad():
    def f(x, y, data, scale=1.0):
        return (x * data[0] + y * data[1]).tanh() * scale

    data = [0.5, -2.0]
    gx, gy = grad(f, argnums=(0, 1))(0.3, 0.1, data, scale=3.0)
    t = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (0.3, 0.1)]
    want = torch.autograd.grad(f(t[0], t[1], data, scale=3.0), t)
    assert close(gx, want[0].item()) and close(gy, want[1].item())
    assert grad(f, argnums=1)(0.3, 0.1, data, scale=3.0) == gy
    value, (vx, vy) = value_and_grad(f, argnums=(0, 1))(0.3, 0.1, data, scale=3.0)
    assert close(value, f(*t, data, scale=3.0).item()) and (vx, vy) == (gx, gy)


def test_grad_with_a_value_argument_returns_a_differentiable_value():
    x = Value(1.5)
    g = grad(lambda v: v * v * v)(x)  # 3 x**2, recorded
    assert isinstance(g, Value) and g.data == 3 * 1.5**2
    assert gradients(g, [x])[x] == 6 * 1.5


def test_grad_never_touches_dot_grad():
    w = Value(0.5)
    w.grad = 123.0

    def loss(x):
        return (w * x).tanh() * w

    grad(loss)(2.0)
    grad(grad(loss))(2.0)
    hessian(lambda a, b: loss(a) * b)([2.0, 1.0])
    hvp(lambda a, b: loss(a) * b)([2.0, 1.0], [1.0, 1.0])
    x = Value(2.0)
    grad(loss)(x)
    assert w.grad == 123.0 and x.grad == 0.0


def test_constant_functions_have_zero_derivatives():
    assert grad(lambda x: Value(2.0))(1.0) == 0
    assert grad(grad(lambda x: x + 1))(1.0) == 0
    assert hessian(lambda x, y: x + y)([1.0, 2.0]) == [[0, 0], [0, 0]]
    assert hvp(lambda x, y: x * 2 + y)([1.0, 2.0], [1.0, 1.0]) == [0, 0]


def test_a_plain_number_output_is_refused_not_read_as_zero():
    import math

    # math.sin would turn the Value into a float, and a silent derivative of 0 would be wrong (cos 1):
    # a Value refuses to become a float, naming the method that stays in the graph
    with pytest.raises(TypeError, match=r"not converted to a float.*v\.sin\(\)"):
        grad(lambda x: math.sin(x))(1.0)
    with pytest.raises(TypeError, match="not converted to a float"):
        hessian(lambda x, y: float(x * y))([1.0, 2.0])
    with pytest.raises(TypeError, match="Dual is not converted to a float"):
        jvp(lambda x: math.exp(x), [1.0], [1.0])
    # a function that returns a plain number does not depend on its input through valuegrad
    with pytest.raises(TypeError, match=r"plain number.*float\(\) or a math function"):
        grad(lambda x: x.data * 2.0)(1.0)
    with pytest.raises(TypeError, match="plain number"):
        hessian(lambda x, y: 2.0)([1.0, 2.0])
    with pytest.raises(TypeError, match="plain number"):
        jvp(lambda x: x.primal, [1.0], [1.0])


def test_bad_arguments_are_reported():
    with pytest.raises(TypeError, match="argnums"):
        grad(lambda x: x, argnums="0")
    with pytest.raises(ValueError, match="repeat"):
        grad(lambda x, y: x, argnums=(0, 0))
    with pytest.raises(ValueError, match="argument 2"):
        grad(lambda x, y: x, argnums=2)(1.0, 2.0)
    with pytest.raises(TypeError, match="argument 0 must be a number"):
        grad(lambda x: x)("1.0")
    with pytest.raises(TypeError, match="scalar Value"):
        grad(lambda x: [x, x])(1.0)
    with pytest.raises(TypeError, match="list of inputs"):
        hessian(lambda x: x * x)(1.0)
    with pytest.raises(ValueError, match="vector of length"):
        hvp(lambda x, y: x * y)([1.0, 2.0], [1.0])


# --- hessian / hvp -------------------------------------------------------------


def mlp_loss(w11, w12, b1, v1, rest, const):
    """A 2-3-1 tanh MLP's mean squared error on three points; four of its parameters are variables.

    ``const`` turns the other parameters into constants of the right kind (Value or tensor).
    """
    (w21, w22, w31, w32, b2, b3, v2, v3, c) = (const(r) for r in rest)
    weights = [(w11, w12, b1), (w21, w22, b2), (w31, w32, b3)]
    out_w = [v1, v2, v3]
    xs = [(0.5, -1.0), (1.5, 0.3), (-0.7, 0.8)]
    ys = [1.0, -0.5, 0.25]
    loss = 0.0
    for (x1, x2), y in zip(xs, ys):
        hidden = [(w1 * x1 + w2 * x2 + b).tanh() for w1, w2, b in weights]
        score = c
        for v, h in zip(out_w, hidden):
            score = score + v * h
        loss = loss + (score - y) ** 2
    return loss / len(xs)


def test_hessian_of_a_small_mlp_loss_matches_torch():
    rng = random.Random(3)
    rest = [rng.uniform(-1, 1) for _ in range(9)]
    params = [0.4, -0.3, 0.1, 0.8]

    got = hessian(lambda *p: mlp_loss(*p, rest, Value))(params)

    tparams = tuple(torch.tensor(p, dtype=torch.float64) for p in params)
    as_tensor = lambda r: torch.tensor(r, dtype=torch.float64)  # noqa: E731
    want = torch.autograd.functional.hessian(lambda *p: mlp_loss(*p, rest, as_tensor), tparams)
    for i in range(4):
        for j in range(4):
            assert close(got[i][j], want[i][j].item(), 1e-10), (i, j, got[i][j], want[i][j].item())
    assert all(got[i][j] == got[j][i] or close(got[i][j], got[j][i]) for i in range(4) for j in range(4))

    # a Hessian-vector product is H @ v, without forming H
    v = [1.0, -2.0, 0.5, 3.0]
    hv = hvp(lambda *p: mlp_loss(*p, rest, Value))(params, v)
    for i in range(4):
        assert close(hv[i], sum(want[i][j].item() * v[j] for j in range(4)), 1e-10)


def test_hessian_of_a_polynomial_over_fractions_is_exact():
    X, Y = sympy.symbols("x y")

    def poly(x, y):
        return 3 * x**4 * y - x * y**3 * Fraction(1, 7) + (x - 2 * y) ** 2 + 5 - x / Fraction(3, 2)

    point = [Fraction(2, 3), Fraction(-5, 4)]
    got = hessian(poly)(point)
    want = sympy.hessian(poly(X, Y), (X, Y)).subs({X: sympy.Rational(2, 3), Y: sympy.Rational(-5, 4)})
    for i in range(2):
        for j in range(2):
            assert type(got[i][j]) is Fraction, got[i][j]
            assert got[i][j] == Fraction(int(want[i, j].p), int(want[i, j].q))
    # and nested grad gives the same exact numbers
    assert grad(grad(poly))(*point) == got[0][0]
    assert hvp(poly)(point, [Fraction(1), Fraction(1, 2)]) == [
        got[0][0] + got[0][1] / 2,
        got[1][0] + got[1][1] / 2,
    ]


def test_create_graph_keeps_division_by_an_int_exact():
    # was an engine bug: the recorded 1 / y was the float 1 / 7 for an int y (notes/engine_bugs.md)
    x = Value(Fraction(2, 3))
    first = gradients(x * x / 7, [x], create_graph=True)[x]
    assert type(first.data) is Fraction and first.data == gradients(x * x / 7, [x])[x]
    assert hessian(lambda x: x * x * x / 7)([Fraction(2, 3)]) == [[Fraction(6 * 2, 3 * 7)]]


def test_nested_hessian_returns_values_an_outer_grad_can_differentiate():
    # d/da of H_00 of f(x) = a * x**3 at x: H_00 = 6 a x, so d/da = 6 x
    outer = grad(lambda a: hessian(lambda x: a * x**3)([2.0])[0][0])
    assert outer(1.5) == 12.0


# --- forward mode -------------------------------------------------------------


@maybe_seed
@examples(8)
@given(data=st.data())
@pytest.mark.parametrize("case", [c for c in CASES if c.dual], ids=str)
def test_jvp_is_the_reverse_mode_gradient_dotted_with_the_tangent(case, data):
    point = data.draw(case.points(), label="point")
    tangent = data.draw(st.tuples(*[st.floats(-2, 2)] * case.arity), label="tangent")
    f = reused(case.perform)
    value, directional = jvp(f, list(point), list(tangent))
    xs = [Value(p) for p in point]
    out = f(*xs)
    g = gradients(out, xs)
    assert value == out.data  # the same scalar functions, the same bits
    want = sum(g[x] * t for x, t in zip(xs, tangent))
    assert close(directional, want, 1e-11), (point, tangent, directional, want)


@maybe_seed
@examples(5)
@given(data=st.data())
@pytest.mark.parametrize("case", [c for c in CASES if c.dual and c.exact], ids=str)
def test_jvp_of_every_exact_op_is_exact(case, data):
    point = data.draw(case.fraction_points(), label="point")
    assume(case.forward_error(*point) is None)
    tangent = [Fraction(1, 3), Fraction(-2)][: case.arity]
    value, directional = jvp(reused(case.perform), list(point), tangent)
    want, want_grads, _ = sympy_derivatives(reused(case.sympy), point)
    assert value == want and directional == sum(g * t for g, t in zip(want_grads, tangent))
    assert type(value) is Fraction and type(directional) is Fraction


def test_dual_arithmetic_with_numbers_on_either_side():
    x = Dual(1.5, 1.0)
    cases = [
        (lambda x: 2 + x, 1.0),
        (lambda x: 2 - x, -1.0),
        (lambda x: x - 2, 1.0),
        (lambda x: 2 * x, 2.0),
        (lambda x: 3 / x, -3 / 1.5**2),
        (lambda x: x / 3, 1 / 3),
        (lambda x: 2**x, 2**1.5 * 0.6931471805599453),
        (lambda x: x**2.5, 2.5 * 1.5**1.5),
        (lambda x: x**x, 1.5**1.5 * (0.4054651081081644 + 1)),
        (lambda x: -x, -1.0),
    ]
    for f, want in cases:
        d = f(x)
        t = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
        (tg,) = torch.autograd.grad(f(t), t)
        assert close(d.tangent, tg.item(), 1e-12) and close(d.tangent, want, 1e-12)
        assert close(d.primal, f(t).item(), 1e-14)


def test_dual_with_numpy_scalars_on_either_side():
    d = np.float64(2.0) * Dual(1.5, 1.0) + Dual(1.5, 1.0) * np.float64(3.0)
    assert isinstance(d, Dual) and (d.primal, d.tangent) == (7.5, 5.0)


def test_dual_over_fractions_is_exact_and_reads_the_op_table():
    x = Dual(Fraction(1, 3), Fraction(1))
    y = x**3 * 2 - x / 5 + 1
    assert y.primal == 2 * Fraction(1, 27) - Fraction(1, 15) + 1
    assert y.tangent == 6 * Fraction(1, 9) - Fraction(1, 5)
    # the tangent of a unary op is the op table's local derivative times the input tangent
    assert Dual(2.0, 1.0).tanh().tangent == ops.TANH.local_grads(2.0, None, ops.TANH.forward(2.0, None))


def test_dual_errors():
    with pytest.raises(TypeError, match="primal"):
        Dual("1.0", 1.0)
    with pytest.raises(TypeError, match="tangent"):
        Dual(1.0, Value(1.0))
    with pytest.raises(TypeError):
        Dual(1.0, 1.0) + Value(1.0)
    with pytest.raises(ValueError, match="positive base"):
        Dual(-1.0, 1.0) ** Dual(2.0, 0.0)
    with pytest.raises(ValueError, match="log"):
        Dual(-1.0, 1.0).log()
    with pytest.raises(ValueError, match="tangents"):
        jvp(lambda x, y: x * y, [1.0, 2.0], [1.0])
    with pytest.raises(TypeError, match="scalar"):
        jvp(lambda x: [x], [1.0], [1.0])


STEP_CASES = [c for c in CASES if c.dual]  # forward mode runs the programs too


def random_program(seed, steps=14):
    """A random expression DAG over (x, y) that reuses nodes, as a function of Values, Duals or tensors.

    Every step applies one op of the registry (tests/op_cases.py) to earlier nodes, squashed
    and moved into the op's domain (a positive quantity a * a + 0.5 where the op needs one).
    """
    rng = random.Random(seed)
    recipe = [
        (rng.choice(STEP_CASES), rng.randrange(k + 2), rng.randrange(k + 2), rng.random() < 0.5)
        for k in range(steps)
    ]

    def program(x, y):
        on_tensors = torch.is_tensor(x)
        nodes = [x, y]
        for k, (case, i, j, flip) in enumerate(recipe):
            a, b = nodes[i], nodes[j]
            # squash first so that values stay moderate however deep the program
            a, b = a.tanh() if k % 2 else a.sigmoid(), b.tanh()
            f = case.torch if on_tensors else case.perform
            x = into_domain(case.domain[0], a, flip)
            if case.arity == 2:
                nodes.append(f(x, into_domain(case.domain[1], b, not flip)))
            else:
                nodes.append(f(x) * b)
        return nodes[-1] * nodes[-2] + nodes[-3]

    return program


def test_random_programs_with_reused_nodes_match_torch_double_backward():
    rng = random.Random(11)
    for seed in range(25):
        program = random_program(seed)
        point = (rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5))
        want_grad, want_hess = torch_hessian_by_double_backward(program, point)
        got = hessian(program)(list(point))
        got_grad = grad(program, argnums=(0, 1))(*point)
        tangent = [rng.uniform(-1, 1), rng.uniform(-1, 1)]
        _, directional = jvp(program, list(point), tangent)
        assert close(directional, want_grad[0] * tangent[0] + want_grad[1] * tangent[1]), seed
        for i in range(2):
            assert close(got_grad[i], want_grad[i]), (seed, i)
            for j in range(2):
                assert close(got[i][j], want_hess[i][j]), (seed, i, j, got[i][j], want_hess[i][j])


def test_deep_chains_need_no_recursion():
    def chain(x):
        for _ in range(2500):  # deeper than Python's recursion limit (1000)
            x = (x * 0.999).tanh() + 0.001
        return x

    t = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(chain(t), t, create_graph=True)
    (h,) = torch.autograd.grad(g, t)
    assert close(grad(grad(chain))(0.3), h.item())


def test_docstring_examples():
    import doctest

    import valuegrad.functional

    result = doctest.testmod(valuegrad.functional)
    assert result.attempted >= 8 and result.failed == 0


# --- bad arguments: a clear error ----------------------------------------------------------

_f2 = lambda x, y: x * y + x.tanh()  # noqa: E731

BAD_CALLS = {
    "grad argnums out of range": (lambda: valuegrad.grad(_f2, argnums=5)(1.0, 2.0), ValueError),
    "grad argnums negative": (lambda: valuegrad.grad(_f2, argnums=-1)(1.0, 2.0), TypeError),
    "grad argnums str": (lambda: valuegrad.grad(_f2, argnums="0")(1.0, 2.0), TypeError),
    "grad argnums repeated": (lambda: valuegrad.grad(_f2, argnums=(0, 0))(1.0, 2.0), ValueError),
    "grad str input": (lambda: valuegrad.grad(_f2)("1", 2.0), TypeError),
    "grad returns list": (lambda: valuegrad.grad(lambda x: [x, x])(1.0), TypeError),
    "grad returns None": (lambda: valuegrad.grad(lambda x: None)(1.0), TypeError),
    "grad of log at 0": (lambda: valuegrad.grad(lambda x: x.log())(0.0), ValueError),
    "hessian no inputs": (lambda: valuegrad.hessian(lambda *a: sum(a))([]), ValueError),
    "hessian str": (lambda: valuegrad.hessian(lambda a: a * a)("ab"), TypeError),
    "hvp mismatch": (lambda: valuegrad.hvp(lambda a, b: a * b)([1.0, 2.0], [1.0]), ValueError),
    "jvp mismatch": (lambda: valuegrad.jvp(lambda a, b: a * b, [1.0, 2.0], [1.0]), ValueError),
    "jvp str tangent": (lambda: valuegrad.jvp(lambda a: a * a, [1.0], ["1"]), TypeError),
    "Dual str": (lambda: valuegrad.Dual("a", 1.0), TypeError),
    "Dual None tangent": (lambda: valuegrad.Dual(1.0, None), TypeError),
    "Dual log 0": (lambda: valuegrad.Dual(0.0, 1.0).log(), ValueError),
}


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_functions_reject_bad_arguments(name):
    call, error = BAD_CALLS[name]
    with pytest.raises(error):
        call()
