"""Query tables derived from journal records (pure: record in, rows out).

The journal is the source of truth. Each projection row carries the ``seq`` of the record it came
from, is written in the same transaction as that record, and can be re-derived by ``verify`` to
prove it was not edited. Projection tables are append-only too; "current" state (a measurement
not superseded by a correction, a reject not yet disposed) is computed by views.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from inspect_station.store.journal import canonical_json

Row = dict[str, Any]
Projector = Callable[[Mapping[str, Any]], list[tuple[str, Row]]]

# table -> ordered (column, SQL type). Every table has seq (the record's) as its first column.
TABLES: dict[str, list[tuple[str, str]]] = {
    "specs": [
        ("seq", "INTEGER"),
        ("uuid", "TEXT"),
        ("spec_hash", "TEXT"),
        ("part_number", "TEXT"),
        ("revision", "TEXT"),
        ("description", "TEXT"),
        ("status", "TEXT"),
        ("content", "TEXT"),
    ],
    "lots": [
        ("seq", "INTEGER"),
        ("uuid", "TEXT"),
        ("lot", "TEXT"),
        ("part_number", "TEXT"),
        ("revision", "TEXT"),
        ("spec_hash", "TEXT"),
        ("work_order", "TEXT"),
        ("lot_size", "INTEGER"),
        ("sampling", "TEXT"),
        ("inspector", "TEXT"),
        ("station", "TEXT"),
        ("opened_at", "TEXT"),
    ],
    "inspections": [
        ("seq", "INTEGER"),
        ("uuid", "TEXT"),
        ("lot", "TEXT"),
        ("serial", "TEXT"),
        ("part_number", "TEXT"),
        ("revision", "TEXT"),
        ("spec_hash", "TEXT"),
        ("inspector", "TEXT"),
        ("station", "TEXT"),
        ("opened_at", "TEXT"),
    ],
    "measurements": [
        ("seq", "INTEGER"),
        ("uuid", "TEXT"),
        ("inspection", "TEXT"),
        ("lot", "TEXT"),
        ("serial", "TEXT"),
        ("part_number", "TEXT"),
        ("revision", "TEXT"),
        ("spec_hash", "TEXT"),
        ("characteristic", "TEXT"),
        ("characteristic_name", "TEXT"),
        ("kind", "TEXT"),
        ("value", "TEXT"),
        ("unit", "TEXT"),
        ("value_in_spec_unit", "TEXT"),
        ("spec_unit", "TEXT"),
        ("nominal", "TEXT"),
        ("lower", "TEXT"),
        ("upper", "TEXT"),
        ("verdict", "TEXT"),
        ("zone", "TEXT"),
        ("deviation", "TEXT"),
        ("limit_broken", "TEXT"),
        ("exceeds_by", "TEXT"),
        ("decision_rule", "TEXT"),
        ("source", "TEXT"),
        ("manual_reason", "TEXT"),
        ("gauge_asset", "TEXT"),
        ("gauge_serial", "TEXT"),
        ("gauge_certificate", "TEXT"),
        ("gauge_calibration_due", "TEXT"),
        ("raw", "TEXT"),
        ("inspector", "TEXT"),
        ("station", "TEXT"),
        ("measured_at", "TEXT"),
        ("supersedes", "TEXT"),
        ("reason", "TEXT"),
    ],
    "results": [
        ("seq", "INTEGER"),
        ("uuid", "TEXT"),
        ("inspection", "TEXT"),
        ("lot", "TEXT"),
        ("serial", "TEXT"),
        ("part_number", "TEXT"),
        ("revision", "TEXT"),
        ("spec_hash", "TEXT"),
        ("result", "TEXT"),
        ("failed", "TEXT"),
        ("defect_code", "TEXT"),
        ("note", "TEXT"),
        ("inspector", "TEXT"),
        ("station", "TEXT"),
        ("closed_at", "TEXT"),
        ("supersedes", "TEXT"),
    ],
    "users": [
        ("seq", "INTEGER"),
        ("uuid", "TEXT"),
        ("user_id", "TEXT"),
        ("name", "TEXT"),
        ("role", "TEXT"),
        ("qualifications", "TEXT"),
        ("badge", "TEXT"),
        ("active", "INTEGER"),
        ("pin_hash", "TEXT"),
        ("changed_by", "TEXT"),
        ("changed_at", "TEXT"),
        ("station", "TEXT"),
    ],
    "sign_ins": [
        ("seq", "INTEGER"),
        ("uuid", "TEXT"),
        ("user_id", "TEXT"),
        ("event", "TEXT"),
        ("success", "INTEGER"),
        ("reason", "TEXT"),
        ("at", "TEXT"),
        ("station", "TEXT"),
    ],
    "revision_acks": [
        ("seq", "INTEGER"),
        ("uuid", "TEXT"),
        ("user_id", "TEXT"),
        ("part_number", "TEXT"),
        ("revision", "TEXT"),
        ("spec_hash", "TEXT"),
        ("previous_revision", "TEXT"),
        ("changes", "TEXT"),
        ("at", "TEXT"),
        ("station", "TEXT"),
    ],
    "dispositions": [
        ("seq", "INTEGER"),
        ("uuid", "TEXT"),
        ("reject", "TEXT"),
        ("reject_station", "TEXT"),
        ("reject_seq", "INTEGER"),
        ("inspection", "TEXT"),
        ("lot", "TEXT"),
        ("serial", "TEXT"),
        ("part_number", "TEXT"),
        ("revision", "TEXT"),
        ("spec_hash", "TEXT"),
        ("disposition", "TEXT"),
        ("reason", "TEXT"),
        ("regrade_to", "TEXT"),
        ("signed_hash", "TEXT"),
        ("signers_required", "INTEGER"),
        ("user_id", "TEXT"),
        ("name", "TEXT"),
        ("meaning", "TEXT"),
        ("signed_at", "TEXT"),
        ("station", "TEXT"),
    ],
    "signatures": [
        ("seq", "INTEGER"),
        ("uuid", "TEXT"),
        ("disposition", "TEXT"),
        ("disposition_station", "TEXT"),
        ("disposition_hash", "TEXT"),
        ("reject", "TEXT"),
        ("signed_hash", "TEXT"),
        ("user_id", "TEXT"),
        ("name", "TEXT"),
        ("role", "TEXT"),
        ("meaning", "TEXT"),
        ("signed_at", "TEXT"),
        ("station", "TEXT"),
    ],
    "reinspections": [
        ("seq", "INTEGER"),
        ("uuid", "TEXT"),
        ("lot", "TEXT"),
        ("serial", "TEXT"),
        ("reinspection_of", "TEXT"),
        ("disposition", "TEXT"),
        ("inspector", "TEXT"),
        ("station", "TEXT"),
        ("opened_at", "TEXT"),
    ],
}


def _json(value: Any) -> str | None:
    """Canonical JSON text of a nested value (None stays NULL)."""
    return None if value is None else canonical_json(value).decode("utf-8")


def _spec(record: Mapping[str, Any]) -> list[tuple[str, Row]]:
    b = record["body"]
    return [
        (
            "specs",
            {
                "seq": record["seq"],
                "uuid": record["uuid"],
                "spec_hash": b["spec_hash"],
                "part_number": b["part_number"],
                "revision": b["revision"],
                "description": b.get("description", ""),
                "status": b.get("status"),
                "content": _json(b["content"]),
            },
        )
    ]


def _lot(record: Mapping[str, Any]) -> list[tuple[str, Row]]:
    b = record["body"]
    return [
        (
            "lots",
            {
                "seq": record["seq"],
                "uuid": record["uuid"],
                "lot": b["lot"],
                "part_number": b["part_number"],
                "revision": b["revision"],
                "spec_hash": b["spec_hash"],
                "work_order": b.get("work_order"),
                "lot_size": b.get("lot_size"),
                "sampling": _json(b.get("sampling")),
                "inspector": b.get("inspector"),
                "station": record["station"],
                "opened_at": record["ts"],
            },
        )
    ]


def _inspection(record: Mapping[str, Any]) -> list[tuple[str, Row]]:
    b = record["body"]
    return [
        (
            "inspections",
            {
                "seq": record["seq"],
                "uuid": record["uuid"],
                "lot": b["lot"],
                "serial": b["serial"],
                "part_number": b["part_number"],
                "revision": b["revision"],
                "spec_hash": b["spec_hash"],
                "inspector": b["inspector"],
                "station": record["station"],
                "opened_at": record["ts"],
            },
        )
    ]


def _measurement(record: Mapping[str, Any]) -> list[tuple[str, Row]]:
    b = record["body"]
    limits = b.get("limits") or {}
    gauge = b.get("gauge") or {}
    return [
        (
            "measurements",
            {
                "seq": record["seq"],
                "uuid": record["uuid"],
                "inspection": b["inspection"],
                "lot": b["lot"],
                "serial": b["serial"],
                "part_number": b["part_number"],
                "revision": b["revision"],
                "spec_hash": b["spec_hash"],
                "characteristic": b["characteristic"],
                "characteristic_name": b.get("characteristic_name"),
                "kind": b.get("kind"),
                "value": b["value"],
                "unit": b.get("unit"),
                "value_in_spec_unit": b.get("value_in_spec_unit"),
                "spec_unit": limits.get("unit"),
                "nominal": limits.get("nominal"),
                "lower": limits.get("lower"),
                "upper": limits.get("upper"),
                "verdict": b["verdict"],
                "zone": b.get("zone"),
                "deviation": b.get("deviation"),
                "limit_broken": b.get("limit"),
                "exceeds_by": b.get("exceeds_by"),
                "decision_rule": _json(b.get("decision_rule")),
                "source": b["source"],
                "manual_reason": b.get("manual_reason"),
                "gauge_asset": gauge.get("asset"),
                "gauge_serial": gauge.get("serial_number"),
                "gauge_certificate": gauge.get("certificate"),
                "gauge_calibration_due": gauge.get("calibration_due"),
                "raw": b.get("raw"),
                "inspector": b["inspector"],
                "station": record["station"],
                "measured_at": record["ts"],
                "supersedes": b.get("supersedes"),
                "reason": b.get("reason"),
            },
        )
    ]


def _result(record: Mapping[str, Any]) -> list[tuple[str, Row]]:
    b = record["body"]
    return [
        (
            "results",
            {
                "seq": record["seq"],
                "uuid": record["uuid"],
                "inspection": b["inspection"],
                "lot": b["lot"],
                "serial": b["serial"],
                "part_number": b["part_number"],
                "revision": b["revision"],
                "spec_hash": b["spec_hash"],
                "result": b["result"],
                "failed": _json(b.get("failed", [])),
                "defect_code": b.get("defect_code"),
                "note": b.get("note"),
                "inspector": b["inspector"],
                "station": record["station"],
                "closed_at": record["ts"],
                "supersedes": b.get("supersedes"),
            },
        )
    ]


def _user(record: Mapping[str, Any]) -> list[tuple[str, Row]]:
    b = record["body"]
    return [
        (
            "users",
            {
                "seq": record["seq"],
                "uuid": record["uuid"],
                "user_id": b["user_id"],
                "name": b["name"],
                "role": b["role"],
                "qualifications": _json(b.get("qualifications", [])),
                "badge": b.get("badge"),
                "active": 1 if b.get("active", True) else 0,
                "pin_hash": b.get("pin_hash"),
                "changed_by": b.get("changed_by"),
                "changed_at": record["ts"],
                "station": record["station"],
            },
        )
    ]


def _session(record: Mapping[str, Any]) -> list[tuple[str, Row]]:
    b = record["body"]
    return [
        (
            "sign_ins",
            {
                "seq": record["seq"],
                "uuid": record["uuid"],
                "user_id": b["user_id"],
                "event": record["kind"],
                "success": 1 if b.get("success", True) else 0,
                "reason": b.get("reason"),
                "at": record["ts"],
                "station": record["station"],
            },
        )
    ]


def _revision_ack(record: Mapping[str, Any]) -> list[tuple[str, Row]]:
    b = record["body"]
    return [
        (
            "revision_acks",
            {
                "seq": record["seq"],
                "uuid": record["uuid"],
                "user_id": b["user_id"],
                "part_number": b["part_number"],
                "revision": b["revision"],
                "spec_hash": b["spec_hash"],
                "previous_revision": b.get("previous_revision"),
                "changes": _json(b.get("changes", [])),
                "at": record["ts"],
                "station": record["station"],
            },
        )
    ]


def _signature_row(record: Mapping[str, Any], disposition: Mapping[str, Any]) -> Row:
    """A signatures row: who signed, with what meaning, when, bound to which content."""
    b = record["body"]
    signature = b["signature"]
    return {
        "seq": record["seq"],
        "uuid": record["uuid"],
        "disposition": disposition["uuid"],
        "disposition_station": disposition["station"],
        "disposition_hash": disposition.get("hash"),
        "reject": b["reject"],
        "signed_hash": b["signed_hash"],
        "user_id": signature["user_id"],
        "name": signature["name"],
        "role": signature.get("role"),
        "meaning": signature["meaning"],
        "signed_at": signature["signed_at"],
        "station": record["station"],
    }


def _disposition(record: Mapping[str, Any]) -> list[tuple[str, Row]]:
    b = record["body"]
    signature = b["signature"]
    return [
        (
            "dispositions",
            {
                "seq": record["seq"],
                "uuid": record["uuid"],
                "reject": b["reject"],
                "reject_station": b["reject_station"],
                "reject_seq": b["reject_seq"],
                "inspection": b["inspection"],
                "lot": b["lot"],
                "serial": b["serial"],
                "part_number": b["part_number"],
                "revision": b["revision"],
                "spec_hash": b["spec_hash"],
                "disposition": b["disposition"],
                "reason": b["reason"],
                "regrade_to": b.get("regrade_to"),
                "signed_hash": b["signed_hash"],
                "signers_required": b["signers_required"],
                "user_id": signature["user_id"],
                "name": signature["name"],
                "meaning": signature["meaning"],
                "signed_at": signature["signed_at"],
                "station": record["station"],
            },
        ),
        # The first signature is the disposition record itself (no separate record to hash).
        (
            "signatures",
            _signature_row(record, {"uuid": record["uuid"], "station": record["station"]}),
        ),
    ]


def _cosignature(record: Mapping[str, Any]) -> list[tuple[str, Row]]:
    b = record["body"]
    disposition = {
        "uuid": b["disposition"],
        "station": b["disposition_station"],
        "hash": b["disposition_hash"],
    }
    return [("signatures", _signature_row(record, disposition))]


def _reinspection(record: Mapping[str, Any]) -> list[tuple[str, Row]]:
    b = record["body"]
    return [
        *_inspection(record),
        (
            "reinspections",
            {
                "seq": record["seq"],
                "uuid": record["uuid"],
                "lot": b["lot"],
                "serial": b["serial"],
                "reinspection_of": b["reinspection_of"],
                "disposition": b.get("disposition"),
                "inspector": b["inspector"],
                "station": record["station"],
                "opened_at": record["ts"],
            },
        ),
    ]


PROJECTORS: dict[str, Projector] = {
    "spec": _spec,
    "lot_opened": _lot,
    "inspection_opened": _inspection,
    "measurement": _measurement,
    "inspection_closed": _result,
    "user": _user,
    "sign_in": _session,
    "sign_out": _session,
    "revision_ack": _revision_ack,
    "disposition": _disposition,
    "disposition_signature": _cosignature,
    "reinspection_opened": _reinspection,
}


def project(record: Mapping[str, Any]) -> list[tuple[str, Row]]:
    """The projection rows a record yields (none for kinds that are journal-only)."""
    projector = PROJECTORS.get(record["kind"])
    return projector(record) if projector else []
