"""Training plots written to PNG files with matplotlib (``pip install 'valuegrad[plot]'``).

matplotlib is imported when a function is called, never at ``import valuegrad``;
figures are drawn with the non-interactive Agg canvas (no pyplot, no display
needed, the global backend is left alone).

>>> from valuegrad import nn, plot                       # doctest: +SKIP
>>> plot.loss_curve(history, "loss.png")                   # doctest: +SKIP
>>> plot.decision_boundary(model, X, y, "boundary.png")    # doctest: +SKIP
>>> plot.loss_figure(history)            # a matplotlib Figure: notebooks show it inline  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any, Sequence

from . import numpy_math, op_functions, ops

if TYPE_CHECKING:
    from .train import History

__all__ = ["decision_boundary", "decision_boundary_figure", "loss_curve", "loss_figure"]


def _figure(figsize: tuple[float, float]) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(f"valuegrad.plot needs matplotlib: pip install 'valuegrad[plot]' ({e})") from e
    return Figure(figsize=figsize, dpi=100, layout="tight")


LOG_SCALE_DECADES = 3.0
"""`loss_curve` draws the loss on a log axis when its largest and smallest positive values
are more than this many powers of ten apart (a diverging run, or one that learns a lot)."""


def _log_scale(losses: Sequence[float]) -> bool:
    finite = [x for x in losses if math.isfinite(x)]
    if not finite or min(finite) <= 0:
        return False
    return math.log10(max(finite) / min(finite)) > LOG_SCALE_DECADES


def loss_curve(
    history: History | Sequence[float], path: str | os.PathLike[str], title: str = "Training"
) -> None:
    """Plot the loss per step (and the accuracy, if the history has it) into a PNG file.

    The picture is `loss_figure`'s; see there for what it shows.
    """
    loss_figure(history, title).savefig(path, format="png")


def loss_figure(history: History | Sequence[float], title: str = "Training") -> Any:
    """The loss per step (and the accuracy, if the history has it) as a matplotlib ``Figure``.

    Notebooks show the figure inline; `loss_curve` writes it to a PNG file.
    ``history`` is a `valuegrad.train.History` or a plain list of loss values. Each
    point is the loss before that step's update. The loss axis is logarithmic when
    the values span more than `LOG_SCALE_DECADES` powers of ten (a diverging run is
    readable then); the accuracy, which takes only a few values on a small dataset,
    is drawn as steps.
    """
    losses: list[float] = list(history.loss) if hasattr(history, "loss") else list(history)
    acc: list[float] = list(getattr(history, "accuracy", None) or [])
    if not losses:
        raise ValueError("loss_curve: the history is empty")
    fig = _figure((6.4, 4.0))
    ax = fig.subplots()
    steps = range(1, len(losses) + 1)
    (loss_line,) = ax.plot(
        steps, losses, color="tab:blue", marker="o" if len(losses) <= 40 else None, markersize=3, label="loss"
    )
    ax.set_xlabel("step")
    ax.xaxis.set_major_locator(_whole_numbers())
    if _log_scale(losses):
        ax.set_yscale("log")
        ax.set_ylabel("loss (log scale)", color="tab:blue")
    else:
        ax.set_ylim(bottom=0)
        ax.set_ylabel("loss", color="tab:blue")
    ax.grid(alpha=0.3)
    ax.set_title(title)
    if acc:
        ax2 = ax.twinx()
        (acc_line,) = ax2.step(steps, acc, where="mid", color="tab:orange", label="training accuracy")
        ax2.set_ylabel("training accuracy", color="tab:orange")
        ax2.set_ylim(0, 1.05)
        ax2.yaxis.set_major_formatter(_percent())
        ax.legend(
            handles=[loss_line, acc_line],
            loc="upper center",
            bbox_to_anchor=(0.5, -0.14),
            ncols=2,
            frameon=False,
        )
    return fig


def _whole_numbers() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


def _numpy_forward(model: Any) -> Any:
    """A vectorised ``model.predict`` over many points for an `nn.MLP`, or None for another model."""
    import numpy as np

    layers = getattr(model, "layers", None)
    if not layers or not all(hasattr(layer, "neurons") for layer in layers):
        return None
    f = numpy_math.functions(np)
    weights = []
    for layer in layers:
        W = np.array([[w.data for w in n.w] for n in layer.neurons], dtype=float)
        b = np.array([n.b.data for n in layer.neurons], dtype=float)
        act = layer.neurons[0].activation
        if act == "linear":
            fn = None
        elif act in {op.name for op in ops.OPS}:
            fn = op_functions.VALUE[act]  # the activation's own row of the op table, over NumPy arrays
        else:
            return None  # an activation this vectorised copy does not know: predict point by point
        weights.append((W, b, fn))

    def forward(points: Any) -> Any:
        h = points
        for W, b, fn in weights:
            h = h @ W.T + b
            if fn is not None:
                h = fn(h, None, f)
        return h[:, 0]

    return forward


def decision_boundary(
    model: Any,
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    path: str | os.PathLike[str],
    resolution: int = 200,
    title: str = "Decision boundary",
) -> None:
    """Write `decision_boundary_figure`'s picture of a 2-input model to a PNG file."""
    decision_boundary_figure(model, X, y, resolution, title).savefig(path, format="png")


