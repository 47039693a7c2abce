"""Memory: graphs are freed by reference counting alone, and training does not grow memory.

valuegrad's nodes hold their operands and their op (a shared table row), never a
closure over themselves, so a graph has no reference cycle: the moment the last
reference to its output goes, reference counting frees every node. These tests check
that with the cyclic garbage collector *disabled*, by asking ``gc.collect()`` how many
unreachable objects it finds afterwards (it must find none) and by measuring traced
memory with `tracemalloc`.
"""

from __future__ import annotations

import gc
import itertools
import math
import random
import tracemalloc
import weakref
from collections import Counter
from typing import Any, Callable, Iterator

import numpy as np
import pytest

import valuegrad
from valuegrad import Value, gradients, nn, optim, topological_order, train
from valuegrad.examples import first_expression, one_neuron


@pytest.fixture
def no_gc() -> Iterator[None]:
    """The collector off for the test body; anything it would have had to collect is reported."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def unreachable_after(work: Callable[[], Any]) -> tuple[int, Counter[str]]:
    """Run ``work`` (which drops everything it builds), then count what only the collector can free."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        work()
        found = gc.collect()
        kinds = Counter(type(o).__name__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    return found, kinds


def mixed_graph() -> Value:
    """Every op, shared sub-expressions, constants on both sides."""
    a, b = Value(0.7, label="a"), Value(-1.3, label="b")
    s = (a * b).tanh()
    t = s * s + (2.0 ** (a - b)) / (1 + b.exp()) - (a**2 + 1).log() + (-s).relu() + a.sigmoid() ** a
    return t * s - 3 / (s - 2)


def test_a_dropped_graph_leaves_nothing_for_the_collector(no_gc):
    def work() -> None:
        for make in (first_expression, one_neuron, lambda: one_neuron(tanh_via_exp=True), mixed_graph):
            out = make()
            out.backward()
            topological_order(out)
            gradients(out)
            del out

    found, kinds = unreachable_after(work)
    assert found == 0, kinds


def test_second_order_graphs_via_gradients_leave_no_cycle(no_gc):
    def work() -> None:
        x = Value(0.3)
        y = (x * x).tanh() * x.exp()
        g = gradients(y, [x], create_graph=True)[x]  # the gradient is a graph over x; x does not point to it
        gradients(g, [x])

    found, kinds = unreachable_after(work)
    assert found == 0, kinds


def test_backward_create_graph_cycle_is_broken_by_resetting_grads(no_gc):
    """``backward(create_graph=True)`` stores Value grads on the nodes: x -> x.grad -> graph -> x.

    That is a reference cycle (PyTorch documents the same one); resetting the grads, as every
    training loop does with ``zero_grad()``, breaks it: 1,000 such steps keep memory flat.
    Left in place, the pure-Python engine's collector frees the cycle; the compiled engine's
    nodes are invisible to the collector (that is its speed), so the cycle stays until its
    grads are reset, as documented.
    """
    params = [Value(0.3), Value(-0.7), Value(1.1)]

    def step() -> None:
        a, b, c = params
        y = (a * b).tanh() * c + a * a * a
        y.backward(create_graph=True)
        assert all(isinstance(p.grad, Value) for p in params)
        curvature = sum((p.grad * p.grad for p in params), Value(0.0))  # differentiate the grads again
        curvature.backward()
        for p in params:  # zero_grad
            p.grad = 0.0

    _, growth = traced_growth(step, warmup=20, steps=1000)
    assert growth < GROWTH_BUDGET, growth
    assert gc.collect() == 0  # nothing was left for the collector either

    def keep_cycle() -> Any:
        x = Value(0.3)
        (x * x * x).backward(create_graph=True)
        return weakref.ref(x)

    gc.collect()
    x_ref = keep_cycle()
    found = gc.collect()
    if valuegrad.NATIVE:
        x = x_ref()
        assert found == 0 and x is not None  # the cycle stays: the documented leak without a reset
        x.grad = 0.0  # ...which a reset breaks
        del x
        assert x_ref() is None
    else:
        assert found > 0 and x_ref() is None  # the collector found and freed the cycle


def test_a_dropped_graph_is_freed_at_once_by_reference_counting(no_gc):
    x = Value(1.5)
    y = (x * 2.0).tanh() + x.exp()
    nodes = [weakref.ref(v) for v in topological_order(y) if v is not x]
    y.backward()
    del y
    assert all(ref() is None for ref in nodes)  # with the collector off: reference counting alone


def test_a_deep_chain_is_freed_promptly_and_completely(no_gc):
    """A 450,000-node chain: memory goes back to where it was as soon as the output is dropped.

    (Freeing a linked chain of this depth by reference counting must not overflow the C
    stack either: CPython's trashcan makes it iterative.)
    """
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        x = Value(0.5)
        y = x
        for _ in range(150_000):
            y = y.tanh() * 1.0  # 3 nodes per step: tanh, the constant 1.0, the product
        y.backward()
        held = tracemalloc.get_traced_memory()[0] - base
        del y
        after = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert held > 450_000 * 80  # the graph was really there (about 100 bytes per node)
    assert after < 10_000, after  # only the leaf x and a few small objects remain
    assert x.grad != 0.0
    assert gc.collect() == 0


def chain_bytes_per_node(n: int) -> tuple[float, float, float]:
    """Bytes per node of a chain of ``n`` tanh nodes: (after forward, after backward, peak in backward)."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        x = Value(0.5)
        y = x
        for _ in range(n):
            y = y.tanh()
        forward = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.reset_peak()
        y.backward()
        current, peak = tracemalloc.get_traced_memory()
        del y
    finally:
        tracemalloc.stop()
    return forward / n, (current - base) / n, (peak - base) / n


def test_memory_per_node_of_a_chain(capsys):
    """A budget, not a benchmark: each node is one object and its float.

    Measured on CPython 3.11 on this 100,000-deep chain, in the pure-Python engine: about
    160 bytes per node after the forward pass (the slotted node and its float), 184 once
    backward() has stored a float gradient on it, and a transient peak of about 192 during
    backward (backward's list of the nodes). The compiled engine's node is a C struct: about
    120 bytes per node after the forward pass, 144 after backward, a peak of about 152.
    """
    forward, after_backward, peak = chain_bytes_per_node(100_000)
    with capsys.disabled():
        print(
            f"\nvaluegrad chain memory per node: {forward:.0f} B after forward, "
            f"{after_backward:.0f} B after backward, {peak:.0f} B peak during backward"
        )
    assert 48 < forward < 200  # a filled __dict__ (~100 B) or a closure per node would push this far above
    assert after_backward < 230
    assert peak < 280


# --- training does not grow memory ---------------------------------------------------


def tiny_mlp(rng: random.Random, sizes: list[int]) -> list[list[tuple[list[Value], Value]]]:
    """An MLP made of Values only: layers of neurons of (weights, bias)."""
    return [
        [([Value(rng.uniform(-1, 1)) for _ in range(nin)], Value(rng.uniform(-1, 1))) for _ in range(nout)]
        for nin, nout in itertools.pairwise(sizes)
    ]


def forward(model: list, x: list[Any]) -> Value:
    out: list[Any] = x
    for layer in model:
        out = [sum((wi * xi for wi, xi in zip(w, out)), b).tanh() for w, b in layer]
    return out[0]


# Python keeps a few freed objects on free lists (floats, lists, frames), which tracemalloc
# still counts: a few kB of noise. A leak of even one float per step (24 B) over STEPS
# steps is well above GROWTH_BUDGET.
STEPS = 1000
GROWTH_BUDGET = 12_000


def traced_growth(step: Callable[[], Any], warmup: int, steps: int) -> tuple[int, int]:
    """Traced memory after ``warmup`` steps and the growth over ``steps`` more."""
    tracemalloc.start()
    try:
        for _ in range(warmup):
            step()
        start = tracemalloc.get_traced_memory()[0]
        for _ in range(steps):
            step()
        end = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return start, end - start


XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def test_training_a_values_only_mlp_does_not_grow_memory(no_gc):
    model = tiny_mlp(random.Random(0), [3, 4, 4, 1])
    params = [p for layer in model for w, b in layer for p in (*w, b)]
    losses: list[float] = []

    def step() -> None:
        loss = sum(((forward(model, x) - y) ** 2 for x, y in zip(XS, YS)), Value(0.0))
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= 0.05 * p.grad
        losses.append(loss.data)

    found, kinds = unreachable_after(lambda: traced_growth(step, warmup=20, steps=5))
    assert found == 0, kinds
    losses.clear()
    _, growth = traced_growth(step, warmup=20, steps=STEPS)
    # the floats appended to `losses` (24 B each plus the list's 8 B slot) are all that should stay
    assert growth < STEPS * 32 + GROWTH_BUDGET, growth
    assert losses[-1] < losses[0]


def test_training_an_nn_mlp_with_an_optimizer_does_not_grow_memory(no_gc):
    from valuegrad.losses import mse

    model = nn.MLP(3, [4, 4, 1], seed=1)
    opt = optim.Adam(model.parameters(), lr=0.05)
    first_last: list[float] = []

    def step() -> None:
        loss = mse([model(x) for x in XS], YS)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first_last[1:] = [loss.data]
        if not first_last[:1]:
            first_last.insert(0, loss.data)

    found, kinds = unreachable_after(lambda: traced_growth(step, warmup=20, steps=5))
    assert found == 0, kinds
    _, growth = traced_growth(step, warmup=20, steps=STEPS)
    assert growth < GROWTH_BUDGET, growth
    assert first_last[1] < first_last[0]


def test_fit_frees_its_graphs_and_leaves_no_cycle(no_gc):

    model = nn.MLP(3, [4, 4, 1], seed=1)

    def run(steps: int) -> int:
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            history = train.fit(model, XS, YS, loss="mse", lr=0.02, steps=steps)
            assert len(history) == steps and math.isfinite(history.loss[-1])
            del history
            return tracemalloc.get_traced_memory()[0] - base
        finally:
            tracemalloc.stop()

    found, kinds = unreachable_after(lambda: run(3))  # also warms up first-use caches
    assert found == 0, kinds
    short, long = run(10), run(STEPS)
    assert long - short < GROWTH_BUDGET, (short, long)


# --- the collector is paused during backward and a training step, and always restored ---------


def gc_state_inside_backward() -> bool:
    """Whether the collector was enabled while backward() ran (observed from inside it via NumPy)."""
    seen: list[bool] = []
    x = Value(np.float64(1e-300))
    y = 1.0 / x  # d/dx = -1e600: overflows inside backward, where NumPy calls us
    old = np.seterrcall(lambda *args: seen.append(gc.isenabled()))
    try:
        with np.errstate(over="call"):
            y.backward()
    finally:
        np.seterrcall(old)
    assert seen, "the overflow callback did not run"
    return seen[0]


def test_backward_pauses_the_collector_unless_told_not_to(monkeypatch):
    from valuegrad import backward as engine

    assert gc.isenabled()
    assert gc_state_inside_backward() is False
    assert gc.isenabled()  # switched back on
    monkeypatch.setattr(engine, "PAUSE_GC", False)
    assert gc_state_inside_backward() is True


def test_a_failing_backward_restores_the_collector_and_a_disabled_one_stays_disabled():
    x = Value(np.float64(1e-300))
    y = 1.0 / x
    assert gc.isenabled()
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        y.backward()
    assert gc.isenabled()
    gc.disable()
    try:
        (x * 2.0).backward()
        assert not gc.isenabled()  # valuegrad does not switch on a collector the user turned off
    finally:
        gc.enable()


def test_fit_respects_the_pause_switch(monkeypatch):
    from valuegrad import backward as engine
    from valuegrad.losses import mse

    seen: list[bool] = []

    def loss(scores: list[Value], ys: list[float]) -> Value:
        seen.append(gc.isenabled())
        return mse(scores, ys)

    model = nn.MLP(3, [2, 1], seed=0)
    train.fit(model, XS, YS, loss=loss, lr=0.01, steps=2)
    monkeypatch.setattr(engine, "PAUSE_GC", False)
    train.fit(model, XS, YS, loss=loss, lr=0.01, steps=2)
    assert seen == [False, False, True, True]
    assert gc.isenabled()
