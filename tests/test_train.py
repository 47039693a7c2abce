"""valuegrad.train.fit: the notebook's training, micrograd's demo (accuracy, and loss history equal to
micrograd's own from the same weights), the compiled path, progress, plots and bad input."""

from __future__ import annotations

import gc
import importlib.util
import itertools
import random
import sys
from math import nan

import numpy as np
import pytest

from _state import params
from valuegrad import data, nn, optim, train
from valuegrad.data import make_moons, notebook_samples
from valuegrad.train import DIVERGENCE_FACTOR, TrainingDiverged, accuracy, compute_loss, fit

PNG = b"\x89PNG\r\n\x1a\n"


def notebook_run(seed: int, steps: int = 32, lr: float = 0.02) -> list[float]:
    xs, ys = notebook_samples()
    model = nn.MLP(3, [4, 4, 1], seed=seed)
    return fit(model, xs, ys, loss="mse", optimizer="sgd", lr=lr, steps=steps).loss


def test_notebook_mlp_learns_its_four_samples_like_the_notebook():
    # The demo's default seed (1) and step size (the notebook's α = 0.02).
    losses = notebook_run(seed=1)
    assert 5.5 < losses[0] < 7.5  # the notebook starts at 6.45
    assert losses[-1] < 0.2  # and ends at 0.11
    assert sum(b < a for a, b in itertools.pairwise(losses)) == len(losses) - 1  # falls at every step


def test_notebook_mlp_learns_for_most_seeds():
    finals = [notebook_run(seed)[-1] for seed in range(10)]
    assert sum(f < 0.2 for f in finals) >= 8, finals


def micrograd_demo_loss_history(X, y, steps):
    """micrograd's demo loop (demo.ipynb), verbatim but for the data; returns its model and losses."""
    from micrograd import nn as mnn

    random.seed(1337)
    model = mnn.MLP(2, [16, 16, 1])
    weights = [p.data for p in model.parameters()]
    history = []
    gc.disable()  # micrograd's nodes are reference cycles: only speed changes, not the numbers
    try:
        return weights, _micrograd_steps(model, X, y, steps, history)
    finally:
        gc.enable()


def _micrograd_steps(model, X, y, steps, history):
    for k in range(steps):
        scores = list(map(model, [list(x) for x in X]))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        history.append(total_loss.data)
    return history


def test_loss_history_matches_micrograd_from_the_same_weights():
    X, y = make_moons(16, noise=0.1, seed=2)
    weights, theirs = micrograd_demo_loss_history(X, y, steps=3)
    model = nn.MLP(2, [16, 16, 1], activation="relu", last_activation="linear", seed=0)
    for p, w in zip(model.parameters(), weights, strict=True):
        p.data = float(w)
    ours = fit(model, X, y, loss="hinge", l2=1e-4, lr=optim.LinearDecay(1.0, 0.1, 100), steps=3).loss
    assert ours == pytest.approx(theirs, abs=1e-6)
    assert theirs[-1] < theirs[0]


def has_compiler() -> bool:
    return (
        importlib.util.find_spec("numpy") is not None
        and importlib.util.find_spec("valuegrad.compiler") is not None
    )


def test_micrograd_demo_configuration_reaches_97_percent():
    # micrograd's demo: 100 moons, 2-16-16-1 relu/linear, hinge + 1e-4 L2, SGD lr 1.0 -> 0.1 over 100 steps.
    # All 100 steps with the compiled graph (the same numbers as eager training, see
    # test_compile_true_gives_the_eager_history: about 2 s); eagerly (0.1-0.3 s a step) only 55 of them.
    X, y = make_moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], activation="relu", last_activation="linear", seed=1337)
    compiled = has_compiler()
    steps = 100 if compiled else 55
    history = fit(
        model, X, y, loss="hinge", l2=1e-4, lr=optim.LinearDecay(1.0, 0.1, 100), steps=steps, compile=compiled
    )
    assert history.accuracy[0] <= 0.8
    assert accuracy(model, X, y) >= 0.97
    assert history.loss[-1] < history.loss[0] / 4
    assert history.lr[:2] == [1.0, 1.0 - 0.9 / 100]


