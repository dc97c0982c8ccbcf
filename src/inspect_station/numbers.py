"""The one number grammar: every value that enters the station is read here, exactly.

Readings from gauges, values on the command line and on ``record --stdin``, manual entry at the
bench and the numbers of spec files all pass through :func:`parse_number`, so a text is a number
in one place exactly when it is a number everywhere. The grammar::

    number   = [sign] ( digits [ "." digits ] | "." digits ) [ exponent ]
    sign     = "+" | "-"
    digits   = one or more of the ASCII digits 0-9
    exponent = ( "e" | "E" ) [sign] digits     -- only where a gauge profile declares one

Blanks (ASCII spaces) around the number are ignored; nothing else is: no digit separators, no
inner blanks, no second sign, no comma, no digits of other scripts (``١٢٠`` or ``１２０``), no
``inf`` or ``nan``. A number has at most :data:`MAX_DIGITS` digits as written, and written out
in full (exponent applied) it still has at most that many, so every value the station judges is
small enough to be compared exactly.

Values are returned as :class:`~decimal.Decimal` built from the text, which is exact; every
comparison and sum that decides a verdict is done with :class:`~fractions.Fraction` (see
:func:`exact`), which never rounds. Nothing here does I/O.
"""

from __future__ import annotations

import decimal
import re
import unicodedata
from decimal import Decimal
from fractions import Fraction

from inspect_station.errors import ReadingError
from inspect_station.text import quote

MAX_DIGITS = 30
"""Most digits a number may have (as written, and written out in full)."""

MAX_EXPONENT_DIGITS = 3
"""Most digits of an exponent, where a gauge profile allows one."""

_NUMBER = re.compile(
    r"(?P<sign>[+-]?)(?:(?P<whole>[0-9]+)(?:\.(?P<frac>[0-9]+))?|\.(?P<only>[0-9]+))"
    r"(?:[eE](?P<exp>[+-]?[0-9]+))?"
)
_UNIT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZµμ°\"'")
# Sums of numbers within the grammar need at most about twice MAX_DIGITS digits; the context
# traps rounding, so a sum is exact or an error, never silently rounded.
_EXACT = decimal.Context(
    prec=4 * MAX_DIGITS,
    traps=[decimal.Inexact, decimal.Rounded, decimal.InvalidOperation, decimal.Overflow],
)


class NumberError(ReadingError):
    """A text is not a number of the station's grammar; the message says what is wrong."""


def _why_not(body: str, exponent: bool) -> str:
    """The reason ``body`` (already stripped) does not match the grammar, in a few words."""
    if not body:
        return "it is empty"
    for char in body:
        if char in "0123456789+-.eE ":
            continue
        if unicodedata.category(char) == "Nd":
            name = unicodedata.name(char, "a digit of another script")
            return f"write digits as ASCII 0-9, not {name} (U+{ord(char):04X})"
        if char == "_":
            return "digit separators ('_') are not allowed"
        if char == ",":
            return "use '.' as the decimal point and no thousands separator"
        if char.isascii() and char.isalpha():
            return ""
        if not char.isascii() or not char.isprintable():
            return f"it contains the character U+{ord(char):04X}"
        return f"it contains {char!r}"
    if " " in body:
        return "it has a blank inside the number"
    if re.match(r"[+-]{2}", body):
        return "it has more than one sign"
    if body.count(".") > 1:
        return "it has more than one decimal point"
    if "e" in body.lower():
        if not exponent:
            return "an exponent is not allowed here; write the number out in full"
        return "its exponent is malformed"
    if re.search(r".[+-]", body):
        return "a sign may only stand at the start"
    if body.endswith("."):
        return "a decimal point must be followed by a digit"
    return "expected an optional sign, digits and at most one decimal point"


def parse_number(text: str, *, exponent: bool = False) -> Decimal:
    """The exact value of ``text`` under the grammar; NumberError (one sentence) if it is not one.

    With ``exponent`` (a gauge profile that declares it) ``1.2345E+01`` is accepted too.
    """
    if not isinstance(text, str):
        raise NumberError(f"A number must be given as decimal text, not as {type(text).__name__}.")
    body = text.strip(" ")
    m = _NUMBER.fullmatch(body)
    if m is None or (m.group("exp") is not None and not exponent):
        if body.lower().lstrip("+-") in {"inf", "infinity", "nan", "snan"}:
            raise NumberError(f"{quote(text)} is not a number: it is not finite.")
        if m is None and len(body) > 80:
            raise NumberError(f"{quote(text)} is not a number.")
        why = _why_not(body, exponent)
        raise NumberError(f"{quote(text)} is not a number" + (f": {why}." if why else "."))
    digits = len(m.group("whole") or "") + len(m.group("frac") or m.group("only") or "")
    if digits > MAX_DIGITS:
        raise NumberError(
            f"{quote(text)} has {digits} digits; a number may have at most {MAX_DIGITS}."
        )
    exp = m.group("exp")
    if exp is not None and len(exp.lstrip("+-")) > MAX_EXPONENT_DIGITS:
        raise NumberError(f"{quote(text)} has an exponent out of range.")
    value = Decimal(body)  # exact: a Decimal made from text is never rounded
    if exp is not None:
        whole_digits, frac_digits = plain_digits(value)
        if whole_digits + frac_digits > MAX_DIGITS:
            raise NumberError(
                f"{quote(text)} written out in full has more than {MAX_DIGITS} digits."
            )
        value = Decimal(format(value, "f"))
    return value


