"""Reading + characteristic -> verdict: exact rational arithmetic, units, decision rules.

No float is involved anywhere, and nothing is rounded on the way to a verdict: the reading is
read by the one number grammar (:mod:`inspect_station.numbers`) from the exact decimal text the
gauge or the person gave, converted exactly to a base unit (nanometres, arc seconds) as a
:class:`~fractions.Fraction`, and compared with inclusive, absolute limits that are Fractions
too. Only the texts shown and recorded beside the verdict (a value converted to inches, say) may
be rounded, and only where the exact value has no finite decimal expansion.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from inspect_station.errors import ImplausibleReading, ReadingError
from inspect_station.numbers import (
    check_decimal,
    exact,
    fraction_text,
    parse_number,
    split_unit,
)
from inspect_station.spec.model import Characteristic, Kind, PartSpec
from inspect_station.units import convertible, factor, normalize_unit
from inspect_station.vocabulary import Verdict

_ATTRIBUTE_WORDS = {
    "pass": Verdict.PASS,
    "ok": Verdict.PASS,
    "go": Verdict.PASS,
    "good": Verdict.PASS,
    "fail": Verdict.FAIL,
    "nok": Verdict.FAIL,
    "nogo": Verdict.FAIL,
    "no-go": Verdict.FAIL,
    "bad": Verdict.FAIL,
}


def split_value(text: str) -> tuple[str, str | None]:
    """'4.725in' -> ('4.725', 'in'); '120.01' -> ('120.01', None); 'pass' -> ('pass', None)."""
    return split_unit(text)


class Zone(StrEnum):
    """Where the reading lies relative to the limits and guard bands."""

    INSIDE = "inside"
    """Inside the acceptance zone: conformance proven under the rule."""
    GUARD_BAND = "guard-band"
    """Within the limits but inside a guard band: conformance not proven, so not accepted."""
    OUTSIDE = "outside"
    """Beyond a specification limit."""


@dataclass(frozen=True)
class Evaluation:
    """The verdict on one reading and everything needed to record and explain it."""

    verdict: Verdict
    """pass or fail."""
    zone: Zone
    """inside, guard-band or outside."""
    value: str
    """The reading exactly as measured (attribute: pass/fail)."""
    unit: str | None
    """Unit of the reading as measured (None for attributes)."""
    spec_unit: str | None
    """Unit of the characteristic's limits."""
    value_in_spec_unit: str | None
    """The reading expressed in the spec's unit (exact where the conversion is exact)."""
    deviation: str | None
    """Reading minus nominal, in the spec's unit, when there is a nominal."""
    limit: str | None
    """Which limit was broken or whose guard band was entered: 'lower' or 'upper'."""
    exceeds_by: str | None
    """How far beyond the broken limit (or into the guard band) the reading lies."""
    decision_rule: dict[str, str]
    """The decision rule applied."""
    limits: dict[str, str | None]
    """The limits in force."""

    @property
    def passed(self) -> bool:
        """Whether the verdict is pass."""
        return self.verdict is Verdict.PASS

    def record(self) -> dict[str, object]:
        """The evaluation as it is written into the measurement record."""
        return {
            "value": self.value,
            "unit": self.unit,
            "value_in_spec_unit": self.value_in_spec_unit,
            "verdict": self.verdict.value,
            "zone": self.zone.value,
            "deviation": self.deviation,
            "limit": self.limit,
            "exceeds_by": self.exceeds_by,
            "decision_rule": self.decision_rule,
            "limits": self.limits,
        }


def parse_reading(text: str | Decimal) -> Decimal:
    """The reading as an exact Decimal; ReadingError if it is not a number of the grammar."""
    if isinstance(text, Decimal):
        return check_decimal(text)  # finite and within the grammar's bounds
    if not isinstance(text, str):
        raise ReadingError(
            f"A reading must be given as a decimal string, not {type(text).__name__}."
        )
    return parse_number(text)


@functools.lru_cache(maxsize=64)
def _scale(unit: str) -> Fraction:
    """The exact factor from ``unit`` to its dimension's base unit."""
    return exact(factor(unit))


@dataclass(frozen=True, slots=True)
class _Judge:
    """What judging a reading needs of a characteristic in its spec's unit, derived once: the
    limits, guard band, nominal and plausible range as exact rationals, and the texts every
    record of it carries. A characteristic is frozen, so none of this can change."""

    ch: Characteristic
    spec_scale: Fraction
    places: int
    reasonable: tuple[Fraction, Fraction] | None
    grain: Fraction | None
    lower: Fraction | None
    upper: Fraction | None
    lower_guarded: Fraction | None
    """The lower limit moved inward by the guard band (None without a lower limit or guard)."""
    upper_guarded: Fraction | None
    """The upper limit moved inward by the guard band (None without an upper limit or guard)."""
    nominal: Fraction | None
    decision_rule: dict[str, str]
    limits: dict[str, str | None]
    places_of_limits: int | None
    """The fewest decimal places that write every limit, guarded limit, the nominal and the
    plausible range exactly (all are decimals); None if one is not a finite decimal."""
    scaled: tuple[int | None, ...]
    """Those values as integers in units of ``10 ** -places_of_limits``: lower, upper, lower
    guarded, upper guarded, nominal, plausible low, plausible high (empty when ``places_of_limits``
    is None)."""


