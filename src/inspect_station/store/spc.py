"""Named reads of the SPC tables: a characteristic's readings, limit versions, alarms, answers.

The station's SPC (``measuring/spc.py``, ``measuring/spc_service.py``) asks these of its own
record, inside its write transaction where the answer decides what is written next (a
violation judged against the version in force, the parts an alarm holds). Each takes a
:class:`~inspect_station.store.inspections.Reader`: the store or an open transaction. The
review reads open alarms through a record source, with the catalogue query ``OPEN_ALARMS``.

An *alarm* is an ``spc_hold`` record (the violations of one plotted point and the parts it
holds); it is *open* until an ``spc_answer`` names it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from inspect_station.store.catalog import read_query
from inspect_station.store.inspections import Reader

T = TypeVar("T")

IN_CHUNK = 400
"""UUIDs per ``IN (...)`` list in one statement."""

OPEN_ALARMS = read_query(
    "spc.open_alarms",
    "SELECT h.* FROM spc_holds h WHERE {bound:h} AND NOT EXISTS (SELECT 1 FROM spc_answers a "
    "WHERE a.alarm = h.uuid AND a.alarm_station = h.station AND {bound:a}) "
    "ORDER BY h.held_at, h.station, h.seq",
    aliases=("h", "a"),
)
"""Alarms not yet answered, oldest first (every station of the source)."""


def history(
    db: Reader, part_number: str, characteristic: str, since: str | None = None
) -> list[dict[str, Any]]:
    """The characteristic's current (not superseded) variable readings of this part number, in
    the order they were taken (``since``: taken at or after this UTC time): uuid, seq, value
    (in the spec's unit), unit, measured_at, lot, serial, inspection, source."""
    rows = db.query(
        "SELECT m.uuid, m.seq, m.value_in_spec_unit AS value, m.spec_unit AS unit, "
        "m.measured_at, m.lot, m.serial, m.inspection, m.source FROM measurements m "
        "WHERE m.part_number = ? AND m.characteristic = ? AND m.kind = 'variable' "
        "AND m.value_in_spec_unit IS NOT NULL AND m.measured_at >= ? "
        "AND NOT EXISTS (SELECT 1 FROM measurements c WHERE c.supersedes = m.uuid) "
        "ORDER BY m.seq",
        (part_number, characteristic, since or ""),
    )
    return rows


def recent(db: Reader, part_number: str, characteristic: str, count: int) -> list[dict[str, Any]]:
    """The last ``count`` current readings of :func:`history`, oldest first."""
    rows = db.query(
        "SELECT m.uuid, m.seq, m.value_in_spec_unit AS value, m.measured_at, m.lot, m.serial "
        "FROM measurements m WHERE m.part_number = ? AND m.characteristic = ? "
        "AND m.kind = 'variable' AND m.value_in_spec_unit IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM measurements c WHERE c.supersedes = m.uuid) "
        "ORDER BY m.seq DESC LIMIT ?",
        (part_number, characteristic, count),
    )
    rows.reverse()
    return rows


def measurement_records(db: Reader, uuids: Sequence[str]) -> list[dict[str, Any]]:
    """The measurements with these UUIDs, with their record hash: uuid, seq, hash, lot, serial,
    inspection, part_number, characteristic, value, in seq order."""
    out: list[dict[str, Any]] = []
    wanted = list(dict.fromkeys(uuids))
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        marks = ", ".join("?" for _ in chunk)
        out += db.query(
            "SELECT m.uuid, m.seq, j.hash, m.lot, m.serial, m.inspection, m.part_number, "
            "m.characteristic, m.value_in_spec_unit AS value FROM measurements m "
            f"JOIN journal j ON j.seq = m.seq WHERE m.uuid IN ({marks})",
            tuple(chunk),
        )
    return sorted(out, key=lambda row: row["seq"])


def limit_versions(db: Reader, part_number: str, characteristic: str) -> list[dict[str, Any]]:
    """Every locked limit version of the characteristic, oldest first (``limits`` parsed)."""
    rows = db.query(
        "SELECT * FROM spc_limits WHERE part_number = ? AND characteristic = ? ORDER BY seq",
        (part_number, characteristic),
    )
    return [_parsed(row, "limits", "arl") for row in rows]


def latest_limits_hash(db: Reader, part_number: str, characteristic: str) -> str | None:
    """The hash of the newest limit version locked for the characteristic, if any (asked once
    per write transaction until it records limits: every reading asks it)."""

    def read() -> str | None:
        rows = db.query(
            "SELECT limits_hash FROM spc_limits WHERE part_number = ? AND characteristic = ? "
            "ORDER BY seq DESC LIMIT 1",
            (part_number, characteristic),
        )
        return rows[0]["limits_hash"] if rows else None

    return _remembered(db, ("limits_hash", part_number, characteristic), ("spc_limits",), read)


def locked_characteristics(db: Reader, part_number: str | None = None) -> list[dict[str, Any]]:
    """(part_number, characteristic) pairs that have locked limits."""
    return db.query(
        "SELECT DISTINCT part_number, characteristic FROM spc_limits "
        "WHERE part_number = COALESCE(?, part_number) ORDER BY part_number, characteristic",
        (part_number,),
    )


_ALARMS = (
    "SELECT h.*, a.uuid AS answer, a.cause, a.cause_label, a.action, a.action_label, a.note, "
    "a.parts AS decisions, a.answered_by, a.answered_at, a.user_id AS signer, "
    "a.name AS signer_name, a.signed_at FROM spc_holds h "
    "LEFT JOIN spc_answers a ON a.alarm = h.uuid AND a.alarm_station = h.station "
)


def alarms(
    db: Reader, *, open_only: bool = False, part_number: str | None = None
) -> list[dict[str, Any]]:
    """Alarms (holds) with their answer if any, oldest first (``parts``/``rules``/... parsed);
    inside a write transaction asked once until it records a hold or an answer (each new part
    asks whether an alarm holds it)."""

    def read() -> tuple[dict[str, Any], ...]:
        where = "WHERE h.part_number = COALESCE(?, h.part_number)"
        if open_only:
            where += " AND a.uuid IS NULL"
        return tuple(db.query(_ALARMS + where + " ORDER BY h.seq", (part_number,)))

    key = ("alarms", open_only, part_number)
    rows = _remembered(db, key, ("spc_holds", "spc_answers"), read)
    # Parsed for each caller: its own dicts and lists, the kept rows stay as read.
    return [_parsed(row, "parts", "rules", "decisions") for row in rows]


def _remembered(
    db: Reader, key: tuple[Any, ...], tables: tuple[str, ...], read: Callable[[], T]
) -> T:
    """``read()``, kept by the write transaction ``db`` until it writes one of ``tables``
    (``Transaction.remembered``); asked every time of the store itself."""
    remembered = getattr(db, "remembered", None)
    return read() if remembered is None else cast(T, remembered(key, tables, read))


def alarm(db: Reader, alarm_id: str) -> list[dict[str, Any]]:
    """Alarms whose UUID is ``alarm_id`` or starts with it (parsed as by :func:`alarms`)."""
    rows = db.query(_ALARMS + "WHERE h.uuid LIKE ? ORDER BY h.seq", (_prefix(alarm_id),))
    return [_parsed(row, "parts", "rules", "decisions") for row in rows]


def answered(db: Reader, alarm_uuid: str) -> bool:
    """Whether an answer to the alarm is recorded."""
    return bool(db.query("SELECT 1 FROM spc_answers WHERE alarm = ? LIMIT 1", (alarm_uuid,)))


def violations(db: Reader, alarm_uuid: str) -> list[dict[str, Any]]:
    """The violations of an alarm, in seq order (``readings`` parsed)."""
    rows = db.query("SELECT * FROM spc_violations WHERE alarm = ? ORDER BY seq", (alarm_uuid,))
    return [_parsed(row, "readings") for row in rows]


def answer_tally(db: Reader) -> list[dict[str, Any]]:
    """Every violation with its alarm's answer cause (None while open), in order: part_number,
    characteristic, rule, chart, alarm, cause -- for the alarm-fatigue figures."""
    return db.query(
        "SELECT v.part_number, v.characteristic, v.rule, v.chart, v.alarm, a.cause "
        "FROM spc_violations v "
        "LEFT JOIN spc_answers a ON a.alarm = v.alarm AND a.alarm_station = v.station "
        "ORDER BY v.seq"
    )


def record_hash(db: Reader, uuid: str) -> str:
    """The hash of the journal record with this UUID (KeyError if there is none)."""
    rows = db.query("SELECT hash FROM journal WHERE uuid = ?", (uuid,))
    if not rows:
        raise KeyError(uuid)
    return str(rows[0]["hash"])


def _prefix(alarm_id: str) -> str:
    """A LIKE pattern matching UUIDs that start with ``alarm_id`` (wildcards escaped out)."""
    cleaned = "".join(c for c in alarm_id.lower() if c in "0123456789abcdef-")
    return cleaned + "%"


def _parsed(row: dict[str, Any], *columns: str) -> dict[str, Any]:
    """The row with JSON text columns parsed."""
    out = dict(row)
    for column in columns:
        value = out.get(column)
        if isinstance(value, str):
            out[column] = json.loads(value)
    return out


# -- what an answer does to the held parts (written in the answer's transaction) ------------------


def inspection_row(db: Reader, inspection: str) -> dict[str, Any] | None:
    """The opening of a part inspection (original or re-inspection) by its UUID: uuid, lot,
    serial, part_number, revision, spec_hash, inspector, station."""
    rows = db.query(
        "SELECT uuid, lot, serial, part_number, revision, spec_hash, inspector, station "
        "FROM inspections WHERE uuid = ?",
        (inspection,),
    )
    return rows[0] if rows else None


def result_record(db: Reader, result_uuid: str) -> dict[str, Any] | None:
    """The current result row of this UUID with its record's ``containment`` (the SPC alarm
    that rejected the part, parsed; None for a reject of a failed characteristic)."""
    rows = db.query(
        "SELECT r.uuid, r.seq, r.inspection, r.result, r.failed, r.defect_code, r.station, "
        "json_extract(j.body, '$.containment') AS containment FROM results r "
        "JOIN journal j ON j.seq = r.seq WHERE r.uuid = ?",
        (result_uuid,),
    )
    return _parsed(rows[0], "failed", "containment") if rows else None


def inspection_results(db: Reader, inspections: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The current result of each of these inspections that was closed: inspection -> row
    (uuid, result, defect_code)."""
    out: dict[str, dict[str, Any]] = {}
    wanted = list(dict.fromkeys(inspections))
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        marks = ", ".join("?" for _ in chunk)
        for row in db.query(
            "SELECT inspection, uuid, result, defect_code FROM current_results "
            f"WHERE inspection IN ({marks})",
            tuple(chunk),
        ):
            out[row["inspection"]] = row
    return out


# -- alarms through a record source (a station's file, a copy, or a central store) --------------

ALARMS = read_query(
    "spc.alarms",
    "SELECT h.*, a.uuid AS answer, a.cause, a.cause_label, a.action, a.action_label, a.note, "
    "a.parts AS decisions, a.answered_by, a.answered_at, a.user_id AS signer, "
    "a.name AS signer_name, a.signed_at FROM spc_holds h "
    "LEFT JOIN spc_answers a ON a.alarm = h.uuid AND a.alarm_station = h.station AND {bound:a} "
    "WHERE {bound:h} AND h.part_number = COALESCE(?, h.part_number) "
    "ORDER BY h.held_at, h.station, h.seq",
    aliases=("a", "h"),
)
"""Alarms (holds) of every station in the source with their answer if any, oldest first.
Parameter: part number (None for all)."""

ALL_VIOLATIONS = read_query(
    "spc.all_violations",
    "SELECT v.* FROM spc_violations v WHERE {bound:v} ORDER BY v.station, v.seq",
    aliases=("v",),
)
"""Every rule violation in the source, per station in record order."""

ALL_LIMITS = read_query(
    "spc.all_limits",
    "SELECT l.part_number, l.characteristic, l.limits, l.limits_hash FROM spc_limits l "
    "WHERE {bound:l} ORDER BY l.part_number, l.characteristic, l.effective_from, l.seq",
    aliases=("l",),
)
"""Every locked limit version in the source, per characteristic oldest first."""

INSPECTION_RESULTS = read_query(
    "spc.inspection_results",
    "SELECT r.inspection, r.uuid, r.result, r.defect_code FROM results r "
    "WHERE r.inspection IN {in} AND {bound:r} AND NOT EXISTS (SELECT 1 FROM results c "
    "WHERE c.supersedes = r.uuid AND {bound:c})",
    aliases=("r", "c"),
)
"""The current result of each of these inspection UUIDs that was closed."""


def parsed(row: dict[str, Any], *columns: str) -> dict[str, Any]:
    """The row with these JSON text columns parsed (rows of the catalogue queries above)."""
    return _parsed(row, *columns)


def journal_record(db: Reader, seq: int) -> dict[str, Any] | None:
    """The journal record with this seq as it was hashed (the body parsed)."""
    rows = db.query(
        "SELECT format, station, seq, uuid, kind, ts, prev_hash, hash, body FROM journal "
        "WHERE seq = ?",
        (seq,),
    )
    if not rows:
        return None
    return {**rows[0], "body": json.loads(rows[0]["body"])}
