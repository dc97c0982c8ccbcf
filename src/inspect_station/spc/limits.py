"""Control limits as a signed, versioned object, computed from a baseline and never typed.

A ``LimitVersion`` holds everything a chart is judged against: the chart type and subgroup
size, the centre line, the sigma of the plotted statistic and the control limits of both charts,
the baseline's reading references, the rules and detectors in force, when it takes effect, why,
and the hash of the version it replaces. Its canonical bytes are the RFC 8785 (JSON
Canonicalization Scheme) serialization of ``body()`` -- numbers as decimal strings, never JSON
floats -- and ``content_hash`` is their lowercase hex SHA-256, exactly as the journal hashes a
record; a lock record carries the body and the hash, so a chart can be replayed as it was.

Derivation (``derive_limits``): with ``d`` = the decimals of the characteristic's resolution
plus two (or of the finest baseline reading plus two when no resolution is given; so rounding
moves sigma by at most 0.5 % while sigma is at least one resolution step), every number is
computed exactly with 60 significant digits and rounded half to even to ``d`` decimals once:

- I-MR: centre = mean; sigma = MR-bar / d2(2); UCL/LCL = centre ± 3·sigma;
  moving range: centre MR-bar, UCL D4(2)·MR-bar, LCL D3(2)·MR-bar = 0.
- X-bar/R (n = 2..10, complete subgroups of consecutive readings): centre = grand mean;
  sigma within = R-bar / d2(n); sigma = sigma within / sqrt(n) (of the subgroup mean);
  UCL/LCL = centre ± 3·sigma; range: centre R-bar, UCL D4·R-bar, LCL D3·R-bar.

UCL/LCL are written as centre ± 3·sigma of the *rounded* numbers, so the zones of the Nelson
rules (centre ± 1, 2, 3 sigma) are exact decimals that agree with the stored limits digit for
digit. (E2 = 3/d2 and A2 = 3/(d2·sqrt(n)) of the published table are those factors rounded.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

import rfc8785
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from inspect_station.spc import exact
from inspect_station.spc.config import Chart, CusumSettings, EwmaSettings, RuleSet, SpcSettings
from inspect_station.spc.constants import constants
from inspect_station.spc.errors import BaselineError, LimitsError

FORMAT: Final = 1
"""Format version of a limit version's body."""

_LIMIT_FIELDS = (
    "centre",
    "sigma",
    "ucl",
    "lcl",
    "sigma_within",
    "range_centre",
    "range_ucl",
    "range_lcl",
)
_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _decimal(value: Any) -> Decimal:
    return exact.parse(value, "a limit")


Dec = Annotated[
    Decimal,
    BeforeValidator(_decimal),
    PlainSerializer(exact.text, return_type=str, when_used="json"),
]
"""An exact decimal that a record holds as a decimal string."""


