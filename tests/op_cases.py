"""One registry of op test cases: every row of the op table, ready for every consumer's tests.

Each `OpCase` says how to perform one op of `valuegrad.ops.OPS` on Values (and on
`Dual` numbers: the same code runs on both), where it is smooth (its domain, one
set of intervals per operand: points are drawn from it), its PyTorch float64 and
sympy counterparts, and its kinks and boundary points with what valuegrad does
there (`Kink`). The tests of each consumer are parametrised by `CASES`: eager
backward (test_engine), second derivatives and forward mode (test_functional),
the compiler (test_compile), drawings (test_viz), gradcheck (test_gradcheck),
random graphs (test_properties); test_ops checks that the registry covers exactly
`valuegrad.ops.OPS`, so adding an op without a case fails in one named test.

An op may have several cases: one per method that performs it (``x - y`` and
``3 - x``, which is ``__rsub__``), and ``x ** k`` once per kind of number ``k``.

The conventions the kinks encode are PyTorch's: relu'(0) = 0 and abs'(0) = 0; the
derivative of ``x ** 0`` is 0 even at x = 0; sqrt'(0) and the slope of ``x ** 0.5``
at 0 raise (ZeroDivisionError eagerly, DomainError compiled; PyTorch says inf),
changing no grad.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

import sympy
import torch
from hypothesis import strategies as st

from valuegrad import ops
from valuegrad.ops import Op
from valuegrad.value import Value, _node

__all__ = [
    "CASES",
    "BY_NAME",
    "KINKS",
    "Interval",
    "Kink",
    "OpCase",
    "close",
    "into_domain",
    "reused",
    "sympy_derivatives",
    "torch_derivatives",
]

inf = math.inf


@dataclass(frozen=True)
class Interval:
    """The closed interval [lo, hi]."""

    lo: float
    hi: float

    def __contains__(self, x: Any) -> bool:
        return self.lo <= x <= self.hi


Domain = tuple[Interval, ...]
"""A union of intervals: where one operand may be."""

REALS: Domain = (Interval(-10.0, 10.0),)
POSITIVE: Domain = (Interval(0.1, 10.0),)
NONZERO: Domain = (Interval(-10.0, -0.1), Interval(0.1, 10.0))
OFF_KINK: Domain = (Interval(-10.0, -0.05), Interval(0.05, 10.0))  # relu, abs: not within 0.05 of 0


def inside(domain: Domain, x: Any) -> bool:
    return any(x in interval for interval in domain)


def into_domain(domain: Domain, a: Any, flip: bool = False) -> Any:
    """``a``, a Value (or Dual, or tensor) squashed into (-1, 1), moved into ``domain``.

    ``a`` itself where the domain holds all of [-1, 1]; else ``a * a + 0.5``, which lies in
    [0.5, 1.5], or (``flip``, where the domain holds [-1.5, -0.5]) its negation.
    """
    if all(inside(domain, v) for v in (-1.0, 0.0, 1.0)):
        return a
    v = a * a + 0.5
    return -v if flip and inside(domain, -1.5) and inside(domain, -0.5) else v


@dataclass(frozen=True)
class Kink:
    """A kink or boundary point of an op, and what valuegrad does there.

    ``value`` is the output, or None when the forward pass raises ``error``; ``grads``
    the first derivatives (one per operand), or None when the backward pass raises
    ``error`` (changing no grad); ``hessian`` the second derivatives, or None when
    they are not defined there. ``torch_first``/``torch_second``: PyTorch float64
    agrees on the value and first derivatives / on the second derivatives.
    """

    point: tuple[Any, ...]
    why: str
    value: Any = None
    grads: tuple[Any, ...] | None = None
    hessian: tuple[tuple[Any, ...], ...] | None = None
    error: type[Exception] | None = None
    torch_first: bool = True
    torch_second: bool = True

    @property
    def forward_fails(self) -> bool:
        return self.value is None

    @property
    def backward_fails(self) -> bool:
        return self.value is not None and self.grads is None

    def __str__(self) -> str:
        return ", ".join(repr(p) for p in self.point)


def _never(*point: Any) -> type[Exception] | None:
    return None


@dataclass(frozen=True)
class OpCase:
    """One way to perform one op of the table, with everything its tests need.

    ``perform`` takes one Value (or Dual) per operand and performs the op once;
    ``torch`` and ``sympy`` are the same function in PyTorch (float64 tensors) and
    in sympy (real symbols). ``domain`` holds, per operand, where the op is smooth.
    ``forward_error(*point)`` / ``backward_error(*point)`` name the error valuegrad
    raises at a point outside the op's domain (None where it is defined). ``exact``:
    over Fractions the value and the derivatives are exact Fractions.
    ``torch_second_wrong(*point)``: PyTorch's second derivative is wrong there (see
    the pow_value case). ``dual``: forward mode performs it (every op that has a method).
    """

    name: str
    op: Op
    method: str
    perform: Callable[..., Any]
    domain: tuple[Domain, ...]
    torch: Callable[..., Any]
    sympy: Callable[..., Any]
    exact: bool = False
    kinks: tuple[Kink, ...] = ()
    forward_error: Callable[..., type[Exception] | None] = _never
    backward_error: Callable[..., type[Exception] | None] = _never
    torch_second_wrong: Callable[..., bool] | None = None
    dual: bool = True

    @property
    def arity(self) -> int:
        """How many operands ``perform`` takes."""
        return len(self.domain)

    def __str__(self) -> str:
        return self.name

    def points(self) -> st.SearchStrategy[tuple[float, ...]]:
        """Points (one float per operand) where the op is smooth."""
        return st.tuples(*(_floats(d) for d in self.domain))

    def fraction_points(self) -> st.SearchStrategy[tuple[Fraction, ...]]:
        """Points with Fraction coordinates (for the exact cases)."""
        return st.tuples(*(_fractions(d) for d in self.domain))

    def sample(self) -> tuple[float, ...]:
        """A fixed point inside the domain: 0.7 of the way along each operand's last interval."""
        return tuple(d[-1].lo + 0.7 * (d[-1].hi - d[-1].lo) for d in self.domain)

    def samples(self, n: int = 3) -> list[tuple[float, ...]]:
        """``n`` fixed points spread over the domain (each interval in turn), for the slower consumers."""
        out = []
        for i in range(n):
            point = []
            for k, d in enumerate(self.domain):
                interval = d[(i + k) % len(d)]  # each interval of the union in turn
                t = (i + 0.5 + 0.3 * k) / n % 1.0
                point.append(round(interval.lo + t * (interval.hi - interval.lo), 6))
            out.append(tuple(point))
        return out


