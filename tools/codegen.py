"""Write the engine's generated code from the op table (src/valuegrad/ops.py).

    python tools/codegen.py           # rewrite the generated parts
    python tools/codegen.py --check   # exit 1, naming the files, if any is out of date

Generated, from each row of the table:

- `src/valuegrad/value.py`: the `Value` methods that perform the ops (``__mul__``, ``tanh``, ...);
- `src/valuegrad/backward.py`: the chain rule of each op, in `backward()`'s loop and at one node;
- `src/valuegrad/dual.py`: the `Dual` methods (forward mode);
- `src/valuegrad/op_functions.py`: each formula as a function over any kind of number.

In the first three files only the parts between ``# BEGIN GENERATED <part>`` and
``# END GENERATED <part>`` are written; the rest is ordinary code. Each generated
part records the formulas it was written from, and valuegrad refuses to import
when they differ from the table (`valuegrad.ops.check_generated`).

This script reads the table without importing valuegrad itself (whose generated
parts may be out of date while you add an op), so it always runs.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import re
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "valuegrad"
_PACKAGE = "_valuegrad_codegen_source"  # the table's modules, loaded apart from any installed valuegrad

# backward()'s loop tests these ops first (the most frequent in training graphs); the rest follow
# in table order. Only speed depends on this order.
HOT_FIRST = ("mul", "add", "tanh", "relu", "sub", "pow")

HEADER = "`python tools/codegen.py` writes this from src/valuegrad/ops.py"


def load_table() -> Any:
    """``valuegrad.ops`` as written in the source tree, without running valuegrad's ``__init__``."""
    if _PACKAGE not in sys.modules:
        package = types.ModuleType(_PACKAGE)
        package.__path__ = [str(SRC)]
        sys.modules[_PACKAGE] = package
    return importlib.import_module(f"{_PACKAGE}.ops")


# ---------------------------------------------------------------------------
# Value methods
# ---------------------------------------------------------------------------

_OPERATOR_DOCS = {
    "__neg__": "``-self``",
    "__abs__": "``abs(self)``",
}


def _is_reflected(method: str) -> bool:
    return method.startswith("__r") and method not in ("__round__",)


def _docstring(text: str, indent: int = 4) -> str:
    """A docstring of ``text``, wrapped to fit the line length at this indent."""
    width = 106 - indent
    lines = textwrap.wrap(text, width=width)
    if len(lines) == 1 and len(lines[0]) + 6 <= width:
        return f'"""{lines[0]}"""'
    pad = " " * indent
    return '"""' + lines[0] + "".join(f"\n{pad}{line}" for line in lines[1:]) + f'\n{pad}"""'


def _method_doc(method: str, rows: list[Any]) -> str:
    op = rows[0]
    if method in _OPERATOR_DOCS:
        head = _OPERATOR_DOCS[method]
    elif method.startswith("__"):
        left, right = ("other", "self") if _is_reflected(method) else ("self", "other")
        head = f"``{left} {op.symbol} {right}``"
    else:
        head = op.doc[0].upper() + op.doc[1:]
        return head + "."
    return head + ": " + "; or ".join(row.doc for row in rows) + "."


def _call(op: Any, names: dict[str, str]) -> str:
    return op.out.substitute(names)


def rows_by_method(ops: Any) -> dict[str, list[Any]]:
    """Each method name (``__mul__``, ``tanh``) with the rows that perform it, in table order."""
    by_method: dict[str, list[Any]] = {}
    for op in ops.OPS:
        for method in op.methods:
            by_method.setdefault(method, []).append(op)
    return by_method


