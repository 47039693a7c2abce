"""valuegrad.optim: every step against torch.optim on the same parameters and gradients."""

from __future__ import annotations

import random
from math import inf, nan

import pytest
import torch

from valuegrad import Value, optim
from valuegrad.optim import SGD, Adam, LinearDecay

START = [0.5, -1.25, 2.0, 1e-3, -0.7]


def grad_sequence(steps: int, seed: int = 0) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-2, 2) for _ in START] for _ in range(steps)]


def run_both(make_ours, make_theirs, steps: int = 6):
    """Apply the same gradients with valuegrad and torch; return both parameter histories."""
    ours = [Value(x) for x in START]
    opt = make_ours(ours)
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in START]
    topt = make_theirs(theirs)
    hist_ours, hist_theirs = [], []
    for grads in grad_sequence(steps):
        for p, g in zip(ours, grads):
            p.grad = g
        for t, g in zip(theirs, grads):
            t.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        topt.step()
        hist_ours.append([p.data for p in ours])
        hist_theirs.append([t.item() for t in theirs])
    return hist_ours, hist_theirs


@pytest.mark.parametrize(
    "kwargs",
    [{"lr": 0.1}, {"lr": 0.05, "momentum": 0.9}, {"lr": 0.3, "momentum": 0.5, "weight_decay": 0.01}],
)
def test_sgd_matches_torch(kwargs):
    ours, theirs = run_both(lambda ps: SGD(ps, **kwargs), lambda ts: torch.optim.SGD(ts, **kwargs))
    for a, b in zip(ours, theirs):
        assert a == pytest.approx(b, abs=1e-12)
    assert ours[-1] != pytest.approx(START)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"lr": 0.01},
        {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6},
        {"lr": 0.02, "weight_decay": 0.1},
        {"lr": 0.5, "betas": (0.0, 0.5)},
    ],
)
def test_adam_matches_torch(kwargs):
    ours, theirs = run_both(lambda ps: Adam(ps, **kwargs), lambda ts: torch.optim.Adam(ts, **kwargs), steps=8)
    for a, b in zip(ours, theirs):
        assert a == pytest.approx(b, abs=1e-12)
    assert ours[-1] != pytest.approx(START)


def test_plain_sgd_is_micrographs_update_exactly():
    p = Value(0.3)
    p.grad = 0.7
    SGD([p], lr=0.05).step()
    expected = 0.3
    expected -= 0.05 * 0.7
    assert p.data == expected


def test_linear_decay_is_micrograds_schedule_and_drives_the_step():
    sched = LinearDecay(1.0, 0.1, 100)
    assert [sched(k) for k in range(100)] == [1.0 - 0.9 * k / 100 for k in range(100)]
    assert sched(100) == sched(1000) == 0.1
    p = Value(0.0)
    opt = SGD([p], lr=123.0, schedule=sched)
    moves = []
    for _ in range(3):
        p.grad = 1.0
        before = p.data
        opt.step()
        moves.append(before - p.data)
    assert moves == pytest.approx([1.0, 0.991, 0.982])
    assert opt.lr == sched(2) and opt.steps_taken == 3


def test_lr_can_be_changed_between_steps():
    p = Value(1.0)
    opt = SGD([p], lr=0.1)
    p.grad = 1.0
    opt.step()
    opt.lr = 0.5
    opt.step()
    assert p.data == pytest.approx(1.0 - 0.1 - 0.5)


def test_zero_grad():
    ps = [Value(1.0), Value(2.0)]
    for p in ps:
        p.grad = 3.0
    Adam(ps).zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps)])
def test_non_finite_gradient_changes_nothing(make, bad):
    ps = [Value(1.0), Value(2.0)]
    opt = make(ps)
    ps[0].grad, ps[1].grad = 0.5, bad
    with pytest.raises(ValueError, match="gradient of parameter 1"):
        opt.step()
    assert [p.data for p in ps] == [1.0, 2.0] and opt.steps_taken == 0


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SGD([], lr=0.1), "empty parameter list"),
        (lambda: SGD([Value(1.0)], lr=-0.1), "lr must be in"),
        (lambda: SGD([Value(1.0)], lr=float("nan")), "lr must be a finite number"),
        (lambda: SGD([Value(1.0)], lr=0.1, momentum=1.5), "momentum"),
        (lambda: Adam([Value(1.0)], betas=(0.9, 1.0)), "beta2"),
        (lambda: Adam([Value(1.0)], betas=(0.9,)), "betas must be a pair"),
        (lambda: Adam([Value(1.0)], eps=-1.0), "eps"),
        (lambda: LinearDecay(1.0, 0.1, 0), "steps must be an int >= 1"),
    ],
)
def test_bad_settings(make, message):
    with pytest.raises(ValueError) as e:
        make()
    assert message in str(e.value)


def test_bad_parameter_lists():
    p = Value(1.0)
    with pytest.raises(ValueError, match="appears twice"):
        SGD([p, p], lr=0.1)
    with pytest.raises(TypeError, match="parameter 0 must be a Value"):
        SGD([1.0], lr=0.1)  # type: ignore[list-item]


# --- bad arguments: a clear error, no parameter and no optimizer state changed ----------------


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
