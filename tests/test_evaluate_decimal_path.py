"""The integer (decimal) path of ``evaluate`` judges and writes exactly what the rational path
does: the same verdict, zone, limit, excess, deviation and texts, or the same refusal, for any
reading and any characteristic whose limits are decimals in the spec's unit."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numberkit import decimal_text
from propertykit import examples

from inspect_station import evaluate as evaluate_module
from inspect_station.errors import InspectStationError
from inspect_station.evaluate import Evaluation, Verdict, Zone, evaluate
from inspect_station.spec import PartSpec


def decimal(digits: int = 8, signed: bool = True) -> st.SearchStrategy[str]:
    """A number of the grammar with up to ``digits`` digits and up to 6 places."""
    return st.builds(
        decimal_text,
        st.sampled_from(["", "-"] if signed else [""]),
        st.integers(0, 10**digits - 1),
        st.integers(0, 6),
    )


@st.composite
def characteristics(draw: st.DrawFn) -> dict:
    """A variable characteristic of any shape the spec allows: nominal and tolerance, a one-
    sided max or min, or explicit limits; a guard band or not; a plausible range or not; a
    reading step with or without rounding (rounding goes the rational way)."""
    shape = draw(st.sampled_from(["tolerance", "max", "min", "limits"]))
    char: dict = {}
    if shape == "tolerance":
        low = Decimal(draw(decimal(4, signed=False)))
        high = Decimal(draw(decimal(4, signed=False)))
        char = {"nominal": draw(decimal()), "tolerance": [str(-low), str(high)]}
    elif shape in ("max", "min"):
        char = {shape: draw(decimal())}
    else:
        a, b = sorted(Decimal(draw(decimal())) for _ in range(2))
        char = {"lower": str(a), "upper": str(b)}
        if draw(st.booleans()):
            char["nominal"] = str((a + b) / 2)
    if draw(st.booleans()):
        char["decision"] = {"rule": "guard-band", "uncertainty": draw(decimal(3, signed=False))}
    if draw(st.booleans()):
        a, b = sorted(Decimal(draw(decimal(9))) for _ in range(2))
        char["reasonable"] = [str(a), str(b)]
    step = draw(st.sampled_from([None, "decimals", "resolution"]))
    if step == "decimals":
        char["decimals"] = draw(st.integers(0, 5))
    elif step == "resolution":
        char["resolution"] = draw(st.sampled_from(["0.001", "0.005", "0.01", "0.5", "2"]))
    if step is not None and draw(st.booleans()):
        char["rounding"] = "astm-e29"
    return char


def spec_of(char: dict) -> PartSpec | None:
    """A released one-characteristic spec in mm, or None if the spec refuses the shape."""
    try:
        return PartSpec.model_validate(
            {
                "part_number": "P",
                "revision": "A",
                "status": "released",
                "unit": "mm",
                "characteristic": [{"id": "1", "name": "x", **char}],
            }
        )
    except ValueError:
        return None


def outcome(reading: str, unit: str | None, spec: PartSpec) -> Evaluation | tuple[str, str]:
    """What ``evaluate`` answers: the evaluation, or the refusal's type and message."""
    try:
        return evaluate(reading, unit, spec.characteristic[0], spec)
    except InspectStationError as exc:
        return type(exc).__name__, str(exc)


def rational_outcome(
    reading: str, unit: str | None, spec: PartSpec, monkeypatch: pytest.MonkeyPatch
) -> Evaluation | tuple[str, str]:
    """What the rational path answers: the same judge with the integer path turned off."""
    real = evaluate_module._judge

    def rational_judge(ch, spec_unit):  # type: ignore[no-untyped-def]
        return dataclasses.replace(real(ch, spec_unit), places_of_limits=None, scaled=())

    with monkeypatch.context() as patch:
        patch.setattr(evaluate_module, "_judge", rational_judge)
        return outcome(reading, unit, spec)


@settings(max_examples=examples(3000), deadline=None)
@given(
    char=characteristics(),
    reading=st.one_of(decimal(), decimal(12), st.sampled_from(["+1.5", "0", "-0", "1.500000"])),
    unit=st.sampled_from([None, "mm", "um", "in"]),
)
def test_the_integer_path_answers_what_the_rational_path_answers(
    char: dict, reading: str, unit: str | None
) -> None:
    spec = spec_of(char)
    if spec is None:
        return
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert outcome(reading, unit, spec) == rational_outcome(reading, unit, spec, monkeypatch)


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        ("120.012", (Verdict.PASS, Zone.INSIDE, None, None, "+0.012")),
        ("120.1", (Verdict.PASS, Zone.INSIDE, None, None, "+0.10")),
        ("120.1000001", (Verdict.FAIL, Zone.OUTSIDE, "upper", "0.0000001", "+0.1000001")),
        ("119.9", (Verdict.PASS, Zone.INSIDE, None, None, "-0.10")),
        ("119.89", (Verdict.FAIL, Zone.OUTSIDE, "lower", "0.01", "-0.11")),
        ("120", (Verdict.PASS, Zone.INSIDE, None, None, "0.00")),
    ],
)
def test_a_reading_with_more_places_than_its_limits_is_judged_and_written_exactly(
    reading: str, expected: tuple
) -> None:
    spec = spec_of({"nominal": "120.00", "tolerance": ["-0.10", "0.10"]})
    assert spec is not None
    result = evaluate(reading, None, spec.characteristic[0], spec)
    got = (result.verdict, result.zone, result.limit, result.exceeds_by, result.deviation)
    assert got == expected


def test_a_guard_band_is_judged_on_the_integer_path_as_on_the_rational_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = spec_of(
        {
            "nominal": "12.000",
            "tolerance": ["0.000", "0.018"],
            "decision": {"rule": "guard-band", "uncertainty": "0.002"},
        }
    )
    assert spec is not None
    for reading in ("12.001", "12.002", "12.0161", "12.016", "12.018", "12.0181", "11.9999"):
        result = outcome(reading, None, spec)
        assert result == rational_outcome(reading, None, spec, monkeypatch)
    inside_band = evaluate("12.0165", None, spec.characteristic[0], spec)
    assert (inside_band.zone, inside_band.limit, inside_band.exceeds_by) == (
        Zone.GUARD_BAND,
        "upper",
        "0.0005",
    )
