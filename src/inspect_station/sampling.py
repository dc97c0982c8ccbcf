"""ISO 2859-1 single sampling plans for normal inspection, and the lot decision they give."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Literal, TypeAlias

from inspect_station.errors import SamplingError

__all__ = [
    "AQLS",
    "CODE_LETTERS",
    "Cell",
    "InspectionLevel",
    "LotDecision",
    "SamplingPlan",
    "aql_column",
    "code_letter_for",
    "lot_decision",
    "parse_level",
    "remaining",
    "sample_size_for",
    "sampling_plan",
    "table_2a_cell",
]


class InspectionLevel(StrEnum):
    """An ISO 2859-1 inspection level: the general levels I-III or a special level S-1..S-4."""

    S1 = "S-1"
    S2 = "S-2"
    S3 = "S-3"
    S4 = "S-4"
    I = "I"  # noqa: E741 - the standard's own name for the level
    II = "II"
    III = "III"


class LotDecision(StrEnum):
    """What the inspected part of a sample says about the lot so far."""

    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    PENDING = "PENDING"


Cell: TypeAlias = Literal["v", "^"] | tuple[int, int]
"""A cell of Table 2-A: an arrow ("v" the first plan below, "^" the first above) or (Ac, Re)."""

CODE_LETTERS = "ABCDEFGHJKLMNPQR"
"""The sample size code letters in table order (the standard skips I and O)."""

_SAMPLE_SIZES: tuple[int, ...] = (
    2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000,
)  # fmt: skip

AQLS: tuple[str, ...] = (
    "0.065", "0.10", "0.15", "0.25", "0.40", "0.65", "1.0", "1.5", "2.5", "4.0", "6.5", "10",
)  # fmt: skip
"""The AQL columns of Table 2-A, written as the standard writes them."""

_AQL_BY_VALUE: dict[Decimal, int] = {Decimal(label): j for j, label in enumerate(AQLS)}

# Table 1 (lot size -> code letter). Lot-size ranges by their largest lot; the last range is open.
# The table starts at lots of 2; a lot of 1 is read on the first row (and is inspected 100 %).
_LOT_UPPER_BOUNDS: tuple[int, ...] = (
    8, 15, 25, 50, 90, 150, 280, 500, 1200, 3200, 10000, 35000, 150000, 500000,
)  # fmt: skip

# One column of Table 1 per level, top (2-8) to bottom (>= 500001), one letter per range.
_LEVEL_COLUMNS: dict[InspectionLevel, str] = {
    InspectionLevel.S1: "AAAABBBBCCCCDDD",
    InspectionLevel.S2: "AAABBBCCCDDDEEE",
    InspectionLevel.S3: "AABBCCDDEEFFGGH",
    InspectionLevel.S4: "AABCCDEEFGGHJJK",
    InspectionLevel.I: "AABCCDEFGHJKLMN",
    InspectionLevel.II: "ABCDEFGHJKLMNPQ",
    InspectionLevel.III: "BCDEFGHJKLMNPQR",
}

# Table 2-A has a diagonal structure: with i the row (A=0 .. R=15) and j the AQL column
# (0.065=0 .. 10=11), every cell is fixed by i + j. Below 10 the plans lie further down; 10 is
# the zero-acceptance plan; 11 points back up to it; 12 points down to the first Ac >= 1 plan;
# 13 to 20 are the plans below; beyond 20 the table points up to the largest plan (21/22).
_ACCEPT_ON_DIAGONAL = {10: 0, 13: 1, 14: 2, 15: 3, 16: 5, 17: 7, 18: 10, 19: 14, 20: 21}


def _rule_cell(i: int, j: int) -> Cell:
    """The Table 2-A cell at row i, column j, generated from the diagonal rule."""
    diagonal = i + j
    if diagonal in _ACCEPT_ON_DIAGONAL:
        accept = _ACCEPT_ON_DIAGONAL[diagonal]
        return (accept, accept + 1)
    if diagonal < 10 or diagonal == 12:
        return "v"
    # diagonal 11 or above 20: the plan is above, unless there is no row above (row A).
    return "v" if i == 0 else "^"


_TABLE_2A: tuple[tuple[Cell, ...], ...] = tuple(
    tuple(_rule_cell(i, j) for j in range(len(AQLS))) for i in range(len(CODE_LETTERS))
)


@dataclass(frozen=True)
class SamplingPlan:
    """A single sampling plan for normal inspection of one lot, as ISO 2859-1 gives it."""

    lot_size: int
    """Number of items in the lot."""
    level: InspectionLevel
    """Inspection level the code letter was read at."""
    aql: str
    """AQL column used, written as the standard writes it (for example "1.0")."""
    code_letter: str
    """Sample size code letter for the lot size and level (Table 1)."""
    plan_letter: str
    """Letter whose plan is used after following the arrows of Table 2-A."""
    sample_size: int
    """Items to inspect: the plan's sample size, or the whole lot under 100 % inspection."""
    accept: int
    """Acceptance number Ac: accept the lot with at most this many nonconforming items."""
    reject: int
    """Rejection number Re: reject the lot once this many nonconforming items are found."""
    hundred_percent: bool
    """Whether the plan's sample size reached the lot size, so every item is inspected."""


