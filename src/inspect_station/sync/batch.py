"""A batch of journal records checked and shaped for the central store (pure: no I/O).

``prepare_batch`` does everything that needs only the records: every record is well formed and
belongs to the shipping station, seq runs without a gap, each prev_hash links to the record
before, every hash is recomputed, and each body has its kind's shape (``projections.SHAPES``:
what the central store needs to derive the record's query rows, which it does itself).
``PreparedBatch.against_head`` then does the O(batch) part that needs the central store's
verified head for the station: records already held are skipped if identical (a re-sent batch)
and refused as a fork if not, and the first new record must continue the head. Both raise
``IngestRefused`` with a typed reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inspect_station.canonical import parse_body, record_digest
from inspect_station.store import journal
from inspect_station.store.projections import SHAPES, shape_problem
from inspect_station.sync.errors import IngestRefused, Refusal

JOURNAL_COLUMNS: tuple[str, ...] = (
    "station",
    "seq",
    "uuid",
    "format",
    "kind",
    "ts",
    "prev_hash",
    "hash",
    "body",
)
"""Columns of the central journal that come from the record (``body`` is canonical JSON text)."""

Held = Callable[[int, int], Mapping[int, tuple[str, str]]]
"""Look-up of the (uuid, hash) central holds for the station's seqs in [first, last]."""


@dataclass(frozen=True)
class PreparedBatch:
    """Records of one station, verified among themselves, as central journal rows."""

    station: str
    """The station whose records these are."""
    journal: list[tuple[Any, ...]]
    """One row per record, in ``JOURNAL_COLUMNS`` order, by ascending seq."""

    @property
    def first_seq(self) -> int:
        """seq of the first record."""
        return self.journal[0][1]

    @property
    def last_seq(self) -> int:
        """seq of the last record."""
        return self.journal[-1][1]

    @property
    def last_hash(self) -> str:
        """hash of the last record: the central head once the batch is stored."""
        return self.journal[-1][7]

    def __len__(self) -> int:
        return len(self.journal)

    def has_kind(self, kind: str) -> bool:
        """Whether a record of this kind is in the batch."""
        return any(row[4] == kind for row in self.journal)

    def after(self, seq: int) -> PreparedBatch:
        """The part of the batch with seq above ``seq``."""
        if seq < self.first_seq:
            return self
        skip = seq - self.first_seq + 1
        return PreparedBatch(self.station, self.journal[skip:])

    def against_head(self, head_seq: int, head_hash: str, held: Held) -> PreparedBatch:
        """The records central does not hold yet; IngestRefused if the batch forks or leaves a gap.

        ``head_seq``/``head_hash`` are the station's verified head in the central store, read
        under the station's lock; ``held`` is called only for records at or below the head.
        """
        station = self.station
        if self.first_seq <= head_seq:
            last_held = min(head_seq, self.last_seq)
            have = held(self.first_seq, last_held)
            for row in self.journal[: last_held - self.first_seq + 1]:
                seq, uuid, hash_ = row[1], row[2], row[7]
                if seq not in have:
                    raise IngestRefused(
                        Refusal.GAP,
                        f"The central store lacks seq {seq} of station {station} below its head "
                        f"seq {head_seq}; its copy of the chain has a gap.",
                        seq,
                    )
                if have[seq] != (uuid, hash_):
                    raise IngestRefused(
                        Refusal.FORK,
                        f"The central store already holds a different record as seq {seq} of "
                        f"station {station}: this station's journal has forked from the chain "
                        "central holds (a replaced or restored database?).",
                        seq,
                    )
            rest = self.after(head_seq)
        else:
            rest = self
        if not rest.journal:
            return rest
        first = rest.journal[0]
        if first[1] != head_seq + 1:
            raise IngestRefused(
                Refusal.GAP,
                f"The central store holds station {station} up to seq {head_seq} but the batch "
                f"starts at seq {first[1]}: records {head_seq + 1}-{first[1] - 1} are missing.",
                first[1],
            )
        if first[6] != head_hash:
            raise IngestRefused(
                Refusal.FORK,
                f"Record seq {first[1]} of station {station} does not continue the chain the "
                f"central store holds (its prev_hash is not the hash of seq {head_seq}): the "
                "station's journal has forked.",
                first[1],
            )
        return rest


def _refuse(reason: Refusal, seq: Any, message: str) -> IngestRefused:
    return IngestRefused(reason, message, seq if isinstance(seq, int) else None)


LOCAL_COLUMNS: tuple[str, ...] = journal.STORED_FIELDS
"""Order of the fields ``prepare_rows`` takes: a journal row as the station's store reads it."""

_TEXT_FIELDS = ("station", "uuid", "kind", "ts", "prev_hash", "hash")


def prepare_batch(station: str, records: Iterable[Mapping[str, Any]]) -> PreparedBatch:
    """Check records of ``station`` among themselves and shape them; IngestRefused with a reason.

    Each record is a mapping with the journal fields and ``hash``; its ``body`` is either the
    stored JSON text (as in the station's journal table) or the decoded object.
    """
    rows = []
    for record in records:
        missing = [k for k in LOCAL_COLUMNS if k not in record]
        if missing:
            raise _refuse(
                Refusal.MALFORMED,
                record.get("seq"),
                f"A record of station {station} (seq {record.get('seq')}) lacks "
                f"{', '.join(missing)}, so the central store refused it.",
            )
        rows.append(tuple(record[k] for k in LOCAL_COLUMNS))
    return prepare_rows(station, rows)


