"""valuegrad.functional: higher-order reverse mode (grad, hessian, hvp) and forward mode (Dual, jvp).

Second and third derivatives are checked against PyTorch's double backward
(``torch.autograd.grad(..., create_graph=True)``) in float64, with the same Python
function run on Values and on tensors.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from valuegrad import ops
from valuegrad.engine import Value, gradients
from valuegrad.functional import Dual, grad, hessian, hvp, jvp, value_and_grad

torch = pytest.importorskip("torch")

# One function of (x, y) per op, each using it more than once and reusing nodes
# (x appears in several places, `a` is used twice), with a domain where it is smooth.
POS = (0.3, 2.0)
ANY = (-2.0, 2.0)


def _add(x, y):
    a = x + y
    return a * a * y + (x + x) * x


def _sub(x, y):
    a = x - y
    return a * a * x - (y - x * y) * a


def _mul(x, y):
    a = x * y
    return a * a * x + a * y


def _div(x, y):
    a = x / y
    return a * a + y / (x * x) + 1 / a


def _pow_const(x, y):
    a = x * y
    return a**3 + x**2 * y**-1.5 + (x * x + 1) ** 0.5


def _pow_value(x, y):
    a = x**y
    return a * a + (x * y) ** x + 2**y + x ** (y * y)


def _neg(x, y):
    a = -(x * y)
    return a * -x + -a * a


def _tanh(x, y):
    a = (x * y).tanh()
    return a * x.tanh() + a * a + (x + y).tanh() * y


def _exp(x, y):
    a = (x * y).exp()
    return a * x.exp() + a * y + (a * 0.1).exp()


def _log(x, y):
    a = (x * y).log()
    return a * x.log() + (x / y).log() * a + (a * a + 1).log()


def _relu(x, y):
    a = (x * y).relu()
    return a * x.relu() * x + a * a * y


def _sigmoid(x, y):
    a = (x * y).sigmoid()
    return a * x.sigmoid() + a * a * y + (x - y).sigmoid() * x


CASES = {
    "+": (_add, ANY),
    "-": (_sub, ANY),
    "*": (_mul, ANY),
    "/": (_div, POS),
    "** number": (_pow_const, POS),
    "** Value": (_pow_value, POS),
    "neg": (_neg, ANY),
    "tanh": (_tanh, ANY),
    "exp": (_exp, (-1.0, 1.0)),
    "log": (_log, POS),
    "relu": (_relu, ANY),
    "sigmoid": (_sigmoid, ANY),
}


def points(domain, n=8, seed=0):
    rng = random.Random(seed)
    lo, hi = domain
    out = []
    while len(out) < n:
        x, y = rng.uniform(lo, hi), rng.uniform(lo, hi)
        if min(abs(x), abs(y), abs(x * y), abs(x - y)) > 0.05:  # keep relu's kinks away
            out.append((x, y))
    return out


def torch_hessian_by_double_backward(f, point):
    xs = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in point]
    first = torch.autograd.grad(f(*xs), xs, create_graph=True)
    rows = []
    for g in first:
        if not g.requires_grad:
            rows.append([0.0] * len(xs))
            continue
        second = torch.autograd.grad(g, xs, allow_unused=True, retain_graph=True)
        rows.append([0.0 if s is None else s.item() for s in second])
    return [g.item() for g in first], rows


def close(a, b, tol=1e-9):
    return abs(a - b) <= tol * (1 + abs(b))


@pytest.mark.parametrize("name", list(CASES))
def test_second_derivatives_of_every_op_match_torch_double_backward(name):
    f, domain = CASES[name]
    for point in points(domain):
        want_grad, want_hess = torch_hessian_by_double_backward(f, point)

        got = hessian(f)(list(point))
        ok = all(close(got[i][j], want_hess[i][j]) for i in range(2) for j in range(2))
        assert ok, (point, got, want_hess)

        # the same through Value.backward(create_graph=True): .grad becomes a differentiable Value
        x, y = Value(point[0]), Value(point[1])
        f(x, y).backward(create_graph=True)
        assert close(x.grad.data, want_grad[0]) and close(y.grad.data, want_grad[1])
        dx = gradients(x.grad, [x, y])
        assert close(dx[x], want_hess[0][0]) and close(dx[y], want_hess[0][1]), (point, dx, want_hess)


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
        (y,) = torch.autograd.grad(y, x, create_graph=True)
    return y.item()


@pytest.mark.parametrize(
    "name, f",
    [
        ("tanh", lambda x: x.tanh()),
        ("exp", lambda x: (x * 0.5).exp()),
        ("x**5", lambda x: x**5),
        ("sigmoid", lambda x: x.sigmoid()),
        ("log", lambda x: (x * x + 1).log()),
    ],
)
def test_third_derivatives_match_torch(name, f):
    third = grad(grad(grad(f)))
    for x0 in (-1.7, -0.4, 0.3, 0.9, 2.2):
        assert close(third(x0), torch_nth_derivative(f, x0, 3)), (name, x0)


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
    sympy = pytest.importorskip("sympy")
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


@pytest.mark.parametrize("name", list(CASES))
def test_jvp_is_the_reverse_mode_gradient_dotted_with_the_tangent(name):
    f, domain = CASES[name]
    rng = random.Random(name)
    for point in points(domain, n=6, seed=1):
        tangent = [rng.uniform(-2, 2), rng.uniform(-2, 2)]
        value, directional = jvp(f, list(point), tangent)
        xs = [Value(p) for p in point]
        out = f(*xs)
        g = gradients(out, xs)
        assert close(value, out.data, 1e-14)
        assert close(directional, g[xs[0]] * tangent[0] + g[xs[1]] * tangent[1], 1e-11), (point, tangent)


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
    np = pytest.importorskip("numpy")
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


STEPS = (
    lambda a, b: a + b,
    lambda a, b: a - b * a,
    lambda a, b: a * b,
    lambda a, b: a / (b * b + 1),
    lambda a, b: (a * a + 0.5) ** 1.5 - b**3,
    lambda a, b: (a * a + 0.5) ** b,
    lambda a, b: -a * b.exp(),
    lambda a, b: (a * b).tanh() * a,
    lambda a, b: (a - b).exp(),
    lambda a, b: (a * a + b * b + 0.1).log(),
    lambda a, b: (a + b + 0.05).relu() * a,
    lambda a, b: (a * b).sigmoid() + b,
)


def random_program(seed, steps=14):
    """A random expression DAG over (x, y) that reuses nodes, as a function of Values or tensors.

    Every step combines two earlier nodes with one op, kept inside the op's domain
    (log and fractional powers of a positive quantity, division by one plus a square).
    """
    rng = random.Random(seed)
    recipe = [(rng.randrange(len(STEPS)), rng.randrange(k + 2), rng.randrange(k + 2)) for k in range(steps)]

    def program(x, y):
        nodes = [x, y]
        for kind, i, j in recipe:
            a, b = nodes[i], nodes[j]
            # squash first so that values stay moderate however deep the program
            a, b = a.tanh() if kind % 2 else a.sigmoid(), b.tanh()
            nodes.append(STEPS[kind](a, b))
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
