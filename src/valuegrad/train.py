"""A full-batch training loop: forward, loss, zero_grad, backward, optimizer step.

>>> from valuegrad import nn
>>> from valuegrad.data import notebook_samples
>>> from valuegrad.train import fit
>>> xs, ys = notebook_samples()
>>> model = nn.MLP(3, [4, 4, 1], seed=1)
>>> history = fit(model, xs, ys, loss="mse", optimizer="sgd", lr=0.02, steps=32)
>>> history.loss[0] > 6 > 0.2 > history.loss[-1]
True

Each step is exactly the notebook's loop (and micrograd's demo): predictions for
every sample, the loss, ``zero_grad()``, ``backward()``, the update. The history
records, for every step, the loss and the accuracy *before* that step's update
(as the notebook prints them) and the learning rate the step used.

Python's cyclic garbage collector is paused during each step. A step allocates
tens of thousands of Values; none of them is in a reference cycle (see
`valuegrad.engine`), so reference counting frees them all, but the collector
would still be triggered by the allocations and scan the whole live graph again
and again (a large share of a step on micrograd's demo). It is switched back on
between steps.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence, Union

from . import losses
from .backward import gc_paused
from .nn import MLP, Module
from .optim import SGD, Adam, Optimizer
from .value import Value

__all__ = ["DIVERGENCE_FACTOR", "LOSSES", "History", "TrainingDiverged", "accuracy", "compute_loss", "fit"]

LOSSES = ("mse", "hinge", "bce")
"""Loss names `fit` knows: ``"mse"`` (sum of squares, the notebook's), ``"hinge"`` (micrograd's demo),
``"bce"`` (binary cross-entropy on logits, targets 0/1)."""

DIVERGENCE_FACTOR = 1e4
"""`fit` stops a run whose loss passes this many times max(its first loss, 1): a loss that has
grown ten thousandfold is running away, not learning (a finite loss can still reach 1e16)."""

LossFn = Callable[[list[Value], Sequence[Any]], Value]
Model = Union[MLP, Module, Callable[[Any], Any]]


@dataclass
class History:
    """What `fit` measured: per step, the loss and accuracy before the update and the lr used."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.loss)

    def __repr__(self) -> str:
        if not self.loss:
            return "History(0 steps)"
        return (
            f"History({len(self.loss)} steps, loss {self.loss[0]:.5g} -> {self.loss[-1]:.5g}, "
            f"accuracy {self.accuracy[0]:.0%} -> {self.accuracy[-1]:.0%})"
        )


class TrainingDiverged(ValueError):
    """The loss ran away: not finite, or past `fit`'s ``diverge_at`` times max(first loss, 1).

    ``history`` holds every step `fit` measured, the one that stopped it last (its update
    was not made); ``step`` is that step's number (0-based) and ``loss`` its loss.
    """

    def __init__(self, message: str, history: History, step: int, loss: float) -> None:
        super().__init__(message)
        self.history = history
        self.step = step
        self.loss = loss


def _loss_function(loss: str | LossFn) -> LossFn:
    if callable(loss):
        return loss
    if loss == "mse":
        return losses.mse
    if loss == "hinge":
        return losses.hinge
    if loss == "bce":
        return losses.binary_cross_entropy
    raise ValueError(
        f"loss must be one of {', '.join(map(repr, LOSSES))} or a function (scores, y) -> Value; got {loss!r}"
    )


def _threshold(loss: str | LossFn) -> float:
    return 0.5 if loss == "bce" else 0.0


def _correct(score: float, target: Any, threshold: float) -> bool:
    t = target.data if isinstance(target, Value) else target
    return (score > 0) == (t > threshold)


def accuracy(
    model: Model, X: Sequence[Sequence[float]], y: Sequence[float], loss: str | LossFn = "hinge"
) -> float:
    """Fraction of samples whose output has the target's sign: ``(score > 0) == (y > 0)``.

    Targets are ±1 (for ``loss="bce"``, 0/1: ``y > 0.5``). Uses ``model.predict``
    when the model has it (no graph is built).
    """
    if not X:
        raise ValueError("accuracy: no samples")
    if len(X) != len(y):
        raise ValueError(f"accuracy: {len(X)} samples but {len(y)} targets")
    predict = getattr(model, "predict", None)
    scores = [float(predict(x)) if predict else float(_single(model(x)).data) for x in X]
    th = _threshold(loss)
    return sum(_correct(s, t, th) for s, t in zip(scores, y)) / len(X)