def parse_count(text: str, *, minimum: int = 0, maximum: int = 10**9) -> int:
    """A whole number as typed (ASCII digits only, no sign, point or exponent), within bounds."""
    value = parse_number(text)
    body = text.strip(" ")
    if not body.isascii() or not body.isdigit():
        raise NumberError(f"{quote(text)} is not a whole number (digits 0-9 only).")
    if not minimum <= value <= maximum:
        raise NumberError(f"{quote(text)} is not between {minimum} and {maximum:,}.")
    return int(value)


def plain_digits(value: Decimal) -> tuple[int, int]:
    """(digits before the point without leading zeros, digits after it) of ``value`` written out."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int), "only finite numbers are written out"
    count = len(digits)
    if exponent >= 0:
        whole = count + exponent
        return (0 if digits == (0,) else whole), 0
    frac = -exponent
    whole = max(0, count - frac)
    significant_whole = len("".join(map(str, digits[:whole])).lstrip("0"))
    return significant_whole, frac


def check_decimal(value: Decimal) -> Decimal:
    """``value`` if it is a finite number within the grammar's bounds; NumberError otherwise."""
    if not value.is_finite():
        raise NumberError(f"{value} is not a finite number.")
    whole, frac = plain_digits(value)
    if whole + frac > MAX_DIGITS:
        raise NumberError(f"{_short(value)} has more than {MAX_DIGITS} digits written out in full.")
    return value


def check_integer(value: int, what: str = "the number") -> int:
    """``value`` if it has at most :data:`MAX_DIGITS` digits; NumberError otherwise."""
    if abs(value) >= 10**MAX_DIGITS:
        raise NumberError(f"{what} has more than {MAX_DIGITS} digits.")
    return value


def _short(value: Decimal) -> str:
    """A Decimal as text for a message, never thousands of characters long."""
    text = str(value)
    return text if len(text) <= 40 else text[: 40 - 1] + "…"


def normalize(text: str, *, exponent: bool = False) -> str:
    """Canonical text of a number as sent: ``+0000.123`` -> ``0.123``; digits after the point,
    the resolution, are kept (``-1.2340``) and so is a minus on zero (``-0.000``)."""
    value = parse_number(text, exponent=exponent)
    body = format(value, "f")
    negative = body.startswith("-")
    body = body.lstrip("-")
    whole, _, frac = body.partition(".")
    whole = whole.lstrip("0") or "0"
    out = f"{whole}.{frac}" if frac else whole
    return f"-{out}" if negative else out


def split_unit(text: str) -> tuple[str, str | None]:
    """Split a unit written after a number: '4.725in' -> ('4.725', 'in'); '120.01' ->
    ('120.01', None); text without a digit before the letters ('pass') is returned whole."""
    body = text.strip(" ")
    cut = len(body)
    while cut > 0 and body[cut - 1] in _UNIT_CHARS:  # linear, whatever the text
        cut -= 1
    number, unit = body[:cut].rstrip(" "), body[cut:]
    if unit and any(c in "0123456789" for c in number):
        return number, unit
    return body, None


def exact(value: Decimal | int) -> Fraction:
    """The exact rational value of a finite Decimal or an int (never rounded)."""
    return Fraction(value)


def fraction_text(value: Fraction, min_decimals: int = 0, max_decimals: int = 12) -> str:
    """Decimal text of ``value``: exact when it has a finite decimal expansion, else rounded
    half to even to ``max_decimals``; trailing zeros trimmed down to ``min_decimals``."""
    denominator = value.denominator
    twos = fives = 0
    while denominator % 2 == 0:
        denominator //= 2
        twos += 1
    while denominator % 5 == 0:
        denominator //= 5
        fives += 1
    if denominator == 1:
        places = max(twos, fives)
        scaled = value * 10**places
        assert scaled.denominator == 1
        units = scaled.numerator
    else:
        places = max_decimals
        units = round(value * 10**places)  # Fraction.__round__ rounds half to even
    negative = units < 0
    digits = str(abs(units)).rjust(places + 1, "0")
    whole, frac = (digits[:-places], digits[-places:]) if places else (digits, "")
    frac = frac.rstrip("0")
    if len(frac) < min_decimals:
        frac = frac.ljust(min_decimals, "0")
    text = f"{whole}.{frac}" if frac else whole
    return f"-{text}" if negative else text


def exact_sum(*values: Decimal) -> Decimal:
    """The exact sum of Decimals (exponent kept: 120.00 + -0.10 = 119.90); never rounded."""
    total = Decimal(0)
    for value in values:
        total = _EXACT.add(total, value)
    return total
