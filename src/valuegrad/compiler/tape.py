"""Tracing: run a function once on Values and record its graph as a flat `Tape`.

The tape lists the graph's nodes in topological order (operands first, the output
last), one column per field: the op of each node, the node numbers of its operands,
what kind of node it is (`NodeKind`), and the constants. Everything the compiler
generates is written from a tape; ``check=True`` compares a fresh trace's
`Tape.signature` with the compiled one.

>>> from valuegrad import Value
>>> w = Value(0.5, label="w")
>>> tape = trace(lambda x: (x * w).tanh(), [2.0], ["x"], [w])
>>> [tape.describe(i) for i in range(len(tape))]
["input 0 'x'", "parameter 0 'w'", "'*'(node 0, node 1)", "'tanh'(node 2)"]
"""

from __future__ import annotations

import enum
from array import array
from typing import Any, Callable, Sequence

from ..backward import gc_paused, topological_order
from ..ops import Op
from ..value import Value

__all__ = ["NodeKind", "Tape", "trace", "GraphChangedError"]


class NodeKind(enum.IntEnum):
    """What a node of the tape is. `Tape.kind` keeps them as small integers (an ``array("b")``)."""

    OP = 0
    """Computed by an op of the table from other nodes."""
    INPUT = 1
    """An input of the compiled function: a number (or an array of lanes) given at every forward."""
    PARAM = 2
    """A parameter: its ``.data`` is read at every forward, its ``.grad`` receives the gradient."""
    CONST = 3
    """Any other leaf, or an op whose operands are all constants: frozen at its traced value."""


OP, INPUT, PARAM, CONST = NodeKind.OP, NodeKind.INPUT, NodeKind.PARAM, NodeKind.CONST


class GraphChangedError(ValueError):
    """``check=True`` re-traced the function and found a graph other than the compiled one."""


class Tape:
    """A traced graph, flat: node ``i`` is made by ``ops[i]`` from nodes ``x[i]`` (and ``y[i]``).

    Nodes are in topological order (operands first); the output is the last node.
    Each field is a column with one entry per node:

    - ``kind[i]``: a `NodeKind` (OP, INPUT, PARAM or CONST), stored as its integer;
    - ``ops[i]``: the op table's row (`valuegrad.ops.Op`) of an OP node, else None;
    - ``x[i]``, ``y[i]``: the node numbers of its operands (-1 where there is none);
    - ``k[i]``: the plain number of an op that takes one (the ``k`` of ``x ** k``), else None;
    - ``leaf_index[i]``: for an INPUT or PARAM node, its position among the inputs or params;
    - ``data[i]``: the value of a CONST node (an op on constants only is folded to its
      traced value), None for the others;
    - ``labels[i]``: the Value's label ("" for none);
    - ``needs_grad[i]``: 1 when node i depends on an input or a parameter.

    ``input_nodes`` and ``param_nodes`` give the node of each input and parameter (-1
    for one the function does not use). Integer columns are compact ``array.array`` s:
    a large graph's tape stays small.
    """

    __slots__ = (
        "ops",
        "x",
        "y",
        "k",
        "kind",
        "leaf_index",
        "data",
        "labels",
        "input_nodes",
        "param_nodes",
        "needs_grad",
    )

    def __init__(
        self,
        *,
        ops: list[Op | None],
        x: Sequence[int],
        y: Sequence[int],
        k: list[Any],
        kind: Sequence[int],
        leaf_index: Sequence[int],
        data: list[Any],
        labels: list[str],
        input_nodes: list[int],
        param_nodes: list[int],
        needs_grad: Sequence[int],
    ) -> None:
        self.ops = ops
        self.x = x
        self.y = y
        self.k = k
        self.kind = kind
        self.leaf_index = leaf_index
        self.data = data
        self.labels = labels
        self.input_nodes = input_nodes
        self.param_nodes = param_nodes
        self.needs_grad = needs_grad

    def __len__(self) -> int:
        return len(self.ops)

    def __repr__(self) -> str:
        return f"<valuegrad.compiler.Tape: {len(self)} nodes ({self.n_ops} ops)>"

    @property
    def n_ops(self) -> int:
        """How many nodes compute something (not leaves, not folded constants)."""
        return sum(1 for kind in self.kind if kind == OP)

    def kind_of(self, i: int) -> NodeKind:
        """The `NodeKind` of node ``i``."""
        return NodeKind(self.kind[i])

    def signature(self) -> list[tuple[Any, ...]]:
        """What must not change between traces: ops, wiring, leaf roles and constants."""
        sig: list[tuple[Any, ...]] = []
        for i, kind in enumerate(self.kind):
            op = self.ops[i]
            if kind == OP:
                assert op is not None
                sig.append((kind, op.name, op.arity, self.x[i], self.y[i], repr(self.k[i])))
            elif kind == CONST:
                sig.append((kind, repr(self.data[i])))
            else:
                sig.append((kind, self.leaf_index[i]))
        return sig

    def describe(self, i: int) -> str:
        """One node, for error messages."""
        kind, op = self.kind_of(i), self.ops[i]
        label = f" {self.labels[i]!r}" if self.labels[i] else ""
        if kind is NodeKind.INPUT:
            return f"input {self.leaf_index[i]}{label}"
        if kind is NodeKind.PARAM:
            return f"parameter {self.leaf_index[i]}{label}"
        if kind is NodeKind.CONST:
            return f"constant {self.data[i]!r}{label}"
        assert op is not None
        args = [f"node {self.x[i]}"] + ([f"node {self.y[i]}"] if op.binary else [])
        if op.number:
            args.append(repr(self.k[i]))
        return f"{op.symbol!r}({', '.join(args)}){label}"