def parse_level(level: InspectionLevel | str) -> InspectionLevel:
    """The inspection level named by ``level`` ("II", "s-3", ...), or SamplingError."""
    if isinstance(level, InspectionLevel):
        return level
    if isinstance(level, str):
        try:
            return InspectionLevel(level.strip().upper())
        except ValueError:
            pass
    names = ", ".join(member.value for member in InspectionLevel)
    raise SamplingError(
        f"Inspection level {level!r} is not an ISO 2859-1 level; use one of {names}."
    )


def aql_column(aql: Decimal | str | int) -> str:
    """The Table 2-A column label ("1.0") for an AQL given as Decimal or text ("1", "1.0")."""
    choices = ", ".join(AQLS)
    if isinstance(aql, float):
        raise SamplingError(
            f'AQL {aql} was given as a float; give it as text ("{aql}") or Decimal.'
        )
    value: Decimal | None = None
    if isinstance(aql, Decimal):
        value = aql
    elif isinstance(aql, str):
        try:
            value = Decimal(aql.strip())
        except InvalidOperation:
            value = None
    elif isinstance(aql, int) and not isinstance(aql, bool):
        value = Decimal(aql)
    if value is None or not value.is_finite():
        raise SamplingError(f"AQL {aql!r} is not a number; use one of {choices}.")
    if value not in _AQL_BY_VALUE:
        raise SamplingError(f"AQL {aql} is not in ISO 2859-1 Table 2-A; use one of {choices}.")
    return AQLS[_AQL_BY_VALUE[value]]


def _letter_index(code_letter: str) -> int:
    """Row index of a code letter in Table 2-A, or SamplingError."""
    if isinstance(code_letter, str) and len(code_letter.strip()) == 1:
        index = CODE_LETTERS.find(code_letter.strip().upper())
        if index >= 0:
            return index
    raise SamplingError(
        f"Code letter {code_letter!r} is not an ISO 2859-1 sample size code letter; "
        f"use one of {', '.join(CODE_LETTERS)}."
    )


MAX_LOT_SIZE = 1_000_000_000
"""Largest lot size accepted (Table 1's last row starts at 500,001; a billion is not a typo)."""


def check_lot_size(lot_size: int) -> int:
    """``lot_size`` if it is a whole number from 1 to MAX_LOT_SIZE; SamplingError otherwise."""
    if not isinstance(lot_size, int) or isinstance(lot_size, bool) or lot_size < 1:
        raise SamplingError(f"Lot size {lot_size!r} is not valid; a lot holds a whole number ≥ 1.")
    if lot_size > MAX_LOT_SIZE:
        raise SamplingError(f"A lot size larger than {MAX_LOT_SIZE:,} is not accepted.")
    return lot_size


