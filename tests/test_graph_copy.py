"""valuegrad.graph_copy: a graph, a model or a leaf survives copy.deepcopy and pickle, and the copy
still backpropagates without touching the original."""

from __future__ import annotations

import pickle

import pytest

from valuegrad import Value, nn, topological_order


@pytest.mark.parametrize(
    "copy_graph",
    [
        lambda v: __import__("copy").deepcopy(v),
        lambda v: pickle.loads(pickle.dumps(v)),
    ],
    ids=["deepcopy", "pickle"],
)
def test_a_copied_graph_still_backpropagates(copy_graph):
    x = Value(1.5, label="x")
    y = (x * 2.0).tanh() + x**2 / (1 + x.exp())
    z = copy_graph(y)
    assert z is not y and z.data == y.data
    z.backward()
    y.backward()
    zx = next(v for v in topological_order(z) if v.label == "x")
    assert zx is not x and zx.grad == x.grad
    assert [v.op for v in topological_order(z)] == [v.op for v in topological_order(y)]


def test_models_and_leaves_copy_and_pickle():
    import copy

    model = nn.MLP(2, [3, 1], seed=0)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert [p.data for p in clone.parameters()] == [p.data for p in model.parameters()]
        out = clone([1.0, -2.0])
        out.backward()
        assert out.data == model([1.0, -2.0]).data
        assert all(p.grad == 0.0 for p in model.parameters())  # the original is untouched
    leaf = pickle.loads(pickle.dumps(Value(2.5, label="a")))
    assert (leaf.data, leaf.grad, leaf.label, leaf.op) == (2.5, 0.0, "a", "")
