"""Reading + characteristic -> verdict: exact Decimal arithmetic, units, decision rules.

No float is involved anywhere: the reading is parsed from the exact decimal string the gauge
sent, converted exactly to a base unit (nanometres, arc seconds) and compared with inclusive,
absolute limits.
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from inspect_station.errors import ImplausibleReading, ReadingError
from inspect_station.spec.model import Characteristic, Kind, PartSpec
from inspect_station.units import convertible, normalize_unit, to_base

# Enough digits for any gauge reading scaled to nanometres, so every product is exact.
_CONTEXT = decimal.Context(
    prec=60, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation]
)

_ATTRIBUTE_WORDS = {
    "pass": "pass",
    "ok": "pass",
    "go": "pass",
    "good": "pass",
    "fail": "fail",
    "nok": "fail",
    "nogo": "fail",
    "no-go": "fail",
    "bad": "fail",
}


_VALUE_WITH_UNIT = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*([A-Za-zµμ°\"']+)?\s*$")


def split_value(text: str) -> tuple[str, str | None]:
    """'4.725in' -> ('4.725', 'in'); '120.01' -> ('120.01', None); 'pass' -> ('pass', None)."""
    m = _VALUE_WITH_UNIT.match(text)
    if m:
        return m.group(1), m.group(2)
    return text.strip(), None


class Verdict(StrEnum):
    """Conformance verdict of one reading."""

    PASS = "pass"
    FAIL = "fail"


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
    """The reading as an exact Decimal; ReadingError if it is not a finite decimal number."""
    if isinstance(text, Decimal):
        value = text
    elif isinstance(text, str):
        cleaned = text.strip().replace(" ", "")
        if cleaned.startswith("+"):
            cleaned = cleaned[1:]
        try:
            value = Decimal(cleaned)
        except decimal.InvalidOperation:
            raise ReadingError(f"{text!r} is not a number.") from None
        if cleaned.lower().startswith(("-inf", "inf", "nan", "-nan", "snan", "-snan")):
            raise ReadingError(f"{text!r} is not a number.")
    else:
        raise ReadingError(
            f"A reading must be given as a decimal string, not {type(text).__name__}."
        )
    if not value.is_finite():
        raise ReadingError(f"{text!r} is not a finite number.")
    return value


def _text(value: Decimal, min_decimals: int = 0) -> str:
    """Decimal as a plain string, no exponent, trailing zeros trimmed to ``min_decimals``."""
    if value == 0:
        value = abs(value)
    value = value.normalize(_CONTEXT)
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent < min_decimals:
        value = value.quantize(Decimal(1).scaleb(-min_decimals), context=_CONTEXT)
    return format(value, "f")


def _in_unit(base_value: Decimal, unit: str, digits: int) -> Decimal:
    """A base-unit value in ``unit``, exact when possible, else rounded to ``digits`` decimals."""
    ctx = _CONTEXT.copy()
    ctx.clear_flags()
    value = ctx.divide(base_value, to_base(Decimal(1), unit))
    if ctx.flags[decimal.Inexact]:
        value = value.quantize(Decimal(1).scaleb(-digits), context=_CONTEXT)
    return value


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
    with decimal.localcontext(_CONTEXT):
        measured = to_base(value, reading_unit)
        shown = _in_unit(measured, spec_unit, ch.display_decimals + 3)
        lsl, usl = ch.limits
        if ch.reasonable is not None:
            low, high = (to_base(v, spec_unit) for v in ch.reasonable)
            if not low <= measured <= high:
                raise ImplausibleReading(
                    f"{reading} {reading_unit} is not a plausible reading for characteristic "
                    f"{ch.id} ({ch.name}, expected {ch.reasonable[0]}..{ch.reasonable[1]} "
                    f"{spec_unit}): check the gauge and the characteristic."
                )
        judged = measured
        if ch.rounding == "astm-e29" and ch.step is not None:
            in_spec = _CONTEXT.divide(measured, to_base(Decimal(1), spec_unit))
            rounded = in_spec.quantize(ch.step, rounding=decimal.ROUND_HALF_EVEN)
            judged = to_base(rounded, spec_unit)
        guard = to_base(ch.decision.guard_width, spec_unit)
        lower = None if lsl is None else to_base(lsl, spec_unit)
        upper = None if usl is None else to_base(usl, spec_unit)
        zone, limit, excess = Zone.INSIDE, None, None
        if lower is not None and judged < lower:
            zone, limit, excess = Zone.OUTSIDE, "lower", lower - judged
        elif upper is not None and judged > upper:
            zone, limit, excess = Zone.OUTSIDE, "upper", judged - upper
        elif guard and lower is not None and judged < lower + guard:
            zone, limit, excess = Zone.GUARD_BAND, "lower", lower + guard - judged
        elif guard and upper is not None and judged > upper - guard:
            zone, limit, excess = Zone.GUARD_BAND, "upper", judged - (upper - guard)
        deviation = None
        if ch.nominal is not None:
            nominal = to_base(ch.nominal, spec_unit)
            deviation = _in_unit(measured - nominal, spec_unit, ch.display_decimals + 3)
        exceeds = None if excess is None else _in_unit(excess, spec_unit, ch.display_decimals + 3)
    places = ch.display_decimals
    same_unit = reading_unit == spec_unit
    as_sent = str(reading).strip() if isinstance(reading, str) else format(value, "f")
    return Evaluation(
        verdict=Verdict.PASS if zone is Zone.INSIDE else Verdict.FAIL,
        zone=zone,
        value=as_sent,
        unit=reading_unit,
        spec_unit=spec_unit,
        value_in_spec_unit=as_sent.lstrip("+") if same_unit else _text(shown, places),
        deviation=None if deviation is None else _signed(deviation, places),
        limit=limit,
        exceeds_by=None if exceeds is None else _text(exceeds, places),
        decision_rule=ch.decision.record(),
        limits=ch.limits_record(spec_unit),
    )


def _signed(value: Decimal, min_decimals: int) -> str:
    """A deviation with an explicit sign (+0.012, -0.003, 0.000)."""
    text = _text(value, min_decimals)
    return text if text.startswith("-") or value == 0 else f"+{text}"


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
        value=word,
        unit=None,
        spec_unit=None,
        value_in_spec_unit=None,
        deviation=None,
        limit=None,
        exceeds_by=None,
        decision_rule=ch.decision.record(),
        limits={"nominal": None, "lower": None, "upper": None, "unit": None},
    )
