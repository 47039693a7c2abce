"""The ``valuegrad`` command (also ``python -m valuegrad``).

    valuegrad demo                      the notebook's story end to end
    valuegrad train --dataset moons     train an MLP, with a progress bar, plots and the saved model
    valuegrad graph -o neuron.svg       draw the notebook's neuron after backward()
    valuegrad graph --steps -o backprop.html
                                        a page that steps through backward(), one node at a time

Run ``valuegrad COMMAND --help`` for the options. Bad arguments, also those found
after parsing (an output file name, a folder), give the command's usage and an
error, exit code 2, as argparse does; a failure while running (a missing optional
dependency, a diverging training run) gives one ``valuegrad: error:`` line and exit
code 1, keeping what was written before it. Only the
standard library is imported at start-up; matplotlib, tqdm and Graphviz are
loaded by the commands that use them.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

__all__ = ["build_parser", "main"]

MAX_WIDTH = 10_000
_GRAPH_SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".gv")
_PAGE_SUFFIXES = (".html", ".htm")


class _Failure(Exception):
    """A run-time failure reported as ``valuegrad: error: ...`` with exit code 1."""


# --- argument types: each turns a bad string into argparse's own message -------


def _int_at_least(minimum: int, why: str = "") -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if n < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}{why}, got {n}")
        return n

    return parse


_positive_int = _int_at_least(1)
_points = _int_at_least(2, " (one point per moon)")


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
    """``"16,16"`` -> [16, 16]; ``"none"`` -> [] (no hidden layer: a linear model)."""
    if text.strip().lower() == "none":
        return []
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "expected layer sizes separated by commas, like 16,16 (or 'none' for no hidden layer); got ''"
        )
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
    """The argument parser of the ``valuegrad`` command.

    Each subcommand's parser is stored in its namespace as ``command_parser``, so that
    errors found after parsing are reported with that command's usage line.
    """
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
    demo.set_defaults(command_parser=demo)

    train = sub.add_parser(
        "train",
        help="train an MLP on two moons or the notebook's samples",
        description="Train an MLP (full batch) with a progress bar; write loss.png, decision_boundary.png "
        "(2-D datasets) and model.json into the output folder. The defaults are micrograd's demo: "
        "100 moons, 2-16-16-1 ReLU network with a linear output, hinge loss + 1e-4 L2, "
        "SGD with lr 1.0 decaying to 0.1. A run whose loss stops being finite, or grows past "
        "10,000 times max(its first loss, 1), has diverged: it stops, writes loss.png up to that "
        "step, and exits with code 1.",
    )
    train.add_argument(
        "--dataset", choices=("moons", "notebook"), default="moons", help="(default: %(default)s)"
    )
    train.add_argument(
        "--n", type=_points, default=100, help="moons: number of points, at least 2 (default: %(default)s)"
    )
    train.add_argument(
        "--noise", type=_nonnegative_float, default=0.1, help="moons: noise (default: %(default)s)"
    )
    train.add_argument(
        "--hidden",
        type=_hidden,
        default=[16, 16],
        metavar="SIZES",
        help="hidden layer sizes, like 16,16; 'none' for no hidden layer (default: 16,16)",
    )
    train.add_argument(
        "--activation",
        choices=("relu", "tanh", "sigmoid", "linear"),
        default="relu",
        help="hidden layers' activation (default: %(default)s)",
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
    train.add_argument(
        "--compile",
        action="store_true",
        help="trace the loss graph once and replay it at every step (needs NumPy: valuegrad[compile])",
    )
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(command_parser=train)

    graph = sub.add_parser(
        "graph",
        help="draw the notebook's neuron after backward(), or step through backward() in a page",
        description="Draw the notebook's neuron o = tanh(x1*w1 + x2*w2 + b) (or its first expression, "
        "L = (a*b + c) * f) with its gradients. The format follows the suffix: .svg, .png, .pdf, or .dot "
        "(DOT text, needs no Graphviz). With --steps, write one HTML page that steps through "
        "backward() one node at a time, with a slider: it works offline, in any browser.",
    )
    graph.add_argument(
        "-o",
        "--output",
        default=None,
        help="output file (default: graph.svg, or backprop.html with --steps)",
    )
    graph.add_argument(
        "--example",
        choices=("neuron", "expression"),
        default="neuron",
        help="neuron: o = tanh(x1*w1 + x2*w2 + b); expression: L = (a*b + c) * f (default: %(default)s)",
    )
    graph.add_argument(
        "--expanded",
        action="store_true",
        help="neuron: spell tanh out as (exp(2n) - 1) / (exp(2n) + 1), as the lecture does",
    )
    graph.add_argument(
        "--rankdir",
        choices=("LR", "TB"),
        default=None,
        help="layout: LR (left to right, as the lecture draws it) or TB (top to bottom, narrower); "
        "default: LR for a picture, TB for the --steps page, so that it fits a browser window",
    )
    graph.add_argument(
        "--steps",
        action="store_true",
        help="write an .html page stepping through backward(), one chain-rule step per frame",
    )
    graph.set_defaults(command_parser=graph)
    return parser


# --- helpers -------------------------------------------------------------------


class _OutputFolder:
    """The output folder: checked before any work, created only when a file is written into it.

    A run that writes nothing (every optional package missing) leaves no empty folder behind.
    """

    def __init__(self, parser: argparse.ArgumentParser, path: str) -> None:
        self.path = Path(path)
        self.created = False
        # The nearest folder that exists must be a writable folder.
        existing = self.path
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if existing.exists() and not existing.is_dir():
            parser.error(f"cannot write to the output folder {path!r}: {str(existing)!r} is a file")
        if not os.access(existing, os.W_OK | os.X_OK):
            parser.error(f"cannot write to the output folder {path!r}: {str(existing)!r} is not writable")

    def file(self, name: str) -> Path:
        """The path of ``name`` in the folder, creating the folder first if needed."""
        if not self.path.is_dir():
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise _Failure(
                    f"cannot create the output folder {str(self.path)!r}: {e.strerror or e}"
                ) from None
            self.created = True
        return self.path / name

    def __enter__(self) -> _OutputFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.created and self.path.is_dir() and not any(self.path.iterdir()):
            self.path.rmdir()


def _write_loss_png(history: Any, out: _OutputFolder, title: str) -> Path | None:
    """loss.png in ``out``; None (and a note saying what to install) without matplotlib."""
    try:
        from .plot import loss_curve
    except ImportError as e:  # pragma: no cover - plot itself imports only the standard library
        print(f"note: loss.png was not written: {e}")
        return None
    if importlib.util.find_spec("matplotlib") is None:
        print(f"note: loss.png was not written: {_PLOT_HINT}")
        return None
    path = out.file("loss.png")
    try:
        loss_curve(history, path, title=title)
    except ImportError as e:
        print(f"note: loss.png was not written: {e}")
        return None
    return path


_PLOT_HINT = "it needs matplotlib: pip install 'valuegrad[plot]'"
_VIZ_HINT = "pip install 'valuegrad[viz]' (its pygraphviz wheel includes Graphviz: no system package needed)"


def _render_failure(e: Exception) -> str | None:
    """Why a drawing could not be made, if ``e`` says Graphviz or the viz extra is missing."""
    if isinstance(e, ImportError):
        return f"it needs the viz extra: {_VIZ_HINT}"
    if type(e).__name__ == "RenderError":  # valuegrad.viz.RenderError: no Graphviz engine
        return f"rendering needs Graphviz: {_VIZ_HINT}"
    return None


def _write_graph(root: Any, path: Path, rankdir: str = "LR") -> str | None:
    """Draw ``root`` into ``path``; return None on success, else why it was not written."""
    try:
        from .viz import draw_dot

        draw_dot(root, rankdir=rankdir).save(path)
    except Exception as e:
        why = _render_failure(e)
        if why is None:
            raise
        return why
    return None


def _fmt(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".") if x == x else "nan"


def _diverged_message(e: Any) -> str:
    """One line for a `TrainingDiverged`: where, how far, the rule, what to try."""
    from .train import DIVERGENCE_FACTOR

    start = f" (it started at {e.history.loss[0]:.4g})" if e.history.loss else ""
    reached = f"reached {e.loss:.4g}" if math.isfinite(e.loss) else f"became {e.loss}"
    return (
        f"training diverged at step {e.step + 1}: the loss {reached}{start}; a run stops once its loss "
        f"is not finite or passes {DIVERGENCE_FACTOR:,.0f} times max(its first loss, 1). Try a lower --lr."
    )


# --- commands --------------------------------------------------------------------


def _demo(args: argparse.Namespace, sub: argparse.ArgumentParser) -> int:
    from . import examples, nn
    from .backward import topological_order
    from .data import notebook_samples
    from .train import TrainingDiverged, fit

    with _OutputFolder(sub, args.out) as out:
        print("valuegrad demo: the notebook's story, from one Value to a trained network\n")

        L = examples.first_expression()
        L.backward()
        named = {v.label: v for v in topological_order(L) if v.label}
        print("1. An expression and its gradients: L = (a*b + c) * f, with d = a*b and e = d + c")
        print(
            "   " + "   ".join(f"{k} = {_fmt(named[k].data)}" for k in "abcf") + f"   ->   L = {_fmt(L.data)}"
        )
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
        print(
            f"   trained on the notebook's four samples: squared-error loss, SGD with step size {args.lr:g}"
        )

        def show(k: int, loss: float, acc: float) -> None:
            print(f"iteration {k + 1:2d} - loss: {loss:1.5f}")

        title = "MLP(3, [4, 4, 1]) on the notebook's four samples"
        try:
            history = fit(
                model, xs, ys, loss="mse", optimizer="sgd", lr=args.lr, steps=args.steps, callback=show
            )
        except TrainingDiverged as e:
            path = _write_loss_png(e.history, out, title + " (diverged)")
            if path is not None:
                print(f"Wrote {path} (the loss curve up to where it diverged)")
            raise _Failure(_diverged_message(e)) from None
        except (ValueError, ArithmeticError) as e:
            raise _Failure(f"{e}") from None
        preds = [model.predict(x) for x in xs]
        print(f"   predictions {[round(p, 3) for p in preds]} for targets {ys}\n")

        wrote = []
        loss_png = _write_loss_png(history, out, title)
        if loss_png is not None:
            wrote.append((loss_png, "the loss curve"))
        graph_svg = out.file("graph.svg")
        why = _write_graph(o, graph_svg)
        if why is None:
            wrote.append((graph_svg, "the neuron's graph, after backward()"))
        else:
            print(f"note: graph.svg was not written: {why}")
        for path, what in wrote:
            print(f"Wrote {path} ({what})")
    return 0


def _train(args: argparse.Namespace, sub: argparse.ArgumentParser) -> int:
    from . import nn, optim
    from .data import make_moons, notebook_samples
    from .train import TrainingDiverged, accuracy, compute_loss, fit

    if args.compile and importlib.util.find_spec("numpy") is None:
        raise _Failure(
            "--compile needs NumPy (without it the compiled graph runs slower than the eager one): "
            "pip install 'valuegrad[compile]', or train without --compile"
        )
    with _OutputFolder(sub, args.out) as out:
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
        kind = (
            f"{args.activation}, {args.last_activation} output"
            if args.hidden
            else f"no hidden layer, {args.last_activation} output"
        )
        print(f"Training a {sizes} MLP ({kind}, {len(model.parameters())} parameters) on {what}")
        print(
            f"loss {args.loss}"
            + (f" + {args.l2:g} L2" if args.l2 else "")
            + f", {args.optimizer} {lr_text}, "
            f"{args.steps} steps{', compiled' if args.compile else ''}"
        )
        title = f"{sizes} MLP, {args.loss} loss"
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
        except TrainingDiverged as e:
            path = _write_loss_png(e.history, out, title + " (diverged)")
            if path is not None:
                print(f"Wrote {path} (the loss and accuracy up to where it diverged)")
            raise _Failure(_diverged_message(e)) from None
        except ImportError as e:
            raise _Failure(str(e)) from None
        except (ValueError, ArithmeticError) as e:
            raise _Failure(f"{e}") from None
        seconds = time.perf_counter() - start

        final = compute_loss(model, X, y, args.loss, args.l2)[0].data
        acc = accuracy(model, X, y, loss=args.loss)
        correct = round(acc * len(X))
        print(f"Done in {seconds:.1f} s, {args.steps} steps.")
        first_loss, first_acc = history.loss[0], history.accuracy[0]
        print(f"  before the first update: loss {first_loss:.4f}, training accuracy {first_acc:.0%}")
        print(
            f"  after the last update:   loss {final:.4f}, training accuracy {acc:.0%} ({correct}/{len(X)})"
        )
        if not args.no_progress:
            print(
                f"  (the progress bar shows each step's loss before its update: {history.loss[-1]:.4f} "
                f"at step {len(history)})"
            )

        model_path = out.file("model.json")
        model.save(model_path)
        wrote = [(model_path, "the trained model: valuegrad.nn.MLP.load(path)")]
        loss_png = _write_loss_png(history, out, title)
        if loss_png is not None:
            wrote.append((loss_png, "loss and accuracy per step"))
        if nin == 2:
            if importlib.util.find_spec("matplotlib") is None:
                print(f"note: decision_boundary.png was not written: {_PLOT_HINT}")
            else:
                from .plot import decision_boundary

                boundary = out.file("decision_boundary.png")
                decision_boundary(model, X, y, boundary, title=f"{sizes} MLP on {what}")
                wrote.append((boundary, "the decision boundary"))
        for path, desc in wrote:
            print(f"Wrote {path} ({desc})")
    return 0


def _graph(args: argparse.Namespace, sub: argparse.ArgumentParser) -> int:
    from . import examples

    output = args.output or ("backprop.html" if args.steps else "graph.svg")
    path = Path(output)
    suffix = path.suffix.lower()
    if args.steps and suffix not in _PAGE_SUFFIXES:
        sub.error(
            f"argument -o/--output: --steps writes an HTML page: the name must end in .html; got {output!r}"
        )
    if not args.steps and suffix in _PAGE_SUFFIXES:
        sub.error(
            f"argument -o/--output: an .html page is what --steps writes: add --steps, "
            f"or give a picture name ({', '.join(_GRAPH_SUFFIXES)}); got {output!r}"
        )
    if not args.steps and suffix not in _GRAPH_SUFFIXES:
        sub.error(f"argument -o/--output: the name must end in {', '.join(_GRAPH_SUFFIXES)}; got {output!r}")
    if args.expanded and args.example != "neuron":
        sub.error("argument --expanded: only the neuron has a tanh to spell out (use --example neuron)")
    if path.is_dir():
        sub.error(f"argument -o/--output: {output!r} is a folder")
    folder = path.parent
    if not folder.is_dir():
        sub.error(f"argument -o/--output: the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        sub.error(f"argument -o/--output: the folder {str(folder)!r} is not writable")

    if args.example == "neuron":
        root = examples.one_neuron(tanh_via_exp=args.expanded)
        tanh = "(exp(2n) - 1) / (exp(2n) + 1)" if args.expanded else "tanh(n)"
        what = f"the notebook's neuron o = {tanh}, n = x₁w₁ + x₂w₂ + b"
    else:
        root = examples.first_expression()
        what = "the notebook's first expression L = (a*b + c) * f"

    try:
        if args.steps:
            from .viz import backward_steps

            title = f"Backpropagation, one node at a time: {what}"
            steps = backward_steps(root, title=title, rankdir=args.rankdir or "TB")
            steps.save(path)
            n = len(steps) - 1
            print(f"Wrote {path} ({what}: backward() in {n} chain-rule steps; open it in a browser)")
            return 0
        root.backward()
        why = _write_graph(root, path, rankdir=args.rankdir or "LR")
    except OSError as e:
        raise _Failure(f"cannot write {output!r}: {e.strerror or e}") from None
    except Exception as e:
        why = _render_failure(e)
        if why is None:
            raise
    if why is not None:
        raise _Failure(f"{path} was not written: {why}")
    print(f"Wrote {path} ({what}, after backward(): {root.label} = {root.data:.4f})")
    return 0


_COMMANDS = {"demo": _demo, "train": _train, "graph": _graph}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``valuegrad`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args, args.command_parser)
    except _Failure as e:
        print(f"valuegrad: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("valuegrad: interrupted", file=sys.stderr)
        return 130
