"""The measured code: one function per benchmark task, run inside a fresh worker process.

Every function takes a plain-JSON ``spec`` and returns a plain-JSON result. Each
imports only the engine it measures, so one engine's import (PyTorch's thousands
of objects) or garbage never weighs on another's garbage collector.

The expressions are built by the same generic code for valuegrad and micrograd
(``Value`` is a parameter); PyTorch gets the same expression written with scalar
tensors, float64.
"""

from __future__ import annotations

import gc
import itertools
import math
import statistics
import sys
import time
import tracemalloc
from typing import Any, Callable

Spec = dict[str, Any]
Result = dict[str, Any]

# ---------------------------------------------------------------------------
# Engine adapters
# ---------------------------------------------------------------------------


def _micrograd_tanh(self: Any) -> Any:
    """tanh for micrograd's Value, written the way micrograd writes every op (a closure per node).

    micrograd 0.1.0 has no tanh; this is the one from its author's lecture, so the
    op-throughput expression can be the same ``+ * tanh`` mix for every engine.
    """
    from micrograd.engine import Value

    t = math.tanh(self.data)
    out = Value(t, (self,), "tanh")

    def _backward() -> None:
        self.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


VALUEGRAD = ("native", "pure", "valuegrad")
"""Names of valuegrad's eager engine in a spec: which of native and pure runs is decided by the
worker's environment (``VALUEGRAD_PURE_PYTHON``), and reported by the worker."""


def value_class(engine: str) -> tuple[type, Callable[[Any], Any]]:
    """The scalar class of a Value engine and its tanh."""
    if engine in VALUEGRAD:
        from valuegrad import Value

        return Value, Value.tanh
    if engine == "micrograd":
        from micrograd.engine import Value as MicroValue

        return MicroValue, _micrograd_tanh
    raise ValueError(f"not a scalar-Value engine: {engine!r}")


def _torch() -> Any:
    import torch

    torch.set_num_threads(1)
    return torch


# ---------------------------------------------------------------------------
# 1. Op throughput: a wide, shallow expression mixing + * tanh
# ---------------------------------------------------------------------------


def expression_shape(n_ops: int, chain_steps: int = 10) -> tuple[int, int, int]:
    """``(chains, chain_steps, ops)`` for an expression of about ``n_ops`` operations.

    Each chain starts at its own input x and applies ``v = tanh(v * w_j + c_j)``
    ``chain_steps`` times (3 ops a step, with w_j and c_j leaves shared by all
    chains); the chains are then added up by a balanced tree of sums. The depth
    stays around ``3 * chain_steps + log2(chains)``: far below micrograd's
    recursion limit.
    """
    per_chain = 3 * chain_steps
    chains = max(2, round((n_ops + 1) / (per_chain + 1)))
    return chains, chain_steps, chains * per_chain + chains - 1


def _leaf_data(chains: int, steps: int) -> tuple[list[float], list[float], list[float]]:
    xs = [((i * 7919) % 1000) / 1000 - 0.5 for i in range(chains)]
    ws = [0.6 + 0.05 * j for j in range(steps)]
    cs = [0.1 * (j % 3) - 0.1 for j in range(steps)]
    return xs, ws, cs


def _tree_sum(level: list[Any]) -> Any:
    while len(level) > 1:
        pairs = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            pairs.append(level[-1])
        level = pairs
    return level[0]


def _chains(xs: list[Any], ws: list[Any], cs: list[Any], tanh: Callable[[Any], Any]) -> list[Any]:
    out = []
    for x in xs:
        v = x
        for w, c in zip(ws, cs):
            v = tanh(v * w + c)
        out.append(v)
    return out


