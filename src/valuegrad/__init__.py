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
(`draw_dot`), `valuegrad.functional` (`grad`, `hessian`, `jvp`), `valuegrad.compiler`
(`valuegrad.compile` is its entry point; `Compiled`, `DomainError` and the rest are
``from valuegrad.compiler import ...``). `valuegrad.gradcheck` is the function of the
module of the same name (as `torch.autograd.gradcheck`); import its other names with
``from valuegrad.gradcheck import ...``. Optional dependencies (Graphviz,
matplotlib, NumPy, tqdm) are imported only by the functions that need them.

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
from . import data, losses, nn, optim
from .backward import topological_order
from .compiler import compile
from .dual import Dual
from .functional import grad, hessian, hvp, jvp, value_and_grad
from .gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from .higher_order import gradients
from .value import Value

if TYPE_CHECKING:  # pragma: no cover
    from .viz import draw_dot, trace

__version__ = "0.1.0"

# The drawing module is loaded on first use: `import valuegrad` stays fast.
_LAZY = {"trace": "viz", "draw_dot": "viz"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    if name in ("viz", "train", "plot", "examples", "ops", "engine", "cli"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'valuegrad' has no attribute {name!r}")


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
