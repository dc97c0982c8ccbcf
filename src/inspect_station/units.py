"""Units of measure and their exact conversion to a common base unit."""

from __future__ import annotations

from decimal import Decimal

# Each unit maps to (dimension, factor to the dimension's base unit). Every factor is exact:
# length is compared in nanometres (1 in = 25.4 mm exactly), angles in arc seconds.
_UNITS: dict[str, tuple[str, Decimal]] = {
    "mm": ("length", Decimal("1000000")),
    "um": ("length", Decimal("1000")),
    "in": ("length", Decimal("25400000")),
    "deg": ("angle", Decimal("3600")),
    "arcmin": ("angle", Decimal("60")),
    "arcsec": ("angle", Decimal("1")),
}

_ALIASES: dict[str, str] = {
    "mm": "mm",
    "millimetre": "mm",
    "millimeter": "mm",
    "um": "um",
    "µm": "um",
    "μm": "um",
    "micron": "um",
    "in": "in",
    "inch": "in",
    '"': "in",
    "deg": "deg",
    "°": "deg",
    "arcmin": "arcmin",
    "'": "arcmin",
    "arcsec": "arcsec",
}

KNOWN_UNITS: tuple[str, ...] = tuple(_UNITS)


def normalize_unit(text: str) -> str | None:
    """Canonical unit name for ``text`` (case-insensitive, µm/um alike), or None if unknown."""
    key = text.strip()
    return _ALIASES.get(key) or _ALIASES.get(key.lower())


def dimension(unit: str) -> str:
    """The dimension (length, angle) of a canonical unit."""
    return _UNITS[unit][0]


def factor(unit: str) -> Decimal:
    """The exact factor from a canonical unit to its dimension's base unit (mm -> 1000000 nm)."""
    return _UNITS[unit][1]


def to_base(value: Decimal, unit: str) -> Decimal:
    """Exact value in the dimension's base unit (nm for length, arc seconds for angle)."""
    return value * _UNITS[unit][1]


def from_base(value: Decimal, unit: str) -> Decimal:
    """Value in ``unit`` from the base unit; may be inexact (for example nm to inches)."""
    return value / _UNITS[unit][1]


def convertible(a: str, b: str) -> bool:
    """Whether two canonical units measure the same dimension."""
    return dimension(a) == dimension(b)
