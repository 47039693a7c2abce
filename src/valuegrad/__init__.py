"""valuegrad: backpropagation you can see, check and trust.

A scalar `Value` records the operations applied to it; `Value.backward()` fills in
the gradient of the output with respect to every Value it depends on.

>>> from valuegrad import Value
>>> a, b = Value(2.0), Value(-3.0)
>>> L = (a * b + 10) * -2
>>> L.backward()
>>> L.data, a.grad, b.grad
(-8.0, 6.0, -4.0)

Submodules: `valuegrad.nn` (Neuron, Layer, MLP), `valuegrad.losses`,
`valuegrad.optim`, `valuegrad.data`, `valuegrad.viz` (draw_dot),
`valuegrad.gradcheck`, `valuegrad.functional` (grad, hessian, jvp) and
`valuegrad.compile`. The optional ones load their dependencies only when used.
"""

from __future__ import annotations

import importlib
from typing import Any

from .engine import Value, gradients, topological_order
from .gradcheck import numerical_grad

__version__ = "0.1.0"

# Names that live in other modules, loaded on first use so that `import valuegrad`
# stays fast and needs nothing beyond the standard library.
_LAZY = {
    "trace": "viz",
    "draw_dot": "viz",
    "grad": "functional",
    "hessian": "functional",
    "hvp": "functional",
    "jvp": "functional",
    "Dual": "functional",
    "compile": "compile",
}



def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        if name in ("nn", "losses", "optim", "data", "viz", "functional", "examples", "ops", "cli"):
            return importlib.import_module(f".{name}", __name__)
        raise AttributeError(f"module 'valuegrad' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


__all__ = [
    "Value",
    "gradients",
    "topological_order",
    "numerical_grad",
    *_LAZY,
]
