"""Numbers of the grammar written from their parts, for the evaluation properties."""

from __future__ import annotations


def decimal_text(sign: str, units: int, places: int) -> str:
    """sign + |units| scaled by 10**-places as plain decimal text (leading zeros as needed)."""
    digits = str(abs(units)).rjust(places + 1, "0")
    return sign + (f"{digits[:-places]}.{digits[-places:]}" if places else digits)
