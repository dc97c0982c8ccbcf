"""The capability report of a part or a lot: n, mean, sigmas, Cp/Cpk/Pp/Ppk, violations.

``spc_report(source, scope)`` reads the variable readings of a part number (every lot) or of
one lot through a record source -- a station's local record or a central store with every
station's records -- streaming them a page of plain tuples at a time (``store.spc_reads``
through ``RecordSource.row_tuples``), each station's in chain order and the stations merged
by time, every characteristic in one pass (``reports.spc_series.Series`` keeps the columns).
Superseded values are left out (and counted); manual entries are included (and counted).
Values are taken in the spec's unit (``value_in_spec_unit``).

Per characteristic the report gives the pure core's ``capability`` figures (``spc.capability``:
sigma within = MR-bar/d2 for individuals or R-bar/d2 for subgroups of the characteristic's
subgroup size, sigma overall with n - 1, only the indices the specification limits allow, an
Anderson-Darling note where n allows) against the limits of the latest reading, and the
Nelson-rule violations found by replaying the readings (``spc.vector``, exactly what
``spc.Monitor`` finds; the monitor itself without numpy):

- against the locked limit versions in force when each reading was taken, where the record
  holds any (``locked_limits``: the station's ``spc_limits`` records);
- otherwise against limits derived from the first ``baseline`` readings of the report itself
  (``SpcSettings.baseline`` points), labelled "derived from the first N readings (not
  locked)" -- never presented as the station's limits.

With the rules, each characteristic also carries its alarm-fatigue figures (the station's
answered alarms by cause, ``spc.fatigue``) and the in-control ARL of the rules in force. With
``by_station`` each station's readings are reported on their own as well, side by side.
The SPC settings of a characteristic (subgroup size, baseline, rules) are the caller's
(``settings=``), else those its recorded spec declares as ``spc`` (``spec_settings``), else
``SpcSettings()``.
"""

from __future__ import annotations

import gc
import heapq
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import groupby, islice
from operator import itemgetter
from typing import Any

from pydantic import ValidationError

from inspect_station.clock import utc_timestamp
from inspect_station.config import NO_CAUSE
from inspect_station.records import RecordSource
from inspect_station.reports.spc_model import (
    CharacteristicReport,
    ReportScope,
    SpcReport,
    SpcReportError,
)
from inspect_station.reports.spc_series import (
    CHARACTERISTIC,
    CHART_POINTS,
    MEASURED_AT,
    SEQ,
    Series,
)
from inspect_station.spc import Arl, LimitsError, LimitVersion, SpcSettings, in_control_arl
from inspect_station.spc.fatigue import CauseTally, tally_causes
from inspect_station.spec.model import Kind, PartSpec
from inspect_station.store import queries, spc_reads

__all__ = ["CHART_POINTS", "PAGE", "ReportScope", "SpcReportError", "locked_limits", "spc_report"]

PAGE = 50_000
"""Readings per page read from the source (plain tuples, one characteristic at a time)."""

SettingsFor = Callable[[str], SpcSettings | None]
"""Characteristic id -> its SPC settings (None: the spec's, else ``SpcSettings()``)."""


def locked_limits(
    source: RecordSource, part_number: str, characteristic: str
) -> list[LimitVersion]:
    """The locked limit versions of a characteristic in ``source`` (its ``spc_limits``
    records), oldest first; [] where none is locked (the report then charts against limits
    derived from its own first readings) or the source predates SPC records.

    A version whose stored hash does not match its content is an error (SpcReportError), never
    used silently.
    """
    if not source.has_table("spc_limits"):
        return []
    versions = []
    for row in source.rows(spc_reads.LOCKED_LIMITS, [part_number, characteristic]):
        try:
            body = json.loads(row["limits"]) if isinstance(row["limits"], str) else row["limits"]
            versions.append(LimitVersion.from_body(body, row["limits_hash"]))
        except (ValueError, LimitsError) as exc:
            raise SpcReportError(
                f"The limits locked for {part_number} #{characteristic} cannot be read: {exc}"
            ) from None
    return versions


# -- reading ----------------------------------------------------------------------------------


def _station_pages(
    source: RecordSource, scope: ReportScope, station: str, page: int
) -> Iterator[list[tuple[Any, ...]]]:
    """One station's readings in scope, in chain order, a page of plain tuples
    (``spc_reads.READING_FIELDS``) at a time: a part's by windows of ``page`` seqs along the
    chain, a lot's by ``page`` rows."""
    part = scope.lot is None
    query = spc_reads.reading_page(
        "part" if part else "lot",
        since=scope.since is not None,
        characteristic=scope.characteristic is not None,
    )
    extra = [v for v in (scope.since, scope.characteristic) if v is not None]
    key = scope.part_number if part else scope.lot
    if part:
        head = source.heads[station][0]
        for after in range(0, head, page):
            rows = source.row_tuples(query, [key, station, after, after + page, *extra])
            if rows:
                yield rows
        return
    seq = 0
    while True:
        rows = source.row_tuples(query, [key, station, seq, *extra, page])
        if rows:
            yield rows
        if len(rows) < page:
            return
        seq = rows[-1][SEQ]


