"""Which SPC rules and detectors apply to a characteristic: small models a TOML section embeds.

A spec or ``station.toml`` may carry, for example::

    [spc]
    subgroup_size = 1            # 1: individuals + moving range; 2..10: X-bar/R
    baseline = 25                # points (readings or subgroups) the limits are computed from

    [spc.rules]
    preset = "western-electric"  # nelson | western-electric | aiag
    same_side = 7                # any parameter of the preset can be overridden

    [spc.cusum]                  # optional, for small persistent shifts
    k = 0.5
    h = 5

Every model forbids unknown keys; numbers are exact (TOML decimals, integers or decimal strings;
a float is refused); a preset is expanded into explicit parameters, so what a limit version
records is the complete rule set, not a name whose meaning could change.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from inspect_station.spc import exact

RULE_NUMBERS = (1, 2, 3, 4, 5, 6, 7, 8)
"""The eight Nelson rules, by number."""

Preset = Literal["nelson", "western-electric", "aiag"]
"""The named rule sets a RuleSet starts from."""

_PARAMETERS: dict[str, Any] = {
    "same_side": 9,
    "trend": 6,
    "alternating": 14,
    "beyond_two": (2, 3),
    "beyond_one": (4, 5),
    "within_one": 15,
    "outside_one": 8,
}

PRESETS: dict[str, dict[str, Any]] = {
    # Nelson (1984), J. Quality Technology 16(4): all eight tests with his run lengths.
    "nelson": {"enabled": RULE_NUMBERS, **_PARAMETERS},
    # Western Electric Statistical Quality Control Handbook (1956): rules 1, 5, 6 and
    # eight in a row on one side.
    "western-electric": {"enabled": (1, 2, 5, 6), **_PARAMETERS, "same_side": 8},
    # AIAG SPC manual (2nd ed.): a point beyond the limits, seven in a row on one side, seven
    # in a row rising or falling. Run lengths differ between sources (M): configurable.
    "aiag": {"enabled": (1, 2, 3), **_PARAMETERS, "same_side": 7, "trend": 7},
}
"""Each preset's rules and run lengths."""


def _exact(value: Any) -> Decimal:
    """An exact Decimal from TOML/JSON input; floats refused."""
    return exact.parse(value, "the value")


ExactNumber = Annotated[
    Decimal,
    Field(allow_inf_nan=False),
    PlainSerializer(exact.text, return_type=str, when_used="json"),
]
"""An exact Decimal setting, written back as a decimal string."""


class RuleSet(BaseModel):
    """The Nelson rules in force and their run lengths (a preset with overrides)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: Preset = "nelson"
    """Where the defaults come from: nelson, western-electric or aiag."""
    enabled: tuple[int, ...]
    """The rule numbers (1..8) in force."""
    same_side: Annotated[int, Field(ge=5, le=30)]
    """Rule 2: this many points in a row on one side of the centre line."""
    trend: Annotated[int, Field(ge=5, le=20)]
    """Rule 3: this many points in a row steadily rising or falling."""
    alternating: Annotated[int, Field(ge=8, le=30)]
    """Rule 4: this many points in a row alternating up and down."""
    beyond_two: tuple[int, int]
    """Rule 5: a of b points in a row beyond 2 sigma on one side, as [a, b]."""
    beyond_one: tuple[int, int]
    """Rule 6: a of b points in a row beyond 1 sigma on one side, as [a, b]."""
    within_one: Annotated[int, Field(ge=8, le=30)]
    """Rule 7: this many points in a row within 1 sigma of the centre line."""
    outside_one: Annotated[int, Field(ge=5, le=20)]
    """Rule 8: this many points in a row beyond 1 sigma, either side."""
    range_chart: bool = True
    """Rule 1 on the moving-range / range chart too."""

    @model_validator(mode="before")
    @classmethod
    def _expand_preset(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        preset = data.get("preset", "nelson")
        base = PRESETS.get(preset, {}) if isinstance(preset, str) else {}
        return {**base, **data}

    @field_validator("enabled")
    @classmethod
    def _known_rules(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        for number in value:
            if number not in RULE_NUMBERS:
                raise ValueError(f"rule {number} does not exist; the rules are 1 to 8")
        if len(set(value)) != len(value):
            raise ValueError("a rule is listed twice")
        return tuple(sorted(value))

    @field_validator("beyond_two", "beyond_one")
    @classmethod
    def _a_of_b(cls, value: tuple[int, int]) -> tuple[int, int]:
        a, b = value
        if not 2 <= a <= b <= 10:
            raise ValueError(f"[{a}, {b}] is not 'a of b' points with 2 <= a <= b <= 10")
        return value

    def record(self) -> dict[str, Any]:
        """The complete rule set as written into a limit version (JSON, no floats)."""
        data = self.model_dump(mode="json")
        data["enabled"] = list(self.enabled)
        data["beyond_two"] = list(self.beyond_two)
        data["beyond_one"] = list(self.beyond_one)
        return data

    def describe(self, rule: int) -> str:
        """Rule ``rule`` in words, with the run lengths in force."""
        a2, b2 = self.beyond_two
        a1, b1 = self.beyond_one
        return {
            1: "one point beyond the control limits",
            2: f"{self.same_side} points in a row on one side of the centre line",
            3: f"{self.trend} points in a row steadily rising or falling",
            4: f"{self.alternating} points in a row alternating up and down",
            5: f"{a2} of {b2} points in a row beyond 2 sigma on one side",
            6: f"{a1} of {b1} points in a row beyond 1 sigma on one side",
            7: f"{self.within_one} points in a row within 1 sigma of the centre line",
            8: f"{self.outside_one} points in a row beyond 1 sigma, either side",
        }[rule]


class CusumSettings(BaseModel):
    """A tabular CUSUM on the plotted statistic: reference value k and decision interval h."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    k: ExactNumber = Decimal("0.5")
    """Reference value in sigma units (half the shift to detect quickly)."""
    h: ExactNumber = Decimal("5")
    """Decision interval in sigma units."""

    _dec = field_validator("k", "h", mode="before")(lambda v: _exact(v))

    @field_validator("k")
    @classmethod
    def _k_range(cls, value: Decimal) -> Decimal:
        if not Decimal(0) < value <= Decimal(3):
            raise ValueError("k must be above 0 and at most 3 (sigma units)")
        return value

    @field_validator("h")
    @classmethod
    def _h_range(cls, value: Decimal) -> Decimal:
        if not Decimal(0) < value <= Decimal(20):
            raise ValueError("h must be above 0 and at most 20 (sigma units)")
        return value


