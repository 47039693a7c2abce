"""valuegrad.micrograd runs code written for micrograd 0.1.0 unchanged, with the same numbers.

Each program here is written once, against "an engine module and an nn module", and run twice:
on the real micrograd package (pinned by the test extra) and on valuegrad.micrograd. The
programs are ours, written in the style of micrograd's users (its demo, its graph-drawing
helper, a course exercise, an optimizer that keeps its state on the parameters).
"""

from __future__ import annotations

import gc
import inspect
import math
import random
from contextlib import contextmanager
from types import ModuleType

import graphviz
import micrograd.engine as micrograd_engine
import micrograd.nn as micrograd_nn
import numpy as np
import pygraphviz
import pytest

from valuegrad import data
from valuegrad import nn as valuegrad_nn
from valuegrad.micrograd import engine as drop_in_engine
from valuegrad.micrograd import nn as drop_in_nn

BOTH = [
    pytest.param((micrograd_engine, micrograd_nn), id="micrograd"),
    pytest.param((drop_in_engine, drop_in_nn), id="valuegrad.micrograd"),
]
TOL = 1e-12


@contextmanager
def collector_paused():
    # micrograd spends most of a training step in the cyclic garbage collector (every node is a
    # reference cycle); pausing it keeps the reference runs short and changes no number.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def datas(model) -> list[float]:
    return [float(p.data) for p in model.parameters()]


def close(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= TOL for x, y in zip(a, b))


# --- the demo -------------------------------------------------------------------------


def train_demo(engine: ModuleType, nn: ModuleType, X, y, *, seed: int, steps: int, wrap: bool = True):
    """micrograd's demo, as its users write it: an SVM-style max-margin loss with L2, plain SGD.

    Returns the model, its starting weights, and each step's loss and accuracy.
    """
    random.seed(seed)
    model = nn.MLP(2, [16, 16, 1])
    start = datas(model)
    history = []
    with collector_paused():
        for k in range(steps):
            inputs = [[engine.Value(v) for v in row] for row in X] if wrap else list(X)
            scores = [model(x) for x in inputs]
            margins = [(1 + -yi * score).relu() for yi, score in zip(y, scores)]
            data_loss = sum(margins) * (1.0 / len(margins))
            reg_loss = 1e-4 * sum(p * p for p in model.parameters())
            loss = data_loss + reg_loss
            accuracy = sum((yi > 0) == (score.data > 0) for yi, score in zip(y, scores)) / len(y)

            model.zero_grad()
            loss.backward()
            learning_rate = 1.0 - 0.9 * k / steps
            for p in model.parameters():
                p.data -= learning_rate * p.grad
            history.append((float(loss.data), accuracy))
    return model, start, history


@pytest.fixture(scope="module")
def moons():
    return data.make_moons(30, noise=0.1, seed=3)


@pytest.fixture(scope="module")
def demo_runs(moons):
    X, y = moons
    return {
        name: train_demo(engine, nn, X, y, seed=1337, steps=12)
        for name, (engine, nn) in (
            ("micrograd", (micrograd_engine, micrograd_nn)),
            ("ours", (drop_in_engine, drop_in_nn)),
        )
    }


def test_the_demo_starts_from_micrograds_weights_and_has_its_repr(demo_runs):
    theirs, ours = demo_runs["micrograd"], demo_runs["ours"]
    assert ours[1] == theirs[1]  # bit for bit: the same draws from the global generator
    assert len(ours[1]) == 337
    assert repr(ours[0]) == repr(theirs[0])
    assert repr(ours[0]).startswith("MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2),")
    assert repr(ours[0]).endswith("Layer of [LinearNeuron(16)]]")


def test_the_demo_has_micrograds_losses_accuracies_and_final_weights(demo_runs):
    (theirs, _, their_history), (ours, _, our_history) = demo_runs["micrograd"], demo_runs["ours"]
    assert len(our_history) == len(their_history) == 12
    for step, ((their_loss, their_acc), (our_loss, our_acc)) in enumerate(zip(their_history, our_history)):
        assert abs(our_loss - their_loss) <= TOL, step
        assert our_acc == their_acc, step
    assert close(datas(ours), datas(theirs))
    # It did learn something, so the comparison is not between two untouched models.
    assert our_history[-1][0] < our_history[0][0] and our_history[-1][1] > our_history[0][1]
    assert datas(ours) != demo_runs["ours"][1]


