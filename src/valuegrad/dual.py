"""Forward mode: `Dual` numbers carry a tangent next to each number.

Instead of recording a graph and running the chain rule backwards, forward mode
carries the derivative along with the value: one pass gives the derivative of
every intermediate result along one direction (``valuegrad.jvp``). Each operation
reads its value and its local derivatives from the op table (`valuegrad.ops`);
the methods below, one per op method of `Value`, are written from the table by
``python tools/codegen.py``.
"""

from __future__ import annotations

import numbers
from typing import Any

from .value import Number, Value

# BEGIN GENERATED imports: `python tools/codegen.py` writes this from src/valuegrad/ops.py
# isort: off
from .ops import (
    ABS,
    ADD,
    COS,
    DIV,
    EXP,
    LOG,
    MUL,
    NEG,
    POW,
    POW_VALUE,
    RELU,
    SIGMOID,
    SIN,
    SOFTPLUS,
    SQRT,
    SUB,
    TANH,
    check_generated,
)
# isort: on
# END GENERATED imports

__all__ = ["Dual"]


def _number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, Value, Dual))


class Dual:
    """A number with a tangent: ``primal + tangent·ε`` where ``ε² = 0`` (forward-mode autodiff).

    Applying an operation to Duals applies it to the primals and carries the tangent
    along with the chain rule, ``tangent_out = Σ local_derivative_i · tangent_i``,
    both read from the op table. A function written for Values (operators with
    numbers on either side, ``.tanh() .exp() .sin() ...``) runs unchanged on Duals.

    >>> x = Dual(2.0, 1.0)          # x = 2, dx = 1
    >>> y = x * x + 3 * x           # y = x**2 + 3x, dy/dx = 2x + 3
    >>> y.primal, y.tangent
    (10.0, 7.0)

    Duals hold numbers only: nesting Duals (forward over forward) is not supported.
    """

    __slots__ = ("primal", "tangent")

    # Make NumPy hand `numpy.float64(2) * Dual(...)` over to Dual.__rmul__, as for Value.
    __array_ufunc__ = None

    primal: Any
    tangent: Any

    def __init__(self, primal: Number, tangent: Number = 0) -> None:
        for what, x in (("primal", primal), ("tangent", tangent)):
            if not _number(x):
                raise TypeError(
                    f"Dual {what} must be a real number (int, float, Fraction, NumPy scalar), "
                    f"got {type(x).__name__}: {x!r}"
                )
        self.primal = primal
        self.tangent = tangent

    @property
    def data(self) -> Any:
        """The primal, under the name Values use (so ``x.data`` in a function still reads the number)."""
        return self.primal

    def __repr__(self) -> str:
        return f"Dual(primal={self.primal!r}, tangent={self.tangent!r})"

    def __float__(self) -> float:
        raise TypeError(
            "a Dual is not converted to a float: its tangent would be silently lost. "
            "Use its methods (d.exp(), d.sin(), ...) or d.primal for the plain number"
        )

    # BEGIN GENERATED methods: `python tools/codegen.py` writes this from src/valuegrad/ops.py
    def __add__(self, other: Dual | Number) -> Dual:
        """``self + other``: sum."""
        return _binary(ADD, self, other)

    def __radd__(self, other: Dual | Number) -> Dual:
        """``other + self``: sum."""
        return _binary(ADD, other, self)

    def __sub__(self, other: Dual | Number) -> Dual:
        """``self - other``: difference."""
        return _binary(SUB, self, other)

    def __rsub__(self, other: Dual | Number) -> Dual:
        """``other - self``: difference."""
        return _binary(SUB, other, self)

    def __mul__(self, other: Dual | Number) -> Dual:
        """``self * other``: product."""
        return _binary(MUL, self, other)

    def __rmul__(self, other: Dual | Number) -> Dual:
        """``other * self``: product."""
        return _binary(MUL, other, self)

    def __truediv__(self, other: Dual | Number) -> Dual:
        """``self / other``: quotient."""
        return _binary(DIV, self, other)

    def __rtruediv__(self, other: Dual | Number) -> Dual:
        """``other / self``: quotient."""
        return _binary(DIV, other, self)

    def __pow__(self, other: Dual | Number) -> Dual:
        """``self ** other``: power with a number exponent: x ** 2; or power with a Value exponent (positive
        base).
        """
        if _number(other):
            return _with_number(POW, self, other)
        return _binary(POW_VALUE, self, other)

    def __rpow__(self, other: Dual | Number) -> Dual:
        """``other ** self``: power with a Value exponent (positive base)."""
        return _binary(POW_VALUE, other, self)

    def __neg__(self) -> Dual:
        """``-self``: negation."""
        return _unary(NEG, self)

    def exp(self) -> Dual:
        """E ** x; d/dx e ** x = e ** x."""
        return _unary(EXP, self)

    def log(self) -> Dual:
        """Natural logarithm (x > 0)."""
        return _unary(LOG, self)

    def tanh(self) -> Dual:
        """Hyperbolic tangent; d/dx tanh(x) = 1 - tanh(x) ** 2."""
        return _unary(TANH, self)

    def sigmoid(self) -> Dual:
        """Logistic function 1 / (1 + e ** -x), stable for large |x|."""
        return _unary(SIGMOID, self)

    def relu(self) -> Dual:
        """Max(0, x); its derivative is 1 where x > 0, else 0."""
        return _unary(RELU, self)

    def sin(self) -> Dual:
        """Sine."""
        return _unary(SIN, self)

    def cos(self) -> Dual:
        """Cosine."""
        return _unary(COS, self)

    def sqrt(self) -> Dual:
        """Square root (x >= 0)."""
        return _unary(SQRT, self)

    def __abs__(self) -> Dual:
        """``abs(self)``: absolute value."""
        return _unary(ABS, self)

    def softplus(self) -> Dual:
        """Log(1 + e ** x), stable for any x; its derivative is sigmoid(x)."""
        return _unary(SOFTPLUS, self)
    # END GENERATED methods


