"""valuegrad.compile: every op of the table (tests/op_cases.py) in every mode against eager valuegrad,
at generated points and at its kinks, graph shapes, batch lanes, the generated source, hostile labels,
check=True, the level plan, errors, and micrograd's demo."""

from __future__ import annotations

import ast
import gc
import importlib.util
import math
import random
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import micrograd.engine as micrograd_engine
import numpy as np
import pytest
from micrograd.nn import MLP

import valuegrad
from op_cases import BY_NAME, CASES, KINKS, into_domain, kink_id, reused
from valuegrad import Value, ops, topological_order
from valuegrad.compiler import DomainError, GraphChangedError, Tape

ROOT = Path(__file__).resolve().parents[1]
MODES = ["python", "numpy", "level"]
TOL = 1e-12


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


def eager(fn, inputs, params):
    """Eager valuegrad: output, d out/d input, d out/d param (params' grads reset first)."""
    xs = [Value(float(v)) for v in inputs]
    for p in params:
        p.grad = 0.0
    out = fn(*xs)
    out.backward()
    grads = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    return out.data, [x.grad for x in xs], grads


def compiled_run(c, inputs, params):
    for p in params:
        p.grad = 0.0
    out = c.forward(inputs)
    input_grads = c.backward()
    grads = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    return out, input_grads, grads


# --- every op of the table (tests/op_cases.py), in every mode, at generated points and kinks ------

W = Value(0.7, label="w")
B = Value(-0.3, label="b")


def op_function(case):
    """The case's op, its result used twice, and the parameters W and B on the path to the output."""
    f = reused(case.perform)
    return lambda *xs: f(*xs) * W + B


def same(mode, got, want):
    """Mode "python" gives eager valuegrad's numbers bit for bit; the NumPy modes to rounding."""
    if mode == "python":
        return got == want
    return close(got[0], want[0]) and all(close(g, e) for g, e in zip(got[1] + got[2], want[1] + want[2]))


def lanes_match(c, fn, points, params):
    """All points at once as batch lanes: each lane as eagerly, the parameters' grads summed over lanes."""
    lanes = [np.array([p[k] for p in points]) for k in range(len(points[0]))]
    out, input_grads, param_grads = compiled_run(c, lanes, params)
    per_lane = [eager(fn, point, params) for point in points]
    for i, (o, ig, _) in enumerate(per_lane):
        assert close(out[i], o) and all(close(input_grads[k][i], ig[k]) for k in range(len(ig))), (i, ig)
    for j in range(len(params)):
        assert close(param_grads[j], math.fsum(lane[2][j] for lane in per_lane))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_op_matches_eager(case, mode):
    fn = op_function(case)
    params = [W, B]
    points = case.samples()
    c = valuegrad.compile(fn, list(case.sample()), params, mode=mode)
    assert c.mode == mode
    for point in points:
        got, want = compiled_run(c, list(point), params), eager(fn, point, params)
        assert same(mode, got, want), (point, got, want)
    if mode != "python":
        lanes_match(c, fn, points, params)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("case", "kink"), KINKS, ids=[kink_id(k) for k in KINKS])
def test_every_op_at_its_kinks_as_eagerly(case, kink, mode):
    """Traced away from the kink, run at it: the registry's numbers, or a DomainError changing no grad."""
    fn = lambda *xs: case.perform(*xs) * W  # noqa: E731
    c = valuegrad.compile(fn, list(case.sample()), [W], mode=mode)
    point = list(kink.point)
    W.grad = 0.0
    if kink.forward_fails:
        with pytest.raises(DomainError):
            c.forward(point)
        if mode != "python":
            with pytest.raises(DomainError, match="in batch lane 1"):
                c.forward([np.array([s, p]) for s, p in zip(case.sample(), point)])
        return
    assert c.forward(point) == kink.value * W.data or (
        mode != "python" and close(c.forward(point), kink.value * W.data)
    )
    if kink.backward_fails:
        with pytest.raises(DomainError, match="backward failed at generated line") as info:
            c.backward()
        assert isinstance(info.value, ArithmeticError) and W.grad == 0.0  # as eagerly: no grad changed
        c.forward(list(case.sample()))  # still usable after the failure
        c.backward()
        assert close(W.grad, eager(fn, case.sample(), [W])[2][0])
        W.grad = 0.0
        return
    got = compiled_run(c, point, [W])
    assert got[1] == [g * W.data for g in kink.grads] and got[2] == [kink.value], (got, kink)
    assert same(mode, got, eager(fn, point, [W]))
    if mode != "python":
        lanes_match(c, fn, [kink.point, case.sample()], [W])


