"""Exact decimal helpers for SPC: one context, fixed-point text, the decimal string grammar.

Every Decimal operation in this package goes through ``CONTEXT`` (60 significant digits, half
to even, invalid operations trapped), so results never depend on the caller's thread context.
"""

from __future__ import annotations

import decimal
import operator
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

CONTEXT = decimal.Context(
    prec=60,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
"""The arithmetic context of every Decimal operation in the SPC core."""

_DECIMAL_TEXT = re.compile(r"[+-]?[0-9]{1,30}(\.[0-9]{1,30})?")
MAX_DIGITS = 12
"""Most decimal places a limit or a statistic is rounded to."""


def step(digits: int) -> Decimal:
    """10 ** -digits as an exact Decimal (the quantum for ``digits`` decimal places)."""
    return Decimal(1).scaleb(-digits)


def rounded(value: Decimal | float, digits: int) -> Decimal:
    """``value`` rounded half to even to ``digits`` decimal places, as an exact Decimal."""
    exact = value if isinstance(value, Decimal) else Decimal(value)
    result = exact.quantize(step(digits), context=CONTEXT)
    return result.copy_abs() if result.is_zero() else result


def text(value: Decimal) -> str:
    """A Decimal as fixed-point text: no exponent, no '-0' (what records hold)."""
    if value.is_zero():
        value = value.copy_abs()
    return format(value, "f")


def decimals_of(value: Decimal) -> int:
    """How many decimal places ``value`` is written with (2 for 10.20, 0 for 12)."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def parse(value: Any, field: str) -> Decimal:
    """A record's decimal string (or a Decimal/int) as an exact Decimal; ValueError otherwise.

    Floats are refused: a limit written as a binary float is not the limit that was locked.
    """
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{field} must be a finite number")
        return value
    if isinstance(value, (bool, float)):
        raise ValueError(f"{field} must be a decimal string, not {type(value).__name__}")
    if isinstance(value, int):
        return Decimal(value)
    if not isinstance(value, str) or not _DECIMAL_TEXT.fullmatch(value):
        raise ValueError(f"{field} must be a decimal string such as '10.0125'")
    return Decimal(value)


Arith = Callable[[Any, Any], Any]
"""A binary arithmetic operation (add, subtract or multiply)."""


def arithmetic(sample: Any) -> tuple[Arith, Arith, Arith]:
    """(add, subtract, multiply) for numbers like ``sample``: ``CONTEXT``'s for Decimals."""
    if isinstance(sample, Decimal):
        return CONTEXT.add, CONTEXT.subtract, CONTEXT.multiply
    return operator.add, operator.sub, operator.mul
