"""A row of the op table as code, and the functions that code calls.

Generated code comes only from the op table's formulas (`valuegrad.ops`), parsed by
`valuegrad.formulas`: `operand_names` says which expression stands for each of a
row's variables (``x``, and ``y`` or the number ``k``, and ``out``), and `code_of`
writes the formula with them in place (with `Formula.substitute`). `times_gradient`
writes one term of the chain rule, ``local derivative * gradient``.

The code calls the formulas' functions by their own names (``exp``, ``tanh``, ...):
over plain numbers they are `valuegrad.scalar_math`'s, the very functions eager
valuegrad runs (`SCALAR_FUNCTIONS`); over NumPy arrays, `valuegrad.numpy_math`'s
(`numpy_functions`).

>>> from valuegrad.ops import MUL, POW, TANH
>>> code_of(MUL.out, operand_names(MUL, "a", "b"))
'a * b'
>>> code_of(MUL.out, operand_names(MUL, "a + 1", "v[2:4]"))
'(a + 1) * v[2:4]'
>>> code_of(POW.d_dx, operand_names(POW, "a", "3"))
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
import functools
import re
from typing import Any, Mapping

from .. import numpy_math, ops, scalar_math
from ..formulas import Formula
from ..ops import Op

__all__ = [
    "operand_names",
    "code_of",
    "times_gradient",
    "SCALAR_FUNCTIONS",
    "numpy_functions",
    "require_numpy",
]


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
    text, single_term = _template(partial)
    local = _fill(partial, text, names)
    return f"{local} * {gradient}" if single_term else f"({local}) * {gradient}"


def code_of(formula: Formula, names: Mapping[str, str]) -> str:
    """``formula`` as code, with the expression ``names[v]`` in place of each of its variables ``v``.

    `Formula.substitute` writes each formula once, with a placeholder for each
    variable; every node then only fills in its own expressions (a graph has tens of
    thousands of nodes, and a table a few formulas). An expression that is not a
    single term (a name, an item such as ``v[3:5]``, a number, a parenthesised
    expression) is put in parentheses, so the code means what the formula means.
    """
    return _fill(formula, _template(formula)[0], names)


_PLACEHOLDER = "__formula_{}__"

# A single term: a name (with an item and a .reshape(...)), a number, or a parenthesised expression.
_TERM = re.compile(
    r"[A-Za-z_]\w*(?:\[[^\[\]()]*\])?(?:\.reshape\([^()]*\))?"
    r"|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?"
    r"|\([^()]*\)"
)


@functools.cache
def _template(formula: Formula) -> tuple[str, bool]:
    """The formula with a ``{v}`` field for each variable ``v``, and whether it is a single term."""
    marks = {v: _PLACEHOLDER.format(v) for v in formula.variables}
    text = formula.substitute(marks)
    for v, mark in marks.items():
        text = text.replace(mark, "{" + v + "}")  # (formulas have no braces of their own)
    top = ast.parse(formula.text, mode="eval").body
    return text, isinstance(top, (ast.Name, ast.Call, ast.Subscript, ast.Constant))


def _fill(formula: Formula, text: str, names: Mapping[str, str]) -> str:
    missing = formula.variables - set(names)
    if missing:
        raise KeyError(f"formula {formula.text!r} needs an expression for {sorted(missing)}")
    return text.format_map(
        {v: names[v] if _TERM.fullmatch(names[v]) else f"({names[v]})" for v in formula.variables}
    )


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
