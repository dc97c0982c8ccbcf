"""Click parameter types that read numbers by the station's one grammar (never ``int()``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import click

from inspect_station.numbers import NumberError, parse_count, parse_number


class Count(click.ParamType):
    """A whole number within bounds, in ASCII digits (``١٢٣`` and ``1_000`` are refused)."""

    name = "integer"

    def __init__(self, minimum: int = 0, maximum: int = 10**9) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """The number, or click's one-line usage error saying why not."""
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return parse_count(str(value), minimum=self.minimum, maximum=self.maximum)
        except NumberError as exc:
            self.fail(exc.message.rstrip("."), param, ctx)


class Seconds(click.ParamType):
    """A duration in seconds, a number of the grammar within bounds (no ``inf``, no ``nan``)."""

    name = "seconds"

    def __init__(self, maximum: int = 3600) -> None:
        self.maximum = maximum

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        """The duration as a float (a timer setting, never a measured value)."""
        if isinstance(value, float):
            return value
        try:
            seconds = parse_number(str(value))
        except NumberError as exc:
            self.fail(exc.message.rstrip("."), param, ctx)
        if not Decimal(0) <= seconds <= self.maximum:
            self.fail(f"{value} is not between 0 and {self.maximum} seconds", param, ctx)
        return float(seconds)
