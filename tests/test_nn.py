"""valuegrad.nn: Neuron, Layer, MLP (shapes, inputs, initial values, micrograd's parameter order,
gradients against PyTorch) and state dicts. Model files: tests/test_model_files.py."""

from __future__ import annotations

import random

import micrograd.nn as micrograd_nn
import numpy as np
import pytest
import torch

from valuegrad import Value, nn, topological_order


def datas(params: list[Value]) -> list[float]:
    return [p.data for p in params]


# --- shapes and construction ---------------------------------------------------


def test_notebook_mlp_has_41_parameters_and_readable_repr():
    model = nn.MLP(3, [4, 4, 1], seed=0)
    assert len(model.parameters()) == 41
    assert repr(model) == (
        "MLP of [Layer of [TanhNeuron(3), TanhNeuron(3), TanhNeuron(3), TanhNeuron(3)], "
        "Layer of [TanhNeuron(4), TanhNeuron(4), TanhNeuron(4), TanhNeuron(4)], Layer of [TanhNeuron(4)]]"
    )
    demo = nn.MLP(2, [16, 16, 1], activation="relu", last_activation="linear", seed=0)
    assert len(demo.parameters()) == 337
    assert (
        repr(demo.layers[0].neurons[0]) == "ReLUNeuron(2)"
        and repr(demo.layers[-1]) == "Layer of [LinearNeuron(16)]"
    )


def test_one_output_is_a_value_several_are_a_list_and_width_one_layers_work():
    assert isinstance(nn.MLP(3, [4, 1], seed=0)([1.0, 2.0, 3.0]), Value)
    out = nn.MLP(3, [4, 2], seed=0)([1.0, 2.0, 3.0])
    assert isinstance(out, list) and len(out) == 2 and all(isinstance(v, Value) for v in out)
    # micrograd fails on this one: its one-neuron layer hands a bare Value to the next layer.
    assert isinstance(nn.MLP(2, [16, 1, 1], seed=0)([0.5, -0.5]), Value)
    layer = nn.Layer(2, 1, seed=0)
    assert isinstance(layer([1.0, 2.0]), Value)


def test_inputs_may_be_values_and_gradients_reach_them():
    x = [Value(0.5), Value(-1.5)]
    y = nn.MLP(2, [3, 1], seed=0)(x)
    y.backward()
    assert all(v.grad != 0 for v in x)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.MLP(0, [4]), "nin must be >= 1, got 0"),
        (lambda: nn.MLP(3, []), "at least one layer"),
        (lambda: nn.MLP(3, [4, 0, 1]), "nouts[1] (size of layer 1) must be >= 1, got 0"),
        (lambda: nn.Layer(2, 0), "nout must be >= 1, got 0"),
        (lambda: nn.Neuron(-1), "nin must be >= 1, got -1"),
        (lambda: nn.MLP(3, [4], activation="softmax"), "activation must be one of"),
        (lambda: nn.MLP(3, [4], last_activation="gelu"), "last_activation must be one of"),
        (lambda: nn.MLP(3, [4], seed=1, rng=random.Random(1)), "either seed= or rng="),
        (lambda: nn.Neuron(2, bias_init="normal"), "bias_init"),
    ],
)
def test_bad_construction_raises_value_error_naming_the_problem(make, message):
    with pytest.raises(ValueError) as e:
        make()
    assert message in str(e.value)


def test_bad_types_raise_type_error():
    with pytest.raises(TypeError):
        nn.MLP(3.0, [4])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        nn.MLP(3, 4)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        nn.MLP(3, [True])


