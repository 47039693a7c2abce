"""The engine: a scalar `Value` that remembers how it was computed, and `backward()`.

Every arithmetic operation on Values makes a new Value that points at its operands
and at the row of the op table (`valuegrad.ops`) that defines it. `backward()` walks
that graph from the output to the leaves and applies the chain rule at every node:

    operand.grad += (d node / d operand) * node.grad

where the local derivative is read from the op table.

Why a node stores its op and operands rather than a closure: a closure that
captures its own output makes every node a reference cycle, so a graph can only be
freed by Python's cyclic garbage collector. Without cycles a graph is freed by
reference counting the moment it is no longer used, and the collector has far
less to scan (this is most of the speed difference with micrograd).
"""

from __future__ import annotations

import gc
import linecache
import numbers
import re
import threading
from contextlib import contextmanager
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence, Union

from . import ops
from .ops import (
    ADD,
    DIV,
    EXP,
    LOG,
    MUL,
    NEG,
    POW,
    POW_CONST,
    RELU,
    SIGMOID,
    SUB,
    TANH,
    Op,
)

__all__ = ["Value", "Number", "topological_order", "gradients", "zero_like"]

Number = Union[int, float, numbers.Real]
"""What a Value can hold: int, float, fractions.Fraction, NumPy scalars, any `numbers.Real`."""


def _check_number(x: object, what: str) -> None:
    if isinstance(x, Value):
        raise TypeError(f"{what} must be a number, not a Value (a Value already is one: use it directly)")
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(
            f"{what} must be a real number (int, float, Fraction or a NumPy scalar), "
            f"got {type(x).__name__}: {x!r}"
        )


def zero_like(x: Any) -> Any:
    """Zero of the same number type as ``x`` (0.0 for a float, Fraction(0) for a Fraction).

    A fresh gradient; what ``zero_grad`` sets. (The engine's hottest paths write it out inline.)
    """
    return 0.0 if type(x) is float else type(x)(0)


def _one(x: Any) -> Any:
    return 1.0 if type(x) is float else type(x)(1)