class LimitVersion(BaseModel):
    """One locked (or proposed) version of a characteristic's control limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal[1] = FORMAT
    """Format version of this body."""
    part_number: Annotated[str, Field(min_length=1, max_length=30)]
    """Part number the limits belong to."""
    characteristic: Annotated[str, Field(min_length=1, max_length=20)]
    """Balloon id of the characteristic."""
    unit: Annotated[str, Field(min_length=1, max_length=10)]
    """Unit of every value below."""
    version: Annotated[int, Field(ge=1)]
    """1 for the first lock, then 2, 3, ...; each names its predecessor's hash."""
    chart: Chart
    """i-mr (individuals + moving range) or xbar-r."""
    subgroup_size: Annotated[int, Field(ge=1, le=10)]
    """1 for i-mr, 2..10 for xbar-r."""
    digits: Annotated[int, Field(ge=0, le=exact.MAX_DIGITS)]
    """Decimal places every limit was rounded to."""
    centre: Dec
    """Centre line of the individuals / X-bar chart."""
    sigma: Dec
    """Sigma of the plotted statistic (individual or subgroup mean): the zone width."""
    ucl: Dec
    """Upper control limit of the individuals / X-bar chart: centre + 3·sigma."""
    lcl: Dec
    """Lower control limit of the individuals / X-bar chart: centre - 3·sigma."""
    sigma_within: Dec
    """Process sigma within subgroups: MR-bar/d2 or R-bar/d2."""
    range_centre: Dec
    """Centre line of the moving-range / range chart (MR-bar or R-bar)."""
    range_ucl: Dec
    """Upper limit of the moving-range / range chart: D4 times the centre."""
    range_lcl: Dec
    """Lower limit of the moving-range / range chart: D3 times the centre."""
    baseline: tuple[str, ...]
    """References of the readings the limits were computed from, in order."""
    baseline_count: Annotated[int, Field(ge=2)]
    """How many readings the baseline holds."""
    rules: RuleSet
    """The Nelson rules in force, with every parameter explicit."""
    cusum: CusumSettings | None = None
    """A tabular CUSUM in force, if any."""
    ewma: EwmaSettings | None = None
    """An EWMA chart in force, if any."""
    effective_from: str
    """UTC time (RFC 3339, Z) from which readings are judged against this version."""
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    """Why these limits (first lock, process change, ...)."""
    previous_hash: str | None = None
    """content_hash of the version this one replaces; None for version 1."""

    @field_validator("effective_from")
    @classmethod
    def _utc(cls, value: str) -> str:
        if not _UTC.fullmatch(value):
            raise ValueError("must be a UTC time such as 2026-11-25T09:14:03Z")
        try:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not a valid date and time") from None
        return value

    @field_validator("previous_hash")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is not None and not _HEX64.fullmatch(value):
            raise ValueError("must be 64 lowercase hex digits (a SHA-256)")
        return value

    @field_validator("reason")
    @classmethod
    def _reason_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give a reason")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> LimitVersion:
        ctx = exact.CONTEXT
        if (self.chart == "i-mr") != (self.subgroup_size == 1):
            raise ValueError(
                f"chart {self.chart} does not go with subgroup size {self.subgroup_size}"
            )
        for name in _LIMIT_FIELDS:
            if exact.decimals_of(getattr(self, name)) > self.digits:
                raise ValueError(f"{name} has more than {self.digits} decimals")
        if self.sigma <= 0 or self.sigma_within <= 0:
            raise ValueError("sigma must be positive")
        three = ctx.multiply(3, self.sigma)
        if self.ucl != ctx.add(self.centre, three) or self.lcl != ctx.subtract(self.centre, three):
            raise ValueError("ucl and lcl must be centre ± 3·sigma")
        if not 0 <= self.range_lcl <= self.range_centre <= self.range_ucl:
            raise ValueError("the range chart's limits are out of order")
        if self.baseline_count != len(self.baseline):
            raise ValueError(
                f"baseline_count {self.baseline_count} does not match the "
                f"{len(self.baseline)} references"
            )
        if len(set(self.baseline)) != len(self.baseline):
            raise ValueError("a baseline reading is listed twice")
        if self.baseline_count % self.subgroup_size:
            raise ValueError("the baseline is not a whole number of subgroups")
        if (self.version == 1) != (self.previous_hash is None):
            raise ValueError("version 1 has no previous_hash; every later version has one")
        return self

    def body(self) -> dict[str, Any]:
        """The version as a JSON object: what a lock record carries and the hash covers."""
        data = self.model_dump(mode="json")
        data["baseline"] = list(self.baseline)
        data["rules"] = self.rules.record()
        data["ewma"] = None if self.ewma is None else self.ewma.record()
        return data

    def canonical_bytes(self) -> bytes:
        """RFC 8785 bytes of ``body()``."""
        return rfc8785.dumps(self.body())

    @property
    def content_hash(self) -> str:
        """Lowercase hex SHA-256 of the canonical bytes: the identity of this version."""
        return hashlib.sha256(self.canonical_bytes()).hexdigest()

    @classmethod
    def from_body(cls, body: Mapping[str, Any], expected_hash: str | None = None) -> LimitVersion:
        """A version read back from a record; LimitsError naming the field if it is invalid."""
        if not isinstance(body, Mapping):
            raise LimitsError(f"A limit version must be a JSON object, not {type(body).__name__}.")
        try:
            version = cls.model_validate(dict(body))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            message = first["msg"].removeprefix("Value error, ")
            raise LimitsError(f"The limit version's {where} is invalid: {message}.") from None
        if expected_hash is not None and version.content_hash != expected_hash:
            raise LimitsError(
                f"The limit version {version.version} of characteristic "
                f"{version.characteristic} does not match its hash {expected_hash[:12]}…"
            )
        return version

    def follows(self, previous: LimitVersion) -> None:
        """Check this version may replace ``previous``; LimitsError saying why not."""
        if (self.part_number, self.characteristic) != (
            previous.part_number,
            previous.characteristic,
        ):
            raise LimitsError(
                f"Limit version {self.version} is for {self.part_number} characteristic "
                f"{self.characteristic}, not {previous.part_number} characteristic "
                f"{previous.characteristic}."
            )
        if self.version != previous.version + 1 or self.previous_hash != previous.content_hash:
            raise LimitsError(
                f"Limit version {self.version} does not follow version {previous.version} "
                f"(its number or previous_hash does not match)."
            )
        if _when(self.effective_from) <= _when(previous.effective_from):
            raise LimitsError(
                f"Limit version {self.version} takes effect at {self.effective_from}, not after "
                f"version {previous.version} ({previous.effective_from})."
            )