_MAX_PLACES = 80
"""More decimal places than any number of the grammar has: the decimal path's bound."""


def _places(value: Fraction) -> int | None:
    """The fewest decimal places that write ``value`` exactly; None if it has no finite
    decimal expansion (or more places than ``_MAX_PLACES``)."""
    denominator = value.denominator
    places = 0
    scale = 1
    while scale % denominator:
        places += 1
        if places > _MAX_PLACES:
            return None
        scale *= 10
    return places


def _scaled_limits(
    values: tuple[Fraction | None, ...],
) -> tuple[int | None, tuple[int | None, ...]]:
    """(places, the values as integers in units of ``10 ** -places``) or (None, ()) when one
    of them is not a finite decimal."""
    places = 0
    for value in values:
        if value is not None:
            own = _places(value)
            if own is None:
                return None, ()
            places = max(places, own)
    scale = 10**places
    return places, tuple(None if value is None else int(value * scale) for value in values)


def _derive(ch: Characteristic, spec_unit: str) -> _Judge:
    """The judge of a characteristic, computed from it as ``evaluate`` always did."""
    grain = None
    if ch.rounding == "astm-e29" and ch.step is not None:
        exponent = ch.step.as_tuple().exponent
        assert isinstance(exponent, int)
        grain = Fraction(10) ** exponent
    lower, upper = ch.exact_limits
    guard = exact(ch.decision.guard_width)
    reasonable = None
    if ch.reasonable is not None:
        reasonable = (exact(ch.reasonable[0]), exact(ch.reasonable[1]))
    lower_guarded = lower + guard if guard and lower is not None else None
    upper_guarded = upper - guard if guard and upper is not None else None
    nominal = None if ch.nominal is None else exact(ch.nominal)
    low, high = reasonable if reasonable is not None else (None, None)
    places_of_limits, scaled = _scaled_limits(
        (lower, upper, lower_guarded, upper_guarded, nominal, low, high)
    )
    return _Judge(
        ch=ch,
        spec_scale=_scale(spec_unit),
        places=ch.display_decimals,
        reasonable=reasonable,
        grain=grain,
        lower=lower,
        upper=upper,
        lower_guarded=lower_guarded,
        upper_guarded=upper_guarded,
        nominal=nominal,
        decision_rule=ch.decision.record(),
        limits=ch.limits_record(spec_unit),
        places_of_limits=places_of_limits,
        scaled=scaled,
    )


_JUDGES: dict[tuple[int, str], _Judge] = {}
"""(id of a characteristic, spec unit) -> its judge; the judge holds the characteristic, so
the id is not reused while the entry lives."""


def _judge(ch: Characteristic, spec_unit: str) -> _Judge:
    """The judge of ``ch`` in ``spec_unit``, derived on first use."""
    judge = _JUDGES.get((id(ch), spec_unit))
    if judge is None or judge.ch is not ch:
        if len(_JUDGES) >= 1024:  # specs reloaded again and again: start over
            _JUDGES.clear()
        judge = _JUDGES[(id(ch), spec_unit)] = _derive(ch, spec_unit)
    return judge


