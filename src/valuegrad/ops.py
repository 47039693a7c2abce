"""Every operation valuegrad knows, each written once: its value and its local derivatives.

A row of the table below is the whole definition of an operation: how to compute
``out`` from the operands ``x`` (and ``y``), and the local derivative of ``out``
with respect to each operand, written in terms of ``x``, ``y`` and ``out``. The
chain rule does the rest: during ``backward()`` each operand receives
``local derivative * out.grad``.

The formulas are Python expressions. They are turned into ordinary functions once,
at import, and everything else reads them from here:

- the eager engine evaluates them on plain numbers (`Op.forward`, `Op.local_grads`);
- higher-order gradients evaluate the same derivative formulas on Values, so the
  backward pass is itself recorded as a graph (`valuegrad.engine`);
- forward mode (dual numbers), the compiler (on NumPy arrays) and the graph
  drawing print or evaluate the very same strings.

Adding an operation means adding a row here (and a one-line method on `Value`
that names it).

>>> MUL.forward(2.0, -3.0)
-6.0
>>> MUL.local_grads(2.0, -3.0, -6.0)  # (d out/dx, d out/dy) = (y, x)
(-3.0, 2.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Mapping

__all__ = ["Op", "OPS", "DATA_NAMESPACE", "build"]


@dataclass(frozen=True, eq=False)
class Op:
    """One operation: a name, the formula of its value, the formula of each local derivative.

    ``partials`` has one formula per operand Value: ``("y", "x")`` for ``x * y``
    means d out/dx = y and d out/dy = x. When ``const_y`` is true the operation
    has a single operand Value ``x`` and ``y`` is a plain number stored on the
    node (the exponent of ``x ** 2``).
    """

    name: str
    value: str
    partials: tuple[str, ...]
    const_y: bool = False
    doc: str = ""
    # Built from the formulas above over plain numbers (see DATA_NAMESPACE):
    #   forward(x, y) -> out;  local_grads(x, y, out) -> d out/dx, or (d out/dx, d out/dy).
    forward: Callable[..., Any] = field(init=False, repr=False, compare=False)
    local_grads: Callable[..., Any] = field(init=False, repr=False, compare=False)
    # True when a node has two operand Values x and y (read at every node of backward()).
    binary: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        forward, local_grads = build(self, DATA_NAMESPACE)
        object.__setattr__(self, "forward", forward)
        object.__setattr__(self, "local_grads", local_grads)
        object.__setattr__(self, "binary", len(self.partials) == 2)

    def __reduce__(self) -> Any:
        # The table's rows are singletons (the engine tells ops apart with `is`):
        # a copied or unpickled graph must point at the same rows, not at copies.
        for i, op in enumerate(OPS):
            if op is self:
                return (_op_at, (i,))
        return super().__reduce__()

    @property
    def arity(self) -> int:
        """How many operand Values a node of this op has (1 or 2)."""
        return len(self.partials)


def build(op: Op, namespace: Mapping[str, Any]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Turn an op's formulas into two functions over the names in ``namespace``.

    Returns ``forward(x, y)`` and ``local_grads(x, y, out)``; the latter returns a
    single derivative for a one-operand op and a pair for a two-operand op. The
    same formulas built over another namespace work on other kinds of numbers:
    Values (higher-order gradients) or NumPy arrays (the compiler).

    >>> fwd, grads = build(TANH, DATA_NAMESPACE)
    >>> grads(0.0, None, fwd(0.0, None))
    1.0
    """
    grads = op.partials[0] if len(op.partials) == 1 else "(" + ", ".join(op.partials) + ")"
    code = f"lambda x, y: {op.value}", f"lambda x, y, out: {grads}"
    # The formulas are this module's own constants, never user input.
    scope = {**namespace, "__builtins__": {}}
    forward = eval(code[0], scope)  # noqa: S307
    local_grads = eval(code[1], scope)  # noqa: S307
    return forward, local_grads


# ---------------------------------------------------------------------------
# The functions the formulas may call, for plain numbers (int, float, Fraction,
# NumPy scalars). Each one refuses to return a NaN or a complex number where the
# true result is undefined, and each is numerically stable where it matters.
# ---------------------------------------------------------------------------


def _exp(x: Any) -> float:
    try:
        return math.exp(x)
    except OverflowError:  # IEEE's answer, as PyTorch gives: exp(1000) = inf
        return math.inf


