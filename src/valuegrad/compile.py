"""Trace a scalar graph once, then run it as compiled code: ``valuegrad.compile``.

A training step builds the same graph again and again; only the numbers change.
`compile` calls your function once on Values, records the graph as a flat tape
(nodes in topological order: op, operand indices, constants), and turns the tape
into code generated from the op table's own formulas (`valuegrad.ops`):

- ``mode="python"``: one straight-line Python function for forward and one for
  backward, a line per op (read it in `Compiled.source`: the chain rule, spelled out);
- ``mode="numpy"``: the same lines run over NumPy arrays of shape ``(batch,)``:
  one pass evaluates a whole batch ("batch lanes");
- ``mode="level"``: the nodes of one op at the same depth of the graph are
  independent, so each such group runs as one NumPy call over gathered operands
  (a 16x16 layer is one multiply of 256 lanes), forward and backward. A chain of
  additions (``sum(...)``) runs as one add per link over all such chains, in the
  same order as eagerly; an operand that repeats (a weight read by every sample)
  is read once and broadcast, and its gradient is summed with ``einsum``. Gradient
  scatters are slices, ``g[idx] +=`` for distinct targets, or ``np.bincount``
  (never ``np.add.at``). Also over batch lanes.
- ``mode="auto"`` (default): ``"level"`` when NumPy is installed and the graph has
  1,000 ops or more in groups of 100 or more on average (a training step over a
  batch: micrograd's demo is 65,077 ops in 16 groups), else straight-line code
  for numbers; ``compiled.mode`` says which. Array inputs always run the level plan.

>>> from valuegrad import Value
>>> w = Value(-3.0, label="w")
>>> f = compile(lambda x: (x * w).tanh(), [2.0], params=[w], mode="python")
>>> round(f([0.5]), 6)
-0.905148
>>> [round(d, 6) for d in f.backward()]   # d f/dx per input; w.grad receives d f/dw
[-0.54212]
>>> round(w.grad, 6)
0.090353

Rules and limits:

- The tape is valid while the graph's shape does not depend on the data. A Python
  ``if x.data > 0`` inside ``fn`` is frozen at the traced branch; ``check=True``
  re-traces at every call and raises `GraphChangedError` if the graph changed.
- ``params`` are leaf Values read at every forward (their current ``.data``) whose
  ``.grad`` receives ``+=`` d output/d param at backward, as eager `Value.backward`
  does (summed over batch lanes), so optimizers work unchanged. Any other leaf that
  ``fn`` uses and that is not an input is a constant, baked in at its traced value.
- Compiled code computes in float64 (mode "python" keeps the engine's own number
  functions, so it reproduces eager valuegrad bit for bit).
- Domain errors are never silent NaN: NumPy runs under
  ``errstate(divide="raise", invalid="raise")`` (overflow gives ``inf``, as eagerly),
  and any numerical failure (log of a non-positive number, 0/0, division by zero,
  ``(-8) ** 0.5``) raises `DomainError` (a ValueError) naming the generated line.
- Straight-line code is one Python line per op: CPython compiles it at roughly a
  second per 20,000 ops, so large graphs belong to mode "level" ("auto" picks it).
- Generated code comes only from the op table's formulas, with ``x``, ``y`` and
  ``out`` replaced by variable names. Labels never reach code: a name is a label
  reduced to ``[A-Za-z_][A-Za-z0-9_]*`` (else ``v17``), and a label shown in a
  comment is escaped with ``repr`` (no line breaks).
"""

from __future__ import annotations

import builtins
import importlib.util
import itertools
import keyword
import linecache
import math
import re
import time
import unicodedata
import weakref
from array import array
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from . import numpy_math, ops, scalar_math
from .backward import gc_paused, topological_order
from .formulas import Formula
from .ops import Op
from .value import Value

__all__ = ["compile", "Compiled", "Tape", "Group", "GraphChangedError", "DomainError", "MODES"]

MODES = ("auto", "python", "numpy", "level")
"""The values of ``compile(..., mode=...)``."""

# "auto" picks the level plan from this many ops on, when its groups are this wide on
# average (measured: below that, one Python line per op is faster than NumPy calls).
_AUTO_LEVEL_OPS = 1000
_AUTO_LEVEL_WIDTH = 100

# Node kinds on the tape.
OP, INPUT, PARAM, CONST = 0, 1, 2, 3


class GraphChangedError(ValueError):
    """``check=True`` re-traced the function and found a graph other than the compiled one."""


class DomainError(ValueError, ArithmeticError):
    """A compiled forward or backward hit a number outside an op's domain (log(0), 0/0, ...)."""


# ---------------------------------------------------------------------------
# The tape
# ---------------------------------------------------------------------------


@dataclass
class Tape:
    """A traced graph, flat: node ``i`` is made by ``ops[i]`` from nodes ``x[i]`` (and ``y[i]``).

    Nodes are in topological order (operands first); the output is the last node.
    ``kind[i]`` is OP, INPUT, PARAM or CONST (0..3); ``ref[i]`` is the input or
    parameter number of a leaf. ``exponent[i]`` is the number exponent of a
    ``x ** 2`` node. An op whose operands are all constants is itself folded into a
    constant (its traced value). ``data`` holds the value of each constant (None for
    other nodes); ``needs_grad[i]`` is 1 when node i depends on an input or a parameter.
    Integer columns are compact ``array.array`` s (a large graph's tape stays small).
    """

    ops: list[Op | None]
    x: Sequence[int]
    y: Sequence[int]
    exponent: list[Any]
    kind: Sequence[int]
    ref: Sequence[int]
    data: list[Any]
    labels: list[str]
    input_nodes: list[int]
    param_nodes: list[int]
    needs_grad: Sequence[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ops)

    @property
    def n_ops(self) -> int:
        """How many nodes compute something (not leaves, not folded constants)."""
        return sum(1 for k in self.kind if k == OP)

    def signature(self) -> list[tuple[Any, ...]]:
        """What must not change between traces: ops, wiring, leaf roles and constants."""
        sig: list[tuple[Any, ...]] = []
        for i, k in enumerate(self.kind):
            op = self.ops[i]
            if k == OP:
                assert op is not None
                sig.append((k, op.name, op.arity, self.x[i], self.y[i], repr(self.exponent[i])))
            elif k == CONST:
                sig.append((k, repr(self.data[i])))
            else:
                sig.append((k, self.ref[i]))
        return sig

    def describe(self, i: int) -> str:
        """One node, for error messages."""
        k, op = self.kind[i], self.ops[i]
        label = f" {self.labels[i]!r}" if self.labels[i] else ""
        if k == INPUT:
            return f"input {self.ref[i]}{label}"
        if k == PARAM:
            return f"parameter {self.ref[i]}{label}"
        if k == CONST:
            return f"constant {self.data[i]!r}{label}"
        assert op is not None
        args = [f"node {self.x[i]}"] + ([f"node {self.y[i]}"] if op.binary else [])
        if op.number:
            args.append(repr(self.exponent[i]))
        return f"{op.symbol!r}({', '.join(args)}){label}"


