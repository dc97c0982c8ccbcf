"""How many examples a property test tries: fewer in the default run, every one in CI's second.

The default run (``pytest``) tries a tenth of each property's full count (at least 50), so it
stays quick; ``INSPECT_STATION_PROPERTIES=full pytest -m "slow or property"`` (CI's second
step, see ``.ci/run``) tries every property at its full count. The properties are the same in
both runs: only the number of examples differs. An exhaustive matrix of cases (every kind of
record times every kind of edit, say) is treated alike with ``cases``: a sample that still
tries every value of each axis by default, the whole product in the full run. Tests without a
count of their own follow the hypothesis profile the conftest loads (50 examples by default,
hypothesis' 100 when full).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

FULL = os.environ.get("INSPECT_STATION_PROPERTIES", "") == "full"
"""Whether this run tries every property at its full count (CI's second step)."""


def examples(full: int) -> int:
    """The number of examples to try of a property whose full count is ``full``."""
    return full if FULL else min(full, max(50, full // 10))


def cases(every: Sequence[T], sample: Sequence[T]) -> list[T]:
    """The cases of an exhaustive matrix to run: ``every`` one in the full run, ``sample`` (which
    should try each value of each axis at least once) in the default run.

    A test using it is marked ``property``, so CI's second step runs its whole matrix."""
    return list(every if FULL else sample)
