"""Where review and export read records from: a station's local store or a central store.

``RecordSource`` is the read side shared by the rejects review and the lot exports. It speaks
portable SQL (SQLite and PostgreSQL alike) over the projection tables both stores keep with the
same columns, and reads journal records and chain verifications through the store that owns
the file or the server. A source is a snapshot: it notes each station's head when it is
opened and never returns a row of a record written after that, so an export taken while a
bench keeps recording is consistent and says exactly which records it covers.
"""

from __future__ import annotations

import itertools
import json
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inspect_station.errors import InspectStationError
from inspect_station.store import LocalStore, journal
from inspect_station.store.catalog import ReadQuery, registered

if TYPE_CHECKING:
    from inspect_station.sync.central import CentralStore

_IN_CHUNK = 400

ROW_FIELDS: tuple[str, ...] = (
    "station",
    "seq",
    "uuid",
    "record_hash",
    "measured_at",
    "inspector",
    "characteristic",
    "characteristic_name",
    "kind",
    "value",
    "unit",
    "value_in_spec_unit",
    "spec_unit",
    "nominal",
    "lower",
    "upper",
    "verdict",
    "zone",
    "deviation",
    "limit_broken",
    "exceeds_by",
    "rule",
    "uncertainty",
    "guard",
    "source",
    "manual_reason",
    "gauge_asset",
    "gauge_serial",
    "gauge_certificate",
    "gauge_calibration_due",
    "raw",
    "status",
    "supersedes",
    "reason",
    "superseded_by",
    "inspection",
    "serial",
)
"""Fields of a measurement row from ``measurement_rows``, in order; a flag follows them.

``rule``, ``uncertainty`` and ``guard`` come from the recorded decision rule, ``status`` is
current or superseded, ``superseded_by`` the UUID of the correction that replaced the value.
The flag after the fields is False when no text field starts with a character a spreadsheet
would read as a formula (=, +, -, @, tab, CR, space, other than a plain signed number), and
True or None (not checked) otherwise.
"""
FIELD = {name: index for index, name in enumerate(ROW_FIELDS)}
"""Field name -> index in a measurement row."""
_NUMERIC_FIELDS = frozenset(
    {
        "value",
        "value_in_spec_unit",
        "nominal",
        "lower",
        "upper",
        "deviation",
        "exceeds_by",
        "uncertainty",
        "guard",
    }
)


