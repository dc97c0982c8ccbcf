"""JSON export: valid against the shipped schema, nested, complete, decimals as strings."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from lots import RecordedLot

from inspect_station.export.jsonfile import schema
from inspect_station.export.lot import export_lot
from inspect_station.records import LocalSource


@pytest.fixture
def document(lot7: RecordedLot, tmp_path: Path) -> dict:
    """Lot L-7 exported as JSON and parsed."""
    path = tmp_path / "L-7.json"
    export_lot(LocalSource(lot7.store), "L-7", "json", path)
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_schema_is_shipped_and_valid():
    jsonschema.Draft202012Validator.check_schema(schema())


def test_the_document_follows_the_schema(document: dict):
    jsonschema.Draft202012Validator(schema()).validate(document)


def test_the_schema_refuses_a_float_or_a_missing_signature(document: dict):
    validator = jsonschema.Draft202012Validator(schema())
    bad = json.loads(json.dumps(document))
    bad["parts"][0]["inspections"][0]["measurements"][0]["limits"]["upper"] = 40.05
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(bad)
    bad = json.loads(json.dumps(document))
    p2 = next(p for p in bad["parts"] if p["serial"] == "P2")
    p2["inspections"][0]["dispositions"][0]["signatures"] = []
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(bad)


def test_the_document_holds_the_whole_lot(document: dict, lot7: RecordedLot):
    spec = document["spec"]
    assert (spec["part_number"], spec["revision"]) == ("PLT-77", "B")
    assert spec["spec_hash"] == lot7.spec.content_hash and spec["spec_hash_verified"]
    sampling = document["sampling"]
    assert (sampling["plan"]["sample_size"], sampling["plan"]["accept"]) == (5, 1)
    assert (sampling["in_sample"], sampling["nonconforming_in_sample"]) == (5, 1)
    assert sampling["decision"] == "ACCEPT"
    assert document["lot"]["work_order"] == "WO-881" and document["lot"]["lot_size"] == 20
    assert [p["serial"] for p in document["parts"]] == ["+P4", "P1", "P2", "P3", "P5"]
    p2 = next(p for p in document["parts"] if p["serial"] == "P2")
    first, again = p2["inspections"]
    assert first["result"] == "reject" and again["result"] == "accept"
    assert again["reinspection_of"] == first["results"][-1]["record"]["uuid"]
    (disposition,) = first["dispositions"]
    assert disposition["disposition"] == "rework" and disposition["complete"]
    (signature,) = disposition["signatures"]
    assert (signature["name"], signature["user_id"]) == ("Sam Ortiz", "sam")
    assert signature["meaning"] == "approval of disposition"
    assert again["sent_back_by"] == disposition["uuid"]
    length = first["measurements"][0]
    assert (length["value"], length["verdict"], length["limit_broken"]) == (
        "40.08",
        "fail",
        "upper",
    )
    assert length["gauge"]["asset"] == "CAL-0042" and length["raw"] == "01A+40.08\r"
    hashes = {r["uuid"]: r["hash"] for r in lot7.store.records()}
    assert length["record"]["hash"] == hashes[length["record"]["uuid"]]
    p3 = next(p for p in document["parts"] if p["serial"] == "P3")
    flatness = [m for m in p3["inspections"][0]["measurements"] if m["characteristic"] == "3"]
    assert [m["status"] for m in flatness] == ["superseded", "current"]
    assert flatness[1]["correction_reason"] == "typo: 0.201 keyed for 0.012"
    assert [r["result"] for r in p3["inspections"][0]["results"]] == ["reject", "accept"]
    assert document["verification"]["status"] == "OK"
    (chain,) = document["verification"]["chains"]
    assert chain["station"] == "TEST-1" and chain["ok"]
    assert document["summary"]["measurements"] == 25  # 5 parts, a re-inspection, a correction
