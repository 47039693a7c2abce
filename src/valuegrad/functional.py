"""Derivatives as functions: `grad`, `value_and_grad`, `hessian`, `hvp` (reverse mode), `jvp` (forward).

In the style of JAX and HIPS autograd, ``grad(f)`` is a new function that returns the
derivative of ``f``. It nests: ``grad(grad(f))`` is the second derivative, because
when a `grad` runs inside another one its backward pass is recorded as Values
(``create_graph=True``) that the outer one differentiates again.

    >>> from valuegrad.functional import grad
    >>> f = lambda x: x ** 3             # f'(x) = 3 x**2, f''(x) = 6 x
    >>> grad(f)(2.0), grad(grad(f))(2.0)
    (12.0, 12.0)

None of these functions reads or writes any ``.grad`` attribute, so they can be used
in the middle of a training loop.

Forward mode (`Dual`, `jvp`) carries a tangent next to each number instead of
recording a graph: one pass gives the derivative along one direction. Both modes
read the derivative formulas from the op table (`valuegrad.ops`); none is written
here.
"""

from __future__ import annotations

import functools
import numbers
from typing import Any, Callable, Sequence, Union

from . import ops
from .dual import Dual, _number
from .higher_order import gradients
from .value import Value, _node, zero_like

__all__ = ["grad", "value_and_grad", "hessian", "hvp", "jvp", "Dual"]

# How many `grad`/`hessian`/`hvp` calls are running right now (one per nesting level).
# While it is positive, results stay Values so that the enclosing call can
# differentiate them. A module-level counter: not thread-safe (nor is the engine's
# bookkeeping of a graph under construction); use one thread per nested computation.
_depth = 0

Argnums = Union[int, Sequence[int]]


def _check_argnums(argnums: Argnums) -> tuple[tuple[int, ...], bool]:
    """``argnums`` as a tuple of distinct non-negative ints, and whether it was a single int."""
    if isinstance(argnums, bool):
        raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}")
    if isinstance(argnums, int):
        nums: tuple[int, ...] = (argnums,)
        single = True
    elif isinstance(argnums, (tuple, list)) and argnums:
        nums, single = tuple(argnums), False
    else:
        raise TypeError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    for i in nums:
        if isinstance(i, bool) or not isinstance(i, int) or i < 0:
            raise TypeError(f"argnums must hold non-negative ints, got {i!r} in {argnums!r}")
    if len(set(nums)) != len(nums):
        raise ValueError(f"argnums must not repeat an argument, got {argnums!r}")
    return nums, single


def _variable(x: Any, where: str) -> Value:
    """A new node to differentiate with respect to, standing for the argument ``x``.

    A number becomes a new leaf. A Value (typically the variable of an enclosing
    `grad`) becomes a new identity node on top of it: differentiating with respect
    to that node, not to ``x`` itself, keeps this level's derivative apart from the
    enclosing level's (no "perturbation confusion"), while the enclosing level can
    still differentiate through it.
    """
    if isinstance(x, Value):
        return _node(x.data, ops.IDENTITY, x, None)
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{where} must be a number or a Value, got {type(x).__name__}: {x!r}")
    return Value(x)


def _check_output(out: Any, what: str) -> Value:
    """The function's output, which must be a Value.

    A plain number is refused rather than read as a constant with derivative 0:
    it is far more often a Value turned into a float on the way (``float(x)``,
    ``math.sin(x)``), and a silent 0 would hide that. A constant function can
    return ``Value(3.0)``.
    """
    if isinstance(out, Value):
        return out
    if isinstance(out, numbers.Real) and not isinstance(out, bool):
        raise TypeError(
            f"{what} returned a plain number ({out!r}), not a Value: it does not depend on its "
            "inputs through valuegrad operations. Did it call float() or a math function on a Value? "
            "(Use x.exp(), x.log(), x.tanh(), ...; a constant function can return Value(c).)"
        )
    raise TypeError(f"{what} must return a scalar Value, got {type(out).__name__}: {out!r}")


