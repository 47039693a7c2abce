"""The notebook's worked examples, ready to draw, print and test.

>>> L = first_expression()
>>> L.data
-8.0
>>> o = one_neuron()
>>> round(o.data, 4)
0.7071
"""

from __future__ import annotations

from .value import Value

__all__ = ["first_expression", "one_neuron", "ONE_NEURON_BIAS"]

_EXP_SAFE = 700.0  # exp(x) is finite up to x ≈ 709.78

ONE_NEURON_BIAS = 6.8813735870195432
"""The bias the notebook picks so that the neuron's output is tanh(0.8814) = 1/sqrt(2)."""


def first_expression() -> Value:
    """``L = (a*b + c) * f`` with a=2, b=-3, c=10, f=-2: the notebook's first graph (L = -8).

    Every Value is labelled as in the notebook (a, b, c, d, e, f, L). Reach the
    leaves through ``L.children``, or use `valuegrad.topological_order`.
    """
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    c = Value(10.0, label="c")
    d = a * b
    d.label = "d"
    e = d + c
    e.label = "e"
    f = Value(-2.0, label="f")
    L = e * f
    L.label = "L"
    return L


def one_neuron(
    x1: float = 2.0,
    x2: float = 0.0,
    w1: float = -3.0,
    w2: float = 1.0,
    b: float = ONE_NEURON_BIAS,
    tanh_via_exp: bool = False,
) -> Value:
    """The notebook's neuron ``o = tanh(x1*w1 + x2*w2 + b)``, labelled as in the notebook.

    With ``tanh_via_exp=True`` the activation is spelled out through ``exp``, as
    the lecture and the notebook do (``one_neuron_alt``): ``e = exp(2n)``, then
    ``o = (e - 1) / (e + 1)``; the same value and gradients through more, simpler
    nodes. That formula overflows for large n (``exp(2n)`` passes the largest float
    above n ≈ 355); there, and only there, it is written with ``e = exp(-2n)`` as
    ``(1 - e) / (1 + e)``, the same function (the seed's upstream package returns NaN).

    >>> o = one_neuron(tanh_via_exp=True)
    >>> e = o.children[0].children[0]
    >>> e.label, round(e.data, 4)                 # the lecture's e = exp(2n)
    ('e', 5.8284)
    """
    x1v, x2v = Value(x1, label="x₁"), Value(x2, label="x₂")
    w1v, w2v = Value(w1, label="w₁"), Value(w2, label="w₂")
    bias = Value(b, label="b")
    x1w1 = x1v * w1v
    x1w1.label = "x₁×w₁"
    x2w2 = x2v * w2v
    x2w2.label = "x₂×w₂"
    s = x1w1 + x2w2
    s.label = "x₁×w₁ + x₂×w₂"
    n = s + bias
    n.label = "n"
    if tanh_via_exp:
        # The lecture's (e^2n - 1)/(e^2n + 1) overflows for 2n > 709 (the seed's upstream package
        # gives inf/inf = NaN there); written with e^-2n <= 1 it never does.
        if 2 * float(n.data) <= _EXP_SAFE:
            e = (2 * n).exp()
            e.label = "e"
            o = (e - 1) / (e + 1)
        else:
            e = (-2 * n).exp()
            e.label = "e"
            o = (1 - e) / (1 + e)
    else:
        o = n.tanh()
    o.label = "o"
    return o
