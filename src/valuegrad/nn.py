"""Neural networks made of Values: `Neuron`, `Layer`, `MLP`, and saving them to JSON.

The notebook's multi-layer perceptron, in the shape PyTorch users know:

>>> from valuegrad import nn
>>> model = nn.MLP(3, [4, 4, 1], seed=0)
>>> model
MLP of [Layer of [TanhNeuron(3), TanhNeuron(3), TanhNeuron(3), TanhNeuron(3)], \
Layer of [TanhNeuron(4), TanhNeuron(4), TanhNeuron(4), TanhNeuron(4)], Layer of [TanhNeuron(4)]]
>>> len(model.parameters())
41
>>> out = model([2.0, 3.0, -1.0])    # one output: a Value
>>> -1 < out.data < 1
True

A neuron computes ``b + w1*x1 + w2*x2 + ...`` (one multiplication and one addition
node per input, in that order, exactly as micrograd builds it) and then its
activation: ``"tanh"`` (the notebook's choice, on every layer), ``"relu"``,
``"sigmoid"`` or ``"linear"`` (no activation node at all).

Initial values. Every weight is drawn from Uniform(-1, 1) by a `random.Random`:
pass ``seed=`` (or your own ``rng=``) for a reproducible network, or call
`manual_seed` to seed the module's default generator. ``rng=random`` (the module
itself) draws from Python's global generator, the one ``random.seed`` seeds, as
micrograd does. Every neuron draws its own weights (the Julia package the notebook
comes from re-seeds per neuron, so all the neurons of a layer start identical and
learn identical features; not here).

Biases are drawn from Uniform(-1, 1) too by default (``bias_init="uniform"``: the
notebook's and Karpathy's lecture's choice). ``bias_init="zero"`` starts them at 0
as the micrograd package does; with it, ``MLP(..., seed=s, bias_init="zero")`` draws
exactly the weights ``random.seed(s); micrograd.nn.MLP(...)`` draws, because no
random number is spent on biases and `random.Random.uniform` is the same stream.
`valuegrad.micrograd` packages exactly that (``rng=random``, ReLU hidden layers, a
linear last layer, zero biases) as micrograd's own classes, built on these.

Inputs. A model takes any iterable of numbers or Values (a list, a tuple, a NumPy
row, a generator), read once: every neuron sees the same inputs.

PyTorch. `MLP.to_torch` makes the same network as a float64 ``torch.nn.Sequential``
and `MLP.from_torch` brings one back, parameter for parameter (torch is imported
by these two methods only; their code is in `valuegrad.torch_bridge`).

Files. `MLP.save` writes JSON (a format name, a version, the architecture and every
parameter); `MLP.load` reads it back, validating everything before building
anything, and raises `ModelFileError` for any bad file, naming the place in the
file the way one would write it in Python (``parameters[0][1].w[2]``: layer 0,
neuron 1, weight 2). No pickle: loading a file never runs code. Floats are
written with ``repr``, so they round-trip exactly. The code that writes, reads and
checks the files is in `valuegrad.model_files`.
"""

from __future__ import annotations

import numbers
import operator
import os
import random
import types
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar, Union

from . import model_files, ops, torch_bridge
from .model_files import (
    FORMAT,
    FORMAT_VERSION,
    MAX_FILE_BYTES,
    MAX_LAYERS,
    MAX_PARAMETERS,
    ModelFileError,
    _finite_number,
)
from .value import Value, zero_like

__all__ = [
    "ACTIVATIONS",
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_FILE_BYTES",
    "MAX_LAYERS",
    "MAX_PARAMETERS",
    "MLP",
    "Layer",
    "ModelFileError",
    "Module",
    "Neuron",
    "manual_seed",
]

Input = Union[Value, float, int, numbers.Real]
RandomSource = Union[random.Random, types.ModuleType]
"""A `random.Random`, or the `random` module itself (Python's global generator)."""
_M = TypeVar("_M", bound="MLP")

ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    "tanh": Value.tanh,
    "relu": Value.relu,
    "sigmoid": Value.sigmoid,
    "linear": None,
}
"""Activation name -> the Value method applied after ``b + w·x`` (None: no node at all)."""