def decision_boundary_figure(
    model: Any,
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    resolution: int = 200,
    title: str = "Decision boundary",
) -> Any:
    """Colour the plane by the sign of a 2-input, 1-output model's score; draw the points on top.

    Points are coloured by label (``y > 0`` or not, so ±1 and 0/1 labels both work);
    the legend names the labels (``label +1`` / ``label -1``, or ``1`` / ``0``) and the
    regions where the model predicts each. The axes are the two inputs, x₁ and x₂.
    """
    fig = _figure((5.5, 5.8))  # first: it names the extra to install when matplotlib is missing
    import numpy as np

    if len(X) == 0 or len(X) != len(y):
        raise ValueError(f"decision_boundary: {len(X)} points and {len(y)} labels")
    pts = np.asarray(X, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"decision_boundary needs 2-D inputs, got points of shape {pts.shape}")
    forward = _numpy_forward(model)
    if forward is None:
        resolution = min(resolution, 60)  # one graph-free predict per grid point
    pad = 0.5
    xs = np.linspace(pts[:, 0].min() - pad, pts[:, 0].max() + pad, resolution)
    ys = np.linspace(pts[:, 1].min() - pad, pts[:, 1].max() + pad, resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    if forward is not None:
        z = forward(grid)
    else:
        predict = getattr(model, "predict", None) or (lambda p: model(list(p)).data)
        z = np.array([float(predict([float(a), float(b)])) for a, b in grid])
    z = z.reshape(gx.shape)
    ax = fig.subplots()
    ax.contourf(gx, gy, z > 0, levels=[-0.5, 0.5, 1.5], colors=["#f4a6a6", "#a6c8f4"], alpha=0.8)
    if np.nanmin(z) < 0 < np.nanmax(z):
        ax.contour(gx, gy, z, levels=[0.0], colors="k", linewidths=1)
    values = np.asarray(y, dtype=float)
    labels = values > 0
    zero_one = bool(np.all((values == 0) | (values == 1)))
    pos, neg = ("label 1", "label 0") if zero_one else ("label +1", "label -1")
    ax.scatter(pts[labels, 0], pts[labels, 1], c="tab:blue", edgecolors="k", s=25, label=pos)
    ax.scatter(pts[~labels, 0], pts[~labels, 1], c="tab:red", edgecolors="k", s=25, label=neg)
    from matplotlib.patches import Patch

    regions = [
        Patch(facecolor="#a6c8f4", label=f"model predicts {pos.split()[1]} (score > 0)"),
        Patch(facecolor="#f4a6a6", label=f"model predicts {neg.split()[1]} (score ≤ 0)"),
    ]
    handles, _ = ax.get_legend_handles_labels()
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_xlabel("x₁ (first input)")
    ax.set_ylabel("x₂ (second input)")
    ax.set_title(title)
    ax.legend(
        handles=handles + regions,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        ncols=2,
        fontsize="small",
        frameon=False,
    )
    return fig
