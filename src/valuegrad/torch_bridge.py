"""The bridge to PyTorch: the code of `MLP.to_torch` and `MLP.from_torch`.

Use it through `valuegrad.nn`'s `MLP`. An MLP becomes a float64 ``torch.nn.Sequential``
of ``torch.nn.Linear`` layers and activations, and such a network becomes an MLP,
parameter for parameter. torch is imported by these functions only, when they run:
importing this module imports no torch.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .nn import MLP

__all__ = ["read_torch_module", "to_torch"]

_TORCH_ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU", "sigmoid": "Sigmoid"}


def to_torch(model: MLP) -> Any:
    """`MLP.to_torch`: ``model`` as a float64 ``torch.nn.Sequential`` (copies of its parameters)."""
    torch = _import_torch("MLP.to_torch")
    modules = []
    for layer in model.layers:
        # skip_init: no random initial values drawn (torch's generator is left as it was).
        linear = torch.nn.utils.skip_init(torch.nn.Linear, layer.nin, layer.nout, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(
                torch.tensor([[float(w.data) for w in n.w] for n in layer.neurons], dtype=torch.float64)
            )
            linear.bias.copy_(torch.tensor([float(n.b.data) for n in layer.neurons], dtype=torch.float64))
        modules.append(linear)
        if layer.activation != "linear":
            modules.append(getattr(torch.nn, _TORCH_ACTIVATIONS[layer.activation])())
    return torch.nn.Sequential(*modules)


def read_torch_module(
    module: Any,
) -> tuple[int, list[int], str, str, list[list[tuple[list[float], float]]]]:
    """The architecture and parameters of a torch network, checked, as plain pieces.

    ``(nin, nouts, activation, last_activation, layers)``, ``layers[i][j]`` being
    neuron ``j`` of layer ``i`` as ``(weights, bias)``: what `MLP.from_torch` builds
    from. `TypeError` or `ValueError` (see `MLP.from_torch`) for a network an MLP is not.
    """
    torch = _import_torch("MLP.from_torch")
    if isinstance(module, torch.nn.Linear):
        children = [module]
    elif isinstance(module, torch.nn.Sequential):
        children = list(module)
    else:
        raise TypeError(
            "MLP.from_torch takes a torch.nn.Sequential of Linear layers and activations "
            f"(or one Linear), got {type(module).__name__}"
        )
    names = {getattr(torch.nn, t): a for a, t in _TORCH_ACTIVATIONS.items()}
    names[torch.nn.Identity] = "linear"
    linears: list[Any] = []
    acts: list[str] = []
    can_follow = False  # an activation may come right after a Linear, once
    for i, child in enumerate(children):
        if isinstance(child, torch.nn.Linear):
            linears.append(child)
            acts.append("linear")
            can_follow = True
        elif type(child) in names and can_follow:
            acts[-1] = names[type(child)]
            can_follow = False
        else:
            allowed = "Linear layers, each followed by at most one ReLU, Tanh, Sigmoid or Identity"
            raise ValueError(
                f"MLP.from_torch: module ({i}), {child!r:.80}, does not fit: an MLP is {allowed}"
            )
    if not linears:
        raise ValueError("MLP.from_torch: the module has no Linear layer")
    if len(set(acts[:-1])) > 1:
        raise ValueError(
            f"MLP.from_torch: the hidden layers' activations differ ({acts[:-1]}); "
            "an MLP has one activation for all hidden layers and one for the last"
        )
    nin = linears[0].in_features
    nouts = [lin.out_features for lin in linears]
    for i in range(1, len(linears)):
        if linears[i].in_features != nouts[i - 1]:
            raise ValueError(
                f"MLP.from_torch: Linear layer {i} takes {linears[i].in_features} inputs "
                f"but layer {i - 1} gives {nouts[i - 1]}"
            )
    layers = []
    for i, lin in enumerate(linears):
        weight = lin.weight.detach().cpu().double().tolist()
        bias = [0.0] * lin.out_features if lin.bias is None else lin.bias.detach().cpu().double().tolist()
        where = f"Linear layer {i}"
        layers.append(
            [
                (
                    [_torch_number(x, f"{where}: weight[{j}][{k}]") for k, x in enumerate(row)],
                    _torch_number(b, f"{where}: bias[{j}]"),
                )
                for j, (row, b) in enumerate(zip(weight, bias))
            ]
        )
    activation = acts[0] if len(acts) > 1 else acts[-1]
    return nin, nouts, activation, acts[-1], layers


def _import_torch(who: str) -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(f"{who} needs PyTorch: pip install torch") from None
    return torch


def _torch_number(x: float, where: str) -> float:
    if not math.isfinite(x):
        raise ValueError(f"MLP.from_torch: {where} is {x!r}; a model's parameters must be finite numbers")
    return x
