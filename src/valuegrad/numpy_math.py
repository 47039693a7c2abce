"""The functions the op table's formulas call, for NumPy arrays (the compiler and the plots).

`functions(np)` gives them for the NumPy module ``np``; NumPy is imported by
whoever needs it, never by ``import valuegrad``. They follow `valuegrad.scalar_math`
element by element: the same stable branches (sigmoid, softplus), and run under
``numpy.errstate(divide="raise", invalid="raise")`` by the compiler, the same
domain errors instead of silent NaN.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from .formulas import check_backend
from .ops import FUNCTIONS, OPS

__all__ = ["NAMES", "functions"]

NAMES = (
    "exp", "log", "power", "vpower", "inv", "tanh", "sigmoid", "relu", "step",
    "sin", "cos", "sqrt", "abs", "sign", "softplus",
)  # fmt: skip
"""The functions `functions` provides (checked at import against the formulas' needs)."""


def functions(np: Any) -> SimpleNamespace:
    """The formula functions over NumPy arrays, as attributes (``functions(numpy).tanh``)."""

    def sigmoid(x: Any) -> Any:
        # The scalar engine's two stable branches, branch-free: e = exp(-|x|) never overflows.
        e = np.exp(-np.abs(x))
        return np.where(np.greater_equal(x, 0), 1.0 / (1.0 + e), e / (1.0 + e))

    def relu(x: Any) -> Any:
        return np.maximum(x, 0.0)

    def step(x: Any) -> Any:
        return np.greater(x, 0.0)

    def inv(x: Any) -> Any:
        return np.divide(1.0, x)

    def vpower(x: Any, y: Any) -> Any:
        # x ** y with a Value exponent: the base must be positive, as in valuegrad.scalar_math.vpower
        if not np.all(np.greater(x, 0)):
            raise ValueError(
                f"x ** y with a Value exponent y needs a positive base x, got x = {x!r}: "
                "d(x**y)/dy = x**y * log(x) is undefined otherwise"
            )
        return np.power(x, y)

    def softplus(x: Any) -> Any:
        return np.logaddexp(0.0, x)  # log(e^0 + e^x), stable for any x

    namespace = SimpleNamespace(
        exp=np.exp,
        log=np.log,
        power=np.power,
        vpower=vpower,
        inv=inv,
        tanh=np.tanh,
        sigmoid=sigmoid,
        relu=relu,
        step=step,
        sin=np.sin,
        cos=np.cos,
        sqrt=np.sqrt,
        abs=np.abs,
        sign=np.sign,
        softplus=softplus,
    )
    missing = sorted(set(NAMES) - set(vars(namespace)))
    if missing:
        users = [op.name for op in OPS if set(op.functions) & set(missing)]
        raise ImportError(
            f"valuegrad.numpy_math.functions() defines no {', '.join(missing)}, which NAMES lists and "
            f"ops {users} call: add them to the NumPy backend"
        )
    return namespace


check_backend(NAMES, FUNCTIONS, "NumPy", "NAMES and functions() in valuegrad/numpy_math.py")
