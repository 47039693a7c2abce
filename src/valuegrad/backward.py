"""``backward()``: the chain rule at every node, from the output back to the leaves.

At each node made by an operation, each operand receives its share of the node's
gradient::

    operand.grad += (d node / d operand) * node.grad

where the local derivative ``d node / d operand`` is the op table's formula
(`valuegrad.ops`). The branches below, one per op (``if op is MUL: ...``), are
written from the table by ``python tools/codegen.py``.

Order: a node must have received all of its gradient (from every node that uses
it) before it passes it on. `_depth_first` lists the nodes so that each comes after
its operands (micrograd's ``build_topo``, as a loop rather than a recursion, so a
chain of a million operations is fine); the chain rule then runs over that list
backwards. Depth first lists the nodes in about the order they were made, so the
walk reads memory mostly in order.

Like `valuegrad.value`, this file runs as plain Python and is compiled by Cython
when a C compiler is present (`backward.pxd`).
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Any, Iterator

try:
    import cython
except ImportError:  # Cython is needed only to compile this file
    from . import _cython_stub as cython

from .value import Value, one_like, zero_like

# BEGIN GENERATED imports: `python tools/codegen.py` writes this from src/valuegrad/ops.py
# isort: off
from .ops import (
    ABS,
    ADD,
    COS,
    DIV,
    EXP,
    IDENTITY,
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
    cos,
    inv,
    log,
    power,
    sigmoid,
    sign,
    sin,
    step,
)
# isort: on
# END GENERATED imports

__all__ = ["backward", "chain_rule_at", "topological_order", "gc_paused", "PAUSE_GC"]

PAUSE_GC = True
"""Whether valuegrad pauses the cyclic garbage collector while it builds and differentiates graphs."""

# The marks left on nodes (`Value._seen`) belong to one walk at a time: two threads
# walking graphs that share nodes must not mix their marks.
_MARKS_LOCK = threading.Lock()


def backward(root: Value, create_graph: bool = False) -> None:
    """`Value.backward`: fill in the ``grad`` of every Value ``root`` depends on."""
    if create_graph:
        from .higher_order import backward_with_graph

        backward_with_graph(root)
        return
    with gc_paused():
        if root._operation is None:
            root.grad += one_like(root.data)
            return
        with _MARKS_LOCK:
            _backpropagate(root, object())


def _backpropagate(root: Value, seen: object) -> None:
    """Apply the chain rule at every node ``root`` depends on, back to the leaves; all or nothing.

    A grad left by an earlier call is kept: an op node's is set aside for this pass
    (it must pass on only this call's gradient) and added back at the end; a leaf's
    is added to. ``kept`` also lets an error put every grad back as it was: if a
    local derivative fails (0 ** -0.5), the error names the node.
    """
    node: Value
    X: Value
    Y: Value
    held: list = []
    order: list = _depth_first(root, seen, held)
    kept: list = [v.grad for v in held]  # the grads of the nodes in held, as they were
    node = root
    try:
        for v in held:
            if v._operation is not None:
                v.grad = zero_like(v.data)
        root.grad = one_like(root.data)
        for node in reversed(order):
            op = node._operation
            if op is None:
                continue  # a leaf: it only receives
            g = node.grad
            X = node._x
            Y = node._y  # type: ignore[assignment]  # (None for a one-operand op: never read then)
            # BEGIN GENERATED chain rule: `python tools/codegen.py` writes this from src/valuegrad/ops.py
            if op is MUL:  # out = x * y
                X.grad += Y.data * g
                Y.grad += X.data * g
            elif op is ADD:  # out = x + y
                X.grad += g
                Y.grad += g
            elif op is TANH:  # out = tanh(x)
                out = node.data
                X.grad += (1 - out * out) * g
            elif op is RELU:  # out = relu(x)
                X.grad += step(X.data) * g
            elif op is SUB:  # out = x - y
                X.grad += g
                Y.grad += -g
            elif op is POW:  # out = power(x, k)
                k = node._k
                X.grad += (0 if k == 0 else k * power(X.data, k - 1)) * g
            elif op is DIV:  # out = x / y
                y = Y.data
                X.grad += inv(y) * g
                Y.grad += (-node.data / y) * g
            elif op is POW_VALUE:  # out = vpower(x, y)
                x = X.data
                y = Y.data
                X.grad += (y * power(x, y - 1)) * g
                Y.grad += (node.data * log(x)) * g
            elif op is NEG:  # out = -x
                X.grad += -g
            elif op is EXP:  # out = exp(x)
                X.grad += node.data * g
            elif op is LOG:  # out = log(x)
                X.grad += (1 / X.data) * g
            elif op is SIGMOID:  # out = sigmoid(x)
                out = node.data
                X.grad += (out * (1 - out)) * g
            elif op is SIN:  # out = sin(x)
                X.grad += cos(X.data) * g
            elif op is COS:  # out = cos(x)
                X.grad += (-sin(X.data)) * g
            elif op is SQRT:  # out = sqrt(x)
                X.grad += (0.5 / node.data) * g
            elif op is ABS:  # out = abs(x)
                X.grad += sign(X.data) * g
            elif op is SOFTPLUS:  # out = softplus(x)
                X.grad += sigmoid(X.data) * g
            elif op is IDENTITY:  # out = x
                X.grad += g
            else:
                _unknown_op(op)
            # END GENERATED chain rule
        for v, old in zip(held, kept):
            if v._operation is not None:
                v.grad += old
    except BaseException as error:
        for v in order:
            v.grad = zero_like(v.data)
        for v, old in zip(held, kept):
            v.grad = old
        if isinstance(error, (ArithmeticError, ValueError)) and node._operation is not None:
            raise _failed_at(node, error) from error  # a local derivative failed: say where
        raise


def _depth_first(root: Value, seen: object, held: list) -> list:
    """Every Value ``root`` depends on, each after its operands; ``root`` is last.

    Depth first, as micrograd's ``build_topo``: a node goes on the list once all of
    its operands are on it. The path from ``root`` down to ``node``, the nodes to come
    back to, is kept in ``stack`` instead of Python's call stack. Each Value reached
    is marked with ``seen``, this walk's own token. The leaves reached, and the op
    nodes that hold a nonzero grad (left by an earlier ``backward()``), are also
    listed in ``held``. ``root`` must be made by an operation (callers handle a leaf).
    """
    node: Value
    X: Value
    Y: Value
    Z: Value
    order: list = []
    stack: list = []
    root._seen = seen
    if root.grad:
        held.append(root)
    node = root
    while True:
        # Down the first operands as far as one already listed; a leaf is listed at once.
        while True:  # (CPython 3.11 warms a loop up only at an unconditional jump back)
            X = node._x
            if X._seen is seen:
                break
            X._seen = seen
            if X._operation is None:
                order.append(X)
                held.append(X)
                break
            if X.grad:
                held.append(X)
            stack.append(node)
            node = X
        # node's first operand is listed: the same for its second, then list node and
        # go back up (to a node whose first operand is now listed too).
        while True:
            Y = node._y  # type: ignore[assignment]  # (None for a one-operand op)
            if Y is not None and Y._seen is not seen:
                Y._seen = seen
                if Y._operation is None:
                    order.append(Y)
                    held.append(Y)
                else:
                    if Y.grad:
                        held.append(Y)
                    # If Y's own operands are listed already or are leaves (the w * x of
                    # a neuron's sum), list them and Y right here: going down into Y and
                    # back up through `stack` is most of a plain-Python walk's time.
                    Z = Y._x
                    if Z._seen is not seen:
                        if Z._operation is not None:
                            stack.append(node)
                            node = Y
                            break  # (down into Y after all)
                        Z._seen = seen
                        order.append(Z)
                        held.append(Z)
                    Z = Y._y  # type: ignore[assignment]
                    if Z is not None and Z._seen is not seen:
                        if Z._operation is not None:
                            stack.append(node)
                            node = Y
                            break
                        Z._seen = seen
                        order.append(Z)
                        held.append(Z)
                    order.append(Y)
            order.append(node)
            if not stack:
                return order
            node = stack.pop()


def chain_rule_at(node: Value) -> None:
    """The chain rule at one node: each operand's ``grad += local derivative * node.grad``.

    `Value.backward_step` (micrograd's ``_backward``): `backward` does this at every
    node, in the reverse of `topological_order`.
    """
    X: Value
    Y: Value
    op = node._operation
    if op is None:
        return
    g = node.grad
    X = node._x
    Y = node._y  # type: ignore[assignment]  # (None for a one-operand op: never read then)
    # BEGIN GENERATED chain rule at one node: `python tools/codegen.py` writes this from src/valuegrad/ops.py
    if op is ADD:  # out = x + y
        X.grad += g
        Y.grad += g
    elif op is SUB:  # out = x - y
        X.grad += g
        Y.grad += -g
    elif op is MUL:  # out = x * y
        X.grad += Y.data * g
        Y.grad += X.data * g
    elif op is DIV:  # out = x / y
        y = Y.data
        X.grad += inv(y) * g
        Y.grad += (-node.data / y) * g
    elif op is POW:  # out = power(x, k)
        k = node._k
        X.grad += (0 if k == 0 else k * power(X.data, k - 1)) * g
    elif op is POW_VALUE:  # out = vpower(x, y)
        x = X.data
        y = Y.data
        X.grad += (y * power(x, y - 1)) * g
        Y.grad += (node.data * log(x)) * g
    elif op is NEG:  # out = -x
        X.grad += -g
    elif op is EXP:  # out = exp(x)
        X.grad += node.data * g
    elif op is LOG:  # out = log(x)
        X.grad += (1 / X.data) * g
    elif op is TANH:  # out = tanh(x)
        out = node.data
        X.grad += (1 - out * out) * g
    elif op is SIGMOID:  # out = sigmoid(x)
        out = node.data
        X.grad += (out * (1 - out)) * g
    elif op is RELU:  # out = relu(x)
        X.grad += step(X.data) * g
    elif op is SIN:  # out = sin(x)
        X.grad += cos(X.data) * g
    elif op is COS:  # out = cos(x)
        X.grad += (-sin(X.data)) * g
    elif op is SQRT:  # out = sqrt(x)
        X.grad += (0.5 / node.data) * g
    elif op is ABS:  # out = abs(x)
        X.grad += sign(X.data) * g
    elif op is SOFTPLUS:  # out = softplus(x)
        X.grad += sigmoid(X.data) * g
    elif op is IDENTITY:  # out = x
        X.grad += g
    else:
        _unknown_op(op)
    # END GENERATED chain rule at one node


def _unknown_op(op: Any) -> None:
    raise TypeError(f"a node's op {op!r} is not in valuegrad.ops.OPS: backward() knows no chain rule for it")


def _failed_at(node: Value, error: BaseException) -> BaseException:
    """``error``, raised by a local derivative at ``node``, retold so that it names the node."""
    op = node._operation
    name = op.symbol + (str(node._k) if op.number else "")
    label = f" {node.label!r}" if node.label else ""
    operands = ", ".join(f"{v} = {c.data!r}" for v, c in zip("xy", node.children))
    derivatives = ", ".join(f"d out/d{v} = {d}" for v, d in zip("xy", op.partials))
    message = (
        f"backward() failed at the {name!r} node{label} (out = {node.data!r}, {operands}): "
        f"its local derivative {derivatives} gives {type(error).__name__}: {error}. No grad was changed."
    )
    try:
        return type(error)(message)
    except Exception:  # an exception type that takes other arguments: keep it as it was
        return error


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a graph is built or differentiated.

    valuegrad's graphs hold no reference cycles and are freed by reference counting,
    so the collector can find nothing in them. In the pure-Python engine it would
    still rescan the growing graph many times per training step (most of micrograd's
    run time). valuegrad pauses it during `Value.backward`, each step of
    `valuegrad.train.fit` and `valuegrad.compile`'s tracing; wrap your own training
    step in it to get the same. (The compiled engine's nodes are not tracked by the
    collector at all, see ``valuegrad.NATIVE``.) Set ``valuegrad.backward.PAUSE_GC = False``
    to keep the collector always running. It resumes at the end, and any cycles
    made meanwhile are collected then.
    """
    if not PAUSE_GC or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def topological_order(root: Value) -> list[Value]:
    """Every Value ``root`` depends on, each after all of its operands; ``root`` is last.

    Depth first from ``root``, operands in order (``x`` before ``y``), as micrograd's
    ``build_topo``: this is exactly the reverse of the order in which `Value.backward`
    applies the chain rule. Deterministic and iterative: depth is limited by memory,
    not by Python's recursion limit.

    >>> a = Value(1.0, label="a"); b = a * 2; c = b + a
    >>> [v.label or v.op for v in topological_order(c)]
    ['a', '', '*', '+']
    """
    if not isinstance(root, Value):
        raise TypeError(f"topological_order needs a Value, got {type(root).__name__}")
    if root._operation is None:
        return [root]
    with _MARKS_LOCK:
        return _depth_first(root, object(), [])


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
check_generated(SOURCES, "valuegrad/backward.py", compiled=cython.compiled)
# END GENERATED checks
