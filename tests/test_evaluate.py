"""Verdicts: exact, inclusive, absolute limits; units; one-sided; guard bands; implausible."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inspect_station.errors import ImplausibleReading, ReadingError
from inspect_station.evaluate import Verdict, Zone, evaluate, parse_reading
from inspect_station.spec import PartSpec


def part(unit: str = "mm", **characteristic) -> PartSpec:
    """A one-characteristic spec for table rows."""
    ch = {"id": "1", "name": "Feature", **characteristic}
    return PartSpec.model_validate(
        {"part_number": "T", "revision": "A", "unit": unit, "characteristic": [ch]}
    )


TOL = part(nominal="25.00", tolerance=["-0.05", "0.05"], decimals=2)
ABS = part(lower="24.95", upper="25.05")
MAX = part(max="0.05")
MIN = part(min="3.5", decision={"rule": "custom", "guard": "0.03", "uncertainty": "0.02"})
GUARD = part(
    nominal="12.000",
    tolerance=["0", "0.018"],
    decision={"rule": "guard-band", "uncertainty": "0.002"},
)
INCH = part(unit="in", nominal="1.0000", tolerance=["-0.0005", "0.0005"])
ROUND = part(
    unit="in", nominal="8.500", tolerance=["-0.010", "0.010"], decimals=3, rounding="astm-e29"
)
ANGLE = part(unit="deg", nominal="45", tolerance=["-1", "1"])
MICRON = part(unit="um", max="0.8")

# spec, reading, unit, verdict, zone, limit broken / guard entered, deviation
CASES = [
    # simple acceptance, inclusive limits, one digit past
    (TOL, "25.05", "mm", "pass", "inside", None, "+0.05"),
    (TOL, "25.0500", "mm", "pass", "inside", None, "+0.05"),
    (TOL, "25.0501", "mm", "fail", "outside", "upper", "+0.0501"),
    (TOL, "24.95", "mm", "pass", "inside", None, "-0.05"),
    (TOL, "24.9499", "mm", "fail", "outside", "lower", "-0.0501"),
    (TOL, "+25.00", "mm", "pass", "inside", None, "0.00"),
    (TOL, "25", None, "pass", "inside", None, "0.00"),
    (ABS, "25.05", "mm", "pass", "inside", None, None),
    (ABS, "25.051", "mm", "fail", "outside", "upper", None),
    # inch reading against a mm spec: 1 in = 25.4 mm exactly
    (TOL, "0.9843", "in", "pass", "inside", None, "+0.00122"),
    (TOL, "0.98622", "in", "pass", "inside", None, "+0.049988"),
    (TOL, "0.98623", "in", "fail", "outside", "upper", "+0.050242"),
    (TOL, "0.98425", "in", "pass", "inside", None, "-0.00005"),
    # mm reading against an inch spec
    (INCH, "25.4127", "mm", "pass", "inside", None, "+0.0005"),
    (INCH, "25.41271", "mm", "fail", "outside", "upper", "+0.0005004"),
    (INCH, "25.3873", "mm", "pass", "inside", None, "-0.0005"),
    (INCH, "1.0005", "in", "pass", "inside", None, "+0.0005"),
    (INCH, "1.00051", "in", "fail", "outside", "upper", "+0.00051"),
    # one-sided: only a maximum (0 is a natural boundary, not a limit)
    (MAX, "0.05", "mm", "pass", "inside", None, None),
    (MAX, "0.000", "mm", "pass", "inside", None, None),
    (MAX, "0.0501", "mm", "fail", "outside", "upper", None),
    (MAX, "50", "um", "pass", "inside", None, None),
    (MAX, "50.1", "um", "fail", "outside", "upper", None),
    # one-sided minimum with a custom guard band of 0.03
    (MIN, "3.53", "mm", "pass", "inside", None, None),
    (MIN, "3.529", "mm", "fail", "guard-band", "lower", None),
    (MIN, "3.5", "mm", "fail", "guard-band", "lower", None),
    (MIN, "3.499", "mm", "fail", "outside", "lower", None),
    (MIN, "99", "mm", "pass", "inside", None, None),
    # guard band U = 0.002 at both existing limits: acceptance zone [12.002, 12.016]
    (GUARD, "12.002", "mm", "pass", "inside", None, "+0.002"),
    (GUARD, "12.016", "mm", "pass", "inside", None, "+0.016"),
    (GUARD, "12.0161", "mm", "fail", "guard-band", "upper", "+0.0161"),
    (GUARD, "12.018", "mm", "fail", "guard-band", "upper", "+0.018"),
    (GUARD, "12.001", "mm", "fail", "guard-band", "lower", "+0.001"),
    (GUARD, "12.000", "mm", "fail", "guard-band", "lower", "0.000"),
    (GUARD, "12.0181", "mm", "fail", "outside", "upper", "+0.0181"),
    (GUARD, "11.999", "mm", "fail", "outside", "lower", "-0.001"),
    # opt-in ASTM E29 rounding to 0.001, half to even
    (ROUND, "8.5105", "in", "pass", "inside", None, "+0.0105"),
    (ROUND, "8.5115", "in", "fail", "outside", "upper", "+0.0115"),
    (ROUND, "8.4895", "in", "pass", "inside", None, "-0.0105"),
    (ROUND, "8.4885", "in", "fail", "outside", "lower", "-0.0115"),
    (ROUND, "8.4905", "in", "pass", "inside", None, "-0.0095"),
    # angles
    (ANGLE, "46", "deg", "pass", "inside", None, "+1"),
    (ANGLE, "46.01", "deg", "fail", "outside", "upper", "+1.01"),
    (ANGLE, "2640", "arcmin", "pass", "inside", None, "-1"),
    # micrometres
    (MICRON, "0.80", None, "pass", "inside", None, None),
    (MICRON, "0.81", "µm", "fail", "outside", "upper", None),
]


@pytest.mark.parametrize(
    ("spec", "reading", "unit", "verdict", "zone", "limit", "deviation"), CASES
)
def test_verdict_table(spec, reading, unit, verdict, zone, limit, deviation):
    result = evaluate(reading, unit, spec.characteristic[0], spec)
    assert result.verdict is Verdict(verdict)
    assert result.zone is Zone(zone)
    assert result.limit == limit
    assert result.deviation == deviation
    assert result.value == reading  # recorded exactly as measured


def test_exceeds_by_is_exact():
    result = evaluate("25.0501", "mm", TOL.characteristic[0], TOL)
    assert result.exceeds_by == "0.0001"
    result = evaluate("0.98623", "in", TOL.characteristic[0], TOL)
    assert result.value_in_spec_unit == "25.050242"
    assert result.exceeds_by == "0.000242"


def test_decision_rule_and_limits_are_recorded():
    result = evaluate("12.010", "mm", GUARD.characteristic[0], GUARD)
    assert result.decision_rule == {"rule": "guard-band", "uncertainty": "0.002", "guard": "0.002"}
    assert result.limits == {
        "nominal": "12.000",
        "lower": "12.000",
        "upper": "12.018",
        "unit": "mm",
    }
    simple = evaluate("25.00", "mm", TOL.characteristic[0], TOL)
    assert simple.decision_rule == {"rule": "simple"}


@pytest.mark.parametrize(
    "bad", ["abc", "", "1.2.3", "NaN", "inf", "-Infinity", "1e", "12,5", "0x10"]
)
def test_not_a_number_is_refused(bad):
    with pytest.raises(ReadingError):
        evaluate(bad, "mm", TOL.characteristic[0], TOL)


def test_float_is_refused_on_the_way_to_a_verdict():
    with pytest.raises(ReadingError, match="decimal string"):
        parse_reading(25.05)  # type: ignore[arg-type]


def test_implausible_reading_is_refused_not_failed(bracket):
    ch = bracket.get("1")
    with pytest.raises(ImplausibleReading, match="not a plausible reading"):
        evaluate("12.005", "mm", ch, bracket)  # the bore gauge's value on the length
    with pytest.raises(ImplausibleReading):
        evaluate("140.001", "mm", ch, bracket)
    assert evaluate("140", "mm", ch, bracket).verdict is Verdict.FAIL  # inclusive edge


@pytest.mark.parametrize(("unit", "message"), [("cm", "Unknown unit"), ("deg", "specified in mm")])
def test_wrong_unit_is_refused(unit, message):
    with pytest.raises(ReadingError, match=message):
        evaluate("25", unit, TOL.characteristic[0], TOL)


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("pass", "pass"),
        ("OK", "pass"),
        ("go", "pass"),
        ("fail", "fail"),
        ("NOK", "fail"),
        ("nogo", "fail"),
    ],
)
def test_attribute_verdicts(bracket, answer, verdict):
    result = evaluate(answer, None, bracket.get("4"), bracket)
    assert result.verdict is Verdict(verdict)
    assert result.value == verdict


def test_attribute_needs_pass_or_fail(bracket):
    with pytest.raises(ReadingError, match="answer pass or fail"):
        evaluate("12.0", None, bracket.get("4"), bracket)


def test_no_float_in_the_module():
    import inspect

    import inspect_station.evaluate as module

    source = inspect.getsource(module)
    assert "float(" not in source


def test_parse_keeps_every_digit():
    assert parse_reading("25.05010000") == Decimal("25.05010000")
    assert str(parse_reading("-.5725")) == "-0.5725"