def test_the_demo_with_numpy_rows_fed_straight_in(moons):
    X, y = np.array(moons[0]), np.array(moons[1])
    theirs = train_demo(micrograd_engine, micrograd_nn, X[:12], y[:12], seed=7, steps=3, wrap=False)
    ours = train_demo(drop_in_engine, drop_in_nn, X[:12], y[:12], seed=7, steps=3, wrap=False)
    assert ours[1] == theirs[1]
    assert all(abs(a[0] - b[0]) <= TOL and a[1] == b[1] for a, b in zip(ours[2], theirs[2]))
    assert close(datas(ours[0]), datas(theirs[0]))


def test_a_valuegrad_nn_mlp_with_micrograds_options_is_the_same_model(moons):
    # The route the drop-in is built on: valuegrad.nn with micrograd's choices spelled out.
    random.seed(21)
    theirs = micrograd_nn.MLP(2, [16, 16, 1])
    random.seed(21)
    ours = valuegrad_nn.MLP(
        2, [16, 16, 1], activation="relu", last_activation="linear", bias_init="zero", rng=random
    )
    assert datas(ours) == datas(theirs) and repr(ours) == repr(theirs)
    for x in moons[0][:5]:
        assert abs(ours(x).data - theirs(x).data) <= TOL


# --- the classes themselves -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["Neuron", "Layer", "MLP"])
def test_constructors_have_micrograds_signatures(name):
    def shape(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls.__init__).parameters.values()]

    assert shape(getattr(drop_in_nn, name)) == shape(getattr(micrograd_nn, name))


@pytest.mark.parametrize("mods", BOTH)
def test_reprs_nonlin_and_the_module_api(mods):
    engine, nn = mods
    assert repr(nn.Neuron(3)) == "ReLUNeuron(3)"
    assert repr(nn.Neuron(3, nonlin=False)) == "LinearNeuron(3)"
    assert repr(nn.Layer(3, 2, nonlin=False)) == "Layer of [LinearNeuron(3), LinearNeuron(3)]"
    assert (
        repr(nn.MLP(3, [2, 1]))
        == "MLP of [Layer of [ReLUNeuron(3), ReLUNeuron(3)], Layer of [LinearNeuron(2)]]"
    )
    assert nn.Neuron(2).nonlin is True and nn.Neuron(2, nonlin=False).nonlin is False
    assert nn.Module().parameters() == []
    model = nn.MLP(3, [2, 1])
    assert all(isinstance(m, nn.Module) for m in (model, model.layers[0], model.layers[0].neurons[0]))
    assert isinstance(model.parameters()[0], engine.Value)
    assert [p.data for p in model.parameters() if p is model.layers[0].neurons[0].b] == [0]
    assert len(model.parameters()) == 2 * 4 + 3


@pytest.mark.parametrize("mods", BOTH)
def test_one_neuron_layer_gives_a_bare_value_and_zero_grad_gives_int_zero(mods):
    engine, nn = mods
    layer = nn.Layer(2, 1, nonlin=False)
    out = layer([1.0, -2.0])
    assert isinstance(out, engine.Value)
    out.backward()
    assert any(p.grad != 0 for p in layer.parameters())
    layer.zero_grad()
    assert all(p.grad == 0 and type(p.grad) is int for p in layer.parameters())


def test_turning_nonlin_off_after_construction_changes_the_output_in_both():
    outs = []
    for nn in (micrograd_nn, drop_in_nn):
        random.seed(2)
        neuron = nn.Neuron(2)
        x = [-1.0, -1.5]
        before = neuron(x).data
        neuron.nonlin = False
        outs.append((before, neuron(x).data, repr(neuron)))
    assert outs[0] == outs[1]
    assert outs[1][0] != outs[1][1]  # these inputs land on the flat side of the ReLU


def test_both_use_the_global_generator_alike():
    after = []
    for nn in (micrograd_nn, drop_in_nn):
        random.seed(99)
        nn.MLP(4, [3, 2])
        nn.Layer(2, 2)
        nn.Neuron(5)
        after.append(random.random())
    assert after[0] == after[1]


def test_a_course_exercise_module_subclass(moons):
    X, y = moons[0][:10], moons[1][:10]

    def run(engine, nn):
        class TwoLayerNet(nn.Module):
            def __init__(self):
                self.hidden = nn.Layer(2, 4)
                self.out = nn.Neuron(4, nonlin=False)

            def __call__(self, x):
                return self.out(self.hidden(x))

            def parameters(self):
                return self.hidden.parameters() + self.out.parameters()

        random.seed(5)
        net = TwoLayerNet()
        losses = []
        for _ in range(4):
            loss = sum((net([engine.Value(v) for v in x]) - yi) ** 2 for x, yi in zip(X, y))
            net.zero_grad()
            loss.backward()
            for p in net.parameters():
                p.data -= 0.01 * p.grad
            losses.append(loss.data)
        return losses, datas(net)

    (their_losses, their_weights), (our_losses, our_weights) = (
        run(micrograd_engine, micrograd_nn),
        run(drop_in_engine, drop_in_nn),
    )
    assert close(our_losses, their_losses) and close(our_weights, their_weights)
    assert our_losses[-1] < our_losses[0]