def _malformed(station: str, row: tuple[Any, ...]) -> IngestRefused | None:
    """Why a journal row is malformed, if it is (the slow path of ``prepare_rows``)."""
    fields = dict(zip(LOCAL_COLUMNS, row, strict=True))
    seq = fields["seq"]
    odd = [k for k in _TEXT_FIELDS if not isinstance(fields[k], str)]
    if odd:
        return _refuse(
            Refusal.MALFORMED,
            seq,
            f"A record of station {station} (seq {seq}) has {', '.join(odd)} that should be "
            "text, so the central store refused it.",
        )
    if type(seq) is not int or seq < 1:
        return _refuse(
            Refusal.MALFORMED,
            None,
            f"A record of station {station} has seq {seq!r}, which is not a positive integer.",
        )
    if fields["format"] != journal.FORMAT:
        return _refuse(
            Refusal.MALFORMED,
            seq,
            f"Record seq {seq} of station {station} has unknown format {fields['format']!r}.",
        )
    return None


def prepare_rows(station: str, rows: Iterable[Sequence[Any]]) -> PreparedBatch:
    """``prepare_batch`` for rows in ``LOCAL_COLUMNS`` order, as read from a journal table."""
    out: list[tuple[Any, ...]] = []
    uuids: set[str] = set()
    prev_seq: int | None = None
    prev_hash: str | None = None
    fmt_ok = journal.FORMAT
    for row in rows:
        fmt, st, seq, uuid, kind, ts, link, claimed, body = row
        if (
            fmt != fmt_ok
            or type(seq) is not int
            or seq < 1
            or type(uuid) is not str
            or type(kind) is not str
            or type(ts) is not str
            or type(link) is not str
            or type(claimed) is not str
            or type(st) is not str
        ):
            problem = _malformed(station, tuple(row))
            if problem is not None:
                raise problem
        if st != station:
            raise _refuse(
                Refusal.WRONG_STATION,
                seq,
                f"Record seq {seq} belongs to station {st!r}, not {station!r}; a station ships "
                "only its own records.",
            )
        if prev_seq is not None and seq != prev_seq + 1:
            raise _refuse(
                Refusal.GAP,
                seq,
                f"Station {station}'s journal jumps from seq {prev_seq} to seq {seq}: records "
                "are missing, so the central store refused the batch.",
            )
        if prev_hash is not None and link != prev_hash:
            raise _refuse(
                Refusal.BROKEN_LINK,
                seq,
                f"Record seq {seq} of station {station} does not link to seq {seq - 1} (its "
                "prev_hash differs): the station's journal was altered.",
            )
        if uuid in uuids:
            raise _refuse(
                Refusal.DUPLICATE,
                seq,
                f"Record seq {seq} of station {station} repeats the UUID of an earlier record.",
            )
        uuids.add(uuid)
        plain = False
        if isinstance(body, str):
            try:
                body, plain = parse_body(body)
            except ValueError as exc:
                raise _refuse(
                    Refusal.MALFORMED,
                    seq,
                    f"Record seq {seq} of station {station} has a body that is not valid JSON "
                    f"({exc}).",
                ) from None
        if not isinstance(body, Mapping):
            raise _refuse(
                Refusal.MALFORMED,
                seq,
                f"Record seq {seq} of station {station} has a body that is not a JSON object.",
            )
        record = {
            "format": fmt,
            "station": st,
            "seq": seq,
            "uuid": uuid,
            "kind": kind,
            "ts": ts,
            "prev_hash": link,
            "body": body,
        }
        try:
            actual, body_text = record_digest(record, plain)
        except (ValueError, TypeError) as exc:
            raise _refuse(
                Refusal.MALFORMED,
                seq,
                f"Record seq {seq} of station {station} cannot be canonicalised ({exc}).",
            ) from None
        if actual != claimed:
            raise _refuse(
                Refusal.BAD_HASH,
                seq,
                f"Record seq {seq} of station {station} does not match its hash: it was "
                "altered after it was written.",
            )
        if kind in SHAPES:
            shape = shape_problem(record)
            if shape is not None:
                raise _refuse(
                    Refusal.MALFORMED,
                    seq,
                    f"Record seq {seq} of station {station} ({kind}) is malformed: {shape}, "
                    "so the central store cannot derive its query rows.",
                )
        out.append((st, seq, uuid, fmt, kind, ts, link, actual, body_text))
        prev_seq, prev_hash = seq, actual
    if not out:
        raise ValueError("an empty batch cannot be prepared")
    return PreparedBatch(station, out)


def decode_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A central or station journal row (body as text) as the record object that was hashed."""
    record = {k: row[k] for k in journal.RECORD_FIELDS if k != "body"}
    record["body"] = json.loads(row["body"])
    record["hash"] = row["hash"]
    return record
