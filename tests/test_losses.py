"""valuegrad.losses: values and gradients against PyTorch's losses, stability, bad input."""

from __future__ import annotations

import math
from math import nan

import pytest
import torch

from _state import state
from valuegrad import Value, losses
from valuegrad.losses import binary_cross_entropy, hinge, l2, mse


def values(xs):
    return [Value(float(x)) for x in xs]


def torch_leaf(xs):
    return torch.tensor(xs, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_mse_matches_torch(reduction):
    preds, targets = [0.3, -0.8, 1.7, 0.0], [1.0, -1.0, -1.0, 1.0]
    ps = values(preds)
    loss = mse(ps, targets, reduction=reduction)
    loss.backward()
    tp = torch_leaf(preds)
    tl = torch.nn.functional.mse_loss(tp, torch.tensor(targets, dtype=torch.float64), reduction=reduction)
    tl.backward()
    assert loss.data == pytest.approx(tl.item(), abs=1e-12)
    assert [p.grad for p in ps] == pytest.approx(tp.grad.tolist(), abs=1e-12)


def test_mse_default_is_the_notebooks_sum():
    assert mse(values([0.5, -0.5]), [1.0, -1.0]).data == 0.5
    assert mse(values([0.5, -0.5]), [1.0, -1.0], reduction="mean").data == 0.25
    assert mse(Value(3.0), 1.0).data == 4.0  # one prediction needs no list


def test_hinge_matches_micrograds_formula_and_torch():
    scores, ys = [0.3, -2.0, 1.5, -0.2, 0.999], [1, 1, -1, -1, 1]
    ss = values(scores)
    loss = hinge(ss, ys)
    loss.backward()
    ts = torch_leaf(scores)
    tl = torch.relu(1 - torch.tensor(ys, dtype=torch.float64) * ts).mean()
    tl.backward()
    assert loss.data == pytest.approx(tl.item(), abs=1e-12)
    assert [s.grad for s in ss] == pytest.approx(ts.grad.tolist(), abs=1e-12)


ZS = [-1000.0, -40.0, -3.0, -1e-9, 0.0, 1e-9, 0.5, 3.0, 40.0, 1000.0]


@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
def test_binary_cross_entropy_matches_torch_including_huge_logits_and_zero(y):
    zs = values(ZS)
    loss = binary_cross_entropy(zs, [y] * len(ZS), reduction="sum")
    loss.backward()
    tz = torch_leaf(ZS)
    tl = torch.nn.functional.binary_cross_entropy_with_logits(
        tz, torch.full((len(ZS),), y, dtype=torch.float64), reduction="sum"
    )
    tl.backward()
    assert loss.data == pytest.approx(tl.item(), rel=1e-12, abs=1e-12)
    assert [z.grad for z in zs] == pytest.approx(tz.grad.tolist(), abs=1e-12)
    assert zs[ZS.index(0.0)].grad == pytest.approx(0.5 - y, abs=1e-15)  # the kink of |z| cancels


def test_binary_cross_entropy_mean_is_the_default():
    z = values([0.2, -0.4])
    assert binary_cross_entropy(z, [1, 0]).data == pytest.approx(
        binary_cross_entropy(z, [1, 0], "sum").data / 2
    )


def test_l2():
    ps = values([3.0, -4.0])
    reg = l2(ps, 1e-4)
    reg.backward()
    assert reg.data == pytest.approx(1e-4 * 25)
    assert [p.grad for p in ps] == pytest.approx([2e-4 * 3, 2e-4 * -4])


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: mse([], []), ValueError, "no predictions"),
        (lambda: mse(values([1, 2]), [1.0]), ValueError, "2 predictions but 1 targets"),
        (lambda: mse(values([1]), [1.0], reduction="max"), ValueError, "reduction"),
        (lambda: hinge(values([1, 2]), [1, 0]), ValueError, "target 1 is 0; labels must be -1 or +1"),
        (lambda: hinge(values([1]), []), ValueError, "1 predictions but 0 targets"),
        (lambda: binary_cross_entropy(values([1]), [2.0]), ValueError, "targets must be in [0, 1]"),
        (lambda: binary_cross_entropy([], []), ValueError, "no predictions"),
        (lambda: l2([], 1e-4), ValueError, "no parameters"),
        (lambda: l2(values([1]), -1.0), ValueError, "alpha"),
        (lambda: mse([[Value(1.0), Value(2.0)]], [1.0]), TypeError, "several outputs"),
        (lambda: mse(values([1]), ["a"]), TypeError, "target 0"),
    ],
)
def test_bad_input(call, error, message):
    with pytest.raises(error) as e:
        call()
    assert message in str(e.value)


# --- bad arguments: a clear error, nothing changed -------------------------------------------


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
