"""Hostile inputs to valuegrad.nn: constructors, calls and state dicts.

Hostile model files are in tests/test_model_files_hostile.py.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from _state import params
from valuegrad import Value, nn

inf, nan = math.inf, math.nan


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
