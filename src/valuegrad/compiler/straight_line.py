"""Straight-line code (modes "python" and "numpy"): a line per op, forward and backward.

``straight_line_code(tape)`` writes two functions:

- ``forward(_in, _P)``: reads the inputs ``_in`` and the parameters' ``_P[j].data``,
  computes each node with its op's ``out`` formula, and returns the output and the
  values backward will read;
- ``backward(_saved)``: walks the nodes from the output back and writes, for each
  operand, ``d out/d operand += local derivative * d out/d node``, with the op
  table's rule in a comment beside it. It returns d output/d input and
  d output/d param.

Mode "python" runs them over floats with `valuegrad.scalar_math` (eager valuegrad's
own functions, so bit for bit the same results); mode "numpy" runs the very same
text over NumPy arrays, one lane per batch element. `Compiled.source` shows it.
"""

from __future__ import annotations

from typing import Any

from .lowering import code_of, operand_names, times_gradient
from .naming import Names, comment, literal, safe_name
from .tape import CONST, INPUT, OP, PARAM, Tape

__all__ = ["straight_line_code"]


def straight_line_code(tape: Tape) -> tuple[str, list[Any]]:
    """Source of ``forward(_in, _P)`` and ``backward(_saved)``, and the constants list ``_C`` they read."""
    n = len(tape)
    names = Names()
    name: list[str] = [""] * n  # the variable of each node ("" for a constant written in place)
    consts: list[Any] = []  # numbers with no literal (a Fraction, inf): read as _C[j]
    expr: list[str] = [""] * n  # how code reads each node: its variable or its literal
    kind, labels = tape.kind, tape.labels

    def constant(c: Any) -> str:
        text = literal(c)
        if text is None:
            consts.append(c)
            text = f"_C[{len(consts) - 1}]"
        return text

    for i in range(n):
        base = safe_name(labels[i])
        if kind[i] == CONST and not base:
            expr[i] = constant(tape.data[i])  # unnamed constants are written in place
            continue
        if not base:
            if kind[i] == INPUT:
                base = f"x{tape.leaf_index[i]}"
            elif kind[i] == PARAM:
                base = f"p{tape.leaf_index[i]}"
            else:
                base = f"v{i}"
        name[i] = expr[i] = names.take(base)

    numbers: dict[int, str] = {}  # the k of each x ** k node, as code

    def operands(i: int, out: str = "") -> dict[str, str]:
        op = tape.ops[i]
        assert op is not None
        if op.binary:
            second = expr[tape.y[i]]
        elif op.number:
            if i not in numbers:
                numbers[i] = constant(tape.k[i])
            second = numbers[i]
        else:
            second = ""
        return operand_names(op, expr[tape.x[i]], second, out)

    fwd = ["def forward(_in, _P):"]
    for k_in, i in enumerate(tape.input_nodes):
        if i >= 0:
            fwd.append(f"    {name[i]} = _in[{k_in}]{comment(labels[i], name[i])}")
    for j, i in enumerate(tape.param_nodes):
        if i >= 0:
            fwd.append(f"    {name[i]} = _P[{j}].data{comment(labels[i], name[i])}")
    for i in range(n):
        if kind[i] == CONST and name[i]:
            fwd.append(f"    {name[i]} = {constant(tape.data[i])}{comment(labels[i], name[i])}")
    forward_text: list[str] = [""] * n
    for i in range(n):
        if kind[i] != OP:
            continue
        op = tape.ops[i]
        assert op is not None
        forward_text[i] = f"{name[i]} = {code_of(op.out, operands(i))}"
        fwd.append(f"    {forward_text[i]}{comment(labels[i], name[i])}")

    out = n - 1
    needs = tape.needs_grad
    grad: list[str] = [""] * n  # the gradient variable of each node, once it has one
    out_name = name[out] or "out"

    def gname(i: int) -> str:
        if not grad[i]:
            grad[i] = names.take(f"d{out_name}_d{name[i]}")
        return grad[i]

    bwd: list[str] = []
    saved: dict[str, int] = {}  # values backward reads, by node number
    if needs[out]:
        bwd.append(f"    {gname(out)} = 1.0")
    assigned = {out}
    for i in range(n - 1, -1, -1):
        if kind[i] != OP or not needs[i]:
            continue
        op = tape.ops[i]
        assert op is not None
        variables = operands(i, name[i])
        bwd.append(f"    # {forward_text[i]}")
        operand_nodes = [tape.x[i], tape.y[i]] if op.binary else [tape.x[i]]
        for child, wrt, partial in zip(operand_nodes, "xy", op.partials):
            if not needs[child]:
                continue
            for var in partial.variables:  # the values this derivative reads, by their nodes
                node = {"x": tape.x[i], "y": tape.y[i], "out": i}.get(var, -1)
                if node >= 0 and name[node]:
                    saved[name[node]] = node
            g = grad[i]
            term = times_gradient(partial, variables, g)
            target = gname(child)
            if child in assigned:
                line = f"{target} += {term}"
            else:
                # `1 * g`, not `g`: over NumPy arrays a later `+=` must not change g in place
                line = f"{target} = {'1 * ' if term == g else ''}{term}"
                assigned.add(child)
            bwd.append(f"    {line}  # out = {op.out}: d out/d{wrt} = {partial}")

    def tuple_of(items: list[str]) -> str:
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    input_grads = [grad[i] if i >= 0 and grad[i] else "0.0" for i in tape.input_nodes]
    param_grads = [grad[i] if grad[i] else "0.0" for i in tape.param_nodes if i >= 0]
    saved_names = sorted(saved, key=saved.__getitem__)
    fwd.append(f"    return {expr[out]}, {tuple_of(saved_names)}")
    head = ["def backward(_saved):"]
    if saved_names:
        head.append(f"    {', '.join(saved_names)}{',' if len(saved_names) == 1 else ''} = _saved")
    bwd = head + bwd + [f"    return {tuple_of(input_grads)}, {tuple_of(param_grads)}"]
    return "\n".join(fwd) + "\n\n\n" + "\n".join(bwd) + "\n", consts