class Value:
    """A scalar that records the operations applied to it, for reverse-mode autodiff.

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> L = a * b + 10
    >>> L.backward()
    >>> L.data, a.grad, b.grad
    (4.0, -3.0, 2.0)

    Attributes: ``data`` (the number), ``grad`` (d output / d this Value, filled in by
    `backward`, starting at zero of the data's type), ``label`` (a name for drawings),
    ``op`` (``""`` for a leaf, else the operation that made it) and ``children``
    (the operand Values, in operand order).
    """

    # One Python object per node, with no __dict__: the operands live in two slots
    # (not a tuple) so the garbage collector tracks a single object per node.
    __slots__ = ("data", "grad", "_label", "_op", "_x", "_y", "_height", "_seen")

    # Make NumPy hand `numpy.float64(2) + Value(3)` over to Value.__radd__.
    __array_ufunc__ = None

    data: Any
    grad: Any
    _label: str  # left unset on the nodes operations make (one store less per node): see `label`
    _op: Op | None
    _x: Any  # the first operand Value (None for a leaf)
    _y: Any  # the second operand Value, or the number y of a `const_y` op (x ** 2), else None
    _height: int  # 0 for a leaf, else 1 + the tallest operand's height: backward() goes tallest first
    _seen: object  # which run of topological_order or backward() last reached this node (its mark)

    def __init__(self, data: Number, label: str = "") -> None:
        _check_number(data, "Value data")
        self.data = data
        self.grad = zero_like(data)
        self.label = label  # checked by the property below
        self._op = None
        self._x = None
        self._y = None
        self._height = 0
        self._seen = None

    # --- what a node shows -------------------------------------------------

    @property
    def label(self) -> str:
        """A name for drawings and compiled code; ``""`` when it has none."""
        try:
            return self._label
        except AttributeError:  # a node made by an operation, never named
            return ""

    @label.setter
    def label(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"label must be a str, got {type(name).__name__}: {name!r}")
        self._label = name

    @property
    def op(self) -> str:
        """The operation that produced this Value: ``""`` for a leaf, else ``"+"``, ``"tanh"``, …"""
        return "" if self._op is None else self._op.name

    @property
    def children(self) -> tuple[Value, ...]:
        """The operand Values, in operand order (``a + a`` has ``a`` twice)."""
        op = self._op
        if op is None:
            return ()
        return (self._x, self._y) if op.binary else (self._x,)

    @property
    def height(self) -> int:
        """The most operations on a path from this Value down to a leaf: 0 for a leaf.

        One more than the tallest operand's, so every node is taller than its
        operands; `backward` goes from the tallest node down.

        >>> a = Value(1.0); (a * 2 + a).height
        2
        """
        return self._height

    @property
    def is_leaf(self) -> bool:
        """True for a Value made by the user (a parameter, an input or a constant)."""
        return self._op is None

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __float__(self) -> float:
        return float(self.data)

    # --- arithmetic: each returns a new node; the math is in valuegrad.ops -----

    # The methods of the ops (+ - * / ** neg exp log tanh sigmoid relu) are written
    # from their rows of the op table just below the class: the value formula sits in
    # valuegrad.ops, next to its derivatives. ``inspect.getsource(Value.__mul__)``
    # shows the generated method. Only ``**`` is written by hand, as it also takes a
    # number exponent:

    def __pow__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            return _power(self, other)
        if isinstance(other, bool) or not isinstance(other, numbers.Real):
            return NotImplemented
        # A number exponent is part of the operation, not an operand: no d/dy is needed.
        return _node(POW_CONST.forward(self.data, other), POW_CONST, self, other)

    if TYPE_CHECKING:  # what the generated methods look like to a type checker

        def __add__(self, other: Value | Number) -> Value: ...
        def __radd__(self, other: Value | Number) -> Value: ...
        def __sub__(self, other: Value | Number) -> Value: ...
        def __rsub__(self, other: Value | Number) -> Value: ...
        def __mul__(self, other: Value | Number) -> Value: ...
        def __rmul__(self, other: Value | Number) -> Value: ...
        def __truediv__(self, other: Value | Number) -> Value: ...
        def __rtruediv__(self, other: Value | Number) -> Value: ...
        def __rpow__(self, other: Value | Number) -> Value: ...
        def __neg__(self) -> Value: ...
        def exp(self) -> Value: ...
        def log(self) -> Value: ...
        def tanh(self) -> Value: ...
        def sigmoid(self) -> Value: ...
        def relu(self) -> Value: ...

    # --- the chain rule ---------------------------------------------------

    def backward_step(self) -> None:
        """Apply the chain rule at this node once: each operand gets ``local derivative * self.grad``.

        This is what `backward` does at every node, in reverse topological order;
        calling it by hand is the notebook's "backpropagation, one node at a time".
        micrograd calls it ``_backward``.
        """
        op = self._op
        if op is not None:
            if op not in _CHAIN_RULE:
                _unknown_op(op)
            _CHAIN_RULE[op](self)

    _backward = backward_step  # micrograd's name

    def backward(self, create_graph: bool = False) -> None:
        """Fill in ``grad`` of every Value this one depends on: d self / d node.

        The output's own gradient is seeded with one, then every node, from the
        output back to the leaves, adds its contribution to its operands' grads
        (``+=``: a Value used twice receives both contributions).

        Gradients accumulate across calls, as in PyTorch: calling ``backward()``
        twice leaves twice the gradients, so reset them (``model.zero_grad()``)
        between training steps. Each call adds exactly one pass's worth.

        With ``create_graph=True`` the backward pass is itself recorded: every
        ``grad`` becomes a Value that can be differentiated again.

        The nodes are visited from the tallest down (a node's height is one more
        than its tallest operand's, so all its users are taller than it): each has
        received all of its gradient before it passes it on. Iterative, never
        recursive: a chain of a million operations is fine.
        """
        if create_graph:
            _accumulate(gradients(self, None, create_graph=True))
            return
        with gc_paused():
            if self._op is None:
                self.grad += _one(self.data)
                return
            with _MARKS_LOCK:
                _backpropagate(self, object())


_new_value = object.__new__


def _node(data: Any, op: Op | None, x: Value | None, y: Any) -> Value:
    """A new Value made by ``op`` from operands ``x`` (and ``y``), skipping validation.

    With ``op=None`` it is a leaf: how constants in ``a + 1`` become Values.
    """
    v = _new_value(Value)
    v.data = data
    v.grad = 0.0 if type(data) is float else type(data)(0)
    v._op = op
    v._x = x
    v._y = y
    v._height = 0 if x is None else x._height + 1
    v._seen = None
    return v


