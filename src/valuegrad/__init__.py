"""valuegrad: backpropagation you can see, check and trust.

A scalar `Value` records the operations applied to it; `Value.backward()` fills in
the gradient of the output with respect to every Value it depends on.

>>> from valuegrad import Value
>>> a, b = Value(2.0), Value(-3.0)
>>> L = (a * b + 10) * -2
>>> L.backward()
>>> L.data, a.grad, b.grad
(-8.0, 6.0, -4.0)

Modules: `valuegrad.nn` (Neuron, Layer, MLP), `valuegrad.losses`,
`valuegrad.optim`, `valuegrad.data`, `valuegrad.train`, `valuegrad.viz`
(`draw_dot`), `valuegrad.functional` (`grad`, `hessian`, `jvp`), `valuegrad.gradient_checks`
(`gradcheck`), `valuegrad.compiler` (`compile`), `valuegrad.micrograd` (micrograd's API).
``import valuegrad`` loads the engine only; everything else loads on first use, and
optional dependencies (Graphviz, matplotlib, NumPy, tqdm) only in the functions that need them.

The engine (`valuegrad.value`, `valuegrad.backward`) is plain Python, compiled by
Cython when valuegrad was installed with a C compiler present. `NATIVE` says
which runs; set the environment variable ``VALUEGRAD_PURE_PYTHON=1`` before
importing valuegrad to run the plain-Python files even when compiled ones exist.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# First: it decides whether the engine files load compiled or as plain Python.
from ._engine_choice import NATIVE

# isort: split
from .backward import topological_order
from .dual import Dual
from .higher_order import gradients
from .value import Value

# Checks that the NumPy backend names every function the formulas call (NumPy is not imported).
from . import numpy_math as _numpy_math  # noqa: F401  # isort: skip

if TYPE_CHECKING:  # pragma: no cover
    from . import data, losses, nn, optim
    from .compiler import compile
    from .functional import grad, hessian, hvp, jvp, value_and_grad
    from .gradient_checks import GradcheckError, gradcheck, gradgradcheck, numerical_grad
    from .viz import draw_dot, trace

__version__ = "0.1.0"

# Loaded on first use, so that `import valuegrad` loads only the engine: name -> its module.
_LAZY = {
    "compile": "compiler",
    "grad": "functional",
    "value_and_grad": "functional",
    "hessian": "functional",
    "hvp": "functional",
    "jvp": "functional",
    "gradcheck": "gradient_checks",
    "gradgradcheck": "gradient_checks",
    "numerical_grad": "gradient_checks",
    "GradcheckError": "gradient_checks",
    "draw_dot": "viz",
    "trace": "viz",
}
_SUBMODULES = ("data", "losses", "nn", "optim", "viz", "train", "plot", "examples", "ops", "engine", "cli")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value  # once loaded, a plain attribute
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'valuegrad' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "NATIVE",
    "Dual",
    "GradcheckError",
    "Value",
    "compile",
    "data",
    "draw_dot",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "gradients",
    "hessian",
    "hvp",
    "jvp",
    "losses",
    "nn",
    "numerical_grad",
    "optim",
    "topological_order",
    "trace",
    "value_and_grad",
]
