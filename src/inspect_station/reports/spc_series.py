"""One characteristic's readings in a capability report: read in bulk, judged as a whole.

The report reads a characteristic's readings a page of plain tuples at a time
(``RecordSource.row_tuples`` over ``store.spc_reads``; columns ``READING_FIELDS``) and hands each
page to a ``Series``, which keeps only what the figures and the rules need: the value texts, the
reading references, the times where limit versions must be looked up, and the values as binary
floats (a numpy array where numpy is installed). The statistics are computed in floating point,
as every SPC package does; only the printed figures are decimal strings. The rules are replayed
over the whole series at once (``spc.vector``, numpy), each run of readings against the limit
version in force when they were taken; without numpy, reading by reading (``spc.Monitor``, the
reference).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import deque
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

from inspect_station import units
from inspect_station.clock import format_utc, parse_utc
from inspect_station.reports.spc_model import CharacteristicReport, SpcReportError
from inspect_station.spc import (
    BaselineError,
    ChartPoint,
    LimitVersion,
    Monitor,
    SpcError,
    SpcSettings,
    Violation,
    capability,
    derive_limits,
    in_force,
    limit_digits,
)
from inspect_station.spc.vector import numpy_module, replay_series
from inspect_station.store.spc_reads import READING_FIELDS

CHART_POINTS = 250
"""How many of the newest plotted points a report keeps for its chart."""

_COL = {name: index for index, name in enumerate(READING_FIELDS)}
SEQ, UUID, MEASURED_AT, CHARACTERISTIC = (
    _COL[k] for k in ("seq", "uuid", "measured_at", "characteristic")
)
VALUE, UNIT, IN_SPEC_UNIT, SPEC_UNIT = (
    _COL[k] for k in ("value", "unit", "value_in_spec_unit", "spec_unit")
)
LOWER, UPPER, MANUAL, SUPERSEDED = (_COL[k] for k in ("lower", "upper", "manual", "superseded"))
STATION = len(READING_FIELDS)
"""Where a row merged from several stations carries its station (after the read columns)."""


def _column(rows: Sequence[tuple[Any, ...]], index: int) -> list[Any]:
    """One column of a page of rows."""
    return list(map(itemgetter(index), rows))


def convert(text: str, unit: str | None, target: str) -> str:
    """A value written in ``unit`` as a decimal string in ``target`` (exact where it can be)."""
    if unit is None or unit == target:
        return text
    if not units.convertible(unit, target):
        raise SpcReportError(f"A reading in {unit} cannot be reported in {target}.")
    value = units.from_base(units.to_base(Decimal(text), unit), target)
    return format(value.normalize(), "f")


def _canonical(when: str) -> bool:
    """Whether a record time is in the one fixed-width form (so text order is time order)."""
    return len(when) == 27 and when[19] == "." and when[26] == "Z"


class Series:
    """One characteristic's readings (of one station, or all), in reading order."""

    def __init__(
        self,
        part: str,
        char: str,
        settings: SpcSettings,
        versions: list[LimitVersion],
        step: Decimal | None,
        rules: bool = True,
    ) -> None:
        self.part, self.char, self.settings, self.versions, self.step = (
            part,
            char,
            settings,
            versions,
            step,
        )
        self.rules = rules
        """Whether the rules are replayed (False: the figures alone)."""
        self.np = numpy_module()
        self.texts: list[str] = []
        """Each current reading's value in the report's unit, as written."""
        self.refs: list[str] = []
        """Each current reading's record UUID."""
        self.times: list[str] = []
        """Each current reading's time (kept only where limit versions are looked up)."""
        self.chunks: list[Any] = []
        """The values as floats, a page at a time."""
        self.need = settings.baseline * settings.subgroup_size
        self.unit: str | None = None
        self.limits_seen: set[tuple[Any, Any]] = set()
        self.last_limits: tuple[Any, Any] = (None, None)
        self.manual = self.superseded = 0
        self.stations: set[str] = set()
        self.first_at = self.last_at = ""
        self.last_key: tuple[str, str, int] | None = None
        """(time, station, seq) of the last reading taken."""
        self.notes: list[str] = []

    @property
    def count(self) -> int:
        """Current readings taken."""
        return len(self.texts)

    def add_page(self, rows: Sequence[tuple[Any, ...]], station: str | None) -> None:
        """Take the next rows of this characteristic, of ``station`` (None: each row names its
        station after the read columns); superseded ones are only counted."""
        if not rows:
            return
        last = rows[-1]
        key = (last[MEASURED_AT], station or last[STATION], last[SEQ])
        if self.last_key is None or key > self.last_key:
            self.last_key = key
        superseded = _column(rows, SUPERSEDED).count(1)
        if superseded:
            self.superseded += superseded
            rows = [row for row in rows if not row[SUPERSEDED]]
            if not rows:
                return
        if self.unit is None:
            self.unit = rows[0][SPEC_UNIT] or rows[0][UNIT] or ""
            self.first_at = rows[0][MEASURED_AT]
        texts: Sequence[str] = _column(rows, IN_SPEC_UNIT)
        lower: Sequence[Any] = _column(rows, LOWER)
        upper: Sequence[Any] = _column(rows, UPPER)
        if None in texts or any(u != self.unit for u in set(_column(rows, SPEC_UNIT))):
            texts, lower, upper = self._converted(rows)
        self.limits_seen.update(zip(lower, upper, strict=True))
        self.last_limits = (lower[-1], upper[-1])
        self.last_at = rows[-1][MEASURED_AT]
        if station is None:
            self.stations.update(_column(rows, STATION))
        else:
            self.stations.add(station)
        self.manual += _column(rows, MANUAL).count(1)
        refs = _column(rows, UUID)
        self.chunks.append(self._floats(texts, refs))
        self.texts.extend(texts)
        self.refs.extend(refs)
        if self.versions and self.rules:
            self.times.extend(_column(rows, MEASURED_AT))

    def _converted(self, rows: Sequence[tuple[Any, ...]]) -> tuple[list[str], list[Any], list[Any]]:
        """Values and limits of rows not all in the report's unit (or written before values
        were converted), converted one by one."""
        assert self.unit is not None
        texts, lower, upper = [], [], []
        for row in rows:
            spec_unit = row[SPEC_UNIT]
            text, lo, hi = row[IN_SPEC_UNIT], row[LOWER], row[UPPER]
            if text is None:  # a record written before values were converted: as measured
                text = row[VALUE]
                if spec_unit is not None:
                    text = convert(text, row[UNIT], spec_unit)
            if spec_unit != self.unit and spec_unit is not None:
                text = convert(text, spec_unit, self.unit)
                lo = None if lo is None else convert(lo, spec_unit, self.unit)
                hi = None if hi is None else convert(hi, spec_unit, self.unit)
            texts.append(text)
            lower.append(lo)
            upper.append(hi)
        return texts, lower, upper

    def _floats(self, texts: Sequence[str], refs: Sequence[str]) -> Any:
        """The values as floats; SpcReportError naming the first that is not a finite number."""
        np = self.np
        try:
            if np is not None:
                values = np.array(texts, dtype=float)
                if np.isfinite(values).all():
                    return values
            else:
                floats = [float(t) for t in texts]
                if all(f - f == 0 for f in floats):
                    return floats
        except (ValueError, TypeError):
            pass
        for ref, text in zip(refs, texts, strict=True):
            try:
                if Decimal(text).is_finite() and float(text) - float(text) == 0:
                    continue
            except (ValueError, TypeError, InvalidOperation):
                pass
            raise SpcReportError(
                f"Reading {ref} of characteristic {self.char} is not a number ({text!r})."
            )
        raise SpcReportError(f"A reading of characteristic {self.char} is not a number.")

    # -- figures and rules ----------------------------------------------------------------------

    def _values(self) -> Any:
        """Every value as floats (one array with numpy)."""
        if self.np is not None:
            return self.np.concatenate(self.chunks) if self.chunks else self.np.zeros(0)
        return [x for chunk in self.chunks for x in chunk]

    def _version_runs(self) -> tuple[list[tuple[LimitVersion, int, int]], list[int]]:
        """The readings judged (their indices; those taken before the first version are not)
        and (version, first, end) of each run of them judged against one version, in order."""
        versions = sorted(self.versions, key=lambda v: parse_utc_any(v.effective_from))
        starts = [format_utc(parse_utc_any(v.effective_from)) for v in versions]
        runs: list[tuple[LimitVersion, int, int]] = []
        current: int | None = None
        first = 0
        picked: list[int] = []
        for when in self.times:
            if _canonical(when):
                at = bisect_right(starts, when) - 1
            else:
                found = in_force(versions, when)
                at = -1 if found is None else versions.index(found)
            picked.append(at)
        kept = [i for i, at in enumerate(picked) if at >= 0]
        for position, i in enumerate(kept):
            if current is None or picked[i] != current:
                if current is not None:
                    runs.append((versions[current], first, position))
                current, first = picked[i], position
        if current is not None:
            runs.append((versions[current], first, len(kept)))
        return runs, kept

    def _replay(
        self, limits: LimitVersion, texts: Sequence[str], refs: Sequence[str], floats: Any
    ) -> tuple[list[Violation], list[ChartPoint], int]:
        """(violations, newest points, points plotted) of readings judged from a fresh start."""
        if self.np is not None:
            result = replay_series(texts, refs, limits, floats=floats, keep=CHART_POINTS)
            return list(result.violations), list(result.points), result.plotted
        monitor = Monitor(limits)
        points: deque[ChartPoint] = deque(maxlen=CHART_POINTS)
        violations: list[Violation] = []
        plotted = 0
        for ref, text in zip(refs, texts, strict=True):
            point = monitor.feed(ref, Decimal(text))
            if point is not None:
                plotted += 1
                points.append(point)
                violations.extend(point.violations)
        return violations, list(points), plotted

    def _derive(self, head: list[tuple[str, Decimal]]) -> LimitVersion | None:
        """Limits from the first readings (None, with a note, where they cannot be had)."""
        try:
            return derive_limits(
                head[: self.need],
                self.settings,
                part_number=self.part[:30],
                characteristic=self.char[:20],
                unit=(self.unit or "-")[:10],
                resolution=self.step,
                effective_from=self.first_at,
                reason=f"derived by spc report from the first {self.need} readings",
            )
        except (BaselineError, SpcError, ValueError) as exc:
            self.notes.append(f"No control limits: {exc}")
            return None

    def finish(self, char_id: str, name: str) -> CharacteristicReport:
        """The figures of the series."""
        lower, upper = self.last_limits
        lo = None if lower is None else Decimal(lower)
        hi = None if upper is None else Decimal(upper)
        if len(self.limits_seen) > 1:
            self.notes.append(
                f"The readings were judged against {len(self.limits_seen)} sets of specification "
                "limits; the indices use the latest."
            )
        head = [
            (ref, Decimal(text))
            for ref, text in zip(
                self.refs[: max(self.need, 100)], self.texts[: max(self.need, 100)], strict=True
            )
        ]
        digits = limit_digits(self.step, [v for _, v in head])
        values = self._values()
        cap = capability(
            values,
            lower=lo,
            upper=hi,
            digits=digits,
            subgroup_size=self.settings.subgroup_size,
        )
        limits: LimitVersion | None = None
        violations: list[Violation] = []
        points: list[ChartPoint] = []
        plotted = 0
        derived = False
        if self.rules and self.versions:
            runs, kept = self._version_runs()
            for version, first, end in runs:
                index = kept[first:end]
                texts = [self.texts[i] for i in index]
                refs = [self.refs[i] for i in index]
                floats = values[index] if self.np is not None else None
                found, shown, count = self._replay(version, texts, refs, floats)
                violations += found
                points = (points + shown)[-CHART_POINTS:]
                plotted += count
                limits = version
        elif self.rules and self.count >= self.need > 0:
            limits = self._derive(head)
            if limits is not None:
                derived = True
                violations, points, plotted = self._replay(limits, self.texts, self.refs, values)
        if not self.rules:
            label = "rules not evaluated (figures only)"
        elif self.versions:
            label = (
                f"locked limits version {limits.version}" if limits else "no locked limits in force"
            )
        elif derived:
            label = f"limits derived from the first {self.need} readings (not locked)"
        elif self.count < self.need:
            why = (
                f"{self.count} readings, the first {self.need} are needed to derive them "
                "(spc baseline)"
            )
            label = f"no control limits: {why}"
            self.notes.append(f"Rules not evaluated: {why}.")
        else:
            label = "no control limits"
        return CharacteristicReport(
            id=char_id,
            name=name,
            unit=self.unit or "",
            settings=self.settings,
            capability=cap,
            manual=self.manual,
            superseded=self.superseded,
            stations=tuple(sorted(self.stations)),
            first_at=self.first_at,
            last_at=self.last_at,
            limits=limits,
            limits_label=label,
            locked=bool(self.versions) and limits is not None,
            points=tuple(points),
            plotted=plotted,
            violations=tuple(violations),
            notes=tuple(self.notes),
        )


def parse_utc_any(text: str) -> dt.datetime:
    """An RFC 3339 UTC time (with or without fractions of a second) as an aware datetime."""
    try:
        return parse_utc(text)
    except ValueError:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
