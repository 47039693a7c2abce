"""Hostile inputs across the public API: the documented error (or IEEE result), nothing changed.

The engine's rules (README, "The engine's rules"): NaN or infinite *inputs* propagate by
IEEE rules, as in PyTorch; finite inputs never produce a silent NaN: ``log`` of a
non-positive value raises `ValueError`, division by zero raises `ZeroDivisionError`,
a negative base with a fractional exponent raises `ValueError`, ``a ** b`` with a Value
exponent needs ``a > 0`` (`ValueError`). Bad types raise `TypeError`. After any error
every existing object is as it was.

Model files (`valuegrad.nn`): random bytes, truncated or corrupted JSON, wrong shapes and
types, huge declared sizes, unknown versions, NaN/inf, pickles: every one raises
`nn.ModelFileError`, runs no code, allocates little, and changes no existing model.
"""

from __future__ import annotations

import json
import math
import operator
import os
import pickle
import random
import tracemalloc
from decimal import Decimal
from fractions import Fraction
from typing import Any, Callable

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from valuegrad import Value, gradients, numerical_grad, topological_order
from valuegrad.examples import first_expression, one_neuron

inf, nan = math.inf, math.nan


def state(*values: Value) -> list[tuple]:
    """Everything observable about some Values and the graphs below them."""
    out = []
    for root in values:
        for v in topological_order(root):
            out.append((id(v), repr(v.data), repr(v.grad), v.label, v.op, tuple(id(c) for c in v.children)))
    return out


# --- the engine: bad types ------------------------------------------------------------

BAD_DATA = [
    "abc",
    b"1",
    None,
    [1.0],
    (1.0,),
    {1.0},
    {"a": 1.0},
    1j,
    True,
    Decimal("1.5"),
    np.array(1.0),
    np.array([1.0, 2.0]),
    np.bool_(True),
    np.complex128(1),
    object(),
]


@pytest.mark.parametrize("bad", BAD_DATA, ids=lambda b: type(b).__name__)
def test_value_rejects_every_non_real(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


@pytest.mark.parametrize("bad", BAD_DATA, ids=lambda b: type(b).__name__)
@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow])
def test_operators_reject_non_reals_on_either_side(op, bad):
    a = Value(2.0, label="a")
    b = a * 3.0
    before = state(b)
    with pytest.raises(TypeError):
        op(b, bad)
    with pytest.raises(TypeError):
        op(bad, b)
    assert state(b) == before


@pytest.mark.parametrize("bad", [3, 1.5, None, b"a", ["a"]])
def test_label_must_be_a_string(bad):
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=bad)


@pytest.mark.parametrize("bad", [None, 3.0, "L", [Value(1.0)]])
def test_topological_order_and_gradients_need_a_value(bad):
    with pytest.raises(TypeError):
        topological_order(bad)
    with pytest.raises(TypeError):
        gradients(bad)


@pytest.mark.parametrize("bad", [[3.0], "ab", [Value(1.0), None]])
def test_gradients_rejects_inputs_that_are_not_values(bad):
    x = Value(2.0)
    y = x * x
    with pytest.raises(TypeError, match="Value"):
        gradients(y, bad)


def test_gradients_of_unrelated_or_empty_inputs():
    x, z = Value(2.0), Value(Fraction(1, 3))
    y = x * x
    assert gradients(y, []) == {}
    g = gradients(y, [z, x])
    assert g[x] == 4.0 and g[z] == 0 and type(g[z]) is Fraction


# --- the engine: special values against torch, or the documented error -----------------

SPECIAL = [inf, -inf, nan, 0.0, -0.0, 2.0, -2.0, 1000.0, -1000.0]

UNARY: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "neg": (operator.neg, operator.neg),
    "tanh": (Value.tanh, torch.tanh),
    "exp": (Value.exp, torch.exp),
    "log": (Value.log, torch.log),
    "relu": (Value.relu, torch.relu),
    "sigmoid": (Value.sigmoid, torch.sigmoid),
    "square": (lambda v: v**2, lambda t: t**2),
    "sqrt": (lambda v: v**0.5, lambda t: t**0.5),
    "inv": (lambda v: v**-1, lambda t: t**-1),
    "cube": (lambda v: v**3, lambda t: t**3),
    "2**": (lambda v: 2**v, lambda t: 2**t),
}
BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow}


def documented_error(name: str, x: float, y: float | None = None) -> type[Exception] | None:
    """The error the README promises for these inputs, or None when an IEEE result is due."""
    if name == "log" and x <= 0:
        return ValueError
    if name == "sqrt" and x < 0:
        return ValueError  # negative base, fractional exponent (-inf included: no complex, no silent inf)
    if name == "inv" and x == 0:
        return ZeroDivisionError
    if name == "/" and y == 0:
        return ZeroDivisionError
    if name == "**" and x <= 0:
        return ValueError  # a Value exponent needs a positive base
    return None


def same(got: float, want: float, nan_inputs: bool) -> bool:
    if math.isnan(want):
        return math.isnan(got)
    # NaN in, NaN out is always allowed (PyTorch masks a few IEEE NaNs, e.g. d/dx nan**0 = 0);
    # finite results may differ in the last bit (torch writes a few derivatives differently).
    return math.isclose(got, want, rel_tol=4e-16) or (nan_inputs and math.isnan(got))