def _trace(
    fn: Callable[..., Any], example: Sequence[Any], labels: Sequence[str], params: Sequence[Value]
) -> Tape:
    inputs = [Value(d, label=label) for d, label in zip(example, labels)]
    with gc_paused():  # the traced graph has no cycles: nothing for the collector to find
        out = fn(*inputs)
        if not isinstance(out, Value):
            raise TypeError(
                f"the compiled function must return a Value, it returned {type(out).__name__}: {out!r}"
            )
        order = topological_order(out)
        # Values hash by identity (Value defines no __eq__), so they key the index directly.
        index = {v: i for i, v in enumerate(order)}
        tape_ops = [v._operation for v in order]
        x = [-1 if op is None else index[v._x] for v, op in zip(order, tape_ops)]
        y = [index[v._y] if op is not None and v._y is not None else -1 for v, op in zip(order, tape_ops)]
        exponent = [v._k if op is not None and op.number else None for v, op in zip(order, tape_ops)]
        data = [v.data for v in order]
        labels_out = [v.label for v in order]
        leaf_ids = [id(v) if op is None else 0 for v, op in zip(order, tape_ops)]
    n = len(order)
    del order, index
    kind = [OP] * n
    ref = [-1] * n
    input_of = {id(v): k for k, v in enumerate(inputs)}
    param_of = {id(p): j for j, p in enumerate(params)}
    input_nodes = [-1] * len(inputs)
    param_nodes = [-1] * len(params)
    needs = [False] * n
    for i in range(n):
        if tape_ops[i] is None:
            leaf = leaf_ids[i]
            if leaf in input_of:
                kind[i], ref[i] = INPUT, input_of[leaf]
                input_nodes[ref[i]] = i
                needs[i] = True
            elif leaf in param_of:
                kind[i], ref[i] = PARAM, param_of[leaf]
                param_nodes[ref[i]] = i
                needs[i] = True
            else:
                kind[i] = CONST
        else:
            xi, yi = x[i], y[i]
            if kind[xi] == CONST and (yi < 0 or kind[yi] == CONST):
                kind[i] = CONST  # depends on constants only: fold it to its traced value
            else:
                needs[i] = needs[xi] or (yi >= 0 and needs[yi])
    data = [d if k == CONST else None for d, k in zip(data, kind)]
    return Tape(
        tape_ops,
        array("q", x),
        array("q", y),
        exponent,
        array("b", kind),
        array("q", ref),
        data,
        labels_out,
        input_nodes,
        param_nodes,
        array("b", needs),
    )


# ---------------------------------------------------------------------------
# Turning formulas into code: names, literals, substitution
# ---------------------------------------------------------------------------

_FORMULA_NAMES = re.compile(r"\b(x|y|out)\b")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_RESERVED = (
    set(keyword.kwlist)
    | set(getattr(keyword, "softkwlist", ()))
    | set(ops.FUNCTIONS)
    | {"v", "g"}
)


def _substitute(formula: Formula, x: str, y: str = "", out: str = "") -> str:
    """An op-table formula as code, its variables replaced by expressions (``y`` also stands for ``k``)."""
    names = {name: expr for name, expr in (("x", x), ("y", y), ("k", y), ("out", out)) if expr}
    return formula.substitute(names)


def _uses(formula: Formula) -> frozenset[str]:
    return formula.variables


def _literal(c: Any) -> str | None:
    """Source text for a plain int or finite float, parenthesised if negative; else None."""
    if type(c) is int or (type(c) is float and math.isfinite(c)):
        text = repr(c)
        return f"({text})" if text.startswith("-") else text
    return None


def _numeric(formula: Formula) -> Any:
    """The number a formula is, if it is a constant like ``1`` or ``-1``; else None."""
    return formula.constant


def _safe_name(label: str) -> str:
    """A label reduced to a plain identifier, or "" when nothing readable is left."""
    text = unicodedata.normalize("NFKC", label)  # x₁ -> x1
    text = re.sub(r"[^A-Za-z0-9_]+", "_", text)
    text = re.sub(r"_+", "_", text).strip("_")
    if not text or text[0].isdigit() or len(text) > 32:
        return ""
    if text in _RESERVED:
        text += "_"
    assert _IDENTIFIER.match(text)
    return text


class _Names:
    """Unique identifiers: a base name, then base_2, base_3, ..."""

    def __init__(self) -> None:
        self.used = set(_RESERVED)

    def take(self, base: str) -> str:
        name = base
        for k in itertools.count(2):
            if name not in self.used:
                break
            name = f"{base}_{k}"
        self.used.add(name)
        return name


def _comment(label: str, name: str) -> str:
    """The original label beside a line, escaped (repr has no line breaks), when it differs."""
    return f"  # {label!r}" if label and label != name else ""


# ---------------------------------------------------------------------------
# NumPy versions of the functions the formulas call (module-level, built lazily)
# ---------------------------------------------------------------------------


def _numpy() -> Any:
    try:
        import numpy
    except ImportError as e:  # pragma: no cover - numpy is in the compile extra
        raise ImportError(
            "this compile mode needs NumPy: pip install 'valuegrad[compile]' (or use mode='python')"
        ) from e
    return numpy


def _numpy_namespace(np: Any) -> dict[str, Any]:
    return vars(numpy_math.functions(np))


_DATA_NAMESPACE = {name: getattr(scalar_math, name) for name in ops.FUNCTIONS}


# ---------------------------------------------------------------------------
# Running generated code; errors name the generated line
# ---------------------------------------------------------------------------

_counter = itertools.count()


def _exec(source: str, namespace: dict[str, Any], what: str, owner: object) -> dict[str, Any]:
    filename = f"<valuegrad.compile {what} #{next(_counter)}>"
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)  # tracebacks show the line
    weakref.finalize(owner, linecache.cache.pop, filename, None)  # ... while the compiled object lives
    scope = {**namespace, "__builtins__": {}}
    exec(builtins.compile(source, filename, "exec"), scope)
    return scope


_NUMERIC_ERRORS = (FloatingPointError, ValueError, ZeroDivisionError, OverflowError)


def _domain_error(e: BaseException, phase: str) -> DomainError:
    tb = e.__traceback__
    where = ""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith("<valuegrad.compile"):
            lines = linecache.getlines(filename)
            lineno = tb.tb_lineno
            line = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else "?"
            context = next(
                (ln.strip() for ln in reversed(lines[: lineno - 1]) if ln.strip().startswith("# [")), ""
            )
            where = f" at generated line {lineno}: {line}" + (f"   ({context[2:]})" if context else "")
        tb = tb.tb_next
    kind = "invalid value (log of a negative number, 0/0, inf - inf, ...)" if "invalid" in str(e) else str(e)
    if "divide" in str(e) and isinstance(e, FloatingPointError):
        kind = "division by zero (or log of 0)"
    return DomainError(f"compiled {phase} failed{where}: {kind}")