def test_adam_bce_and_a_callback():
    X, y = make_moons(30, noise=0.05, seed=1)
    targets = [(v + 1) // 2 for v in y]
    model = nn.MLP(2, [8, 1], activation="tanh", last_activation="linear", seed=0)
    seen = []
    history = fit(
        model,
        X,
        targets,
        loss="bce",
        optimizer="adam",
        lr=0.05,
        steps=25,
        callback=lambda k, l, a: seen.append(k),
    )
    assert seen == list(range(25))
    assert history.loss[-1] < 0.6 * history.loss[0]
    assert accuracy(model, X, targets, loss="bce") >= 0.8


def test_a_given_optimizer_and_progress_bar(capsys):
    xs, ys = notebook_samples()
    model = nn.MLP(3, [4, 1], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    history = fit(model, xs, ys, optimizer=opt, steps=5, progress=True)
    assert len(history) == 5 and opt.steps_taken == 5
    err = capsys.readouterr().err
    assert "5/5" in err and "loss=" in err


def test_compute_loss_is_what_fit_reports():
    xs, ys = notebook_samples()
    model = nn.MLP(3, [4, 1], seed=0)
    total, scores = compute_loss(model, xs, ys, "mse", l2=0.1)
    assert len(scores) == 4
    assert fit(model, xs, ys, lr=0.01, l2=0.1, steps=1).loss == [total.data]


def test_divergence_is_a_clear_error():
    xs, ys = notebook_samples()
    model = nn.MLP(3, [16, 16, 1], activation="linear", seed=0)
    with pytest.raises(ValueError, match="lower learning rate"):
        fit(model, xs, ys, loss="mse", lr=5.0, steps=60)


def test_a_finite_loss_that_runs_away_is_divergence():
    # micrograd's demo with lr 100: every loss is finite, but it passes 1e12 within a few steps.
    X, y = make_moons(40, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], activation="relu", last_activation="linear", seed=0)
    weights = [p.data for p in model.parameters()]
    with pytest.raises(TrainingDiverged) as e:
        fit(model, X, y, loss="hinge", l2=1e-4, lr=100.0, steps=50)
    err = e.value
    history = err.history
    assert 1 <= err.step < 50 and len(history) == err.step + 1 == len(history.accuracy) == len(history.lr)
    assert history.loss[-1] == err.loss > DIVERGENCE_FACTOR * max(history.loss[0], 1.0)
    assert all(x <= DIVERGENCE_FACTOR * max(history.loss[0], 1.0) for x in history.loss[:-1])
    assert f"training diverged at step {err.step}" in str(err) and "lower learning rate" in str(err)
    # The same run, allowed to grow: it goes on (the loss stays finite for a while).
    model = nn.MLP(2, [16, 16, 1], activation="relu", last_activation="linear", seed=0)
    assert [p.data for p in model.parameters()] == weights
    grown = fit(model, X, y, loss="hinge", l2=1e-4, lr=100.0, steps=err.step + 1, diverge_at=None)
    assert grown.loss == history.loss


def test_a_learning_run_never_trips_the_divergence_rule():
    losses = notebook_run(seed=1, steps=32)
    assert max(losses) < DIVERGENCE_FACTOR  # and fit returned normally
    with pytest.raises(ValueError, match="diverge_at must be a finite number > 1"):
        fit(nn.MLP(3, [1], seed=0), *notebook_samples(), diverge_at=0.5)


def test_a_nan_loss_stops_at_once():
    xs, ys = notebook_samples()
    model = nn.MLP(3, [1], activation="linear", seed=0)
    model.parameters()[0].data = float("nan")
    with pytest.raises(TrainingDiverged, match="the loss is nan") as e:
        fit(model, xs, ys, steps=5, diverge_at=None)
    assert e.value.step == 0 and len(e.value.history) == 1


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"steps": -1}, ValueError, "steps must be an int >= 0"),
        ({"loss": "l1"}, ValueError, "loss must be one of"),
        ({"optimizer": "rmsprop"}, ValueError, "optimizer must be"),
        ({"lr": -1.0}, ValueError, "lr must be in"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    xs, ys = notebook_samples()
    with pytest.raises(error) as e:
        fit(nn.MLP(3, [2, 1], seed=0), xs, ys, **kwargs)
    assert message in str(e.value)


def test_bad_data_and_models():
    xs, ys = notebook_samples()
    with pytest.raises(ValueError, match="4 inputs but 3 targets"):
        fit(nn.MLP(3, [1], seed=0), xs, ys[:3])
    with pytest.raises(ValueError, match="one output"):
        fit(nn.MLP(3, [2], seed=0), xs, ys, steps=1)
    model = nn.MLP(3, [1], seed=0)
    with pytest.raises(ValueError, match="set the learning rate on the Optimizer"):
        fit(model, xs, ys, optimizer=optim.SGD(model.parameters(), lr=0.1), lr=0.1)


def test_compile_true_gives_the_eager_history():
    X, y = make_moons(40, noise=0.1, seed=0)
    histories = []
    for compiled in (False, True):
        model = nn.MLP(2, [8, 8, 1], activation="relu", last_activation="linear", seed=3)
        h = fit(
            model, X, y, loss="hinge", l2=1e-4, lr=optim.LinearDecay(1.0, 0.1, 100), steps=6, compile=compiled
        )
        histories.append((h, [p.data for p in model.parameters()]))
    (eager, p_eager), (comp, p_comp) = histories
    assert comp.loss == pytest.approx(eager.loss, abs=1e-12)
    assert comp.accuracy == eager.accuracy
    assert p_comp == pytest.approx(p_eager, abs=1e-12)


def test_compile_true_without_numpy_refuses_and_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)
    xs, ys = notebook_samples()
    with pytest.raises(ImportError, match=r"needs NumPy to be fast: pip install 'valuegrad\[compile\]'"):
        fit(nn.MLP(3, [1], seed=0), xs, ys, steps=1, compile=True)


