"""micrograd's demo step, compiled: what the benchmark runner measures as "valuegrad compiled".

``make_step(weights, X, y)`` builds the demo's MLP(2, [16, 16, 1]) (relu hidden
layers, linear output) with the given initial weights in micrograd's parameter
order, writes the demo's loss as a function of the parameters::

    mean(relu(1 - y * score)) + 1e-4 * sum(p * p)

compiles it once with `valuegrad.compile` (the data points are constants baked
into the tape) and returns ``step(k)``: forward, backward, SGD with
``lr = 1.0 - 0.9 * k / 100``, returning that step's loss (before the update),
exactly what micrograd's demo loop does. The returned object also carries
``compile_seconds``, ``compiled`` (the `valuegrad.compiler.Compiled`) and ``nbytes``.

Run it as a script for a rough timing: ``python benchmarks/demo_compiled.py``.
"""

from __future__ import annotations

import itertools
import time
from typing import Any, Callable, Sequence

import numpy  # noqa: F401  # the compiled path needs NumPy: loaded with this module, not billed to compiling

from valuegrad import Value
from valuegrad.compiler import Compiled, compile

LAYERS = (2, 16, 16, 1)
ALPHA = 1e-4


def learning_rate(k: int) -> float:
    """micrograd's demo schedule: 1.0 at step 0 down to 0.1 at step 100."""
    return 1.0 - 0.9 * k / 100


def _mlp(weights: Sequence[float]) -> tuple[Callable[[Sequence[Any]], Value], list[Value]]:
    """The demo's model with these weights: ``valuegrad.nn.MLP``, else the same Values by hand."""
    try:
        from valuegrad.nn import MLP

        model = MLP(LAYERS[0], list(LAYERS[1:]), activation="relu", last_activation="linear")
        params = model.parameters()

        def forward(x: Sequence[Any]) -> Value:
            out = model(x)
            assert isinstance(out, Value)
            return out

    except ImportError:
        # micrograd's Neuron: sum((wi*xi for ...), b), relu except on the last layer.
        layers: list[list[tuple[list[Value], Value]]] = []
        params = []
        for nin, nout in itertools.pairwise(LAYERS):
            layer = []
            for _ in range(nout):
                w = [Value(0.0) for _ in range(nin)]
                b = Value(0.0)
                params += [*w, b]
                layer.append((w, b))
            layers.append(layer)

        def forward(x: Sequence[Any]) -> Value:
            acts: list[Any] = list(x)
            for depth, layer in enumerate(layers):
                last = depth == len(layers) - 1
                outs = []
                for w, b in layer:
                    act: Value = sum((wi * xi for wi, xi in zip(w, acts)), b)
                    outs.append(act if last else act.relu())
                acts = outs
            return acts[0]

    if len(weights) != len(params):
        raise ValueError(f"the demo MLP has {len(params)} parameters, got {len(weights)} weights")
    for p, w in zip(params, weights):
        p.data = float(w)
    return forward, params


def demo_loss(
    model: Callable[[Sequence[Any]], Value],
    params: Sequence[Value],
    X: Sequence[Sequence[float]],
    y: Sequence[int],
) -> Value:
    """micrograd's demo loss, written as in its notebook (full batch)."""
    scores = [model(row) for row in X]
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in params)
    return data_loss + reg_loss


class CompiledDemoStep:
    """``step(k) -> loss``: one compiled training step of micrograd's demo (see `make_step`)."""

    def __init__(
        self, weights: Sequence[float], X: Sequence[Sequence[float]], y: Sequence[int], mode: str
    ) -> None:
        started = time.perf_counter()
        self.model, self.params = _mlp(weights)
        self.X = [[float(a) for a in row] for row in X]
        self.y = [int(v) for v in y]
        self.compiled: Compiled = compile(
            lambda: demo_loss(self.model, self.params, self.X, self.y), [], self.params, mode=mode
        )
        self.compile_seconds = time.perf_counter() - started
        self.nbytes = 0

    def __call__(self, k: int) -> float:
        loss = self.compiled.forward()
        params = self.params
        for p in params:
            p.grad = 0.0
        self.compiled.backward()
        lr = learning_rate(k)
        for p in params:
            p.data -= lr * p.grad
        self.nbytes = self.compiled.nbytes
        return float(loss)

    def accuracy(self) -> float:
        """Fraction of points on the right side, with the current weights (eager forward)."""
        right = sum((yi > 0) == (self.model(row).data > 0) for row, yi in zip(self.X, self.y))
        return right / len(self.y)


def make_step(
    weights: list[float], X: list[list[float]], y: list[int], mode: str = "auto"
) -> CompiledDemoStep:
    """Compile micrograd's demo loss once; return ``step(k)``: forward, backward, SGD; the step's loss.

    ``step.compile_seconds`` is the time to build the model, trace and compile;
    ``step.compiled`` the compiled graph; ``step.nbytes`` its arrays' memory.
    """
    return CompiledDemoStep(weights, X, y, mode)


if __name__ == "__main__":  # a rough timing, not the benchmark suite
    import random
    import statistics

    rng = random.Random(0)
    n_params = sum((a + 1) * b for a, b in itertools.pairwise(LAYERS))
    w0 = [rng.uniform(-1, 1) for _ in range(n_params)]
    X0 = [[rng.uniform(-1.5, 2.5), rng.uniform(-1, 1.5)] for _ in range(100)]
    y0 = [1 if a + b > 0.5 else -1 for a, b in X0]
    step = make_step(w0, X0, y0)
    times = []
    for k in range(100):
        t = time.perf_counter()
        step(k)
        times.append(time.perf_counter() - t)
    print(f"compile {step.compile_seconds:.3f} s, {step.compiled!r}, {step.nbytes / 1e6:.2f} MB")
    print(f"median step {statistics.median(times) * 1e3:.3f} ms, accuracy {step.accuracy():.2f}")