def value_methods(ops: Any) -> str:
    """The source of every `Value` method that performs an op, in table order."""
    chunks = []
    for method, rows in rows_by_method(ops).items():
        doc = _method_doc(method, rows)
        binary = [op for op in rows if op.binary]
        number = [op for op in rows if op.number]
        unary = [op for op in rows if not op.binary and not op.number]
        if len(binary) > 1 or len(number) > 1 or (unary and len(rows) > 1):
            raise ValueError(f"method {method}: ops {[op.name for op in rows]} cannot share it")
        if unary:
            (op,) = unary
            lines = [
                f"def {method}(self) -> Value:",
                f"    {_docstring(doc)}",
                f"    return _node({_call(op, {'x': 'self.data'})}, {ops_name(ops, op)}, self, None)",
            ]
        else:
            lines = [f"def {method}(self, other: Value | Number) -> Value:", f"    {_docstring(doc)}"]
            if binary:
                (op,) = binary
                reflected = _is_reflected(method)
                first, second = ("operand", "self") if reflected else ("self", "operand")
                call = _call(op, {"x": f"{first}.data", "y": f"{second}.data"})
                made = f"return _node({call}, {ops_name(ops, op)}, {first}, {second})"
                if number:
                    made = made.replace("operand", "other")
                    lines += ["    if isinstance(other, Value):", f"        {made}"]
                else:
                    lines += [
                        "    # a number operand becomes a new leaf (a constant)",
                        "    operand: Value | None = other if isinstance(other, Value) else _operand(other)",
                        "    if operand is None:",
                        "        return NotImplemented",
                        f"    {made}",
                    ]
            if number:
                (op,) = number
                call = _call(op, {"x": "self.data", "k": "other"})
                lines += [
                    "    if not _number(other):",
                    "        return NotImplemented",
                    f"    return _node_with_number({call}, {ops_name(ops, op)}, self, other)",
                ]
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks)


def ops_name(ops: Any, op: Any) -> str:
    """The name the row has in valuegrad.ops (MUL for the row named "mul")."""
    for name, value in vars(ops).items():
        if value is op and name.isupper():
            return name
    raise ValueError(f"op {op.name!r} is not bound to an upper-case name in ops.py")


# ---------------------------------------------------------------------------
# The chain rule
# ---------------------------------------------------------------------------

_READ = {"x": "X.data", "y": "Y.data", "k": "node._k", "out": "node.data"}


def _term(expression: str, constant: Any) -> str:
    """``local derivative * g``, the derivative in parentheses unless it is a single name or call."""
    if constant == 1:
        return "g"
    if constant == -1:
        return "-g"
    tree = ast.parse(expression, mode="eval").body
    atom = isinstance(tree, (ast.Name, ast.Attribute, ast.Call, ast.Constant))
    return f"{expression} * g" if atom else f"({expression}) * g"


def chain_rule_lines(op: Any) -> list[str]:
    """The lines applying the chain rule at a node of ``op``, given ``node``, ``g``, ``X`` and ``Y``."""
    uses: dict[str, int] = {}
    for d in op.partials:
        for name in d.variables:
            uses[name] = uses.get(name, 0) + len(re.findall(rf"\b{name}\b", d.text))
    lines = [f"{name} = {_READ[name]}" for name in ("x", "y", "k", "out") if uses.get(name, 0) > 1]
    names = {name: (name if uses.get(name, 0) > 1 else _READ[name]) for name in _READ}
    for operand, d in zip("XY", op.partials):
        lines.append(f"{operand}.grad += {_term(d.substitute(names), d.constant)}")
    return lines


def _formula_comment(op: Any) -> str:
    return f"out = {op.out}"


def chain_rule_branches(ops: Any, order: list[Any]) -> str:
    lines = []
    for i, op in enumerate(order):
        lines.append(f"{'if' if i == 0 else 'elif'} op is {ops_name(ops, op)}:  # {_formula_comment(op)}")
        lines += ["    " + line for line in chain_rule_lines(op)]
    lines += ["else:", "    _unknown_op(op)"]
    return "\n".join(lines)


def loop_order(ops: Any) -> list[Any]:
    hot = [ops.by_name(name) for name in HOT_FIRST]
    return hot + [op for op in ops.OPS if op not in hot]


# ---------------------------------------------------------------------------
# Dual methods (forward mode)
# ---------------------------------------------------------------------------


