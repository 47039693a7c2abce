"""The little language the op table is written in, and its one reader.

A formula is a Python expression over the names

- ``x``: the data of the first operand,
- ``y``: the data of the second operand, for an op with two operand Values (``x * y``),
- ``k``: a plain number that is part of the op, not an operand (the exponent of ``x ** 2``),
- ``out``: the op's own result (only in derivatives: d tanh(x)/dx = ``1 - out * out``),

numbers, the operators ``+ - * / **``, comparisons, ``a if cond else b``, and calls
of the functions every backend provides (``exp``, ``tanh``, ...). Each formula is
parsed once, with `ast`, into a `Formula` that knows which names it uses, and can
be written out with other expressions in place of its variables: that is how the
engine's generated code, the compiler's code and the drawings are written.

>>> f = Formula.parse("1 - out * out")
>>> sorted(f.variables), sorted(f.functions)
(['out'], [])
>>> f.substitute({"out": "o[3]"})
'1 - o[3] * o[3]'
>>> Formula.parse("k * power(x, k - 1)").substitute({"x": "a", "k": "2"})
'2 * power(a, 2 - 1)'
"""

from __future__ import annotations

import ast
from typing import Iterable, Mapping

__all__ = ["VARIABLES", "Formula", "FormulaError", "check_backend"]

VARIABLES = ("x", "y", "k", "out")
"""The names a formula may read besides functions."""

# What a formula may be made of: an expression, nothing that assigns, imports or reads attributes.
_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.IfExp,
    ast.Compare,
    ast.Call,
    ast.Name,
    ast.Constant,
    ast.Load,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.USub,
    ast.UAdd,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
)


class FormulaError(ValueError):
    """A formula of the op table is not in the formula language (see `valuegrad.formulas`)."""


class Formula:
    """One parsed formula: its text, the variables and functions it uses, its number value if constant."""

    __slots__ = ("text", "variables", "functions", "constant")

    text: str
    variables: frozenset[str]
    functions: frozenset[str]
    constant: int | float | None  # 1 for "1", -1 for "-1", else None

    def __init__(
        self, text: str, variables: frozenset[str], functions: frozenset[str], constant: int | float | None
    ) -> None:
        self.text = text
        self.variables = variables
        self.functions = functions
        self.constant = constant

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"

    @classmethod
    def parse(cls, text: str) -> Formula:
        """Parse ``text``; `FormulaError` names what is not allowed."""
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError as e:
            raise FormulaError(f"formula {text!r} is not a Python expression: {e.msg}") from None
        called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        variables: set[str] = set()
        functions: set[str] = set()
        for node in ast.walk(tree):
            if not isinstance(node, _ALLOWED):
                raise FormulaError(f"formula {text!r} uses {type(node).__name__}, not allowed in a formula")
            if isinstance(node, ast.Call):
                if not isinstance(node.func, ast.Name) or node.keywords:
                    raise FormulaError(f"formula {text!r}: only plain calls f(a, b) of named functions")
            elif isinstance(node, ast.Name):
                if id(node) in called:
                    functions.add(node.id)
                elif node.id in VARIABLES:
                    variables.add(node.id)
                else:
                    raise FormulaError(
                        f"formula {text!r} reads {node.id!r}: a formula reads only {', '.join(VARIABLES)}"
                    )
            elif isinstance(node, ast.Constant) and type(node.value) not in (int, float):
                raise FormulaError(f"formula {text!r}: only int and float constants, not {node.value!r}")
        constant = None
        try:
            value = ast.literal_eval(tree)
        except ValueError:
            pass
        else:
            constant = value if type(value) in (int, float) else None
        return cls(text, frozenset(variables), frozenset(functions), constant)

    def substitute(self, names: Mapping[str, str], functions: Mapping[str, str] | None = None) -> str:
        """The formula as source text, each variable replaced by the expression ``names[variable]``.

        Replacements are parsed as expressions and inserted as whole subtrees, so
        ``x * y`` with ``x`` = ``a + b`` reads ``(a + b) * y``. ``functions`` renames
        called functions (``{"exp": "np.exp"}``); others keep their names.
        """
        missing = self.variables - set(names)
        if missing:
            raise KeyError(f"formula {self.text!r} needs an expression for {sorted(missing)}")
        replacements = {name: ast.parse(expr, mode="eval").body for name, expr in names.items()}
        renamed = {name: ast.parse(expr, mode="eval").body for name, expr in (functions or {}).items()}

        class Replace(ast.NodeTransformer):
            def visit_Call(self, node: ast.Call) -> ast.AST:
                args = [self.visit(a) for a in node.args]
                func = node.func
                if isinstance(func, ast.Name) and func.id in renamed:
                    func = renamed[func.id]
                return ast.Call(func=func, args=args, keywords=[])

            def visit_Name(self, node: ast.Name) -> ast.AST:
                return replacements.get(node.id, node)

        tree = Replace().visit(ast.parse(self.text, mode="eval"))
        return ast.unparse(ast.fix_missing_locations(tree))

    def __str__(self) -> str:
        return self.text


def check_backend(
    namespace: Mapping[str, object] | Iterable[str], needed: Mapping[str, str], backend: str, where: str
) -> None:
    """Fail at import when a backend lacks a function some op's formula calls.

    ``needed`` maps each function name to the op that calls it (see `valuegrad.ops.FUNCTIONS`);
    ``where`` says where the backend's functions are defined, for the message.
    """
    have = set(namespace)
    for name, op in needed.items():
        if name not in have:
            raise ImportError(
                f"op {op!r} calls {name}(), which the {backend} functions do not define: "
                f"add {name} to the {backend} backend ({where})"
            )