@pytest.mark.parametrize("case", [c for c in CASES if c.arity == 2], ids=str)
def test_every_two_operand_op_over_repeated_operands_in_level_mode(case):
    """Every pairing of 6 first operands with 5 second ones: each operand used by many nodes of one
    group (the level plan's outer-product layout: a layer's products are one einsum)."""
    firsts = [Value(p[0]) for p in case.samples(6)]
    seconds = [p[1] for p in case.samples(5)]

    def fn(*xs):
        return sum((case.perform(a, x).tanh() for a in firsts for x in xs), Value(0.0))

    c = valuegrad.compile(fn, seconds, firsts, mode="level")
    assert any(g.op is case.op and g.lanes == 30 for g in c.plan), c.plan
    got, want = compiled_run(c, seconds, firsts), eager(fn, seconds, firsts)
    assert same("level", got, want), (got, want)


# --- graph shapes that matter to the compiler -----------------------------------------------

GRAPH_CASES = {
    "add sub mul div, constants on both sides": lambda a, b: (
        (2 + a) * (b - 3) / (a * 4) - 1 / b + (5 - b) * 0.5
    ),
    "int and Fraction constants": lambda a, b: a * 3 + Fraction(1, 3) * b - b / 2 + 7 // 2 * a,
    "reused nodes": lambda a, b: (lambda c: c * c + c - c / (c * c + 1))(a * b + W),
    "same operand twice": lambda a, b: a * a + b + b - a / a,
    "params on both sides": lambda a, b: W * a + a * W - B / (1 + a * a) + W**2 * B,
    "x ** 0 at x = 0": lambda a, b: (a * 0) ** 0 + (b - b) ** 2 + a**1,
    "kinks reached by computation": lambda a, b: (
        (a - b).relu() * W + abs(a - b) * B + abs(a * 0) + (b * 0).relu()
    ),
    "the same products again": lambda a, b: sum((w * a for w in (W, B) for _ in range(3)), b),
    "long sum chain": lambda a, b: sum((a * k + b for k in range(30)), W) * sum([b, a, W, B]),
}

POINTS = [(1.3, 0.4), (0.6, -1.7), (2.5, 1.1), (0.5, 0.5)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(GRAPH_CASES))
def test_graph_shapes_match_eager(case, mode):
    fn = GRAPH_CASES[case]
    params = [W, B]
    c = valuegrad.compile(fn, list(POINTS[0]), params, mode=mode)
    for point in POINTS:
        got, want = compiled_run(c, list(point), params), eager(fn, point, params)
        assert same(mode, got, want), (point, got, want)
    if mode != "python":
        lanes_match(c, fn, POINTS, params)


@pytest.mark.parametrize("mode", ["numpy", "level", "auto"])
def test_batch_lanes_equal_a_loop_of_eager_evaluations(mode):
    parts = [op_function(BY_NAME[name]) for name in ("tanh", "sigmoid", "relu", "pow_value")]
    both = lambda a, b: sum((f(a, b) if f is parts[-1] else f(a) * b for f in parts), Value(0.0))  # noqa: E731
    params = [W, B]
    rng = np.random.default_rng(0)
    a = rng.uniform(0.1, 2.0, size=7)
    b = rng.uniform(-2.0, 2.0, size=7)
    c = valuegrad.compile(both, [1.0, 0.5], params, mode=mode)
    out, input_grads, param_grads = compiled_run(c, [a, b], params)
    assert out.shape == (7,) and input_grads[0].shape == (7,)
    lanes = [eager(both, (a[i], b[i]), params) for i in range(7)]
    for i, (o, ig, _) in enumerate(lanes):
        assert close(out[i], o)
        assert close(input_grads[0][i], ig[0]) and close(input_grads[1][i], ig[1])
    for j in range(2):
        assert close(param_grads[j], math.fsum(lane[2][j] for lane in lanes))
    # a number next to an array is broadcast over the lanes
    out2, grads2, _ = compiled_run(c, [a, 0.25], params)
    assert close(out2[3], eager(both, (a[3], 0.25), params)[0]) and grads2[1].shape == (7,)


