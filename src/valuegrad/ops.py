"""Every operation valuegrad knows, each written once: its value and its local derivatives.

A row of the table at the bottom of this file is the whole definition of an
operation: how to compute ``out`` from the operands' data ``x`` (and ``y``, or a
plain number ``k``), and the local derivative of ``out`` with respect to each
operand, as formulas (see `valuegrad.formulas`). The chain rule does the rest:
during ``backward()`` each operand receives ``local derivative * out.grad``.

Everything else is derived from the rows:

- the methods of `Value` (``__mul__``, ``tanh``, ...) and the chain rule that
  ``backward()`` runs are generated from them into `valuegrad.value` and
  `valuegrad.backward` (real files, checked in: ``python tools/codegen.py``);
- forward mode (`valuegrad.dual`) and the formulas as functions over any kind of
  number (`valuegrad.op_functions`) are generated the same way;
- higher-order gradients evaluate the derivative formulas on Values, the compiler
  writes them into code over NumPy arrays, and drawings show each row's symbol.

The functions a formula calls (``exp``, ``tanh``, ...) are defined once per kind of
number: plain numbers (`valuegrad.scalar_math`), Values (`valuegrad.higher_order`)
and NumPy arrays (`valuegrad.numpy_math`); each is checked at import of valuegrad
against `FUNCTIONS`, the names the formulas use.

>>> MUL.forward(2.0, -3.0)
-6.0
>>> MUL.local_grads(2.0, -3.0, -6.0)  # (d out/dx, d out/dy) = (y, x)
(-3.0, 2.0)
"""

from __future__ import annotations

from typing import Any

from .formulas import Formula

__all__ = ["Op", "OPS", "FUNCTIONS", "by_name"]


class Op:
    """One operation: a row of the op table.

    ``out`` is the formula of the result; ``d_dx`` (and ``d_dy``) the local
    derivatives with respect to the operand Values ``x`` (and ``y``). An op with
    ``number=True`` takes a plain number ``k`` besides ``x`` (the exponent of
    ``x ** 2``): ``k`` is part of the operation, not an operand, so it has no
    derivative. ``methods`` names the `Value` methods that perform the op
    (``("__mul__", "__rmul__")``). ``symbol`` is how drawings and ``Value.op`` show it;
    ``micrograd`` is micrograd's spelling of ``Value._op`` where it differs.

    Two flags tell the compiler what an op is, so that it never has to recognise
    an op by the text of its formula: ``accumulates`` names the NumPy ufunc whose
    ``accumulate`` computes a chain of the op in the same order (``"add"`` for
    ``+``), and ``product`` says that ``out = x * y`` (a group of products may be
    one ``einsum``).
    """

    __slots__ = (
        "name",
        "symbol",
        "out",
        "d_dx",
        "d_dy",
        "number",
        "methods",
        "micrograd",
        "accumulates",
        "product",
        "doc",
    )

    name: str
    symbol: str
    out: Formula
    d_dx: Formula
    d_dy: Formula | None
    number: bool
    methods: tuple[str, ...]
    micrograd: str
    accumulates: str
    product: bool
    doc: str

    def __init__(
        self,
        name: str,
        symbol: str,
        out: str,
        d_dx: str,
        d_dy: str = "",
        *,
        number: bool = False,
        methods: tuple[str, ...] = (),
        micrograd: str = "",
        accumulates: str = "",
        product: bool = False,
        doc: str = "",
    ) -> None:
        self.name = name
        self.symbol = symbol
        self.out = Formula.parse(out)
        self.d_dx = Formula.parse(d_dx)
        self.d_dy = Formula.parse(d_dy) if d_dy else None
        self.number = number
        self.methods = methods
        self.micrograd = micrograd or symbol
        self.accumulates = accumulates
        self.product = product
        self.doc = doc
        operands = {"x", "y"} if d_dy else {"x", "k"} if number else {"x"}
        for formula in (self.out, self.d_dx, self.d_dy):
            may_read = operands if formula is self.out else operands | {"out"}
            if formula is not None and not formula.variables <= may_read:
                raise ValueError(f"op {name!r}: formula {formula.text!r} reads a name the op does not have")
        if number and d_dy:
            raise ValueError(f"op {name!r}: an op takes a second operand Value y or a number k, not both")

    @property
    def binary(self) -> bool:
        """True when a node of this op has two operand Values, ``x`` and ``y``."""
        return self.d_dy is not None

    @property
    def arity(self) -> int:
        """How many operand Values a node of this op has (1 or 2)."""
        return 2 if self.d_dy is not None else 1

    @property
    def partials(self) -> tuple[Formula, ...]:
        """The local derivatives, one per operand Value: ``(d_dx,)`` or ``(d_dx, d_dy)``."""
        return (self.d_dx,) if self.d_dy is None else (self.d_dx, self.d_dy)

    @property
    def functions(self) -> frozenset[str]:
        """The functions its formulas call."""
        names = self.out.functions | self.d_dx.functions
        return names | self.d_dy.functions if self.d_dy is not None else names

    def forward(self, x: Any, y: Any = None) -> Any:
        """``out`` for plain numbers ``x`` and ``y`` (the number ``k`` for an op like ``x ** 2``)."""
        from . import op_functions, scalar_math

        return op_functions.VALUE[self.name](x, y, scalar_math)

    def local_grads(self, x: Any, y: Any, out: Any) -> Any:
        """d out/dx for a one-operand op, else the pair (d out/dx, d out/dy), over plain numbers."""
        from . import op_functions, scalar_math

        d = op_functions.DERIVATIVES[self.name](x, y, out, scalar_math)
        return d[0] if self.d_dy is None else d

    def __repr__(self) -> str:
        return f"<op {self.name}: out = {self.out}>"

    def __reduce__(self) -> Any:
        # The table's rows are singletons (the engine tells ops apart with `is`):
        # a copied or unpickled graph must point at the same rows, not at copies.
        return (by_name, (self.name,))

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, "doc"):  # the last field set by __init__
            raise AttributeError(f"op {self.name!r} is a row of the op table: it cannot be changed")
        object.__setattr__(self, name, value)


