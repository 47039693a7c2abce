"""Training plots written to PNG files with matplotlib (``pip install 'valuegrad[plot]'``).

matplotlib is imported when a function is called, never at ``import valuegrad``;
figures are drawn with the non-interactive Agg canvas (no pyplot, no display
needed, the global backend is left alone).

>>> from valuegrad import nn, plot                       # doctest: +SKIP
>>> plot.loss_curve(history, "loss.png")                   # doctest: +SKIP
>>> plot.decision_boundary(model, X, y, "boundary.png")    # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Sequence

from . import numpy_math, op_functions, ops

if TYPE_CHECKING:
    from .train import History

__all__ = ["decision_boundary", "loss_curve"]


def _figure(figsize: tuple[float, float]) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError("valuegrad.plot needs matplotlib: pip install 'valuegrad[plot]'") from e
    return Figure(figsize=figsize, dpi=100, layout="tight")


def loss_curve(
    history: History | Sequence[float], path: str | os.PathLike[str], title: str = "Training"
) -> None:
    """Plot the loss per step (and the accuracy, if the history has it) into a PNG file.

    ``history`` is a `valuegrad.train.History` or a plain list of loss values.
    """
    losses: list[float] = list(history.loss) if hasattr(history, "loss") else list(history)
    acc: list[float] = list(getattr(history, "accuracy", None) or [])
    if not losses:
        raise ValueError("loss_curve: the history is empty")
    fig = _figure((6.4, 4.0))
    ax = fig.subplots()
    steps = range(1, len(losses) + 1)
    ax.plot(
        steps, losses, color="tab:blue", marker="o" if len(losses) <= 40 else None, markersize=3, label="loss"
    )
    ax.set_xlabel("step")
    ax.set_ylabel("loss", color="tab:blue")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.set_title(title)
    if acc:
        ax2 = ax.twinx()
        ax2.plot(steps, acc, color="tab:orange", label="accuracy")
        ax2.set_ylabel("accuracy", color="tab:orange")
        ax2.set_ylim(0, 1.05)
    fig.savefig(path, format="png")


def _numpy_forward(model: Any) -> Any:
    """A vectorised ``model.predict`` over many points for an `nn.MLP`, or None for another model."""
    import numpy as np

    layers = getattr(model, "layers", None)
    if not layers or not all(hasattr(layer, "neurons") for layer in layers):
        return None
    f = numpy_math.functions(np)
    op_of = {"tanh": ops.TANH, "relu": ops.RELU, "sigmoid": ops.SIGMOID}
    weights = []
    for layer in layers:
        W = np.array([[w.data for w in n.w] for n in layer.neurons], dtype=float)
        b = np.array([n.b.data for n in layer.neurons], dtype=float)
        act = layer.neurons[0].activation
        fn = None if act == "linear" else op_functions.VALUE[op_of[act].name]
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
    """Colour the plane by the sign of a 2-input, 1-output model's score; draw the points on top.

    Points are coloured by label (``y > 0`` or not, so ±1 and 0/1 labels both work).
    """
    import numpy as np

    if len(X) == 0 or len(X) != len(y):
        raise ValueError(f"decision_boundary: {len(X)} points and {len(y)} labels")
    pts = np.asarray(X, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"decision_boundary needs 2-D inputs, got points of shape {pts.shape}")
    fig = _figure((5.5, 5.0))
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
    labels = np.asarray(y, dtype=float) > 0
    ax.scatter(pts[labels, 0], pts[labels, 1], c="tab:blue", edgecolors="k", s=25, label="positive")
    ax.scatter(pts[~labels, 0], pts[~labels, 1], c="tab:red", edgecolors="k", s=25, label="negative")
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_title(title)
    ax.legend(loc="upper right")
    fig.savefig(path, format="png")
