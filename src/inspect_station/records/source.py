"""The read side's one interface: a snapshot of the record, asked by named queries.

``RecordSource`` is what review, export, trace, QIF/FAI (and SPC, in time) read records
through, the same over a station's local store (``records.local``) and a central store
(``records.central``). A source is a snapshot: it notes each station's head when it is opened
and never returns a row of a record written after that, so an export taken while a bench keeps
recording is consistent and says exactly which records it covers.

A source runs only catalogue queries (``store.catalog``; the read side's own are in
``store.queries``): ``rows(query, params, values=)`` is the one way to read. What a source can
do beyond the portable queries it says in ``capabilities`` (``Capability.PACKED_PAGES``: pages
of plain rows built by the database itself); a caller asks, never checks the source's type.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from inspect_station.errors import InspectStationError
from inspect_station.store import queries
from inspect_station.store.catalog import ReadQuery, registered
from inspect_station.store.projections import TABLES
from inspect_station.store.queries import FORMULA, ROW_FIELDS

FIELD = {name: index for index, name in enumerate(ROW_FIELDS)}
"""Field name -> index in a measurement row (``ROW_FIELDS``)."""
ROW_FLAG = FORMULA
"""The name of the flag that ends a row of ``measurement_rows`` (see there)."""


class SourceError(InspectStationError):
    """A record source cannot be opened or read."""


class Capability(StrEnum):
    """What a source can do beyond the portable named queries."""

    PACKED_PAGES = "packed pages"
    """``packed_pages``: a lot's rows as plain lists built by the database, read ahead."""
    TUPLE_ROWS = "tuple rows"
    """``row_tuples`` straight from the database cursor (without it: dicts turned to tuples)."""


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of verifying one station's chain where the records were read from."""

    station: str
    """Station id whose chain was verified."""
    ok: bool
    """Whether the chain (and the projections derived from it) verified."""
    records: int
    """Number of records checked."""
    head_seq: int
    """seq of the last record covered by the source's snapshot."""
    head_hash: str
    """hash of that record."""
    bad_seq: int | None = None
    """The first seq found wrong, if any."""
    reason: str | None = None
    """What is wrong with it, in one sentence."""
    verified_from: int = 0
    """0: the whole chain was verified; else only the records after this seq, a checkpoint
    whose chain a full verification found in order before (at ``full_verified_at``)."""
    full_verified_at: str | None = None
    """When the chain up to ``verified_from`` was verified in full (UTC)."""

    @property
    def note(self) -> str | None:
        """How much was verified now, when it was not the whole chain."""
        if not self.verified_from:
            return None
        return (
            f"records after the checkpoint at seq {self.verified_from} verified now; the chain "
            f"up to it was verified in full on {self.full_verified_at}"
        )

    def summary(self) -> str:
        """One line: 'BENCH-3: OK, 1204 records ...' or where it broke."""
        if self.ok:
            since = f"; {self.note}" if self.note else ""
            return (
                f"{self.station}: OK, {self.records} records verified "
                f"(head seq {self.head_seq}, hash {self.head_hash[:16]}…{since})"
            )
        return f"{self.station}: BROKEN at seq {self.bad_seq}: {self.reason}"

    def json(self) -> dict[str, Any]:
        """The check as a JSON object."""
        return {
            "station": self.station,
            "ok": self.ok,
            "records": self.records,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "bad_seq": self.bad_seq,
            "reason": self.reason,
            "verified_from": self.verified_from,
        }


@dataclass(frozen=True)
class RecordRef:
    """Where a record is: station, seq, UUID and its hash."""

    station: str
    """Station whose chain holds the record."""
    seq: int
    """Its seq in that chain."""
    uuid: str
    """Record UUID."""
    hash: str
    """Record hash (lowercase hex SHA-256 of its canonical bytes)."""

    def json(self) -> dict[str, Any]:
        """The reference as a JSON object."""
        return {"station": self.station, "seq": self.seq, "uuid": self.uuid, "hash": self.hash}