# ---------------------------------------------------------------------------
# The table.            name         symbol  out = ...          d out/dx                 d out/dy
# ---------------------------------------------------------------------------

ADD = Op("add", "+", "x + y", "1", "1", methods=("__add__", "__radd__"), accumulates="add", doc="sum")
SUB = Op("sub", "-", "x - y", "1", "-1", methods=("__sub__", "__rsub__"), doc="difference")
MUL = Op("mul", "*", "x * y", "y", "x", methods=("__mul__", "__rmul__"), product=True, doc="product")
# d/dx (x / y) = 1/y (inv keeps an int graph exact: 1/7 is a Fraction); d/dy (x / y) = -x/y**2 = -out/y
DIV = Op("div", "/", "x / y", "inv(y)", "-out / y", methods=("__truediv__", "__rtruediv__"), doc="quotient")
# x ** k with a plain number k (micrograd's only power). x ** 0 is the constant 1: its
# derivative is 0 even at x = 0, where k * x ** -1 would divide by zero.
POW = Op("pow", "**", "power(x, k)", "0 if k == 0 else k * power(x, k - 1)", number=True,
         methods=("__pow__",), doc="power with a number exponent: x ** 2")
# x ** y with a Value exponent: d/dy = x ** y * log(x) exists only for x > 0, so vpower refuses x <= 0.
POW_VALUE = Op("pow_value", "**", "vpower(x, y)", "y * power(x, y - 1)", "out * log(x)",
               methods=("__pow__", "__rpow__"), doc="power with a Value exponent (positive base)")
NEG = Op("neg", "neg", "-x", "-1", methods=("__neg__",), doc="negation")
EXP = Op("exp", "exp", "exp(x)", "out", methods=("exp",), doc="e ** x; d/dx e ** x = e ** x")
LOG = Op("log", "log", "log(x)", "1 / x", methods=("log",), doc="natural logarithm (x > 0)")
# math.tanh is exact to 1.0 for large x, where (e^2x - 1) / (e^2x + 1) would give NaN.
TANH = Op("tanh", "tanh", "tanh(x)", "1 - out * out", methods=("tanh",),
          doc="hyperbolic tangent; d/dx tanh(x) = 1 - tanh(x) ** 2")