def dual_methods(ops: Any) -> str:
    chunks = []
    for method, rows in rows_by_method(ops).items():
        doc = _method_doc(method, rows)
        binary = [op for op in rows if op.binary]
        number = [op for op in rows if op.number]
        if not binary and not number:
            (op,) = rows
            body = f"return _unary({ops_name(ops, op)}, self)"
            chunks.append(f"def {method}(self) -> Dual:\n    {_docstring(doc)}\n    {body}")
            continue
        lines = [f"def {method}(self, other: Dual | Number) -> Dual:", f"    {_docstring(doc)}"]
        if number:
            (op,) = number
            made = f"return _with_number({ops_name(ops, op)}, self, other)"
            lines += ["    if _number(other):", f"        {made}"]
        if binary:
            (op,) = binary
            args = "other, self" if _is_reflected(method) else "self, other"
            lines.append(f"    return _binary({ops_name(ops, op)}, {args})")
        else:
            lines.append("    return NotImplemented")
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks)


# ---------------------------------------------------------------------------
# op_functions.py
# ---------------------------------------------------------------------------

OP_FUNCTIONS_DOC = '''"""The op table's formulas as functions over any kind of number. Generated: do not edit.

{header}. For each op,
``value_of_<op>(x, y, f)`` computes its result and ``derivatives_of_<op>(x, y, out, f)``
its local derivatives, one per operand Value. ``y`` is the second operand's data,
or the number ``k`` of an op like ``x ** 2``, or None; ``f`` provides the functions
the formulas call, for the kind of number at hand: `valuegrad.scalar_math` for
plain numbers, Values for higher-order gradients (`valuegrad.higher_order`).

>>> from valuegrad import scalar_math
>>> value_of_tanh(0.0, None, scalar_math), derivatives_of_tanh(0.0, None, 0.0, scalar_math)
(0.0, (1.0,))
"""'''


def op_functions(ops: Any) -> str:
    out = [OP_FUNCTIONS_DOC.format(header=HEADER), "", "from __future__ import annotations", ""]
    out += ["from typing import Any, Callable", ""]
    value_names, derivative_names = [], []
    for op in ops.OPS:
        second = "k" if op.number else "y"
        functions = {name: f"f.{name}" for name in op.functions}
        names = {"x": "x", "y": "y", "k": "k", "out": "out"}
        value = op.out.substitute(names, functions)
        derivatives = [d.substitute(names, functions) for d in op.partials]
        tuple_text = "(" + ", ".join(derivatives) + ("," if len(derivatives) == 1 else "") + ")"
        out += [
            "",
            f"def value_of_{op.name}(x: Any, {second}: Any, f: Any) -> Any:",
            f'    """out = {op.out}"""',
            f"    return {value}",
            "",
            "",
            f"def derivatives_of_{op.name}(x: Any, {second}: Any, out: Any, f: Any) -> tuple[Any, ...]:",
            f'    """{", ".join(f"d out/d{v} = {d}" for v, d in zip("xy", op.partials))}"""',
            f"    return {tuple_text}",
            "",
        ]
        value_names.append(op.name)
        derivative_names.append(op.name)
    out += [
        "",
        "VALUE: dict[str, Callable[..., Any]] = {",
        *[f'    "{name}": value_of_{name},' for name in value_names],
        "}",
        '"""``value_of_<op>`` by op name."""',
        "",
        "DERIVATIVES: dict[str, Callable[..., tuple[Any, ...]]] = {",
        *[f'    "{name}": derivatives_of_{name},' for name in derivative_names],
        "}",
        '"""``derivatives_of_<op>`` by op name."""',
        "",
        sources(ops).rstrip(),
        "",
    ]
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Shared parts: imports and the record of what was generated
# ---------------------------------------------------------------------------


def sources(ops: Any) -> str:
    lines = ["SOURCES = {"]
    lines += [f"    {op.name!r}: {ops.source_of(op)!r}," for op in ops.OPS]
    lines += ["}", '"""The rows this file was written from (valuegrad.ops.source_of): checked at import."""']
    return "\n".join(lines) + "\n"


def checks(ops: Any, where: str, compiled: bool = False) -> str:
    """The record and its check; ``compiled``: the file is one Cython compiles (the engine)."""
    flag = ", compiled=cython.compiled" if compiled else ""
    return sources(ops) + f'check_generated(SOURCES, "{where}"{flag})'


