"""`Value`: a scalar that remembers how it was computed.

Every arithmetic operation on Values makes a new Value (a node) that points at its
operands and at the row of the op table (`valuegrad.ops`) that defines the
operation. ``backward()`` (`valuegrad.backward`) walks that graph from the output
back to the leaves and applies the chain rule at every node.

The methods that perform the operations (``__mul__``, ``tanh``, ...) are written
from the op table by ``python tools/codegen.py``, between the ``BEGIN
GENERATED`` and ``END GENERATED`` lines below: each one computes the op's value
from its operands' data and records a node. The chain rule of each op is in
`valuegrad.backward`, written from the same rows.

Why a node stores its op and its operands rather than a closure (as micrograd
does): a closure that captures its own output makes every node a reference cycle,
so a graph could only be freed by Python's cyclic garbage collector. Without
cycles a graph is freed by reference counting the moment it is no longer used.

This file runs as plain Python, and is also compiled by Cython when valuegrad is
installed with a C compiler present (`value.pxd` declares the C types of the
fields; ``valuegrad.NATIVE`` says which engine runs): the same code, two speeds.
"""

from __future__ import annotations

import numbers
from typing import Any, Union

try:
    import cython
except ImportError:  # Cython is needed only to compile this file
    from . import _cython_stub as cython

# BEGIN GENERATED imports: `python tools/codegen.py` writes this from src/valuegrad/ops.py
# isort: off
from .ops import (
    ABS,
    ADD,
    COS,
    DIV,
    EXP,
    LOG,
    MUL,
    NEG,
    POW,
    POW_VALUE,
    RELU,
    SIGMOID,
    SIN,
    SOFTPLUS,
    SQRT,
    SUB,
    TANH,
    check_generated,
)
from .scalar_math import (
    abs,
    cos,
    exp,
    log,
    power,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    tanh,
    vpower,
)
# isort: on
# END GENERATED imports

__all__ = ["Value", "Number", "zero_like", "one_like"]

Number = Union[int, float, numbers.Real]
"""What a Value can hold: int, float, fractions.Fraction, NumPy scalars, any `numbers.Real`."""


def zero_like(x: Any) -> Any:
    """Zero of the same number type as ``x`` (0.0 for a float, Fraction(0) for a Fraction): a fresh gradient.

    >>> zero_like(2.5), zero_like(3)
    (0.0, 0)
    """
    return 0.0 if type(x) is float else type(x)(0)


def one_like(x: Any) -> Any:
    """One of the same number type as ``x``: the gradient of an output with respect to itself."""
    return 1.0 if type(x) is float else type(x)(1)


def _check_number(x: object, what: str) -> None:
    if type(x) is float or type(x) is int:
        return
    if isinstance(x, Value):
        raise TypeError(f"{what} must be a number, not a Value (a Value already is one: use it directly)")
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(
            f"{what} must be a real number (int, float, Fraction or a NumPy scalar), "
            f"got {type(x).__name__}: {x!r}"
        )


_dying: list = []  # compiled engine: operands waiting to be freed (see Value.__dealloc__)
_nesting = 0
_draining = False