def evaluate(
    reading: str | Decimal, unit: str | None, ch: Characteristic, spec: PartSpec
) -> Evaluation:
    """Judge a variable reading (decimal string and unit) against a characteristic of ``spec``."""
    if ch.kind is Kind.ATTRIBUTE:
        return evaluate_attribute(str(reading), ch)
    spec_unit = spec.unit_of(ch)
    value = parse_reading(reading)
    reading_unit = spec_unit if unit is None or unit == "" else normalize_unit(unit)
    if reading_unit is None:
        raise ReadingError(f"Unknown unit {unit!r} for characteristic {ch.id} ({ch.name}).")
    if not convertible(reading_unit, spec_unit):
        raise ReadingError(
            f"A reading in {reading_unit} cannot be judged against characteristic {ch.id} "
            f"({ch.name}), which is specified in {spec_unit}."
        )
    judge = _judge(ch, spec_unit)
    places = judge.places
    shown_places = places + 3
    same_unit = reading_unit == spec_unit
    as_sent = reading.strip(" ") if isinstance(reading, str) else format(value, "f")
    # Everything below is in the spec's unit, exact: integers counting 10 ** -scale of it
    # when the reading and every limit are decimals in that unit and no rounding to a grain
    # applies (the common case: no rational arithmetic needed), else rationals (scale None).
    scale: int | None = None
    measured: Fraction | int
    if same_unit and judge.grain is None and judge.places_of_limits is not None:
        numerator, denominator = value.as_integer_ratio()
        scale = judge.places_of_limits
        unit_count = 10**scale
        while unit_count % denominator:  # the reading has more places than the limits
            scale += 1
            unit_count *= 10
        measured = numerator * (unit_count // denominator)
        up = 10 ** (scale - judge.places_of_limits)
        bounds = [None if b is None else b * up for b in judge.scaled]
        lower, upper, lower_guarded, upper_guarded, nominal, low, high = bounds
        reasonable = None if low is None or high is None else (low, high)
    else:
        measured = exact(value)
        if not same_unit:
            measured = measured * _scale(reading_unit) / judge.spec_scale
        lower, upper = judge.lower, judge.upper
        lower_guarded, upper_guarded = judge.lower_guarded, judge.upper_guarded
        nominal, reasonable = judge.nominal, judge.reasonable
    if reasonable is not None:
        low, high = reasonable
        if not low <= measured <= high:
            assert ch.reasonable is not None
            raise ImplausibleReading(
                f"{as_sent} {reading_unit} is not a plausible reading for characteristic "
                f"{ch.id} ({ch.name}, expected {ch.reasonable[0]}..{ch.reasonable[1]} "
                f"{spec_unit}): check the gauge and the characteristic."
            )
    judged = measured
    if judge.grain is not None:
        grain = judge.grain
        judged = round(measured / grain) * grain  # Fraction rounds half to even
    zone, limit, excess = Zone.INSIDE, None, None
    if lower is not None and judged < lower:
        zone, limit, excess = Zone.OUTSIDE, "lower", lower - judged
    elif upper is not None and judged > upper:
        zone, limit, excess = Zone.OUTSIDE, "upper", judged - upper
    elif lower_guarded is not None and judged < lower_guarded:
        zone, limit, excess = Zone.GUARD_BAND, "lower", lower_guarded - judged
    elif upper_guarded is not None and judged > upper_guarded:
        zone, limit, excess = Zone.GUARD_BAND, "upper", judged - upper_guarded
    deviation = None
    if nominal is not None:
        offset = measured - nominal
        deviation = _text(offset, scale, places, shown_places)
        if not deviation.startswith("-") and offset != 0:
            deviation = f"+{deviation}"
    return Evaluation(
        verdict=Verdict.PASS if zone is Zone.INSIDE else Verdict.FAIL,
        zone=zone,
        value=as_sent,
        unit=reading_unit,
        spec_unit=spec_unit,
        value_in_spec_unit=(
            as_sent.lstrip("+") if same_unit else _text(measured, scale, places, shown_places)
        ),
        deviation=deviation,
        limit=limit,
        exceeds_by=None if excess is None else _text(excess, scale, places, shown_places),
        decision_rule=dict(judge.decision_rule),
        limits=dict(judge.limits),
    )


def _text(value: Fraction | int, scale: int | None, min_decimals: int, max_decimals: int) -> str:
    """``fraction_text`` of a value: a rational (``scale`` None) or an integer counting
    ``10 ** -scale`` (written exactly, as ``fraction_text`` writes every finite decimal)."""
    if scale is None:
        assert isinstance(value, Fraction)
        return fraction_text(value, min_decimals, max_decimals)
    digits = str(abs(value)).rjust(scale + 1, "0")
    whole, frac = (digits[:-scale], digits[-scale:].rstrip("0")) if scale else (digits, "")
    if len(frac) < min_decimals:
        frac = frac.ljust(min_decimals, "0")
    text = f"{whole}.{frac}" if frac else whole
    return f"-{text}" if value < 0 else text


def evaluate_attribute(result: str, ch: Characteristic) -> Evaluation:
    """Judge an attribute characteristic from pass/fail (ok/nok, go/nogo)."""
    word = _ATTRIBUTE_WORDS.get(result.strip().lower())
    if word is None:
        raise ReadingError(
            f"Characteristic {ch.id} ({ch.name}) is an attribute: answer pass or fail, "
            f"not {result!r}."
        )
    verdict = Verdict(word)
    return Evaluation(
        verdict=verdict,
        zone=Zone.INSIDE if verdict is Verdict.PASS else Zone.OUTSIDE,
        value=word.value,
        unit=None,
        spec_unit=None,
        value_in_spec_unit=None,
        deviation=None,
        limit=None,
        exceeds_by=None,
        decision_rule=ch.decision.record(),
        limits={"nominal": None, "lower": None, "upper": None, "unit": None},
    )
