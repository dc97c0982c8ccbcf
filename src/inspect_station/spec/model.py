# Over 500 lines: a spec file's one schema (part, sampling plan, characteristics, limits).
"""Part specs: a part revision, its sampling plan and its characteristics with limits."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from inspect_station.canonical import canonical_json
from inspect_station.errors import SamplingError
from inspect_station.numbers import (
    NumberError,
    check_decimal,
    check_integer,
    exact,
    exact_sum,
    parse_number,
)
from inspect_station.sampling import aql_column
from inspect_station.spc.config import SpcSettings
from inspect_station.text import field_text
from inspect_station.tomlfile import KeyedValueError
from inspect_station.units import KNOWN_UNITS, normalize_unit


class DuplicateId(KeyedValueError):
    """Two characteristics share a balloon id; points at the second one."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__((index, "id"), message)


class Status(StrEnum):
    """Release status of a spec revision."""

    DRAFT = "draft"
    RELEASED = "released"
    OBSOLETE = "obsolete"


class Kind(StrEnum):
    """Whether a characteristic is measured (variable) or judged good/bad (attribute)."""

    VARIABLE = "variable"
    ATTRIBUTE = "attribute"


class CharClass(StrEnum):
    """Severity class of a characteristic."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"


class Rule(StrEnum):
    """Decision rule for conformance (ISO 14253-1)."""

    SIMPLE = "simple"
    """Simple acceptance: the limits themselves, guard band 0."""
    GUARD_BAND = "guard-band"
    """Stringent acceptance: the acceptance zone shrinks by the expanded uncertainty U."""
    CUSTOM = "custom"
    """Stringent acceptance with an agreed guard band width other than U."""


def _decimal(value: Any) -> Any:
    """Accept numbers of the station's grammar (TOML decimals, integers, exact strings), never
    floats, and nothing beyond the grammar's bounds."""
    if isinstance(value, float):
        raise ValueError("write numbers so they parse exactly (a float slipped in)")
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    try:
        if isinstance(value, int):
            return Decimal(check_integer(value, "the number"))
        if isinstance(value, str):
            return parse_number(value)
        if isinstance(value, Decimal):
            return check_decimal(value)
    except NumberError as exc:
        raise ValueError(exc.message.rstrip(".")) from None
    return value


def _text(value: Any, what: str, *, identifier: bool = False, max_length: int = 80) -> Any:
    """Spec text (ids, names, notes) checked like everything typed at the station."""
    return field_text(value, identifier=identifier, max_length=max_length)


ExactDecimal = Annotated[Decimal, Field(allow_inf_nan=False)]