# ---------------------------------------------------------------------------
# Straight-line code (modes "python" and "numpy")
# ---------------------------------------------------------------------------


def _straight_line(tape: Tape) -> tuple[str, list[Any]]:
    """Source of ``forward(_in, _P)`` and ``backward(_saved)``, and the constants list ``_C`` they read."""
    n = len(tape)
    names = _Names()
    name: list[str] = [""] * n
    consts: list[Any] = []
    expr: list[str] = [""] * n
    kind, labels = tape.kind, tape.labels
    for i in range(n):
        k = kind[i]
        literal = _literal(tape.data[i]) if k == CONST else None
        base = _safe_name(labels[i])
        if k == CONST and not base:
            if literal is None:
                consts.append(tape.data[i])
                literal = f"_C[{len(consts) - 1}]"
            expr[i] = literal  # unnamed constants are written in place
            continue
        if not base:
            base = {INPUT: f"x{tape.ref[i]}", PARAM: f"p{tape.ref[i]}"}.get(k, f"v{i}")
        name[i] = expr[i] = names.take(base)

    def const_y(i: int) -> str:
        c = tape.exponent[i]
        lit = _literal(c)
        if lit is None:
            consts.append(c)
            lit = f"_C[{len(consts) - 1}]"
        return lit

    def operands(i: int) -> tuple[str, str]:
        op = tape.ops[i]
        assert op is not None
        y = expr[tape.y[i]] if op.binary else (const_y(i) if op.number else "")
        return expr[tape.x[i]], y

    fwd = ["def forward(_in, _P):"]
    for k_in, i in enumerate(tape.input_nodes):
        if i >= 0:
            fwd.append(f"    {name[i]} = _in[{k_in}]{_comment(labels[i], name[i])}")
    for j, i in enumerate(tape.param_nodes):
        if i >= 0:
            fwd.append(f"    {name[i]} = _P[{j}].data{_comment(labels[i], name[i])}")
    for i in range(n):
        if kind[i] == CONST and name[i]:
            lit = _literal(tape.data[i])
            if lit is None:
                consts.append(tape.data[i])
                lit = f"_C[{len(consts) - 1}]"
            fwd.append(f"    {name[i]} = {lit}{_comment(labels[i], name[i])}")
    forward_text: list[str] = [""] * n
    for i in range(n):
        if kind[i] != OP:
            continue
        op = tape.ops[i]
        assert op is not None
        x, y = operands(i)
        forward_text[i] = f"{name[i]} = {_substitute(op.out, x, y)}"
        fwd.append(f"    {forward_text[i]}{_comment(labels[i], name[i])}")

    out = n - 1
    needs = tape.needs_grad
    grad: list[str] = [""] * n
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
        x, y = operands(i)
        bwd.append(f"    # {forward_text[i]}")
        pairs = [(tape.x[i], "x", op.partials[0])]
        if op.binary:
            pairs.append((tape.y[i], "y", op.partials[1]))
        for child, wrt, partial in pairs:
            if not needs[child]:
                continue
            used = _uses(partial)
            if "x" in used and name[tape.x[i]]:
                saved[x] = tape.x[i]
            if "y" in used and op.binary and name[tape.y[i]]:
                saved[y] = tape.y[i]
            if "out" in used:
                saved[name[i]] = i
            number = _numeric(partial)
            g = grad[i]
            if number == 1:
                term = g
            elif number == -1:
                term = f"-{g}"
            else:
                local = _substitute(partial, x, y, name[i])
                term = f"{local} * {g}" if _IDENTIFIER.match(local) else f"({local}) * {g}"
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


# ---------------------------------------------------------------------------
# The level-vectorised plan (mode "level")
# ---------------------------------------------------------------------------

# A chain of these ops, each taking the previous one's result as an operand, is one
# accumulate: (((a0 + a1) + a2) + a3) is exactly np.add.accumulate([a0, a1, a2, a3])[-1]
# (sequential, in the same order; + is commutative in IEEE arithmetic, so the
# chain may run through either operand). Its backward is a reverse cumulative sum
# because both local derivatives are the constant 1 (checked against the table).
def _chainable(op: Op | None) -> bool:
    return op is not None and bool(op.accumulates) and op.binary


@dataclass
class Group:
    """One step of the level plan: ``lanes`` nodes of one op at one depth, computed by one NumPy call.

    ``kind`` is ``"op"`` (elementwise over gathered operands) or ``"chain"``
    (``chains`` sums of ``links`` additions each, one accumulate).
    """

    level: int
    op: str
    kind: str
    lanes: int
    chains: int = 0
    links: int = 0
    # Node numbers (chains: link-major) and, per operand role, the operand node of each
    # lane (chains: the first operands, then the other operand of every link, link-major).
    nodes: Any = field(default_factory=list, repr=False)
    operands: list[Any] = field(default_factory=list, repr=False)
    start: int = 0  # first value slot (chains: after one scratch row of `chains` slots)
    table_op: Op | None = field(default=None, repr=False)

    def describe(self) -> str:
        if self.kind == "chain":
            return f"level {self.level}: {self.op} chain, {self.chains} sums x {self.links} links"
        return f"level {self.level}: {self.op} on {self.lanes} node{'s' if self.lanes != 1 else ''}"