# --- where valuegrad.micrograd is deliberately better ------------------------------------------


def test_a_generator_is_read_once_so_every_neuron_sees_every_input():
    random.seed(8)
    theirs = micrograd_nn.Layer(3, 2, nonlin=False)
    random.seed(8)
    ours = drop_in_nn.Layer(3, 2, nonlin=False)
    x = [0.5, -1.0, 2.0]
    assert [v.data for v in ours(v for v in x)] == [v.data for v in ours(x)] == [v.data for v in theirs(x)]
    # micrograd's first neuron uses the generator up; its second neuron sees no input at all.
    from_generator = theirs(v for v in x)
    assert from_generator[1].data == theirs.neurons[1].b.data == 0


def test_wrong_inputs_and_sizes_raise_clear_errors():
    model = drop_in_nn.MLP(3, [4, 1])
    with pytest.raises(TypeError, match="MLP input 0 must be a number or a Value, got str: 'a'"):
        model(["a", "b", "c"])
    with pytest.raises(ValueError, match="expects 3 inputs, got 2"):
        model([1.0, 2.0])
    with pytest.raises(ValueError, match="nout must be >= 1"):
        drop_in_nn.Layer(2, 0)
    with pytest.raises(TypeError, match="nouts must be a non-empty list"):
        drop_in_nn.MLP(2, 16)
    # micrograd cannot run this one (its one-neuron hidden layer hands a bare Value on).
    assert isinstance(drop_in_nn.MLP(2, [3, 1, 1])([0.5, 0.5]), drop_in_engine.Value)


def test_the_micrograd_model_saves_loads_and_graduates_to_torch(tmp_path):
    random.seed(4)
    model = drop_in_nn.MLP(2, [3, 1])
    model.save(tmp_path / "m.json")
    state = random.getstate()
    loaded = drop_in_nn.MLP.load(tmp_path / "m.json")
    assert random.getstate() == state  # rebuilding it drew nothing from the global generator
    assert type(loaded) is drop_in_nn.MLP and datas(loaded) == datas(model)
    with pytest.raises(ValueError, match=r"use valuegrad\.nn\.MLP"):
        drop_in_nn.MLP.from_dict(valuegrad_nn.MLP(2, [3, 1], seed=0).to_dict())  # tanh layers

    back = drop_in_nn.MLP.from_torch(model.to_torch())
    assert type(back) is drop_in_nn.MLP and datas(back) == datas(model) and repr(back) == repr(model)
    assert random.getstate() == state


# --- micrograd code that reads the graph: _prev and _op ---------------------------------------


def trace(root):
    """All nodes and edges under ``root``, found through micrograd's ``_prev`` (a stack, no recursion)."""
    nodes, edges, todo = set(), set(), [root]
    while todo:
        node = todo.pop()
        if node in nodes:
            continue
        nodes.add(node)
        for operand in node._prev:
            edges.add((operand, node))
            todo.append(operand)
    return nodes, edges


def draw_dot(root, format="svg", rankdir="LR"):
    """A drawing in the style micrograd's users write: a record per Value, an oval per ``_op``."""
    nodes, edges = trace(root)
    dot = graphviz.Digraph(format=format, graph_attr={"rankdir": rankdir})
    for node in nodes:
        uid = str(id(node))
        dot.node(name=uid, label=f"{{ data {node.data:.4f} | grad {node.grad:.4f} }}", shape="record")
        if node._op:
            dot.node(name=uid + node._op, label=node._op)
            dot.edge(uid + node._op, uid)
    for operand, result in edges:
        dot.edge(str(id(operand)), str(id(result)) + result._op)
    return dot


def small_graph(engine, nn):
    random.seed(12)
    model = nn.MLP(2, [2, 1])
    score = model([engine.Value(0.5), engine.Value(-1.5)])
    loss = (score + 1) ** 2
    loss.backward()
    return loss