_ACTIVATION_OPS: dict[str, ops.Op | None] = {
    "tanh": ops.TANH,
    "relu": ops.RELU,
    "sigmoid": ops.SIGMOID,
    "linear": None,
}
_REPR_NAMES = {"tanh": "Tanh", "relu": "ReLU", "sigmoid": "Sigmoid", "linear": "Linear"}

# --- random initial values ---------------------------------------------------

_default_rng = random.Random()


def manual_seed(seed: int) -> None:
    """Seed the generator used by networks built without ``seed=`` or ``rng=``.

    >>> manual_seed(0); a = MLP(2, [3]).parameters()
    >>> manual_seed(0); b = MLP(2, [3]).parameters()
    >>> [p.data for p in a] == [p.data for p in b]
    True
    """
    _check_int(seed, "seed", minimum=None)
    _default_rng.seed(seed)


def _resolve_rng(seed: int | None, rng: RandomSource | None) -> RandomSource:
    if seed is not None and rng is not None:
        raise ValueError("pass either seed= or rng=, not both")
    if rng is not None:
        if rng is not random and not isinstance(rng, random.Random):
            raise TypeError(
                "rng must be a random.Random, or the random module itself for Python's global "
                f"generator, got {type(rng).__name__}: {rng!r:.60}"
            )
        return rng
    if seed is not None:
        _check_int(seed, "seed", minimum=None)
        return random.Random(seed)
    return _default_rng


def _check_int(value: object, what: str, minimum: int | None = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}: {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value}")


def _check_activation(name: object, what: str = "activation") -> str:
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, ACTIVATIONS))}; got {name!r}")
    return name


def _read_inputs(x: object, nin: int, who: str) -> list[Input]:
    """The inputs ``x`` as a list, read once, after checking them; TypeError/ValueError naming the problem.

    Any iterable with an order will do (a list, a tuple, a NumPy row, a generator);
    a set has no order, so the i-th input would not meet the i-th weight.
    """
    if isinstance(x, (Value, numbers.Number, str, bytes, bytearray, Mapping, set, frozenset)) or not (
        isinstance(x, Iterable)
    ):
        raise TypeError(
            f"{who} takes a list of {nin} numbers or Values (or any ordered iterable: a tuple, "
            f"a NumPy row, a generator), got {type(x).__name__}: {x!r:.80}"
            + (" (wrap a single input in a list: [x])" if nin == 1 else "")
        )
    try:
        xs: list[Any] = x if type(x) is list else list(x)
    except TypeError as e:  # iter() accepted it but iterating failed, e.g. a 0-d NumPy array
        raise TypeError(f"{who} cannot read its inputs from {type(x).__name__}: {e}") from None
    if len(xs) != nin:
        raise ValueError(f"{who} expects {nin} inputs, got {len(xs)}")
    for i, v in enumerate(xs):
        t = type(v)
        if t is float or t is Value or t is int:
            continue
        if isinstance(v, bool) or not isinstance(v, (Value, numbers.Real)):
            raise TypeError(f"{who} input {i} must be a number or a Value, got {type(v).__name__}: {v!r:.60}")
    return xs


# --- modules -----------------------------------------------------------------


