"""Optimizers: `SGD` (with momentum) and `Adam`, with PyTorch's exact update rules.

An optimizer holds a list of parameters (leaf Values) and, at each `step()`, moves
every parameter's ``data`` using its ``grad``:

>>> from valuegrad import nn, optim
>>> from valuegrad.losses import mse
>>> model = nn.MLP(3, [4, 4, 1], seed=1)
>>> opt = optim.SGD(model.parameters(), lr=0.02)
>>> xs, ys = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5]], [1.0, -1.0]
>>> for _ in range(3):
...     loss = mse([model(x) for x in xs], ys)
...     opt.zero_grad()
...     loss.backward()
...     opt.step()

Learning-rate schedules: ``lr`` may be changed between steps, or pass
``schedule=f`` where ``f(k)`` gives the rate of step k (k = 0, 1, ...), e.g.
`LinearDecay` (micrograd's demo: ``LinearDecay(1.0, 0.1, 100)``, that is
``lr = 1.0 - 0.9 * k / 100``).
"""

from __future__ import annotations

import math
import numbers
from typing import Callable, Iterable, Sequence

from .value import Value, zero_like

__all__ = ["SGD", "Adam", "LinearDecay", "Optimizer"]


def _check_real(x: object, what: str, low: float, high: float = math.inf, high_open: bool = False) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{what} must be a finite number, got {x!r}")
    try:
        f = float(x)
    except OverflowError:  # an int too large for a float
        raise ValueError(f"{what} must be a finite number, got an int of {len(str(x))} digits") from None
    if not math.isfinite(f):
        raise ValueError(f"{what} must be a finite number, got {x!r}")
    if f < low or f > high or (high_open and f == high):
        bracket = ")" if high_open else "]"
        raise ValueError(f"{what} must be in [{low}, {high}{bracket}, got {f!r}")
    return f


class LinearDecay:
    """Learning rate falling linearly from ``start`` to ``end`` over ``steps`` steps, then staying at ``end``.

    ``lr(k) = start - (start - end) * k / steps``: with (1.0, 0.1, 100) it is exactly
    micrograd's demo ``1.0 - 0.9 * k / 100``.

    >>> sched = LinearDecay(1.0, 0.1, 100)
    >>> sched(0), sched(50), sched(100), sched(500)
    (1.0, 0.55, 0.1, 0.1)
    """

    def __init__(self, start: float, end: float, steps: int) -> None:
        self.start = _check_real(start, "start", 0.0)
        self.end = _check_real(end, "end", 0.0)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be an int >= 1, got {steps!r}")
        self.steps = steps

    def __call__(self, k: int) -> float:
        if k >= self.steps:
            return self.end
        return self.start - (self.start - self.end) * k / self.steps

    def __repr__(self) -> str:
        return f"LinearDecay(start={self.start!r}, end={self.end!r}, steps={self.steps})"


