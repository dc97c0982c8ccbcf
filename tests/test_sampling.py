"""ISO 2859-1 single sampling, normal inspection: every table cell against the reference text."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from decimal import Decimal

import pytest

from inspect_station.errors import SamplingError
from inspect_station.sampling import (
    AQLS,
    CODE_LETTERS,
    InspectionLevel,
    LotDecision,
    SamplingPlan,
    aql_column,
    code_letter_for,
    lot_decision,
    parse_level,
    remaining,
    sample_size_for,
    sampling_plan,
    table_2a_cell,
)

# The three tables below are copied as text from shared/reference/standards.md ("ISO 2859-1"). The
# module encodes them differently (Table 2-A is generated from its diagonal rule, Table 1 is stored
# column by column), so a slip in either shows up as a failing cell here.

REFERENCE_LOT_SIZE_TABLE = """\
| Lot size | S-1 | S-2 | S-3 | S-4 | I | II | III |
|---|---|---|---|---|---|---|---|
| 2–8 | A | A | A | A | A | A | B |
| 9–15 | A | A | A | A | A | B | C |
| 16–25 | A | A | B | B | B | C | D |
| 26–50 | A | B | B | C | C | D | E |
| 51–90 | B | B | C | C | C | E | F |
| 91–150 | B | B | C | D | D | F | G |
| 151–280 | B | C | D | E | E | G | H |
| 281–500 | B | C | D | E | F | H | J |
| 501–1200 | C | C | E | F | G | J | K |
| 1201–3200 | C | D | E | G | H | K | L |
| 3201–10000 | C | D | F | G | J | L | M |
| 10001–35000 | C | D | F | H | K | M | N |
| 35001–150000 | D | E | G | J | L | N | P |
| 150001–500000 | D | E | G | J | M | P | Q |
| ≥ 500001 | D | E | H | K | N | Q | R |
"""

REFERENCE_SAMPLE_SIZES = """\
Code letter → sample size: A 2, B 3, C 5, D 8, E 13, F 20, G 32, H 50, J 80, K 125, L 200, M 315,
N 500, P 800, Q 1250, R 2000.
"""

REFERENCE_TABLE_2A = """\
L    n   0.065   0.10   0.15   0.25   0.40   0.65    1.0    1.5    2.5    4.0    6.5     10
A     2       v      v      v      v      v      v      v      v      v      v    0/1      v
B     3       v      v      v      v      v      v      v      v      v    0/1      ^      v
C     5       v      v      v      v      v      v      v      v    0/1      ^      v    1/2
D     8       v      v      v      v      v      v      v    0/1      ^      v    1/2    2/3
E    13       v      v      v      v      v      v    0/1      ^      v    1/2    2/3    3/4
F    20       v      v      v      v      v    0/1      ^      v    1/2    2/3    3/4    5/6
G    32       v      v      v      v    0/1      ^      v    1/2    2/3    3/4    5/6    7/8
H    50       v      v      v    0/1      ^      v    1/2    2/3    3/4    5/6    7/8  10/11
J    80       v      v    0/1      ^      v    1/2    2/3    3/4    5/6    7/8  10/11  14/15
K   125       v    0/1      ^      v    1/2    2/3    3/4    5/6    7/8  10/11  14/15  21/22
L   200     0/1      ^      v    1/2    2/3    3/4    5/6    7/8  10/11  14/15  21/22      ^
M   315       ^      v    1/2    2/3    3/4    5/6    7/8  10/11  14/15  21/22      ^      ^
N   500       v    1/2    2/3    3/4    5/6    7/8  10/11  14/15  21/22      ^      ^      ^
P   800     1/2    2/3    3/4    5/6    7/8  10/11  14/15  21/22      ^      ^      ^      ^
Q  1250     2/3    3/4    5/6    7/8  10/11  14/15  21/22      ^      ^      ^      ^      ^
R  2000     3/4    5/6    7/8  10/11  14/15  21/22      ^      ^      ^      ^      ^      ^
"""


def _parse_lot_size_table(text: str) -> list[tuple[int, int | None, dict[str, str]]]:
    """Reference Table 1 rows: (smallest lot, largest lot or None if open, letter by level)."""
    header, _rule, *lines = text.splitlines()
    levels = [cell.strip() for cell in header.strip().strip("|").split("|")][1:]
    rows = []
    for line in lines:
        lots, *letters = (cell.strip() for cell in line.strip().strip("|").split("|"))
        if lots.startswith("≥"):
            low, high = int(lots.removeprefix("≥")), None
        else:
            low_text, high_text = lots.split("–")
            low, high = int(low_text), int(high_text)
        rows.append((low, high, dict(zip(levels, letters, strict=True))))
    return rows


def _parse_sample_sizes(text: str) -> dict[str, int]:
    """Code letter -> sample size from the reference sentence "A 2, B 3, ..."."""
    pairs = text.split(":", 1)[1].replace("\n", " ").strip().rstrip(".").split(",")
    return {letter: int(size) for letter, size in (pair.split() for pair in pairs)}


def _parse_table_2a(text: str) -> tuple[list[str], dict[str, int], dict[tuple[str, str], object]]:
    """The reference Table 2-A: AQL headers, n by letter, and each cell ("v", "^" or (Ac, Re))."""
    header, *lines = text.splitlines()
    aqls = header.split()[2:]
    sizes: dict[str, int] = {}
    cells: dict[tuple[str, str], object] = {}
    for line in lines:
        letter, size, *row = line.split()
        sizes[letter] = int(size)
        for aql, cell in zip(aqls, row, strict=True):
            if cell in ("v", "^"):
                cells[letter, aql] = cell
            else:
                accept, reject = cell.split("/")
                cells[letter, aql] = (int(accept), int(reject))
    return aqls, sizes, cells


LOT_ROWS = _parse_lot_size_table(REFERENCE_LOT_SIZE_TABLE)
SAMPLE_SIZES = _parse_sample_sizes(REFERENCE_SAMPLE_SIZES)
TABLE_AQLS, TABLE_SIZES, TABLE_CELLS = _parse_table_2a(REFERENCE_TABLE_2A)
TABLE_LETTERS = list(TABLE_SIZES)
LEVELS = ["S-1", "S-2", "S-3", "S-4", "I", "II", "III"]


def _reference_plan(letter: str, aql: str) -> tuple[str, int, int]:
    """(plan letter, Ac, Re) reached by walking the reference table's arrows one row at a time."""
    row = TABLE_LETTERS.index(letter)
    for _ in TABLE_LETTERS:
        cell = TABLE_CELLS[TABLE_LETTERS[row], aql]
        if not isinstance(cell, str):
            accept, reject = cell  # type: ignore[misc]
            return TABLE_LETTERS[row], accept, reject
        row += 1 if cell == "v" else -1
    raise AssertionError(f"the reference arrows from {letter}/{aql} do not reach a plan")