def _merged(
    streams: dict[str, Iterator[list[tuple[Any, ...]]]], page: int
) -> Iterator[list[tuple[Any, ...]]]:
    """Several stations' pages merged by time (then station, seq), each row with its station
    appended, a page at a time."""

    def keyed(station: str, pages: Iterator[list[tuple[Any, ...]]]) -> Iterator[Any]:
        for rows in pages:
            for row in rows:
                yield (row[MEASURED_AT], station, row[SEQ]), (*row, station)

    merged = heapq.merge(*(keyed(s, p) for s, p in streams.items()))
    while batch := list(islice(merged, page)):
        yield [row for _, row in batch]


def _by_characteristic(rows: list[tuple[Any, ...]]) -> Iterator[tuple[str, list[Any]]]:
    """A page's rows per characteristic, each in the page's order."""
    first = rows[0][CHARACTERISTIC]
    if rows[-1][CHARACTERISTIC] == first and all(r[CHARACTERISTIC] == first for r in rows):
        yield first, rows
        return
    for char, group in groupby(sorted(rows, key=_CHAR), key=_CHAR):
        yield char, list(group)


_CHAR = itemgetter(CHARACTERISTIC)


def _teed(
    pages: Iterator[list[tuple[Any, ...]]],
    station: str,
    feed: Callable[[list[tuple[Any, ...]], str | None, bool, bool], None],
) -> Iterator[list[tuple[Any, ...]]]:
    """A station's pages, each also fed to that station's own series on the way."""
    for rows in pages:
        feed(rows, station, False, True)
        yield rows


ARL_BUDGET = 30_000
"""Simulated points the report spends on an in-control ARL (its standard error is shown)."""


def _with_fatigue(
    source: RecordSource, part: str, chars: tuple[CharacteristicReport, ...], no_cause: str
) -> tuple[CharacteristicReport, ...]:
    """Each characteristic with its answered alarms by cause (the station's alarm records,
    every lot) and the in-control ARL of the rules and subgroup size it was judged with."""
    tallies: dict[tuple[str, str], CauseTally] = {}
    if source.has_table("spc_violations") and source.has_table("spc_answers"):
        tallies = tally_causes(source.rows(spc_reads.ANSWER_TALLY, [part]), no_cause)
    arls: dict[Any, Arl] = {}
    out = []
    for c in chars:
        if c.limits is not None:
            key: Any = (c.limits.rules, c.limits.subgroup_size, c.limits.cusum, c.limits.ewma)
        else:
            s = c.settings
            key = (s.rules, s.subgroup_size, s.cusum, s.ewma)
        if key not in arls:
            rules, n, cusum, ewma = key
            arls[key] = in_control_arl(rules, n, cusum=cusum, ewma=ewma, budget=ARL_BUDGET)
        found = tallies.get((part, c.id), CauseTally())
        out.append(replace(c, fatigue=found, arl=arls[key]))
    return tuple(out)


@contextmanager
def _bulk() -> Iterator[None]:
    """No cyclic garbage collection while a report reads and judges its rows.

    A report makes millions of short tuples and strings that never form cycles; each
    collection would walk every row already kept (half the reading time at 300,000 readings).
    Reference counting still frees everything; the collector's state is restored after.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _latest_spec(source: RecordSource, scope: ReportScope, stations: list[str]) -> str | None:
    """The spec hash of the newest variable reading in scope (of any station)."""
    kind = "lot" if scope.lot is not None else "part"
    key = scope.lot if scope.lot is not None else scope.part_number
    found: list[tuple[str, str, str]] = []
    for station in stations:
        for spec_hash, when in source.row_tuples(spc_reads.LAST_SPEC[kind], [key, station]):
            found.append((when, station, spec_hash))
    return max(found)[2] if found else None


# -- the report ---------------------------------------------------------------------------------


@dataclass
class _Specs:
    """The part's recorded spec revisions, by content hash."""

    by_hash: dict[str, PartSpec] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def latest(self, spec_hash: str | None) -> PartSpec | None:
        """The revision with this hash, else the last recorded."""
        if spec_hash in self.by_hash:
            return self.by_hash[spec_hash]
        return self.by_hash[self.order[-1]] if self.order else None


def _specs(source: RecordSource, part_number: str) -> _Specs:
    out = _Specs()
    for row in source.rows(spc_reads.PART_SPECS, [part_number]):
        try:
            spec = PartSpec.model_validate(json.loads(row["content"]))
        except (ValidationError, ValueError):
            continue  # a spec record that cannot be read names no characteristic
        if row["spec_hash"] not in out.by_hash:
            out.order.append(row["spec_hash"])
        out.by_hash[row["spec_hash"]] = spec
    return out


def spec_settings(ch: Any, specs: _Specs) -> SpcSettings | None:
    """The SPC settings a recorded spec declares for a characteristic (its own, else the
    spec's), where the spec model carries them as ``spc``; None otherwise."""
    for holder in (ch, specs.latest(None)):
        found = getattr(holder, "spc", None)
        if isinstance(found, SpcSettings):
            return found
    return None


