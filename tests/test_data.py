"""valuegrad.data: the notebook's samples and make_moons (scikit-learn's geometry, ±1 labels)."""

from __future__ import annotations

import math
from math import inf, nan

import numpy as np
import pytest

from valuegrad import data
from valuegrad.data import make_moons, notebook_samples


def test_notebook_samples_are_the_notebooks_and_fresh_each_time():
    xs, ys = notebook_samples()
    assert xs == [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    assert ys == [1.0, -1.0, -1.0, 1.0]
    xs[0][0] = 99.0
    assert notebook_samples()[0][0][0] == 2.0


def test_moons_without_noise_lie_on_scikit_learns_half_circles():
    X, y = make_moons(101, noise=0.0, seed=3)
    assert len(X) == len(y) == 101 and y.count(-1) == 50 and y.count(1) == 51
    outer = sorted(tuple(p) for p, label in zip(X, y) if label == -1)
    inner = sorted(tuple(p) for p, label in zip(X, y) if label == 1)
    # scikit-learn's make_moons, written with NumPy (its own code, before shuffling and noise)
    t_out, t_in = np.linspace(0, np.pi, 50), np.linspace(0, np.pi, 51)
    sk_outer = sorted(zip(np.cos(t_out).tolist(), np.sin(t_out).tolist()))
    sk_inner = sorted(zip((1 - np.cos(t_in)).tolist(), (1 - np.sin(t_in) - 0.5).tolist()))
    flat = [c for p in outer + inner for c in p]
    assert flat == pytest.approx([c for p in sk_outer + sk_inner for c in p], abs=1e-15)
    assert all(math.isclose(a * a + b * b, 1.0) for a, b in outer)


def test_moons_are_shuffled_noisy_and_reproducible():
    X, y = make_moons(100, noise=0.1, seed=0)
    assert (X, y) == make_moons(100, noise=0.1, seed=0)
    assert X != make_moons(100, noise=0.1, seed=1)[0]
    assert y[:50] != [-1] * 50  # shuffled
    clean, _ = make_moons(100, noise=0.0, seed=0)
    shifts = [math.hypot(a[0] - b[0], a[1] - b[1]) for a, b in zip(X, clean)]
    assert 0.05 < sum(shifts) / len(shifts) < 0.2  # about noise * sqrt(pi/2) ≈ 0.125
    assert all(isinstance(label, int) for label in y) and set(y) == {-1, 1}


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"n": 1}, ValueError),
        ({"n": 10.5}, ValueError),
        ({"noise": -0.1}, ValueError),
        ({"noise": float("nan")}, ValueError),
        ({"seed": "zero"}, TypeError),
    ],
)
def test_bad_arguments(kwargs, error):
    with pytest.raises(error):
        make_moons(**kwargs)


# --- bad arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"n": 1}, ValueError),
        ({"n": 0}, ValueError),
        ({"n": -5}, ValueError),
        ({"n": 2.5}, ValueError),
        ({"n": True}, ValueError),
        ({"n": "100"}, ValueError),
        ({"noise": -0.1}, ValueError),
        ({"noise": nan}, ValueError),
        ({"noise": inf}, ValueError),
        ({"noise": "0.1"}, ValueError),
        ({"seed": "0"}, TypeError),
        ({"seed": 1.5}, TypeError),
    ],
)
def test_make_moons_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        data.make_moons(**kwargs)


def test_notebook_samples_are_fresh_lists():
    xs, ys = data.notebook_samples()
    xs[0][0] = 99.0
    ys.append(7.0)
    xs2, ys2 = data.notebook_samples()
    assert xs2[0][0] == 2.0 and len(ys2) == 4