def _constant(c: Any) -> Value | None:
    """A number operand as a new leaf Value; a Value as itself; None for anything else."""
    if type(c) is float or type(c) is int:
        return _node(c, None, None, None)
    if isinstance(c, Value):
        return c
    if isinstance(c, bool) or not isinstance(c, numbers.Real):
        return None  # the dunder returns NotImplemented, so Python raises its own TypeError
    return _node(c, None, None, None)


# The chain rule at one node, generated from the op table's derivative formulas:
# ``x``, ``y`` and ``out`` are the operands' and the node's data, ``g`` the node's grad.
# For ``*`` (partials ``y`` and ``x``) the lines are::
#
#     g = node.grad
#     X = node._x
#     Y = node._y
#     X.grad += (Y.data) * g
#     Y.grad += (X.data) * g
#
# Only the numbers a formula uses are read (into a local when it uses one twice), and
# a derivative of 1 adds ``g`` itself. They are evaluated over the same functions as
# `Op.local_grads` (ops.DATA_NAMESPACE).


def _read_node(op: Op) -> list[str]:
    return ["g = node.grad", "X = node._x", "Y = node._y"] if op.binary else ["g = node.grad", "X = node._x"]


def _chain_rule_lines(op: Op) -> list[str]:
    """The lines applying the chain rule at a node of ``op``, given ``g``, ``X`` (and ``Y``)."""
    names = re.findall(r"[A-Za-z_]\w*", " ".join(op.partials))
    where = {"x": "X.data", "y": "Y.data" if op.binary else "node._y", "out": "node.data"}
    lines = [f"{name} = {where[name]}" for name in where if names.count(name) > 1]
    partials = [
        re.sub(r"\b(x|y|out)\b", lambda m: where[m[1]] if names.count(m[1]) == 1 else m[1], d)
        for d in op.partials
    ]
    for operand, d in zip("XY", partials):
        term = "g" if d == "1" else "-g" if d == "-1" else f"({d}) * g"
        lines.append(f"{operand}.grad += {term}")
    return lines


def _define(source: str, name: str, extra: dict[str, Any] | None = None, *, what: str) -> Callable[..., None]:
    """Run generated ``source`` and return its function ``name``.

    The source is registered with `linecache` under ``<valuegrad: what>``, so that
    tracebacks show its lines and ``inspect.getsource`` finds it.
    """
    filename = f"<valuegrad: {what}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    scope: dict[str, Any] = {**ops.DATA_NAMESPACE, **(extra or {}), "__builtins__": {}}
    # Built from valuegrad.ops' own formulas, never from user input.
    exec(compile(source, filename, "exec"), scope)
    fn: Callable[..., None] = scope[name]
    return fn


def _indent(lines: list[str], depth: int) -> str:
    return "".join(" " * 4 * depth + line + "\n" for line in lines)


def _method_source(op: Op, reflected: bool = False) -> str:
    """The source of the ``Value`` method for ``op``, written from its row of the op table.

    ``print(_method_source(ops.MUL))`` shows ``Value.__mul__``: the value formula is
    pasted in as it stands in the table, over the operands' numbers ``x`` and ``y``.
    A number operand becomes a constant leaf Value; any other type gives
    NotImplemented, so Python raises its own TypeError. ``reflected`` makes the
    ``__rmul__`` form: ``2 * v`` is ``op(2, v)``. This is the engine's hottest
    path (one call per node), hence a generated method with nothing in it but the
    formula and the node's fields.
    """
    if op.binary:
        first, second = ("other", "self") if reflected else ("self", "other")
        lines = [
            "def method(self, other):",
            "    if type(other) is not Value:",
            "        other = constant(other)",
            "        if other is None:",
            "            return NotImplemented",
            f"    x = {first}.data",
            f"    y = {second}.data",
        ]
        height = [
            f"    hx = {first}._height",
            f"    hy = {second}._height",
            "    v._height = (hx if hx > hy else hy) + 1",
        ]
    else:
        first, second = "self", "None"
        lines = ["def method(self):", "    x = self.data"]
        height = ["    v._height = self._height + 1"]
    lines += [
        "    v = new(Value)",
        f"    v.data = out = {op.value}",
        "    v.grad = 0.0 if type(out) is float else type(out)(0)",
        "    v._op = OP",
        f"    v._x = {first}",
        f"    v._y = {second}",
        *height,
        "    v._seen = None",
        "    return v",
    ]
    return "".join(line + "\n" for line in lines)


