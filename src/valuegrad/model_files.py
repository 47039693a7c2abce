"""Model files: the JSON that `MLP.save` writes and `MLP.load` reads, and its validation.

The code behind `MLP.to_dict`, `MLP.save`, `MLP.from_dict` and `MLP.load`: use it
through them. `ModelFileError` and the constants below are importable from
`valuegrad.nn` too, where a user finds them. A file holds a format name, a version,
the architecture and every parameter, and is checked whole (`validate_model_dict`)
before anything is built.

>>> from valuegrad import nn
>>> data = nn.MLP(2, [1], seed=0).to_dict()
>>> data["format"], data["version"], data["architecture"]["nouts"]
('valuegrad-mlp', 1, [1])
>>> validate_model_dict({**data, "version": 7})
Traceback (most recent call last):
    ...
valuegrad.nn.ModelFileError: version: unsupported version 7 (this valuegrad reads version 1)
"""

from __future__ import annotations

import json
import math
import os
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from .nn import MLP

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_FILE_BYTES",
    "MAX_LAYERS",
    "MAX_PARAMETERS",
    "ModelFileError",
    "load",
    "save",
    "to_dict",
    "validate_model_dict",
]

_M = TypeVar("_M", bound="MLP")

FORMAT = "valuegrad-mlp"
"""The ``"format"`` field of a model file."""
FORMAT_VERSION = 1
"""The ``"version"`` of model file this valuegrad writes and reads."""
MAX_PARAMETERS = 1_000_000
"""Largest network a model file may declare (a scalar engine trains far smaller ones)."""
MAX_LAYERS = 1_000
"""Most layers a model file may declare."""
MAX_FILE_BYTES = 64 * 1024 * 1024
"""Largest model file `MLP.load` reads."""


class ModelFileError(ValueError):
    """A model file or state dict that cannot be loaded: the message says what is wrong.

    Raised by `MLP.load`, `MLP.from_dict` and `Module.load_state_dict`. Nothing is
    built or changed when it is raised.
    """


ModelFileError.__module__ = "valuegrad.nn"  # its public name, as tracebacks and reprs show it


def _finite_number(x: object, where: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ModelFileError(f"{where}: expected a number, got {type(x).__name__}: {x!r:.60}")
    try:
        f = float(x)
    except OverflowError:
        raise ModelFileError(f"{where}: number too large for a float") from None
    if not math.isfinite(f):
        raise ModelFileError(f"{where}: expected a finite number, got {f!r}")
    return f


def to_dict(model: MLP) -> dict[str, Any]:
    """`MLP.to_dict`: the model as plain JSON-ready data; `ValueError` for a non-finite parameter."""
    layers = []
    for i, layer in enumerate(model.layers):
        neurons = []
        for j, n in enumerate(layer.neurons):
            where = f"layers.{i}.neurons.{j}"
            neurons.append(
                {
                    "w": [_saveable(w.data, f"{where}.w.{k}") for k, w in enumerate(n.w)],
                    "b": _saveable(n.b.data, f"{where}.b"),
                }
            )
        layers.append(neurons)
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "architecture": {
            "nin": model.nin,
            "nouts": model.nouts,
            "activation": model.activation,
            "last_activation": model.last_activation,
        },
        "parameters": layers,
    }


def save(model: MLP, path: str | os.PathLike[str]) -> None:
    """`MLP.save`: write ``model.to_dict()`` to ``path`` as JSON."""
    text = json.dumps(model.to_dict(), allow_nan=False)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.write("\n")