def _when(text: str) -> dt.datetime:
    """An RFC 3339 UTC string as an aware datetime."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def select_baseline(
    readings: Sequence[tuple[str, Decimal]],
    *,
    first: int | None = None,
    start: str | None = None,
    end: str | None = None,
) -> list[tuple[str, Decimal]]:
    """The baseline: the ``first`` N readings, or the readings from ``start`` to ``end`` (refs).

    BaselineError, in one sentence, when a reference is not in the history or the range is
    empty or backwards.
    """
    if (first is None) == (start is None and end is None):
        raise BaselineError("Choose the baseline as the first N readings or as a range, not both.")
    if first is not None:
        if first < 1:
            raise BaselineError(f"A baseline of the first {first} readings is empty.")
        if first > len(readings):
            raise BaselineError(
                f"The baseline asks for the first {first} readings; there are {len(readings)}."
            )
        return list(readings[:first])
    position = {ref: i for i, (ref, _) in enumerate(readings)}
    lo = 0 if start is None else position.get(start)
    hi = len(readings) - 1 if end is None else position.get(end)
    if lo is None or hi is None:
        missing = start if lo is None else end
        raise BaselineError(f"Reading {missing} is not in this characteristic's history.")
    if hi < lo:
        raise BaselineError(f"The baseline range ends ({end}) before it starts ({start}).")
    return list(readings[lo : hi + 1])


def in_force(versions: Sequence[LimitVersion], when: str) -> LimitVersion | None:
    """The version in force at UTC time ``when``: the latest whose effective_from <= when."""
    moment = _when(when)
    best: LimitVersion | None = None
    for version in versions:
        if _when(version.effective_from) <= moment and (
            best is None or _when(version.effective_from) > _when(best.effective_from)
        ):
            best = version
    return best


def limit_digits(resolution: Decimal | None, values: Sequence[Decimal]) -> int:
    """Decimals the limits are rounded to: the resolution's (or finest reading's) plus two."""
    if resolution is not None:
        base = exact.decimals_of(resolution.normalize(exact.CONTEXT))
    else:
        base = max((exact.decimals_of(v) for v in values), default=0)
    return min(base + 2, exact.MAX_DIGITS)


def derive_limits(
    points: Sequence[tuple[str, Decimal]],
    settings: SpcSettings,
    *,
    part_number: str,
    characteristic: str,
    unit: str,
    resolution: Decimal | None,
    effective_from: str,
    reason: str,
    previous: LimitVersion | None = None,
) -> LimitVersion:
    """Compute a (proposed) limit version from baseline readings ``(ref, value)`` in order.

    BaselineError if the baseline is too short, ends in an incomplete subgroup, or shows no
    spread at the limits' resolution.
    """
    ctx = exact.CONTEXT
    n = settings.subgroup_size
    values = [value for _, value in points]
    count = len(values)
    label = "readings" if n == 1 else f"subgroups of {n}"
    groups = count // n
    if groups < settings.baseline:
        raise BaselineError(
            f"The baseline has {groups} {label}; at least {settings.baseline} are needed "
            "(spc baseline)."
        )
    if count % n:
        raise BaselineError(
            f"The baseline's {count} readings end in an incomplete subgroup of {count % n}; "
            f"choose a range of whole subgroups of {n}."
        )
    digits = limit_digits(resolution, values)
    mean = ctx.divide(_sum(values), count)
    if n == 1:
        spreads = [ctx.subtract(b, a).copy_abs() for a, b in itertools.pairwise(values)]
        table = constants(2)
    else:
        spreads = []
        for start in range(0, count, n):
            group = values[start : start + n]
            spreads.append(ctx.subtract(max(group), min(group)))
        table = constants(n)
    spread_bar = ctx.divide(_sum(spreads), len(spreads))
    within = ctx.divide(spread_bar, table.d2)
    plotted = within if n == 1 else ctx.divide(within, ctx.sqrt(Decimal(n)))
    centre = exact.rounded(mean, digits)
    sigma = exact.rounded(plotted, digits)
    sigma_within = exact.rounded(within, digits)
    if sigma <= 0 or sigma_within <= 0:
        raise BaselineError(
            f"The baseline shows no spread at {digits} decimals (sigma within rounds to 0); "
            "the gauge's resolution is too coarse for SPC on this characteristic."
        )
    three = ctx.multiply(3, sigma)
    refs = tuple(ref for ref, _ in points)
    if len(set(refs)) != len(refs):
        raise BaselineError("The baseline lists a reading twice.")
    if previous is not None:
        version, previous_hash = previous.version + 1, previous.content_hash
    else:
        version, previous_hash = 1, None
    try:
        proposed = LimitVersion(
            part_number=part_number,
            characteristic=characteristic,
            unit=unit,
            version=version,
            chart=settings.chart,
            subgroup_size=n,
            digits=digits,
            centre=centre,
            sigma=sigma,
            ucl=ctx.add(centre, three),
            lcl=ctx.subtract(centre, three),
            sigma_within=sigma_within,
            range_centre=exact.rounded(spread_bar, digits),
            range_ucl=exact.rounded(ctx.multiply(table.d4, spread_bar), digits),
            range_lcl=exact.rounded(ctx.multiply(table.d3, spread_bar), digits),
            baseline=refs,
            baseline_count=count,
            rules=settings.rules,
            cusum=settings.cusum,
            ewma=settings.ewma,
            effective_from=effective_from,
            reason=reason,
            previous_hash=previous_hash,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "limits"
        message = first["msg"].removeprefix("Value error, ")
        raise LimitsError(f"The proposed limits' {where} is invalid: {message}.") from None
    if previous is not None:
        proposed.follows(previous)
    return proposed


def _sum(values: Sequence[Decimal]) -> Decimal:
    """Exact sum (within 60 significant digits) in the package's context."""
    total = Decimal(0)
    add = exact.CONTEXT.add
    for value in values:
        total = add(total, value)
    return total