UNARY_CASES = [pytest.param(n, x, id=f"{n}({x})") for n in UNARY for x in SPECIAL]
BINARY_CASES = [
    pytest.param(s, x, y, id=f"{x} {s} {y}") for s in BINARY for x in SPECIAL[:7] for y in SPECIAL[:7]
]


def documented_backward_error(name: str, x: float) -> type[Exception] | None:
    """README: the slope of x ** 0.5 at 0 is a ZeroDivisionError (as 0.0 ** -0.5 in Python; torch: inf)."""
    return ZeroDivisionError if name == "sqrt" and x == 0 else None


@pytest.mark.parametrize(("name", "x"), UNARY_CASES)
def test_special_inputs_follow_torch_or_a_documented_error(name, x):
    fv, ft = UNARY[name]
    v = Value(x)
    before = state(v)
    error = documented_error(name, x)
    if error is not None:
        with pytest.raises(error):
            fv(v)
        assert state(v) == before
        return
    out = fv(v)
    error = documented_backward_error(name, x)
    if error is not None:
        before = state(out)
        with pytest.raises(error):
            out.backward()
        assert state(out) == before  # backward() is all-or-nothing
        return
    out.backward()
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tout = ft(t)
    tout.backward()
    nan_in = math.isnan(x)
    assert same(out.data, tout.item(), nan_in), (out.data, tout.item())
    assert same(v.grad, t.grad.item(), nan_in), (v.grad, t.grad.item())


@pytest.mark.parametrize(("sym", "x", "y"), BINARY_CASES)
def test_special_operands_follow_torch_or_a_documented_error(sym, x, y):
    f = BINARY[sym]
    a, b = Value(x, label="a"), Value(y, label="b")
    error = documented_error(sym, x, y)
    if error is not None:
        before = state(a, b)
        with pytest.raises(error):
            f(a, b)
        assert state(a, b) == before
        return
    out = f(a, b)
    out.backward()
    ta = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(y, dtype=torch.float64, requires_grad=True)
    tout = f(ta, tb)
    tout.backward()
    nan_in = math.isnan(x) or math.isnan(y)
    assert same(out.data, tout.item(), nan_in)
    assert same(a.grad, ta.grad.item(), nan_in), (a.grad, ta.grad.item())
    assert same(b.grad, tb.grad.item(), nan_in), (b.grad, tb.grad.item())


@pytest.mark.parametrize("big", [1000.0, -1000.0, 1e308, -1e308])
def test_tanh_and_sigmoid_are_stable_at_extremes(big):
    for method, want in ((Value.tanh, math.copysign(1.0, big)), (Value.sigmoid, 1.0 if big > 0 else 0.0)):
        x = Value(big)
        out = method(x)
        out.backward()
        assert out.data == want and x.grad == 0.0


def test_no_nan_from_finite_inputs_at_the_edges_of_each_domain():
    """Finite inputs at the edge of a domain: a finite answer or the documented error, never NaN."""
    tiny = 5e-324
    for make in (
        lambda: Value(tiny).log(),
        lambda: Value(tiny) ** 0.5,
        lambda: Value(1e308) * Value(1e308) - Value(1e308),  # inf - finite: still inf, no NaN
        lambda: Value(-745.2).exp(),
        lambda: Value(709.0).exp() * Value(0.5),
        lambda: Value(1e-300) / 1e300,
        lambda: Value(1.0) / Value(tiny),
    ):
        out = make()
        assert not math.isnan(out.data)
        out.backward()
        for v in topological_order(out):
            assert not math.isnan(v.grad), (v, out)


@pytest.mark.parametrize(
    ("base", "exponent", "value_exponent"),
    [
        (10.0, 400.0, False),
        (-10.0, 401.0, False),
        (-10.0, 400.0, False),
        (0.5, -1100.0, False),
        (10.0, 400.0, True),
        (2.0, 2000.0, True),
    ],
)
def test_pow_overflow_gives_inf_like_exp_and_torch(base, exponent, value_exponent):
    x = Value(base)
    e = Value(exponent) if value_exponent else exponent
    out = x**e
    out.backward()
    tx = torch.tensor(base, dtype=torch.float64, requires_grad=True)
    te = torch.tensor(exponent, dtype=torch.float64, requires_grad=True) if value_exponent else exponent
    tout = tx**te
    tout.backward()
    assert out.data == tout.item() and math.isinf(out.data)
    assert x.grad == tx.grad.item()
    if value_exponent:
        assert e.grad == te.grad.item()


def test_backward_overflow_of_a_finite_forward_gives_inf():
    x = Value(1e-200)
    y = x**-1.5  # 1e300: finite
    y.backward()
    assert x.grad == -math.inf  # torch: -inf


def test_failed_backward_changes_no_grad():
    x = Value(np.float64(1e-300), label="x")
    a = x * 3.0
    b = 1.0 / x
    L = a + b
    before = state(L)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        L.backward()  # d(1/x)/dx = -1e600 overflows, and NumPy was told to raise
    assert state(L) == before