def test_python_mode_refuses_arrays_and_auto_small_graph_accepts_them():
    c = valuegrad.compile(lambda a: a * 2, [1.0], mode="python")
    with pytest.raises(TypeError, match="mode='numpy'"):
        c.forward([np.ones(3)])
    auto = valuegrad.compile(lambda a: (a * W).tanh(), [1.0], [W])
    assert auto.mode == "python" and not auto.plan
    lanes = auto.forward([np.arange(3.0)])
    assert auto.plan  # arrays run the level plan
    assert all(close(lanes[k], math.tanh(k * W.data)) for k in range(3))
    want = eager(lambda a: (a * W).tanh(), [2.0], [W])[1][0]
    assert close(auto.backward()[0][2], want)
    assert close(W.grad, sum(k * (1 - math.tanh(k * W.data) ** 2) for k in range(3)))
    assert close(auto.forward([0.5]), math.tanh(0.5 * W.data))  # numbers: straight-line Python again
    W.grad = 0.0
    auto.backward()
    assert close(W.grad, 0.5 * (1 - math.tanh(0.5 * W.data) ** 2))
    W.grad = 0.0


def test_auto_picks_level_for_wide_graphs_only():
    def chain(x):  # 2,000 ops, one after the other: nothing to group
        for _ in range(1000):
            x = (x * 0.999).tanh()
        return x

    assert valuegrad.compile(chain, [0.5]).mode == "python"
    ws = [Value(0.01 * k) for k in range(50)]

    def wide(x):  # 50 x 40 products and their sums: 4,000 ops in 3 groups
        return sum((w * (x + k) for w in ws for k in range(40)), Value(0.0))

    c = valuegrad.compile(wide, [0.5], ws)
    assert c.mode == "level"
    assert close(c.forward([0.5]), eager(wide, [0.5], ws)[0])


def test_output_independent_of_inputs_and_unused_inputs():
    c = valuegrad.compile(lambda a, b: W * 3 + 1, [1.0, 2.0], [W], mode="level")
    W.grad = 0.0
    assert close(c.forward([5.0, 6.0]), W.data * 3 + 1)
    assert c.backward() == [0.0, 0.0] and W.grad == 3.0
    W.grad = 0.0
    lanes = c.forward([np.ones(4), np.ones(4)])
    assert lanes.shape == (4,)
    c.backward()
    assert W.grad == 12.0  # d/dW summed over 4 lanes
    W.grad = 0.0


# --- random graphs --------------------------------------------------------------


def random_graph(seed, params, copies):
    """A random expression over every op (domain-safe), repeated for ``copies`` data points."""

    def one(a, b, rng):
        pool = [a, b, *params, Value(0.5), Value(-1.5)]
        for _ in range(rng.randint(5, 40)):
            x, y, r = rng.choice(pool), rng.choice(pool), rng.random()
            if r < 0.15:
                v = x + y
            elif r < 0.25:
                v = x - rng.choice([y, 2.0])
            elif r < 0.45:
                v = x * y
            elif r < 0.75:  # one op of the table, on operands squashed and moved into its domain
                case = rng.choice(CASES)
                squashed = (x.tanh(), y.tanh())
                v = case.perform(*(into_domain(d, t, r < 0.6) for d, t in zip(case.domain, squashed)))
            elif r < 0.88:
                v = sum(
                    (rng.choice(pool) * rng.choice(pool) for _ in range(rng.randint(2, 6))), rng.choice(pool)
                )
            else:
                v = sum((w * x for w in rng.sample(pool, 3) for _ in range(rng.randint(1, 3))), y)
            pool.append(v.tanh() if rng.random() < 0.3 else v)
        return sum(pool[-6:], Value(0.0))

    def fn(a, b):
        rng = random.Random(seed)
        state = rng.getstate()
        outs = []
        for k in range(copies):
            rng.setstate(state)  # the same expression for every data point
            outs.append(one(a * (0.1 * k - 0.7) + b, b * (0.05 * k) - a, rng))
        return sum(outs, Value(0.0))

    return fn


