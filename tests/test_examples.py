"""valuegrad.examples: the notebook's expressions refuse bad numbers and never give NaN for finite ones.

(Their worked numbers are checked in test_engine.py.)"""

from __future__ import annotations

import math

import pytest

from valuegrad import topological_order
from valuegrad.examples import one_neuron


@pytest.mark.parametrize("bad", ["2", None, [2.0], True])
def test_examples_reject_bad_numbers(bad):
    with pytest.raises(TypeError):
        one_neuron(x1=bad)


@pytest.mark.parametrize(
    ("b", "via_exp"),
    [
        *((b, via) for b in (-400.0, -30.0, 0.0, 6.8813735870195432, 30.0) for via in (False, True)),
        (400.0, False),
        (400.0, True),
    ],
)
def test_the_notebook_neuron_never_gives_nan_for_finite_inputs(b, via_exp):
    """ANCHORS: the seed's tanh through exp(2x) is NaN above x ~ 355; valuegrad must not repeat it."""
    o = one_neuron(b=b, tanh_via_exp=via_exp)
    o.backward()
    assert o.data == pytest.approx(math.tanh(-6.0 + b), abs=1e-12)
    assert not any(math.isnan(v.grad) for v in topological_order(o))
