"""valuegrad.model_files: MLP.save / MLP.load / to_dict / from_dict, exact round trips, and bad files.

The names are used as a person would, from ``valuegrad.nn``; the hostile inputs are in
tests/test_model_files_hostile.py.
"""

from __future__ import annotations

import json
import math
import pickle
import random
import re
import subprocess
import sys

import pytest

from valuegrad import Value, model_files, nn


def datas(params: list[Value]) -> list[float]:
    return [p.data for p in params]


def test_the_public_names_are_valuegrad_nns():
    # The code is in valuegrad.model_files; a user imports its error and constants from valuegrad.nn.
    functions = {"load", "save", "to_dict", "validate_model_dict"}  # reached through MLP's methods
    shared = set(model_files.__all__) - functions
    assert shared == set(model_files.__all__) & set(nn.__all__)
    assert {"ModelFileError", "FORMAT", "FORMAT_VERSION", "MAX_FILE_BYTES"} <= shared
    for name in shared:
        assert getattr(nn, name) is getattr(model_files, name), name
    assert repr(nn.ModelFileError) == "<class 'valuegrad.nn.ModelFileError'>"  # as tracebacks name it
    error = pickle.loads(pickle.dumps(nn.ModelFileError("version: unsupported version 2")))
    assert type(error) is nn.ModelFileError and str(error) == "version: unsupported version 2"