class EwmaSettings(BaseModel):
    """An EWMA chart on the plotted statistic: weight lambda and limit width L."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    lam: ExactNumber = Field(default=Decimal("0.2"), alias="lambda")
    """Weight of the newest point, 0.01 <= lambda <= 1 (written ``lambda``)."""
    width: ExactNumber = Field(default=Decimal("3"), alias="L")
    """Limit width in sigma units of the EWMA statistic (written ``L``)."""

    _dec = field_validator("lam", "width", mode="before")(lambda v: _exact(v))

    @field_validator("lam")
    @classmethod
    def _lambda_range(cls, value: Decimal) -> Decimal:
        if not Decimal("0.01") <= value <= Decimal(1):
            raise ValueError("lambda must be between 0.01 and 1")
        return value

    @field_validator("width")
    @classmethod
    def _width_range(cls, value: Decimal) -> Decimal:
        if not Decimal(0) < value <= Decimal(6):
            raise ValueError("L must be above 0 and at most 6 (sigma units)")
        return value

    def record(self) -> dict[str, str]:
        """The settings as written into a limit version."""
        return {"lambda": exact.text(self.lam), "L": exact.text(self.width)}


Chart = Literal["i-mr", "xbar-r"]
"""Individuals + moving range, or X-bar/R."""


class SpcSettings(BaseModel):
    """SPC for one characteristic (or a station's default): chart, baseline, rules, detectors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subgroup_size: Annotated[int, Field(ge=1, le=10)] = 1
    """1 for individuals + moving range (I-MR); 2..10 for X-bar/R."""
    baseline: Annotated[int, Field(ge=10, le=10_000)] = 25
    """Points (readings for I-MR, subgroups for X-bar/R) the limits need at least."""
    rules: RuleSet = Field(default_factory=lambda: RuleSet.model_validate({}))
    """The Nelson rules in force."""
    cusum: CusumSettings | None = None
    """A tabular CUSUM as well, if given."""
    ewma: EwmaSettings | None = None
    """An EWMA chart as well, if given."""

    @property
    def chart(self) -> Chart:
        """i-mr for subgroups of one, xbar-r otherwise."""
        return "i-mr" if self.subgroup_size == 1 else "xbar-r"

    def detectors(self) -> dict[str, Any]:
        """The CUSUM/EWMA settings in force, as written into a limit version."""
        out: dict[str, Any] = {}
        if self.cusum is not None:
            out["cusum"] = self.cusum.model_dump(mode="json")
        if self.ewma is not None:
            out["ewma"] = self.ewma.record()
        return out