def _log(x: Any) -> float:
    if x <= 0:
        raise ValueError(f"log is only defined for positive values, got {x!r}")
    return math.log(x)


def _pow(x: Any, y: Any) -> Any:
    if x < 0 and not float(y).is_integer():  # Python answers (-8.0) ** 0.5 with a complex number
        raise ValueError(f"{x!r} ** {y!r} is not a real number (negative base, fractional exponent)")
    try:
        return x**y  # 0.0 ** -1 raises ZeroDivisionError, as in Python
    except OverflowError:  # IEEE's answer, as exp(1000) and PyTorch: 10.0 ** 400 = inf
        odd = float(y).is_integer() and int(y) % 2 == 1
        return -math.inf if x < 0 and odd else math.inf


def _pow_positive_base(x: Any, y: Any) -> Any:
    # With a Value exponent, d(x**y)/dy = x**y * log(x) exists only for x > 0 (a NaN passes and propagates).
    if x <= 0:
        raise ValueError(
            f"x ** y with a Value exponent y needs a positive base x, got {x!r}: d(x**y)/dy = x**y * log(x)"
            " is undefined otherwise (use a number exponent for x ** 2)"
        )
    return _pow(x, y)


def _sigmoid(x: Any) -> float:
    # 1 / (1 + e^-x) overflows for x << 0; the two branches never exponentiate a large positive number.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _relu(x: Any) -> Any:
    return x if not x <= 0 else type(x)(0)  # keeps the number type; NaN stays NaN


def _inv(x: Any) -> Any:
    # 1 / x, kept exact for integers (1 / 5 would be a float; an int graph's 1/y is a Fraction)
    return Fraction(1, x) if type(x) is int else 1 / x


def _step(x: Any) -> int:
    return 0 if x <= 0 else 1  # d relu(x)/dx; 0 at x = 0 and 1 at NaN (the NaN flows on), as PyTorch


DATA_NAMESPACE: dict[str, Any] = {
    "exp": _exp,
    "log": _log,
    "pow": _pow,
    "vpow": _pow_positive_base,
    "inv": _inv,
    "tanh": math.tanh,  # math.tanh is exact to 1.0 for large x; (e^2x - 1)/(e^2x + 1) would give NaN
    "sigmoid": _sigmoid,
    "relu": _relu,
    "step": _step,
}


# ---------------------------------------------------------------------------
# The table.           value            d out/dx                 d out/dy
# ---------------------------------------------------------------------------

ADD = Op("+", "x + y", ("1", "1"), doc="sum")
SUB = Op("-", "x - y", ("1", "-1"), doc="difference")
MUL = Op("*", "x * y", ("y", "x"), doc="product")
DIV = Op("/", "x / y", ("inv(y)", "-out / y"), doc="quotient; d/dx = 1/y, d/dy (x/y) = -x/y**2 = -out/y")
POW = Op("**", "vpow(x, y)", ("y * pow(x, y - 1)", "out * log(x)"), doc="Value exponent, positive base")
# x ** 0 is the constant 1: its derivative is 0 even at x = 0, where y * x ** -1 would divide by zero.
POW_CONST = Op("**", "pow(x, y)", ("0 if y == 0 else y * pow(x, y - 1)",), const_y=True, doc="x ** 2")
NEG = Op("neg", "-x", ("-1",), doc="negation")
EXP = Op("exp", "exp(x)", ("out",), doc="d/dx e^x = e^x")
LOG = Op("log", "log(x)", ("1 / x",), doc="natural logarithm")
TANH = Op("tanh", "tanh(x)", ("1 - out * out",), doc="d/dx tanh(x) = 1 - tanh(x)**2")
SIGMOID = Op("sigmoid", "sigmoid(x)", ("out * (1 - out)",), doc="logistic function")
RELU = Op("relu", "relu(x)", ("step(x)",), doc="max(0, x); its derivative is 0 or 1")
IDENTITY = Op("id", "x", ("1",), doc="a new name for the same number (used by valuegrad.grad)")


def _op_at(i: int) -> Op:
    return OPS[i]


OPS: tuple[Op, ...] = (ADD, SUB, MUL, DIV, POW, POW_CONST, NEG, EXP, LOG, TANH, SIGMOID, RELU, IDENTITY)
"""Every operation, in the order above."""
