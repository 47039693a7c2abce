"""valuegrad.nn.MLP <-> PyTorch: to_torch() makes the same network, from_torch() brings one back exactly.

The code is in valuegrad.torch_bridge; the tests use it as a person would, through MLP.
"""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
import torch

from valuegrad import Value, data, losses, nn

CONFIGS = [
    pytest.param(dict(nin=3, nouts=[4, 4, 1], activation="tanh", last_activation=None), id="tanh"),
    pytest.param(dict(nin=2, nouts=[16, 16, 1], activation="relu", last_activation="linear"), id="demo"),
    pytest.param(dict(nin=2, nouts=[5, 3], activation="sigmoid", last_activation="tanh"), id="two-outputs"),
    pytest.param(dict(nin=4, nouts=[2], activation="relu", last_activation=None), id="one-layer"),
]


def make(cfg: dict, seed: int = 0) -> nn.MLP:
    return nn.MLP(cfg["nin"], cfg["nouts"], cfg["activation"], cfg["last_activation"], seed=seed)


def datas(model: nn.MLP) -> list[float]:
    return [p.data for p in model.parameters()]


def batch(nin: int, n: int = 8, seed: int = 1) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(n)]


def outputs(model: nn.MLP, xs: list[list[float]]) -> list[list[float]]:
    out = []
    for x in xs:
        y = model(x)
        out.append([y.data] if isinstance(y, Value) else [v.data for v in y])
    return out


@pytest.mark.parametrize("cfg", CONFIGS)
def test_to_torch_has_the_same_parameters_and_outputs(cfg):
    model = make(cfg)
    net = model.to_torch()
    assert isinstance(net, torch.nn.Module)
    assert all(p.dtype == torch.float64 for p in net.parameters())
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert [(lin.in_features, lin.out_features) for lin in linears] == list(
        zip([model.nin, *model.nouts], model.nouts)
    )
    for layer, lin in zip(model.layers, linears):
        assert lin.weight.tolist() == [[w.data for w in n.w] for n in layer.neurons]  # exact copies
        assert lin.bias.tolist() == [n.b.data for n in layer.neurons]
    xs = batch(model.nin)
    theirs = net(torch.tensor(xs, dtype=torch.float64)).tolist()
    ours = outputs(model, xs)
    assert len(theirs) == len(ours)
    for a, b in zip(ours, theirs):
        assert a == pytest.approx(b, abs=1e-12, rel=0)


def test_to_torch_layer_by_layer_and_its_repr():
    model = nn.MLP(2, [16, 16, 1], activation="relu", last_activation="linear", seed=0)
    net = model.to_torch()
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert "Linear(in_features=16, out_features=1, bias=True)" in repr(net)
    net = nn.MLP(3, [4, 1], seed=0).to_torch()  # tanh throughout
    assert [type(m).__name__ for m in net] == ["Linear", "Tanh", "Linear", "Tanh"]


def test_to_torch_copies_and_leaves_torchs_random_stream_alone():
    model = nn.MLP(2, [3, 1], seed=2)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    net = model.to_torch()
    assert torch.equal(torch.rand(3), expected)  # no random initial values were drawn
    with torch.no_grad():
        net[0].weight.add_(1.0)
    assert datas(model) == datas(nn.MLP(2, [3, 1], seed=2))  # the copy is independent


@pytest.mark.parametrize("cfg", CONFIGS)
def test_round_trip_is_exact(cfg):
    model = make(cfg, seed=3)
    back = nn.MLP.from_torch(model.to_torch())
    assert type(back) is nn.MLP
    assert repr(back) == repr(model)
    assert (back.nin, back.nouts, back.activation, back.last_activation) == (
        model.nin,
        model.nouts,
        model.activation,
        model.last_activation,
    )
    assert [repr(v) for v in datas(back)] == [repr(v) for v in datas(model)]  # bit for bit
    xs = batch(model.nin, seed=4)
    assert outputs(back, xs) == outputs(model, xs)


def test_same_gradients_after_one_backward_in_both():
    X, y = data.make_moons(20, noise=0.1, seed=0)
    model = nn.MLP(2, [8, 8, 1], activation="relu", last_activation="linear", seed=5)
    net = model.to_torch()

    loss = losses.hinge([model(x) for x in X], y) + losses.l2(model.parameters(), 1e-4)
    loss.backward()

    scores = net(torch.tensor(X, dtype=torch.float64))[:, 0]
    targets = torch.tensor(y, dtype=torch.float64)
    tloss = torch.relu(1 - targets * scores).mean() + 1e-4 * sum((p * p).sum() for p in net.parameters())
    tloss.backward()

    assert loss.data == pytest.approx(tloss.item(), abs=1e-12, rel=0)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    expected = [
        g
        for lin in linears
        for row, gb in zip(lin.weight.grad.tolist(), lin.bias.grad.tolist())
        for g in (*row, gb)
    ]
    assert [p.grad for p in model.parameters()] == pytest.approx(expected, abs=1e-12, rel=0)
    assert any(g != 0 for g in expected)