class Module:
    """Base class: something with parameters (leaf Values that training changes).

    Subclasses override `parameters` (micrograd's way) or `named_parameters`,
    and ``__call__``.

    >>> class Scale(Module):
    ...     def __init__(self) -> None:
    ...         self.k = Value(2.0)
    ...     def __call__(self, x: Value) -> Value:
    ...         return self.k * x
    ...     def parameters(self) -> list[Value]:
    ...         return [self.k]
    >>> Scale().named_parameters()
    [('0', Value(data=2.0, grad=0.0))]
    >>> Module().parameters()
    []
    """

    def __call__(self, x: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define __call__")

    def parameters(self) -> list[Value]:
        """The trainable Values, in a fixed order (none for a module that defines neither method)."""
        if type(self).named_parameters is Module.named_parameters:
            return []  # micrograd's base Module: no parameters
        return [p for _, p in self.named_parameters()]

    def named_parameters(self) -> list[tuple[str, Value]]:
        """``(name, Value)`` for every parameter, in `parameters` order."""
        return [(str(i), p) for i, p in enumerate(self.parameters())]

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to zero (call it before each ``backward()``).

        Only parameters need it. ``backward()`` adds into ``.grad``, and parameters
        are the only Values that live from one training step to the next: every
        other node (the inputs' products, the sums, the activations, the loss) is
        built afresh by the next forward pass, with a zero gradient. Forgetting
        this call makes each step use the sum of all the gradients so far.
        """
        for p in self.parameters():
            p.grad = zero_like(p.data)

    def state_dict(self) -> dict[str, float]:
        """Every parameter's value by name, PyTorch style (``"layers.0.neurons.1.w.2"``)."""
        return {name: float(p.data) for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set every parameter from a `state_dict`; all-or-nothing.

        The names must be exactly this module's and every value a finite number;
        otherwise `ModelFileError` is raised and no parameter changes.
        """
        if not isinstance(state, Mapping):
            raise ModelFileError(
                f"a state dict must be a mapping of names to numbers, got {type(state).__name__}"
            )
        named = self.named_parameters()
        names = [n for n, _ in named]
        missing = [n for n in names if n not in state]
        name_set = set(names)
        unexpected = [k for k in state if k not in name_set]
        if missing or unexpected:
            raise ModelFileError(
                "state dict does not fit this model: "
                + (f"missing {missing[:5]}{' ...' if len(missing) > 5 else ''}" if missing else "")
                + ("; " if missing and unexpected else "")
                + (
                    f"unexpected {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}"
                    if unexpected
                    else ""
                )
            )
        values = [_finite_number(state[n], n) for n in names]
        for (_, p), v in zip(named, values):
            p.data = v


class Neuron(Module):
    """One neuron: ``activation(b + w1*x1 + ... + wn*xn)``.

    >>> n = Neuron(2, activation="linear", seed=1)
    >>> n.w[0].data = 2.0; n.w[1].data = -1.0; n.b.data = 0.5
    >>> n([1.0, 3.0]).data
    -0.5
    """

    def __init__(
        self,
        nin: int,
        activation: str = "tanh",
        *,
        bias_init: str = "uniform",
        seed: int | None = None,
        rng: RandomSource | None = None,
    ) -> None:
        _check_int(nin, "nin")
        self.activation = activation  # checked by the property below
        if bias_init not in ("uniform", "zero"):
            raise ValueError(f"bias_init must be 'uniform' or 'zero', got {bias_init!r}")
        r = _resolve_rng(seed, rng)
        self.w: list[Value] = [Value(r.uniform(-1, 1), label=f"w{i}") for i in range(nin)]
        self.b = Value(r.uniform(-1, 1) if bias_init == "uniform" else 0.0, label="b")

    @property
    def activation(self) -> str:
        """The activation's name: ``"tanh"``, ``"relu"``, ``"sigmoid"`` or ``"linear"``; may be changed."""
        return self._activation

    @activation.setter
    def activation(self, name: str) -> None:
        self._activation = _check_activation(name)
        self._act = ACTIVATIONS[name]

    @property
    def nin(self) -> int:
        """Number of inputs."""
        return len(self.w)

    def __call__(self, x: Iterable[Input]) -> Value:
        """The neuron's output for inputs ``x`` (numbers or Values; any iterable, read once)."""
        return self._forward(_read_inputs(x, len(self.w), repr(self)))

    def _forward(self, x: Sequence[Input]) -> Value:
        # b + w1*x1 + w2*x2 + ...: the same chain of nodes as micrograd's
        # sum((wi*xi for ...), self.b), so losses match micrograd's step for step.
        act = sum(map(operator.mul, self.w, x), self.b)  # ((b + w1*x1) + w2*x2) + ..., no loop in Python
        return act if self._act is None else self._act(act)

    def _predict(self, x: Sequence[Any]) -> Any:
        act = self.b.data
        for wi, xi in zip(self.w, x):
            act = act + wi.data * xi
        op = _ACTIVATION_OPS[self.activation]
        return act if op is None else op.forward(act, None)

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [*((f"w.{i}", w) for i, w in enumerate(self.w)), ("b", self.b)]

    def __repr__(self) -> str:
        return f"{_REPR_NAMES[self.activation]}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs. One output: a Value; several: a list."""

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "tanh",
        *,
        bias_init: str = "uniform",
        seed: int | None = None,
        rng: RandomSource | None = None,
    ) -> None:
        _check_int(nin, "nin")
        _check_int(nout, "nout")
        _check_activation(activation)
        r = _resolve_rng(seed, rng)
        self.neurons = [Neuron(nin, activation, bias_init=bias_init, rng=r) for _ in range(nout)]

    @property
    def nin(self) -> int:
        """Number of inputs."""
        return self.neurons[0].nin

    @property
    def nout(self) -> int:
        """Number of outputs (neurons)."""
        return len(self.neurons)

    @property
    def activation(self) -> str:
        """The activation of this layer's neurons."""
        return self.neurons[0].activation

    def __call__(self, x: Iterable[Input]) -> Value | list[Value]:
        """The layer's outputs for inputs ``x``: a Value if it has one neuron, else a list."""
        out = self._forward(_read_inputs(x, self.nin, f"Layer({self.nin}, {self.nout})"))
        return out[0] if len(out) == 1 else out

    def _forward(self, x: Sequence[Input]) -> list[Value]:
        return [n._forward(x) for n in self.neurons]

    def _predict(self, x: Sequence[Any]) -> list[Any]:
        return [n._predict(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [
            (f"neurons.{j}.{name}", p) for j, n in enumerate(self.neurons) for name, p in n.named_parameters()
        ]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(repr(n) for n in self.neurons)}]"


class MLP(Module):
    """A multi-layer perceptron: layers of sizes ``nouts`` reading ``nin`` inputs.

    ``activation`` is used on every layer, except the last one when
    ``last_activation`` is given (micrograd's demo: ``activation="relu",
    last_activation="linear"``). ``parameters()`` lists them layer by layer, neuron
    by neuron, each neuron's weights then its bias: micrograd's order.

    >>> model = MLP(2, [16, 16, 1], activation="relu", last_activation="linear", seed=1337)
    >>> len(model.parameters())
    337
    >>> model.predict([0.5, -0.2]) == model([0.5, -0.2]).data   # predict: numbers only, no graph
    True
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "tanh",
        last_activation: str | None = None,
        *,
        bias_init: str = "uniform",
        seed: int | None = None,
        rng: RandomSource | None = None,
    ) -> None:
        _check_int(nin, "nin")
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence):
            raise TypeError(f"nouts must be a list of layer sizes, got {type(nouts).__name__}: {nouts!r}")
        if len(nouts) == 0:
            raise ValueError("nouts must list at least one layer size, got []")
        for i, n in enumerate(nouts):
            _check_int(n, f"nouts[{i}] (size of layer {i})")
        _check_activation(activation)
        last = (
            activation if last_activation is None else _check_activation(last_activation, "last_activation")
        )
        r = _resolve_rng(seed, rng)
        sizes = [nin, *nouts]
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                last if i == len(nouts) - 1 else activation,
                bias_init=bias_init,
                rng=r,
            )
            for i in range(len(nouts))
        ]

    @property
    def nin(self) -> int:
        """Number of inputs."""
        return self.layers[0].nin

    @property
    def nouts(self) -> list[int]:
        """The layer sizes."""
        return [layer.nout for layer in self.layers]

    @property
    def activation(self) -> str:
        """The hidden layers' activation (the last layer's if there is only one layer)."""
        return self.layers[0].activation if len(self.layers) > 1 else self.layers[-1].activation

    @property
    def last_activation(self) -> str:
        """The output layer's activation."""
        return self.layers[-1].activation

    def __call__(self, x: Iterable[Input]) -> Value | list[Value]:
        """The network's output for inputs ``x``: a Value if the last layer has one neuron, else a list.

        ``x`` is any iterable of numbers or Values (a list, a NumPy row, a generator), read once.
        """
        out = self.layers[0]._forward(_read_inputs(x, self.nin, "MLP"))
        for layer in self.layers[1:]:
            out = layer._forward(out)  # always a list between layers, even of one Value
        return out[0] if len(out) == 1 else out

    def predict(self, x: Iterable[Any]) -> Any:
        """The output for numeric inputs ``x`` as plain numbers, building no graph.

        Bit for bit ``model(x).data`` (the same operations in the same order), many
        times faster: for accuracy, plots and inference.
        """
        x = _read_inputs(x, self.nin, "MLP.predict")
        for v in x:
            if isinstance(v, Value):
                raise TypeError("MLP.predict takes numbers; for Values call the model itself: model(x)")
        out: list[Any] = list(x)
        for layer in self.layers:
            out = layer._predict(out)
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [
            (f"layers.{i}.{name}", p)
            for i, layer in enumerate(self.layers)
            for name, p in layer.named_parameters()
        ]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(repr(layer) for layer in self.layers)}]"

    # --- files ---------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The model as plain JSON-ready data: format, version, architecture, parameters.

        Raises `ValueError` if a parameter is not a finite number (a diverged model
        is not worth saving, and JSON has no NaN).
        """
        return model_files.to_dict(self)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to a JSON file (see `to_dict`); `MLP.load` reads it back exactly."""
        model_files.save(self, path)

    @classmethod
    def _with_architecture(
        cls: type[_M], nin: int, nouts: list[int], activation: str, last_activation: str
    ) -> _M:
        """A model of this class and shape whose parameters the caller sets next.

        Draws from no shared generator. A subclass with another constructor
        (`valuegrad.micrograd.nn.MLP`) overrides it.
        """
        return cls(nin, nouts, activation, last_activation, bias_init="zero", rng=random.Random(0))

    def _set_parameters(self, layers: list[list[tuple[list[float], float]]]) -> None:
        for layer, neurons in zip(self.layers, layers):
            for neuron, (w, b) in zip(layer.neurons, neurons):
                for p, v in zip(neuron.w, w):
                    p.data = v
                neuron.b.data = b

    @classmethod
    def from_dict(cls: type[_M], data: Any) -> _M:
        """Build a model from `to_dict` data; `ModelFileError` for anything invalid."""
        nin, nouts, activation, last_activation, layers = model_files.validate_model_dict(data)
        model = cls._with_architecture(nin, nouts, activation, last_activation)
        model._set_parameters(layers)
        return model

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MLP:
        """Read a model written by `MLP.save`.

        Everything is validated (format, version, types, sizes, finite numbers)
        before anything is built; a bad file raises `ModelFileError` naming the
        problem. A missing or unreadable file raises the usual `OSError`.
        """
        return model_files.load(cls, path)

    # --- PyTorch -------------------------------------------------------------

    def to_torch(self) -> Any:
        """The same network as a float64 ``torch.nn.Sequential``, for when the model outgrows a scalar engine.

        Each layer becomes a ``torch.nn.Linear`` (neuron ``j``'s weights are row ``j``
        of its ``weight``, its bias ``bias[j]``), followed by ``torch.nn.Tanh``,
        ``ReLU`` or ``Sigmoid`` (nothing for ``"linear"``). It takes a batch, a
        tensor of shape ``(n, nin)``, and returns shape ``(n, nouts[-1])``, equal to
        this model's outputs up to rounding (torch adds the products in another
        order). The parameters are copies: training one leaves the other as it
        was; `from_torch` brings the trained one back.

        >>> model = MLP(2, [4, 1], activation="relu", last_activation="linear", seed=0)
        >>> net = model.to_torch()  # doctest: +SKIP
        >>> net  # doctest: +SKIP
        Sequential(
          (0): Linear(in_features=2, out_features=4, bias=True)
          (1): ReLU()
          (2): Linear(in_features=4, out_features=1, bias=True)
        )

        Needs PyTorch (``pip install torch``); torch is imported here, not by valuegrad.
        """
        return torch_bridge.to_torch(self)

    @classmethod
    def from_torch(cls: type[_M], module: Any) -> _M:
        """A model with the architecture and parameters of a PyTorch network, exactly.

        ``module`` is a ``torch.nn.Sequential`` of ``torch.nn.Linear`` layers, each
        followed by at most one ``ReLU``, ``Tanh``, ``Sigmoid`` or ``Identity`` (what
        `to_torch` makes), or a single ``Linear``. The hidden layers must share one
        activation (an MLP has ``activation`` and ``last_activation``). Every
        parameter is copied as a Python float: exact for float64, float32 and
        float16 tensors alike, so ``MLP.from_torch(model.to_torch())`` has
        exactly ``model``'s parameters. A ``Linear`` without bias gets zero biases.

        Raises `TypeError` if ``module`` is not such a torch module and `ValueError`
        naming the part that does not fit (another kind of layer, shapes that do not
        chain, a non-finite parameter); nothing is built then.
        """
        nin, nouts, activation, last_activation, layers = torch_bridge.read_torch_module(module)
        model = cls._with_architecture(nin, nouts, activation, last_activation)
        model._set_parameters(layers)
        return model
