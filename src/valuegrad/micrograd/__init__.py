"""A drop-in for the micrograd package: run code written for micrograd unchanged.

Change only the imports::

    from micrograd.engine import Value               # before
    from micrograd.nn import Neuron, Layer, MLP
    from valuegrad.micrograd.engine import Value     # after
    from valuegrad.micrograd.nn import Neuron, Layer, MLP

``engine.Value`` is valuegrad's own `valuegrad.Value` (every result of an operation
is one, so there is nothing to wrap). ``nn`` has micrograd 0.1.0's classes with its
signatures, defaults and reprs, built on `valuegrad.nn`: with ``random.seed(s)`` a
program draws the same weights and computes the same losses as under micrograd.
Everything valuegrad adds is there too (``model.to_torch()``, ``model.save(path)``,
`valuegrad.draw_dot`, more operations on Values).
"""

from __future__ import annotations

from . import engine, nn

__all__ = ["engine", "nn"]
