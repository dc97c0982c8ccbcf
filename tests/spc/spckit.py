"""Helpers for the SPC tests: limit versions with round numbers, series in sigma units."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from inspect_station.spc import LimitVersion, RuleSet
from inspect_station.spc.exact import rounded

WHEN = "2026-11-25T09:00:00Z"


def limits(
    *,
    centre: str = "10.000",
    sigma: str = "1.000",
    subgroup_size: int = 1,
    rules: RuleSet | None = None,
    range_centre: str = "1.128",
    range_ucl: str = "3.685",
    range_lcl: str = "0.000",
    digits: int = 3,
    **extra: Any,
) -> LimitVersion:
    """A limit version with the given centre and sigma (limits centre ± 3 sigma)."""
    c, s = Decimal(centre), Decimal(sigma)
    n = subgroup_size
    return LimitVersion(
        part_number="BRK-1042",
        characteristic="1",
        unit="mm",
        version=1,
        chart="i-mr" if n == 1 else "xbar-r",
        subgroup_size=n,
        digits=digits,
        centre=c,
        sigma=s,
        ucl=c + 3 * s,
        lcl=c - 3 * s,
        sigma_within=s,
        range_centre=rounded(Decimal(range_centre), digits),
        range_ucl=rounded(Decimal(range_ucl), digits),
        range_lcl=rounded(Decimal(range_lcl), digits),
        baseline=tuple(f"b{i}" for i in range(10 * n)),
        baseline_count=10 * n,
        rules=rules or RuleSet(),
        effective_from=WHEN,
        reason="test limits",
        **extra,
    )


def series(*zs: float | str, centre: str = "10.000") -> list[tuple[str, Decimal]]:
    """Readings ``centre + z`` (z in sigma units of 1.000) with refs r1, r2, ..."""
    return [(f"r{i + 1}", Decimal(centre) + Decimal(str(z))) for i, z in enumerate(zs)]