@pytest.mark.parametrize("copies", [1, 8])
def test_random_graphs_match_eager_in_every_mode(copies):
    points = [(0.4, -1.2), (1.1, 0.3), (-0.6, 0.9)]
    lanes = [np.array([p[0] for p in points]), np.array([p[1] for p in points])]
    for seed in range(12):
        params = [Value(0.3), Value(-0.7)]
        fn = random_graph(seed, params, copies)
        want = [eager(fn, p, params) for p in points]
        for mode in MODES:
            c = valuegrad.compile(fn, list(points[0]), params, mode=mode)
            for p, w in zip(points, want):
                got = compiled_run(c, list(p), params)
                assert close(got[0], w[0]) and all(close(g, e) for g, e in zip(got[1] + got[2], w[1] + w[2]))
            if mode == "python":
                continue
            out, input_grads, param_grads = compiled_run(c, lanes, params)
            for i, w in enumerate(want):
                assert close(out[i], w[0]) and all(close(input_grads[j][i], w[1][j]) for j in range(2))
            assert all(close(param_grads[j], math.fsum(w[2][j] for w in want)) for j in range(2))


# --- gradients accumulate as in eager backward, so optimizers work unchanged ----


@pytest.mark.parametrize("mode", MODES)
def test_backward_accumulates_into_param_grads(mode):
    from valuegrad.optim import SGD

    w = Value(0.5)
    c = valuegrad.compile(lambda x: (x * w).tanh(), [1.0], [w], mode=mode)
    c.forward([2.0])
    w.grad = 1.0
    c.backward()
    once = w.grad - 1.0
    c.backward()
    assert close(w.grad, 1.0 + 2 * once)
    e = Value(0.5)
    out = (Value(2.0) * e).tanh()
    out.backward()
    assert close(once, e.grad)
    w.grad = 0.0
    opt = SGD([w], lr=0.1)
    c.forward([2.0])
    c.backward()
    opt.step()
    assert close(w.data, 0.5 - 0.1 * e.grad)


def test_params_data_is_read_at_every_forward():
    w = Value(1.0)
    c = valuegrad.compile(lambda x: x * w, [3.0], [w], mode="level")
    assert c.forward([3.0]) == 3.0
    w.data = 2.0
    assert c.forward([3.0]) == 6.0


# --- the generated source ------------------------------------------------------


def test_source_of_one_neuron_reads_like_the_chain_rule():
    x1, x2 = Value(2.0, label="x₁"), Value(0.0, label="x₂")
    w1, w2, b = Value(-3.0, label="w₁"), Value(1.0, label="w₂"), Value(6.8813735870195432, label="b")

    def neuron(x1, x2):
        n = x1 * w1 + x2 * w2 + b
        n.label = "n"
        o = n.tanh()
        o.label = "o"
        return o

    c = valuegrad.compile(neuron, [x1, x2], [w1, w2, b], mode="python")
    src = c.source
    ast.parse(src)
    assert "x1 = _in[0]  # 'x₁'" in src
    assert "o = tanh(n)" in src
    assert "do_dn = (1 - o * o) * do_do  # out = tanh(x): d out/dx = 1 - out * out" in src
    assert "do_dw1 = x1 * do_dv2  # out = x * y: d out/dy = x" in src
    assert "do_db = 1 * do_dn  # out = x + y: d out/dy = 1" in src
    forward = src.split("def backward")[0]
    op_lines = [ln for ln in forward.splitlines() if re.match(r"\s+\w+ = .*[-+*/(]", ln) and "_in[" not in ln]
    assert len(op_lines) == c.tape.n_ops == 5
    assert c.forward([2.0, 0.0]) == pytest.approx(1 / math.sqrt(2), abs=1e-15)