def _single(out: Any) -> Value:
    if isinstance(out, (list, tuple)):
        raise ValueError(f"training needs a model with one output, this one gives {len(out)}")
    if not isinstance(out, Value):
        raise TypeError(f"the model must return a Value, got {type(out).__name__}")
    return out


def compute_loss(
    model: Model,
    X: Sequence[Sequence[Any]],
    y: Sequence[Any],
    loss: str | LossFn = "mse",
    l2: float = 0.0,
) -> tuple[Value, list[Value]]:
    """The total loss over the whole dataset and the model's outputs: ``(loss, scores)``.

    ``loss(scores, y) + l2 * sum(p * p for p in model.parameters())`` (the L2 term
    only when ``l2 > 0``; micrograd's demo uses 1e-4 with the hinge loss).
    """
    fn = _loss_function(loss)
    scores = [_single(model(x)) for x in X]
    total = fn(scores, y)
    if l2:
        params = model.parameters() if hasattr(model, "parameters") else []
        total = total + losses.l2(params, l2)
    return total, scores


def _make_optimizer(
    optimizer: Optimizer | str, params: list[Value], lr: float | Callable[[int], float] | None
) -> Optimizer:
    if isinstance(optimizer, Optimizer):
        if lr is not None:
            raise ValueError("lr= is for a named optimizer; set the learning rate on the Optimizer you pass")
        return optimizer
    schedule = lr if callable(lr) else None
    if optimizer == "sgd":
        rate = 0.05 if lr is None or callable(lr) else lr
        return SGD(params, lr=rate, schedule=schedule)
    if optimizer == "adam":
        rate = 0.01 if lr is None or callable(lr) else lr
        return Adam(params, lr=rate, schedule=schedule)
    raise ValueError(f"optimizer must be 'sgd', 'adam' or an Optimizer; got {optimizer!r}")