def code_letter_for(lot_size: int, level: InspectionLevel | str) -> str:
    """The sample size code letter (Table 1) for a lot size at an inspection level."""
    check_lot_size(lot_size)
    column = _LEVEL_COLUMNS[parse_level(level)]
    for row, upper in enumerate(_LOT_UPPER_BOUNDS):
        if lot_size <= upper:
            return column[row]
    return column[-1]


def sample_size_for(code_letter: str) -> int:
    """The sample size belonging to a code letter (A 2, B 3, ... R 2000)."""
    return _SAMPLE_SIZES[_letter_index(code_letter)]


def table_2a_cell(code_letter: str, aql: Decimal | str | int) -> Cell:
    """The Table 2-A cell (single sampling, normal): "v", "^" or the (Ac, Re) pair."""
    return _TABLE_2A[_letter_index(code_letter)][AQLS.index(aql_column(aql))]


def _follow_arrows(row: int, column: int) -> int:
    """Row of the plan reached from a Table 2-A cell by following its arrow, if any."""
    cell = _TABLE_2A[row][column]
    if not isinstance(cell, str):
        return row
    step = 1 if cell == "v" else -1
    target = row + step
    while 0 <= target < len(CODE_LETTERS):
        if not isinstance(_TABLE_2A[target][column], str):
            return target
        target += step
    raise AssertionError(f"Table 2-A arrow at {CODE_LETTERS[row]}/{AQLS[column]} leads nowhere")


def sampling_plan(
    lot_size: int, level: InspectionLevel | str, aql: Decimal | str | int
) -> SamplingPlan:
    """The ISO 2859-1 single sampling plan, normal inspection, for a lot, level and AQL."""
    inspection_level = parse_level(level)
    letter = code_letter_for(lot_size, inspection_level)
    label = aql_column(aql)
    column = AQLS.index(label)
    plan_row = _follow_arrows(CODE_LETTERS.index(letter), column)
    plan_cell = _TABLE_2A[plan_row][column]
    assert not isinstance(plan_cell, str)  # _follow_arrows stops only on a plan
    accept, reject = plan_cell
    plan_size = _SAMPLE_SIZES[plan_row]
    return SamplingPlan(
        lot_size=lot_size,
        level=inspection_level,
        aql=label,
        code_letter=letter,
        plan_letter=CODE_LETTERS[plan_row],
        sample_size=min(plan_size, lot_size),
        accept=accept,
        reject=reject,
        hundred_percent=plan_size >= lot_size,
    )


def _check_counts(plan: SamplingPlan, inspected: int, nonconforming: int | None = None) -> None:
    """Raise SamplingError unless the counts fit the plan's sample."""
    counts = [("inspected", inspected)]
    if nonconforming is not None:
        counts.append(("nonconforming", nonconforming))
    for name, count in counts:
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise SamplingError(f"The {name} count {count!r} is not a whole number ≥ 0.")
    if inspected > plan.sample_size:
        raise SamplingError(
            f"{inspected} items were inspected but the sample holds {plan.sample_size}."
        )
    if nonconforming is not None and nonconforming > inspected:
        raise SamplingError(
            f"{nonconforming} nonconforming items cannot come from {inspected} inspected."
        )


def remaining(plan: SamplingPlan, inspected: int) -> int:
    """How many items of the sample are still to be inspected."""
    _check_counts(plan, inspected)
    return plan.sample_size - inspected


def lot_decision(plan: SamplingPlan, inspected: int, nonconforming: int) -> LotDecision:
    """Accept, reject or wait on the lot after inspecting part or all of the sample."""
    _check_counts(plan, inspected, nonconforming)
    if nonconforming >= plan.reject:
        return LotDecision.REJECT
    if inspected == plan.sample_size and nonconforming <= plan.accept:
        return LotDecision.ACCEPT
    return LotDecision.PENDING