def _lot_for_letter(letter: str) -> tuple[int, str]:
    """The smallest lot size (and its level, II preferred) that Table 1 gives this code letter."""
    for level in ("II", "III"):
        for low, _high, letters in LOT_ROWS:
            if letters[level] == letter:
                return low, level
    raise AssertionError(f"no lot size gives code letter {letter}")


def test_reference_tables_parsed_completely() -> None:
    assert len(LOT_ROWS) == 15
    assert list(SAMPLE_SIZES) == list(CODE_LETTERS) == TABLE_LETTERS
    assert len(TABLE_CELLS) == 16 * 12


def test_aql_columns_match_reference_header() -> None:
    assert list(AQLS) == TABLE_AQLS


# --- Table 1: lot size -> code letter, every level, both ends of every range --------------------

TABLE_1_CASES = [
    pytest.param(lot, level, letters[level], id=f"{level}-{lot}")
    for low, high, letters in LOT_ROWS
    for lot in (low, high if high is not None else 10**9)
    for level in LEVELS
]


@pytest.mark.parametrize(("lot_size", "level", "letter"), TABLE_1_CASES)
def test_code_letter_for_every_level_and_range_end(lot_size: int, level: str, letter: str) -> None:
    assert code_letter_for(lot_size, level) == letter


@pytest.mark.parametrize("level", LEVELS)
def test_lot_of_one_reads_the_first_row(level: str) -> None:
    assert code_letter_for(1, level) == LOT_ROWS[0][2][level]


# --- Code letter -> sample size ---------------------------------------------------------------


@pytest.mark.parametrize(("letter", "size"), list(SAMPLE_SIZES.items()))
def test_sample_size_for_code_letter(letter: str, size: int) -> None:
    assert sample_size_for(letter) == size
    assert TABLE_SIZES[letter] == size  # the n column of Table 2-A says the same


