"""Lot export as JSON: the whole record nested lot → parts → inspections → measurements.

The document is UTF-8 and follows the JSON Schema shipped with the package
(``inspect_station/export/lot-export.schema.json``, draft 2020-12; ``schema()`` returns it).
Measured values, limits and deviations are decimal strings, never JSON numbers. Every record
is referenced by station, seq, UUID and hash, so each fact can be checked against the journal
it came from. The document is streamed part by part, one part per line.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from inspect_station import __version__
from inspect_station.export.capability import capability_json, lot_capability
from inspect_station.export.formats import HashingWriter, register_format
from inspect_station.export.model import ExportOptions, InspectionData, LotData
from inspect_station.vocabulary import PartResult

FORMAT = "inspect-station lot export"
"""Value of the document's ``format`` member."""
FORMAT_VERSION = 1
"""Value of its ``format_version`` member."""
SCHEMA_FILE = "lot-export.schema.json"
"""File name of the JSON Schema inside the package."""


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of the lot export document."""
    text = files("inspect_station.export").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _result(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "record": {"station": row["station"], "seq": row["seq"], "uuid": row["uuid"]},
        "result": row["result"],
        "failed": json.loads(row["failed"] or "[]"),
        "defect_code": row["defect_code"],
        "note": row["note"],
        "inspector": row["inspector"],
        "closed_at": row["closed_at"],
        "supersedes": row["supersedes"],
    }


def _measurement(m: dict[str, Any], superseded_by: dict[str, str]) -> dict[str, Any]:
    rule = json.loads(m["decision_rule"]) if m["decision_rule"] else {}
    successor = superseded_by.get(m["uuid"])
    gauge = None
    if m["gauge_asset"] is not None:
        gauge = {
            "asset": m["gauge_asset"],
            "serial_number": m["gauge_serial"],
            "certificate": m["gauge_certificate"],
            "calibration_due": m["gauge_calibration_due"],
        }
    return {
        "record": {
            "station": m["station"],
            "seq": m["seq"],
            "uuid": m["uuid"],
            "hash": m["record_hash"],
        },
        "measured_at": m["measured_at"],
        "inspector": m["inspector"],
        "characteristic": m["characteristic"],
        "characteristic_name": m["characteristic_name"],
        "kind": m["kind"],
        "value": m["value"],
        "unit": m["unit"],
        "value_in_spec_unit": m["value_in_spec_unit"],
        "limits": {
            "nominal": m["nominal"],
            "lower": m["lower"],
            "upper": m["upper"],
            "unit": m["spec_unit"],
        },
        "verdict": m["verdict"],
        "zone": m["zone"],
        "deviation": m["deviation"],
        "limit_broken": m["limit_broken"],
        "exceeds_by": m["exceeds_by"],
        "decision_rule": {
            "rule": rule.get("rule"),
            "uncertainty": rule.get("uncertainty"),
            "guard": rule.get("guard"),
        },
        "source": m["source"],
        "manual_reason": m["manual_reason"],
        "gauge": gauge,
        "raw": m["raw"],
        "status": "superseded" if successor else "current",
        "supersedes": m["supersedes"],
        "correction_reason": m["reason"],
        "superseded_by": successor,
    }


def _inspection(
    data: LotData, inspection: InspectionData, measurements: list[dict[str, Any]]
) -> dict[str, Any]:
    rejects = [r["uuid"] for r in inspection.results if r["result"] == PartResult.REJECT]
    dispositions = [d.json() for uuid in rejects for d in data.dispositions.get(uuid, [])]
    resolutions = [r.json() for uuid in rejects for r in data.resolutions.get(uuid, [])]
    current = inspection.current_result
    status = (
        data.standing(current["uuid"]).status.value
        if current is not None and current["result"] == PartResult.REJECT
        else None
    )
    return {
        "inspection": inspection.uuid,
        "record": {"station": inspection.station, "seq": inspection.seq},
        "inspector": inspection.inspector,
        "opened_at": inspection.opened_at,
        "reinspection_of": inspection.reinspection_of,
        "sent_back_by": inspection.sent_back_by,
        "result": inspection.result,
        "results": [_result(r) for r in inspection.results],
        "measurements": [_measurement(m, data.superseded_by) for m in measurements],
        "dispositions": dispositions,
        "disposition_status": status,
        "resolutions": resolutions,
    }


def head_json(data: LotData) -> dict[str, Any]:
    """Everything of the document before the parts."""
    spec = data.spec
    return {
        "$schema": schema()["$id"],
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generated_at": data.generated_at,
        "generator": f"inspect-station {__version__}",
        "source": data.source_json(),
        "lot": {
            "lot": data.lot,
            "work_order": data.work_order,
            "lot_size": data.lot_size,
            "opened_at": data.opened_at,
            "opened": [
                {
                    "record": {"station": r["station"], "seq": r["seq"], "uuid": r["uuid"]},
                    "inspector": r["inspector"],
                    "opened_at": r["opened_at"],
                }
                for r in data.lot_records
            ],
        },
        "spec": {
            "part_number": spec.part_number,
            "revision": spec.revision,
            "description": spec.description,
            "status": spec.status.value,
            "spec_hash": data.spec_hash,
            "spec_hash_verified": data.spec_hash_verified,
            "content": json.loads(spec.canonical()),
        },
        "sampling": data.decision.json(),
    }


def tail_json(data: LotData) -> dict[str, Any]:
    """Everything of the document after the parts."""
    rejects = data.rejects()
    return {
        "capability": capability_json(lot_capability(data)),
        "summary": {
            "parts": len({i.serial for i in data.inspections}),
            "inspections": len(data.inspections),
            "measurements": data.measurement_count,
            "rejects": len(rejects),
            "dispositions": sum(len(v) for v in data.dispositions.values()),
        },
        "verification": {
            "status": data.verification_text,
            "chains": [c.json() for c in data.verification or []],
        },
    }


def write_json(data: LotData, out: HashingWriter, options: ExportOptions) -> None:
    """Write the lot as one JSON document to ``out``."""
    head = json.dumps(head_json(data), ensure_ascii=False, indent=2)
    out.write((head[:-2] + ',\n  "parts": [').encode("utf-8"))
    by_serial: dict[str, list[InspectionData]] = {}
    for inspection in data.inspections:
        by_serial.setdefault(inspection.serial, []).append(inspection)
    first = True
    chunk: list[str] = []
    for serial, rows in data.part_measurements():
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            grouped.setdefault(row["inspection"], []).append(row)
        part = {
            "serial": serial,
            "inspections": [
                _inspection(data, i, grouped.get(i.uuid, [])) for i in by_serial.get(serial, [])
            ],
        }
        chunk.append(("\n    " if first else ",\n    ") + _dumps(part))
        first = False
        if len(chunk) >= 200:
            out.write("".join(chunk).encode("utf-8"))
            chunk = []
    out.write("".join(chunk).encode("utf-8"))
    tail = json.dumps(tail_json(data), ensure_ascii=False, indent=2)
    out.write(("\n  ],\n  " + tail[4:] + "\n").encode("utf-8"))


register_format("json", write_json, order=20)
