"""The demo's data and initial weights, made once by the runner and shared by every engine."""

from __future__ import annotations

import itertools
import random
from typing import Any

from .workloads import LAYER_SIZES

SEED = 1337


def moons(n_samples: int = 100, noise: float = 0.1, seed: int = SEED) -> tuple[list[list[float]], list[int]]:
    """The demo's points: ``valuegrad.data.make_moons`` (scikit-learn's construction), labels -1 / +1."""
    from valuegrad.data import make_moons

    X, y = make_moons(n_samples, noise=noise, seed=seed)
    return [[float(a) for a in row] for row in X], _signed(y)


def _signed(labels: Any) -> list[int]:
    """Labels as -1 / +1 (given as 0 / 1 or already as -1 / +1)."""
    out = [int(v) for v in labels]
    if set(out) <= {0, 1}:
        out = [2 * v - 1 for v in out]
    if not set(out) <= {-1, 1}:
        raise ValueError(f"moons labels must be 0/1 or -1/+1, got {sorted(set(out))}")
    return out


def initial_weights(seed: int = SEED) -> tuple[list[float], str]:
    """micrograd's ``MLP(2, [16, 16, 1])`` initial parameters, in its ``parameters()`` order.

    Made by micrograd itself when it is installed (uniform(-1, 1) weights, zero
    biases, drawn from `random` seeded with ``seed``); otherwise the same draws.
    """
    random.seed(seed)
    try:
        from micrograd.nn import MLP
    except ImportError:
        weights = []
        for nin, nout in itertools.pairwise(LAYER_SIZES):
            for _ in range(nout):
                weights += [random.uniform(-1, 1) for _ in range(nin)] + [0.0]
        return weights, "drawn like micrograd's MLP (micrograd not installed)"
    model = MLP(2, list(LAYER_SIZES[1:]))
    return [float(p.data) for p in model.parameters()], "micrograd.nn.MLP(2, [16, 16, 1]).parameters()"
