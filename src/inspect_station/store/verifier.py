"""Verifying the local record: the whole chain and every projection row, or what is new.

The checks are those of ``journal.ChainVerifier`` and ``projections.check_projections`` --
seq gap-free, station, format, prev_hash links, every hash recomputed over the RFC 8785 bytes,
every projection row re-derived and compared. ``verify_rows`` takes the journal in spans:

- first the fast way (``verify_fast``): the hash over the stored bytes, their canonical form
  checked without a decode, the stored projection rows rendered and compared in SQLite with
  what the body's own bytes say (see that module for why that is the same check);
- any span the fast way is not sure of -- and every span with ``fast=False``, the reference --
  the way it always was: a journal row's body decoded once by ``canonical.parse_body``, the
  record's canonical bytes composed from it and hashed, a table's stored rows for the span
  fetched as tuples and compared with the rows ``project`` derives as one list comparison, and
  where that fails, the general code row by row, column by column.

So the report (which seq, what is wrong) is exactly what the reference says. This module owns
no file: it reads through the callables the store hands it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from inspect_station.canonical import canonical_parts, parse_body
from inspect_station.store import journal
from inspect_station.store.projections import TABLES, check_projections, project, shape_problem
from inspect_station.store.verify_fast import FastSpans

SPAN = 2000
"""Journal records read, checked and compared with their projection rows at a time."""

Rows = Callable[[int, int], list[tuple[Any, ...]]]
"""(after_seq, limit) -> journal rows as stored (``journal.STORED_FIELDS``)."""
Query = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]
"""(sql, params) -> rows as tuples: a read of the local record."""

_COLUMNS = {table: [c for c, _ in columns] for table, columns in TABLES.items()}
_PICK = {table: itemgetter(*columns) for table, columns in _COLUMNS.items()}
_STORED_SQL = {
    table: f"SELECT {', '.join(columns)} FROM {table} WHERE seq BETWEEN ? AND ? ORDER BY seq, rowid"
    for table, columns in _COLUMNS.items()
}
assert all(len(columns) >= 2 for columns in _COLUMNS.values())  # itemgetter gives tuples


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of verifying the local record: the chain and every projection row."""

    ok: bool
    """Whether everything verified."""
    count: int
    """Number of journal records checked."""
    bad_seq: int | None = None
    """The first seq found wrong."""
    reason: str | None = None
    """What is wrong with it."""
    head_seq: int = 0
    """seq of the last record verified (with ``ok``: the head of the record)."""
    head_hash: str = journal.GENESIS
    """hash of that record."""
    from_seq: int = 0
    """The checkpoint verification started after (0: the whole chain, from its first record)."""
    checkpoint_at: str | None = None
    """When the chain up to ``from_seq`` was last verified in full (UTC), if it started there."""

    def summary(self) -> str:
        """One line for the terminal."""
        if self.ok:
            if self.from_seq:
                return (
                    f"OK: {self.count} records after the checkpoint at seq {self.from_seq} "
                    f"(the chain up to it verified in full on {self.checkpoint_at}), chain and "
                    "projections verified; verify --full re-verifies everything."
                )
            return f"OK: {self.count} records, chain and projections verified."
        return f"BROKEN at seq {self.bad_seq}: {self.reason}"


def verify_rows(
    station: str,
    rows: Rows,
    query: Query,
    *,
    after_seq: int = 0,
    after_hash: str = journal.GENESIS,
    fast: bool = True,
) -> VerifyReport:
    """Verify the journal after ``after_seq`` (whose hash is ``after_hash``) and its rows.

    From seq 0 (GENESIS) it is the full verification; from a checkpoint, the records after it
    are checked as a continuation of the chain whose head the checkpoint names. ``fast``
    (the default) checks each span in SQL first (``verify_fast``) and hands any span it is not
    sure of to the reference; without it, every span is the reference's.
    """
    verifier = journal.ChainVerifier(station, after_seq, after_hash)
    count = 0
    spans = FastSpans(station, query) if fast else None
    while True:
        # Spans keep the reference's boundaries (SPAN records from after_seq), because within
        # a span the reference reports a broken link before an altered row at an earlier seq.
        end = verifier.seq + SPAN
        while spans is not None and verifier.seq < end:
            done = spans.span(verifier.seq, verifier.prev_hash, end - verifier.seq)
            if done is None:
                break  # the rest of the span is the reference's
            n, verifier.seq, verifier.prev_hash, stuck = done
            verifier.count += n
            count += n
            if not stuck:
                if n == 0:
                    end = verifier.seq  # the journal ends here
                break
            # The fast way was not sure of the next record: the reference looks at it alone,
            # and if it is in order, the fast way goes on after it.
            probe = journal.ChainVerifier(station, verifier.seq, verifier.prev_hash)
            if _reference_span(probe, rows(verifier.seq, 1), query, after_seq)[0] is not None:
                break  # something is wrong: the reference reports it as it would the span
            verifier.seq, verifier.prev_hash = probe.seq, probe.prev_hash
            verifier.count += 1
            count += 1
        if spans is not None and verifier.seq >= end:
            if end == verifier.seq and not rows(verifier.seq, 1):
                break
            continue
        span = rows(verifier.seq, end - verifier.seq)
        if not span:
            break
        report, checked = _reference_span(verifier, span, query, after_seq)
        count += checked
        if report is not None:
            return dataclasses.replace(report, count=count)
    head = verifier.report()
    for table in TABLES:
        extra = query(f"SELECT MIN(seq) FROM {table} WHERE seq > ?", (head.head_seq,))
        if extra and extra[0][0] is not None:
            seq = extra[0][0]
            return VerifyReport(
                False,
                count,
                seq,
                f"{table} has a row for seq {seq}, which the journal lacks",
                from_seq=after_seq,
            )
    return VerifyReport(True, count, None, None, head.head_seq, head.head_hash, after_seq)


