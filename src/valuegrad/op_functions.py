"""The op table's formulas as functions over any kind of number. Generated: do not edit.

`python tools/codegen.py` writes this from src/valuegrad/ops.py. For each op,
``value_of_<op>(x, y, f)`` computes its result and ``derivatives_of_<op>(x, y, out, f)``
its local derivatives, one per operand Value. ``y`` is the second operand's data,
or the number ``k`` of an op like ``x ** 2``, or None; ``f`` provides the functions
the formulas call, for the kind of number at hand: `valuegrad.scalar_math` for
plain numbers, Values for higher-order gradients (`valuegrad.higher_order`).

>>> from valuegrad import scalar_math
>>> value_of_tanh(0.0, None, scalar_math), derivatives_of_tanh(0.0, None, 0.0, scalar_math)
(0.0, (1.0,))
"""

from __future__ import annotations

from typing import Any, Callable


def value_of_add(x: Any, y: Any, f: Any) -> Any:
    """out = x + y"""
    return x + y


def derivatives_of_add(x: Any, y: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = 1, d out/dy = 1"""
    return (1, 1)


def value_of_sub(x: Any, y: Any, f: Any) -> Any:
    """out = x - y"""
    return x - y


def derivatives_of_sub(x: Any, y: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = 1, d out/dy = -1"""
    return (1, -1)


def value_of_mul(x: Any, y: Any, f: Any) -> Any:
    """out = x * y"""
    return x * y


def derivatives_of_mul(x: Any, y: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = y, d out/dy = x"""
    return (y, x)


def value_of_div(x: Any, y: Any, f: Any) -> Any:
    """out = x / y"""
    return x / y


def derivatives_of_div(x: Any, y: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = inv(y), d out/dy = -out / y"""
    return (f.inv(y), -out / y)


def value_of_pow(x: Any, k: Any, f: Any) -> Any:
    """out = power(x, k)"""
    return f.power(x, k)


def derivatives_of_pow(x: Any, k: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = 0 if k == 0 else k * power(x, k - 1)"""
    return (0 if k == 0 else k * f.power(x, k - 1),)


def value_of_pow_value(x: Any, y: Any, f: Any) -> Any:
    """out = vpower(x, y)"""
    return f.vpower(x, y)


def derivatives_of_pow_value(x: Any, y: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = y * power(x, y - 1), d out/dy = out * log(x)"""
    return (y * f.power(x, y - 1), out * f.log(x))


def value_of_neg(x: Any, y: Any, f: Any) -> Any:
    """out = -x"""
    return -x


def derivatives_of_neg(x: Any, y: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = -1"""
    return (-1,)


def value_of_exp(x: Any, y: Any, f: Any) -> Any:
    """out = exp(x)"""
    return f.exp(x)


def derivatives_of_exp(x: Any, y: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = out"""
    return (out,)


def value_of_log(x: Any, y: Any, f: Any) -> Any:
    """out = log(x)"""
    return f.log(x)


def derivatives_of_log(x: Any, y: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = 1 / x"""
    return (1 / x,)


def value_of_tanh(x: Any, y: Any, f: Any) -> Any:
    """out = tanh(x)"""
    return f.tanh(x)


def derivatives_of_tanh(x: Any, y: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = 1 - out * out"""
    return (1 - out * out,)


def value_of_sigmoid(x: Any, y: Any, f: Any) -> Any:
    """out = sigmoid(x)"""
    return f.sigmoid(x)


def derivatives_of_sigmoid(x: Any, y: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = out * (1 - out)"""
    return (out * (1 - out),)


def value_of_relu(x: Any, y: Any, f: Any) -> Any:
    """out = relu(x)"""
    return f.relu(x)


def derivatives_of_relu(x: Any, y: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = step(x)"""
    return (f.step(x),)


def value_of_sin(x: Any, y: Any, f: Any) -> Any:
    """out = sin(x)"""
    return f.sin(x)


def derivatives_of_sin(x: Any, y: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = cos(x)"""
    return (f.cos(x),)


def value_of_cos(x: Any, y: Any, f: Any) -> Any:
    """out = cos(x)"""
    return f.cos(x)


def derivatives_of_cos(x: Any, y: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = -sin(x)"""
    return (-f.sin(x),)


def value_of_sqrt(x: Any, y: Any, f: Any) -> Any:
    """out = sqrt(x)"""
    return f.sqrt(x)


def derivatives_of_sqrt(x: Any, y: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = 0.5 / out"""
    return (0.5 / out,)


def value_of_abs(x: Any, y: Any, f: Any) -> Any:
    """out = abs(x)"""
    return f.abs(x)


def derivatives_of_abs(x: Any, y: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = sign(x)"""
    return (f.sign(x),)


def value_of_softplus(x: Any, y: Any, f: Any) -> Any:
    """out = softplus(x)"""
    return f.softplus(x)


def derivatives_of_softplus(x: Any, y: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = sigmoid(x)"""
    return (f.sigmoid(x),)


def value_of_id(x: Any, y: Any, f: Any) -> Any:
    """out = x"""
    return x


def derivatives_of_id(x: Any, y: Any, out: Any, f: Any) -> tuple[Any, ...]:
    """d out/dx = 1"""
    return (1,)


VALUE: dict[str, Callable[..., Any]] = {
    "add": value_of_add,
    "sub": value_of_sub,
    "mul": value_of_mul,
    "div": value_of_div,
    "pow": value_of_pow,
    "pow_value": value_of_pow_value,
    "neg": value_of_neg,
    "exp": value_of_exp,
    "log": value_of_log,
    "tanh": value_of_tanh,
    "sigmoid": value_of_sigmoid,
    "relu": value_of_relu,
    "sin": value_of_sin,
    "cos": value_of_cos,
    "sqrt": value_of_sqrt,
    "abs": value_of_abs,
    "softplus": value_of_softplus,
    "id": value_of_id,
}
"""``value_of_<op>`` by op name."""

DERIVATIVES: dict[str, Callable[..., tuple[Any, ...]]] = {
    "add": derivatives_of_add,
    "sub": derivatives_of_sub,
    "mul": derivatives_of_mul,
    "div": derivatives_of_div,
    "pow": derivatives_of_pow,
    "pow_value": derivatives_of_pow_value,
    "neg": derivatives_of_neg,
    "exp": derivatives_of_exp,
    "log": derivatives_of_log,
    "tanh": derivatives_of_tanh,
    "sigmoid": derivatives_of_sigmoid,
    "relu": derivatives_of_relu,
    "sin": derivatives_of_sin,
    "cos": derivatives_of_cos,
    "sqrt": derivatives_of_sqrt,
    "abs": derivatives_of_abs,
    "softplus": derivatives_of_softplus,
    "id": derivatives_of_id,
}
"""``derivatives_of_<op>`` by op name."""

SOURCES = {
    'add': 'add | x + y | 1 | 1 | ',
    'sub': 'sub | x - y | 1 | -1 | ',
    'mul': 'mul | x * y | y | x | ',
    'div': 'div | x / y | inv(y) | -out / y | ',
    'pow': 'pow | power(x, k) | 0 if k == 0 else k * power(x, k - 1) |  | k',
    'pow_value': 'pow_value | vpower(x, y) | y * power(x, y - 1) | out * log(x) | ',
    'neg': 'neg | -x | -1 |  | ',
    'exp': 'exp | exp(x) | out |  | ',
    'log': 'log | log(x) | 1 / x |  | ',
    'tanh': 'tanh | tanh(x) | 1 - out * out |  | ',
    'sigmoid': 'sigmoid | sigmoid(x) | out * (1 - out) |  | ',
    'relu': 'relu | relu(x) | step(x) |  | ',
    'sin': 'sin | sin(x) | cos(x) |  | ',
    'cos': 'cos | cos(x) | -sin(x) |  | ',
    'sqrt': 'sqrt | sqrt(x) | 0.5 / out |  | ',
    'abs': 'abs | abs(x) | sign(x) |  | ',
    'softplus': 'softplus | softplus(x) | sigmoid(x) |  | ',
    'id': 'id | x | 1 |  | ',
}
"""The rows this file was written from (valuegrad.ops.source_of): checked at import."""