def test_wrong_input_length_names_the_sizes():
    model = nn.MLP(3, [4, 1], seed=0)
    with pytest.raises(ValueError, match="expects 3 inputs, got 2"):
        model([1.0, 2.0])
    with pytest.raises(ValueError, match="expects 3 inputs, got 4"):
        model.layers[0]([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(TypeError, match=r"list of 1 numbers.*\[x\]"):
        nn.MLP(1, [1], seed=0)(2.0)  # type: ignore[arg-type]


def test_any_ordered_iterable_is_read_once_and_every_neuron_sees_it():
    model = nn.MLP(3, [4, 2], seed=0)
    row = [0.5, -1.0, 2.0]
    expected = [v.data for v in model(row)]
    for x in (tuple(row), iter(row), (v for v in row), map(float, row)):
        assert [v.data for v in model(x)] == expected, type(x).__name__
    layer, neuron = model.layers[0], model.layers[0].neurons[0]
    assert [v.data for v in layer(v for v in row)] == [v.data for v in layer(row)]
    assert neuron(iter(row)).data == neuron(row).data
    assert model.predict(v for v in row) == expected
    # A generator of the wrong length is still an error, after being read once.
    with pytest.raises(ValueError, match="expects 3 inputs, got 2"):
        model(v for v in row[:2])


def test_a_numpy_row_is_an_input():
    model = nn.MLP(2, [3, 1], activation="relu", last_activation="linear", seed=4)
    X = np.array([[0.25, -0.75], [1.5, 0.5]])
    for row in X:
        assert model(row).data == model([float(v) for v in row]).data
        assert model.predict(row) == model([float(v) for v in row]).data
    assert model(np.array([1, -2])).data == model([1, -2]).data  # NumPy ints
    with pytest.raises(ValueError, match="expects 2 inputs, got 4"):
        model(X.ravel())


@pytest.mark.parametrize(
    "x, fragment",
    [
        (["a", "b", "c"], "MLP input 0 must be a number or a Value, got str: 'a'"),
        ([1.0, None, 2.0], "MLP input 1 must be a number or a Value, got NoneType: None"),
        ([1.0, 2.0, True], "MLP input 2 must be a number or a Value, got bool: True"),
        ([1.0, 2.0, [3.0]], "MLP input 2 must be a number or a Value, got list: [3.0]"),
        ({1.0, 2.0, 3.0}, "takes a list of 3 numbers or Values"),
        ({"a": 1.0, "b": 2.0, "c": 3.0}, "got dict"),
        ("abc", "got str: 'abc'"),
        (Value(1.0), "got Value"),
    ],
)
def test_bad_inputs_raise_type_error_naming_the_input(x, fragment):
    model = nn.MLP(3, [2, 1], seed=0)
    with pytest.raises(TypeError) as e:
        model(x)
    assert fragment in str(e.value)
    # Before this was checked, ["a", "b", "c"] failed deep in the engine with
    # "can't multiply sequence by non-int of type 'Value'".
    assert "multiply" not in str(e.value)


def test_bad_input_messages_name_the_neuron_or_layer():
    with pytest.raises(TypeError, match=r"TanhNeuron\(2\) input 1 must be a number"):
        nn.Neuron(2, seed=0)([1.0, "x"])
    with pytest.raises(TypeError, match=r"Layer\(2, 3\) input 0 must be a number"):
        nn.Layer(2, 3, seed=0)([b"x", 1.0])
    with pytest.raises(TypeError, match=r"MLP.predict input 0"):
        nn.MLP(2, [1], seed=0).predict(["1", 2.0])
    with pytest.raises(TypeError, match="cannot read its inputs from ndarray"):
        nn.MLP(1, [1], seed=0)(np.array(1.0))  # a 0-d array: iterable in name only


# --- initial values --------------------------------------------------------------


def test_seeded_networks_are_reproducible_and_every_neuron_draws_its_own_weights():
    a, b = nn.MLP(3, [4, 4, 1], seed=7), nn.MLP(3, [4, 4, 1], seed=7)
    assert datas(a.parameters()) == datas(b.parameters())
    assert datas(a.parameters()) != datas(nn.MLP(3, [4, 4, 1], seed=8).parameters())
    for layer in a.layers:
        rows = [(*(w.data for w in n.w), n.b.data) for n in layer.neurons]
        assert len(set(rows)) == len(rows), "two neurons of a layer start identical"
    values = datas(a.parameters())
    assert all(-1 <= v <= 1 for v in values) and len(set(values)) == len(values)


def test_manual_seed_and_rng_argument():
    nn.manual_seed(3)
    first = datas(nn.MLP(2, [3, 1]).parameters())
    nn.manual_seed(3)
    assert datas(nn.MLP(2, [3, 1]).parameters()) == first
    assert datas(nn.MLP(2, [3, 1], rng=random.Random(3)).parameters()) == first


def test_rng_random_draws_from_the_global_generator_as_micrograd_does():
    random.seed(5)
    drawn = [random.uniform(-1, 1) for _ in range(3 * 2 + 1 * 3)]
    after = random.random()
    random.seed(5)
    model = nn.MLP(2, [3, 1], activation="relu", last_activation="linear", bias_init="zero", rng=random)
    weights = [w.data for layer in model.layers for n in layer.neurons for w in n.w]
    assert weights == drawn  # layer by layer, neuron by neuron, weight by weight
    assert all(n.b.data == 0.0 for layer in model.layers for n in layer.neurons)
    assert random.random() == after  # no number drawn for the zero biases
    random.seed(5)
    assert [w.data for w in nn.Neuron(4, rng=random).w] == drawn[:4]


def test_default_generator_leaves_the_global_one_alone():
    random.seed(11)
    state = random.getstate()
    nn.MLP(2, [4, 1])
    nn.MLP(2, [4, 1], seed=3)
    assert random.getstate() == state


@pytest.mark.parametrize("bad", ["random", 3, random.uniform, object()])
def test_rng_must_be_a_generator_or_the_random_module(bad):
    with pytest.raises(TypeError, match=r"rng must be a random\.Random, or the random module"):
        nn.MLP(2, [1], rng=bad)


def test_bias_init():
    uniform = nn.MLP(2, [5], seed=0)
    assert all(n.b.data != 0 for n in uniform.layers[0].neurons)
    zero = nn.MLP(2, [5], seed=0, bias_init="zero")
    assert all(n.b.data == 0.0 and isinstance(n.b.data, float) for n in zero.layers[0].neurons)


def test_zero_bias_init_draws_exactly_micrograds_weights_in_micrograds_order():
    random.seed(1337)
    theirs = micrograd_nn.MLP(2, [16, 16, 1])
    ours = nn.MLP(2, [16, 16, 1], activation="relu", last_activation="linear", seed=1337, bias_init="zero")
    assert [float(p.data) for p in theirs.parameters()] == datas(ours.parameters())
    assert repr(theirs) == repr(ours)


def test_parameter_order_is_layer_neuron_weights_then_bias():
    model = nn.MLP(2, [3, 1], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names[:4] == [
        "layers.0.neurons.0.w.0",
        "layers.0.neurons.0.w.1",
        "layers.0.neurons.0.b",
        "layers.0.neurons.1.w.0",
    ]
    assert names[-1] == "layers.1.neurons.0.b"
    expected = [p for layer in model.layers for n in layer.neurons for p in (*n.w, n.b)]
    assert all(a is b for a, b in zip(model.parameters(), expected)) and len(expected) == 13


# --- the forward graph and gradients ----------------------------------------------


def test_neuron_builds_micrograds_chain_b_plus_w1x1_plus_w2x2():
    n = nn.Neuron(3, activation="linear", seed=0)
    out = n([1.0, 2.0, 3.0])
    # out = ((b + w1*x1) + w2*x2) + w3*x3: walk the chain of sums down to b
    act = out
    for i in (2, 1, 0):
        assert act.op == "+"
        act, product = act.children
        assert product.op == "*" and product.children[0] is n.w[i]
    assert act is n.b
    assert [v.op for v in topological_order(out) if v.op].count("*") == 3
    assert out.data == ((n.b.data + n.w[0].data * 1.0) + n.w[1].data * 2.0) + n.w[2].data * 3.0
    assert nn.Neuron(2, seed=0)([1.0, 2.0]).op == "tanh"
    assert nn.Neuron(2, "relu", seed=0)([1.0, 2.0]).op == "relu"


def test_predict_is_bit_for_bit_the_graph_forward():
    rng = random.Random(0)
    for act, last in [("tanh", None), ("relu", "linear"), ("sigmoid", "tanh")]:
        model = nn.MLP(3, [5, 4, 2], activation=act, last_activation=last, seed=1)
        for _ in range(5):
            x = [rng.uniform(-3, 3) for _ in range(3)]
            assert model.predict(x) == [v.data for v in model(x)]
    with pytest.raises(TypeError):
        nn.MLP(1, [1], seed=0).predict([Value(1.0)])


@pytest.mark.parametrize("activation, last", [("tanh", None), ("relu", "linear"), ("sigmoid", "tanh")])
def test_loss_and_gradients_match_pytorch(activation, last):
    model = nn.MLP(3, [4, 4, 1], activation=activation, last_activation=last, seed=2)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys))
    loss.backward()

    acts = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "linear": lambda t: t}
    tensors = []
    for layer in model.layers:
        W = torch.tensor(
            [[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64, requires_grad=True
        )
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        tensors.append((W, b, acts[layer.activation]))
    h = torch.tensor(xs, dtype=torch.float64)
    for W, b, f in tensors:
        h = f(h @ W.T + b)
    tloss = ((h[:, 0] - torch.tensor(ys, dtype=torch.float64)) ** 2).sum()
    tloss.backward()
    assert loss.data == pytest.approx(tloss.item(), abs=1e-12)
    expected = [
        g for W, b, _ in tensors for row_w, gb in zip(W.grad.tolist(), b.grad.tolist()) for g in (*row_w, gb)
    ]
    assert [p.grad for p in model.parameters()] == pytest.approx(expected, abs=1e-12)


def test_zero_grad_resets_only_parameters():
    model = nn.MLP(2, [3, 1], seed=0)
    x = [Value(1.0), Value(-2.0)]
    out = model(x)
    out.backward()
    hidden = [v for v in topological_order(out) if v.op and v is not out]
    assert any(v.grad != 0 for v in hidden) and all(p.grad != 0 for p in model.parameters()[:2])
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    assert all(v.grad != 0 for v in x)  # inputs are not parameters
    assert any(v.grad != 0 for v in hidden)


def test_module_subclasses_in_micrograds_style_and_pytorchs_style():
    assert nn.Module().parameters() == [] and nn.Module().named_parameters() == []
    nn.Module().zero_grad()  # nothing to reset, no error

    class Affine(nn.Module):  # micrograd's way: parameters()
        def __init__(self) -> None:
            self.a, self.b = Value(2.0), Value(1.0)

        def __call__(self, x):
            return self.a * x + self.b

        def parameters(self):
            return [self.a, self.b]

    class Named(nn.Module):  # PyTorch's way: named_parameters()
        def __init__(self) -> None:
            self.k = Value(3.0)

        def named_parameters(self):
            return [("k", self.k)]

    f = Affine()
    f(Value(5.0)).backward()
    assert [p.grad for p in f.parameters()] == [5.0, 1.0]
    assert f.named_parameters() == [("0", f.a), ("1", f.b)]
    f.zero_grad()
    assert [p.grad for p in f.parameters()] == [0.0, 0.0]
    assert Named().parameters()[0].data == 3.0 and Named().state_dict() == {"k": 3.0}
    with pytest.raises(NotImplementedError, match="Named does not define __call__"):
        Named()(1.0)


def test_a_neurons_activation_can_be_changed_and_is_checked():
    n = nn.Neuron(2, "relu", seed=0)
    n.w[0].data, n.w[1].data, n.b.data = 1.0, 1.0, 0.0
    assert n([-1.0, -2.0]).data == 0.0 and repr(n) == "ReLUNeuron(2)"
    n.activation = "linear"
    assert n([-1.0, -2.0]).data == -3.0 and repr(n) == "LinearNeuron(2)"
    with pytest.raises(ValueError, match="activation must be one of"):
        n.activation = "softplus"
    assert n.activation == "linear" and n([-1.0, -2.0]).data == -3.0


# --- state dicts -------------------------------------------------------------------


def test_state_dict_round_trip_and_all_or_nothing_loading():
    a, b = nn.MLP(3, [4, 1], seed=1), nn.MLP(3, [4, 1], seed=2)
    b.load_state_dict(a.state_dict())
    assert datas(b.parameters()) == datas(a.parameters())
    before = datas(b.parameters())
    bad = a.state_dict()
    bad["layers.1.neurons.0.b"] = float("nan")
    for broken in (
        bad,
        {**a.state_dict(), "extra": 1.0},
        {k: v for k, v in list(a.state_dict().items())[1:]},
    ):
        with pytest.raises(nn.ModelFileError):
            b.load_state_dict(broken)
        assert datas(b.parameters()) == before
    with pytest.raises(nn.ModelFileError, match="does not fit"):
        b.load_state_dict(nn.MLP(3, [5, 1], seed=0).state_dict())


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(nn)
    assert result.failed == 0 and result.attempted >= 15