@pytest.mark.parametrize("op", ops.OPS, ids=lambda op: op.name)
def test_generated_formulas_are_the_op_tables(op):
    # The compiler writes each formula once with Formula.substitute and fills in each node's
    # expressions: the code must parse to the very tree Formula.substitute gives, whatever the expressions.
    from valuegrad.compiler.lowering import code_of, operand_names, times_gradient

    for x, second, out in [
        ("a", "b", "o"),
        ("v[3:5]", "(-2)", "v[7:9].reshape(2, -1)"),
        ("a + b", "c ** 2", "-o"),
        ("_C[0]", "1e-05", "2.5"),
    ]:
        names = operand_names(op, x, second, out)
        for formula in (op.out, *op.partials):
            assert ast.dump(ast.parse(code_of(formula, names))) == ast.dump(
                ast.parse(formula.substitute(names))
            ), (formula, names)
            term = ast.parse(times_gradient(formula, names, "g"), mode="eval").body
            if formula.constant not in (1, -1):
                assert isinstance(term, ast.BinOp) and isinstance(term.op, ast.Mult)
                assert ast.dump(term.left) == ast.dump(ast.parse(formula.substitute(names), mode="eval").body)


def test_level_source_and_plan_are_shown():
    c = valuegrad.compile(lambda a, b: (a * b + W).relu(), [1.0, 2.0], [W], mode="level")
    assert "def forward(v)" in c.plan_source and "def backward(v, g, _saved)" in c.plan_source
    assert "def forward(_in, _P)" in c.source  # the straight-line view exists in every mode
    assert [g.symbol for g in c.plan] == ["*", "+", "relu"]
    assert [g.op for g in c.plan] == [ops.MUL, ops.ADD, ops.RELU]


HOSTILE = [
    '"); import os #',
    "\nimport os",
    "a\u2028b",
    "__import__('os').system('echo hi')",
    "exp",
    "v3",
    "",
    "x",
]


@pytest.mark.parametrize("mode", MODES)
def test_hostile_labels_are_harmless(mode):
    a = Value(1.5, label=HOSTILE[0])
    b = Value(-0.5, label=HOSTILE[1])
    p = Value(0.25, label=HOSTILE[3])

    def fn(a, b):
        vals = [a * b, a + p, (b * p).exp(), a - b, a * p, b + 1]
        for v, label in zip(vals, [*HOSTILE[2:], "x"]):
            v.label = label
        return sum(vals[1:], vals[0])

    c = valuegrad.compile(fn, [a, b], [p], mode=mode)
    for src in (c.source, c.plan_source):
        if not src:
            continue
        tree = ast.parse(src)
        assert [type(n).__name__ for n in tree.body] == ["FunctionDef", "FunctionDef"]
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.Import, ast.ImportFrom, ast.Attribute)) or (
                isinstance(node, ast.Attribute)
                and node.attr in ("data", "reshape", "accumulate", "reduce", "reduceat")
            )
            if isinstance(node, ast.Name):
                assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", node.id)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id in {
                    *ops.FUNCTIONS,
                    "add",
                    "bincount",
                    "einsum",
                    "list",
                    "zip",
                }
        for line in src.splitlines():
            assert not re.match(r"\s*(import|from)\s", line)
    assert "import_os = _in[0]  # '\"); import os #'" in c.source
    want = eager(fn, [1.5, -0.5], [p])
    got = compiled_run(c, [1.5, -0.5], [p])
    assert close(got[0], want[0]) and all(close(g, e) for g, e in zip(got[1] + got[2], want[1] + want[2]))