class DecisionRule(BaseModel):
    """How a reading near a limit is judged; recorded with every verdict."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: Rule = Rule.SIMPLE
    """simple, guard-band (guard = U) or custom (guard given)."""
    uncertainty: ExactDecimal | None = None
    """Expanded measurement uncertainty U (k=2) in the characteristic's unit."""
    guard: ExactDecimal | None = None
    """Guard band width for the custom rule, in the characteristic's unit."""

    _dec = field_validator("uncertainty", "guard", mode="before")(lambda v: _decimal(v))

    @model_validator(mode="after")
    def _consistent(self) -> DecisionRule:
        if self.rule is Rule.GUARD_BAND and self.uncertainty is None:
            raise ValueError("the guard-band rule needs the expanded uncertainty 'uncertainty'")
        if self.rule is Rule.CUSTOM and self.guard is None:
            raise ValueError("the custom rule needs a guard band width 'guard'")
        if self.rule is Rule.SIMPLE and self.guard is not None:
            raise ValueError("the simple rule has no guard band; use rule = 'custom'")
        for name in ("uncertainty", "guard"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative")
        return self

    @property
    def guard_width(self) -> Decimal:
        """Width of the guard band applied inside each existing limit."""
        if self.rule is Rule.GUARD_BAND:
            assert self.uncertainty is not None
            return self.uncertainty
        if self.rule is Rule.CUSTOM:
            assert self.guard is not None
            return self.guard
        return Decimal(0)

    def describe(self) -> str:
        """The rule in words: 'simple acceptance', 'guard band U = 0.002', ..."""
        if self.rule is Rule.GUARD_BAND:
            return f"guard band U = {self.uncertainty}"
        if self.rule is Rule.CUSTOM:
            extra = f" (U = {self.uncertainty})" if self.uncertainty is not None else ""
            return f"custom guard band {self.guard}{extra}"
        return "simple acceptance"

    def record(self) -> dict[str, str]:
        """The rule as it is written into each measurement record."""
        out = {"rule": self.rule.value}
        if self.uncertainty is not None:
            out["uncertainty"] = str(self.uncertainty)
        if self.rule is not Rule.SIMPLE:
            out["guard"] = str(self.guard_width)
        return out


class SamplingSpec(BaseModel):
    """ISO 2859-1 single sampling plan parameters (normal inspection)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: Literal["I", "II", "III", "S-1", "S-2", "S-3", "S-4"] = "II"
    """General (I, II, III) or special (S-1..S-4) inspection level."""
    aql: ExactDecimal = Decimal("1.0")
    """Acceptance quality limit in percent nonconforming."""

    _dec = field_validator("aql", mode="before")(lambda v: _decimal(v))

    @field_validator("aql")
    @classmethod
    def _in_table(cls, value: Decimal) -> Decimal:
        try:
            aql_column(value)
        except SamplingError as exc:
            raise ValueError(str(exc).rstrip(".")) from None
        return value


class Characteristic(BaseModel):
    """One ballooned characteristic of the drawing with its limits and decision rule."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: Annotated[str, Field(min_length=1, max_length=20)]
    """Balloon number on the drawing."""
    name: Annotated[str, Field(min_length=1, max_length=80)]
    """What is measured, as the drawing names it."""
    kind: Kind = Kind.VARIABLE
    """variable (a number) or attribute (pass/fail)."""
    class_: CharClass = Field(default=CharClass.MAJOR, alias="class")
    """critical, major or minor."""
    unit: str | None = None
    """Unit of the limits (default: the spec's unit)."""
    nominal: ExactDecimal | None = None
    """Nominal size."""
    tolerance: tuple[ExactDecimal, ExactDecimal] | None = None
    """Lower and upper deviation from the nominal, e.g. [-0.10, 0.10]."""
    lower: ExactDecimal | None = None
    """Lower specification limit (absolute)."""
    upper: ExactDecimal | None = None
    """Upper specification limit (absolute)."""
    min: ExactDecimal | None = None
    """One-sided: only a lower limit (e.g. a minimum wall)."""
    max: ExactDecimal | None = None
    """One-sided: only an upper limit (e.g. flatness)."""
    resolution: ExactDecimal | None = None
    """Smallest digit expected in a reading, e.g. 0.001."""
    decimals: Annotated[int, Field(ge=0, le=9)] | None = None
    """Number of decimals expected (alternative to resolution)."""
    rounding: Literal["none", "astm-e29"] = "none"
    """Round the reading to the resolution (half to even) before comparing; opt-in."""
    decision: DecisionRule = Field(default_factory=DecisionRule)
    """Decision rule applied at the limits."""
    reasonable: tuple[ExactDecimal, ExactDecimal] | None = None
    """Readings outside this range are refused as implausible (wrong gauge or feature)."""
    gauge: str | None = None
    """Type of gauge needed (caliper, micrometer, bore-gauge, indicator, ...)."""
    method: str | None = None
    """How an attribute is judged (go/no-go gauge, visual, ...)."""
    note: str = ""
    """Free text for the inspector."""
    location: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    """Reference location on the drawing (sheet and zone, e.g. 'sheet 1 B3'), for AS9102."""
    spc: SpcSettings | None = None
    """SPC settings of this characteristic (the keys it names override the spec's)."""

    @model_serializer(mode="wrap")
    def _without_absent_location(self, handler: SerializerFunctionWrapHandler) -> Any:
        # A spec without a location (or SPC settings) keeps the content (and hash) it had
        # before the key existed.
        data = handler(self)
        if isinstance(data, dict):
            if self.location is None:
                data.pop("location", None)
            if self.spc is None:
                data.pop("spc", None)
        return data

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return _text(value, "characteristic id", identifier=True, max_length=20)

    @field_validator("name", "method", "gauge", "note", "location", mode="before")
    @classmethod
    def _plain_text(cls, value: Any) -> Any:
        return _text(value, "text", max_length=500)

    @field_validator("nominal", "lower", "upper", "min", "max", "resolution", mode="before")
    @classmethod
    def _exact(cls, value: Any) -> Any:
        return _decimal(value)

    @field_validator("tolerance", "reasonable", mode="before")
    @classmethod
    def _exact_pair(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(_decimal(v) for v in value)
        return value

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str | None) -> str | None:
        if value is None:
            return None
        unit = normalize_unit(value)
        if unit is None:
            raise ValueError(f"unknown unit {value!r}; use one of {', '.join(KNOWN_UNITS)}")
        return unit

    @model_validator(mode="after")
    def _limits_consistent(self) -> Characteristic:
        ways = [
            name
            for name, given in (
                ("tolerance", self.tolerance is not None),
                ("lower/upper", self.lower is not None or self.upper is not None),
                ("min", self.min is not None),
                ("max", self.max is not None),
            )
            if given
        ]
        if self.kind is Kind.ATTRIBUTE:
            if ways or self.nominal is not None:
                raise KeyedValueError(
                    (ways[0] if ways else "nominal").split("/")[0],
                    "an attribute characteristic has no nominal or limits",
                )
            if self.decision.rule is not Rule.SIMPLE:
                raise KeyedValueError("decision", "an attribute characteristic has no guard band")
            if self.spc is not None:
                raise KeyedValueError(
                    "spc", "an attribute characteristic has no control chart (SPC charts values)"
                )
            if self.reasonable is not None:
                raise KeyedValueError(
                    "reasonable", "an attribute characteristic has no reasonable limits"
                )
            return self
        if not ways:
            raise ValueError("give limits: tolerance (with nominal), lower/upper, min or max")
        if "min" in ways and "max" in ways:
            ways = ["min+max"]
        if len(ways) > 1:
            raise KeyedValueError(
                "tolerance" if "tolerance" in ways else "min",
                f"give limits one way only, not {' and '.join(ways)}",
            )
        if self.tolerance is not None:
            if self.nominal is None:
                raise KeyedValueError("tolerance", "a tolerance needs a nominal")
            low, high = self.tolerance
            if low > high:
                raise KeyedValueError(
                    "tolerance",
                    f"tolerance lower deviation {low} is above the upper deviation {high}",
                )
            if low > 0 or high < 0:
                raise KeyedValueError(
                    "tolerance",
                    f"tolerance [{low}, {high}] excludes the nominal {self.nominal}; "
                    "if that is intended, give lower/upper limits instead",
                )
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise KeyedValueError(
                "lower", f"lower limit {self.lower} is above upper limit {self.upper}"
            )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise KeyedValueError("min", f"min {self.min} is above max {self.max}")
        lsl, usl = self.limits
        nominal = self.nominal
        if (
            nominal is not None
            and self.tolerance is None
            and ((lsl is not None and nominal < lsl) or (usl is not None and nominal > usl))
        ):
            raise KeyedValueError("nominal", f"nominal {nominal} lies outside the limits")
        if self.resolution is not None and self.decimals is not None:
            raise KeyedValueError("decimals", "give resolution or decimals, not both")
        if self.resolution is not None and self.resolution <= 0:
            raise KeyedValueError("resolution", "resolution must be positive")
        if self.rounding != "none" and self.step is None:
            raise KeyedValueError("rounding", "rounding needs a resolution or decimals to round to")
        guard = self.decision.guard_width
        low_x, high_x = self.exact_limits
        if (
            guard
            and low_x is not None
            and high_x is not None
            and 2 * exact(guard) >= high_x - low_x
        ):
            raise KeyedValueError(
                "decision",
                f"guard band {guard} on both sides leaves no acceptance zone in [{lsl}, {usl}]",
            )
        if self.reasonable is not None:
            low, high = self.reasonable
            if low >= high:
                raise KeyedValueError("reasonable", f"reasonable range [{low}, {high}] is empty")
            for limit in (lsl, usl):
                if limit is not None and not low <= limit <= high:
                    raise KeyedValueError(
                        "reasonable",
                        f"reasonable range [{low}, {high}] does not contain the limit {limit}",
                    )
        return self

    @property
    def limits(self) -> tuple[Decimal | None, Decimal | None]:
        """Absolute (lower, upper) specification limits, exact; None where there is none."""
        if self.tolerance is not None and self.nominal is not None:
            return (
                exact_sum(self.nominal, self.tolerance[0]),
                exact_sum(self.nominal, self.tolerance[1]),
            )
        if self.lower is not None or self.upper is not None:
            return self.lower, self.upper
        return self.min, self.max

    @property
    def exact_limits(self) -> tuple[Fraction | None, Fraction | None]:
        """The limits as exact rationals, for judging (never rounded)."""
        lsl, usl = self.limits
        return (None if lsl is None else exact(lsl), None if usl is None else exact(usl))

    @property
    def step(self) -> Decimal | None:
        """The reading resolution as a Decimal (from resolution or decimals), if given."""
        if self.resolution is not None:
            return self.resolution
        if self.decimals is not None:
            return Decimal(1).scaleb(-self.decimals)
        return None

    @property
    def display_decimals(self) -> int:
        """How many decimals to show for values of this characteristic."""
        step = self.step
        if step is not None:
            _, digits, exponent = step.as_tuple()
            assert isinstance(exponent, int)
            trailing = len(digits) - len("".join(map(str, digits)).rstrip("0") or "0")
            return max(0, -(exponent + trailing))
        exps = [
            -v.as_tuple().exponent  # type: ignore[operator]
            for v in (self.nominal, *self.limits)
            if v is not None
        ]
        return max([0, *exps])

    def limits_record(self, unit: str) -> dict[str, str | None]:
        """The limits in force, as written into each measurement record."""
        lsl, usl = self.limits
        return {
            "nominal": None if self.nominal is None else str(self.nominal),
            "lower": None if lsl is None else str(lsl),
            "upper": None if usl is None else str(usl),
            "unit": unit,
        }


class PartSpec(BaseModel):
    """One revision of a part: identity, status, sampling plan and characteristics."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal[1] = 1
    """Format version of the spec file."""
    part_number: Annotated[str, Field(min_length=1, max_length=30)]
    """Part number as on the drawing."""
    revision: Annotated[str, Field(min_length=1, max_length=10)]
    """Drawing revision."""
    description: Annotated[str, Field(max_length=80)] = ""
    """Part name / description."""
    status: Status = Status.DRAFT
    """draft, released or obsolete; only released revisions can be inspected."""
    unit: str = "mm"
    """Default unit of the characteristics."""
    sampling: SamplingSpec = Field(default_factory=SamplingSpec)
    """ISO 2859-1 plan parameters."""
    characteristic: Annotated[list[Characteristic], Field(min_length=1)]
    """The characteristics, in the order they are measured."""
    spc: SpcSettings | None = None
    """SPC settings for the spec's variable characteristics (over the station's defaults)."""

    @model_serializer(mode="wrap")
    def _without_absent_spc(self, handler: SerializerFunctionWrapHandler) -> Any:
        # A spec without SPC settings keeps the content (and hash) it had before the key existed.
        data = handler(self)
        if self.spc is None and isinstance(data, dict):
            data.pop("spc", None)
        return data

    @field_validator("revision", "part_number", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return _text(value, "identifier", identifier=True, max_length=30)

    @field_validator("description", mode="before")
    @classmethod
    def _plain_text(cls, value: Any) -> Any:
        return _text(value, "description", max_length=80)

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        unit = normalize_unit(value)
        if unit is None:
            raise ValueError(f"unknown unit {value!r}; use one of {', '.join(KNOWN_UNITS)}")
        return unit

    @field_validator("characteristic")
    @classmethod
    def _unique_ids(cls, value: list[Characteristic]) -> list[Characteristic]:
        seen: set[str] = set()
        for index, ch in enumerate(value):
            if ch.id in seen:
                raise DuplicateId(index, f"characteristic id {ch.id!r} is used twice")
            seen.add(ch.id)
        return value

    def unit_of(self, ch: Characteristic) -> str:
        """The unit a characteristic's limits are written in."""
        return ch.unit or self.unit

    def get(self, char_id: str) -> Characteristic | None:
        """The characteristic with balloon id ``char_id``, if any."""
        for ch in self.characteristic:
            if ch.id == char_id:
                return ch
        return None

    def canonical(self) -> bytes:
        """RFC 8785 canonical bytes of the spec's content (comments and layout excluded)."""
        # The station's one RFC 8785 writer: the C encoder's bytes where they are the
        # reference's (a spec holds no floats), the reference otherwise; a third of the time
        # a station spends loading a spec file when every file is hashed at start.
        return canonical_json(self.model_dump(mode="json", by_alias=True))

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 (hex) of the canonical content: the spec's identity with part and revision."""
        return hashlib.sha256(self.canonical()).hexdigest()

    @property
    def key(self) -> str:
        """PART@REV, the way specs are named on the command line."""
        return f"{self.part_number}@{self.revision}"

    def identity(self) -> dict[str, str]:
        """Part number, revision and content hash as written into each record."""
        return {
            "part_number": self.part_number,
            "revision": self.revision,
            "spec_hash": self.content_hash,
        }
