"""The ``valuegrad`` command (also ``python -m valuegrad``).

    valuegrad demo                      the notebook's story end to end
    valuegrad train --dataset moons     train an MLP, with a progress bar, plots and the saved model
    valuegrad graph -o neuron.svg       draw the notebook's neuron after backward()

Run ``valuegrad COMMAND --help`` for the options. Bad arguments give a usage
message and exit code 2; a failure while running (a missing optional dependency,
a diverging training run) gives a one-line error and exit code 1. Only the
standard library is imported at start-up; matplotlib, tqdm and Graphviz are
loaded by the commands that use them.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

__all__ = ["build_parser", "main"]

MAX_WIDTH = 10_000
_GRAPH_SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".gv")


class _Failure(Exception):
    """A run-time failure reported as ``valuegrad: error: ...`` with exit code 1."""


# --- argument types: each turns a bad string into argparse's own message -------


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _float_checker(minimum: float, strict: bool) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            x = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(x) or x < minimum or (strict and x == minimum):
            raise argparse.ArgumentTypeError(
                f"must be a finite number {'>' if strict else '>='} {minimum:g}, got {text!r}"
            )
        return x

    return parse


_positive_float = _float_checker(0.0, strict=True)
_nonnegative_float = _float_checker(0.0, strict=False)


def _hidden(text: str) -> list[int]:
    """``"16,16"`` -> [16, 16]; ``""`` or ``"none"`` -> [] (no hidden layer)."""
    if text.strip().lower() in ("", "none"):
        return []
    sizes = []
    for part in text.split(","):
        try:
            n = int(part.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected layer sizes separated by commas, like 16,16; got {text!r}"
            ) from None
        if not 1 <= n <= MAX_WIDTH:
            raise argparse.ArgumentTypeError(f"each layer size must be 1 to {MAX_WIDTH}, got {n} in {text!r}")
        sizes.append(n)
    return sizes


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``valuegrad`` command."""
    parser = argparse.ArgumentParser(
        prog="valuegrad",
        description="valuegrad: backpropagation you can see, check and trust.",
        epilog="Run 'valuegrad COMMAND --help' for a command's options.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"valuegrad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser(
        "demo",
        help="the notebook's story: an expression, a neuron, an MLP trained on four samples",
        description="The notebook's story end to end: the first expression and its gradients, one neuron, "
        "then MLP(3, [4, 4, 1]) trained on the notebook's four samples with SGD. "
        "Writes loss.png and graph.svg into the output folder.",
    )
    demo.add_argument("--out", default="valuegrad-demo", help="output folder (default: %(default)s)")
    demo.add_argument("--steps", type=_positive_int, default=32, help="training steps (default: %(default)s)")
    demo.add_argument("--lr", type=_positive_float, default=0.02, help="SGD step size (default: %(default)s)")
    demo.add_argument(
        "--seed", type=_int, default=1, help="seed of the initial weights (default: %(default)s)"
    )

    train = sub.add_parser(
        "train",
        help="train an MLP on two moons or the notebook's samples",
        description="Train an MLP (full batch) with a progress bar; write loss.png, decision_boundary.png "
        "(2-D datasets) and model.json into the output folder. The defaults are micrograd's demo: "
        "100 moons, 2-16-16-1 ReLU network with a linear output, hinge loss + 1e-4 L2, "
        "SGD with lr 1.0 decaying to 0.1.",
    )
    train.add_argument(
        "--dataset", choices=("moons", "notebook"), default="moons", help="(default: %(default)s)"
    )
    train.add_argument(
        "--n", type=_positive_int, default=100, help="moons: number of points (default: %(default)s)"
    )
    train.add_argument(
        "--noise", type=_nonnegative_float, default=0.1, help="moons: noise (default: %(default)s)"
    )
    train.add_argument(
        "--hidden",
        type=_hidden,
        default=[16, 16],
        metavar="SIZES",
        help="hidden layer sizes (default: 16,16)",
    )
    train.add_argument(
        "--activation",
        choices=("relu", "tanh", "sigmoid", "linear"),
        default="relu",
        help="(default: %(default)s)",
    )
    train.add_argument(
        "--last-activation",
        choices=("linear", "tanh", "relu", "sigmoid"),
        default="linear",
        help="output layer activation (default: %(default)s)",
    )
    train.add_argument(
        "--loss", choices=("hinge", "mse", "bce"), default="hinge", help="(default: %(default)s)"
    )
    train.add_argument(
        "--l2", type=_nonnegative_float, default=1e-4, help="L2 penalty weight (default: %(default)s)"
    )
    train.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd", help="(default: %(default)s)")
    train.add_argument(
        "--lr",
        type=_positive_float,
        default=None,
        help="constant learning rate (default: SGD 1.0 decaying linearly to 0.1, as micrograd; Adam 0.01)",
    )
    train.add_argument("--steps", type=_positive_int, default=100, help="(default: %(default)s)")
    train.add_argument(
        "--seed", type=_int, default=0, help="seed of the data and the weights (default: %(default)s)"
    )
    train.add_argument("--out", default="valuegrad-train", help="output folder (default: %(default)s)")
    train.add_argument("--compile", action="store_true", help="replay one compiled graph (needs NumPy)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")

    graph = sub.add_parser(
        "graph",
        help="draw the notebook's neuron after backward()",
        description="Draw the notebook's neuron o = tanh(x1*w1 + x2*w2 + b) with its gradients. "
        "The format follows the suffix: .svg, .png, .pdf, or .dot (DOT text, needs no Graphviz).",
    )
    graph.add_argument("-o", "--output", default="graph.svg", help="output file (default: %(default)s)")
    graph.add_argument(
        "--expanded",
        action="store_true",
        help="spell tanh out as (exp(2n) - 1) / (exp(2n) + 1), as the notebook does",
    )
    return parser


# --- helpers -------------------------------------------------------------------


def _out_dir(parser: argparse.ArgumentParser, path: str) -> Path:
    """Create the output folder (or reuse it) and check it can be written, before any work."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".valuegrad-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        parser.error(f"cannot write to the output folder {path!r}: {e.strerror or e}")
    return folder


def _write_loss_png(history: Any, path: Path, title: str) -> bool:
    try:
        from .plot import loss_curve

        loss_curve(history, path, title=title)
    except ImportError as e:
        print(f"note: {path.name} was not written: {e}")
        return False
    return True


def _write_graph(root: Any, path: Path) -> str | None:
    """Draw ``root`` into ``path``; return None on success, else why it was not written."""
    try:
        from .viz import draw_dot

        draw_dot(root).save(path)
    except ImportError as e:
        return f"the graph drawing needs the viz extra (pip install 'valuegrad[viz]'): {e}"
    except Exception as e:
        if type(e).__name__ == "RenderError":  # valuegrad.viz.RenderError: no Graphviz engine
            return str(e).splitlines()[0] + " (pip install 'valuegrad[viz]')"
        raise
    return None


def _fmt(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".") if x == x else "nan"


# --- commands --------------------------------------------------------------------


def _demo(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import examples, nn
    from .backward import topological_order
    from .data import notebook_samples
    from .train import fit

    out = _out_dir(parser, args.out)
    print("valuegrad demo: the notebook's story, from one Value to a trained network\n")

    L = examples.first_expression()
    L.backward()
    named = {v.label: v for v in topological_order(L) if v.label}
    print("1. An expression and its gradients: L = (a*b + c) * f, with d = a*b and e = d + c")
    print("   " + "   ".join(f"{k} = {_fmt(named[k].data)}" for k in "abcf") + f"   ->   L = {_fmt(L.data)}")
    print("   " + "   ".join(f"dL/d{k} = {_fmt(named[k].grad)}" for k in "abcdef"))
    print()

    o = examples.one_neuron()
    o.backward()
    named = {v.label: v for v in topological_order(o) if v.label}
    print("2. One neuron: o = tanh(x₁w₁ + x₂w₂ + b), with b chosen so that o = 1/√2")
    print("   " + "   ".join(f"{k} = {_fmt(named[k].data)}" for k in ("x₁", "x₂", "w₁", "w₂", "b", "o")))
    print("   " + "   ".join(f"do/d{k} = {_fmt(named[k].grad)}" for k in ("x₁", "x₂", "w₁", "w₂", "b")))
    print()

    xs, ys = notebook_samples()
    model = nn.MLP(3, [4, 4, 1], seed=args.seed)
    print(f"3. A network: MLP(3, [4, 4, 1]), {len(model.parameters())} parameters (seed {args.seed})")
    print(f"   {model}")
    print(f"   trained on the notebook's four samples: squared-error loss, SGD with step size {args.lr:g}")

    def show(k: int, loss: float, acc: float) -> None:
        print(f"iteration {k + 1:2d} - loss: {loss:1.5f}")

    try:
        history = fit(model, xs, ys, loss="mse", optimizer="sgd", lr=args.lr, steps=args.steps, callback=show)
    except (ValueError, ArithmeticError) as e:
        raise _Failure(f"{e}") from None
    preds = [model.predict(x) for x in xs]
    print(f"   predictions {[round(p, 3) for p in preds]} for targets {ys}\n")

    wrote = []
    if _write_loss_png(history, out / "loss.png", "MLP(3, [4, 4, 1]) on the notebook's four samples"):
        wrote.append((out / "loss.png", "the loss curve"))
    why = _write_graph(o, out / "graph.svg")
    if why is None:
        wrote.append((out / "graph.svg", "the neuron's graph, after backward()"))
    else:
        print(f"note: graph.svg was not written: {why}")
    for path, what in wrote:
        print(f"Wrote {path} ({what})")
    return 0


def _train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import nn, optim
    from .data import make_moons, notebook_samples
    from .train import fit

    if args.dataset == "moons" and args.n < 2:
        parser.error("argument --n: the moons need at least 2 points")
    out = _out_dir(parser, args.out)
    X: list[list[float]]
    y: list[Any]
    if args.dataset == "moons":
        X, labels = make_moons(args.n, noise=args.noise, seed=args.seed)
        y = list(labels)
        what = f"{args.n} moons (noise {args.noise:g})"
    else:
        X, y = notebook_samples()
        what = "the notebook's four samples"
    if args.loss == "bce":
        y = [(v + 1) / 2 for v in y]  # ±1 labels -> 0/1 targets
    nin = len(X[0])
    model = nn.MLP(nin, [*args.hidden, 1], args.activation, args.last_activation, seed=args.seed)
    lr: float | optim.LinearDecay
    if args.lr is not None:
        lr, lr_text = args.lr, f"lr {args.lr:g}"
    elif args.optimizer == "sgd":
        lr, lr_text = optim.LinearDecay(1.0, 0.1, args.steps), "lr 1.0 decaying linearly to 0.1"
    else:
        lr, lr_text = 0.01, "lr 0.01"
    sizes = "-".join(str(n) for n in [nin, *args.hidden, 1])
    print(
        f"Training a {sizes} MLP ({args.activation}, {args.last_activation} output, "
        f"{len(model.parameters())} parameters) on {what}"
    )
    print(
        f"loss {args.loss}" + (f" + {args.l2:g} L2" if args.l2 else "") + f", {args.optimizer} {lr_text}, "
        f"{args.steps} steps{', compiled' if args.compile else ''}"
    )
    start = time.perf_counter()
    try:
        history = fit(
            model,
            X,
            y,
            loss=args.loss,
            optimizer=args.optimizer,
            lr=lr,
            steps=args.steps,
            l2=args.l2,
            progress=not args.no_progress,
            compile=args.compile,
        )
    except ImportError as e:
        raise _Failure(str(e)) from None
    except (ValueError, ArithmeticError) as e:
        raise _Failure(f"{e}") from None
    seconds = time.perf_counter() - start
    from .train import accuracy, compute_loss

    final = compute_loss(model, X, y, args.loss, args.l2)[0].data
    acc = accuracy(model, X, y, loss=args.loss)
    correct = round(acc * len(X))
    print(
        f"Done in {seconds:.1f} s: loss {history.loss[0]:.4f} -> {final:.4f}, "
        f"training accuracy {history.accuracy[0]:.0%} -> {acc:.0%} ({correct}/{len(X)}), {args.steps} steps"
    )

    model.save(out / "model.json")
    wrote = [(out / "model.json", "the trained model: valuegrad.nn.MLP.load(path)")]
    if _write_loss_png(history, out / "loss.png", f"{sizes} MLP, {args.loss} loss"):
        wrote.append((out / "loss.png", "loss and accuracy per step"))
    if nin == 2:
        try:
            from .plot import decision_boundary

            decision_boundary(model, X, y, out / "decision_boundary.png", title=f"{sizes} MLP on {what}")
            wrote.append((out / "decision_boundary.png", "the decision boundary"))
        except ImportError as e:
            print(f"note: decision_boundary.png was not written: {e}")
    for path, desc in wrote:
        print(f"Wrote {path} ({desc})")
    return 0


def _graph(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import examples

    path = Path(args.output)
    if path.suffix.lower() not in _GRAPH_SUFFIXES:
        parser.error(
            f"argument -o/--output: the name must end in {', '.join(_GRAPH_SUFFIXES)}; got {args.output!r}"
        )
    if path.is_dir():
        parser.error(f"argument -o/--output: {args.output!r} is a folder")
    folder = path.parent
    if not folder.is_dir():
        parser.error(f"argument -o/--output: the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        parser.error(f"argument -o/--output: the folder {str(folder)!r} is not writable")
    o = examples.one_neuron(tanh_via_exp=args.expanded)
    o.backward()
    try:
        why = _write_graph(o, path)
    except OSError as e:
        raise _Failure(f"cannot write {args.output!r}: {e.strerror or e}") from None
    if why is not None:
        raise _Failure(why)
    print(f"Wrote {path} (the notebook's neuron o = {o.data:.4f}, after backward())")
    return 0


_COMMANDS = {"demo": _demo, "train": _train, "graph": _graph}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``valuegrad`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args, parser)
    except _Failure as e:
        print(f"valuegrad: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("valuegrad: interrupted", file=sys.stderr)
        return 130
