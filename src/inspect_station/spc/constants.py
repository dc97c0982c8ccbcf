"""Control chart constants by subgroup size, as published (reference/standards.md, SPC)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class ChartConstants:
    """The published constants for one subgroup size n."""

    n: int
    """Subgroup size."""
    a2: Decimal
    """X-bar chart limits: grand mean ± A2·R-bar."""
    d3: Decimal
    """R chart lower limit factor: D3·R-bar."""
    d4: Decimal
    """R chart upper limit factor: D4·R-bar."""
    d2: Decimal
    """Mean of the relative range: sigma within = R-bar / d2."""
    a3: Decimal
    """X-bar chart limits from s-bar: grand mean ± A3·s-bar."""
    b3: Decimal
    """s chart lower limit factor."""
    b4: Decimal
    """s chart upper limit factor."""
    c4: Decimal
    """Bias correction of the sample standard deviation: sigma = s-bar / c4."""
    e2: Decimal
    """Individuals chart limits: mean ± E2·MR-bar (for n = 2, the moving range span)."""


_TABLE = """
2  1.880 0     3.267 1.128 2.659 0     3.267 0.7979 2.660
3  1.023 0     2.574 1.693 1.954 0     2.568 0.8862 1.772
4  0.729 0     2.282 2.059 1.628 0     2.266 0.9213 1.457
5  0.577 0     2.114 2.326 1.427 0     2.089 0.9400 1.290
6  0.483 0     2.004 2.534 1.287 0.030 1.970 0.9515 1.184
7  0.419 0.076 1.924 2.704 1.182 0.118 1.882 0.9594 1.109
8  0.373 0.136 1.864 2.847 1.099 0.185 1.815 0.9650 1.054
9  0.337 0.184 1.816 2.970 1.032 0.239 1.761 0.9693 1.010
10 0.308 0.223 1.777 3.078 0.975 0.284 1.716 0.9727 0.975
"""

CONSTANTS: dict[int, ChartConstants] = {}
for _line in _TABLE.strip().splitlines():
    _n, *_rest = _line.split()
    CONSTANTS[int(_n)] = ChartConstants(int(_n), *(Decimal(v) for v in _rest))

MIN_SUBGROUP = 2
"""Smallest subgroup size of an X-bar/R chart."""
MAX_SUBGROUP = 10
"""Largest subgroup size of an X-bar/R chart (the published table stops there)."""


def constants(n: int) -> ChartConstants:
    """The constants for subgroup size ``n`` (2..10); ValueError outside the table."""
    try:
        return CONSTANTS[n]
    except KeyError:
        raise ValueError(
            f"subgroup size {n} is outside the published table ({MIN_SUBGROUP}..{MAX_SUBGROUP})"
        ) from None
