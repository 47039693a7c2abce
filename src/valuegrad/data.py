"""Small datasets: the notebook's four samples and the two-moons dataset (no scikit-learn).

>>> xs, ys = notebook_samples()
>>> xs[0], ys
([2.0, 3.0, -1.0], [1.0, -1.0, -1.0, 1.0])
>>> X, y = make_moons(100, noise=0.1, seed=0)
>>> len(X), sorted(set(y)), y.count(1)
(100, [-1, 1], 50)
"""

from __future__ import annotations

import math
import numbers
import random

__all__ = ["make_moons", "notebook_samples"]


def notebook_samples() -> tuple[list[list[float]], list[float]]:
    """The notebook's training set: four inputs of 3 numbers and their targets ±1.

    Returns fresh lists ``(xs, ys)`` on every call.
    """
    xs = [
        [2.0, 3.0, -1.0],
        [3.0, -1.0, 0.5],
        [0.5, 1.0, 1.0],
        [1.0, 1.0, -1.0],
    ]
    ys = [1.0, -1.0, -1.0, 1.0]
    return xs, ys


def _linspace(start: float, stop: float, num: int) -> list[float]:
    # numpy.linspace's points: start + i * step, with the last one exactly `stop`.
    if num == 1:
        return [start]
    step = (stop - start) / (num - 1)
    return [start + i * step for i in range(num - 1)] + [stop]


def make_moons(n: int = 100, noise: float = 0.1, seed: int | None = 0) -> tuple[list[list[float]], list[int]]:
    """Two interleaving half circles in 2-D, scikit-learn's ``make_moons`` algorithm.

    Half the points (``n // 2``) lie on the outer moon ``(cos t, sin t)``, the rest on
    the inner moon ``(1 - cos t, 1 - sin t - 0.5)``, for t evenly spaced on [0, π];
    the points are shuffled, then Gaussian noise of standard deviation ``noise`` is
    added to every coordinate.

    Labels: **-1 for the outer moon, +1 for the inner moon** (scikit-learn's 0 and 1
    mapped by ``2*y - 1``, as micrograd's demo does), ready for `losses.hinge`. For
    0/1 labels (`losses.binary_cross_entropy`) use ``(y + 1) // 2``.

    Returns ``(X, y)``: ``X`` a list of ``[x1, x2]``, ``y`` a list of ints. The
    random numbers come from ``random.Random(seed)``, so a seed gives the same data
    on every run and platform, but not the same points as scikit-learn (whose
    random stream is NumPy's).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an int >= 2 (one point per moon at least), got {n!r}")
    if (
        isinstance(noise, bool)
        or not isinstance(noise, numbers.Real)
        or not math.isfinite(noise)
        or noise < 0
    ):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
    rng = random.Random(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = _linspace(0.0, math.pi, n_out)
    t_in = _linspace(0.0, math.pi, n_in)
    points = [[math.cos(t), math.sin(t)] for t in t_out] + [
        [1 - math.cos(t), 1 - math.sin(t) - 0.5] for t in t_in
    ]
    labels = [-1] * n_out + [1] * n_in
    order = list(range(n))
    rng.shuffle(order)
    X = [points[i] for i in order]
    y = [labels[i] for i in order]
    if noise:
        X = [[x1 + rng.gauss(0.0, noise), x2 + rng.gauss(0.0, noise)] for x1, x2 in X]
    return X, y