def test_failing_ops_leave_their_operands_unchanged():
    L = first_expression()
    before = state(L)
    for bad in (
        lambda: (L - L).log(),
        lambda: L / 0,
        lambda: L / (L - L),
        lambda: L**0.5,
        lambda: L ** Value(2.0),
        lambda: L ** Value(-2.0),
        lambda: (L * 0) ** -1,
        lambda: L + "1",
        lambda: L ** Decimal(2),
    ):
        with pytest.raises((ValueError, ZeroDivisionError, TypeError)):
            bad()
        assert state(L) == before


# --- numerical_grad and the examples ----------------------------------------------------


@pytest.mark.parametrize("h", [0, 0.0, -1e-6, nan, inf, True, "1e-6", None])
def test_numerical_grad_rejects_bad_steps(h):
    with pytest.raises(ValueError, match="h must be"):
        numerical_grad(lambda a: a * a, [1.0], h=h)


@pytest.mark.parametrize("method", ["backward", "", None, "Central"])
def test_numerical_grad_rejects_unknown_methods(method):
    with pytest.raises(ValueError, match="method"):
        numerical_grad(lambda a: a * a, [1.0], method=method)


@pytest.mark.parametrize("bad", ["1", None, True, 1j, [1.0]])
def test_numerical_grad_rejects_non_number_inputs(bad):
    with pytest.raises(TypeError, match="input 1"):
        numerical_grad(lambda a, b: a * b, [1.0, bad])


def test_numerical_grad_edge_cases():
    assert numerical_grad(lambda: Value(1.0), []) == []
    with pytest.raises(TypeError):  # f takes 2 arguments, 3 inputs given: Python's own error
        numerical_grad(lambda a, b: a * b, [1.0, 2.0, 3.0])
    got = numerical_grad(lambda a, b: a * b, [nan, 2.0])
    assert all(math.isnan(g) for g in got)  # NaN in, NaN out
    v = Value(3.0, label="v")
    before = state(v)
    assert numerical_grad(lambda a: a * a, [v]) == pytest.approx([6.0])
    assert state(v) == before  # the input Value itself is not nudged


@pytest.mark.parametrize("bad", ["2", None, [2.0], True])
def test_examples_reject_bad_numbers(bad):
    with pytest.raises(TypeError):
        one_neuron(x1=bad)


# --- valuegrad.nn: constructors, calls, state dicts --------------------------------------

nn = pytest.importorskip("valuegrad.nn")


def params(model: Any) -> list[str]:
    return [repr(p.data) + "/" + repr(p.grad) for p in model.parameters()]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"nin": 0, "nouts": [1]}, ValueError),
        ({"nin": -3, "nouts": [1]}, ValueError),
        ({"nin": 2.0, "nouts": [1]}, TypeError),
        ({"nin": True, "nouts": [1]}, TypeError),
        ({"nin": "2", "nouts": [1]}, TypeError),
        ({"nin": None, "nouts": [1]}, TypeError),
        ({"nin": 2, "nouts": []}, ValueError),
        ({"nin": 2, "nouts": [0]}, ValueError),
        ({"nin": 2, "nouts": [4, -1]}, ValueError),
        ({"nin": 2, "nouts": [4, 1.0]}, TypeError),
        ({"nin": 2, "nouts": "41"}, TypeError),
        ({"nin": 2, "nouts": 4}, TypeError),
        ({"nin": 2, "nouts": None}, TypeError),
        ({"nin": 2, "nouts": [1], "activation": "gelu"}, ValueError),
        ({"nin": 2, "nouts": [1], "activation": None}, ValueError),
        ({"nin": 2, "nouts": [1], "last_activation": "softmax"}, ValueError),
        ({"nin": 2, "nouts": [1], "seed": "0"}, TypeError),
        ({"nin": 2, "nouts": [1], "seed": 1.5}, TypeError),
        ({"nin": 2, "nouts": [1], "seed": 0, "rng": random.Random(0)}, ValueError),
        ({"nin": 2, "nouts": [1], "rng": 42}, TypeError),
        ({"nin": 2, "nouts": [1], "bias_init": "ones"}, ValueError),
    ],
)
def test_mlp_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        nn.MLP(**kwargs)


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: nn.Neuron(0), ValueError),
        (lambda: nn.Neuron(2.5), TypeError),
        (lambda: nn.Layer(2, 0), ValueError),
        (lambda: nn.Layer(-1, 2), ValueError),
        (lambda: nn.Layer(2, "3"), TypeError),
        (lambda: nn.manual_seed("x"), TypeError),
        (lambda: nn.manual_seed(None), TypeError),
    ],
)
def test_neuron_layer_and_seed_reject_bad_arguments(make, error):
    with pytest.raises(error):
        make()


