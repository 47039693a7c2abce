"""Gradients as Values (``create_graph=True``), and gradients without touching ``.grad``.

The backward pass evaluates the op table's derivative formulas on numbers. Evaluated
on Values instead, the same formulas record the backward pass itself as a graph:
every gradient is then a Value that can be differentiated again (second
derivatives, Hessians, ``valuegrad.grad(valuegrad.grad(f))``). The formulas are
the generated functions of `valuegrad.op_functions`; the functions they call are
`VALUE_MATH` here, for Values, and `valuegrad.scalar_math` for plain numbers.
"""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace
from typing import Any, Sequence

from . import op_functions, ops, scalar_math
from .backward import topological_order
from .formulas import check_backend
from .value import Value, one_like, zero_like

__all__ = ["VALUE_MATH", "gradients", "backward_with_graph"]


def _power(x: Any, k: Any) -> Any:
    # x ** 0 is the constant 1 (no node); a Value exponent k makes an x ** y node
    return 1 if not isinstance(k, Value) and k == 0 else x**k


def _inv(y: Value) -> Value:
    return (Fraction(1) if type(y.data) is int else 1) / y  # 1/7 stays exact, as scalar_math.inv


VALUE_MATH = SimpleNamespace(
    exp=Value.exp,
    log=Value.log,
    tanh=Value.tanh,
    sigmoid=Value.sigmoid,
    relu=Value.relu,
    sin=Value.sin,
    cos=Value.cos,
    sqrt=Value.sqrt,
    softplus=Value.softplus,
    abs=abs,
    power=_power,
    vpower=lambda x, y: x**y,
    inv=_inv,
    # piecewise constant: their own derivative is 0, so they return numbers, not nodes
    step=lambda x: scalar_math.step(x.data),
    sign=lambda x: scalar_math.sign(x.data),
)
"""The functions the op table's formulas call, for Values: derivatives that are graphs."""

check_backend(
    vars(VALUE_MATH), ops.FUNCTIONS, "Value (higher-order)", "VALUE_MATH in valuegrad/higher_order.py"
)


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
    if not isinstance(output, Value):
        raise TypeError(f"gradients needs a Value output, got {type(output).__name__}: {output!r}")
    if inputs is not None:
        inputs = list(inputs)
        for i, v in enumerate(inputs):
            if not isinstance(v, Value):
                raise TypeError(f"inputs[{i}] must be a Value, got {type(v).__name__}: {v!r}")
    order = topological_order(output)
    one = one_like(output.data)
    grads: dict[Value, Any] = {output: Value(one) if create_graph else one}
    derivatives = op_functions.DERIVATIVES
    for v in reversed(order):
        op = v._operation
        g = grads.get(v)
        if op is None or g is None:
            continue
        x, y = v._x, v._y
        if create_graph:
            local = derivatives[op.name](x, v._k if op.number else y, v, VALUE_MATH)
        else:
            second = v._k if op.number else (y.data if y is not None else None)
            local = derivatives[op.name](x.data, second, v.data, scalar_math)
        pairs = ((x, local[0]),) if y is None else ((x, local[0]), (y, local[1]))
        for child, d in pairs:
            contribution = _times(d, g) if create_graph else d * g
            if contribution is None:
                continue
            before = grads.get(child)
            grads[child] = contribution if before is None else before + contribution
    if inputs is None:
        return grads
    return {v: grads.get(v, zero_like(v.data)) for v in inputs}


def backward_with_graph(root: Value) -> None:
    """`Value.backward(create_graph=True)`: add one recorded backward pass into every ``grad``.

    Each leaf's ``grad`` becomes a Value: a graph that can be differentiated again. A
    node made by an operation receives the number only, as plain ``backward()`` gives
    it, so that the one reference cycle this makes is leaf -> leaf.grad -> graph -> leaf
    (PyTorch documents the same one). Reset the leaves' grads (``model.zero_grad()``, or
    ``v.grad = 0.0``) when you are done with them, which breaks it; `valuegrad.grad` and
    `gradients` return derivatives without storing them, and make no cycle.
    """
    for v, g in gradients(root, None, create_graph=True).items():
        old = v.grad
        if v._operation is not None:
            g = g.data if isinstance(g, Value) else g
            v.grad = old + g if not isinstance(old, Value) else old.data + g
        else:
            v.grad = g if not isinstance(old, Value) and old == 0 else old + g
