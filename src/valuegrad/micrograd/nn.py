"""micrograd's ``nn`` module: `Module`, `Neuron`, `Layer`, `MLP`, built on `valuegrad.nn`.

micrograd 0.1.0's signatures, defaults and reprs: ``Neuron(nin, nonlin=True)``,
``Layer(nin, nout, **kwargs)`` (the keywords go to every neuron) and
``MLP(nin, nouts)`` with ReLU hidden layers and a linear last layer. Biases start at
zero and every weight is ``random.uniform(-1, 1)`` from Python's global generator,
layer by layer, neuron by neuron, weight by weight, so that after
``random.seed(s)`` a model has exactly the weights micrograd's would have.

>>> import random
>>> random.seed(1337)
>>> model = MLP(2, [16, 16, 1])
>>> model
MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2), \
ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2), \
ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2)], Layer of [ReLUNeuron(16), \
ReLUNeuron(16), ReLUNeuron(16), ReLUNeuron(16), ReLUNeuron(16), ReLUNeuron(16), ReLUNeuron(16), \
ReLUNeuron(16), ReLUNeuron(16), ReLUNeuron(16), ReLUNeuron(16), ReLUNeuron(16), ReLUNeuron(16), \
ReLUNeuron(16), ReLUNeuron(16), ReLUNeuron(16)], Layer of [LinearNeuron(16)]]
>>> len(model.parameters())
337

Where valuegrad differs, it is where micrograd fails or is silently wrong: the
inputs may be any iterable, read once (micrograd's first neuron would use up a
generator and leave nothing for the others), a one-neuron hidden layer works
(``MLP(2, [16, 1, 1])`` is a `TypeError` in micrograd), and a wrong input raises an
error naming it. The classes are `valuegrad.nn`'s, so a model here also has
``to_torch()``, ``save(path)``, ``predict(x)`` and ``named_parameters()``.
"""

from __future__ import annotations

import random
from typing import Any, TypeVar

from .. import nn as _nn
from .engine import Value

__all__ = ["MLP", "Layer", "Module", "Neuron", "Value"]  # Value: micrograd.nn has it too

_M = TypeVar("_M", bound="MLP")


class Module(_nn.Module):
    """micrograd's base class: ``parameters()`` (none unless a subclass says) and ``zero_grad()``."""

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0, as micrograd does (the int 0)."""
        for p in self.parameters():
            p.grad = 0


class Neuron(_nn.Neuron, Module):
    """``relu(b + w1*x1 + ... + wn*xn)``, or no ReLU with ``nonlin=False``; ``b`` starts at 0.

    >>> Neuron(3), Neuron(3, nonlin=False)
    (ReLUNeuron(3), LinearNeuron(3))
    """

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        super().__init__(nin, "relu" if nonlin else "linear", bias_init="zero", rng=random)

    @property
    def nonlin(self) -> bool:
        """micrograd's switch: True for a ReLU after the sum, False for none (``activation="linear"``)."""
        return self.activation != "linear"

    @nonlin.setter
    def nonlin(self, on: bool) -> None:
        self.activation = "relu" if on else "linear"


class Layer(_nn.Layer, Module):
    """``nout`` neurons, each made by ``Neuron(nin, **kwargs)``: one output is a bare Value.

    >>> Layer(3, 2, nonlin=False)
    Layer of [LinearNeuron(3), LinearNeuron(3)]
    """

    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        _nn._check_int(nout, "nout")
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]


class MLP(_nn.MLP, Module):
    """micrograd's multi-layer perceptron: ReLU on every layer but the last, which is linear."""

    def __init__(self, nin: int, nouts: list[int]) -> None:
        _nn._check_int(nin, "nin")
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, (list, tuple)) or not nouts:
            raise TypeError(f"nouts must be a non-empty list of layer sizes, got {nouts!r:.60}")
        sizes = [nin, *nouts]
        last = len(nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != last) for i in range(len(nouts))]

    @classmethod
    def _with_architecture(
        cls: type[_M], nin: int, nouts: list[int], activation: str, last_activation: str
    ) -> _M:
        # MLP.load / from_dict / from_torch: only micrograd's architecture fits this class,
        # and building it must not use up numbers of the global generator.
        if last_activation != "linear" or (len(nouts) > 1 and activation != "relu"):
            raise ValueError(
                "a micrograd MLP has ReLU hidden layers and a linear last layer; this one has "
                f"activation={activation!r}, last_activation={last_activation!r}: "
                "use valuegrad.nn.MLP for it"
            )
        state = random.getstate()
        try:
            return cls(nin, nouts)
        finally:
            random.setstate(state)