def _unary(op: Any, x: Dual) -> Dual:
    out = op.forward(x.primal)
    return Dual(out, op.local_grads(x.primal, None, out) * x.tangent)


def _with_number(op: Any, x: Dual, k: Any) -> Dual:
    # x ** k with a plain number k: k is part of the op, with no tangent of its own
    out = op.forward(x.primal, k)
    return Dual(out, op.local_grads(x.primal, k, out) * x.tangent)


def _binary(op: Any, x: Any, y: Any) -> Dual:
    # A number operand is a constant: its tangent term is left out (not added as
    # 0 * d, which would turn an infinite local derivative into NaN).
    x_dual, y_dual = isinstance(x, Dual), isinstance(y, Dual)
    if (not x_dual and not _number(x)) or (not y_dual and not _number(y)):
        return NotImplemented
    xp = x.primal if x_dual else x
    yp = y.primal if y_dual else y
    out = op.forward(xp, yp)
    dx, dy = op.local_grads(xp, yp, out)
    if x_dual and y_dual:
        tangent = dx * x.tangent + dy * y.tangent
    elif x_dual:
        tangent = dx * x.tangent
    else:
        tangent = dy * y.tangent
    return Dual(out, tangent)


# BEGIN GENERATED checks: `python tools/codegen.py` writes this from src/valuegrad/ops.py
SOURCES = {
    'add': 'add | x + y | 1 | 1 | ',
    'sub': 'sub | x - y | 1 | -1 | ',
    'mul': 'mul | x * y | y | x | ',
    'div': 'div | x / y | inv(y) | -out / y | ',
    'pow': 'pow | power(x, k) | 0 if k == 0 else k * power(x, k - 1) |  | k',
    'pow_value': 'pow_value | vpower(x, y) | y * power(x, y - 1) | out * log(x) | ',
    'neg': 'neg | -x | -1 |  | ',
    'exp': 'exp | exp(x) | out |  | ',
    'log': 'log | log(x) | 1 / x |  | ',
    'tanh': 'tanh | tanh(x) | 1 - out * out |  | ',
    'sigmoid': 'sigmoid | sigmoid(x) | out * (1 - out) |  | ',
    'relu': 'relu | relu(x) | step(x) |  | ',
    'sin': 'sin | sin(x) | cos(x) |  | ',
    'cos': 'cos | cos(x) | -sin(x) |  | ',
    'sqrt': 'sqrt | sqrt(x) | 0.5 / out |  | ',
    'abs': 'abs | abs(x) | sign(x) |  | ',
    'softplus': 'softplus | softplus(x) | sigmoid(x) |  | ',
    'id': 'id | x | 1 |  | ',
}
"""The rows this file was written from (valuegrad.ops.source_of): checked at import."""
check_generated(SOURCES, "valuegrad/dual.py")
# END GENERATED checks