def _check_scope(source: RecordSource, scope: ReportScope) -> str:
    """The part number of the scope; SpcReportError for an unknown lot or part."""
    if (scope.lot is None) == (scope.part_number is None):
        raise SpcReportError("Give a lot or a part number to report on, not both.")
    if scope.lot is not None:
        rows = source.rows(queries.LOT_OPENED, [scope.lot])
        if not rows:
            raise SpcReportError(f"There is no lot {scope.lot!r} in the {source.description}.")
        return str(rows[0]["part_number"])
    part = str(scope.part_number)
    if not source.rows(spc_reads.PART_INSPECTED, [part])[0]["n"]:
        raise SpcReportError(f"There is no part {part!r} in the {source.description}.")
    return part


def spc_report(
    source: RecordSource,
    scope: ReportScope,
    *,
    settings: SettingsFor | Mapping[str, SpcSettings] | SpcSettings | None = None,
    by_station: bool = False,
    rules: bool = True,
    page: int = PAGE,
    no_cause: str = NO_CAUSE,
) -> SpcReport:
    """The capability report of ``scope`` from ``source``; SpcReportError saying what is wrong.

    ``rules=False`` gives the figures alone (no control limits, no violations). ``no_cause`` is
    the cause code that means "no assignable cause found" (the station's ``[spc] no_cause``).
    """
    part = _check_scope(source, scope)
    specs = _specs(source, part)
    known = {ch.id: ch for h in specs.order for ch in specs.by_hash[h].characteristic}
    if scope.characteristic is not None:
        ch = known.get(scope.characteristic)
        if ch is None and known:
            raise SpcReportError(
                f"Part {part} has no characteristic {scope.characteristic!r} (its "
                f"characteristics are {', '.join(known)})."
            )
        if ch is not None and ch.kind is Kind.ATTRIBUTE:
            raise SpcReportError(
                f"Characteristic {ch.id} of part {part} is an attribute (pass/fail): it has no "
                "values to report capability on."
            )

    def settings_of(char: str) -> SpcSettings:
        if isinstance(settings, SpcSettings):
            return settings
        if isinstance(settings, Mapping):
            found = settings.get(char)
        else:
            found = settings(char) if settings is not None else None
        return found or spec_settings(known.get(char), specs) or SpcSettings()

    def make(char: str) -> Series:
        ch = known.get(char)
        return Series(
            part,
            char,
            settings_of(char),
            locked_limits(source, part, char) if rules else [],
            ch.step if ch is not None else None,
            rules,
        )

    stations = sorted(source.heads)
    series: dict[str, Series] = {}
    per_station: dict[tuple[str, str], Series] = {}

    def feed(rows: list[tuple[Any, ...]], station: str | None, merged: bool, own: bool) -> None:
        """Rows to the series of all stations (``merged``) and to the station's own (``own``)."""
        for char, group in _by_characteristic(rows):
            if own and station is not None:
                mine = per_station.get((station, char))
                if mine is None:
                    mine = per_station[(station, char)] = make(char)
                mine.add_page(group, station)
            if merged:
                entry = series.get(char)
                if entry is None:
                    entry = series[char] = make(char)
                entry.add_page(group, station)

    with _bulk():
        if len(stations) == 1:
            for rows in _station_pages(source, scope, stations[0], page):
                feed(rows, stations[0], True, by_station)
        else:
            streams = {s: _station_pages(source, scope, s, page) for s in stations}
            if by_station:
                streams = {s: _teed(p, s, feed) for s, p in streams.items()}
            for rows in _merged(streams, page):
                feed(rows, None, True, False)
    latest_hash = _latest_spec(source, scope, stations) if series else None
    if not any(s.count for s in series.values()):
        raise SpcReportError(
            f"Nothing measured: {scope.describe()} has no variable readings in force in the "
            f"{source.description}."
        )
    spec = specs.latest(latest_hash)
    order = [ch.id for ch in spec.characteristic] if spec is not None else []
    order += sorted(c for c in series if c not in order)

    def name_of(char: str) -> str:
        ch = (spec.get(char) if spec is not None else None) or known.get(char)
        return ch.name if ch is not None else ""

    with _bulk():
        chars = tuple(
            series[c].finish(c, name_of(c)) for c in order if c in series and series[c].count
        )
    if rules:
        chars = _with_fatigue(source, part, chars, no_cause)
    side_by_side = None
    if by_station:
        names = sorted({s for s, _ in per_station})
        side_by_side = tuple(
            (
                station,
                tuple(
                    per_station[(station, c)].finish(c, name_of(c))
                    for c in order
                    if (station, c) in per_station and per_station[(station, c)].count
                ),
            )
            for station in names
        )
    return SpcReport(
        scope=scope,
        part_number=part,
        revision=spec.revision if spec is not None else "",
        description=spec.description if spec is not None else "",
        source=source,
        generated_at=utc_timestamp(),
        characteristics=chars,
        by_station=side_by_side,
    )