def ops_task(spec: Spec) -> Result:
    """Build the expression (timed), backpropagate it (timed); report ns per op node."""
    engine = spec["engine"]
    chains, steps, n_ops = expression_shape(spec["n_ops"])
    xd, wd, cd = _leaf_data(chains, steps)
    gc.collect()
    if engine == "torch":
        torch = _torch()

        def leaf(d: float) -> Any:
            return torch.tensor(d, dtype=torch.float64, requires_grad=True)

        xs, ws, cs = [leaf(d) for d in xd], [leaf(d) for d in wd], [leaf(d) for d in cd]
        t0 = time.perf_counter()
        root = _tree_sum(_chains(xs, ws, cs, torch.tanh))
        t1 = time.perf_counter()
        root.backward()
        t2 = time.perf_counter()
        value = root.item()
        grads = [float(t.grad) for t in (*xs, *ws, *cs)]
    else:
        Value, tanh = value_class(engine)
        xs, ws, cs = [Value(d) for d in xd], [Value(d) for d in wd], [Value(d) for d in cd]
        t0 = time.perf_counter()
        root = _tree_sum(_chains(xs, ws, cs, tanh))
        t1 = time.perf_counter()
        root.backward()
        t2 = time.perf_counter()
        value = float(root.data)
        grads = [float(v.grad) for v in (*xs, *ws, *cs)]
    return {
        "engine": engine,
        "n_ops": n_ops,
        "chains": chains,
        "chain_steps": steps,
        "forward_s": t1 - t0,
        "backward_s": t2 - t1,
        "forward_ns_per_op": (t1 - t0) / n_ops * 1e9,
        "backward_ns_per_op": (t2 - t1) / n_ops * 1e9,
        # Same expression, same numbers: engines must agree on the value and on
        # every leaf's gradient (checked by the runner).
        "value": value,
        "grad_sum_abs": math.fsum(abs(g) for g in grads),
        "grad_first": grads[:5],
    }


# ---------------------------------------------------------------------------
# 2. micrograd's demo: moons, MLP 2-16-16-1, hinge + L2, full-batch SGD
# ---------------------------------------------------------------------------

LAYER_SIZES = (2, 16, 16, 1)


def learning_rate(k: int) -> float:
    """micrograd's demo schedule: 1.0 at step 0 down to 0.109 at step 99."""
    return 1.0 - 0.9 * k / 100


def make_model(engine: str, weights: list[float]) -> tuple[Any, str]:
    """The demo's model for a Value engine, with the given initial weights in micrograd's order."""
    if engine == "micrograd":
        from micrograd.nn import MLP

        model, name = MLP(2, [16, 16, 1]), "micrograd.nn.MLP(2, [16, 16, 1])"
    else:
        from valuegrad.nn import MLP as VgMLP

        model = VgMLP(2, [16, 16, 1], activation="relu", last_activation="linear")
        name = 'valuegrad.nn.MLP(2, [16, 16, 1], activation="relu", last_activation="linear")'
    params = model.parameters()
    if len(params) != len(weights):
        raise ValueError(f"{name} has {len(params)} parameters, got {len(weights)} weights")
    for p, w in zip(params, weights):
        p.data = w
    return model, name


def demo_loss(
    value: type, model: Any, params: list[Any], X: list[list[float]], y: list[int]
) -> tuple[Any, float]:
    """micrograd's demo ``loss()``: mean hinge loss + 1e-4 * L2, and the accuracy, on the full batch."""
    inputs = [[value(a) for a in row] for row in X]
    scores = []
    for x in inputs:
        s = model(x)
        scores.append(s[0] if isinstance(s, list) else s)
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in params)
    accuracy = [(yi > 0) == (si.data > 0) for yi, si in zip(y, scores)]
    return data_loss + reg_loss, sum(accuracy) / len(accuracy)


NOTEBOOK_MODULES = ("numpy", "matplotlib.pyplot")
"""What micrograd's demo notebook imports besides its engine (it also imports scikit-learn,
for make_moons, which is not among this project's dependencies)."""


def notebook_modules_missing() -> list[str]:
    """The modules of `NOTEBOOK_MODULES` that are not installed here."""
    import importlib.util

    return [m for m in NOTEBOOK_MODULES if importlib.util.find_spec(m.split(".")[0]) is None]