# --- Table 2-A: every cell --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("letter", "aql", "cell"),
    [
        pytest.param(letter, aql, cell, id=f"{letter}-{aql}")
        for (letter, aql), cell in TABLE_CELLS.items()
    ],
)
def test_table_2a_cell_matches_reference(letter: str, aql: str, cell: object) -> None:
    assert table_2a_cell(letter, aql) == cell


@pytest.mark.parametrize(
    ("letter", "aql"),
    [pytest.param(letter, aql, id=f"{letter}-{aql}") for letter, aql in TABLE_CELLS],
)
def test_plan_for_every_cell_follows_reference_arrows(letter: str, aql: str) -> None:
    lot_size, level = _lot_for_letter(letter)
    plan_letter, accept, reject = _reference_plan(letter, aql)
    plan_size = SAMPLE_SIZES[plan_letter]

    plan = sampling_plan(lot_size, level, aql)

    assert (plan.code_letter, plan.plan_letter) == (letter, plan_letter)
    assert (plan.accept, plan.reject) == (accept, reject)
    assert plan.sample_size == min(plan_size, lot_size)
    assert plan.hundred_percent is (plan_size >= lot_size)


# --- Whole plans, written out by hand ---------------------------------------------------------

# lot, level, AQL -> code letter, plan letter, n, Ac, Re, 100 %
PLAN_CASES = [
    pytest.param(1000, "II", "1.0", "J", "J", 80, 2, 3, False, id="worked-example-1"),
    pytest.param(500, "II", "0.65", "H", "J", 80, 1, 2, False, id="worked-example-2-arrow-down"),
    pytest.param(5, "II", "10", "A", "C", 5, 1, 2, True, id="lot-5-hundred-percent"),
    pytest.param(2, "II", "10", "A", "C", 2, 1, 2, True, id="lot-2-hundred-percent"),
    pytest.param(1, "II", "6.5", "A", "A", 1, 0, 1, True, id="lot-1"),
    pytest.param(8, "II", "6.5", "A", "A", 2, 0, 1, False, id="row-A-own-plan"),
    pytest.param(20, "II", "0.065", "C", "L", 20, 0, 1, True, id="far-down-to-L"),
    pytest.param(200, "II", "0.065", "G", "L", 200, 0, 1, True, id="n-equals-lot"),
    pytest.param(201, "II", "0.065", "G", "L", 200, 0, 1, False, id="n-one-below-lot"),
    pytest.param(8, "III", "1.5", "B", "D", 8, 0, 1, True, id="III-two-rows-down-equals-lot"),
    pytest.param(9, "III", "1.5", "C", "D", 8, 0, 1, False, id="III-down-below-lot"),
    pytest.param(3201, "II", "10", "L", "K", 125, 21, 22, False, id="arrow-up-to-21/22"),
    pytest.param(10001, "II", "0.065", "M", "L", 200, 0, 1, False, id="arrow-up-to-0/1"),
    pytest.param(35001, "II", "0.065", "N", "P", 800, 1, 2, False, id="arrow-down-to-1/2"),
    pytest.param(500001, "III", "1.0", "R", "Q", 1250, 21, 22, False, id="last-row-arrow-up"),
    pytest.param(500001, "III", "0.065", "R", "R", 2000, 3, 4, False, id="last-row-own-plan"),
    pytest.param(10**7, "II", "0.40", "Q", "Q", 1250, 10, 11, False, id="huge-lot"),
    pytest.param(1000, "S-1", "4.0", "C", "B", 3, 0, 1, False, id="S-1-arrow-up"),
    pytest.param(1000, "S-4", "2.5", "F", "F", 20, 1, 2, False, id="S-4-own-column"),
    pytest.param(1000, "I", "2.5", "G", "G", 32, 2, 3, False, id="I-own-column"),
    pytest.param(1000, "III", "2.5", "K", "K", 125, 7, 8, False, id="III-own-column"),
]


@pytest.mark.parametrize(
    ("lot_size", "level", "aql", "code", "plan_letter", "n", "accept", "reject", "hundred"),
    PLAN_CASES,
)
def test_sampling_plan(
    lot_size: int,
    level: str,
    aql: str,
    code: str,
    plan_letter: str,
    n: int,
    accept: int,
    reject: int,
    hundred: bool,
) -> None:
    assert sampling_plan(lot_size, level, aql) == SamplingPlan(
        lot_size=lot_size,
        level=InspectionLevel(level),
        aql=aql,
        code_letter=code,
        plan_letter=plan_letter,
        sample_size=n,
        accept=accept,
        reject=reject,
        hundred_percent=hundred,
    )