SIGMOID = Op("sigmoid", "sigmoid", "sigmoid(x)", "out * (1 - out)", methods=("sigmoid",),
             doc="logistic function 1 / (1 + e ** -x), stable for large |x|")
# step(x) is 1 for x > 0, else 0: relu'(0) = 0, as in PyTorch.
RELU = Op("relu", "relu", "relu(x)", "step(x)", methods=("relu",), micrograd="ReLU",
          doc="max(0, x); its derivative is 1 where x > 0, else 0")
SIN = Op("sin", "sin", "sin(x)", "cos(x)", methods=("sin",), doc="sine")
COS = Op("cos", "cos", "cos(x)", "-sin(x)", methods=("cos",), doc="cosine")
# d/dx sqrt(x) = 1 / (2 sqrt(x)), undefined at x = 0 (ZeroDivisionError, as for x ** 0.5).
SQRT = Op("sqrt", "sqrt", "sqrt(x)", "0.5 / out", methods=("sqrt",), doc="square root (x >= 0)")
# sign(0) = 0: abs'(0) = 0, as in PyTorch. abs keeps the number type (a Fraction stays exact).
ABS = Op("abs", "abs", "abs(x)", "sign(x)", methods=("__abs__",), doc="absolute value")
# softplus(x) = log(1 + e ** x), computed so that it never overflows: softplus(1000) == 1000.0.
SOFTPLUS = Op("softplus", "softplus", "softplus(x)", "sigmoid(x)", methods=("softplus",),
              doc="log(1 + e ** x), stable for any x; its derivative is sigmoid(x)")
IDENTITY = Op("id", "id", "x", "1", doc="a new name for the same number (used by valuegrad.grad)")

OPS: tuple[Op, ...] = (
    ADD, SUB, MUL, DIV, POW, POW_VALUE, NEG, EXP, LOG, TANH, SIGMOID, RELU,
    SIN, COS, SQRT, ABS, SOFTPLUS, IDENTITY,
)  # fmt: skip
"""Every operation, in the order above."""

_BY_NAME = {op.name: op for op in OPS}
assert len(_BY_NAME) == len(OPS), "every op needs a name of its own"

FUNCTIONS: dict[str, str] = {f: op.name for op in OPS for f in sorted(op.functions)}
"""Every function a formula calls, and the first op that calls it: what each backend must define."""


def by_name(name: str) -> Op:
    """The row called ``name`` (``by_name("mul") is MUL``)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no op named {name!r} in valuegrad.ops.OPS") from None


def source_of(op: Op) -> str:
    """A row's formulas in one line: generated code records it, to tell when it is out of date."""
    parts = [op.name, op.out.text, op.d_dx.text, op.d_dy.text if op.d_dy else "", "k" if op.number else ""]
    return " | ".join(parts)


def check_generated(sources: dict[str, str], where: str, compiled: bool = False) -> None:
    """Fail at import when generated code does not match the table: a missing, changed or removed op.

    Each generated file records ``{op name: source_of(op)}`` for the rows it was written from.
    ``compiled`` says the file runs compiled by Cython, whose build may be older than the file.
    """
    if compiled:
        where = f"the compiled engine's {where} (built before the op table changed)"
        fix = (
            "rebuild it: pip install -e . (or python setup.py build_ext --inplace; if the .py file "
            "is out of date too, run `python tools/codegen.py` first), "
            "or run the plain-Python files with VALUEGRAD_PURE_PYTHON=1"
        )
    else:
        fix = "run `python tools/codegen.py`, then rebuild the compiled engine, if any: pip install -e ."
    for op in OPS:
        if op.name not in sources:
            problem = "has no code in"
        elif sources[op.name] != source_of(op):
            problem = "changed since the generation of"
        else:
            continue
        raise ImportError(f"op {op.name!r} {problem} {where}: {fix}")
    extra = set(sources) - set(_BY_NAME)
    if extra:
        raise ImportError(f"{where} has code for ops no longer in the table: {sorted(extra)}: {fix}")