def _finish(g: Any, nested: bool) -> Any:
    """A derivative as the caller gets it: a Value when nested, else a plain number."""
    if nested:
        return g if isinstance(g, Value) else Value(g)
    return g.data if isinstance(g, Value) else g


def _call(
    f: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any], nums: Sequence[int], name: str
) -> tuple[Any, list[Value], bool]:
    """Run ``f`` with fresh variables at ``nums``; returns (output, variables, nested)."""
    global _depth
    for i in nums:
        if i >= len(args):
            raise ValueError(
                f"{name}: argnums asks for argument {i}, but the function was called with {len(args)}"
            )
    nested = _depth > 0 or any(isinstance(args[i], Value) for i in nums)
    call_args = list(args)
    variables = []
    for i in nums:
        v = _variable(args[i], f"{name}: argument {i}")
        call_args[i] = v
        variables.append(v)
    _depth += 1
    try:
        out = f(*call_args, **kwargs)
    finally:
        _depth -= 1
    return out, variables, nested


def _first_derivatives(out: Value, variables: list[Value], create_graph: bool) -> list[Any]:
    grads = gradients(out, variables, create_graph=create_graph)
    return [grads[v] for v in variables]


def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., tuple[Any, Any]]:
    """Like `grad`, but the new function returns ``(f(*args), derivative)`` from one evaluation.

    >>> value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    (12.0, (4.0, 3.0))
    """
    nums, single = _check_argnums(argnums)
    name = getattr(f, "__name__", "f")

    @functools.wraps(f)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        out, variables, nested = _call(f, args, kwargs, nums, "value_and_grad")
        out_value = _check_output(out, f"value_and_grad's function {name}")
        grads = [_finish(g, nested) for g in _first_derivatives(out_value, variables, nested)]
        value = out_value if nested else out_value.data
        return value, (grads[0] if single else tuple(grads))

    return value_and_grad_f


def grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The function that computes d f / d (argument ``argnums``) of a scalar function ``f``.

    ``f`` takes numbers or Values and returns a scalar Value (a plain number is
    refused: it usually means a Value went through ``float()`` or ``math.*``).
    ``argnums`` is an int, or a tuple of ints for a tuple of derivatives; other
    arguments (data, a model) are passed through unchanged.

    The result is a plain number when the call is outermost (no enclosing `grad`
    running) and the differentiated arguments are numbers; otherwise it is a Value
    whose graph is the backward pass, so it can be differentiated again (or drawn).

    >>> grad(lambda x, y: x * y + y.exp(), argnums=(0, 1))(3.0, 0.0)
    (0.0, 4.0)
    >>> grad(lambda x: x * grad(lambda y: x * y)(2.0))(3.0)   # d/dx (x * x) = 2 x
    6.0

    Never touches ``.grad``. Nested calls rely on a module-level counter: not thread-safe.
    """
    nums, single = _check_argnums(argnums)
    name = getattr(f, "__name__", "f")

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        out, variables, nested = _call(f, args, kwargs, nums, "grad")
        out_value = _check_output(out, f"grad's function {name}")
        grads = [_finish(g, nested) for g in _first_derivatives(out_value, variables, nested)]
        return grads[0] if single else tuple(grads)

    return grad_f


def _point(xs: Any, name: str) -> list[Any]:
    if isinstance(xs, (Value, numbers.Number)) or not isinstance(xs, Sequence):
        raise TypeError(f"{name} takes a list of inputs (f is called as f(*xs)), got {type(xs).__name__}")
    if not xs:
        raise ValueError(f"{name} needs at least one input")
    return list(xs)


def hessian(f: Callable[..., Any]) -> Callable[[Sequence[Any]], list[list[Any]]]:
    """The function ``xs -> [[d2 f / dx_i dx_j for j] for i]`` for ``f`` called as ``f(*xs)``.

    Reverse over reverse: one backward pass recorded as a graph, then one backward
    pass through that graph per input; meant for a few inputs. Over Fractions the
    entries of a polynomial's Hessian are exact.

    >>> hessian(lambda x, y: x * x * y)([3.0, 2.0])   # [[2y, 2x], [2x, 0]]
    [[4.0, 6.0], [6.0, 0.0]]
    """
    name = getattr(f, "__name__", "f")

    def hessian_f(xs: Sequence[Any]) -> list[list[Any]]:
        point = _point(xs, "hessian")
        out, variables, nested = _call(f, point, {}, range(len(point)), "hessian")
        out_value = _check_output(out, f"hessian's function {name}")
        rows = []
        for g in _first_derivatives(out_value, variables, True):
            if isinstance(g, Value):
                row = _first_derivatives(g, variables, nested)
            else:  # d f / dx_i is a constant zero: so is its row
                row = [zero_like(v.data) for v in variables]
            rows.append([_finish(h, nested) for h in row])
        return rows

    return hessian_f


def hvp(f: Callable[..., Any]) -> Callable[[Sequence[Any], Sequence[Any]], list[Any]]:
    """The function ``(xs, v) -> H(xs) @ v``: the Hessian of ``f(*xs)`` times a vector, never forming H.

    Two backward passes: the gradient ``g`` recorded as a graph, then the gradient
    of the scalar ``g · v``. The cost does not grow with the number of inputs.

    >>> hvp(lambda x, y: x * x * y)([3.0, 2.0], [1.0, 0.0])   # the first column of H
    [4.0, 6.0]
    """
    name = getattr(f, "__name__", "f")

    def hvp_f(xs: Sequence[Any], v: Sequence[Any]) -> list[Any]:
        point = _point(xs, "hvp")
        direction = _point(v, "hvp's vector")
        if len(direction) != len(point):
            raise ValueError(f"hvp: {len(point)} inputs but a vector of length {len(direction)}")
        for i, t in enumerate(direction):
            if isinstance(t, bool) or not isinstance(t, (numbers.Real, Value)):
                raise TypeError(f"hvp: vector entry {i} must be a number, got {type(t).__name__}: {t!r}")
        out, variables, nested = _call(f, point, {}, range(len(point)), "hvp")
        nested = nested or any(isinstance(t, Value) for t in direction)
        out_value = _check_output(out, f"hvp's function {name}")
        dot: Any = 0
        for g, t in zip(_first_derivatives(out_value, variables, True), direction):
            if isinstance(g, Value):
                dot = g * t + dot
        if not isinstance(dot, Value):
            return [_finish(zero_like(x.data), nested) for x in variables]
        return [_finish(h, nested) for h in _first_derivatives(dot, variables, nested)]

    return hvp_f


def jvp(f: Callable[..., Any], inputs: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*inputs), directional derivative of f along tangents)`` in one forward pass.

    The directional derivative is ``Σ_i (d f / d input_i) · tangents[i]``: the
    dot product of the gradient with the tangent, computed without a backward
    pass by running ``f`` on `Dual` numbers. Inputs may be numbers or Values (their
    ``data`` is used); no graph is recorded.

    >>> jvp(lambda x, y: x * y, [3.0, 4.0], [1.0, 0.0])   # (xy, d(xy)/dx = y)
    (12.0, 4.0)
    """
    point = _point(inputs, "jvp")
    direction = _point(tangents, "jvp's tangents")
    if len(point) != len(direction):
        raise ValueError(f"jvp: {len(point)} inputs but {len(direction)} tangents")
    duals = []
    for i, (x, t) in enumerate(zip(point, direction)):
        x = x.data if isinstance(x, Value) else x
        if not _number(x):
            raise TypeError(f"jvp: input {i} must be a number or a Value, got {type(x).__name__}: {x!r}")
        if not _number(t):
            raise TypeError(f"jvp: tangent {i} must be a number, got {type(t).__name__}: {t!r}")
        duals.append(Dual(x, t))
    out = f(*duals)
    if isinstance(out, Dual):
        return out.primal, out.tangent
    name = getattr(f, "__name__", "f")
    if _number(out):
        raise TypeError(
            f"jvp's function {name} returned a plain number ({out!r}), not a Dual: it does not depend "
            "on its inputs through valuegrad operations. Did it call float() or a math function on its input?"
        )
    raise TypeError(
        f"jvp's function {name} must return a scalar (a Dual or a number), got {type(out).__name__}"
    )