def test_plan_is_frozen() -> None:
    plan = sampling_plan(1000, "II", "1.0")
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.accept = 5  # type: ignore[misc]


# --- Accepted spellings of AQL and level ------------------------------------------------------


@pytest.mark.parametrize(
    ("aql", "column"),
    [
        ("1", "1.0"),
        ("1.0", "1.0"),
        ("1.00", "1.0"),
        (Decimal("1"), "1.0"),
        (Decimal("0.1"), "0.10"),
        ("0.1", "0.10"),
        (" 0.065 ", "0.065"),
        ("10.0", "10"),
        (Decimal("1E+1"), "10"),
        ("4", "4.0"),
        (4, "4.0"),
    ],
)
def test_aql_spellings(aql: object, column: str) -> None:
    assert aql_column(aql) == column  # type: ignore[arg-type]
    assert sampling_plan(1000, "II", aql).aql == column  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("II", InspectionLevel.II),
        ("ii", InspectionLevel.II),
        ("iii", InspectionLevel.III),
        (" s-3 ", InspectionLevel.S3),
        (InspectionLevel.I, InspectionLevel.I),
    ],
)
def test_level_spellings(level: str, expected: InspectionLevel) -> None:
    assert parse_level(level) is expected
    assert sampling_plan(1000, level, "1.0").level is expected


# --- Bad input: one clear sentence -------------------------------------------------------------

ALL_AQLS = "0.065, 0.10, 0.15, 0.25, 0.40, 0.65, 1.0, 1.5, 2.5, 4.0, 6.5, 10"
ALL_LEVELS = "S-1, S-2, S-3, S-4, I, II, III"


@pytest.mark.parametrize(
    ("lot_size", "level", "aql", "fragments"),
    [
        (0, "II", "1.0", ["Lot size 0 "]),
        (-5, "II", "1.0", ["Lot size -5 "]),
        (True, "II", "1.0", ["Lot size True "]),
        (12.0, "II", "1.0", ["Lot size 12.0 "]),
        ("100", "II", "1.0", ["Lot size '100' "]),
        (100, "IV", "1.0", ["level 'IV'", ALL_LEVELS]),
        (100, "S-5", "1.0", ["level 'S-5'", ALL_LEVELS]),
        (100, "S3", "1.0", ["level 'S3'", ALL_LEVELS]),
        (100, "", "1.0", ["level ''", ALL_LEVELS]),
        (100, None, "1.0", ["level None", ALL_LEVELS]),
        (100, "II", "0.3", ["AQL 0.3 is not in ISO 2859-1 Table 2-A", ALL_AQLS]),
        (100, "II", "0.010", ["AQL 0.010 is not in", ALL_AQLS]),
        (100, "II", "15", ["AQL 15 is not in", ALL_AQLS]),
        (100, "II", 100, ["AQL 100 is not in", ALL_AQLS]),
        (100, "II", Decimal("-1.0"), ["AQL -1.0 is not in", ALL_AQLS]),
        (100, "II", "abc", ["AQL 'abc' is not a number", ALL_AQLS]),
        (100, "II", "", ["AQL '' is not a number", ALL_AQLS]),
        (100, "II", Decimal("NaN"), ["is not a number", ALL_AQLS]),
        (100, "II", Decimal("sNaN"), ["is not a number", ALL_AQLS]),
        (100, "II", Decimal("Infinity"), ["is not a number", ALL_AQLS]),
        (100, "II", True, ["AQL True is not a number"]),
        (100, "II", 0.1, ["AQL 0.1 was given as a float", '"0.1"']),
    ],
)
def test_bad_input_raises_one_sentence(
    lot_size: object, level: object, aql: object, fragments: list[str]
) -> None:
    with pytest.raises(SamplingError) as raised:
        sampling_plan(lot_size, level, aql)  # type: ignore[arg-type]
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message
    assert message.endswith(".")
    assert "\n" not in message