def imports(ops: Any, rows: list[Any], functions: set[str]) -> str:
    lines = ["# isort: off"]
    row_names = sorted({ops_name(ops, op) for op in rows})
    lines.append("from .ops import (")
    lines += [f"    {name}," for name in row_names]
    lines.append("    check_generated,")
    lines.append(")")
    if functions:
        lines.append("from .scalar_math import (")
        lines += [f"    {name}," for name in sorted(functions)]
        lines.append(")")
    lines.append("# isort: on")
    return "\n".join(lines)


def _value_functions(ops: Any) -> set[str]:
    return {f for op in ops.OPS if op.methods for f in op.out.functions}


def _derivative_functions(ops: Any) -> set[str]:
    return {f for op in ops.OPS for d in op.partials for f in d.functions}


# ---------------------------------------------------------------------------
# Writing the regions
# ---------------------------------------------------------------------------

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN GENERATED (?P<part>[^:\n]+)(?::.*)?$", re.M)


def fill(text: str, parts: dict[str, str], where: str) -> str:
    """``text`` with every generated part replaced by ``parts[name]``, indented like its markers."""
    done = set()
    result = []
    pos = 0
    for begin in _BEGIN.finditer(text):
        if begin.start() < pos:
            continue
        name, indent = begin["part"].strip(), begin["indent"]
        end_marker = f"{indent}# END GENERATED {name}\n"
        end = text.find(end_marker, begin.end())
        if end < 0:
            line = text.count("\n", 0, begin.start()) + 1
            raise ValueError(f"{where}: no '# END GENERATED {name}' after line {line}")
        if name not in parts:
            raise ValueError(f"{where}: unknown generated part {name!r}")
        body = "".join(
            (indent + line if line.strip() else "") + "\n" for line in parts[name].splitlines()
        )
        result.append(text[pos : begin.start()])
        result.append(f"{indent}# BEGIN GENERATED {name}: {HEADER}\n{body}{end_marker}")
        pos = end + len(end_marker)
        done.add(name)
    result.append(text[pos:])
    missing = set(parts) - done
    if missing:
        raise ValueError(f"{where}: no '# BEGIN GENERATED' marker for {sorted(missing)}")
    return "".join(result)


def generate() -> dict[Path, str]:
    """The new text of every generated file."""
    ops = load_table()
    value_rows = [op for op in ops.OPS if op.methods]
    files: dict[Path, str] = {}

    value_path = SRC / "value.py"
    files[value_path] = fill(
        value_path.read_text(),
        {
            "imports": imports(ops, value_rows, _value_functions(ops)),
            "methods": value_methods(ops),
            "checks": checks(ops, "valuegrad/value.py", compiled=True),
        },
        "value.py",
    )

    backward_path = SRC / "backward.py"
    order = loop_order(ops)
    files[backward_path] = fill(
        backward_path.read_text(),
        {
            "imports": imports(ops, list(ops.OPS), _derivative_functions(ops)),
            "chain rule": chain_rule_branches(ops, order),
            "chain rule at one node": chain_rule_branches(ops, list(ops.OPS)),
            "checks": checks(ops, "valuegrad/backward.py", compiled=True),
        },
        "backward.py",
    )

    dual_path = SRC / "dual.py"
    files[dual_path] = fill(
        dual_path.read_text(),
        {
            "imports": imports(ops, value_rows, set()),
            "methods": dual_methods(ops),
            "checks": checks(ops, "valuegrad/dual.py"),
        },
        "dual.py",
    )

    files[SRC / "op_functions.py"] = op_functions(ops)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the engine's generated code from the op table.")
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generate().items():
        old = path.read_text() if path.exists() else ""
        if old != text:
            stale.append(path)
            if not args.check:
                path.write_text(text)
    rel = [str(p.relative_to(ROOT)) for p in stale]
    if args.check:
        if stale:
            print("out of date (run python tools/codegen.py):", *rel, sep="\n  ")
            return 1
        print("generated code is up to date")
        return 0
    print("wrote:", *rel, sep="\n  ") if stale else print("nothing to write: generated code is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
