"""Exact arithmetic with the engine's semantics (shared by the arithmetic node twins).

``int <op> int`` stays an int whenever the exact result is one; results must fit in 64 bits;
modulo takes the sign of the divisor; division or modulo by zero and a negative base to a
fractional power are errors. Messages are the engine's, word for word.
"""

from __future__ import annotations

import math
from typing import Any

from ...errors import NodeError
from ..params import describe_value, is_number, rust_float

__all__ = ["OPERATIONS", "apply"]

OPERATIONS = ("add", "subtract", "multiply", "divide", "power", "modulo")
_SYMBOLS = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "power": "**", "modulo": "%"}
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_U32_MAX = 2**32 - 1


def _fits(x: int) -> bool:
    return _I64_MIN <= x <= _I64_MAX


def apply(op: str, a: Any, b: Any) -> int | float:
    """``a <op> b`` for two numbers."""
    for v in (a, b):
        if not is_number(v):
            raise NodeError(f"expected a number, found {describe_value(v)}")
    if isinstance(a, int) and isinstance(b, int):
        return _int_op(op, a, b)
    return _float_op(op, float(a), float(b))


def _overflow(op: str, x: int, y: int) -> NodeError:
    return NodeError(f"{x} {_SYMBOLS[op]} {y} does not fit in a 64-bit integer")


def _int_op(op: str, x: int, y: int) -> int | float:
    if op == "divide":
        if y == 0:
            raise NodeError(f"division by zero ({x} / 0)")
        if x % y != 0:
            return float(x) / float(y)
        result = x // y
    elif op == "modulo":
        if y == 0:
            raise NodeError(f"modulo by zero ({x} % 0)")
        if x == _I64_MIN and y == -1:
            raise _overflow(op, x, y)
        result = x % y
    elif op == "power":
        if y < 0:
            return _float_op(op, float(x), float(y))
        if y > _U32_MAX or (abs(x) > 1 and y > 63):
            raise _overflow(op, x, y)
        result = x**y
    elif op == "add":
        result = x + y
    elif op == "subtract":
        result = x - y
    else:
        result = x * y
    if not _fits(result):
        raise _overflow(op, x, y)
    return result


def _float_op(op: str, x: float, y: float) -> float:
    if op == "add":
        return x + y
    if op == "subtract":
        return x - y
    if op == "multiply":
        return x * y
    if op == "divide":
        if y == 0.0:
            raise NodeError(f"division by zero ({rust_float(x)} / {rust_float(y)})")
        return x / y
    if op == "modulo":
        if y == 0.0:
            raise NodeError(f"modulo by zero ({rust_float(x)} % {rust_float(y)})")
        r = math.fmod(x, y)
        return r + y if r != 0.0 and (r < 0.0) != (y < 0.0) else r
    # power
    if x == 0.0 and y < 0.0:
        raise NodeError(f"zero cannot be raised to a negative power ({rust_float(x)} ** {rust_float(y)})")
    if x < 0.0 and math.isfinite(y) and not float(y).is_integer():
        raise NodeError(
            f"a negative number to a fractional power is not a real number ({rust_float(x)} ** {rust_float(y)})"
        )
    try:
        return math.pow(x, y)
    except OverflowError:
        negative = x < 0 and float(y).is_integer() and int(y) % 2 == 1
        return -math.inf if negative else math.inf