@pytest.mark.parametrize(
    ("x", "error"),
    [
        ([1.0, 2.0], ValueError),
        ([1.0, 2.0, 3.0, 4.0], ValueError),
        ([], ValueError),
        (1.0, TypeError),
        (Value(1.0), TypeError),
        ("abc", TypeError),
        (None, TypeError),
        ([1.0, "2", 3.0], TypeError),
        ([1.0, None, 3.0], TypeError),
        ([[1.0], [2.0], [3.0]], TypeError),
        ({1.0, 2.0, 3.0}, TypeError),  # a set has no order
    ],
)
def test_model_call_rejects_bad_inputs_and_changes_nothing(x, error):
    model = nn.MLP(3, [4, 1], seed=0)
    before = params(model)
    with pytest.raises(error):
        model(x)
    with pytest.raises(error if not isinstance(x, list) or len(x) != 3 else TypeError):
        model.predict(x)
    assert params(model) == before


def test_predict_refuses_values_and_nan_inputs_propagate():
    model = nn.MLP(2, [3, 1], seed=0)
    with pytest.raises(TypeError, match="predict"):
        model.predict([Value(1.0), 2.0])
    assert math.isnan(model([nan, 1.0]).data)
    assert math.isnan(model.predict([nan, 1.0]))


@pytest.mark.parametrize(
    "bad",
    [
        "not a mapping",
        [("layers.0.neurons.0.w.0", 1.0)],
        None,
        {},  # missing everything
        "missing one",
        "one extra",
        "nan",
        "inf",
        "string value",
        "bool value",
        "huge int",
        "None value",
    ],
)
def test_load_state_dict_is_all_or_nothing(bad):
    model = nn.MLP(2, [3, 1], seed=0)
    good = model.state_dict()
    state = dict(good)
    first = next(iter(state))
    last = list(state)[-1]
    if bad == "missing one":
        del state[first]
    elif bad == "one extra":
        state["layers.9.b"] = 0.0
    elif bad == "nan":
        state[last] = nan
    elif bad == "inf":
        state[last] = -inf
    elif bad == "string value":
        state[last] = "0.5"
    elif bad == "bool value":
        state[last] = True
    elif bad == "huge int":
        state[last] = 10**400
    elif bad == "None value":
        state[last] = None
    else:
        state = bad
    new = {k: v + 1 for k, v in good.items()}
    model.load_state_dict(new)  # a valid one first: the model really changes
    before = params(model)
    with pytest.raises(nn.ModelFileError):
        model.load_state_dict(state)
    assert params(model) == before


def test_load_state_dict_builds_the_name_set_once(monkeypatch):
    """`load_state_dict` must not be quadratic in the number of parameters.

    It built ``set(names)`` once per key of the state dict: 10 s for a 10,401-parameter
    MLP(1, [100, 100, 1]) on a quiet machine, hours for 100k parameters. Counted here
    instead of timed: the number of name sets built for one call.
    """
    built = []

    class CountingSet(set):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            built.append(len(self))

    model = nn.MLP(1, [20, 20, 1], seed=0)
    state = model.state_dict()
    monkeypatch.setattr(nn, "set", CountingSet, raising=False)
    model.load_state_dict(state)
    assert sum(1 for n in built if n == len(state)) <= 2, len(built)


# --- model files ---------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path):
    model = nn.MLP(3, [4, 2], activation="relu", last_activation="linear", seed=3)
    path = tmp_path / "model.json"
    model.save(path)
    return model, path


def good_dict(saved_model: Any) -> dict[str, Any]:
    return json.loads(json.dumps(saved_model.to_dict()))


def test_a_saved_model_round_trips_exactly(saved):
    model, path = saved
    loaded = nn.MLP.load(path)
    assert [p.data for p in loaded.parameters()] == [p.data for p in model.parameters()]
    assert loaded.to_dict() == model.to_dict()


def _mutations() -> list[tuple[str, Callable[[dict], Any]]]:
    def setp(path: tuple, value: Any) -> Callable[[dict], Any]:
        def f(d: dict) -> Any:
            node = d
            for k in path[:-1]:
                node = node[k]
            node[path[-1]] = value
            return d

        return f

    def delp(path: tuple) -> Callable[[dict], Any]:
        def f(d: dict) -> Any:
            node = d
            for k in path[:-1]:
                node = node[k]
            del node[path[-1]]
            return d

        return f

    return [
        ("not an object", lambda d: [d]),
        ("null", lambda d: None),
        ("number", lambda d: 3),
        ("wrong format", setp(("format",), "pytorch")),
        ("format missing", delp(("format",))),
        ("version 2", setp(("version",), 2)),
        ("version 0", setp(("version",), 0)),
        ("version string", setp(("version",), "1")),
        ("version float", setp(("version",), 1.0)),
        ("version bool", setp(("version",), True)),
        ("extra top key", setp(("__class__",), "os.system")),
        ("nin 0", setp(("architecture", "nin"), 0)),
        ("nin negative", setp(("architecture", "nin"), -3)),
        ("nin 10**12", setp(("architecture", "nin"), 10**12)),
        ("nin float", setp(("architecture", "nin"), 3.0)),
        ("nin string", setp(("architecture", "nin"), "3")),
        ("nin bool", setp(("architecture", "nin"), True)),
        ("nouts empty", setp(("architecture", "nouts"), [])),
        ("nouts huge", setp(("architecture", "nouts"), [10**9, 2])),
        ("nouts many layers", setp(("architecture", "nouts"), [1] * 5000)),
        ("nouts product too big", setp(("architecture", "nouts"), [1000, 1000, 2])),
        ("nouts not a list", setp(("architecture", "nouts"), {"0": 4})),
        ("nouts mismatch", setp(("architecture", "nouts"), [4, 3])),
        ("activation unknown", setp(("architecture", "activation"), "__import__('os')")),
        ("activation null", setp(("architecture", "activation"), None)),
        ("architecture missing key", delp(("architecture", "last_activation"))),
        ("architecture list", setp(("architecture",), [3, [4, 2]])),
        ("parameters missing", delp(("parameters",))),
        ("parameters too few layers", lambda d: d["parameters"].pop() and d),
        ("parameters layer too short", lambda d: d["parameters"][0].pop() and d),
        ("weights too short", lambda d: d["parameters"][0][0]["w"].pop() and d),
        ("weights too long", lambda d: d["parameters"][1][1]["w"].append(0.5) or d),
        ("weight string", setp(("parameters", 0, 0, "w", 0), "0.5")),
        ("weight null", setp(("parameters", 0, 0, "w", 0), None)),
        ("weight bool", setp(("parameters", 0, 0, "w", 0), False)),
        ("weight list", setp(("parameters", 0, 0, "w", 0), [0.5])),
        ("weight huge int", setp(("parameters", 0, 0, "w", 0), 10**400)),
        ("bias missing", delp(("parameters", 1, 0, "b"))),
        ("bias object", setp(("parameters", 1, 0, "b"), {"value": 1})),
        ("neuron extra key", setp(("parameters", 1, 0, "grad"), 0.0)),
        ("neuron a list", setp(("parameters", 1, 0), [0.1, 0.2])),
    ]