def _floats(domain: Domain) -> st.SearchStrategy[float]:
    return st.one_of(*(st.floats(i.lo, i.hi, allow_nan=False, allow_infinity=False) for i in domain))


def _fractions(domain: Domain) -> st.SearchStrategy[Fraction]:
    return st.one_of(
        *(
            st.fractions(Fraction(str(i.lo)), Fraction(str(i.hi)), max_denominator=20).filter(
                lambda f, i=i: f in i
            )
            for i in domain
        )
    )


# --- the cases -------------------------------------------------------------------


def _sigmoid(x: Any) -> Any:
    return 1 / (1 + sympy.exp(-x))


def _relu(x: Any) -> Any:
    return sympy.Piecewise((x, x > 0), (0, True))  # its derivative is 0 at 0: PyTorch's convention


def _softplus(x: Any) -> Any:
    return sympy.log(1 + sympy.exp(x))


def _identity(x: Value) -> Value:
    # IDENTITY has no method: valuegrad.grad makes it (a new name for its variable), as here.
    return _node(x.data, ops.IDENTITY, x, None)


def _zero_divisor(*point: Any) -> type[Exception] | None:
    return ZeroDivisionError if point[-1] == 0 else None


def _not_positive(x: Any, *rest: Any) -> type[Exception] | None:
    return ValueError if x <= 0 else None


def _negative(x: Any) -> type[Exception] | None:
    return ValueError if x < 0 else None


def _not_finite(x: Any) -> type[Exception] | None:
    return ValueError if not math.isfinite(x) else None


def _zero(x: Any) -> type[Exception] | None:
    return ZeroDivisionError if x == 0 else None


def _pow_case(k: Any, domain: Domain, **kw: Any) -> OpCase:
    return OpCase(
        name=f"pow(x ** {k})",
        op=ops.POW,
        method="__pow__",
        perform=lambda x: x**k,
        domain=(domain,),
        torch=lambda t: t**k,
        sympy=lambda s: s ** sympy.nsimplify(k),
        **kw,
    )


