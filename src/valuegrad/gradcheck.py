"""Checking gradients: finite differences ("nudge one input, watch the output").

The notebook's "manual backpropagation" section estimates dL/dd by nudging ``d``
by ``h`` and measuring how far ``L`` moves. `numerical_grad` does that for every
input of a function; comparing its answer with `Value.backward` is how every
gradient in valuegrad is tested.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Sequence

from .engine import Number, Value

__all__ = ["numerical_grad"]


def _output_data(out: Any) -> Any:
    return out.data if isinstance(out, Value) else out


def numerical_grad(
    f: Callable[..., Value | Number],
    inputs: Sequence[Number | Value],
    h: float = 1e-6,
    method: str = "central",
) -> list[float]:
    """Finite-difference estimate of d f / d input for each input.

    ``f`` is called with one Value per input (as ``f(*values)``) and returns a
    Value (or a number). ``method="forward"`` uses ``(f(x + h) - f(x)) / h``, as
    the notebook does; ``"central"`` (the default) uses
    ``(f(x + h) - f(x - h)) / (2h)``, whose error shrinks with h**2 instead of h.

    >>> numerical_grad(lambda d, c, f: (d + c) * f, [-6.0, 10.0, -2.0], h=0.001, method="forward")[0]
    -2.000000000000668
    """
    if method not in ("central", "forward"):
        raise ValueError(f"method must be 'central' or 'forward', got {method!r}")
    if isinstance(h, bool) or not isinstance(h, numbers.Real) or not (math.isfinite(h) and h > 0):
        raise ValueError(f"h must be a positive finite number, got {h!r}")
    point = [x.data if isinstance(x, Value) else x for x in inputs]
    for i, x in enumerate(point):
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise TypeError(f"input {i} must be a number or a Value, got {type(x).__name__}: {x!r}")

    def at(i: int, delta: float) -> Any:
        args = [Value(x + delta) if j == i else Value(x) for j, x in enumerate(point)]
        return _output_data(f(*args))

    if method == "forward":
        base = _output_data(f(*[Value(x) for x in point]))
        return [float((at(i, h) - base) / h) for i in range(len(point))]
    return [float((at(i, h) - at(i, -h)) / (2 * h)) for i in range(len(point))]
