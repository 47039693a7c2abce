"""The engine, in one import: ``from valuegrad.engine import Value`` (micrograd's module name).

valuegrad's engine is three files, each named for what it holds:

- `valuegrad.value`: the `Value` class: a number, its gradient, and the methods
  that perform each operation (written from the op table, `valuegrad.ops`);
- `valuegrad.backward`: ``backward()``, the chain rule at every node, users first,
  and `topological_order`;
- `valuegrad.higher_order`: gradients that are Values themselves (``create_graph=True``)
  and `gradients`, which computes them without touching ``.grad``.
"""

from __future__ import annotations

from .backward import gc_paused, topological_order
from .higher_order import gradients
from .value import Number, Value, one_like, zero_like

__all__ = ["Value", "Number", "gradients", "topological_order", "gc_paused", "zero_like", "one_like"]
