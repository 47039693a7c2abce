"""Copying and pickling a Value copies the graph it depends on, without recursion.

Python's own `copy.deepcopy` and `pickle` would follow a node's operands one call
deeper per node, and fail on a graph a few thousand operations deep. A Value
instead hands them its whole graph as a flat list of rows, operands first (the
nodes in `topological_order`, each naming its operands by their place in the
list), and is rebuilt from it in one loop. The ops are saved by name and come
back as the op table's own rows.

Within one copy, sharing is kept (``a + a`` still uses one ``a``). `copy.deepcopy`
of several Values at once (a list of them, a model) keeps what they share too;
two Values pickled separately each bring their own copy of what they share.
"""

from __future__ import annotations

import copy
from typing import Any

from .backward import topological_order
from .ops import by_name
from .value import Value, _node, _node_with_number, attributes_of

__all__ = ["reduce_graph", "deepcopy_graph", "rebuild_graph"]

Row = tuple[Any, ...]  # (class or None, data, grad, label, op name or None, x index, y index, k, attributes)


def _attributes(v: Value) -> dict[str, Any] | None:
    return attributes_of(v) or None


def _rows(root: Value, known: dict[int, Any] | None = None) -> list[Row]:
    """The graph under ``root`` as rows; a node already in ``known`` (by id) is referred to, not described."""
    order = topological_order(root)
    index = {v: i for i, v in enumerate(order)}
    rows: list[Row] = []
    for v in order:
        if known is not None and id(v) in known:
            rows.append(("known", id(v)))
            continue
        op = v._operation
        cls = None if type(v) is Value else type(v)
        if op is None:
            rows.append((cls, v.data, v.grad, v.label, None, -1, -1, None, _attributes(v)))
        else:
            y = index[v._y] if v._y is not None else -1
            k = v._k if op.number else None
            rows.append((cls, v.data, v.grad, v.label, op.name, index[v._x], y, k, _attributes(v)))
    return rows


def _build(rows: list[Row], known: dict[int, Any] | None, memo: dict[int, Any] | None) -> Value:
    nodes: list[Value] = []
    for row in rows:
        if row[0] == "known":
            assert known is not None
            nodes.append(known[row[1]])
            continue
        cls, data, grad, label, op_name, x, y, k, attributes = row
        if op_name is None:
            v = Value(data) if cls is None else cls.__new__(cls)
            if cls is not None:
                Value.__init__(v, data)
        else:
            op = by_name(op_name)
            if op.number:
                v = _node_with_number(data, op, nodes[x], k)
            else:
                v = _node(data, op, nodes[x], nodes[y] if y >= 0 else None)
        v.grad = copy.deepcopy(grad, memo) if isinstance(grad, Value) else grad
        if label:
            v.label = label
        if attributes:
            for name, value in (copy.deepcopy(attributes, memo) if memo is not None else attributes).items():
                setattr(v, name, value)
        nodes.append(v)
    return nodes[-1]


def rebuild_graph(rows: list[Row]) -> Value:
    """The Value described by ``rows`` (what `reduce_graph` saved), rebuilt."""
    return _build(rows, None, None)


def reduce_graph(root: Value) -> tuple[Any, tuple[list[Row]]]:
    """``Value.__reduce__``: rebuild ``root``'s graph from its rows."""
    return rebuild_graph, (_rows(root),)


def deepcopy_graph(root: Value, memo: dict[int, Any]) -> Value:
    """``Value.__deepcopy__``: a new graph; nodes ``memo`` already copied are reused, new ones recorded."""
    order = topological_order(root)
    known = {id(v): memo[id(v)] for v in order if id(v) in memo}
    rows = _rows(root, known)
    copied = _build(rows, known, memo)
    for v, new in zip(order, topological_order(copied)):
        memo.setdefault(id(v), new)
    return copied