def test_names_are_unique_and_sanitised():
    xs = [Value(1.0, label="a"), Value(2.0, label="a"), Value(3.0, label="α")]
    c = valuegrad.compile(lambda a, b, g: a * b + g, xs, mode="python")
    assert "a = _in[0]" in c.source and "a_2 = _in[1]" in c.source and "x2 = _in[2]  # 'α'" in c.source


# --- check=True ------------------------------------------------------------------


def test_check_detects_a_changed_graph():
    branchy = lambda x: x * 2 if x.data > 0 else x + 2  # noqa: E731
    c = valuegrad.compile(branchy, [1.0], check=True, mode="python")
    assert c.forward([3.0]) == 6.0
    with pytest.raises(GraphChangedError, match=r"node 2 is now '\+'"):
        c.forward([-1.0])
    shorter = valuegrad.compile(lambda x: x * 2 if x.data > 0 else x.tanh(), [1.0], check=True)
    with pytest.raises(GraphChangedError, match="2 nodes, the compiled graph 3"):
        shorter.forward([-1.0])
    constant = lambda x: x * (2 if x.data > 0 else 3)  # noqa: E731
    c2 = valuegrad.compile(constant, [1.0], check=True, mode="level")
    with pytest.raises(GraphChangedError, match="batch lane 1"):
        c2.forward([np.array([1.0, -1.0])])
    unchecked = valuegrad.compile(branchy, [1.0], mode="python")
    assert unchecked.forward([-1.0]) == -2.0  # the tape keeps the traced branch


def test_tape_signature_ignores_param_values_but_not_constants():
    w = Value(1.0)
    t1 = valuegrad.compile(lambda x: x * w + 1, [1.0], [w]).tape
    w.data = 5.0
    t2 = valuegrad.compile(lambda x: x * w + 1, [2.0], [w]).tape
    t3 = valuegrad.compile(lambda x: x * w + 2, [2.0], [w]).tape
    assert isinstance(t1, Tape) and t1.signature() == t2.signature() != t3.signature()


# --- the level plan ------------------------------------------------------------


def test_a_16x16_layer_is_one_grouped_multiply():
    ws = [[Value(0.01 * (i - j)) for j in range(16)] for i in range(16)]
    bs = [Value(0.1 * i) for i in range(16)]
    params = [w for row in ws for w in row] + bs

    def layer(*x):
        return sum((sum((wi * xi for wi, xi in zip(row, x)), b).relu() for row, b in zip(ws, bs)), Value(0.0))

    xs = [0.1 * k - 0.5 for k in range(16)]
    c = valuegrad.compile(layer, xs, params, mode="level")
    muls = [g for g in c.plan if g.op is ops.MUL]
    assert [g.lanes for g in muls] == [256]
    sums = [g for g in c.plan if g.kind == "chain" and g.level == muls[0].level + 1]
    assert [(g.chains, g.links) for g in sums] == [(16, 16)]
    relus = [g for g in c.plan if g.op is ops.RELU]
    assert [g.lanes for g in relus] == [16]
    want = eager(layer, xs, params)
    got = compiled_run(c, xs, params)
    assert close(got[0], want[0]) and all(close(g, e) for g, e in zip(got[2], want[2]))
    # the same in batch lanes: one column per lane, parameter gradients summed
    lanes = [[x * (1 + 0.5 * k) - 0.2 * k for x in xs] for k in range(3)]
    out, input_grads, param_grads = compiled_run(c, [np.array(col) for col in zip(*lanes)], params)
    per_lane = [eager(layer, lane, params) for lane in lanes]
    assert all(close(out[k], per_lane[k][0]) for k in range(3))
    assert all(close(input_grads[j][k], per_lane[k][1][j]) for j in range(16) for k in range(3))
    assert all(close(param_grads[i], math.fsum(r[2][i] for r in per_lane)) for i in range(len(params)))


