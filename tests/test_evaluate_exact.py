"""Judging is exact: for any reading and limits within the grammar the verdict is the one an
exact rational comparison gives, never one a rounded value gives."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numberkit import decimal_text
from propertykit import examples

from inspect_station.errors import ReadingError
from inspect_station.evaluate import Verdict, Zone, evaluate
from inspect_station.spec import PartSpec

# Exact factors to nanometres, written here independently of the module under test.
NM = {"mm": Fraction(10**6), "um": Fraction(10**3), "in": Fraction(25_400_000)}


def spec_of(char: dict, unit: str = "mm") -> PartSpec:
    """A released one-characteristic spec."""
    return PartSpec.model_validate(
        {
            "part_number": "P",
            "revision": "A",
            "status": "released",
            "unit": unit,
            "characteristic": [{"id": "1", "name": "x", **char}],
        }
    )


def test_a_limit_with_30_digits_is_inclusive_to_the_last_digit():
    # nominal + tolerance has 30 digits: a 28-digit context rounded the limit and failed the
    # reading that equals it.
    spec = spec_of({"nominal": "120.000000000000000000000000001", "tolerance": ["-0.1", "0.1"]})
    ch = spec.characteristic[0]
    assert str(ch.limits[1]) == "120.100000000000000000000000001"
    at_limit = evaluate("120.100000000000000000000000001", "mm", ch, spec)
    assert at_limit.verdict is Verdict.PASS
    above = evaluate("120.100000000000000000000000002", "mm", ch, spec)
    assert (above.verdict, above.exceeds_by) == (Verdict.FAIL, "0.000000000000000000000000001")


def test_the_61_digit_value_above_the_upper_limit_is_refused_not_passed(bracket):
    with pytest.raises(ReadingError, match="at most 30"):
        evaluate("120.1" + "0" * 55 + "1", "mm", bracket.get("1"), bracket)


def test_a_huge_reading_without_a_reasonable_range_fails_with_exact_excess():
    spec = spec_of({"max": "0.05"})
    result = evaluate("9" * 30, "mm", spec.characteristic[0], spec)
    assert result.verdict is Verdict.FAIL
    assert Fraction(Decimal(result.exceeds_by)) == Fraction("9" * 30) - Fraction("0.05")


def test_an_inch_reading_against_a_mm_limit_is_exact():
    spec = spec_of({"lower": "25.4", "upper": "25.4000000000000000000000000001"})
    ch = spec.characteristic[0]
    assert evaluate("1", "in", ch, spec).verdict is Verdict.PASS
    assert evaluate("1.00000000000000000000000000001", "in", ch, spec).verdict is Verdict.FAIL


def number(digits: int = 15, signed: bool = True) -> st.SearchStrategy[str]:
    """Texts of the grammar: optional sign, up to ``digits`` digits, up to 15 after the point."""
    return st.builds(
        decimal_text,
        st.sampled_from(["", "+", "-"] if signed else ["", "+"]),
        st.integers(0, 10**digits - 1),
        st.integers(0, min(15, digits - 1)),
    )


NUMBER = number()
UNSIGNED = number(signed=False)
GUARD = number(digits=4, signed=False)
UNITS = st.sampled_from(sorted(NM))
WAYS = st.sampled_from(["lower/upper", "tolerance", "min", "max"])


def oracle(reading, r_unit, lower, upper, guard, s_unit):
    """The verdict by exact rational comparison, from the texts alone."""
    r = Fraction(reading.strip()) * NM[r_unit] / NM[s_unit]
    lo = None if lower is None else Fraction(lower)
    hi = None if upper is None else Fraction(upper)
    g = Fraction(guard) if guard is not None else Fraction(0)
    if (lo is not None and r < lo) or (hi is not None and r > hi):
        return Zone.OUTSIDE
    if g and ((lo is not None and r < lo + g) or (hi is not None and r > hi - g)):
        return Zone.GUARD_BAND
    return Zone.INSIDE


@st.composite
def case(draw):
    """A characteristic (limits one of four ways, maybe a guard band) and a reading."""
    s_unit = draw(UNITS)
    r_unit = s_unit if draw(st.booleans()) else draw(UNITS)
    a, b = draw(NUMBER), draw(NUMBER)
    lo_text, hi_text = sorted((a, b), key=Fraction)
    way = draw(WAYS)
    if way == "tolerance":
        nominal = draw(UNSIGNED)
        low_dev = draw(UNSIGNED)
        high_dev = draw(UNSIGNED)
        char = {"nominal": nominal, "tolerance": [f"-{low_dev.lstrip('+')}", high_dev]}
        lower = str(Fraction(nominal) - Fraction(low_dev))
        upper = str(Fraction(nominal) + Fraction(high_dev))
    elif way == "lower/upper":
        char, lower, upper = {"lower": lo_text, "upper": hi_text}, lo_text, hi_text
    elif way == "min":
        char, lower, upper = {"min": a}, a, None
    else:
        char, lower, upper = {"max": a}, None, a
    guard = None
    if draw(st.booleans()):
        guard = draw(GUARD)
        span = None if None in (lower, upper) else Fraction(upper) - Fraction(lower)
        if span is not None and 2 * Fraction(guard) >= span:
            guard = None
        else:
            char["decision"] = {"rule": "custom", "guard": guard}
    reading = draw(NUMBER)
    limit = lower if lower is not None else upper
    if draw(st.booleans()) and limit is not None and "/" not in limit:
        reading = limit  # exactly at a limit: inclusive
    return char, s_unit, reading, r_unit, (lower, upper, guard)


def judge_and_compare(char, s_unit, reading, r_unit, expected) -> None:
    """Evaluate through the station and compare with the oracle."""
    lower, upper, guard = expected
    spec = spec_of(char, s_unit)
    ch = spec.characteristic[0]
    result = evaluate(reading, r_unit, ch, spec)
    zone = oracle(reading, r_unit, lower, upper, guard, s_unit)
    assert result.zone is zone, (reading, r_unit, char, s_unit)
    assert result.passed is (zone is Zone.INSIDE)
    if ch.nominal is not None and r_unit == s_unit:
        exact = Fraction(reading.strip()) - Fraction(ch.nominal)
        assert Fraction(Decimal(result.deviation)) == exact


@settings(max_examples=examples(2000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case())
def test_the_verdict_equals_the_exact_rational_comparison(c):
    judge_and_compare(*c)