_TANH_FLAT = "stable for large |x|: exactly ±1, slope 0 (no exp overflow, no NaN)"

CASES: tuple[OpCase, ...] = (
    OpCase("add", ops.ADD, "__add__", lambda x, y: x + y, (REALS, REALS), lambda x, y: x + y,
           lambda x, y: x + y, exact=True),
    OpCase("add(3 + x)", ops.ADD, "__radd__", lambda x: 3 + x, (REALS,), lambda x: 3 + x,
           lambda x: 3 + x, exact=True),
    OpCase("sub", ops.SUB, "__sub__", lambda x, y: x - y, (REALS, REALS), lambda x, y: x - y,
           lambda x, y: x - y, exact=True),
    OpCase("sub(3 - x)", ops.SUB, "__rsub__", lambda x: 3 - x, (REALS,), lambda x: 3 - x,
           lambda x: 3 - x, exact=True),
    OpCase("mul", ops.MUL, "__mul__", lambda x, y: x * y, (REALS, REALS), lambda x, y: x * y,
           lambda x, y: x * y, exact=True),
    OpCase("mul(3 * x)", ops.MUL, "__rmul__", lambda x: 3 * x, (REALS,), lambda x: 3 * x,
           lambda x: 3 * x, exact=True),
    OpCase("div", ops.DIV, "__truediv__", lambda x, y: x / y, (REALS, NONZERO), lambda x, y: x / y,
           lambda x, y: x / y, exact=True, forward_error=_zero_divisor,
           kinks=(Kink((1.0, 0.0), "division by zero", error=ZeroDivisionError),)),
    OpCase("div(3 / x)", ops.DIV, "__rtruediv__", lambda x: 3 / x, (NONZERO,), lambda x: 3 / x,
           lambda x: 3 / x, exact=True, forward_error=_zero_divisor,
           kinks=(Kink((0.0,), "division by zero", error=ZeroDivisionError),)),
    _pow_case(2, REALS, exact=True, kinks=(
        Kink((0.0,), "x ** 2 at 0: slope 0, curvature 2", 0.0, (0.0,), ((2.0,),)),
    )),
    _pow_case(-1, NONZERO, exact=True, forward_error=_zero, kinks=(
        Kink((0.0,), "0 ** -1 divides by zero", error=ZeroDivisionError),
    )),
    _pow_case(0, REALS, exact=True, kinks=(
        Kink((0.0,), "x ** 0 is the constant 1: derivative 0 even at 0 (not 0 * 0 ** -1)", 1.0, (0,),
             ((0,),)),
    )),
    _pow_case(0.5, POSITIVE, forward_error=_negative, backward_error=_zero, kinks=(
        Kink((0.0,), "the slope of x ** 0.5 at 0 is infinite: backward raises (PyTorch: inf)", 0.0,
             error=ZeroDivisionError, torch_first=False, torch_second=False),
        Kink((-1.0,), "a negative base with a fractional exponent is not a real number", error=ValueError),
    )),
    _pow_case(2.5, POSITIVE, forward_error=_negative, kinks=(
        Kink((0.0,), "x ** 2.5 at 0: slope and curvature 0", 0.0, (0.0,), ((0.0,),)),
        Kink((-1.0,), "a negative base with a fractional exponent is not a real number", error=ValueError),
    )),
    OpCase("pow_value", ops.POW_VALUE, "__pow__", lambda x, y: x**y, (POSITIVE, REALS), lambda x, y: x**y,
           lambda x, y: x**y, forward_error=_not_positive,
           # torch masks d(x**y)/dx where y == 0, losing its derivative in y: d2/dxdy = x ** (y - 1)
           torch_second_wrong=lambda x, y: y == 0,
           kinks=(
               Kink((0.0, 2.0), "a Value exponent needs a positive base (d/dy = out * log(x))",
                    error=ValueError),
               Kink((-2.0, 2.0), "a Value exponent needs a positive base", error=ValueError),
               Kink((1.0, 0.0), "at y = 0: d2/dxdy = x ** (y - 1) = 1 (PyTorch says 0)", 1.0, (0.0, 0.0),
                    ((0.0, 1.0), (1.0, 0.0)), torch_second=False),
           )),
    OpCase("pow_value(2 ** x)", ops.POW_VALUE, "__rpow__", lambda x: 2**x, (REALS,), lambda x: 2**x,
           lambda x: 2**x),
    OpCase("neg", ops.NEG, "__neg__", lambda x: -x, (REALS,), lambda x: -x, lambda x: -x, exact=True),
    OpCase("exp", ops.EXP, "exp", lambda x: x.exp(), (REALS,), torch.exp, sympy.exp, kinks=(
        Kink((1000.0,), "overflow is inf, as in PyTorch", inf, (inf,), ((inf,),)),
        Kink((-1000.0,), "underflow is 0", 0.0, (0.0,), ((0.0,),)),
    )),
    OpCase("log", ops.LOG, "log", lambda x: x.log(), (POSITIVE,), torch.log, sympy.log,
           forward_error=_not_positive, kinks=(
               Kink((0.0,), "log(0) is refused (not -inf)", error=ValueError),
               Kink((-1.0,), "log of a negative number is refused (not NaN)", error=ValueError),
               Kink((1e-300,), "near 0: finite, slope 1e300, curvature -inf", math.log(1e-300), (1 / 1e-300,),
                    ((-inf,),)),
           )),
    OpCase("tanh", ops.TANH, "tanh", lambda x: x.tanh(), (REALS,), torch.tanh, sympy.tanh, kinks=(
        Kink((1000.0,), _TANH_FLAT, 1.0, (0.0,), ((0.0,),)),
        Kink((-1000.0,), _TANH_FLAT, -1.0, (0.0,), ((0.0,),)),
    )),
    OpCase("sigmoid", ops.SIGMOID, "sigmoid", lambda x: x.sigmoid(), (REALS,), torch.sigmoid, _sigmoid,
           kinks=(
        Kink((1000.0,), "stable for large x: exactly 1, slope 0", 1.0, (0.0,), ((0.0,),)),
        Kink((-1000.0,), "stable for large -x: exactly 0, slope 0 (no exp overflow)", 0.0, (0.0,), ((0.0,),)),
    )),
    OpCase("relu", ops.RELU, "relu", lambda x: x.relu(), (OFF_KINK,), torch.relu, _relu, exact=True, kinks=(
        Kink((0.0,), "relu'(0) = 0, as in PyTorch", 0.0, (0,), ((0,),)),
        Kink((-0.0,), "relu'(-0.0) = 0", 0.0, (0,), ((0,),)),
    )),
    OpCase("sin", ops.SIN, "sin", lambda x: x.sin(), (REALS,), torch.sin, sympy.sin,
           forward_error=_not_finite, kinks=(
               Kink((inf,), "sin(inf) is refused (PyTorch: NaN)", error=ValueError, torch_first=False),
           )),
    OpCase("cos", ops.COS, "cos", lambda x: x.cos(), (REALS,), torch.cos, sympy.cos,
           forward_error=_not_finite, kinks=(
               Kink((-inf,), "cos(-inf) is refused (PyTorch: NaN)", error=ValueError, torch_first=False),
           )),
    OpCase("sqrt", ops.SQRT, "sqrt", lambda x: x.sqrt(), (POSITIVE,), torch.sqrt, sympy.sqrt,
           forward_error=_negative, backward_error=_zero, kinks=(
               Kink((0.0,), "sqrt'(0) is infinite: backward raises (PyTorch: inf)", 0.0,
                    error=ZeroDivisionError, torch_first=False, torch_second=False),
               Kink((-1.0,), "sqrt of a negative number is refused (not NaN)", error=ValueError),
           )),
    OpCase("abs", ops.ABS, "__abs__", lambda x: abs(x), (OFF_KINK,), torch.abs, sympy.Abs, exact=True, kinks=(
        Kink((0.0,), "abs'(0) = sign(0) = 0, as in PyTorch", 0.0, (0,), ((0,),)),
        Kink((-0.0,), "abs'(-0.0) = 0", 0.0, (0,), ((0,),)),
    )),
    OpCase("softplus", ops.SOFTPLUS, "softplus", lambda x: x.softplus(), (REALS,),
           torch.nn.functional.softplus, _softplus, kinks=(
               Kink((1000.0,), "stable: softplus(1000) == 1000.0, slope 1", 1000.0, (1.0,), ((0.0,),)),
               Kink((-1000.0,), "stable: finite at -1000 (0.0), slope 0", 0.0, (0.0,), ((0.0,),)),
           )),
    OpCase("id", ops.IDENTITY, "", _identity, (REALS,), lambda t: t.clone(), lambda s: s, exact=True,
           dual=False),
)  # fmt: skip
"""Every case: at least one per op of `valuegrad.ops.OPS` (test_ops checks it)."""