class _TextProgress:
    """What `fit(progress=True)` shows when tqdm is not installed: a line every ~10% of the steps."""

    def __init__(self, total: int) -> None:
        self.total, self.n, self.every = total, 0, max(1, total // 10)
        self.postfix = ""

    def set_postfix_str(self, s: str, refresh: bool = True) -> None:
        self.postfix = s

    def update(self, n: int) -> None:
        self.n += n
        if self.n % self.every == 0 or self.n == self.total:
            print(f"step {self.n}/{self.total}  {self.postfix}", file=sys.stderr)

    def close(self) -> None:
        pass


def _progress_bar(total: int) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return _TextProgress(total)
    return tqdm(total=total, unit="step", desc="training", dynamic_ncols=True)


def _compiler() -> Callable[..., Any]:
    if importlib.util.find_spec("numpy") is None:
        # Without NumPy the compiler still works, as plain Python: slower than the eager loop.
        raise ImportError(
            "fit(compile=True) needs NumPy to be fast: pip install 'valuegrad[compile]' "
            "(or train without compile=True)"
        )
    try:
        from .compiler import compile as compile_graph
    except ImportError as e:
        raise ImportError(
            "fit(compile=True) needs valuegrad.compiler and NumPy (pip install 'valuegrad[compile]'); "
            f"it could not be loaded: {e}"
        ) from e
    return compile_graph


def fit(
    model: Model,
    X: Sequence[Sequence[Any]],
    y: Sequence[Any],
    *,
    loss: str | LossFn = "mse",
    optimizer: Optimizer | str = "sgd",
    lr: float | Callable[[int], float] | None = None,
    steps: int = 100,
    l2: float = 0.0,
    callback: Callable[[int, float, float], Any] | None = None,
    progress: bool = False,
    compile: bool = False,
    diverge_at: float | None = DIVERGENCE_FACTOR,
) -> History:
    """Train ``model`` on the whole dataset ``(X, y)`` for ``steps`` steps; return the `History`.

    - ``loss``: ``"mse"`` (sum of squared errors, the notebook's), ``"hinge"``
      (micrograd's demo; targets ±1), ``"bce"`` (cross-entropy on logits; targets
      0/1), or a function ``(scores, y) -> Value``.
    - ``optimizer``: ``"sgd"`` or ``"adam"`` with ``lr`` (a number, or a schedule
      ``k -> lr`` such as ``optim.LinearDecay(1.0, 0.1, 100)``; default 0.05 for
      SGD, 0.01 for Adam), or an `optim.Optimizer` you built.
    - ``l2``: weight of the L2 penalty ``sum(p*p)`` added to the loss.
    - ``callback(step, loss, accuracy)`` is called after every step;
      ``progress=True`` shows a tqdm bar with the loss and accuracy.
    - ``compile=True`` builds the loss graph once with `valuegrad.compile` and
      replays it at every step (the same numbers to rounding, much faster); it needs
      NumPy (an `ImportError` says so when it is missing).
    - ``diverge_at``: the run has diverged when the loss is not finite (NaN,
      infinite, overflowing) or exceeds ``diverge_at * max(first loss, 1)``
      (default `DIVERGENCE_FACTOR`, 10,000). None: only a loss that is not finite stops it.

    A diverged run raises `TrainingDiverged` (a `ValueError`), which carries the
    history up to and including the step that stopped it; that step's update is not
    made. Lower the learning rate.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    if diverge_at is not None and (
        isinstance(diverge_at, bool)
        or not isinstance(diverge_at, (int, float))
        or not math.isfinite(diverge_at)
        or diverge_at <= 1
    ):
        raise ValueError(f"diverge_at must be a finite number > 1 or None, got {diverge_at!r}")
    if len(X) == 0:
        raise ValueError("fit: the dataset is empty")
    if len(X) != len(y):
        raise ValueError(f"fit: {len(X)} inputs but {len(y)} targets")
    loss_fn = _loss_function(loss)
    th = _threshold(loss)
    params = model.parameters() if hasattr(model, "parameters") else []
    if not params:
        raise ValueError("fit: the model has no parameters")
    opt = _make_optimizer(optimizer, params, lr)
    history = History()

    def zero_grad() -> None:
        if hasattr(model, "zero_grad"):
            model.zero_grad()
        opt.zero_grad()

    limit: float | None = None  # set from the first loss

    def diverged(value: float, k: int, acc: float, why: str) -> TrainingDiverged:
        history.loss.append(value)
        history.accuracy.append(acc)
        history.lr.append(opt.lr)
        return TrainingDiverged(
            f"training diverged at step {k}: {why}; stopped (try a lower learning rate)", history, k, value
        )

    def check(value: float, k: int, acc: float) -> None:
        nonlocal limit
        if not math.isfinite(value):
            raise diverged(value, k, acc, f"the loss is {value!r}")
        if limit is None and diverge_at is not None:
            limit = diverge_at * max(value, 1.0)
        if limit is not None and value > limit:
            raise diverged(
                value,
                k,
                acc,
                f"the loss reached {value:.4g}, more than {diverge_at:g} times max(first loss, 1) "
                f"= {limit:.4g}",
            )

    compiled: Any = None
    predict: Callable[[Any], Any] = getattr(model, "predict", None) or (lambda x: _single(model(x)).data)
    if compile:
        compiled = _compiler()(lambda: compute_loss(model, X, y, loss_fn, l2)[0], [], params=params)

    bar = _progress_bar(steps) if progress else None
    k = 0
    try:
        for k in range(steps):
            with gc_paused():  # a step's graph has no cycles: see engine.gc_paused
                if compiled is None:
                    total, scores = compute_loss(model, X, y, loss_fn, l2)
                    value = float(total.data)
                    acc = sum(_correct(s.data, t, th) for s, t in zip(scores, y)) / len(y)
                    check(value, k, acc)
                    zero_grad()
                    total.backward()
                    del total, scores
                else:
                    value = float(compiled.forward([]))
                    acc = sum(_correct(predict(x), t, th) for x, t in zip(X, y)) / len(y)
                    check(value, k, acc)
                    zero_grad()
                    compiled.backward()
                opt.step()
            history.loss.append(value)
            history.accuracy.append(acc)
            history.lr.append(opt.lr)
            if bar is not None:
                bar.set_postfix_str(f"loss={value:.4f} acc={acc:.0%}", refresh=False)
                bar.update(1)
            if callback is not None:
                callback(k, value, acc)
    except OverflowError as e:  # Python floats raise instead of giving inf for e.g. 1e200 ** 2
        raise TrainingDiverged(
            f"training diverged at step {k}: the loss overflowed ({e}); stopped (try a lower learning rate)",
            history,
            k,
            math.inf,
        ) from e
    finally:
        if bar is not None:
            bar.close()
    return history