def test_repeated_operands_are_found():
    from valuegrad.compiler.level_code import broadcast_axis, common_shape

    assert broadcast_axis(np, np.repeat(np.arange(6), 4)) == (1, 4)  # each value 4 times in a row
    assert broadcast_axis(np, np.tile(np.arange(6), 4)) == (6, 4)  # the whole block 4 times
    assert broadcast_axis(np, np.tile(np.repeat(np.arange(3), 5), 2)) == (1, 5)  # the longest repeat wins
    assert broadcast_axis(np, np.arange(24)) is None
    shape, axes = common_shape(24, {0: (1, 4), 1: (4, 6)})
    assert shape == (6, 4) and axes == {0: (1,), 1: (0,)}


def test_level_code_has_no_np_add_at():
    fn = GRAPH_CASES["params on both sides"]
    c = valuegrad.compile(fn, [1.0, 2.0], [W, B], mode="level")
    assert ".at(" not in c.plan_source
    c.forward([np.ones(3), np.ones(3)])
    (_, _, namespace) = c._levels[True]
    assert "add.at" not in str(namespace)


# --- errors ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_domain_errors_are_raised_not_nan(mode):
    c = valuegrad.compile(lambda a: (a * 2).log(), [1.0], mode=mode)
    with pytest.raises(DomainError, match=r"log|invalid|division") as info:
        c.forward([-1.0])
    assert isinstance(info.value, ValueError)
    with pytest.raises(ValueError):
        c.forward([0.0])
    d = valuegrad.compile(lambda a, b: a / b, [1.0, 1.0], mode=mode)
    with pytest.raises(ArithmeticError):
        d.forward([1.0, 0.0])
    p = valuegrad.compile(lambda a, b: a**b, [2.0, 0.5], mode=mode)
    with pytest.raises(ValueError, match="positive base"):
        p.forward([-2.0, 2.0])
    if mode != "python":
        with pytest.raises(DomainError, match="in batch lane 2"):
            c.forward([np.array([1.0, 2.0, -3.0, -4.0])])
    e = valuegrad.compile(lambda a: a.exp(), [1.0], mode=mode)
    assert e.forward([1000.0]) == math.inf  # overflow is inf, as eagerly


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="mode"):
        valuegrad.compile(lambda a: a, [1.0], mode="fast")
    with pytest.raises(TypeError, match="must return a Value"):
        valuegrad.compile(lambda a: 3.0, [1.0])
    with pytest.raises(ValueError, match="leaf"):
        valuegrad.compile(lambda a: a, [1.0], [W * 2])
    with pytest.raises(ValueError, match="twice"):
        valuegrad.compile(lambda a: a * W, [1.0], [W, W])
    with pytest.raises(TypeError, match="example input 0"):
        valuegrad.compile(lambda a: a, [np.ones(3)])
    c = valuegrad.compile(lambda a: a * W, [1.0], [W])
    with pytest.raises(RuntimeError, match="forward"):
        c.backward()
    with pytest.raises(TypeError, match="expected 1 inputs"):
        c.forward([1.0, 2.0])
    lv = valuegrad.compile(lambda a, b: a * b, [1.0, 1.0], mode="level")
    with pytest.raises(ValueError, match="lanes"):
        lv.forward([np.ones(3), np.ones(4)])
    with pytest.raises(ValueError, match="at least one lane"):
        lv.forward([np.ones(0), 1.0])


