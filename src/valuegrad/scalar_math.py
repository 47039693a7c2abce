"""The functions the op table's formulas call, for plain numbers (int, float, Fraction, NumPy scalars).

Each one refuses to return a NaN or a complex number where the true result is
undefined (with an error that says why), returns IEEE's ``inf`` where a result
overflows (as PyTorch does), and is numerically stable where it matters.
`abs`, `relu`, `step`, `sign` and `inv` keep exact numbers exact (a Fraction
stays a Fraction); the others return floats, as `math` does.

>>> softplus(1000.0), sigmoid(-1000.0), power(10.0, 400)
(1000.0, 0.0, inf)
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from .formulas import check_backend
from .ops import FUNCTIONS

__all__ = sorted(FUNCTIONS)

abs = abs


def exp(x: Any) -> float:
    try:
        return math.exp(x)
    except OverflowError:  # IEEE's answer, as PyTorch gives: exp(1000) = inf
        return math.inf


def log(x: Any) -> float:
    if x <= 0:  # (a NaN passes, and propagates)
        raise ValueError(f"log is only defined for positive values, got {x!r}")
    return math.log(x)


def _power_text(x: Any, k: Any) -> str:
    # (-8) ** 0.333…, with the base in parentheses: -8 ** 0.333 would mean -(8 ** 0.333)
    base = f"({x!r})" if x < 0 else repr(x)
    return f"{base} ** {k!r}"


def power(x: Any, k: Any) -> Any:
    if x < 0 and not float(k).is_integer():  # Python answers (-8.0) ** 0.5 with a complex number
        raise ValueError(f"{_power_text(x, k)} is not a real number (negative base, fractional exponent)")
    try:
        return x**k  # 0.0 ** -1 raises ZeroDivisionError, as in Python
    except OverflowError:  # IEEE's answer, as exp(1000) and PyTorch: 10.0 ** 400 = inf
        odd = float(k).is_integer() and int(k) % 2 == 1
        return -math.inf if x < 0 and odd else math.inf


def vpower(x: Any, y: Any) -> Any:
    # With a Value exponent, d(x**y)/dy = x**y * log(x) exists only for x > 0 (a NaN passes and propagates).
    if x <= 0:
        raise ValueError(
            f"x ** y with a Value exponent y needs a positive base x, got x = {x!r}: "
            "d(x**y)/dy = x**y * log(x) is undefined otherwise (use a number exponent for x ** 2)"
        )
    return power(x, y)


def inv(x: Any) -> Any:
    # 1 / x, kept exact for integers (1 / 5 would be a float; an int graph's 1/y is a Fraction)
    return Fraction(1, x) if type(x) is int else 1 / x


tanh = math.tanh  # exact to 1.0 for large x (no overflow, no NaN)


def sigmoid(x: Any) -> float:
    # 1 / (1 + e^-x) overflows for x << 0; the two branches never exponentiate a large positive number.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def relu(x: Any) -> Any:
    return x if not x <= 0 else type(x)(0)  # keeps the number type; NaN stays NaN


def step(x: Any) -> int:
    return 0 if x <= 0 else 1  # d relu(x)/dx; 0 at x = 0 and 1 at NaN (the NaN flows on), as PyTorch


def sign(x: Any) -> Any:
    # d abs(x)/dx: 0 at x = 0, as PyTorch; NaN stays NaN
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0 if x == 0 else x


def _finite_angle(name: str, x: Any) -> None:
    if not math.isfinite(x):
        raise ValueError(f"{name} is not defined at {x!r}")


def sin(x: Any) -> float:
    _finite_angle("sin", x)
    return math.sin(x)


def cos(x: Any) -> float:
    _finite_angle("cos", x)
    return math.cos(x)


def sqrt(x: Any) -> float:
    if x < 0:
        raise ValueError(f"sqrt is only defined for x >= 0, got {x!r}")
    return math.sqrt(x)


def softplus(x: Any) -> float:
    # log(1 + e^x) overflows for large x; written as x + log(1 + e^-x) there, it never does.
    if x > 0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(exp(x))


check_backend(globals(), FUNCTIONS, "scalar (plain number)", "valuegrad/scalar_math.py")