def test_the_module_imported_first_reads_a_model_dict():
    # valuegrad.nn imports valuegrad.model_files, which imports valuegrad.nn only when it checks a file.
    code = (
        "import valuegrad.model_files as mf\n"
        "import valuegrad.nn as nn\n"
        "print(mf.validate_model_dict(nn.MLP(1, [1], seed=0).to_dict())[:4])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(1, [1], 'tanh', 'tanh')"


def tricky_model() -> nn.MLP:
    model = nn.MLP(2, [3, 2], activation="relu", last_activation="linear", seed=5)
    specials = [0.1 + 0.2, 1e-300, -5e-324, 1.0 / 3.0, -0.0, 123456789.123456789, 2.0**-1074 * 3]
    for p, v in zip(model.parameters(), specials):
        p.data = v
    return model


def test_save_load_round_trip_is_exact(tmp_path):
    model = tricky_model()
    path = tmp_path / "model.json"
    model.save(path)
    loaded = nn.MLP.load(path)
    assert repr(loaded) == repr(model)
    assert datas(loaded.parameters()) == datas(model.parameters())
    # repr tells -0.0 from 0.0 and shows every digit: the floats came back bit for bit
    assert [repr(v) for v in datas(loaded.parameters())] == [repr(v) for v in datas(model.parameters())]
    assert math.copysign(1, loaded.parameters()[4].data) == -1
    rng = random.Random(1)
    for _ in range(10):
        x = [rng.uniform(-2, 2), rng.uniform(-2, 2)]
        assert [v.data for v in loaded(x)] == [v.data for v in model(x)]
    text = json.loads(path.read_text())
    assert text["format"] == nn.FORMAT and text["version"] == nn.FORMAT_VERSION
    assert text["architecture"] == {
        "nin": 2,
        "nouts": [3, 2],
        "activation": "relu",
        "last_activation": "linear",
    }


def test_saving_a_diverged_model_is_refused(tmp_path):
    model = nn.MLP(2, [1], seed=0)
    model.parameters()[0].data = float("inf")
    with pytest.raises(ValueError, match=r"layers\.0\.neurons\.0\.w\.0 is inf"):
        model.save(tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


def _good() -> dict:
    return nn.MLP(2, [2, 1], seed=0).to_dict()


def _mutate(f):
    d = _good()
    f(d)
    return json.dumps(d)


BAD_FILES = {
    "truncated": json.dumps(_good())[:-40],
    "empty": "",
    "not json": "hello",
    "a list": "[1, 2, 3]",
    "wrong version": _mutate(lambda d: d.update(version=2)),
    "version as string": _mutate(lambda d: d.update(version="1")),
    "wrong format": _mutate(lambda d: d.update(format="pickle")),
    "extra key": _mutate(lambda d: d.update(code="import os")),
    "missing parameters": _mutate(lambda d: d.pop("parameters")),
    "NaN": json.dumps(_good()).replace(json.dumps(_good()["parameters"][0][0]["b"]), "NaN"),
    "Infinity": json.dumps(_good()).replace(json.dumps(_good()["parameters"][0][0]["b"]), "-Infinity"),
    "overflowing float": json.dumps(_good()).replace(json.dumps(_good()["parameters"][0][0]["b"]), "1e999"),
    "string weight": _mutate(lambda d: d["parameters"][0][0]["w"].__setitem__(0, "0.5")),
    "bool weight": _mutate(lambda d: d["parameters"][0][0]["w"].__setitem__(0, True)),
    "null bias": _mutate(lambda d: d["parameters"][1][0].update(b=None)),
    "short weight row": _mutate(lambda d: d["parameters"][0][1]["w"].pop()),
    "missing neuron": _mutate(lambda d: d["parameters"][0].pop()),
    "missing layer": _mutate(lambda d: d["parameters"].pop()),
    "shape disagrees": _mutate(lambda d: d["architecture"].update(nouts=[3, 1])),
    "unknown activation": _mutate(lambda d: d["architecture"].update(activation="os.system")),
    "zero width": _mutate(lambda d: d["architecture"].update(nouts=[0, 1])),
    "huge width": _mutate(lambda d: d["architecture"].update(nouts=[10**12, 1])),
    "huge total": _mutate(lambda d: d["architecture"].update(nin=999_999, nouts=[999_999, 1])),
    "too many layers": _mutate(lambda d: d["architecture"].update(nouts=[1] * 5000)),
    "integer with 5000 digits": _mutate(lambda d: d.update(version=1)).replace(
        '"version": 1', '"version": ' + "9" * 5000
    ),
    "deep nesting": "[" * 100_000 + "]" * 100_000,
    "duplicate key": json.dumps(_good())[:-1] + ', "version": 1}',
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_model_files_raise_model_file_error(tmp_path, name):
    path = tmp_path / "model.json"
    path.write_text(BAD_FILES[name], encoding="utf-8")
    with pytest.raises(nn.ModelFileError) as e:
        nn.MLP.load(path)
    assert str(path) in str(e.value)
    assert isinstance(e.value, ValueError)


def test_bad_file_messages_say_what_is_wrong(tmp_path):
    cases = {
        "wrong version": "unsupported version 2 (this valuegrad reads version 1)",
        "truncated": "not valid JSON",
        "NaN": "NaN is not allowed",
        "huge width": "out of range",
        "huge total": f"more than {nn.MAX_PARAMETERS} parameters",
        "short weight row": "parameters[0][1].w: expected a list of 2 numbers",
        "string weight": "parameters[0][0].w[0]: expected a number",
        "duplicate key": "'version' appears twice",
    }
    for name, message in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(BAD_FILES[name], encoding="utf-8")
        with pytest.raises(nn.ModelFileError, match=None) as e:
            nn.MLP.load(path)
        assert message in str(e.value), (name, str(e.value))


def _resolve(data, path: str):
    """Follow ``architecture.nouts[1]`` or ``parameters[0][1].w[2]`` into parsed JSON."""
    for name, index in re.findall(r"\.?(\w+)|\[(\d+)\]", path):
        data = data[name] if name else data[int(index)]
    return data


def test_every_location_in_a_message_is_a_real_place_in_the_file(tmp_path):
    checked = 0
    for name, text in BAD_FILES.items():
        path = tmp_path / "model.json"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(nn.ModelFileError) as e:
            nn.MLP.load(path)
        message = str(e.value)[len(str(path)) + 2 :]
        assert "layers." not in message and "neurons." not in message, (name, message)
        where = re.match(r"((?:parameters|architecture|version|format)(?:\[\d+\]|\.\w+)*):", message)
        if where and name not in ("truncated", "deep nesting", "duplicate key"):
            _resolve(json.loads(text), where[1])  # raises if the file has no such place
            checked += 1
    assert checked >= 15


def test_from_dict_builds_the_class_it_is_called_on():
    class MyMLP(nn.MLP):
        pass

    model = MyMLP.from_dict(nn.MLP(2, [3, 1], seed=1).to_dict())
    assert type(model) is MyMLP
    assert datas(model.parameters()) == datas(nn.MLP(2, [3, 1], seed=1).parameters())


def test_binary_garbage_and_a_good_file_next_to_an_existing_model(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"\x80\x04\x95 pickle-ish \xff\xfe")
    with pytest.raises(nn.ModelFileError, match="not UTF-8"):
        nn.MLP.load(path)
    # A failed load leaves the model one already has untouched; a good one can then be loaded into it.
    model = nn.MLP(2, [2, 1], seed=3)
    before = datas(model.parameters())
    with pytest.raises(nn.ModelFileError):
        model.load_state_dict(nn.MLP.load(path).state_dict())
    assert datas(model.parameters()) == before
    good = tmp_path / "good.json"
    nn.MLP(2, [2, 1], seed=4).save(good)
    model.load_state_dict(nn.MLP.load(good).state_dict())
    assert datas(model.parameters()) == datas(nn.MLP(2, [2, 1], seed=4).parameters())


def test_from_dict_rejects_non_dicts():
    for bad in (None, [], "model", 3):
        with pytest.raises(nn.ModelFileError):
            nn.MLP.from_dict(bad)