@pytest.mark.parametrize("module", ["", ".tape", ".naming", ".lowering"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module("valuegrad.compiler" + module))
    assert result.attempted >= 3 and result.failed == 0


def test_import_valuegrad_does_not_import_numpy():
    code = "import sys, valuegrad; valuegrad.compile; assert 'numpy' not in sys.modules, 'numpy imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --- micrograd's demo, compiled ------------------------------------------------


def _demo_module():
    spec = importlib.util.spec_from_file_location("demo_compiled", ROOT / "benchmarks" / "demo_compiled.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _demo_data():
    rng = np.random.default_rng(3)
    weights = rng.uniform(-1, 1, size=337).tolist()
    X = rng.normal(size=(100, 2)).tolist()
    y = [1 if a * b > 0 else -1 for a, b in X]
    return weights, X, y


def test_demo_step_matches_eager_valuegrad_and_micrograd():
    demo = _demo_module()
    weights, X, y = _demo_data()
    steps = 3
    step = demo.make_step(weights, X, y)
    assert step.compiled.mode == "level" and step.compile_seconds > 0
    compiled = [step(k) for k in range(steps)]
    assert step.nbytes > 0

    model, params = demo._mlp(weights)
    eager_losses = []
    for k in range(steps):
        loss = demo.demo_loss(model, params, X, y)
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= demo.learning_rate(k) * p.grad
        eager_losses.append(loss.data)
    assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(compiled, eager_losses)), (
        compiled,
        eager_losses,
    )
    assert all(close(p.data, q.data) for p, q in zip(params, step.params))

    mg = MLP(2, [16, 16, 1])
    for p, w in zip(mg.parameters(), weights):
        p.data = w
    enabled = gc.isenabled()
    gc.disable()  # micrograd's graphs are reference cycles: the collector would take seconds
    try:
        mg_losses = []
        for k in range(steps):
            inputs = [list(map(micrograd_engine.Value, row)) for row in X]
            scores = list(map(mg, inputs))
            losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
            total = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in mg.parameters())
            mg.zero_grad()
            total.backward()
            for p in mg.parameters():
                p.data -= demo.learning_rate(k) * p.grad
            mg_losses.append(total.data)
    finally:
        if enabled:
            gc.enable()
    assert all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(compiled, mg_losses)), (compiled, mg_losses)


def test_demo_topology_is_recorded_once():
    demo = _demo_module()
    weights, X, y = _demo_data()
    step = demo.make_step(weights, X[:3], y[:3], mode="numpy")
    tape = step.compiled.tape
    assert len(tape) == len(topological_order(demo.demo_loss(*demo._mlp(weights), X[:3], y[:3])))
    assert step(0) == pytest.approx(demo.make_step(weights, X[:3], y[:3], mode="level")(0), rel=1e-12)


# --- bad arguments: a clear error ----------------------------------------------------------

_w = Value(2.0, label="w")
_tanh_w = lambda x: (x * _w).tanh()  # noqa: E731

BAD_CALLS = {
    "compile bad mode": (lambda: valuegrad.compile(_tanh_w, [1.0], params=[_w], mode="fast"), ValueError),
    "compile not callable": (lambda: valuegrad.compile(3, [1.0]), TypeError),
    "compile str input": (lambda: valuegrad.compile(_tanh_w, ["a"]), TypeError),
    "compile param not a Value": (lambda: valuegrad.compile(_tanh_w, [1.0], params=[1.0]), TypeError),
    "compile param not a leaf": (lambda: valuegrad.compile(_tanh_w, [1.0], params=[_w * 2]), ValueError),
    "compile returns list": (lambda: valuegrad.compile(lambda x: [x], [1.0]), TypeError),
    "compile returns float": (lambda: valuegrad.compile(lambda x: 1.0, [1.0]), TypeError),
    "compiled wrong count": (lambda: valuegrad.compile(_tanh_w, [1.0], params=[_w])([1.0, 2.0]), TypeError),
    "compiled str input": (lambda: valuegrad.compile(_tanh_w, [1.0], params=[_w])(["a"]), TypeError),
    "compiled log domain": (
        lambda: valuegrad.compile(lambda x: x.log(), [1.0], mode="python")([-1.0]),
        ValueError,
    ),
    "compiled log domain level": (
        lambda: valuegrad.compile(lambda x: x.log(), [1.0], mode="level")([-1.0]),
        ValueError,
    ),
    "compiled backward first": (
        lambda: valuegrad.compile(_tanh_w, [1.0], params=[_w]).backward(),
        RuntimeError,
    ),
}


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_compile_rejects_bad_arguments(name):
    call, error = BAD_CALLS[name]
    with pytest.raises(error):
        call()