def _plan(tape: Tape) -> tuple[list[Group], Any, int]:
    """Groups in execution order, the value slot of every node, and the number of slots."""
    n = len(tape)
    kind, tops, tx, ty = tape.kind, tape.ops, tape.x, tape.y
    chainable = {op for op in ops.OPS if _chainable(op)}
    level = [0] * n
    chain_of = [-1] * n
    chains: list[list[int]] = []
    firsts: list[int] = []  # the first operand of each chain
    sides: list[list[int]] = []  # the other operand of each link
    for i in range(n):
        if kind[i] != OP:
            continue
        x, y = tx[i], ty[i]
        top = level[x]
        if y >= 0 and level[y] > top:
            top = level[y]
        if tops[i] in chainable:
            c = chain_of[x]
            # continue a chain at its tail, if the other operand is ready before the chain starts
            if c >= 0 and chains[c][-1] == x and level[y] < level[x]:
                prev, side = x, y
            else:
                c = chain_of[y]
                if c >= 0 and chains[c][-1] == y and level[x] < level[y]:
                    prev, side = y, x
                else:
                    c = -1
            if c >= 0:
                chains[c].append(i)
                sides[c].append(side)
                chain_of[i] = c
                level[i] = level[prev]
                continue
            chain_of[i] = len(chains)
            chains.append([i])
            firsts.append(x)
            sides.append([y])
        level[i] = top + 1

    # One group per (level, op), and per exponent for x ** 2: a formula may branch on y.
    keyed: dict[tuple[int, int, int, str], Group] = {}
    op_index = {op: k for k, op in enumerate(ops.OPS)}
    for i in range(n):
        if kind[i] != OP:
            continue
        c = chain_of[i]
        op = tops[i]
        assert op is not None
        if c >= 0 and len(chains[c]) > 1:
            if chains[c][0] != i:
                continue
            key = (level[i], 1, len(chains[c]), "")
            grp = keyed.get(key)
            if grp is None:
                grp = keyed[key] = Group(level[i], op.symbol, "chain", 0, 0, len(chains[c]), table_op=op)
            grp.nodes.append(c)  # chain ids for now
            continue
        key = (level[i], 0, op_index[op], repr(tape.exponent[i]) if op.number else "")
        grp = keyed.get(key)
        if grp is None:
            grp = keyed[key] = Group(level[i], op.symbol, "op", 0, table_op=op)
        grp.nodes.append(i)
    groups = [keyed[k] for k in sorted(keyed)]

    # Order each group's nodes the way the last group that reads them reads them, so
    # that reads and gradient writes become contiguous slices (or broadcasts) where the graph allows.
    np = _numpy()
    x_of, y_of = np.asarray(tx, dtype=np.intp), np.asarray(ty, dtype=np.intp)
    big = 4 * n + 4
    unclaimed = big * (len(groups) + 1)
    claim = np.full(n, unclaimed, dtype=np.int64)
    for rank in range(len(groups) - 1, -1, -1):
        grp = groups[rank]
        if grp.kind == "chain":
            tails = np.asarray([chains[c][-1] for c in grp.nodes], dtype=np.intp)
            members = [grp.nodes[o] for o in np.argsort(claim[tails], kind="stable")]
            links = np.asarray([chains[c] for c in members], dtype=np.intp)  # (chains, links)
            grp.operands = [
                np.asarray([firsts[c] for c in members], dtype=np.intp),
                np.asarray([sides[c] for c in members], dtype=np.intp).T.ravel(),  # link-major
            ]
            grp.chains = len(members)
            grp.lanes = grp.chains * grp.links
            grp.nodes = links.T.ravel()
        else:
            nodes = np.asarray(grp.nodes, dtype=np.intp)
            grp.nodes = nodes[np.argsort(claim[nodes], kind="stable")]
            grp.lanes = len(grp.nodes)
            op = grp.table_op
            assert op is not None
            grp.operands = [x_of[grp.nodes]] + ([y_of[grp.nodes]] if op.binary else [])
        flat = np.concatenate(grp.operands)
        position = rank * big + np.arange(len(flat))
        free = claim[flat] == unclaimed
        first_reads, where = np.unique(flat[free], return_index=True)
        claim[first_reads] = position[free][where]

    slot = np.full(n, -1, dtype=np.intp)
    leaves = [i for i in tape.input_nodes if i >= 0] + [i for i in tape.param_nodes if i >= 0]
    leaves += [i for i in range(n) if kind[i] == CONST]
    slot[leaves] = np.arange(len(leaves))
    cursor = len(leaves)
    for grp in groups:
        if grp.kind == "chain":
            cursor += grp.chains  # scratch row: the chains' first operands, accumulated in place
        grp.start = cursor
        slot[grp.nodes] = np.arange(cursor, cursor + grp.lanes)
        cursor += grp.lanes
    return groups, slot, cursor


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def _broadcast_axis(np: Any, slots: Any) -> tuple[int, int] | None:
    """``(c, b)`` when ``slots.reshape(-1, b, c)`` repeats along its middle axis (largest ``b``), else None.

    Such an operand is read once per distinct value and broadcast: a layer's
    weight used by every sample, an activation used by every neuron of the next layer.
    """
    total = len(slots)
    if total < 4:
        return None
    best: tuple[int, int] | None = None
    budget = 64  # full-length checks: a number with many divisors must not make planning slow
    for c in _divisors(total):
        if 2 * c > total or budget <= 0 or (best is not None and total // c <= best[1]):
            break
        if not np.array_equal(slots[c : 2 * c], slots[:c]):
            continue
        eq = slots[c:] == slots[:-c]
        breaks = np.flatnonzero(~eq[: total - c])
        # the first change of value ends the first repeat: b <= first_change // c + 1
        most = total // c if len(breaks) == 0 else int(breaks[0]) // c + 1
        padded = np.concatenate([eq, np.ones(c, dtype=bool)])
        for b in reversed(_divisors(total // c)):
            if b > most:
                continue
            if b < 2 or (best is not None and b <= best[1]) or budget <= 0:
                break
            budget -= 1
            if padded.reshape(total // (b * c), b, c)[:, :-1, :].all():
                best = (c, b)
                break
    return best


def _common_shape(
    total: int, factors: dict[int, tuple[int, int]]
) -> tuple[tuple[int, ...], dict[int, tuple[int, ...]]]:
    """A shape for ``total`` lanes in which each role's repeats are whole axes; the axes of each role."""
    bounds = {1, total}
    chosen: dict[int, tuple[int, int]] = {}
    for role, (c, b) in sorted(factors.items(), key=lambda item: -item[1][1]):
        trial = sorted(bounds | {c, c * b})
        if all(hi % lo == 0 for lo, hi in itertools.pairwise(trial)):
            bounds = set(trial)
            chosen[role] = (c, b)
    d = sorted(bounds)
    t = len(d) - 1
    shape = tuple(d[i + 1] // d[i] for i in range(t - 1, -1, -1))
    axes = {
        role: tuple(t - 1 - i for i in range(t) if d[i] >= c and d[i + 1] <= c * b)
        for role, (c, b) in chosen.items()
    }
    return shape, axes


_ROW_LOOP_CHAINS = 8  # from this many chains on, a chain runs as one add per link over all chains


class _LevelCode:
    """Generates the level plan's forward and backward, for 1-D (one lane) or 2-D (batch) buffers."""

    def __init__(
        self, tape: Tape, groups: list[Group], slot: Any, n_slots: int, np: Any, batched: bool
    ) -> None:
        self.tape, self.groups, self.slot, self.np, self.batched = tape, groups, slot, np, batched
        self.namespace: dict[str, Any] = {**_numpy_namespace(np), "add": np.add, "einsum": np.einsum}
        self.namespace.update(list=list, zip=zip)
        self.namespace["bincount"] = np.bincount
        self.needs = np.asarray(tape.needs_grad, dtype=bool)
        self.is_const = np.asarray(tape.kind) == CONST
        self.slot_needs = np.zeros(n_slots, dtype=bool)
        self.slot_needs[slot[self.needs]] = True
        self.tail = ", -1" if batched else ""
        self.fwd: list[str] = []
        self.bwd: list[str] = []
        self.blocks: list[list[str]] = []
        self.saved: list[str] = []
        self.counter = itertools.count()

    def array(self, prefix: str, values: Any) -> str:
        name = f"{prefix}{next(self.counter)}"
        self.namespace[name] = values
        return name

    def shape_text(self, shape: tuple[int, ...]) -> str:
        return ", ".join(map(str, shape)) + self.tail

    def classify(self, nodes: list[int]) -> tuple[str, Any]:
        """How to read these operands: ("scalar", text), ("const", values), ("slice", (s, e)) or
        ("gather", slots)."""
        np, tape = self.np, self.tape
        if self.is_const[nodes].all():
            values = [tape.data[i] for i in nodes]
            first = values[0]
            if all(type(v) is type(first) and v == first for v in values):
                lit = _literal(first)
                return "scalar", lit if lit is not None else self.array("K", float(first))
            return "const", values
        slots = self.slot[nodes]
        s = int(slots[0])
        if np.array_equal(slots, np.arange(s, s + len(slots))):
            return "slice", (s, s + len(slots))
        return "gather", slots

    def emit_read(
        self, how: tuple[str, Any], var: str, shape: tuple[int, ...], need: bool, axes: tuple[int, ...] = ()
    ) -> str:
        """Forward lines reading operands classified as ``how``, shaped ``shape``; the expression to use."""
        np = self.np
        kind, what = how
        if kind == "scalar":
            return str(what)
        if kind == "const":
            arr = np.asarray(what, dtype=np.float64).reshape(shape + ((1,) if self.batched else ()))
            return self.array("K", arr)
        if kind == "slice":
            s, e = what
            return f"v[{s}:{e}]" + (f".reshape({self.shape_text(shape)})" if len(shape) > 1 else "")
        slots = what.reshape(shape)
        if axes:  # read each distinct operand once: drop the axes along which it repeats
            slots = np.ascontiguousarray(
                slots[tuple(0 if ax in axes else slice(None) for ax in range(len(shape)))]
            )
        self.fwd.append(f"    {var} = v[{self.array('I', slots)}]")
        if need:
            self.saved.append(var)
        return var

    def scatter(self, slots: Any, contribution: str, tag: str, note: str = "") -> None:
        """``g[slots] += contribution`` for the slots needing a gradient (repeated slots summed)."""
        np = self.np
        keep = self.slot_needs[slots]
        if not keep.any():
            return
        c = f"C{tag}"
        self.bwd.append(f"    {c} = {contribution}{note}")
        targets = slots
        if not keep.all():
            self.bwd.append(f"    {c} = {c}[{self.array('P', np.flatnonzero(keep).astype(np.intp))}]")
            targets = slots[keep]
        uniq, inverse = np.unique(targets, return_inverse=True)
        if len(uniq) == len(targets):
            s = int(targets[0])
            if np.array_equal(targets, np.arange(s, s + len(targets))):
                self.bwd.append(f"    g[{s}:{s + len(targets)}] += {c}")
            else:
                self.bwd.append(f"    g[{self.array('I', targets.astype(np.intp))}] += {c}")
            return
        s = int(uniq[0])
        dest = (
            f"g[{s}:{s + len(uniq)}]"
            if np.array_equal(uniq, np.arange(s, s + len(uniq)))
            else f"g[{self.array('U', uniq.astype(np.intp))}]"
        )
        if not self.batched:
            inv = self.array("J", inverse.astype(np.intp))
            self.bwd.append(f"    {dest} += bincount({inv}, {c}, minlength={len(uniq)})")
        else:
            order = np.argsort(inverse, kind="stable")
            runs = np.flatnonzero(np.r_[True, np.diff(inverse[order]) != 0])
            o, r = self.array("O", order.astype(np.intp)), self.array("R", runs.astype(np.intp))
            self.bwd.append(f"    {dest} += add.reduceat({c}[{o}], {r}, axis=0)")

    def generate(self) -> str:
        for number, grp in enumerate(self.groups):
            self.bwd = []
            if grp.kind == "chain":
                self.chain(number, grp)
            else:
                self.elementwise(number, grp)
            self.blocks.append(self.bwd)
        body = [line for block in reversed(self.blocks) for line in block]  # backward: groups in reverse
        saved = ", ".join(self.saved) + ("," if len(self.saved) == 1 else "")
        fwd = ["def forward(v):", *self.fwd, f"    return ({saved})"]
        head = ["def backward(v, g, _saved):"] + ([f"    {saved} = _saved"] if self.saved else [])
        return "\n".join(fwd) + "\n\n\n" + "\n".join(head + body + ["    return None"]) + "\n"

    def elementwise(self, number: int, grp: Group) -> None:
        np, op = self.np, grp.table_op
        assert op is not None
        n = grp.lanes
        uses: set[str] = set()
        for partial in op.partials:
            uses |= _uses(partial)
        needs_grad = bool(self.needs[grp.nodes].any())
        hows = [self.classify(role) for role in grp.operands]
        factors = {}
        for role, how in enumerate(hows):
            if how[0] == "gather":
                found = _broadcast_axis(np, how[1])
                if found is not None:
                    factors[role] = found
        shape, axes = _common_shape(n, factors) if factors else ((n,), {})
        multi = len(shape) > 1
        letters = "abcdefghijklmnopqrstuvw"[: len(shape)]
        sub = [
            "".join(c for ax, c in enumerate(letters) if ax not in axes.get(role, ()))
            for role in range(len(hows))
        ]
        self.fwd.append(f"    # [{number}] {grp.describe()}: out = {op.out}")
        var = "XY"
        packed = [  # the expression of each operand; a repeated one is read once per distinct value
            self.emit_read(
                how,
                f"{var[role]}{number}",
                shape,
                needs_grad and var[role].lower() in uses,
                axes.get(role, ()),
            )
            for role, how in enumerate(hows)
        ]
        full = list(packed)  # the same, broadcastable to `shape`
        for role, ax in axes.items():
            small = tuple(1 if k in ax else d for k, d in enumerate(shape))
            full[role] = f"{packed[role]}.reshape({self.shape_text(small)})"
        x = full[0]
        y = full[1] if op.binary else (self.read_exponents(grp, shape) if op.number else "")
        out = f"v[{grp.start}:{grp.start + n}]" + (f".reshape({self.shape_text(shape)})" if multi else "")
        arrays = all(how[0] != "scalar" for how in hows)
        if multi and op.product and arrays and set(sub[0]) | set(sub[1]) == set(letters):
            # x * y over repeated operands: an outer product, each lane one multiplication
            spec = f"'{sub[0]}...,{sub[1]}...->{letters}...'"
            self.fwd.append(f"    einsum({spec}, {packed[0]}, {packed[1]}, out={out})")
        else:
            self.fwd.append(f"    {out}{'[...]' if multi else ''} = {_substitute(op.out, x, y)}")
        if not needs_grad:
            return
        gvar = f"G{number}"
        self.bwd.append(f"    # [{number}] {grp.describe()}: out = {op.out}")
        self.bwd.append(
            f"    {gvar} = g[{grp.start}:{grp.start + n}]"
            + (f".reshape({self.shape_text(shape)})" if multi else "")
        )
        for role, (partial, wrt) in enumerate(zip(op.partials, "xy")):
            how = hows[role]
            note = f"  # d out/d{wrt} = {partial}"
            if role in axes:
                kept = tuple(slice(0, 1) if k in axes[role] else slice(None) for k in range(len(shape)))
                targets = how[1].reshape(shape)[kept].ravel()
                note += " (summed over repeats)"
            else:
                targets = self.slot[grp.operands[role]]
            size = len(targets)
            other = 1 - role if op.product else -1  # out = x * y: d out/dx = y, d out/dy = x
            if multi and other >= 0 and hows[other][0] != "scalar":
                # (d out/d operand = the other operand) * G, summed over this operand's repeats
                spec = f"'{letters}...,{sub[other]}...->{sub[role]}...'"
                term = f"einsum({spec}, {gvar}, {packed[other]}).reshape({size}{self.tail})"
            else:
                number_value = _numeric(partial)
                if number_value == 1:
                    term = gvar
                elif number_value == -1:
                    term = f"-{gvar}"
                else:
                    term = f"({_substitute(partial, x, y, out)}) * {gvar}"
                if role in axes:
                    term = f"add.reduce({term}, axis={axes[role]})"
                if multi:
                    term = f"({term}).reshape({size}{self.tail})"
            self.scatter(targets, term, f"{number}{wrt}", note)

    def read_exponents(self, grp: Group, shape: tuple[int, ...]) -> str:
        values = [self.tape.exponent[i] for i in grp.nodes]
        first = values[0]
        if all(type(v) is type(first) and v == first for v in values):
            lit = _literal(first)
            if lit is not None:
                return lit
        return self.emit_read(("const", values), "", shape, False)

    def chain(self, number: int, grp: Group) -> None:
        ufunc = grp.table_op.accumulates if grp.table_op else ""
        m, k = grp.chains, grp.links
        a = f"A{number}"
        self.fwd.append(f"    # [{number}] {grp.describe()}: link j = link j-1 + operand j")
        self.fwd.append(f"    {a} = v[{grp.start - m}:{grp.start + m * k}].reshape({k + 1}, {m}{self.tail})")
        first = self.emit_read(self.classify(grp.operands[0]), f"F{number}", (m,), False)
        self.fwd.append(f"    {a}[0] = {first}")
        rest = grp.operands[1]
        rows = self.emit_read(self.classify(rest), f"S{number}", (k, m), False)
        self.fwd.append(f"    {a}[1:] = {rows}")
        row_loop = m >= _ROW_LOOP_CHAINS
        if row_loop:  # one add per link, over all chains at once: row j += row j-1
            self.fwd.append(f"    rows = list({a})")
            self.fwd.append("    for before, row in zip(rows, rows[1:]):")
            self.fwd.append(f"        {ufunc}(before, row, out=row)")
        else:
            self.fwd.append(f"    {ufunc}.accumulate({a}, axis=0, out={a})")
        if not self.needs[grp.nodes].any():
            return
        t = f"T{number}"
        self.bwd.append(f"    # [{number}] {grp.describe()}: operand j gets the total gradient of links >= j")
        self.bwd.append(f"    {t} = g[{grp.start}:{grp.start + m * k}].reshape({k}, {m}{self.tail})")
        if row_loop:  # from the last link back: row j += row j+1
            self.bwd.append(f"    rows = list({t})")
            self.bwd.append("    for after, row in zip(rows[::-1], rows[-2::-1]):")
            self.bwd.append(f"        {ufunc}(after, row, out=row)")
        else:
            self.bwd.append(f"    {ufunc}.accumulate({t}[::-1], axis=0, out={t}[::-1])")
        first_slots = self.slot[grp.operands[0]]
        self.scatter(first_slots, f"{t}[0]", f"{number}f")
        rest_slots = self.slot[rest]
        self.scatter(rest_slots, f"{t}.reshape({m * k}{self.tail})", f"{number}s")


# ---------------------------------------------------------------------------
# The compiled object
# ---------------------------------------------------------------------------


def _is_array(x: Any) -> bool:
    return getattr(x, "ndim", 0) >= 1


class Compiled:
    """A compiled graph: ``forward(inputs)``, ``backward()``, ``source``. Made by `compile`.

    Attributes: ``mode`` (the mode in use for numbers; made with mode "auto", arrays
    run the level plan), ``tape`` (the traced `Tape`), ``params``, ``compile_seconds``,
    ``plan`` and ``plan_source`` (the level plan's `Group` list and its generated code,
    once it is in use), ``nbytes`` (memory held by the compiled arrays and buffers).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        tape: Tape,
        labels: list[str],
        params: list[Value],
        mode: str,
        check: bool,
        plan: tuple[list[Group], Any, int] | None = None,
    ) -> None:
        self.fn = fn
        self.tape = tape
        self.params = params
        self.mode = mode
        self.check = check
        self.auto = False  # made by mode="auto": arrays (batch lanes) then run the level plan
        self.compile_seconds = 0.0
        self._labels = labels
        self._signature = tape.signature() if check else None
        self._source: str | None = None
        self._used_params = [p for p, i in zip(params, tape.param_nodes) if i >= 0]
        self._last: Any = None
        self._last_level = False  # whether the last forward ran the level plan
        self.plan: list[Group] = []
        self.plan_source = ""
        self._levels: dict[bool, tuple[Any, Any, dict[str, Any]]] = {}
        self._buffers: dict[int, tuple[Any, Any]] = {}
        if mode == "level":
            self._init_level(plan)
        else:
            src, consts = _straight_line(tape)
            self._source = src
            self._consts = consts
            self._python = _exec(src, {**_DATA_NAMESPACE, "_C": consts}, "python", self)
            self._numpy_code: dict[str, Any] | None = None
            if mode == "numpy":
                self._numpy_code = _exec(src, {**_numpy_namespace(_numpy()), "_C": consts}, "numpy", self)

    def _init_level(self, plan: tuple[list[Group], Any, int] | None = None) -> None:
        np = _numpy()
        tape = self.tape
        self.plan, self._slot, self._n_slots = plan if plan is not None else _plan(tape)
        self.plan_source = self._level_code(False)  # the batch version is made on first use
        consts = [i for i in range(len(tape)) if tape.kind[i] == CONST]
        self._const_slots = self._slot[consts]
        self._const_values = np.asarray([float(tape.data[i]) for i in consts], dtype=np.float64)
        self._param_slots = [int(self._slot[i]) for i in tape.param_nodes if i >= 0]
        self._p0 = self._param_slots[0] if self._param_slots else 0
        self._p1 = self._p0 + len(self._param_slots)

    def _level_code(self, batched: bool) -> str:
        code = _LevelCode(self.tape, self.plan, self._slot, self._n_slots, _numpy(), batched)
        src = code.generate()
        scope = _exec(src, code.namespace, "level batch" if batched else "level", self)
        self._levels[batched] = (scope["forward"], scope["backward"], code.namespace)
        return src

    # -- what it shows ----------------------------------------------------

    @property
    def source(self) -> str:
        """The straight-line Python of forward and backward: one line per op, the derivative rule beside it.

        Mode "python" and "numpy" run exactly this code; mode "level" runs the same
        ops grouped (see ``plan_source``).
        """
        if self._source is None:
            self._source, self._consts = _straight_line(self.tape)
        return self._source

    @property
    def nbytes(self) -> int:
        """Bytes held by the compiled arrays: index and constant arrays, value and gradient buffers."""
        total = 0
        for _, _, namespace in self._levels.values():
            total += sum(getattr(a, "nbytes", 0) for a in namespace.values())
        for v, g in getattr(self, "_buffers", {}).values():
            total += v.nbytes + g.nbytes
        return total

    def __repr__(self) -> str:
        t = self.tape
        extra = f", {len(self.plan)} groups" if self.mode == "level" else ""
        return f"<valuegrad.Compiled mode={self.mode!r}: {len(t)} nodes ({t.n_ops} ops){extra}>"

    # -- running ------------------------------------------------------------

    def __call__(self, inputs: Sequence[Any] = ()) -> Any:
        """Same as `forward`."""
        return self.forward(inputs)

    def forward(self, inputs: Sequence[Any] = ()) -> Any:
        """The output for these inputs (one per example input): a float, or an array of shape (batch,).

        Inputs are numbers, or NumPy arrays of shape ``(batch,)`` (numbers are
        broadcast over the batch). Parameters' current ``.data`` are read now.
        """
        inputs = list(inputs)
        if len(inputs) != len(self.tape.input_nodes):
            raise TypeError(f"expected {len(self.tape.input_nodes)} inputs, got {len(inputs)}")
        batch = self._batch(inputs)
        if self.check:
            self._check(inputs, batch)
        try:
            if self.mode == "level" or (self.auto and batch is not None):
                if not self.plan_source:
                    self._init_level()
                return self._forward_level(inputs, batch)
            return self._forward_straight(inputs, batch)
        except DomainError as e:
            if batch is None:
                raise
            lane = self._failing_lane(inputs, batch)
            raise DomainError(f"{e} (in batch lane {lane})" if lane is not None else str(e)) from e

    def _failing_lane(self, inputs: list[Any], batch: int) -> int | None:
        """The first batch lane whose forward fails on its own (only looked for after a failure)."""
        for lane in range(batch):
            try:
                self.forward([x[lane] if _is_array(x) else x for x in inputs])
            except DomainError:
                return lane
        return None

    def backward(self) -> list[Any]:
        """Add d output/d param to every parameter's ``.grad``; return d output/d input for each input.

        Uses the values of the last `forward`. Like eager `Value.backward`, calling
        it twice adds the gradients twice. With batch lanes, parameter gradients are
        summed over the batch and input gradients are arrays of shape (batch,).
        """
        if self._last is None:
            raise RuntimeError("call forward(inputs) before backward()")
        if self._last_level:
            return self._backward_level()
        return self._backward_straight()

    def _batch(self, inputs: list[Any]) -> int | None:
        batch: int | None = None
        for k, x in enumerate(inputs):
            if isinstance(x, Value):
                raise TypeError(f"input {k} is a Value: pass its number (x.data) or an array")
            if _is_array(x):
                if x.ndim != 1:
                    raise ValueError(
                        f"input {k}: batch lanes are arrays of shape (batch,), got shape {x.shape}"
                    )
                if len(x) == 0:
                    raise ValueError(f"input {k} is an empty array: batch lanes need at least one lane")
                if batch is not None and len(x) != batch:
                    raise ValueError(f"input {k} has {len(x)} lanes, an earlier input has {batch}")
                batch = len(x)
            elif isinstance(x, bool) or (not isinstance(x, (int, float)) and not hasattr(x, "__float__")):
                raise TypeError(f"input {k} must be a number or an array, got {type(x).__name__}")
        return batch

    def _check(self, inputs: list[Any], batch: int | None) -> None:
        lanes = range(batch) if batch is not None else [None]
        for lane in lanes:
            values = [float(x[lane]) if lane is not None and _is_array(x) else float(x) for x in inputs]
            tape = _trace(self.fn, values, self._labels, self.params)
            sig = tape.signature()
            if sig != self._signature:
                where = "" if lane is None else f" (batch lane {lane})"
                assert self._signature is not None
                if len(sig) != len(self._signature):
                    what = f"it has {len(sig)} nodes, the compiled graph {len(self._signature)}"
                else:
                    i = next(i for i, (a, b) in enumerate(zip(sig, self._signature)) if a != b)
                    what = f"node {i} is now {tape.describe(i)}, it was {self.tape.describe(i)}"
                raise GraphChangedError(
                    f"the function builds a different graph for these inputs{where}: {what}. "
                    "The compiled tape is only valid while the graph's shape does not depend on the data; "
                    "compile again for these inputs or keep this function eager."
                )

    # straight-line
    def _forward_straight(self, inputs: list[Any], batch: int | None) -> Any:
        if batch is None and self.mode != "numpy":
            values = [float(x) for x in inputs]
            try:
                out, saved = self._python["forward"](values, self.params)
            except _NUMERIC_ERRORS as e:
                raise _domain_error(e, "forward") from e
            self._last = (saved, None, False)
            self._last_level = False
            return float(out)
        if self.mode == "python":
            raise TypeError(
                "mode='python' takes numbers; for arrays (batch lanes) compile with mode='numpy' or 'level'"
            )
        np = _numpy()
        if self._numpy_code is None:
            self._numpy_code = _exec(self.source, {**_numpy_namespace(np), "_C": self._consts}, "numpy", self)
        values = [np.asarray(x, dtype=np.float64) for x in inputs]
        with np.errstate(divide="raise", invalid="raise", over="ignore", under="ignore"):
            try:
                out, saved = self._numpy_code["forward"](values, self.params)
            except _NUMERIC_ERRORS as e:
                raise _domain_error(e, "forward") from e
        self._last = (saved, batch, True)
        self._last_level = False
        if batch is None:
            return float(out)
        return np.broadcast_to(np.asarray(out, dtype=np.float64), (batch,)).copy()

    def _backward_straight(self) -> list[Any]:
        saved, batch, use_numpy = self._last
        if not use_numpy:
            try:
                input_grads, param_grads = self._python["backward"](saved)
            except _NUMERIC_ERRORS as e:
                raise _domain_error(e, "backward") from e
            for p, d in zip(self._used_params, param_grads):
                p.grad += d
            return [float(d) for d in input_grads]
        np = _numpy()
        assert self._numpy_code is not None
        with np.errstate(divide="raise", invalid="raise", over="ignore", under="ignore"):
            try:
                input_grads, param_grads = self._numpy_code["backward"](saved)
            except _NUMERIC_ERRORS as e:
                raise _domain_error(e, "backward") from e
        if batch is None:
            for p, d in zip(self._used_params, param_grads):
                p.grad += float(d)
            return [float(d) for d in input_grads]
        for p, d in zip(self._used_params, param_grads):
            p.grad += float(np.sum(np.broadcast_to(d, (batch,))))
        return [np.broadcast_to(np.asarray(d, dtype=np.float64), (batch,)).copy() for d in input_grads]

    # level
    def _buffers_for(self, batch: int | None) -> tuple[Any, Any]:
        key = -1 if batch is None else batch
        bufs = self._buffers.get(key)
        if bufs is None:
            np = _numpy()
            shape = (self._n_slots,) if batch is None else (self._n_slots, batch)
            v = np.zeros(shape)
            if batch is None:
                v[self._const_slots] = self._const_values
            else:
                v[self._const_slots] = self._const_values[:, None]
            bufs = (v, np.zeros(shape))
            self._buffers = {key: bufs}  # keep one batch size
        return bufs

    def _forward_level(self, inputs: list[Any], batch: int | None) -> Any:
        np = _numpy()
        v, g = self._buffers_for(batch)
        slot, tape = self._slot, self.tape
        for x, i in zip(inputs, tape.input_nodes):
            if i >= 0:
                v[slot[i]] = x
        if self._param_slots:
            data = [p.data for p in self._used_params]
            if batch is None:
                v[self._p0 : self._p1] = data
            else:
                v[self._p0 : self._p1] = np.asarray(data, dtype=np.float64)[:, None]
        if (batch is not None) not in self._levels:
            self._level_code(True)
        forward, _, _ = self._levels[batch is not None]
        with np.errstate(divide="raise", invalid="raise", over="ignore", under="ignore"):
            try:
                saved = forward(v)
            except _NUMERIC_ERRORS as e:
                raise _domain_error(e, "forward") from e
        self._last = (saved, batch, v, g)
        self._last_level = True
        out = v[slot[len(tape) - 1]]
        return float(out) if batch is None else out.copy()

    def _backward_level(self) -> list[Any]:
        np = _numpy()
        saved, batch, v, g = self._last
        tape, slot = self.tape, self._slot
        out = len(tape) - 1
        g.fill(0.0)
        if tape.needs_grad[out]:
            g[slot[out]] = 1.0
            _, backward, _ = self._levels[batch is not None]
            with np.errstate(divide="raise", invalid="raise", over="ignore", under="ignore"):
                try:
                    backward(v, g, saved)
                except _NUMERIC_ERRORS as e:
                    raise _domain_error(e, "backward") from e
        if self._param_slots:
            grads = g[self._p0 : self._p1]
            if batch is not None:
                grads = grads.sum(axis=1)
            for p, d in zip(self._used_params, grads.tolist()):
                p.grad += d
        result: list[Any] = []
        for i in tape.input_nodes:
            if batch is None:
                result.append(float(g[slot[i]]) if i >= 0 else 0.0)
            else:
                result.append(g[slot[i]].copy() if i >= 0 else np.zeros(batch))
        return result


def compile(
    fn: Callable[..., Value],
    example_inputs: Sequence[Any] = (),
    params: Sequence[Value] | None = None,
    *,
    mode: str = "auto",
    check: bool = False,
) -> Compiled:
    """Trace ``fn`` once on ``example_inputs`` and compile its graph.

    ``fn`` takes one Value per example input (numbers or Values; a Value's label
    names the input in the generated code) and returns a Value. ``params`` are leaf
    Values ``fn`` uses (for instance ``model.parameters()``): their current
    ``.data`` is read at every forward and their ``.grad`` receives the gradient at
    backward. Every other leaf is a constant. ``mode`` is one of `MODES` (see the
    module docstring); ``check=True`` re-traces at every forward and raises
    `GraphChangedError` if the graph differs (for functions that branch on data).

    >>> from valuegrad import Value
    >>> a = Value(2.0, label="a")
    >>> f = compile(lambda b: a * b + b, [-3.0], params=[a], mode="python")
    >>> f([-3.0]), f([4.0])
    (-9.0, 12.0)
    >>> f.backward(), a.grad     # d/db = a + 1;  d/da = b (from the last forward)
    ([3.0], 4.0)
    """
    started = time.perf_counter()
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    example = list(example_inputs)
    data: list[Any] = []
    labels: list[str] = []
    for k, x in enumerate(example):
        if isinstance(x, Value):
            data.append(x.data)
            labels.append(x.label)
        elif (
            isinstance(x, bool)
            or _is_array(x)
            or (not isinstance(x, (int, float)) and not hasattr(x, "__float__"))
        ):
            raise TypeError(
                f"example input {k} must be a number or a Value (arrays go to forward), "
                f"got {type(x).__name__}"
            )
        else:
            data.append(x)
            labels.append("")
    plist = list(params) if params is not None else []
    seen: set[int] = set()
    for j, p in enumerate(plist):
        if not isinstance(p, Value):
            raise TypeError(f"params[{j}] must be a Value, got {type(p).__name__}")
        if not p.is_leaf:
            raise ValueError(f"params[{j}] is the result of {p.op!r}; parameters must be leaf Values")
        if id(p) in seen:
            raise ValueError(f"params[{j}] appears twice in params")
        seen.add(id(p))
    tape = _trace(fn, data, labels, plist)
    auto = mode == "auto"
    plan = None
    if auto:
        mode = "python"
        if tape.n_ops >= _AUTO_LEVEL_OPS and importlib.util.find_spec("numpy") is not None:
            plan = _plan(tape)
            if tape.n_ops >= _AUTO_LEVEL_WIDTH * len(plan[0]):
                mode = "level"
    compiled = Compiled(fn, tape, labels, plist, mode, check, plan if mode == "level" else None)
    compiled.auto = auto
    compiled.compile_seconds = time.perf_counter() - started
    return compiled