MUTATIONS = _mutations()


@pytest.mark.parametrize("mutate", [m for _, m in MUTATIONS], ids=[n for n, _ in MUTATIONS])
def test_bad_model_files_raise_model_file_error(saved, tmp_path, mutate):
    model, _ = saved
    bad = mutate(good_dict(model))
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    before = params(model)
    with pytest.raises(nn.ModelFileError):
        nn.MLP.load(path)
    with pytest.raises(nn.ModelFileError):
        nn.MLP.from_dict(bad)
    assert params(model) == before


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "{",
        "[]",
        "null",
        '"valuegrad-mlp"',
        "\ufeff{}",
        '{"format": "valuegrad-mlp", "format": "valuegrad-mlp"}',  # duplicate key
        "NaN",
        '{"a": Infinity}',
        '{"a": -Infinity}',
        "[" * 100_000 + "]" * 100_000,  # absurd nesting
        "1" * 5000,  # an integer with thousands of digits
        "{'format': 'valuegrad-mlp'}",  # Python, not JSON
    ],
    ids=lambda t: repr(t[:24]),
)
def test_malformed_json_raises_model_file_error(tmp_path, text):
    path = tmp_path / "m.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(nn.ModelFileError):
        nn.MLP.load(path)


def test_every_truncation_of_a_model_file_raises_model_file_error(saved, tmp_path):
    _, path = saved
    raw = path.read_bytes()
    bad = tmp_path / "t.json"
    for cut in range(0, len(raw.rstrip())):
        bad.write_bytes(raw[:cut])
        with pytest.raises(nn.ModelFileError):
            nn.MLP.load(bad)


def test_nan_and_inf_parameters_in_a_file_are_refused(saved, tmp_path):
    _, path = saved
    text = path.read_text()
    first_number = json.loads(text)["parameters"][0][0]["w"][0]
    for token in ("NaN", "Infinity", "-Infinity", "1e400", "-1e999"):
        bad = tmp_path / f"{token}.json"
        bad.write_text(text.replace(repr(first_number), token, 1))
        with pytest.raises(nn.ModelFileError):
            nn.MLP.load(bad)


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_and_random_edits_raise_model_file_error(saved, tmp_path, seed):
    _, path = saved
    rng = random.Random(seed)
    raw = bytearray(path.read_bytes())
    bad = tmp_path / "r.json"
    bad.write_bytes(bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 2000))))
    with pytest.raises(nn.ModelFileError):
        nn.MLP.load(bad)
    # a few random byte flips in a valid file: either still a valid model, or ModelFileError
    for _ in range(5):
        edited = bytearray(raw)
        for _ in range(rng.randrange(1, 4)):
            edited[rng.randrange(len(edited))] = rng.getrandbits(8)
        bad.write_bytes(bytes(edited))
        try:
            loaded = nn.MLP.load(bad)
        except nn.ModelFileError:
            continue
        assert all(math.isfinite(p.data) for p in loaded.parameters())