def _reference_span(
    verifier: journal.ChainVerifier,
    span: list[tuple[Any, ...]],
    query: Query,
    after_seq: int,
) -> tuple[VerifyReport | None, int]:
    """Verify one span the reference way: (the report if something is wrong, records read)."""
    count = 0
    records: list[dict[str, Any]] = []
    for row in span:
        record = _checked(verifier, row)
        if isinstance(record, VerifyReport):
            return _counted(record, count + 1, after_seq), count + 1
        count += 1
        if record is None:
            report = verifier.report()
            return VerifyReport(
                False, count, report.bad_seq, report.reason, report.head_seq,
                report.head_hash, after_seq,
            ), count  # fmt: skip
        records.append(record)
    problem = _projections(records, query)
    if problem is not None:
        return VerifyReport(False, count, problem[0], problem[1], from_seq=after_seq), count
    return None, count


def _counted(report: VerifyReport, count: int, after_seq: int) -> VerifyReport:
    return VerifyReport(False, count, report.bad_seq, report.reason, from_seq=after_seq)


def _spans(rows: Rows, after_seq: int) -> Iterator[list[tuple[Any, ...]]]:
    """The journal rows after ``after_seq`` in spans of consecutive reads."""
    last = after_seq
    while True:
        span = rows(last, SPAN)
        if not span:
            return
        yield span
        last = span[-1][2]


def _checked(
    verifier: journal.ChainVerifier, row: tuple[Any, ...]
) -> dict[str, Any] | VerifyReport | None:
    """The record of a journal row if it continues the chain; None if the verifier refused it
    (its ``failure`` says why); a report if its body cannot be decoded."""
    fmt, station, seq, uuid, kind, ts, prev_hash, hash_, text = row
    try:
        body, plain = parse_body(text)
    except (ValueError, TypeError) as exc:
        return VerifyReport(False, 0, seq, f"record body is not valid JSON ({exc})")
    record = {
        "format": fmt,
        "station": station,
        "seq": seq,
        "uuid": uuid,
        "kind": kind,
        "ts": ts,
        "prev_hash": prev_hash,
        "body": body,
        "hash": hash_,
    }
    if (
        plain
        and fmt == journal.FORMAT
        and type(fmt) is int
        and station == verifier.station
        and seq == verifier.seq + 1
        and type(seq) is int
        and prev_hash == verifier.prev_hash
    ):
        try:
            data, _ = canonical_parts(record, plain_body=True)
        except Exception:
            data = None
        if data is not None and hashlib.sha256(data).hexdigest() == hash_:
            # What ChainVerifier.feed does for a record it finds in order.
            verifier.count += 1
            verifier.seq = seq
            verifier.prev_hash = hash_
            return record
    return record if verifier.feed(record) else None


def _projections(records: Sequence[dict[str, Any]], query: Query) -> tuple[int, str] | None:
    """The first (seq, reason) where stored projection rows differ from the journal's."""
    if not records:
        return None
    first, last = records[0]["seq"], records[-1]["seq"]
    expected: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLES}
    for index, record in enumerate(records):
        try:
            rows = project(record)
        except Exception:  # a body that cannot give its rows (a key missing, not an object)
            earlier = _projections(records[:index], query)
            if earlier is not None:
                return earlier
            problem = shape_problem(record) or "the body is not what its kind needs"
            return record["seq"], f"{problem}: the record cannot give its query-table rows"
        for table, row in rows:
            expected[table].append(_PICK[table](row))
    for table in TABLES:
        if query(_STORED_SQL[table], (first, last)) != expected[table]:
            return _explain(records, query)
    return None


def _explain(records: Sequence[dict[str, Any]], query: Query) -> tuple[int, str] | None:
    """The general comparison, row by row, column by column: the first difference named."""

    def stored(table: str, first: int, last: int) -> list[dict[str, Any]]:
        names = _COLUMNS[table]
        return [
            dict(zip(names, row, strict=True)) for row in query(_STORED_SQL[table], (first, last))
        ]

    return check_projections(records, stored)