BY_NAME: dict[str, OpCase] = {case.name: case for case in CASES}
assert len(BY_NAME) == len(CASES), "every case needs a name of its own"

KINKS: list[tuple[OpCase, Kink]] = [(case, kink) for case in CASES for kink in case.kinks]
"""Every (case, kink) pair, for the tests that check each consumer at the kinks."""


def kink_id(pair: tuple[OpCase, Kink]) -> str:
    case, kink = pair
    return f"{case.name} at {kink}"


@functools.cache
def reused(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` performed once, its result used twice and its operands used again.

    A gradient then reaches the op's node from two uses and each input from several:
    a rule that overwrote instead of adding up would show. Runs on Values, Duals,
    tensors and sympy symbols alike.
    """

    def g(*xs: Any) -> Any:
        a = f(*xs)
        return a * a * xs[0] + a * xs[-1]

    return g


# --- references ---------------------------------------------------------------------------

SYMBOLS = sympy.symbols("x y", real=True)


def torch_derivatives(
    f: Callable[..., Any], point: Sequence[float], second: bool = True
) -> tuple[float, list[float], list[list[float]] | None]:
    """PyTorch float64: the value of ``f`` at ``point``, its gradient and (``second``) its Hessian."""
    ts = [torch.tensor(float(p), dtype=torch.float64, requires_grad=True) for p in point]
    out = f(*ts)
    grads = torch.autograd.grad(out, ts, create_graph=second, allow_unused=True)
    first = [0.0 if g is None else g.item() for g in grads]
    if not second:
        return out.item(), first, None
    rows = []
    for g in grads:
        if g is None or not g.requires_grad:
            rows.append([0.0] * len(ts))
            continue
        h = torch.autograd.grad(g, ts, allow_unused=True, retain_graph=True)
        rows.append([0.0 if s is None else s.item() for s in h])
    return out.item(), first, rows


@functools.cache
def _symbolic(f: Callable[..., Any], n: int) -> tuple[Any, list[Any], list[list[Any]]]:
    """``f`` of the first ``n`` symbols, its gradient and its Hessian, as expressions (made once per f)."""
    symbols = SYMBOLS[:n]
    expr = f(*symbols)
    grads = [sympy.diff(expr, s) for s in symbols]
    return expr, grads, [[sympy.diff(g, s) for s in symbols] for g in grads]


def sympy_derivatives(f: Callable[..., Any], point: Sequence[Any]) -> tuple[Any, list[Any], list[list[Any]]]:
    """sympy: the value of ``f`` at ``point``, its gradient and its Hessian.

    At a point of Fractions, as exact Fractions (``f`` must be rational there); at a
    point of floats, evaluated with 30 significant digits, as floats.
    """
    expr, grads, hessian = _symbolic(f, len(point))
    exact = all(isinstance(p, (int, Fraction)) for p in point)
    at = {
        s: sympy.Rational(p.numerator, p.denominator) if exact else sympy.Float(p, 30)
        for s, p in zip(SYMBOLS, point)
    }

    def number(e: Any) -> Any:
        if exact:
            v = sympy.simplify(e.subs(at))
            assert v.is_Rational, (e, v)
            return Fraction(int(v.p), int(v.q))
        return float(e.evalf(30, subs=at))

    return number(expr), [number(g) for g in grads], [[number(h) for h in row] for row in hessian]


def close(got: Any, want: Any, rel: float = 1e-11) -> bool:
    """``got`` within ``rel * (1 + |want|)`` of ``want`` (infinities must match exactly)."""
    got, want = float(got), float(want)
    if math.isinf(want) or math.isinf(got):
        return got == want
    return abs(got - want) <= rel * (1 + abs(want))


def data_of(g: Any) -> Any:
    """A gradient's number: ``.data`` of a Value (create_graph), else the number itself."""
    return g.data if isinstance(g, Value) else g