def _method(name: str, op: Op, doc: str, reflected: bool = False) -> Callable[..., Any]:
    scope = {"Value": Value, "OP": op, "new": _new_value, "constant": _constant}
    scope |= {"type": type, "float": float, "NotImplemented": NotImplemented}
    method = _define(_method_source(op, reflected), "method", scope, what=f"Value.{name}")
    method.__doc__ = doc
    method.__name__, method.__qualname__, method.__module__ = name, f"Value.{name}", __name__
    return method


# The arithmetic methods of Value, one per op of the table (the math is in valuegrad.ops).
for _name, _op, _reflected, _doc in (
    ("__add__", ADD, False, "``self + other``"),
    ("__radd__", ADD, True, "``other + self``"),
    ("__sub__", SUB, False, "``self - other``"),
    ("__rsub__", SUB, True, "``other - self``"),
    ("__mul__", MUL, False, "``self * other``"),
    ("__rmul__", MUL, True, "``other * self``"),
    ("__truediv__", DIV, False, "``self / other``"),
    ("__rtruediv__", DIV, True, "``other / self``"),
    ("__rpow__", POW, True, "``other ** self`` (the base must be positive)"),
    ("__neg__", NEG, False, "``-self``"),
    ("exp", EXP, False, "e ** self."),
    ("log", LOG, False, "Natural logarithm; `ValueError` for a non-positive value."),
    ("tanh", TANH, False, "Hyperbolic tangent (stable: ``Value(1000.0).tanh()`` is 1.0 with gradient 0)."),
    ("sigmoid", SIGMOID, False, "Logistic function 1 / (1 + e ** -self), stable for large |self|."),
    ("relu", RELU, False, "max(0, self); its derivative is 1 where self > 0, else 0."),
):
    setattr(Value, _name, _method(_name, _op, _doc, _reflected))
_power = _method("_power", POW, "``x ** y`` with a Value exponent")
_power.__qualname__ = "_power"
del _name, _op, _reflected, _doc


_CHAIN_RULE: dict[Op, Callable[[Value], None]] = {
    op: _define(
        "def chain_rule(node):\n" + _indent([*_read_node(op), *_chain_rule_lines(op)], 1),
        "chain_rule",
        what=f"the chain rule at a node of {op.name}",
    )
    for op in ops.OPS
}
"""For each op, the function applying the chain rule at one node (`Value.backward_step`)."""

# backward() runs all nodes in one loop with the formulas inline (no call per node),
# testing the most common ops first. It walks the graph as `topological_order` does,
# tallest first: ``waiting[h]`` lists the nodes of height h reached so far (``waiting[0]``
# the leaves). An operand is filed there the first time it is reached, and a gradient
# an earlier call left in it is set aside in ``before``.
_BY_FREQUENCY = (MUL, ADD, TANH, RELU, SUB, POW_CONST, DIV, NEG, EXP, LOG, SIGMOID, POW, ops.IDENTITY)
assert set(_BY_FREQUENCY) == set(ops.OPS), "every op of the table needs a place in backward's loop"


def _reach(operand: str) -> list[str]:
    """The lines run when backward() first reaches an operand: file it under its height."""
    return [
        f"if {operand}._seen is not seen:",
        f"    {operand}._seen = seen",
        f"    waiting[{operand}._height].append({operand})",
        f"    if {operand}.grad:  # left by an earlier call: kept, and set aside if not a leaf",
        f"        before.append(({operand}, {operand}.grad))",
        f"        if {operand}._op is not None:",
        f"            {operand}.grad = zero_like({operand}.data)",
    ]