def trace(
    fn: Callable[..., Any], example: Sequence[Any], labels: Sequence[str], params: Sequence[Value]
) -> Tape:
    """Call ``fn`` once on new input Values (``example`` numbers, ``labels``) and record its graph.

    ``params`` are the leaf Values that become PARAM nodes; every other leaf that is
    not an input becomes a constant.
    """
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
        numbers = [v._k if op is not None and op.number else None for v, op in zip(order, tape_ops)]
        data = [v.data for v in order]
        labels_out = [v.label for v in order]
        leaf_ids = [id(v) if op is None else 0 for v, op in zip(order, tape_ops)]
    n = len(order)
    del order, index
    kind = [OP] * n
    leaf_index = [-1] * n
    input_of = {id(v): k for k, v in enumerate(inputs)}
    param_of = {id(p): j for j, p in enumerate(params)}
    input_nodes = [-1] * len(inputs)
    param_nodes = [-1] * len(params)
    needs = [False] * n
    for i in range(n):
        if tape_ops[i] is None:
            leaf = leaf_ids[i]
            if leaf in input_of:
                kind[i], leaf_index[i] = INPUT, input_of[leaf]
                input_nodes[leaf_index[i]] = i
                needs[i] = True
            elif leaf in param_of:
                kind[i], leaf_index[i] = PARAM, param_of[leaf]
                param_nodes[leaf_index[i]] = i
                needs[i] = True
            else:
                kind[i] = CONST
        else:
            xi, yi = x[i], y[i]
            if kind[xi] == CONST and (yi < 0 or kind[yi] == CONST):
                kind[i] = CONST  # depends on constants only: fold it to its traced value
            else:
                needs[i] = needs[xi] or (yi >= 0 and needs[yi])
    data = [d if kind_i == CONST else None for d, kind_i in zip(data, kind)]
    return Tape(
        ops=tape_ops,
        x=array("q", x),
        y=array("q", y),
        k=numbers,
        kind=array("b", kind),
        leaf_index=array("q", leaf_index),
        data=data,
        labels=labels_out,
        input_nodes=input_nodes,
        param_nodes=param_nodes,
        needs_grad=array("b", needs),
    )