class RecordSource(ABC):
    """Read access to records and projections, the same over a local and a central store."""

    kind: str
    """``local`` or ``central``."""
    description: str
    """Where the records come from, for people (no password)."""
    capabilities: frozenset[Capability] = frozenset()
    """What the source can do beyond the portable named queries."""

    def __init__(self, heads: dict[str, tuple[int, str]]) -> None:
        self.heads = dict(heads)
        """Station -> (seq, hash) of its last record in this snapshot."""

    # -- what a source provides -----------------------------------------------------------------

    @abstractmethod
    def _read(
        self, query: ReadQuery, params: list[Any], values: Sequence[Any] | None
    ) -> list[dict[str, Any]]:
        """Rows of a registered query over the snapshot (``rows`` has checked it)."""

    @abstractmethod
    def verify(self, stations: Iterable[str]) -> list[ChainCheck]:
        """Verify the chains of these stations (chain and projections), in station order."""

    @abstractmethod
    def refresh(self) -> None:
        """Move the snapshot to the stores' current heads (to see records written since)."""

    @abstractmethod
    def close(self) -> None:
        """Release what the source holds open."""

    def __enter__(self) -> RecordSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one way to read ----------------------------------------------------------------

    def rows(
        self,
        query: ReadQuery,
        params: Sequence[Any] = (),
        *,
        values: Sequence[Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of a named read query of the catalogue (``values`` fill its ``{in}`` list)."""
        if not registered(query):
            raise ValueError(f"{query.name!r} is not a registered read query")
        if query.takes_values and values is None:
            raise ValueError(f"read query {query.name!r} needs its list of values")
        if not query.takes_values and values is not None:
            raise ValueError(f"read query {query.name!r} takes no list of values")
        return self._read(query, list(params), values)

    def row_tuples(self, query: ReadQuery, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a named read query as plain tuples in its SELECT's column order.

        For bulk reads (the SPC report's pages): no dict per row where the source can say
        ``Capability.TUPLE_ROWS``; any other source answers through ``rows`` and converts.
        """
        return [tuple(row.values()) for row in self.rows(query, params)]

    def has_table(self, table: str) -> bool:
        """Whether the source holds projection table ``table`` (a record written by an older
        version, opened as it is, may not; a central store has every table it derives)."""
        return table in TABLES

    @property
    def head_seqs(self) -> dict[str, int]:
        """Station -> seq of its last record in this snapshot."""
        return {station: seq for station, (seq, _) in self.heads.items()}

    # -- journal records ----------------------------------------------------------------------

    def _journal_rows(
        self, query: ReadQuery, keys: Iterable[tuple[str, int]]
    ) -> list[dict[str, Any]]:
        """Journal rows at these (station, seq) keys, one query per station."""
        by_station: dict[str, list[int]] = {}
        for station, seq in keys:
            by_station.setdefault(station, []).append(seq)
        rows: list[dict[str, Any]] = []
        for station, seqs in by_station.items():
            rows += self.rows(query, [station], values=seqs)
        return rows

    def record_refs(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], RecordRef]:
        """References (with hashes) of the records at these (station, seq) keys."""
        return {
            (row["station"], row["seq"]): RecordRef(
                row["station"], row["seq"], row["uuid"], row["hash"]
            )
            for row in self._journal_rows(queries.JOURNAL_REFS, keys)
        }

    def journal_records(self, keys: Iterable[tuple[str, int]]) -> list[dict[str, Any]]:
        """Full journal records at these (station, seq) keys, as hashed, in key order."""
        wanted = list(keys)
        found: dict[tuple[str, int], dict[str, Any]] = {}
        for row in self._journal_rows(queries.JOURNAL_RECORDS, wanted):
            record = dict(row)
            body = record["body"]
            record["body"] = json.loads(body) if isinstance(body, str) else body
            found[(record["station"], record["seq"])] = record
        return [found[key] for key in wanted if key in found]

    # -- measurements of a lot, streamed ----------------------------------------------------

    def lot_measurements(self, lot: str, page: int = 5000) -> Iterator[list[dict[str, Any]]]:
        """Pages of the lot's measurement rows (plus ``record_hash``), by station and seq."""
        station, seq = "", 0
        while True:
            rows = self.rows(queries.LOT_MEASUREMENT_PAGE, [lot, station, station, seq, page])
            if not rows:
                return
            yield rows
            station, seq = rows[-1]["station"], rows[-1]["seq"]

    def part_measurements(
        self, lot: str, serials: Sequence[str], chunk: int = 200
    ) -> Iterator[list[dict[str, Any]]]:
        """The lot's measurement rows grouped by part, one list per serial, in ``serials`` order."""
        for start in range(0, len(serials), chunk):
            group = list(serials[start : start + chunk])
            rows = self.rows(queries.PART_MEASUREMENTS, [lot], values=group)
            by_serial: dict[str, list[dict[str, Any]]] = {}
            for row in rows:
                by_serial.setdefault(row["serial"], []).append(row)
            for serial in group:
                yield by_serial.get(serial, [])

    def lot_gauges(self, lot: str) -> list[dict[str, Any]]:
        """Each (characteristic, gauge asset, serial, certificate, due date) a lot was measured
        with, once, by asset, serial, certificate, due date and characteristic."""
        return self.rows(queries.LOT_GAUGES, [lot])

    def lot_inspection_ends(self, lot: str) -> dict[str, tuple[str, int]]:
        """Inspection UUID -> (station, seq) of its last measurement record in the lot."""
        ends: dict[str, tuple[str, int]] = {}
        for row in self.rows(queries.LOT_INSPECTION_ENDS, [lot]):
            end = (row["station"], row["last"])
            ends[row["inspection"]] = max(ends.get(row["inspection"], end), end)
        return ends

    def serial_lots(self, serial: str) -> list[str]:
        """The lots a part serial was inspected in, the lot it was first inspected in first."""
        return [row["lot"] for row in self.rows(queries.SERIAL_LOTS, [serial])]

    def measurement_rows(self, lot: str) -> Iterator[list[list[Any]]]:
        """Pages of the lot's measurements as lists in ``ROW_FIELDS`` order, plus a flag.

        The flag after the fields is False when no text field starts with a character a
        spreadsheet would read as a formula (=, +, -, @, tab, CR, space, other than a plain
        signed number), and True or None (not checked) otherwise.
        """
        corrections = {
            r["supersedes"]: r["uuid"] for r in self.rows(queries.LOT_CORRECTIONS, [lot])
        }
        rules: dict[str | None, tuple[Any, Any, Any]] = {}
        for page in self.lot_measurements(lot):
            rows = []
            for m in page:
                text = m["decision_rule"]
                rule = rules.get(text)
                if rule is None:
                    parsed = json.loads(text) if text else {}
                    rule = (parsed.get("rule"), parsed.get("uncertainty"), parsed.get("guard"))
                    rules[text] = rule
                superseded_by = corrections.get(m["uuid"])
                m = {
                    **m,
                    "rule": rule[0],
                    "uncertainty": rule[1],
                    "guard": rule[2],
                    "status": "superseded" if superseded_by else "current",
                    "superseded_by": superseded_by,
                }
                rows.append([*(m[name] for name in ROW_FIELDS), None])
            yield rows

    def packed_pages(
        self,
        lot: str,
        fields: Sequence[str],
        text: frozenset[str] = frozenset(),
        page: int = 5000,
    ) -> Iterator[list[list[Any]]]:
        """Pages of the lot's measurements as lists of ``fields`` (``store.queries.PAGE_FIELDS``
        or the ``ROW_FLAG``), those in ``text`` as text with NULL as '', by seq: only where
        ``Capability.PACKED_PAGES`` is in ``capabilities``."""
        raise SourceError(f"The {self.description} cannot build packed pages of rows.")