@pytest.mark.parametrize("letter", ["I", "O", "S", "a1", "AB", "", None])
def test_unknown_code_letter(letter: object) -> None:
    with pytest.raises(SamplingError, match="not an ISO 2859-1 sample size code letter"):
        table_2a_cell(letter, "1.0")  # type: ignore[arg-type]
    with pytest.raises(SamplingError, match="not an ISO 2859-1 sample size code letter"):
        sample_size_for(letter)  # type: ignore[arg-type]


# --- Lot decision -------------------------------------------------------------------------------

# Plans as (lot size, level, AQL), built inside each test so a broken table fails tests, not import.
PLAN_J = (1000, "II", "1.0")  # n 80, Ac 2, Re 3
PLAN_A = (8, "II", "6.5")  # n 2, Ac 0, Re 1
PLAN_ALL = (5, "II", "10")  # 100 %: n 5, Ac 1, Re 2

ACCEPT, REJECT, PENDING = LotDecision.ACCEPT, LotDecision.REJECT, LotDecision.PENDING


@pytest.mark.parametrize(
    ("plan", "inspected", "nonconforming", "decision"),
    [
        pytest.param(PLAN_J, 0, 0, PENDING, id="J-nothing-yet"),
        pytest.param(PLAN_J, 1, 0, PENDING, id="J-started"),
        pytest.param(PLAN_J, 79, 2, PENDING, id="J-one-left-at-Ac"),
        pytest.param(PLAN_J, 80, 0, ACCEPT, id="J-complete-clean"),
        pytest.param(PLAN_J, 80, 2, ACCEPT, id="J-complete-at-Ac"),
        pytest.param(PLAN_J, 80, 3, REJECT, id="J-complete-at-Re"),
        pytest.param(PLAN_J, 80, 80, REJECT, id="J-all-bad"),
        pytest.param(PLAN_J, 3, 3, REJECT, id="J-Re-reached-early"),
        pytest.param(PLAN_J, 79, 3, REJECT, id="J-Re-reached-one-left"),
        pytest.param(PLAN_A, 0, 0, PENDING, id="A-nothing-yet"),
        pytest.param(PLAN_A, 1, 0, PENDING, id="A-half"),
        pytest.param(PLAN_A, 1, 1, REJECT, id="A-first-bad-rejects"),
        pytest.param(PLAN_A, 2, 0, ACCEPT, id="A-complete-clean"),
        pytest.param(PLAN_A, 2, 1, REJECT, id="A-complete-one-bad"),
        pytest.param(PLAN_ALL, 4, 1, PENDING, id="all-one-left"),
        pytest.param(PLAN_ALL, 5, 1, ACCEPT, id="all-complete-at-Ac"),
        pytest.param(PLAN_ALL, 2, 2, REJECT, id="all-Re-reached-early"),
    ],
)
def test_lot_decision(
    plan: tuple[int, str, str], inspected: int, nonconforming: int, decision: LotDecision
) -> None:
    assert lot_decision(sampling_plan(*plan), inspected, nonconforming) is decision


@pytest.mark.parametrize(
    ("inspected", "nonconforming", "fragment"),
    [
        (81, 0, "81 items were inspected but the sample holds 80"),
        (4, 5, "5 nonconforming items cannot come from 4 inspected"),
        (-1, 0, "inspected count -1"),
        (10, -1, "nonconforming count -1"),
        (True, 0, "inspected count True"),
        (10, 1.0, "nonconforming count 1.0"),
    ],
)
def test_lot_decision_bad_counts(inspected: object, nonconforming: object, fragment: str) -> None:
    with pytest.raises(SamplingError, match=fragment):
        lot_decision(sampling_plan(*PLAN_J), inspected, nonconforming)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("plan", "inspected", "left"),
    [(PLAN_J, 0, 80), (PLAN_J, 79, 1), (PLAN_J, 80, 0), (PLAN_ALL, 0, 5), (PLAN_ALL, 3, 2)],
)
def test_remaining(plan: tuple[int, str, str], inspected: int, left: int) -> None:
    assert remaining(sampling_plan(*plan), inspected) == left


@pytest.mark.parametrize("inspected", [81, -1])
def test_remaining_bad_count(inspected: int) -> None:
    with pytest.raises(SamplingError):
        remaining(sampling_plan(*PLAN_J), inspected)


# --- Purity -------------------------------------------------------------------------------------


def test_module_does_not_load_textual() -> None:
    code = "import sys, inspect_station.sampling; print('textual' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