CHAIN_RULE_SOURCE = (
    "def chain_rule_all(waiting, seen, before):\n"
    + _indent(["for height in range(len(waiting) - 1, 0, -1):"], 1)
    + _indent(["for node in reversed(waiting[height]):"], 2)
    + _indent(["op = node._op", "g = node.grad", "X = node._x", "Y = node._y"], 3)
    + _indent([*_reach("X"), "if op.binary:"], 3)
    + _indent(_reach("Y"), 4)
)
for _i, _op in enumerate(_BY_FREQUENCY):
    CHAIN_RULE_SOURCE += _indent([f"{'if' if _i == 0 else 'elif'} op is OP{_i}:  # {_op.name}"], 3)
    CHAIN_RULE_SOURCE += _indent(_chain_rule_lines(_op), 4)
CHAIN_RULE_SOURCE += _indent(["else:", "    unknown(op)"], 3)
del _i, _op


def _unknown_op(op: Any) -> None:
    raise TypeError(f"a node's op {op!r} is not in valuegrad.ops.OPS: backward() knows no chain rule for it")


_chain_rule_all = _define(
    CHAIN_RULE_SOURCE,
    "chain_rule_all",
    {
        "unknown": _unknown_op,
        "range": range,
        "reversed": reversed,
        "len": len,
        "zero_like": zero_like,
        **{f"OP{i}": op for i, op in enumerate(_BY_FREQUENCY)},
    },
    what="the chain-rule loop of backward()",
)
"""``print(valuegrad.engine.CHAIN_RULE_SOURCE)`` shows the loop `backward()` runs."""


