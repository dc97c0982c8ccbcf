"""Station journals for sync tests: realistic records (lot, parts, measurements, results), fast.

The first part goes through ``Recorder`` (spec, lot, inspection, measurements, result, each its
own durable transaction); the rest reuse its bodies with new serials and ids and are appended in
large ``LocalStore.transaction()`` blocks, so a backlog of tens of thousands takes a second or
two while every record is a real, hashed, chained record with its projection rows.
"""

from __future__ import annotations

import copy
import uuid

from inspect_station.recording import ManualSource, Recorder
from inspect_station.spec import PartSpec
from inspect_station.store import LocalStore

VALUES = {"1": "120.01", "2": "12.005", "3": "0.02", "4": "pass"}


def fill(store: LocalStore, spec: PartSpec, records: int, lot: str = "LOT-SYNC") -> None:
    """Append parts until the journal holds at least ``records`` records (6 per part)."""
    recorder = Recorder(store)
    if store.head()[0] == 0:
        for char, value in VALUES.items():
            recorder.measure(
                spec=spec,
                lot=lot,
                serial="P0",
                inspector="ann",
                characteristic=char,
                value=value,
                source=ManualSource("sync test"),
                auto_close=True,
                lot_size=500,
            )
    templates = {}
    for record in store.records():
        if record["body"].get("serial") == "P0":
            templates.setdefault(record["kind"], []).append(record["body"])
    part = store.head()[0]
    while store.head()[0] < records:
        with store.transaction() as tx:
            for _ in range(min(400, -(-(records - tx.head_seq) // 6))):
                part += 1
                serial = f"P{part}"
                opened = copy.deepcopy(templates["inspection_opened"][0])
                opened["serial"] = serial
                inspection = tx.append("inspection_opened", opened)["uuid"]
                for body in templates["measurement"]:
                    body = copy.deepcopy(body)
                    body.update(serial=serial, inspection=inspection)
                    tx.append("measurement", body)
                closed = copy.deepcopy(templates["inspection_closed"][0])
                closed.update(serial=serial, inspection=inspection, note=str(uuid.uuid4()))
                tx.append("inspection_closed", closed)