def test_trace_and_draw_dot_written_for_micrograd_work_on_valuegrad_values(tmp_path):
    graphs = {}
    for name, (engine, nn) in (
        ("micrograd", (micrograd_engine, micrograd_nn)),
        ("ours", (drop_in_engine, drop_in_nn)),
    ):
        loss = small_graph(engine, nn)
        nodes, edges = trace(loss)
        assert all(isinstance(n._prev, set) and isinstance(n._op, str) for n in nodes)
        graphs[name] = (
            sorted((n._op, round(n.data, 12), round(n.grad, 12)) for n in nodes),
            len(edges),
            draw_dot(loss).source,
        )
    (their_nodes, their_edges, their_source), (our_nodes, our_edges, our_source) = graphs.values()
    assert our_nodes == their_nodes and our_edges == their_edges
    assert {op for op, _, _ in our_nodes} == {"", "+", "*", "ReLU", "**2"}
    for spelled in ('label="+"', 'label="*"', "label=ReLU", 'label="**2"'):
        assert spelled in our_source and spelled in their_source
    assert "rankdir=LR" in our_source

    picture = tmp_path / "graph.png"
    pygraphviz.AGraph(string=our_source).draw(str(picture), format="png", prog="dot")
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- an optimizer that keeps its state on the parameters ------------------------------------


class AdamW:
    """AdamW as EurekaLabs' micrograd writes it: the moments live on each parameter as p.m and p.v."""

    def __init__(self, parameters, lr=0.05, betas=(0.9, 0.95), eps=1e-8, weight_decay=1e-3):
        self.parameters = list(parameters)
        self.lr, (self.beta1, self.beta2), self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.t = 0
        for p in self.parameters:
            p.m = 0.0
            p.v = 0.0

    def step(self):
        self.t += 1
        for p in self.parameters:
            p.m = self.beta1 * p.m + (1 - self.beta1) * p.grad
            p.v = self.beta2 * p.v + (1 - self.beta2) * p.grad**2
            m_hat = p.m / (1 - self.beta1**self.t)
            v_hat = p.v / (1 - self.beta2**self.t)
            p.data -= self.lr * (m_hat / (v_hat**0.5 + self.eps) + self.weight_decay * p.data)

    def zero_grad(self):
        for p in self.parameters:
            p.grad = 0


def test_adamw_with_state_on_the_parameters(moons):
    X, y = moons[0][:16], moons[1][:16]
    runs = []
    for engine, nn in ((micrograd_engine, micrograd_nn), (drop_in_engine, drop_in_nn)):
        random.seed(31)
        model = nn.MLP(2, [8, 1])
        opt = AdamW(model.parameters())
        losses = []
        with collector_paused():
            for _ in range(6):
                scores = [model([engine.Value(v) for v in x]) for x in X]
                loss = sum((1 + -yi * s).relu() for yi, s in zip(y, scores)) * (1.0 / len(y))
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.data)
        runs.append((losses, datas(model), [p.m for p in model.parameters()]))
    (their_losses, their_weights, their_m), (our_losses, our_weights, our_m) = runs
    assert close(our_losses, their_losses) and close(our_weights, their_weights) and close(our_m, their_m)
    assert our_losses[-1] < our_losses[0]


# --- no silent graph cuts: a Value is not a float --------------------------------------------


@pytest.mark.parametrize("mods", BOTH)
@pytest.mark.parametrize("cut", [math.exp, math.sin, float], ids=["math.exp", "math.sin", "float"])
def test_a_value_passed_where_python_wants_a_float_raises(mods, cut):
    engine, _ = mods
    with pytest.raises(TypeError):
        cut(engine.Value(1.0))


def test_docstring_examples_run():
    import doctest

    results = [doctest.testmod(module) for module in (drop_in_engine, drop_in_nn)]
    assert all(r.failed == 0 and r.attempted > 0 for r in results)


@pytest.mark.slow
def test_the_coming_from_micrograd_page_runs_and_prints_what_it_says():
    """The guide's Python blocks run in order, and print what their comments say."""
    import contextlib
    import io
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "docs" / "guide" / "coming-from-micrograd.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 2
    printed, promised = [], []
    namespace: dict = {}
    for block in blocks:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, str(page), "exec"), namespace)
        printed.append(out.getvalue().splitlines())
        promised.append(re.findall(r"^print\(.*\)\s+# (.*)$", block, re.M))
    assert printed[0] == promised[0] == ["Layer of [LinearNeuron(16)]", "337"]
    ours, theirs, difference = printed[1]
    assert [ours, theirs] == promised[1][:2]  # the two losses, as the page prints them
    assert ours.split()[1] == theirs.split()[1]
    assert promised[1][2].startswith("about ") and float(difference) < 1e-12