class Optimizer:
    """Base class: the parameter list, ``lr``, the schedule hook and `zero_grad`.

    ``steps_taken`` counts calls to `step`; with a ``schedule``, step k (counting
    from 0) first sets ``lr = schedule(k)``.
    """

    def __init__(
        self, params: Iterable[Value], lr: float, schedule: Callable[[int], float] | None = None
    ) -> None:
        ps = list(params)
        if not ps:
            raise ValueError("the optimizer got an empty parameter list")
        seen: set[int] = set()
        for i, p in enumerate(ps):
            if not isinstance(p, Value):
                raise TypeError(f"parameter {i} must be a Value, got {type(p).__name__}")
            if id(p) in seen:
                raise ValueError(f"parameter {i} appears twice in the list (it would be updated twice)")
            seen.add(id(p))
        if schedule is not None and not callable(schedule):
            raise TypeError(f"schedule must be a callable step -> lr, got {type(schedule).__name__}")
        self.params: list[Value] = ps
        self.lr = _check_real(lr, "lr", 0.0)
        self.schedule = schedule
        self.steps_taken = 0

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to zero (see `valuegrad.nn.Module.zero_grad`)."""
        for p in self.params:
            p.grad = zero_like(p.data)

    def _grads(self) -> list[float]:
        grads = []
        for i, p in enumerate(self.params):
            g = p.grad
            if isinstance(g, Value):
                raise TypeError(
                    f"parameter {i} has a Value gradient (from backward(create_graph=True)); "
                    "optimizers need number gradients"
                )
            if not math.isfinite(g):
                raise ValueError(f"the gradient of parameter {i} is {g!r}; no parameter was changed")
            grads.append(g)
        return grads

    def _begin_step(self) -> list[float]:
        grads = self._grads()  # checked first: a bad gradient changes nothing
        if self.schedule is not None:
            self.lr = _check_real(self.schedule(self.steps_taken), f"schedule({self.steps_taken})", 0.0)
        else:
            self.lr = _check_real(self.lr, "lr", 0.0)
        self.steps_taken += 1
        return grads

    def step(self) -> None:
        """Update every parameter from its ``grad``."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD`` (dampening 0, no Nesterov).

    Without momentum: ``p -= lr * g`` (micrograd's update). With momentum m:
    ``buf = g`` on the first step, then ``buf = m * buf + g``; ``p -= lr * buf``.
    ``weight_decay`` wd adds ``wd * p`` to the gradient first.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        schedule: Callable[[int], float] | None = None,
    ) -> None:
        super().__init__(params, lr, schedule)
        self.momentum = _check_real(momentum, "momentum", 0.0, 1.0)
        self.weight_decay = _check_real(weight_decay, "weight_decay", 0.0)
        self._buf: list[float] | None = None

    def step(self) -> None:
        grads = self._begin_step()
        lr, m, wd = self.lr, self.momentum, self.weight_decay
        if wd:
            grads = [g + wd * p.data for g, p in zip(grads, self.params)]
        if m:
            if self._buf is None:
                self._buf = list(grads)
            else:
                self._buf = [m * b + g for b, g in zip(self._buf, grads)]
            grads = self._buf
        for p, g in zip(self.params, grads):
            p.data -= lr * g


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (amsgrad off); ``weight_decay`` is added to the gradient (L2, not AdamW).

    For step t = 1, 2, ...:

        m = m + (1 - beta1) * (g - m)            # torch's lerp
        v = beta2 * v + (1 - beta2) * g * g
        p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        schedule: Callable[[int], float] | None = None,
    ) -> None:
        super().__init__(params, lr, schedule)
        if isinstance(betas, (str, bytes)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            _check_real(betas[0], "beta1", 0.0, 1.0, high_open=True),
            _check_real(betas[1], "beta2", 0.0, 1.0, high_open=True),
        )
        self.eps = _check_real(eps, "eps", 0.0)
        self.weight_decay = _check_real(weight_decay, "weight_decay", 0.0)
        n = len(self.params)
        self._m = [0.0] * n
        self._v = [0.0] * n
        self._t = 0

    def step(self) -> None:
        grads = self._begin_step()
        self._t += 1
        t, lr, eps, wd = self._t, self.lr, self.eps, self.weight_decay
        beta1, beta2 = self.betas
        step_size = lr / (1 - beta1**t)
        bias_correction2_sqrt = math.sqrt(1 - beta2**t)
        w = 1 - beta1
        m_, v_ = self._m, self._v
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if wd:
                g = g + wd * p.data
            m = m_[i]
            # torch.lerp(m, g, w): m + w * (g - m) for w < 0.5, else g - (g - m) * (1 - w)
            m = m + w * (g - m) if w < 0.5 else g - (g - m) * (1 - w)
            v = v_[i] * beta2 + (1 - beta2) * (g * g)
            m_[i], v_[i] = m, v
            p.data = p.data + (-step_size) * (m / (math.sqrt(v) / bias_correction2_sqrt + eps))