def test_train_in_torch_and_bring_it_back():
    X, y = data.make_moons(40, noise=0.1, seed=1)
    model = nn.MLP(2, [8, 1], activation="tanh", last_activation="linear", seed=0)
    net = model.to_torch()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    inputs, targets = torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    for _ in range(30):
        opt.zero_grad()
        loss = ((net(inputs)[:, 0] - targets) ** 2).mean()
        loss.backward()
        opt.step()
    trained = nn.MLP.from_torch(net)
    assert datas(trained) != datas(model)
    with torch.no_grad():
        theirs = net(inputs)[:, 0].tolist()
    assert [trained.predict(x) for x in X] == pytest.approx(theirs, abs=1e-12, rel=0)


def test_from_torch_takes_a_hand_built_network_of_any_float_dtype():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 5),
        torch.nn.Sigmoid(),
        torch.nn.Linear(5, 5),
        torch.nn.Sigmoid(),
        torch.nn.Linear(5, 2),
        torch.nn.Identity(),
    )  # float32, as torch makes it by default
    model = nn.MLP.from_torch(net)
    assert (model.nin, model.nouts, model.activation, model.last_activation) == (
        3,
        [5, 5, 2],
        "sigmoid",
        "linear",
    )
    # float32 -> Python float is exact: every parameter is the tensor's number.
    assert model.layers[0].neurons[1].w[2].data == net[0].weight[1, 2].item()
    assert [w.data for w in model.layers[2].neurons[1].w] == net[4].weight[1].tolist()
    xs = batch(3)
    with torch.no_grad():
        theirs = net.double()(torch.tensor(xs, dtype=torch.float64)).tolist()
    for a, b in zip(outputs(model, xs), theirs):
        assert a == pytest.approx(b, abs=1e-12, rel=0)

    single = torch.nn.Linear(2, 1, bias=False, dtype=torch.float64)
    one = nn.MLP.from_torch(single)
    assert one.nouts == [1] and one.last_activation == "linear" and one.layers[0].neurons[0].b.data == 0.0
    assert one([1.0, 2.0]).data == pytest.approx(single(torch.tensor([1.0, 2.0], dtype=torch.float64)).item())


@pytest.mark.parametrize(
    "make_net, error, message",
    [
        (lambda: torch.nn.ReLU(), TypeError, "takes a torch.nn.Sequential"),
        (lambda: [torch.nn.Linear(2, 2)], TypeError, "got list"),
        (lambda: torch.nn.Sequential(), ValueError, "no Linear layer"),
        (
            lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Dropout(0.1), torch.nn.Linear(3, 1)),
            ValueError,
            "module (1), Dropout(p=0.1, inplace=False), does not fit",
        ),
        (
            lambda: torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(2, 1)),
            ValueError,
            "module (0), ReLU()",
        ),
        (
            lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.ReLU()),
            ValueError,
            "module (2), ReLU(), does not fit",
        ),
        (
            lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.GELU(), torch.nn.Linear(3, 1)),
            ValueError,
            "module (1), GELU(approximate='none')",
        ),
        (
            lambda: torch.nn.Sequential(
                torch.nn.Linear(2, 3),
                torch.nn.ReLU(),
                torch.nn.Linear(3, 3),
                torch.nn.Tanh(),
                torch.nn.Linear(3, 1),
            ),
            ValueError,
            "hidden layers' activations differ (['relu', 'tanh'])",
        ),
        (
            lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(4, 1)),
            ValueError,
            "Linear layer 1 takes 4 inputs but layer 0 gives 3",
        ),
    ],
)
def test_from_torch_refuses_what_an_mlp_is_not(make_net, error, message):
    with pytest.raises(error) as e:
        nn.MLP.from_torch(make_net())
    assert message in str(e.value)


def test_from_torch_refuses_non_finite_parameters():
    net = nn.MLP(2, [2, 1], seed=0).to_torch()
    with torch.no_grad():
        net[2].bias[0] = float("nan")
    with pytest.raises(ValueError, match=r"Linear layer 1: bias\[0\] is nan"):
        nn.MLP.from_torch(net)


def test_torch_is_imported_only_by_to_torch_and_from_torch():
    code = (
        "import sys, valuegrad, valuegrad.nn, valuegrad.torch_bridge, valuegrad.micrograd\n"
        "m = valuegrad.nn.MLP(2, [3, 1], seed=0); m([1.0, 2.0]); m.to_dict()\n"
        "assert 'torch' not in sys.modules, 'imported too early'\n"
        "m.to_torch()\n"
        "assert 'torch' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_without_torch_the_error_says_what_to_install():
    code = (
        "import sys; sys.modules['torch'] = None\n"  # as if torch were not installed
        "import valuegrad.nn\n"
        "try:\n"
        "    valuegrad.nn.MLP(2, [1], seed=0).to_torch()\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "MLP.to_torch needs PyTorch: pip install torch"
