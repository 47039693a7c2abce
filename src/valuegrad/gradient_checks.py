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

from .higher_order import gradients
from .value import Number, Value

__all__ = ["numerical_grad", "gradcheck", "gradgradcheck", "GradcheckError"]


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


# ---------------------------------------------------------------------------
# gradcheck / gradgradcheck: reverse mode against central differences
# ---------------------------------------------------------------------------


class GradcheckError(AssertionError):
    """Reverse-mode derivatives disagree with finite differences.

    An `AssertionError` (a check that failed, as `pytest` reports it), not a
    `ValueError`: bad arguments to `gradcheck` raise `TypeError`/`ValueError`
    instead. ``rows`` holds one ``(index, analytic, numeric, difference, ok)``
    per derivative checked, where ``index`` is ``i`` (d f / d input i) or
    ``(i, j)`` (d2 f / d input i d input j).
    """

    def __init__(self, message: str, rows: list[tuple[Any, float, float, float, bool]]) -> None:
        super().__init__(message)
        self.rows = rows


def _check_tolerances(**values: Any) -> None:
    for name, x in values.items():
        if isinstance(x, bool) or not isinstance(x, numbers.Real) or not (math.isfinite(x) and float(x) >= 0):
            raise ValueError(f"{name} must be a non-negative finite number, got {x!r}")
    if not values["eps"] > 0:
        raise ValueError(f"eps must be positive, got {values['eps']!r}")


def _numbers(inputs: Sequence[Number | Value]) -> list[Any]:
    if isinstance(inputs, (Value, numbers.Number)) or not isinstance(inputs, Sequence) or not inputs:
        raise TypeError(f"inputs must be a non-empty list of numbers or Values, got {inputs!r}")
    point = [x.data if isinstance(x, Value) else x for x in inputs]
    for i, x in enumerate(point):
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise TypeError(f"input {i} must be a number or a Value, got {type(x).__name__}: {x!r}")
    return point


def _call_f(f: Callable[..., Value | Number], point: Sequence[Any]) -> tuple[list[Value], Value | None]:
    xs = [Value(x) for x in point]
    out = f(*xs)
    if isinstance(out, Value):
        return xs, out
    if isinstance(out, bool) or not isinstance(out, numbers.Real):
        raise TypeError(f"f must return a scalar Value (or a number), got {type(out).__name__}: {out!r}")
    return xs, None


def _reverse_grad(f: Callable[..., Value | Number], point: Sequence[Any]) -> list[float]:
    xs, out = _call_f(f, point)
    if out is None:
        return [0.0] * len(xs)
    grads = gradients(out, xs)
    return [float(grads[x]) for x in xs]


def _compare(
    index: Any, analytic: Any, numeric: Any, atol: float, rtol: float
) -> tuple[Any, float, float, float, bool]:
    a, n = float(analytic), float(numeric)
    diff = a - n
    # written so that a NaN anywhere is a failure
    ok = abs(diff) <= atol + rtol * abs(n)
    return index, a, n, diff, ok


def _raise_if_failed(rows: list[tuple[Any, float, float, float, bool]], title: str, what: str) -> None:
    bad = [r for r in rows if not r[4]]
    if not bad:
        return
    width = max(len(what), *(len(str(r[0])) for r in rows))
    lines = [f"{title}: {len(bad)} of {len(rows)} derivatives differ"]
    lines.append(f"  {what:<{width}}  {'analytic':>24}  {'numeric':>24}  {'difference':>12}")
    for index, a, n, diff, ok in rows:
        mark = "" if ok else "   <-- MISMATCH"
        lines.append(f"  {index!s:<{width}}  {a!r:>24}  {n!r:>24}  {diff:>12.4g}{mark}")
    raise GradcheckError("\n".join(lines), rows)


def gradcheck(
    f: Callable[..., Value | Number],
    inputs: Sequence[Number | Value],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Check reverse-mode first derivatives of ``f(*inputs)`` against central differences.

    For each input i, the analytic d f / d input_i (`valuegrad.gradients`, no
    ``.grad`` is touched) must be within ``atol + rtol * |numeric|`` of
    ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)``. Returns True, or raises
    `GradcheckError` listing every input with the analytic number, the numeric
    number and their difference (mismatches marked). ``f`` is called with fresh
    leaf Values; ``inputs`` may be numbers or Values (only their data is read).
    Points where ``f`` is not differentiable (relu at 0) fail, as they should.

    >>> gradcheck(lambda x, y: (x * y).tanh() + y.exp(), [0.5, -1.0])
    True
    """
    _check_tolerances(eps=eps, atol=atol, rtol=rtol)
    point = _numbers(inputs)
    analytic = _reverse_grad(f, point)
    numeric = numerical_grad(f, point, h=eps)
    rows = [_compare(i, a, n, atol, rtol) for i, (a, n) in enumerate(zip(analytic, numeric))]
    _raise_if_failed(rows, f"gradcheck (eps={eps}, atol={atol}, rtol={rtol})", "input")
    return True


def gradgradcheck(
    f: Callable[..., Value | Number],
    inputs: Sequence[Number | Value],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Check first and second derivatives of ``f(*inputs)``: `gradcheck`, then the Hessian.

    The analytic Hessian entry (i, j) differentiates the gradient recorded with
    ``create_graph=True``; the numeric one is the central difference, in input j,
    of the ordinary (first-order) reverse-mode gradient's entry i. The two use
    different code paths of the engine (derivative formulas evaluated on Values
    versus on numbers). Also checks that the recorded gradient's values equal the
    ordinary gradient. Returns True or raises `GradcheckError` listing every entry.

    >>> gradgradcheck(lambda x, y: x * x * y + y.sigmoid(), [1.5, -0.5])
    True
    """
    gradcheck(f, inputs, eps=eps, atol=atol, rtol=rtol)
    point = _numbers(inputs)
    n = len(point)
    xs, out = _call_f(f, point)
    first = gradients(out, xs, create_graph=True) if out is not None else {}
    plain = _reverse_grad(f, point)
    rows = []
    for i, x in enumerate(xs):  # the recorded gradient is the gradient
        g = first.get(x, 0.0)
        rows.append(_compare(i, g.data if isinstance(g, Value) else g, plain[i], atol, rtol))
    _raise_if_failed(
        rows, "gradgradcheck: the create_graph=True gradient (analytic) differs from the plain one", "input"
    )

    hess: list[list[Any]] = []
    for x in xs:
        g = first.get(x)
        if isinstance(g, Value):
            second = gradients(g, xs)
            hess.append([second[y] for y in xs])
        else:
            hess.append([0.0] * n)
    numeric: list[list[float]] = [[0.0] * n for _ in range(n)]
    for j in range(n):
        up = _reverse_grad(f, [x + eps if k == j else x for k, x in enumerate(point)])
        down = _reverse_grad(f, [x - eps if k == j else x for k, x in enumerate(point)])
        for i in range(n):
            numeric[i][j] = (up[i] - down[i]) / (2 * eps)
    rows = [_compare((i, j), hess[i][j], numeric[i][j], atol, rtol) for i in range(n) for j in range(n)]
    _raise_if_failed(
        rows, f"gradgradcheck, second derivatives (eps={eps}, atol={atol}, rtol={rtol})", "inputs (i, j)"
    )
    return True