def load(cls: type[_M], path: str | os.PathLike[str]) -> _M:
    """`MLP.load`: ``cls.from_dict`` of the JSON in ``path``, prefixing any `ModelFileError` with the path."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise ModelFileError(f"{os.fspath(path)}: {size} bytes is larger than a model file may be")
        # Read in chunks: f.read(MAX_FILE_BYTES + 1) would allocate 64 MB for any file,
        # and a special file (a pipe, /dev/zero) reports size 0 but may never end.
        chunks: list[bytes] = []
        total = 0
        while chunk := f.read(1 << 20):
            chunks.append(chunk)
            total += len(chunk)
            if total > MAX_FILE_BYTES:
                raise ModelFileError(f"{os.fspath(path)}: larger than a model file may be")
        raw = b"".join(chunks)
    try:
        data = _parse_json(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ModelFileError(f"{os.fspath(path)}: not a valuegrad model file (not UTF-8 text)") from None
    except ModelFileError as e:
        raise ModelFileError(f"{os.fspath(path)}: {e}") from None
    try:
        return cls.from_dict(data)
    except ModelFileError as e:
        raise ModelFileError(f"{os.fspath(path)}: {e}") from None


def _saveable(x: Any, where: str) -> float:
    f = float(x)
    if not math.isfinite(f):
        raise ValueError(f"cannot save the model: parameter {where} is {f!r}")
    return f


def _reject_constant(name: str) -> Any:
    raise ModelFileError(f"{name} is not allowed in a model file")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ModelFileError(f"key {k!r} appears twice")
        out[k] = v
    return out


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
    except ModelFileError:
        raise
    except json.JSONDecodeError as e:
        raise ModelFileError(f"not valid JSON (truncated or corrupted?): {e}") from None
    except (ValueError, RecursionError) as e:  # e.g. an integer with thousands of digits, absurd nesting
        raise ModelFileError(f"not a valuegrad model file: {e}") from None


def _expect_keys(d: object, keys: set[str], where: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise ModelFileError(f"{where}: expected an object, got {type(d).__name__}")
    if set(d) != keys:
        missing, extra = sorted(keys - set(d)), sorted(set(d) - keys)
        raise ModelFileError(
            f"{where}: "
            + "; ".join(
                s
                for s in (f"missing {missing}" if missing else "", f"unexpected {extra}" if extra else "")
                if s
            )
        )
    return d


def _declared_int(x: object, where: str, maximum: int) -> int:
    if isinstance(x, bool) or not isinstance(x, int):
        raise ModelFileError(f"{where}: expected an integer, got {type(x).__name__}: {x!r:.60}")
    if not 1 <= x <= maximum:
        raise ModelFileError(f"{where}: {x} is out of range (1 to {maximum})")
    return x


def validate_model_dict(
    data: Any,
) -> tuple[int, list[int], str, str, list[list[tuple[list[float], float]]]]:
    """Check a whole model dict; return plain, validated pieces. Builds no Value.

    The pieces are ``(nin, nouts, activation, last_activation, layers)``, ``layers[i][j]``
    being neuron ``j`` of layer ``i`` as ``(weights, bias)``: what `MLP.from_dict` builds from.
    """
    from .nn import ACTIVATIONS  # here, not at the top: valuegrad.nn imports this module

    d = _expect_keys(data, {"format", "version", "architecture", "parameters"}, "model file")
    if d["format"] != FORMAT:
        raise ModelFileError(f"format: expected {FORMAT!r}, got {d['format']!r:.60}")
    version = d["version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise ModelFileError(f"version: expected an integer, got {version!r:.60}")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"version: unsupported version {version} (this valuegrad reads version {FORMAT_VERSION})"
        )

    arch = _expect_keys(d["architecture"], {"nin", "nouts", "activation", "last_activation"}, "architecture")
    nin = _declared_int(arch["nin"], "architecture.nin", MAX_PARAMETERS)
    nouts_raw = arch["nouts"]
    if not isinstance(nouts_raw, list) or not 1 <= len(nouts_raw) <= MAX_LAYERS:
        raise ModelFileError(f"architecture.nouts: expected a list of 1 to {MAX_LAYERS} layer sizes")
    nouts = [_declared_int(n, f"architecture.nouts[{i}]", MAX_PARAMETERS) for i, n in enumerate(nouts_raw)]
    total, fan_in = 0, nin
    for n in nouts:
        total += n * (fan_in + 1)
        fan_in = n
        if total > MAX_PARAMETERS:
            raise ModelFileError(f"architecture: declares more than {MAX_PARAMETERS} parameters")
    acts = []
    for key in ("activation", "last_activation"):
        if not isinstance(arch[key], str) or arch[key] not in ACTIVATIONS:
            raise ModelFileError(f"architecture.{key}: {arch[key]!r:.60} is not one of {list(ACTIVATIONS)}")
        acts.append(arch[key])

    params = d["parameters"]
    if not isinstance(params, list) or len(params) != len(nouts):
        raise ModelFileError(f"parameters: expected a list of {len(nouts)} layers")
    layers: list[list[tuple[list[float], float]]] = []
    fan_in = nin
    for i, (layer, nout) in enumerate(zip(params, nouts)):
        if not isinstance(layer, list) or len(layer) != nout:
            raise ModelFileError(f"parameters[{i}]: expected a list of {nout} neurons")
        neurons = []
        for j, neuron in enumerate(layer):
            where = f"parameters[{i}][{j}]"  # the file's own keys, as Python would index them
            nd = _expect_keys(neuron, {"w", "b"}, where)
            w = nd["w"]
            if not isinstance(w, list) or len(w) != fan_in:
                raise ModelFileError(f"{where}.w: expected a list of {fan_in} numbers")
            neurons.append(
                (
                    [_finite_number(x, f"{where}.w[{k}]") for k, x in enumerate(w)],
                    _finite_number(nd["b"], f"{where}.b"),
                )
            )
        layers.append(neurons)
        fan_in = nout
    return nin, nouts, acts[0], acts[1], layers
