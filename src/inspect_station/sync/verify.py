"""Verify a central store: every station's chain recomputed, its projections re-derived.

Streams each station's journal back (keyset pages, flat memory), feeds it through the same
``journal.ChainVerifier`` the station uses (seq gap-free from 1, prev_hash links, every hash
recomputed with ``journal.record_hash``), compares every projection row with what
``projections.project`` derives from the journal, and checks the station's verified head.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from inspect_station.store import journal
from inspect_station.store.projections import check_projections
from inspect_station.sync.central import CentralStore, StationSummary, open_central

_CHUNK = 2000


@dataclass(frozen=True)
class StationReport:
    """Outcome of verifying one station's records in the central store."""

    station: str
    """Station id."""
    records: int
    """Records the central store holds for it."""
    checked: int
    """Records verified (up to and including the first bad one)."""
    head_seq: int
    """The station's verified head seq in the central store."""
    ok: bool
    """Whether the chain, the projections and the head all verified."""
    bad_seq: int | None = None
    """The first seq found wrong."""
    reason: str | None = None
    """What is wrong, in one sentence."""

    def line(self) -> str:
        """One line for the terminal."""
        if self.ok:
            span = f"seq 1-{self.head_seq}" if self.head_seq else "no records"
            return f"{self.station}: {self.records:,} records, {span}, chain and projections OK"
        where = f" at seq {self.bad_seq}" if self.bad_seq is not None else ""
        return f"{self.station}: {self.records:,} records, BROKEN{where}: {self.reason}"


def _check_projections(
    central: CentralStore, station: str, records: list[dict[str, Any]]
) -> tuple[int, str] | None:
    """The first (seq, reason) where stored projection rows differ from the journal's."""

    def stored(table: str, first: int, last: int) -> list[dict[str, Any]]:
        return central.projection_rows(table, station, first, last)

    return check_projections(records, stored, station)


def verify_station(central: CentralStore, summary: StationSummary) -> StationReport:
    """Verify one station's chain, projections and head in the central store."""
    station = summary.station
    verifier = journal.ChainVerifier(station)
    chunk: list[dict[str, Any]] = []

    def broken(seq: int | None, reason: str) -> StationReport:
        return StationReport(
            station, summary.records, verifier.count, summary.head_seq, False, seq, reason
        )

    for record in central.records(station):
        if not verifier.feed(record):
            report = verifier.report()
            return broken(report.bad_seq, report.reason or "the chain is broken")
        chunk.append(record)
        if len(chunk) >= _CHUNK:
            problem = _check_projections(central, station, chunk)
            if problem:
                return broken(*problem)
            chunk = []
    if chunk:
        problem = _check_projections(central, station, chunk)
        if problem:
            return broken(*problem)
    report = verifier.report()
    if (summary.head_seq, summary.head_hash) != (report.head_seq, report.head_hash):
        return broken(
            summary.head_seq,
            f"the verified head says seq {summary.head_seq} but the journal ends at seq "
            f"{report.head_seq} (head or journal altered)",
        )
    stray = central.projection_beyond(station, report.head_seq)
    if stray:
        table, seq = stray
        return broken(seq, f"{table} has a row for seq {seq}, which the journal lacks")
    return StationReport(station, summary.records, report.count, summary.head_seq, True)


def verify_central_store(
    central: CentralStore, on_report: Callable[[StationReport], None] | None = None
) -> list[StationReport]:
    """Verify every station in the central store; reports in station order."""
    reports = []
    for summary in central.stations():
        report = verify_station(central, summary)
        if on_report is not None:
            on_report(report)
        reports.append(report)
    return reports


def verify_central(url: str, echo: Callable[[str], None] = click.echo) -> int:
    """Verify a central store and print per-station counts; the exit code (1 if broken)."""
    with open_central(url, create=False) as central:
        echo(f"Central store {central.url.display}:")
        reports = verify_central_store(central, lambda r: echo(f"  {r.line()}"))
    bad = [r for r in reports if not r.ok]
    total = sum(r.records for r in reports)
    if bad:
        echo(f"BROKEN: {len(bad)} of {len(reports)} station(s) failed verification.")
        return 1
    echo(f"OK: {len(reports)} station(s), {total:,} records, every chain verified.")
    return 0