def test_compile_true_without_the_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "valuegrad.compiler", None)  # makes the import fail
    xs, ys = notebook_samples()
    with pytest.raises(ImportError, match=r"fit\(compile=True\) needs valuegrad.compiler"):
        fit(nn.MLP(3, [1], seed=0), xs, ys, steps=1, compile=True)


def test_plots_are_png_files(tmp_path):
    from valuegrad import plot

    X, y = make_moons(20, noise=0.1, seed=0)
    model = nn.MLP(2, [4, 1], activation="relu", last_activation="linear", seed=0)
    history = fit(model, X, y, loss="hinge", lr=0.1, steps=3)
    plot.loss_curve(history, tmp_path / "loss.png")
    plot.loss_curve([3.0, 2.0, 1.0], tmp_path / "plain.png")
    plot.decision_boundary(model, X, y, tmp_path / "boundary.png", resolution=50)
    for name in ("loss.png", "plain.png", "boundary.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG)
    with pytest.raises(ValueError, match="2-D inputs"):
        plot.decision_boundary(nn.MLP(3, [1], seed=0), *notebook_samples(), tmp_path / "x.png")


def test_loss_figure_axes_log_scale_and_accuracy_steps():
    from valuegrad import plot
    from valuegrad.train import History

    calm = plot.loss_figure(History([6.4, 3.0, 1.0, 0.2], [0.5, 0.75, 1.0, 1.0], [0.02] * 4), title="calm")
    ax, ax2 = calm.axes
    assert ax.get_yscale() == "linear" and ax.get_ylabel() == "loss" and ax.get_xlabel() == "step"
    (acc_line,) = ax2.get_lines()
    assert acc_line.get_drawstyle() == "steps-mid" and ax2.get_ylabel() == "training accuracy"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["loss", "training accuracy"]
    # A diverging run spans 12 decades: the loss axis becomes logarithmic.
    wild = plot.loss_figure([0.57, 8.0e3, 9.0e12])
    assert wild.axes[0].get_yscale() == "log" and wild.axes[0].get_ylabel() == "loss (log scale)"
    assert len(wild.axes) == 1  # a plain list of losses has no accuracy
    assert plot.loss_figure([1.0, 0.5, 0.2]).axes[0].get_yscale() == "linear"
    assert plot.loss_figure([1.0, float("nan"), float("inf")]).axes[0].get_yscale() == "linear"


def test_decision_boundary_names_its_axes_and_labels():
    from valuegrad import plot

    X, y = make_moons(20, noise=0.1, seed=0)
    model = nn.MLP(2, [4, 1], activation="relu", last_activation="linear", seed=0)
    fig = plot.decision_boundary_figure(model, X, y, resolution=30)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "x₁ (first input)" and ax.get_ylabel() == "x₂ (second input)"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        "label +1",
        "label -1",
        "model predicts +1 (score > 0)",
        "model predicts -1 (score ≤ 0)",
    ]
    zero_one = plot.decision_boundary_figure(model, X, [(v + 1) // 2 for v in y], resolution=30)
    assert [t.get_text() for t in zero_one.axes[0].get_legend().get_texts()][:2] == ["label 1", "label 0"]


def test_plots_without_matplotlib_name_the_extra(monkeypatch, tmp_path):
    from valuegrad import plot

    for name in ("matplotlib", "matplotlib.figure", "numpy"):
        monkeypatch.setitem(sys.modules, name, None)
    X, y = make_moons(10, noise=0.1, seed=0)
    for call in (
        lambda: plot.loss_curve([1.0, 0.5], tmp_path / "loss.png"),
        lambda: plot.decision_boundary(nn.MLP(2, [1], seed=0), X, y, tmp_path / "b.png"),
    ):
        with pytest.raises(ImportError, match=r"pip install 'valuegrad\[plot\]'"):
            call()
    assert list(tmp_path.iterdir()) == []


def test_plot_grid_evaluation_is_the_models_own_output():
    from valuegrad.plot import _numpy_forward

    model = nn.MLP(2, [5, 4, 1], activation="tanh", last_activation="sigmoid", seed=4)
    points = [[0.3, -1.2], [2.0, 0.5], [-0.7, 0.0]]
    got = _numpy_forward(model)(np.array(points))
    assert got.tolist() == pytest.approx([model.predict(p) for p in points], abs=1e-12)


# --- bad arguments: a clear error, no parameter changed ----------------------------------------


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