@cython.no_gc  # a node refers only to its operands, never back: no cycles for the collector to find
@cython.cclass
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
    (the operand Values, in operand order). You may attach attributes of your own
    (``p.m = 0.0``), as optimizers written for micrograd do.
    """

    # One object per node. The operands live in two fields of their own (not a tuple),
    # so a node is a single object; a number that is part of the op (the 2 of x ** 2)
    # has a field of its own, `_k`. `__dict__` holds attributes you attach yourself
    # (see "attributes of your own" below).
    __slots__ = (
        "data",
        "grad",
        "_label",
        "_operation",
        "_x",
        "_y",
        "_k",
        "_seen",
        "__dict__",
        "__weakref__",
    )

    # Make NumPy hand `numpy.float64(2) + Value(3)` over to Value.__radd__.
    __array_ufunc__ = None

    data: Any
    grad: Any
    _label: str  # never set on the nodes operations make (one store less per node): see `label`
    _operation: Any  # the op table's row that made this node (an `Op`), None for a leaf
    _x: Value  # the first operand (set only on nodes made by an operation)
    _y: Value | None  # the second operand of a two-operand op (x * y), else None (set only on such nodes)
    _k: Any  # the number of an op that takes one (the exponent of x ** 2); set only on such nodes
    _seen: object  # which run of topological_order or backward() last reached this node (its mark)
    _attributes: dict[str, Any] | None  # compiled only: attributes of your own (see below)

    def __init__(self, data: Number, label: str = "") -> None:
        _check_number(data, "Value data")
        self.data = data
        self.grad = zero_like(data)
        self.label = label  # checked by the property below
        self._operation = None
        self._seen = None

    # --- what a node shows -------------------------------------------------

    @property
    def label(self) -> str:
        """A name for drawings and compiled code; ``""`` when it has none."""
        try:
            return self._label or ""
        except AttributeError:  # a node made by an operation, never named
            return ""

    @label.setter
    def label(self, name: str) -> None:
        self._label = _checked_label(name)

    @property
    def op(self) -> str:
        """The operation that produced this Value: ``""`` for a leaf, else ``"+"``, ``"tanh"``, …"""
        return "" if self._operation is None else self._operation.symbol

    @property
    def children(self) -> tuple[Value, ...]:
        """The operand Values, in operand order (``a + a`` has ``a`` twice)."""
        if self._operation is None:
            return ()
        return (self._x,) if self._y is None else (self._x, self._y)

    @property
    def height(self) -> int:
        """The most operations on a path from this Value down to a leaf: 0 for a leaf.

        One more than the tallest operand's, so every node is taller than its
        operands. Not stored: each call walks the graph below this Value.

        >>> a = Value(1.0); (a * 2 + a).height
        2
        """
        from .backward import topological_order

        heights: dict[int, int] = {}
        for v in topological_order(self):
            heights[id(v)] = (1 + max(heights[id(c)] for c in v.children)) if v.children else 0
        return heights[id(self)]

    @property
    def is_leaf(self) -> bool:
        """True for a Value made by the user (a parameter, an input or a constant)."""
        return self._operation is None

    # micrograd's names, for code written for micrograd (`valuegrad.micrograd`)

    @property
    def _prev(self) -> set[Value]:
        """micrograd's name for the operands: a set (``children`` keeps their order)."""
        return set(self.children)

    @property
    def _op(self) -> str:
        """micrograd's spelling of the op: ``''`` (a leaf), ``'+'``, ``'*'``, ``'**2'``, ``'ReLU'``…"""
        op = self._operation
        if op is None:
            return ""
        return f"{op.micrograd}{self._k}" if op.number else op.micrograd

    def __repr__(self) -> str:
        label = self.label
        label = f", label={label!r}" if label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats the data (a new string, nothing leaves the graph)."""
        return format(self.data, spec) if spec else repr(self)

    # --- a Value is a number in a graph: it never silently leaves it -------

    def __float__(self) -> float:
        raise TypeError(
            "a Value is not converted to a float: the result would leave the graph and its gradient "
            "would be silently lost. Use the Value's own methods (v.exp(), v.sin(), v.tanh(), v.log(), "
            "v.sqrt(), ...) to stay in the graph, or v.data for the plain number"
        )

    def __complex__(self) -> complex:
        raise TypeError("a Value is not converted to a complex number: use v.data for the plain number")

    def __bool__(self) -> bool:
        """``bool(v)`` is ``bool(v.data)``, as for a one-element tensor: ``if loss:`` tests the number."""
        return bool(self.data)

    # Ordering compares the data and returns a plain bool: max(values) is the Value with the
    # largest data, its graph intact. == and hash stay identity: Values are dict keys and set members.

    def __lt__(self, other: Value | Number) -> bool:
        return self.data < (other.data if isinstance(other, Value) else other)

    def __le__(self, other: Value | Number) -> bool:
        return self.data <= (other.data if isinstance(other, Value) else other)

    def __gt__(self, other: Value | Number) -> bool:
        return self.data > (other.data if isinstance(other, Value) else other)

    def __ge__(self, other: Value | Number) -> bool:
        return self.data >= (other.data if isinstance(other, Value) else other)

    def __hash__(self) -> int:
        # Identity, as object's own (a class that defines __lt__ must say so, compiled).
        return id(self) >> 4

    # --- operations: each makes a new node; the math is in valuegrad.ops ------

    # BEGIN GENERATED methods: `python tools/codegen.py` writes this from src/valuegrad/ops.py
    def __add__(self, other: Value | Number) -> Value:
        """``self + other``: sum."""
        # a number operand becomes a new leaf (a constant)
        operand: Value | None = other if isinstance(other, Value) else _operand(other)
        if operand is None:
            return NotImplemented
        return _node(self.data + operand.data, ADD, self, operand)

    def __radd__(self, other: Value | Number) -> Value:
        """``other + self``: sum."""
        # a number operand becomes a new leaf (a constant)
        operand: Value | None = other if isinstance(other, Value) else _operand(other)
        if operand is None:
            return NotImplemented
        return _node(operand.data + self.data, ADD, operand, self)

    def __sub__(self, other: Value | Number) -> Value:
        """``self - other``: difference."""
        # a number operand becomes a new leaf (a constant)
        operand: Value | None = other if isinstance(other, Value) else _operand(other)
        if operand is None:
            return NotImplemented
        return _node(self.data - operand.data, SUB, self, operand)

    def __rsub__(self, other: Value | Number) -> Value:
        """``other - self``: difference."""
        # a number operand becomes a new leaf (a constant)
        operand: Value | None = other if isinstance(other, Value) else _operand(other)
        if operand is None:
            return NotImplemented
        return _node(operand.data - self.data, SUB, operand, self)

    def __mul__(self, other: Value | Number) -> Value:
        """``self * other``: product."""
        # a number operand becomes a new leaf (a constant)
        operand: Value | None = other if isinstance(other, Value) else _operand(other)
        if operand is None:
            return NotImplemented
        return _node(self.data * operand.data, MUL, self, operand)

    def __rmul__(self, other: Value | Number) -> Value:
        """``other * self``: product."""
        # a number operand becomes a new leaf (a constant)
        operand: Value | None = other if isinstance(other, Value) else _operand(other)
        if operand is None:
            return NotImplemented
        return _node(operand.data * self.data, MUL, operand, self)

    def __truediv__(self, other: Value | Number) -> Value:
        """``self / other``: quotient."""
        # a number operand becomes a new leaf (a constant)
        operand: Value | None = other if isinstance(other, Value) else _operand(other)
        if operand is None:
            return NotImplemented
        return _node(self.data / operand.data, DIV, self, operand)

    def __rtruediv__(self, other: Value | Number) -> Value:
        """``other / self``: quotient."""
        # a number operand becomes a new leaf (a constant)
        operand: Value | None = other if isinstance(other, Value) else _operand(other)
        if operand is None:
            return NotImplemented
        return _node(operand.data / self.data, DIV, operand, self)

    def __pow__(self, other: Value | Number) -> Value:
        """``self ** other``: power with a number exponent: x ** 2; or power with a Value exponent (positive
        base).
        """
        if isinstance(other, Value):
            return _node(vpower(self.data, other.data), POW_VALUE, self, other)
        if not _number(other):
            return NotImplemented
        return _node_with_number(power(self.data, other), POW, self, other)

    def __rpow__(self, other: Value | Number) -> Value:
        """``other ** self``: power with a Value exponent (positive base)."""
        # a number operand becomes a new leaf (a constant)
        operand: Value | None = other if isinstance(other, Value) else _operand(other)
        if operand is None:
            return NotImplemented
        return _node(vpower(operand.data, self.data), POW_VALUE, operand, self)

    def __neg__(self) -> Value:
        """``-self``: negation."""
        return _node(-self.data, NEG, self, None)

    def exp(self) -> Value:
        """E ** x; d/dx e ** x = e ** x."""
        return _node(exp(self.data), EXP, self, None)

    def log(self) -> Value:
        """Natural logarithm (x > 0)."""
        return _node(log(self.data), LOG, self, None)

    def tanh(self) -> Value:
        """Hyperbolic tangent; d/dx tanh(x) = 1 - tanh(x) ** 2."""
        return _node(tanh(self.data), TANH, self, None)

    def sigmoid(self) -> Value:
        """Logistic function 1 / (1 + e ** -x), stable for large |x|."""
        return _node(sigmoid(self.data), SIGMOID, self, None)

    def relu(self) -> Value:
        """Max(0, x); its derivative is 1 where x > 0, else 0."""
        return _node(relu(self.data), RELU, self, None)

    def sin(self) -> Value:
        """Sine."""
        return _node(sin(self.data), SIN, self, None)

    def cos(self) -> Value:
        """Cosine."""
        return _node(cos(self.data), COS, self, None)

    def sqrt(self) -> Value:
        """Square root (x >= 0)."""
        return _node(sqrt(self.data), SQRT, self, None)

    def __abs__(self) -> Value:
        """``abs(self)``: absolute value."""
        return _node(abs(self.data), ABS, self, None)

    def softplus(self) -> Value:
        """Log(1 + e ** x), stable for any x; its derivative is sigmoid(x)."""
        return _node(softplus(self.data), SOFTPLUS, self, None)
    # END GENERATED methods

    # --- the chain rule (valuegrad.backward) -------------------------------

    def backward(self, create_graph: bool = False) -> None:
        """Fill in ``grad`` of every Value this one depends on: d self / d node.

        The output's own gradient is seeded with one, then every node, from the
        output back to the leaves, adds its contribution to its operands' grads
        (``+=``: a Value used twice receives both contributions).

        Gradients accumulate across calls, as in PyTorch: calling ``backward()``
        twice leaves twice the gradients, so reset them (``model.zero_grad()``)
        between training steps. Each call adds exactly one pass's worth, or
        nothing at all if a local derivative fails (the error names the node).

        With ``create_graph=True`` the backward pass is itself recorded: each leaf's
        ``grad`` becomes a Value that can be differentiated again (nodes made by an
        operation get the number). That makes a reference cycle, leaf -> grad -> leaf,
        as in PyTorch: reset the grads (``model.zero_grad()``) when done, or use
        `valuegrad.grad`, which stores nothing.

        Iterative, never recursive: a chain of a million operations is fine.
        """
        from .backward import backward

        backward(self, create_graph)

    def backward_step(self) -> None:
        """Apply the chain rule at this node once: each operand gets ``local derivative * self.grad``.

        This is what `backward` does at every node, in reverse topological order;
        calling it by hand is the notebook's "backpropagation, one node at a time".
        micrograd calls it ``_backward``.
        """
        from .backward import chain_rule_at

        chain_rule_at(self)

    _backward = backward_step  # micrograd's name

    # --- attributes of your own (p.m = 0.0) ---------------------------------

    # As plain Python, a Value keeps them in its `__dict__` slot, which Python makes on
    # first use. Compiled, a Value has no such slot (Cython would make a dict for every
    # node): it keeps them in `_attributes`, made on first use, through the three methods
    # below. Plain Python does not use these three (they are removed at the end of this file).

    def __getattr__(self, name: str) -> Any:
        attributes = self._attributes
        if attributes is not None and name in attributes:
            return attributes[name]
        raise AttributeError(f"'Value' object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "data":
            self.data = value
        elif name == "grad":
            self.grad = value
        elif name == "label":
            self._label = _checked_label(value)
        elif name in _FIELDS:
            raise AttributeError(f"Value.{name} is kept by valuegrad: it cannot be set")
        else:
            if self._attributes is None:
                self._attributes = {}
            self._attributes[name] = value

    def __delattr__(self, name: str) -> None:
        attributes = self._attributes
        if attributes is None or name not in attributes:
            raise AttributeError(f"'Value' object has no attribute {name!r} to delete")
        del attributes[name]

    # --- copies and pickles -------------------------------------------------

    def __reduce__(self) -> Any:
        from .graph_copy import reduce_graph

        return reduce_graph(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        from .graph_copy import deepcopy_graph

        return deepcopy_graph(self, memo)

    def __dealloc__(self) -> None:
        # Called by Cython, in the compiled engine only, as a node is freed. Freeing a node
        # frees the operands only it used, theirs, and so on: each a call inside the last.
        # On a chain of a million nodes that would overflow the C stack, so beyond 50 nested
        # calls the operands are parked in a list, freed one at a time by the outermost call.
        # (Plain Python objects get the same treatment from Python itself: its "trashcan".)
        global _nesting, _draining
        if _nesting < 50:
            _nesting += 1
            self._x = None  # type: ignore[assignment]
            self._y = None
            _nesting -= 1
        elif self._x is not None:
            _dying.append(self._x)
            self._x = None  # type: ignore[assignment]
            if self._y is not None:
                _dying.append(self._y)
                self._y = None
        if _nesting == 0 and _dying and not _draining:
            _draining = True
            while _dying:
                _dying.pop()
            _draining = False


def _checked_label(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"label must be a str, got {type(name).__name__}: {name!r}")
    return name


# What a compiled Value's __setattr__ refuses, as plain Python does (its fields and read-only properties).
_FIELDS = frozenset(
    ("_label", "_operation", "_x", "_y", "_k", "_seen", "_attributes", "op", "children")
).union(("height", "is_leaf", "_prev", "_op"))


def attributes_of(v: Value) -> dict[str, Any]:
    """The attributes attached to ``v`` (``p.m = 0.0``), as a new dict."""
    if cython.compiled:
        return dict(v._attributes) if v._attributes is not None else {}
    return dict(v.__dict__)


# A Value made without running __init__ (nodes and constants: nothing to check). As plain
# Python, Value.__new__ is looked up on the class at each call: `_new_value` saves that.
_new_value = object.__new__


def _node(data: Any, op: Any, x: Value, y: Value | None) -> Value:
    """A new node: ``data``, computed by ``op`` from the operands ``x`` (and ``y``)."""
    v: Value = Value.__new__(Value) if cython.compiled else _new_value(Value)
    v.data = data
    v.grad = 0.0 if type(data) is float else type(data)(0)
    v._operation = op
    v._x = x
    v._y = y
    v._seen = None
    return v


def _node_with_number(data: Any, op: Any, x: Value, k: Any) -> Value:
    """A new node computed by ``op`` from the operand ``x`` and the plain number ``k`` (x ** 2)."""
    v: Value = Value.__new__(Value) if cython.compiled else _new_value(Value)
    v.data = data
    v.grad = 0.0 if type(data) is float else type(data)(0)
    v._operation = op
    v._x = x
    v._y = None
    v._k = k
    v._seen = None
    return v


def _operand(c: Any) -> Value | None:
    """A number operand (the 1 of ``a + 1``) as a new leaf; a Value as itself; None for anything else."""
    if isinstance(c, Value):
        return c
    plain = type(c) is float or type(c) is int
    if not plain and (isinstance(c, bool) or not isinstance(c, numbers.Real)):
        return None  # NotImplemented follows: Python raises its own TypeError
    v: Value = Value.__new__(Value) if cython.compiled else _new_value(Value)
    v.data = c
    v.grad = zero_like(c)
    v._operation = None
    v._seen = None
    return v


def _number(c: Any) -> bool:
    """True for a plain number that can be the ``k`` of an op (the exponent of ``x ** 2``)."""
    return not isinstance(c, (bool, Value)) and isinstance(c, numbers.Real)


if not cython.compiled:  # a plain-Python Value has its __dict__ slot: see "attributes of your own"
    del Value.__getattr__, Value.__setattr__, Value.__delattr__

# BEGIN GENERATED checks: `python tools/codegen.py` writes this from src/valuegrad/ops.py
SOURCES = {
    'add': 'add | x + y | 1 | 1 | ',
    'sub': 'sub | x - y | 1 | -1 | ',
    'mul': 'mul | x * y | y | x | ',
    'div': 'div | x / y | inv(y) | -out / y | ',
    'pow': 'pow | power(x, k) | 0 if k == 0 else k * power(x, k - 1) |  | k',
    'pow_value': 'pow_value | vpower(x, y) | y * power(x, y - 1) | out * log(x) | ',
    'neg': 'neg | -x | -1 |  | ',
    'exp': 'exp | exp(x) | out |  | ',
    'log': 'log | log(x) | 1 / x |  | ',
    'tanh': 'tanh | tanh(x) | 1 - out * out |  | ',
    'sigmoid': 'sigmoid | sigmoid(x) | out * (1 - out) |  | ',
    'relu': 'relu | relu(x) | step(x) |  | ',
    'sin': 'sin | sin(x) | cos(x) |  | ',
    'cos': 'cos | cos(x) | -sin(x) |  | ',
    'sqrt': 'sqrt | sqrt(x) | 0.5 / out |  | ',
    'abs': 'abs | abs(x) | sign(x) |  | ',
    'softplus': 'softplus | softplus(x) | sigmoid(x) |  | ',
    'id': 'id | x | 1 |  | ',
}
"""The rows this file was written from (valuegrad.ops.source_of): checked at import."""
check_generated(SOURCES, "valuegrad/value.py", compiled=cython.compiled)
# END GENERATED checks