def import_notebook_modules() -> None:
    """Import what the demo notebook imports, as a user's session has them loaded.

    With the collector on, a full collection scans every object the process holds,
    so a step costs more in a process that has more in it.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot
    import numpy  # noqa: F401


def _count_nodes(root: Any, engine: str) -> int:
    if engine in VALUEGRAD:
        from valuegrad import topological_order

        return len(topological_order(root))
    seen = {id(root)}
    stack = [root]
    while stack:
        v = stack.pop()
        for c in v._prev:
            if id(c) not in seen:
                seen.add(id(c))
                stack.append(c)
    return len(seen)


def _value_demo(spec: Spec, X: list[list[float]], y: list[int]) -> Result:
    engine = spec["engine"]
    Value, _ = value_class(engine)
    model, model_name = make_model(engine, spec["weights"])
    params = model.parameters()
    if spec["gc"] == "notebook":
        import_notebook_modules()
    with_gc = spec["gc"] in ("default", "paused", "notebook")
    # "paused": the collector at Python's defaults, each step run the way valuegrad.train.fit
    # runs it, inside valuegrad.engine.gc_paused() (the library's documented default).
    paused = spec["gc"] == "paused"

    if paused:
        from valuegrad.engine import gc_paused  # imported before the first timed step
    phases: dict[str, list[float]] = {"forward_s": [], "backward_s": [], "update_s": []}
    clock = time.perf_counter

    def step(k: int) -> tuple[float, float, Any]:
        if paused:
            with gc_paused():
                loss, acc, graph = plain_step(k)
                del graph  # the step's graph is freed inside the pause, as in fit
            return loss, acc, None
        return plain_step(k)

    def plain_step(k: int) -> tuple[float, float, Any]:
        t0 = clock()
        total, acc = demo_loss(Value, model, params, X, y)
        t1 = clock()
        model.zero_grad()
        total.backward()
        t2 = clock()
        lr = learning_rate(k)
        for p in params:
            p.data -= lr * p.grad
        phases["forward_s"].append(t1 - t0)
        phases["backward_s"].append(t2 - t1)
        phases["update_s"].append(clock() - t2)
        return float(total.data), acc, total

    def count(root: Any) -> int:
        return _count_nodes(root, engine)

    result = _train_loop(step, spec["steps"], with_gc, None if paused else count)
    # Where a step's time goes (the graph's deallocation, at the step's end, is in no phase).
    return result | {"model": model_name} | {name: statistics.median(ts) for name, ts in phases.items()}


StepFn = Callable[[int], "tuple[float, float, Any]"]


def _train_loop(step: StepFn, steps: int, with_gc: bool, count: Callable[[Any], int] | None = None) -> Result:
    """Time each step, freeing its graph included. Without the collector, garbage is
    collected between steps, untimed.

    ``step(k)`` returns the loss, the accuracy and the step's graph (or None); the
    graph of the first step is counted by ``count``, untimed, then dropped.
    """
    times, losses, accs = [], [], []
    nodes = None
    if not with_gc:
        gc.disable()
    for k in range(steps):
        t0 = time.perf_counter()
        loss, acc, graph = step(k)
        t1 = time.perf_counter()
        if count is not None and k == 0:
            nodes = count(graph)  # untimed
        t2 = time.perf_counter()
        del graph  # a reference-counted engine frees its graph here; micrograd's waits for the collector
        t3 = time.perf_counter()
        # With the collector on, freeing the graph is part of a step (micrograd's collections are
        # timed too); with it off, neither engine's freeing is timed (the pure interpreter work).
        times.append(t1 - t0 + (t3 - t2 if with_gc else 0.0))
        losses.append(loss)
        accs.append(acc)
        if not with_gc:
            gc.collect()
    gc.enable()
    return {
        "step_s": times,
        "losses": losses,
        "accuracy": accs,
        "final_accuracy": accs[-1],
        "nodes_per_step": nodes,
    }


def _torch_demo(spec: Spec, X: list[list[float]], y: list[int]) -> Result:
    torch = _torch()
    f64 = torch.float64
    Xt, Yt = torch.tensor(X, dtype=f64), torch.tensor(y, dtype=f64)
    weights, offset, layers = spec["weights"], 0, []
    for nin, nout in itertools.pairwise(LAYER_SIZES):
        block = torch.tensor(weights[offset : offset + nout * (nin + 1)], dtype=f64).reshape(nout, nin + 1)
        offset += nout * (nin + 1)
        layers.append((block[:, :nin].clone().requires_grad_(), block[:, nin].clone().requires_grad_()))
    params = [t for layer in layers for t in layer]

    def step(k: int) -> tuple[float, float, Any]:
        h = Xt
        for i, (W, b) in enumerate(layers):
            h = h @ W.T + b
            if i < len(layers) - 1:
                h = torch.relu(h)
        scores = h[:, 0]
        data_loss = torch.relu(1 - Yt * scores).sum() * (1.0 / len(y))
        reg_loss = 1e-4 * sum((p * p).sum() for p in params)
        total = data_loss + reg_loss
        for p in params:
            p.grad = None
        total.backward()
        lr = learning_rate(k)
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        acc = ((Yt > 0) == (scores > 0)).double().mean().item()
        return total.item(), acc, None

    return _train_loop(step, spec["steps"], spec["gc"] == "default") | {"model": "torch tensors, float64"}


COMPILED_MODULE = "benchmarks.demo_compiled"


def compiled_available() -> str | None:
    """None if the compiled demo can run here, else why not."""
    import importlib.util

    if importlib.util.find_spec("valuegrad") is None:
        return "valuegrad is not importable"
    try:
        import valuegrad.compiler  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
    except ImportError as e:
        return f"valuegrad.compiler is not importable ({e})"
    if importlib.util.find_spec(COMPILED_MODULE) is None:
        return f"{COMPILED_MODULE.replace('.', '/')}.py does not exist"
    return None


def _compiled_demo(spec: Spec, X: list[list[float]], y: list[int]) -> Result:
    import importlib

    make_step = importlib.import_module(COMPILED_MODULE).make_step
    t0 = time.perf_counter()
    step_fn = make_step(list(spec["weights"]), X, y)
    compile_s = time.perf_counter() - t0
    accuracy = getattr(step_fn, "accuracy", None)

    def step(k: int) -> tuple[float, float, Any]:
        return float(step_fn(k)), float("nan"), None

    result = _train_loop(step, spec["steps"], spec["gc"] == "default")
    result["final_accuracy"] = float(accuracy()) if callable(accuracy) else None
    del result["accuracy"]
    result["compile_s"] = compile_s
    if not spec.get("measure_memory", True):
        return result
    # The memory the compiled step holds on to (tape, buffers, generated code), measured apart.
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    kept = make_step(list(spec["weights"]), X, y)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    return result | {
        "compiled_bytes": current - base,
        "compile_peak_bytes": peak - base,
    }


def demo_task(spec: Spec) -> Result:
    """Train for ``spec["steps"]`` steps; per-step seconds, the loss history, the accuracy."""
    import json

    with open(spec["data_path"]) as f:
        data = json.load(f)
    spec = spec | {"weights": data["weights"]}
    X, y = data["X"], data["y"]
    engine = spec["engine"]
    if engine == "torch":
        result = _torch_demo(spec, X, y)
    elif engine == "compiled":
        result = _compiled_demo(spec, X, y)
    else:
        result = _value_demo(spec, X, y)
    return result | {"engine": engine, "gc": spec["gc"]}


# ---------------------------------------------------------------------------
# 3. Long chains: time and memory per node, micrograd's failure depth
# ---------------------------------------------------------------------------


def build_chain(value: type, n: int) -> tuple[Any, Any]:
    """A chain of ``n`` operations alternating ``v * w`` and ``v + b`` (w and b shared leaves)."""
    x, w, b = value(0.5), value(0.9999995), value(1e-7)
    v = x
    for i in range(n):
        v = v * w if i % 2 == 0 else v + b
    return v, x


def chain_time_task(spec: Spec) -> Result:
    """Build and backpropagate a chain of ``spec["n"]`` nodes, timed (Python's default collector)."""
    Value, _ = value_class(spec["engine"])
    n = spec["n"]
    gc.collect()
    t0 = time.perf_counter()
    root, x = build_chain(Value, n)
    t1 = time.perf_counter()
    root.backward()
    t2 = time.perf_counter()
    return {
        "engine": spec["engine"],
        "n": n,
        "build_s": t1 - t0,
        "backward_s": t2 - t1,
        "build_ns_per_node": (t1 - t0) / n * 1e9,
        "backward_ns_per_node": (t2 - t1) / n * 1e9,
        "x_grad": float(x.grad),
    }


def chain_memory_task(spec: Spec) -> Result:
    """Bytes per node of a chain of ``spec["n"]`` nodes (tracemalloc), and of its backward pass."""
    Value, _ = value_class(spec["engine"])
    n = spec["n"]
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    root, _ = build_chain(Value, n)
    graph = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.reset_peak()
    root.backward()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return {
        "engine": spec["engine"],
        "n": n,
        "graph_bytes": graph,
        "bytes_per_node": graph / n,
        "backward_peak_bytes_per_node": peak / n,
    }


def failure_depth_task(spec: Spec) -> Result:
    """The shortest chain whose ``backward()`` raises RecursionError (recursion limit untouched)."""
    Value, _ = value_class(spec["engine"])

    def fails(n: int) -> bool:
        root, _ = build_chain(Value, n)
        try:
            root.backward()
        except RecursionError:
            return True
        return False

    lo, hi = 1, spec.get("max_n", 100_000)
    if fails(lo):
        return {"engine": spec["engine"], "failure_depth": lo, "recursion_limit": sys.getrecursionlimit()}
    if not fails(hi):
        return {"engine": spec["engine"], "failure_depth": None, "works_up_to": hi}
    while hi - lo > 1:  # invariant: lo works, hi fails
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fails(mid) else (mid, hi)
    return {"engine": spec["engine"], "failure_depth": hi, "recursion_limit": sys.getrecursionlimit()}


TASKS: dict[str, Callable[[Spec], Result]] = {
    "ops": ops_task,
    "demo": demo_task,
    "chain_time": chain_time_task,
    "chain_memory": chain_memory_task,
    "failure_depth": failure_depth_task,
}
