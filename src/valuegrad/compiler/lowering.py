"""A row of the op table as code, and the functions that code calls.

Generated code comes only from the op table's formulas (`valuegrad.ops`), parsed by
`valuegrad.formulas`: `operand_names` says which expression stands for each of a
row's variables (``x``, and ``y`` or the number ``k``, and ``out``), and
`Formula.substitute` writes the formula with them in place. `times_gradient` writes
one term of the chain rule, ``local derivative * gradient``.

The code calls the formulas' functions by their own names (``exp``, ``tanh``, ...):
over plain numbers they are `valuegrad.scalar_math`'s, the very functions eager
valuegrad runs (`SCALAR_FUNCTIONS`); over NumPy arrays, `valuegrad.numpy_math`'s
(`numpy_functions`).

>>> from valuegrad.ops import MUL, POW, TANH
>>> MUL.out.substitute(operand_names(MUL, "a", "b"))
'a * b'
>>> POW.d_dx.substitute(operand_names(POW, "a", "3"))
'0 if 3 == 0 else 3 * power(a, 3 - 1)'
>>> times_gradient(TANH.d_dx, operand_names(TANH, "n", out="o"), "do_do")
'(1 - o * o) * do_do'
>>> times_gradient(MUL.d_dx, operand_names(MUL, "a", "b"), "g5")
'b * g5'
>>> times_gradient(POW.d_dx, operand_names(POW, "v[3:5]", "2"), "G1")
'(0 if 2 == 0 else 2 * power(v[3:5], 2 - 1)) * G1'
"""

from __future__ import annotations

import ast
from typing import Any

from .. import numpy_math, ops, scalar_math
from ..formulas import Formula
from ..ops import Op

__all__ = ["operand_names", "times_gradient", "SCALAR_FUNCTIONS", "numpy_functions", "require_numpy"]


def operand_names(op: Op, x: str, second: str = "", out: str = "") -> dict[str, str]:
    """The expressions for a row's variables: ``x``; ``y`` (a second operand) or ``k`` (the op's number).

    ``second`` is the second operand's expression for a two-operand op, the number's
    for an op that takes one (``x ** k``), and unused otherwise; ``out`` (the node's
    own value) is given only where a derivative may read it.
    """
    names = {"x": x}
    if op.binary:
        names["y"] = second
    elif op.number:
        names["k"] = second
    if out:
        names["out"] = out
    return names


def times_gradient(partial: Formula, names: dict[str, str], gradient: str) -> str:
    """One chain-rule term, ``partial * gradient`` as code; just ``gradient`` (or its negation) when the
    local derivative is the constant 1 (or -1)."""
    if partial.constant == 1:
        return gradient
    if partial.constant == -1:
        return f"-{gradient}"
    local = partial.substitute(names)
    return f"{local} * {gradient}" if _is_atom(local) else f"({local}) * {gradient}"


def _is_atom(expr: str) -> bool:
    """Whether ``expr`` needs no parentheses before ``*``: a name, call, item or non-negative number."""
    node = ast.parse(expr, mode="eval").body
    return isinstance(node, (ast.Name, ast.Call, ast.Subscript, ast.Attribute, ast.Constant))


SCALAR_FUNCTIONS: dict[str, Any] = {name: getattr(scalar_math, name) for name in ops.FUNCTIONS}
"""The formulas' functions over plain numbers: eager valuegrad's own (mode "python" is bit for bit)."""


def numpy_functions(np: Any) -> dict[str, Any]:
    """The formulas' functions over NumPy arrays (from `valuegrad.numpy_math`), by name."""
    return dict(vars(numpy_math.functions(np)))


def require_numpy() -> Any:
    """The NumPy module, or an ImportError that says how to get it (NumPy is never loaded at import)."""
    try:
        import numpy
    except ImportError as e:  # pragma: no cover - numpy is in the compile extra
        raise ImportError(
            "this compile mode needs NumPy: pip install 'valuegrad[compile]' (or use mode='python')"
        ) from e
    return numpy
