"""Scale: backward through graphs of a million nodes, deep and wide.

The expected gradients come from independent plain-float loops (or exact arithmetic),
never from the engine. No timing is asserted; each test takes a few seconds.
"""

from __future__ import annotations

import math
import sys

from valuegrad import Value, gradients, topological_order

N = 1_000_000  # the scale: deep chain and a sum of this many terms
M = 200_000  # for the tests that check other shapes (mixed ops, fan-out, gradients()); they scale the same


def test_million_node_tanh_chain_gradient_matches_a_float_loop():
    limit = sys.getrecursionlimit()
    x = Value(0.9)
    y = x
    for _ in range(N):
        y = y.tanh()
    y.backward()
    assert sys.getrecursionlimit() == limit

    # the same chain by hand: data, then the product of local derivatives from the output back
    outs = []
    d = 0.9
    for _ in range(N):
        d = math.tanh(d)
        outs.append(d)
    g = 1.0
    for out in reversed(outs):
        g = (1 - out * out) * g
    assert y.data == d
    assert x.grad == g  # the same operations in the same order: bit-identical
    assert 0 < g < 1e-5  # and not trivially zero


def test_long_chain_of_every_simple_op():
    """Nodes cycling through -, +c, *c, /c, c-, **1: the gradient is a known product."""
    x = Value(0.75)
    y = x
    factor = 1
    for k in range(M):
        r = k % 6
        if r == 0:
            y = -y
            factor = -factor
        elif r == 1:
            y = y + 0.5
        elif r == 2:
            y = y * 2.0
            factor *= 2
        elif r == 3:
            y = y / 2.0
            factor /= 2
        elif r == 4:
            y = 1.0 - y
            factor = -factor
        else:
            y = y**1
    y.backward()
    assert x.grad == factor  # powers of two and signs: exact in floating point
    assert abs(factor) == 1


def test_sum_of_a_million_terms_with_python_sum():
    xs = [Value(float(i % 7)) for i in range(N)]
    s = sum(xs)
    s.backward()
    assert s.data == sum(float(i % 7) for i in range(N))
    assert all(v.grad == 1.0 for v in xs)


def test_many_uses_of_one_value_accumulate():
    """Wide fan-out: one leaf feeds M products; its gradient is the sum of the factors."""
    x = Value(3.0)
    total = x * 0.0
    for i in range(M):
        total = total + x * float(i % 5 - 2 + (i % 2))  # factors -2..3, exact sums
    total.backward()
    assert x.grad == float(sum(i % 5 - 2 + (i % 2) for i in range(M)))
    assert x.grad != 0
    assert total.data == 3.0 * x.grad


def test_gradients_dict_on_a_large_sum_without_touching_grad():
    xs = [Value(float(i % 3)) for i in range(M)]
    s = xs[0]
    for v in xs[1:]:
        s = s + v * v  # d s / d x_i = 2 x_i for i > 0
    g = gradients(s, xs)
    assert g[xs[0]] == 1.0
    assert all(g[v] == 2 * v.data for v in xs[1:])
    assert all(v.grad == 0.0 for v in xs)
    assert len(topological_order(s)) == 3 * M - 2  # M leaves, M-1 products, M-1 sums