class _Marker:
    """Unpickling this would create a file: proof that a loader ran code."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (open, (self.path, "w"))


def test_a_pickle_is_refused_and_runs_no_code(tmp_path):
    marker = tmp_path / "pwned"
    for protocol in (0, 2, pickle.HIGHEST_PROTOCOL):
        path = tmp_path / f"model{protocol}.json"
        path.write_bytes(pickle.dumps(_Marker(str(marker)), protocol=protocol))
        with pytest.raises(nn.ModelFileError):
            nn.MLP.load(path)
    assert not marker.exists()


def test_huge_declared_sizes_are_refused_before_allocating(saved, tmp_path):
    model, _ = saved
    for nin, nouts in ((10**12, [1]), (1, [10**12]), (10**6, [10**6]), (3, [10**5] * 3)):
        d = good_dict(model)
        d["architecture"]["nin"], d["architecture"]["nouts"] = nin, nouts
        path = tmp_path / "huge.json"
        path.write_text(json.dumps(d))
        tracemalloc.start()
        try:
            with pytest.raises(nn.ModelFileError):
                nn.MLP.from_dict(d)
            dict_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            with pytest.raises(nn.ModelFileError):
                nn.MLP.load(path)
            file_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        # nothing proportional to the declared size (the file is ~1 kB; load reads it in chunks)
        assert dict_peak < 200_000, (nin, nouts, dict_peak)
        assert file_peak < 3_000_000, (nin, nouts, file_peak)


def test_loading_a_small_file_allocates_little(saved):
    _, path = saved
    tracemalloc.start()
    try:
        nn.MLP.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3_000_000, peak  # the file is under 1 kB: a read buffer, not MAX_FILE_BYTES (64 MB)


def test_endless_input_is_read_only_up_to_the_size_limit(tmp_path):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    tracemalloc.start()
    try:
        with pytest.raises(nn.ModelFileError):
            nn.MLP.load("/dev/zero")  # st_size 0, endless: must stop at MAX_FILE_BYTES
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * nn.MAX_FILE_BYTES


def test_missing_file_and_directory_raise_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        nn.MLP.load(tmp_path / "nope.json")
    with pytest.raises(IsADirectoryError):
        nn.MLP.load(tmp_path)


def test_saving_a_diverged_model_fails_and_keeps_the_old_file(saved):
    model, path = saved
    old = path.read_bytes()
    model.parameters()[0].data = nan
    with pytest.raises(ValueError, match="parameter"):
        model.save(path)
    assert path.read_bytes() == old
    model.parameters()[0].data = inf
    with pytest.raises(ValueError):
        model.to_dict()


# --- optimizers, losses, data, fit ------------------------------------------------------------

optim = pytest.importorskip("valuegrad.optim")
losses = pytest.importorskip("valuegrad.losses")
data = pytest.importorskip("valuegrad.data")


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda p: optim.SGD([], lr=0.1), ValueError),
        (lambda p: optim.SGD([1.0], lr=0.1), TypeError),
        (lambda p: optim.SGD([p[0], p[0]], lr=0.1), ValueError),
        (lambda p: optim.SGD(p, lr=-0.1), ValueError),
        (lambda p: optim.SGD(p, lr=nan), ValueError),
        (lambda p: optim.SGD(p, lr=inf), ValueError),
        (lambda p: optim.SGD(p, lr="0.1"), ValueError),
        (lambda p: optim.SGD(p, lr=None), ValueError),
        (lambda p: optim.SGD(p, lr=0.1, momentum=1.5), ValueError),
        (lambda p: optim.SGD(p, lr=0.1, momentum=-0.1), ValueError),
        (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1), ValueError),
        (lambda p: optim.SGD(p, lr=0.1, schedule=0.5), TypeError),
        (lambda p: optim.Adam(p, betas=(1.0, 0.999)), ValueError),
        (lambda p: optim.Adam(p, betas=(0.9,)), ValueError),
        (lambda p: optim.Adam(p, betas="ab"), ValueError),
        (lambda p: optim.Adam(p, betas=(0.9, nan)), ValueError),
        (lambda p: optim.Adam(p, eps=-1e-8), ValueError),
        (lambda p: optim.LinearDecay(1.0, 0.1, 0), ValueError),
        (lambda p: optim.LinearDecay(-1.0, 0.1, 10), ValueError),
        (lambda p: optim.LinearDecay(1.0, 0.1, 2.5), ValueError),
    ],
)
def test_optimizers_reject_bad_arguments(make, error):
    ps = [Value(1.0), Value(2.0)]
    with pytest.raises(error):
        make(ps)
    assert [p.data for p in ps] == [1.0, 2.0]


def test_optimizer_rejects_a_huge_int_learning_rate_with_value_error():
    with pytest.raises(ValueError, match="lr"):
        optim.SGD([Value(1.0)], lr=10**400)


@pytest.mark.parametrize("opt_name", ["sgd", "sgd-momentum", "adam"])
@pytest.mark.parametrize("bad", [nan, inf, "value grad", "bad schedule"])
def test_a_bad_step_changes_no_parameter_and_no_optimizer_state(opt_name, bad):
    ps = [Value(1.0), Value(-2.0), Value(0.5)]
    schedule = (lambda k: 0.1 if k < 1 else nan) if bad == "bad schedule" else None
    if opt_name == "adam":
        opt = optim.Adam(ps, lr=0.1, schedule=schedule)
    else:
        opt = optim.SGD(ps, lr=0.1, momentum=0.9 if "momentum" in opt_name else 0.0, schedule=schedule)
    for p in ps:
        p.grad = 1.0
    opt.step()  # one good step, so that momentum/Adam state exists
    if bad == "value grad":
        ps[1].grad = Value(1.0)
        error: type[Exception] = TypeError
    elif bad == "bad schedule":
        error = ValueError
    else:
        ps[1].grad = bad
        error = ValueError
    before = ([p.data for p in ps], repr(vars(opt)))
    with pytest.raises(error):
        opt.step()
    assert ([p.data for p in ps], repr(vars(opt))) == before


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda p: losses.mse([], []), ValueError),
        (lambda p: losses.mse(p, [1.0]), ValueError),
        (lambda p: losses.mse(p, [1.0, 2.0, 3.0]), ValueError),
        (lambda p: losses.mse(p, ["1", 2.0]), TypeError),
        (lambda p: losses.mse(p, [None, 2.0]), TypeError),
        (lambda p: losses.mse(["a", "b"], [1.0, 2.0]), TypeError),
        (lambda p: losses.mse([[p[0]], [p[1]]], [1.0, 2.0]), TypeError),
        (lambda p: losses.mse(p, [1.0, 2.0], reduction="max"), ValueError),
        (lambda p: losses.mse(None, [1.0]), TypeError),
        (lambda p: losses.hinge(p, [1, 0]), ValueError),
        (lambda p: losses.hinge(p, [1, nan]), ValueError),
        (lambda p: losses.hinge(p, [1, 2]), ValueError),
        (lambda p: losses.binary_cross_entropy(p, [1, 2]), ValueError),
        (lambda p: losses.binary_cross_entropy(p, [1, -0.5]), ValueError),
        (lambda p: losses.binary_cross_entropy(p, [1, nan]), ValueError),
        (lambda p: losses.binary_cross_entropy(p, [1, 0], reduction="none"), ValueError),
        (lambda p: losses.l2(p, -1.0), ValueError),
        (lambda p: losses.l2(p, nan), ValueError),
        (lambda p: losses.l2(p, "1"), ValueError),
        (lambda p: losses.l2([], 0.1), ValueError),
        (lambda p: losses.l2([1.0, 2.0], 0.1), TypeError),
    ],
)
def test_losses_reject_bad_arguments_and_change_nothing(call, error):
    ps = [Value(0.5, label="p0"), Value(-0.5, label="p1")]
    before = state(*ps)
    with pytest.raises(error):
        call(ps)
    assert state(*ps) == before


def test_losses_propagate_nan_inputs_and_stay_finite_at_extremes():
    assert math.isnan(losses.mse([Value(nan)], [1.0]).data)
    assert math.isnan(losses.mse([Value(1.0)], [nan]).data)
    for z in (1000.0, -1000.0, 1e300):
        logit = Value(z)
        loss = losses.binary_cross_entropy([logit], [1.0])
        loss.backward()
        assert math.isfinite(loss.data) and math.isfinite(logit.grad)
        want = torch.nn.functional.binary_cross_entropy_with_logits(
            torch.tensor([z], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64)
        )
        assert loss.data == pytest.approx(want.item(), rel=1e-12, abs=1e-300)


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


train = pytest.importorskip("valuegrad.train")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"steps": -1}, ValueError),
        ({"steps": 2.0}, ValueError),
        ({"loss": "cross"}, ValueError),
        ({"optimizer": "rmsprop"}, ValueError),
        ({"lr": -1.0}, ValueError),
        ({"lr": nan}, ValueError),
        ({"X": [], "y": []}, ValueError),
        ({"y": [1.0, -1.0]}, ValueError),
        ({"X": [[1.0, 2.0]] * 4}, ValueError),
    ],
)
def test_fit_rejects_bad_arguments_and_changes_no_parameter(kwargs, error):
    model = nn.MLP(3, [4, 1], seed=0)
    xs, ys = data.notebook_samples()
    args = {"X": xs, "y": ys, "steps": 2, **kwargs}
    before = params(model)
    with pytest.raises(error):
        train.fit(model, args.pop("X"), args.pop("y"), **args)
    assert params(model) == before


def test_fit_reports_divergence_as_value_error():
    model = nn.MLP(3, [4, 1], activation="linear", seed=0)
    xs, ys = data.notebook_samples()
    with pytest.raises(ValueError, match="step"):
        train.fit(model, xs, ys, loss="mse", lr=1e6, steps=200)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda m: train.accuracy(m, [], []), ValueError),
        pytest.param(lambda m: train.accuracy(m, [[1.0, 2.0]], [1, -1]), ValueError, id="accuracy-mismatch"),
        (lambda m: train.accuracy(m, [[1.0]], [1]), ValueError),
        (lambda m: train.compute_loss(m, [[1.0, 2.0]], [1.0], loss="x"), ValueError),
        (lambda m: train.compute_loss(m, [[1.0, 2.0]], [1.0, 2.0]), ValueError),
        (lambda m: train.compute_loss(m, [[1.0, 2.0]], ["1"]), TypeError),
    ],
)
def test_accuracy_and_compute_loss_reject_bad_arguments(call, error):
    model = nn.MLP(2, [3, 1], seed=0)
    before = params(model)
    with pytest.raises(error):
        call(model)
    assert params(model) == before


# --- the rest of the public API: functional, compile, viz ---------------------------------------


def _functional_and_compile_cases() -> list[Any]:
    import valuegrad

    f2 = lambda x, y: x * y + x.tanh()  # noqa: E731
    w = Value(2.0, label="w")
    tanh_w = lambda x: (x * w).tanh()  # noqa: E731
    cases = [
        ("grad argnums out of range", lambda: valuegrad.grad(f2, argnums=5)(1.0, 2.0), ValueError),
        ("grad argnums negative", lambda: valuegrad.grad(f2, argnums=-1)(1.0, 2.0), TypeError),
        ("grad argnums str", lambda: valuegrad.grad(f2, argnums="0")(1.0, 2.0), TypeError),
        ("grad argnums repeated", lambda: valuegrad.grad(f2, argnums=(0, 0))(1.0, 2.0), ValueError),
        ("grad str input", lambda: valuegrad.grad(f2)("1", 2.0), TypeError),
        ("grad returns list", lambda: valuegrad.grad(lambda x: [x, x])(1.0), TypeError),
        ("grad returns None", lambda: valuegrad.grad(lambda x: None)(1.0), TypeError),
        ("grad of log at 0", lambda: valuegrad.grad(lambda x: x.log())(0.0), ValueError),
        ("hessian no inputs", lambda: valuegrad.hessian(lambda *a: sum(a))([]), ValueError),
        ("hessian str", lambda: valuegrad.hessian(lambda a: a * a)("ab"), TypeError),
        ("hvp mismatch", lambda: valuegrad.hvp(lambda a, b: a * b)([1.0, 2.0], [1.0]), ValueError),
        ("jvp mismatch", lambda: valuegrad.jvp(lambda a, b: a * b, [1.0, 2.0], [1.0]), ValueError),
        ("jvp str tangent", lambda: valuegrad.jvp(lambda a: a * a, [1.0], ["1"]), TypeError),
        ("Dual str", lambda: valuegrad.Dual("a", 1.0), TypeError),
        ("Dual None tangent", lambda: valuegrad.Dual(1.0, None), TypeError),
        ("Dual log 0", lambda: valuegrad.Dual(0.0, 1.0).log(), ValueError),
        ("compile bad mode", lambda: valuegrad.compile(tanh_w, [1.0], params=[w], mode="fast"), ValueError),
        ("compile not callable", lambda: valuegrad.compile(3, [1.0]), TypeError),
        ("compile str input", lambda: valuegrad.compile(tanh_w, ["a"]), TypeError),
        ("compile param not a Value", lambda: valuegrad.compile(tanh_w, [1.0], params=[1.0]), TypeError),
        ("compile param not a leaf", lambda: valuegrad.compile(tanh_w, [1.0], params=[w * 2]), ValueError),
        ("compile returns list", lambda: valuegrad.compile(lambda x: [x], [1.0]), TypeError),
        ("compile returns float", lambda: valuegrad.compile(lambda x: 1.0, [1.0]), TypeError),
        ("compiled wrong count", lambda: valuegrad.compile(tanh_w, [1.0], params=[w])([1.0, 2.0]), TypeError),
        ("compiled str input", lambda: valuegrad.compile(tanh_w, [1.0], params=[w])(["a"]), TypeError),
        (
            "compiled log domain",
            lambda: valuegrad.compile(lambda x: x.log(), [1.0], mode="python")([-1.0]),
            ValueError,
        ),
        (
            "compiled log domain level",
            lambda: valuegrad.compile(lambda x: x.log(), [1.0], mode="level")([-1.0]),
            ValueError,
        ),
        (
            "compiled backward first",
            lambda: valuegrad.compile(tanh_w, [1.0], params=[w]).backward(),
            RuntimeError,
        ),
        ("draw_dot float", lambda: valuegrad.draw_dot(3.0), TypeError),
        ("draw_dot None", lambda: valuegrad.draw_dot(None), TypeError),
        ("trace str", lambda: valuegrad.trace("x"), TypeError),
    ]
    return [pytest.param(call, error, id=name) for name, call, error in cases]


@pytest.mark.parametrize(("call", "error"), _functional_and_compile_cases())
def test_functional_compile_and_viz_reject_bad_arguments(call, error):
    with pytest.raises(error):
        call()


# --- fuzzing model files: any JSON anywhere --------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.data())
def test_any_json_anywhere_in_a_model_file_loads_or_raises_model_file_error(data):
    model = nn.MLP(2, [3, 2], activation="relu", last_activation="linear", seed=0)
    d = json.loads(json.dumps(model.to_dict()))
    path = data.draw(st.sampled_from(_paths(d)), label="where")
    replacement = data.draw(json_values, label="what")
    if path == ():
        d = replacement
    else:
        node = d
        for k in path[:-1]:
            node = node[k]
        if data.draw(st.booleans(), label="delete instead"):
            del node[path[-1]]
        else:
            node[path[-1]] = replacement
    try:
        loaded = nn.MLP.from_dict(d)
    except nn.ModelFileError:
        return
    assert all(math.isfinite(p.data) for p in loaded.parameters())
    assert loaded.to_dict()["architecture"] == d["architecture"]


# --- copies and pickles of a graph ------------------------------------------------------------------


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
