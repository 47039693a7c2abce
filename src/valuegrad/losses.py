"""Loss functions on Values: mean squared error, hinge, binary cross-entropy, L2.

Each takes the model's outputs (Values, or numbers) and the targets (numbers or
Values) and returns one Value to call ``backward()`` on.

>>> from valuegrad import Value
>>> from valuegrad.losses import mse
>>> preds = [Value(0.5), Value(-0.5)]
>>> loss = mse(preds, [1.0, -1.0])      # (0.5-1)**2 + (-0.5+1)**2
>>> loss.data
0.5
>>> loss.backward(); preds[0].grad      # 2 * (0.5 - 1)
-1.0
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence, Union

from .value import Value

__all__ = ["binary_cross_entropy", "hinge", "l2", "mse"]

Scalar = Union[Value, float, int, numbers.Real]


def _as_value(x: object, what: str) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        hint = (
            " (a model with several outputs gives a list per sample)" if isinstance(x, (list, tuple)) else ""
        )
        raise TypeError(f"{what} must be a Value or a number, got {type(x).__name__}{hint}")
    return Value(x)


def _pairs(
    preds: Scalar | Sequence[Scalar], targets: Scalar | Sequence[Scalar], who: str
) -> tuple[list[Value], list[Any]]:
    if isinstance(preds, (Value, numbers.Real)):
        preds = [preds]
    if isinstance(targets, (Value, numbers.Real)):
        targets = [targets]
    if isinstance(preds, (str, bytes)) or not isinstance(preds, Sequence):
        preds = list(preds)  # type: ignore[arg-type]
    if isinstance(targets, (str, bytes)) or not isinstance(targets, Sequence):
        targets = list(targets)  # type: ignore[arg-type]
    if len(preds) == 0:
        raise ValueError(f"{who}: no predictions (empty list)")
    if len(preds) != len(targets):
        raise ValueError(f"{who}: {len(preds)} predictions but {len(targets)} targets")
    ps = [_as_value(p, f"{who}: prediction {i}") for i, p in enumerate(preds)]
    for i, t in enumerate(targets):
        if not isinstance(t, Value) and (isinstance(t, bool) or not isinstance(t, numbers.Real)):
            raise TypeError(f"{who}: target {i} must be a number or a Value, got {type(t).__name__}")
    return ps, list(targets)


def _total(terms: list[Value]) -> Value:
    # A plain left-to-right chain, as Python's sum() builds it (without its leading 0 + ...).
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def _reduce(terms: list[Value], reduction: str, who: str) -> Value:
    if reduction == "sum":
        return _total(terms)
    if reduction == "mean":
        return _total(terms) * (1.0 / len(terms))
    raise ValueError(f"{who}: reduction must be 'sum' or 'mean', got {reduction!r}")


def mse(
    preds: Scalar | Sequence[Scalar], targets: Scalar | Sequence[Scalar], reduction: str = "sum"
) -> Value:
    """Squared error ``sum((pred - target) ** 2)``: the notebook's loss.

    ``reduction="sum"`` (the default, as in the notebook) or ``"mean"`` (PyTorch's
    ``MSELoss`` default).
    """
    if reduction not in ("sum", "mean"):
        raise ValueError(f"mse: reduction must be 'sum' or 'mean', got {reduction!r}")
    ps, ts = _pairs(preds, targets, "mse")
    return _reduce([(p - t) ** 2 for p, t in zip(ps, ts)], reduction, "mse")


def hinge(scores: Scalar | Sequence[Scalar], targets: Scalar | Sequence[Scalar]) -> Value:
    """micrograd's max-margin loss: ``mean(relu(1 - y * score))`` with labels y in {-1, +1}.

    A sample costs nothing once its score has the right sign with a margin of 1.
    Labels must be -1 or +1 (for 0/1 labels use ``2*y - 1``).
    """
    ss, ys = _pairs(scores, targets, "hinge")
    for i, y in enumerate(ys):
        value = y.data if isinstance(y, Value) else y
        if value not in (-1, 1):
            raise ValueError(
                f"hinge: target {i} is {value!r}; labels must be -1 or +1 (for 0/1 labels use 2*y - 1)"
            )
    return _reduce([(1 + -y * s).relu() for s, y in zip(ss, ys)], "mean", "hinge")


def binary_cross_entropy(
    logits: Scalar | Sequence[Scalar], targets: Scalar | Sequence[Scalar], reduction: str = "mean"
) -> Value:
    """Binary cross-entropy on logits (PyTorch's ``BCEWithLogitsLoss``), targets in [0, 1].

    Per sample ``log(1 + exp(z)) - z * y``, computed as

        (z + |z|) / 2 - z * y + log(1 + exp(-|z|)),   |z| = relu(z) + relu(-z)

    so no exponential of a large positive number is ever taken: a logit of ±1000
    gives the exact loss and gradient. Writing ``(z + |z|) / 2`` rather than
    ``relu(z)`` keeps the gradient right at z = 0 (sigmoid(0) - y = 0.5 - y): the
    two kinks cancel there. The graph has no data-dependent branch, so it stays
    valid when replayed with new parameters (`valuegrad.compile`).
    """
    if reduction not in ("sum", "mean"):
        raise ValueError(f"binary_cross_entropy: reduction must be 'sum' or 'mean', got {reduction!r}")
    zs, ys = _pairs(logits, targets, "binary_cross_entropy")
    for i, y in enumerate(ys):
        value = y.data if isinstance(y, Value) else y
        if not 0 <= value <= 1:
            raise ValueError(f"binary_cross_entropy: target {i} is {value!r}; targets must be in [0, 1]")
    terms = []
    for z, y in zip(zs, ys):
        a = z.relu() + (-z).relu()
        terms.append((z + a) * 0.5 - z * y + (1 + (-a).exp()).log())
    return _reduce(terms, reduction, "binary_cross_entropy")


def l2(params: Sequence[Value], alpha: float) -> Value:
    """L2 regularisation ``alpha * sum(p * p)`` (micrograd's demo uses alpha = 1e-4).

    >>> from valuegrad import Value
    >>> l2([Value(3.0), Value(-4.0)], 0.5).data
    12.5
    """
    if (
        isinstance(alpha, bool)
        or not isinstance(alpha, numbers.Real)
        or not math.isfinite(alpha)
        or alpha < 0
    ):
        raise ValueError(f"l2: alpha must be a finite number >= 0, got {alpha!r}")
    ps = list(params)
    if not ps:
        raise ValueError("l2: no parameters (empty list)")
    for i, p in enumerate(ps):
        if not isinstance(p, Value):
            raise TypeError(f"l2: parameter {i} must be a Value, got {type(p).__name__}")
    return alpha * _total([p * p for p in ps])