def _backpropagate(root: Value, seen: object) -> None:
    """Apply the chain rule at every node ``root`` depends on, tallest first; all or nothing.

    Every user of a node is taller than it, so going down height by height each node
    has received all of its gradient before it passes it on. The nodes are reached
    as the chain rule runs, with no separate sort, in exactly the reverse of
    `topological_order` (the same walk). Nodes reached are marked with ``seen``.
    """
    waiting: list[list[Value]] = [[] for _ in range(root._height + 1)]
    waiting[-1].append(root)
    root._seen = seen
    # Nonzero grads found on the nodes, to put back if a local derivative raises (0 ** -0.5,
    # a NumPy error mode). A node must pass on this call's gradient only, not what an earlier
    # call left in it: intermediate grads are set aside and added back at the end.
    before: list[tuple[Value, Any]] = [(root, root.grad)] if root.grad else []
    try:
        root.grad = _one(root.data)
        _chain_rule_all(waiting, seen, before)
        for v, old in before:
            if v._op is not None:
                v.grad += old
    except BaseException:
        for nodes in waiting:
            for v in nodes:
                v.grad = zero_like(v.data)
        for v, old in before:
            v.grad = old
        raise


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a graph is built or differentiated.

    valuegrad's graphs hold no reference cycles and are freed by reference counting,
    so the collector can find nothing in them; left running, it rescans the growing
    graph many times per training step (most of micrograd's run time). valuegrad
    pauses it during `Value.backward`, each step of `valuegrad.train.fit` and
    `valuegrad.compile`'s tracing; wrap your own training step in it to get the
    same. Set ``valuegrad.engine.PAUSE_GC = False`` to keep the collector always running.
    The collector resumes at the end, and any cycles made meanwhile are collected then.
    """
    if not PAUSE_GC or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


PAUSE_GC = True
"""Whether valuegrad pauses the cyclic garbage collector while it builds and differentiates graphs."""


def topological_order(root: Value) -> list[Value]:
    """Every Value ``root`` depends on, each after all of its operands; ``root`` is last.

    The nodes come by height, shortest first: the leaves (height 0), then every
    node whose operands are all leaves (height 1), and so on; a node's height is one
    more than its tallest operand's, so each node comes after its operands. This is
    exactly the reverse of the order in which `Value.backward` applies the chain rule.
    Deterministic (it follows operand order only) and iterative: depth is limited by
    memory, not by Python's recursion limit.

    >>> a = Value(1.0, label="a"); b = a * 2; c = b + a
    >>> [v.label or v.op for v in topological_order(c)]
    ['a', '', '*', '+']
    """
    if not isinstance(root, Value):
        raise TypeError(f"topological_order needs a Value, got {type(root).__name__}")
    if root._op is None:
        return [root]
    # Each node reached is marked with this run's own token (a slot on the node: faster
    # than a set of visited nodes); the lock keeps two threads from walking overlapping
    # graphs with each other's marks.
    with _MARKS_LOCK:
        return _by_height(root, object())


def _by_height(root: Value, seen: object) -> list[Value]:
    # The same walk as backward(): from the tallest height down, each node's operands
    # not reached yet are filed under their own height (they are shorter than it).
    levels: list[list[Value]] = [[] for _ in range(root._height + 1)]
    levels[-1].append(root)
    root._seen = seen
    for height in range(root._height, 0, -1):
        for v in reversed(levels[height]):
            x = v._x
            if x._seen is not seen:
                x._seen = seen
                levels[x._height].append(x)
            if v._op.binary:  # type: ignore[union-attr]  # above height 0, every node has an op
                y = v._y
                if y._seen is not seen:
                    y._seen = seen
                    levels[y._height].append(y)
    order: list[Value] = []
    for level in levels:
        order += level
    return order


_MARKS_LOCK = threading.Lock()


# ---------------------------------------------------------------------------
# Gradients as Values (create_graph=True): the same local-derivative formulas,
# evaluated on Values instead of numbers, so the backward pass becomes a graph.
# ---------------------------------------------------------------------------

_VALUE_NAMESPACE: dict[str, Any] = {
    "exp": Value.exp,
    "log": Value.log,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "relu": Value.relu,
    "pow": lambda x, y: 1 if y == 0 else x**y,  # x ** 0 is the constant 1, not a node
    "inv": lambda y: (Fraction(1) if type(y.data) is int else 1) / y,  # 1/7 stays exact, as in ops._inv
    "step": lambda x: 1 if x.data > 0 else 0,  # piecewise constant: its own derivative is 0
}
_GRAPH_LOCAL_GRADS = {op: ops.build(op, _VALUE_NAMESPACE)[1] for op in ops.OPS}


def _times(local: Any, g: Value) -> Value | None:
    """``local * g``, without recording a multiplication by a constant 0 or 1."""
    if not isinstance(local, Value):
        if local == 1:
            return g
        if local == 0:
            return None
        if local == -1:
            return -g
    return local * g


def gradients(
    output: Value, inputs: Sequence[Value] | None = None, create_graph: bool = False
) -> dict[Value, Any]:
    """d output / d v for every Value v (or only ``inputs``), without touching any ``.grad``.

    With ``create_graph=True`` the gradients are Values, recorded as a graph that
    can be differentiated again; otherwise they are numbers. Nodes the output does
    not depend on are absent from the result (their gradient is zero). This is
    the engine behind `Value.backward(create_graph=True)` and `valuegrad.grad`.

    >>> x = Value(3.0); y = x * x * x
    >>> dy = gradients(y, [x], create_graph=True)[x]   # 3 x**2, as a Value
    >>> dy.data, gradients(dy, [x])[x]                  # and its derivative 6 x
    (27.0, 18.0)
    """
    if inputs is not None:
        inputs = list(inputs)
        for i, v in enumerate(inputs):
            if not isinstance(v, Value):
                raise TypeError(f"inputs[{i}] must be a Value, got {type(v).__name__}: {v!r}")
    order = topological_order(output)
    one = _one(output.data)
    grads: dict[Value, Any] = {output: Value(one) if create_graph else one}
    for v in reversed(order):
        op = v._op
        g = grads.get(v)
        if op is None or g is None:
            continue
        x, y = v._x, v._y
        if create_graph:
            local = _GRAPH_LOCAL_GRADS[op](x, y, v)
        elif op.binary:
            local = op.local_grads(x.data, y.data, v.data)
        else:
            local = op.local_grads(x.data, y, v.data)
        pairs = zip((x, y), local, strict=True) if op.binary else ((x, local),)
        for child, d in pairs:
            contribution = _times(d, g) if create_graph else d * g
            if contribution is None:
                continue
            before = grads.get(child)
            grads[child] = contribution if before is None else before + contribution
    if inputs is None:
        return grads
    return {v: grads.get(v, zero_like(v.data)) for v in inputs}


def _accumulate(grads: dict[Value, Any]) -> None:
    """Add the gradients of one backward pass into each node's ``grad``."""
    for v, g in grads.items():
        old = v.grad
        v.grad = g if not isinstance(old, Value) and old == 0 else old + g


def values(xs: Iterable[Number | Value]) -> list[Value]:
    """Wrap numbers as leaf Values (Values are kept as they are)."""
    return [x if isinstance(x, Value) else Value(x) for x in xs]
