"""Hostile model files: what `MLP.load` and `MLP.from_dict` (valuegrad.model_files) must refuse.

Random bytes, truncated or corrupted JSON, wrong shapes and types, huge declared sizes,
unknown versions, NaN/inf, pickles: every one raises `nn.ModelFileError`, runs no code,
allocates little, and changes no existing model.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import random
import tracemalloc
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _state import params
from valuegrad import nn

inf, nan = math.inf, math.nan


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