class SourceError(InspectStationError):
    """A record source cannot be opened or read."""


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

    def summary(self) -> str:
        """One line: 'BENCH-3: OK, 1204 records ...' or where it broke."""
        if self.ok:
            return (
                f"{self.station}: OK, {self.records} records verified "
                f"(head seq {self.head_seq}, hash {self.head_hash[:16]}…)"
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


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RecordSource(ABC):
    """Read access to records and projections, the same over a local and a central store."""

    kind: str
    """``local`` or ``central``."""
    description: str
    """Where the records come from, for people (no password)."""

    def __init__(self, heads: dict[str, tuple[int, str]]) -> None:
        self.heads = dict(heads)
        """Station -> (seq, hash) of its last record in this snapshot."""

    # -- what a backend provides ----------------------------------------------------------------

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read query with ``?`` placeholders, as dicts."""

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

    # -- the snapshot ---------------------------------------------------------------------------

    def bound(self, alias: str) -> tuple[str, list[Any]]:
        """SQL condition (and its parameters) that keeps rows of ``alias`` inside the snapshot."""
        if not self.heads:
            return "1 = 0", []
        if len(self.heads) == 1:
            ((station, (seq, _)),) = self.heads.items()
            return f"({alias}.station = ? AND {alias}.seq <= ?)", [station, seq]
        cases = " ".join("WHEN ? THEN ?" for _ in self.heads)
        params: list[Any] = []
        for station, (seq, _) in sorted(self.heads.items()):
            params += [station, seq]
        return f"{alias}.seq <= CASE {alias}.station {cases} ELSE 0 END", params

    def select(
        self, sql: str, params: Sequence[Any] = (), *, aliases: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Run ``sql`` whose ``{bound:ALIAS}`` markers are replaced by snapshot conditions."""
        text = sql
        args: list[Any] = []
        # Placeholders are filled in textual order, so interleave bound params where they sit.
        pieces = _split_bounds(text, aliases)
        query_parts: list[str] = []
        values = list(params)
        for piece in pieces:
            if isinstance(piece, _Bound):
                condition, bound_params = self.bound(piece.alias)
                query_parts.append(condition)
                args += bound_params
            else:
                count = piece.count("?")
                args += values[:count]
                values = values[count:]
                query_parts.append(piece)
        if values:
            raise ValueError("more parameters than placeholders")
        return self.query("".join(query_parts), args)

    def select_in(
        self,
        sql: str,
        column_values: Sequence[Any],
        params: Sequence[Any] = (),
        *,
        aliases: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """``select`` with ``{in}`` replaced by ``(?, ?, ...)`` over chunks of the values."""
        rows: list[dict[str, Any]] = []
        for chunk in _chunks(list(dict.fromkeys(column_values))):
            marks = "(" + ", ".join("?" for _ in chunk) + ")"
            before, _, after = sql.partition("{in}")
            before_count = before.count("?")
            rows += self.select(
                before + marks + after,
                [*params[:before_count], *chunk, *params[before_count:]],
                aliases=aliases,
            )
        return rows

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
        if query.takes_values:
            if values is None:
                raise ValueError(f"read query {query.name!r} needs its list of values")
            return self.select_in(query.sql, values, params, aliases=query.aliases)
        if values is not None:
            raise ValueError(f"read query {query.name!r} takes no list of values")
        return self.select(query.sql, params, aliases=query.aliases)

    # -- journal records --------------------------------------------------------------------

    def _journal_rows(self, columns: str, keys: Iterable[tuple[str, int]]) -> list[dict[str, Any]]:
        """Journal rows (the given columns) at these (station, seq) keys, one query per station."""
        by_station: dict[str, list[int]] = {}
        for station, seq in keys:
            by_station.setdefault(station, []).append(seq)
        rows: list[dict[str, Any]] = []
        for station, seqs in by_station.items():
            rows += self.select_in(
                f"SELECT {columns} FROM journal j "
                "WHERE j.station = ? AND j.seq IN {in} AND {bound:j}",
                seqs,
                [station],
                aliases=["j"],
            )
        return rows

    def record_refs(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], RecordRef]:
        """References (with hashes) of the records at these (station, seq) keys."""
        return {
            (row["station"], row["seq"]): RecordRef(
                row["station"], row["seq"], row["uuid"], row["hash"]
            )
            for row in self._journal_rows("station, seq, uuid, hash", keys)
        }

    def journal_records(self, keys: Iterable[tuple[str, int]]) -> list[dict[str, Any]]:
        """Full journal records at these (station, seq) keys, as hashed, in key order."""
        wanted = list(keys)
        found: dict[tuple[str, int], dict[str, Any]] = {}
        columns = "format, station, seq, uuid, kind, ts, prev_hash, hash, body"
        for row in self._journal_rows(columns, wanted):
            record = dict(row)
            body = record["body"]
            record["body"] = json.loads(body) if isinstance(body, str) else body
            found[(record["station"], record["seq"])] = record
        return [found[key] for key in wanted if key in found]

    # -- measurements of a lot, streamed ----------------------------------------------------

    _MEASUREMENTS = (
        "SELECT m.*, j.hash AS record_hash FROM measurements m JOIN journal j "
        "ON j.station = m.station AND j.seq = m.seq "
    )

    def lot_measurements(self, lot: str, page: int = 5000) -> Iterator[list[dict[str, Any]]]:
        """Pages of the lot's measurement rows (plus ``record_hash``), by station and seq."""
        station, seq = "", 0
        while True:
            rows = self.select(
                self._MEASUREMENTS + "WHERE m.lot = ? AND {bound:m} "
                "AND (m.station > ? OR (m.station = ? AND m.seq > ?)) "
                "ORDER BY m.station, m.seq LIMIT ?",
                [lot, station, station, seq, page],
                aliases=["m"],
            )
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
            rows = self.select_in(
                self._MEASUREMENTS + "WHERE m.lot = ? AND m.serial IN {in} AND {bound:m} "
                "ORDER BY m.serial, m.station, m.seq",
                group,
                [lot],
                aliases=["m"],
            )
            by_serial: dict[str, list[dict[str, Any]]] = {}
            for row in rows:
                by_serial.setdefault(row["serial"], []).append(row)
            for serial in group:
                yield by_serial.get(serial, [])

    def lot_gauges(self, lot: str) -> list[dict[str, Any]]:
        """Each (characteristic, gauge asset, serial, certificate, due date) a lot was measured
        with, once, by asset, serial, certificate, due date and characteristic."""
        return self.select(
            "SELECT DISTINCT m.characteristic, m.gauge_asset, m.gauge_serial, "
            "m.gauge_certificate, m.gauge_calibration_due FROM measurements m "
            "WHERE m.lot = ? AND m.gauge_asset IS NOT NULL AND {bound:m} "
            "ORDER BY m.gauge_asset, m.gauge_serial, m.gauge_certificate, "
            "m.gauge_calibration_due, m.characteristic",
            [lot],
            aliases=["m"],
        )

    def lot_inspection_ends(self, lot: str) -> dict[str, tuple[str, int]]:
        """Inspection UUID -> (station, seq) of its last measurement record in the lot."""
        rows = self.select(
            "SELECT m.inspection, m.station, MAX(m.seq) AS last FROM measurements m "
            "WHERE m.lot = ? AND {bound:m} GROUP BY m.inspection, m.station",
            [lot],
            aliases=["m"],
        )
        ends: dict[str, tuple[str, int]] = {}
        for row in rows:
            end = (row["station"], row["last"])
            ends[row["inspection"]] = max(ends.get(row["inspection"], end), end)
        return ends

    def serial_lots(self, serial: str) -> list[str]:
        """The lots a part serial was inspected in, the lot it was first inspected in first."""
        rows = self.select(
            "SELECT i.lot, MIN(i.opened_at) AS first_opened FROM inspections i "
            "WHERE i.serial = ? AND {bound:i} GROUP BY i.lot ORDER BY first_opened, i.lot",
            [serial],
            aliases=["i"],
        )
        return [row["lot"] for row in rows]

    def measurement_rows(self, lot: str) -> Iterator[list[list[Any]]]:
        """Pages of the lot's measurements as lists in ``ROW_FIELDS`` order, plus the flag."""
        corrections = {
            r["supersedes"]: r["uuid"]
            for r in self.select(
                "SELECT m.uuid, m.supersedes FROM measurements m "
                "WHERE m.lot = ? AND m.supersedes IS NOT NULL AND {bound:m}",
                [lot],
                aliases=["m"],
            )
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


class _Bound:
    """A ``{bound:ALIAS}`` marker found in a query."""

    def __init__(self, alias: str) -> None:
        self.alias = alias


def _split_bounds(sql: str, aliases: Sequence[str]) -> list[str | _Bound]:
    """The query split into text and snapshot markers, in order."""
    pieces: list[str | _Bound] = []
    rest = sql
    while True:
        start = rest.find("{bound:")
        if start < 0:
            pieces.append(rest)
            return pieces
        end = rest.index("}", start)
        alias = rest[start + len("{bound:") : end]
        if alias not in aliases:
            raise ValueError(f"snapshot marker for undeclared alias {alias!r}")
        pieces.append(rest[:start])
        pieces.append(_Bound(alias))
        rest = rest[end + 1 :]


class LocalSource(RecordSource):
    """Records of this station's local store, as of the moment the source was opened."""

    kind = "local"

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self.description = f"local record {store.path} (station {store.station})"
        super().__init__({store.station: store.head()})

    def refresh(self) -> None:
        """Move the snapshot to the store's current head."""
        self.heads = {self.store.station: self.store.head()}

    def close(self) -> None:
        """Nothing to release: the store belongs to whoever opened it."""

    def bound(self, alias: str) -> tuple[str, list[Any]]:
        """Rows of this store's records up to the snapshot head."""
        return f"{alias}.seq <= ?", [self.heads[self.store.station][0]]

    def lot_measurements(self, lot: str, page: int = 5000) -> Iterator[list[dict[str, Any]]]:
        """Pages of the lot's measurement rows by seq, read along the table in seq order.

        The lot's seq range comes from the lot index; the rows are then read by rowid in that
        range, which SQLite does much faster than index look-ups plus a sort.
        """
        head = self.heads[self.store.station][0]
        bounds = self.store.query(
            "SELECT MIN(seq) AS first, MAX(seq) AS last FROM measurements "
            "WHERE lot = ? AND seq <= ?",
            (lot, head),
        )[0]
        if bounds["first"] is None:
            return
        seq, last = bounds["first"] - 1, bounds["last"]
        while True:
            rows = self.store.query(
                "SELECT m.*, j.hash AS record_hash FROM measurements m "
                "JOIN journal j ON j.seq = m.seq "
                "WHERE +m.lot = ? AND m.seq > ? AND m.seq <= ? ORDER BY m.seq LIMIT ?",
                (lot, seq, last, page),
            )
            if not rows:
                return
            yield rows
            seq = rows[-1]["seq"]

    def measurement_rows(self, lot: str, page: int = 5000) -> Iterator[list[list[Any]]]:
        """Pages of measurement rows built by SQLite itself (see ``sqlite_pages``).

        The same rows as the portable ``RecordSource.measurement_rows``, with the decision
        rule, the correction links and the formula flag computed in SQL.
        """
        return self.sqlite_pages(lot, LOCAL_ROW_VALUES, page)

    def sqlite_pages(
        self, lot: str, values: Sequence[str], page: int = 5000
    ) -> Iterator[list[list[Any]]]:
        """Pages of the lot's measurements, each a list of the SQLite ``values``, by seq.

        ``values`` are SQL expressions over ``m``: a measurement row with the extra columns
        ``record_hash``, ``superseded_by``, ``rule``, ``uncertainty``, ``guard``, ``status``
        and ``formula`` (1 when a text field may start a spreadsheet formula). A page crosses
        into Python as one JSON text, and the next page is read by a worker thread (SQLite
        runs without the GIL) while the caller formats the current one.
        """
        head = self.heads[self.store.station][0]
        bounds = self.store.query(
            "SELECT MIN(seq) AS first, MAX(seq) AS last FROM measurements "
            "WHERE lot = ? AND seq <= ?",
            (lot, head),
        )[0]
        if bounds["first"] is None:
            return
        sql = _local_pages_sql(values)
        # Pages are ranges of seq, so each can be read without waiting for the one before.
        width = 2 * page
        ranges = iter(range(bounds["first"] - 1, bounds["last"], width))

        def read(after: int) -> list[list[Any]]:
            result = self.store.query(sql, (lot, after, min(after + width, head), head))
            rows = json.loads(result[0]["page"])
            rows.sort(key=_first)
            for row in rows:
                del row[0]
            return rows

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-read") as pool:
            pending: deque[Future[list[list[Any]]]] = deque()
            for after in itertools.islice(ranges, 2):
                pending.append(pool.submit(read, after))
            while pending:
                rows = pending.popleft().result()
                after = next(ranges, None)
                if after is not None:
                    pending.append(pool.submit(read, after))
                if rows:
                    yield rows

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read query on the local store."""
        return self.store.query(sql, tuple(params))

    def verify(self, stations: Iterable[str]) -> list[ChainCheck]:
        """Verify the local chain and its projections (other stations are not held here)."""
        out = []
        for station in sorted(set(stations)):
            if station != self.store.station:
                out.append(
                    ChainCheck(
                        station,
                        False,
                        0,
                        0,
                        journal.GENESIS,
                        None,
                        f"the local record of {self.store.station} does not hold "
                        f"station {station}'s chain",
                    )
                )
                continue
            report = self.store.verify()
            seq, hash_ = self.heads[station]
            if report.ok:
                out.append(ChainCheck(station, True, report.count, seq, hash_))
            else:
                out.append(
                    ChainCheck(
                        station, False, report.count, seq, hash_, report.bad_seq, report.reason
                    )
                )
        return out


def _first(row: list[Any]) -> Any:
    return row[0]


def _starts_like_formula(column: str, numeric: bool) -> str:
    """SQL that is true when the text in ``column`` may start a spreadsheet formula."""
    first = f"unicode({column})"
    if numeric:
        return (
            f"{first} IN (9, 13, 32, 61, 64) OR ({first} IN (43, 45) AND "
            f"(length({column}) < 2 OR substr({column}, 2) GLOB '*[^0-9.]*'))"
        )
    return f"{first} IN (9, 13, 32, 43, 45, 61, 64)"


def _local_pages_sql(values: Sequence[str]) -> str:
    """The SQLite query behind ``LocalSource.sqlite_pages`` for these value expressions.

    Parameters: lot, seq after, seq up to, snapshot head.
    """
    text_fields = [
        f"m.{name}" for name in ROW_FIELDS if name not in ("seq", "status", "inspection", "serial")
    ]
    formula = " OR ".join(
        f"({_starts_like_formula(c, c[2:] in _NUMERIC_FIELDS)})" for c in text_fields
    )
    inner = (
        "SELECT m.*, j.hash AS record_hash, "
        "(SELECT c.uuid FROM measurements c WHERE c.supersedes = m.uuid AND c.seq <= ?4 "
        "LIMIT 1) AS superseded_by FROM measurements m JOIN journal j ON j.seq = m.seq "
        "WHERE +m.lot = ?1 AND m.seq > ?2 AND m.seq <= ?3"
    )
    middle = (
        "SELECT m.*, json_extract(m.decision_rule, '$.rule') AS rule, "
        "json_extract(m.decision_rule, '$.uncertainty') AS uncertainty, "
        "json_extract(m.decision_rule, '$.guard') AS guard, "
        "CASE WHEN m.superseded_by IS NULL THEN 'current' ELSE 'superseded' END AS status "
        f"FROM ({inner}) m"
    )
    flagged = f"SELECT m.*, CASE WHEN {formula} THEN 1 ELSE 0 END AS formula FROM ({middle}) m"
    return (
        f"SELECT json_group_array(json_array(m.seq, {', '.join(values)})) AS page "
        f"FROM ({flagged}) m"
    )


LOCAL_ROW_VALUES: tuple[str, ...] = (
    *(f"m.{name}" for name in ROW_FIELDS),
    "json(CASE WHEN m.formula THEN 'true' ELSE 'false' END)",
)
"""The ``sqlite_pages`` values that make a measurement row (``ROW_FIELDS`` and the flag)."""


class CentralSource(RecordSource):
    """Records of every station in a central store (embedded SQLite or PostgreSQL).

    The queries are the portable ones of ``RecordSource``, answered by the central store's own
    read-only ``query``; chains are verified with the sync package's own ``verify_station``.
    """

    kind = "central"

    def __init__(self, central: CentralStore) -> None:
        self.central = central
        self.description = f"central store {central.url.display}"
        super().__init__(self._heads())

    @classmethod
    def open(cls, url: str) -> CentralSource:
        """Open the central store at ``url`` (which must exist) as a source."""
        from inspect_station.sync import open_central

        return cls(open_central(url, create=False))

    def _heads(self) -> dict[str, tuple[int, str]]:
        return {s.station: (s.head_seq, s.head_hash) for s in self.central.stations() if s.head_seq}

    def refresh(self) -> None:
        """Move the snapshot to every station's current head in the central store."""
        self.heads = self._heads()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read query on the central store (errors are one-sentence SyncErrors)."""
        return self.central.query(sql, params)

    def verify(self, stations: Iterable[str]) -> list[ChainCheck]:
        """Verify these stations' chains and projections in the central store."""
        from inspect_station.sync.verify import verify_station

        summaries = {s.station: s for s in self.central.stations()}
        out = []
        for station in sorted(set(stations)):
            summary = summaries.get(station)
            if summary is None:
                out.append(
                    ChainCheck(
                        station,
                        False,
                        0,
                        0,
                        journal.GENESIS,
                        None,
                        "the central store holds no records of it",
                    )
                )
                continue
            report = verify_station(self.central, summary)
            out.append(
                ChainCheck(
                    station,
                    report.ok,
                    report.checked,
                    summary.head_seq,
                    summary.head_hash,
                    report.bad_seq,
                    report.reason,
                )
            )
        return out

    def close(self) -> None:
        """Close the central store."""
        self.central.close()
