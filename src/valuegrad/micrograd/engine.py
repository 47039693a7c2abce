"""micrograd's ``engine`` module: its `Value` is valuegrad's own.

>>> from valuegrad.micrograd.engine import Value
>>> a, b = Value(2.0), Value(-3.0)
>>> c = a * b + a ** 2
>>> c.backward()
>>> c.data, a.grad, b.grad
(-2.0, 1.0, 2.0)
"""

from __future__ import annotations

from .. import Value

__all__ = ["Value"]
