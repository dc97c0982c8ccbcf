"""QIF 3.0 results export: valid against the official schema, and every value and verdict read
back equals the record's, from a station's record and from a central store."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from hostilekit import unchecked_text
from lots import CALIPER, GOOD, TODAY, RecordedLot, record_part, ship
from qifkit import (
    NS,
    as_in_xml,
    cached_schema,
    escaped_raw,
    read_qif,
    schema_errors,
)

from inspect_station.cli import main
from inspect_station.export.lot import ExportOptions, export_lot
from inspect_station.recording import GaugeSource, ManualSource, Recorder
from inspect_station.records import LocalSource, RecordSource
from inspect_station.spec import PartSpec
from inspect_station.store import LocalStore
from inspect_station.sync import open_source

if TYPE_CHECKING:  # imported where used: every test worker collects this module
    import xmlschema


@pytest.fixture(scope="session")
def qif_schema() -> xmlschema.XMLSchema:
    """The official QIFDocument.xsd, built once (it takes seconds) and kept between runs."""
    return cached_schema()


@pytest.fixture
def export_qif(qif_schema: xmlschema.XMLSchema):
    """Export a lot as QIF to a path, check the document is valid QIF 3.0, return its text."""

    def export(source: RecordSource, lot: str, path: Path, organisation: str | None = None) -> str:
        export_lot(source, lot, "qif", path, ExportOptions(organisation=organisation))
        text = path.read_text(encoding="utf-8")
        assert schema_errors(qif_schema, text) == []
        return text

    return export


def lot_records(store: LocalStore, lot: str) -> list[dict[str, Any]]:
    """Every journal record of the station that belongs to ``lot``."""
    return [r for r in store.records() if r["body"].get("lot") == lot]


def _text(value: str | None) -> str | None:
    return None if value is None else as_in_xml(value)


def assert_measurements_match(text: str, records: list[dict[str, Any]]) -> None:
    """Every measurement record of the lot is in the QIF, with its value, verdict and source."""
    doc = read_qif(text)
    measurements = [r for r in records if r["kind"] == "measurement"]
    assert measurements
    assert set(doc.measurements) == {r["uuid"] for r in measurements}
    superseded = {r["body"]["supersedes"]: r["uuid"] for r in measurements}
    for record in measurements:
        body = record["body"]
        m = doc.measurements[record["uuid"]]
        where = f"{record['station']}:{record['seq']}"
        assert (m.record["station"], m.record["seq"]) == (record["station"], str(record["seq"]))
        assert m.record["hash"] == record["hash"], where
        assert m.record["value"] == as_in_xml(body["value"]), where
        assert m.record.get("unit") == body["unit"], where
        assert m.record["verdict"] == body["verdict"], where
        assert m.record.get("zone") == body["zone"], where
        assert m.record.get("deviation") == body["deviation"], where
        if record["uuid"] in superseded:
            assert m.status == "SUPERSEDED", where
            assert m.record["supersededBy"] == superseded[record["uuid"]], where
        else:
            assert m.status == body["verdict"].upper(), where
        if body["kind"] == "attribute":
            assert (m.type, m.value) == (
                "UserDefinedAttributeCharacteristicMeasurement",
                body["value"],
            )
        else:
            assert m.value == body["value_in_spec_unit"], where
            assert m.value_unit == body["limits"]["unit"], where
        assert m.balloon == body["characteristic"], where
        assert m.serial == as_in_xml(body["serial"]), where
        assert m.time == record["ts"], where
        assert m.record["source"] == body["source"], where
        assert m.record.get("manualReason") == _text(body["manual_reason"]), where
        assert m.record.get("raw") == escaped_raw(body["raw"]), where
        assert m.record.get("rule") == body["decision_rule"]["rule"], where
        assert m.record.get("supersedes") == body["supersedes"], where
        assert m.record.get("reason") == _text(body["reason"]), where
        gauge = body["gauge"]
        expected = (
            [
                {
                    "asset": gauge["asset"],
                    "serialNumber": gauge["serial_number"],
                    "certificate": gauge["certificate"],
                    "calibrationDue": gauge["calibration_due"],
                }
            ]
            if gauge
            else []
        )
        assert m.devices == expected, where
        if body["supersedes"]:
            assert body["reason"] in m.events[0], where


# -- a station's record --------------------------------------------------------------------


def test_the_lot_exports_as_valid_qif(lot7: RecordedLot, tmp_path: Path, export_qif):
    text = export_qif(LocalSource(lot7.store), "L-7", tmp_path / "L-7.qif", "Acme Aero")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<QIFDocument ')
    root = read_qif(text).root
    assert root.get("versionQIF") == "3.0.0"
    assert root.findtext("q:Header/q:Author/q:Organization", namespaces=NS) == "Acme Aero"


def test_every_value_and_verdict_reads_back_as_recorded(
    lot7: RecordedLot, tmp_path: Path, export_qif
):
    text = export_qif(LocalSource(lot7.store), "L-7", tmp_path / "L-7.qif")
    assert_measurements_match(text, lot_records(lot7.store, "L-7"))


def test_parts_inspections_and_dispositions_read_back(
    lot7: RecordedLot, tmp_path: Path, export_qif
):
    doc = read_qif(export_qif(LocalSource(lot7.store), "L-7", tmp_path / "L-7.qif"))
    records = lot_records(lot7.store, "L-7")
    opened = [r for r in records if r["kind"] in ("inspection_opened", "reinspection_opened")]
    results = {r["body"]["inspection"]: r for r in records if r["kind"] == "inspection_closed"}
    by_uuid = {e.find(".//is:Inspection", NS).get("uuid"): e for e in doc.results}
    assert len(doc.results) == len(by_uuid) == len(opened) == 6
    # In journal order: each inspection as soon as its last measurement was recorded.
    last = {r["body"]["inspection"]: r["seq"] for r in records if r["kind"] == "measurement"}
    assert list(by_uuid) == sorted(by_uuid, key=lambda uuid: last[uuid])
    for record in opened:
        element = by_uuid[record["uuid"]]
        inspection = element.find(".//is:Inspection", NS)
        assert inspection.get("serial") == record["body"]["serial"]
        start = element.findtext("q:InspectionTraceability/q:InspectionStart", None, NS)
        assert start == record["ts"]
        assert element.findtext(".//q:InspectionOperator/q:Name", None, NS) == "ann"
        assert element.findtext("q:InspectionTraceability/q:OrderNumber", None, NS) == "WO-881"
        result = results[record["uuid"]]["body"]["result"]
        status = element.findtext("q:InspectionStatus/q:InspectionStatusEnum", None, NS)
        assert status == {"accept": "PASS", "reject": "FAIL"}[result]
    assert sorted(doc.components) == ["+P4", "P1", "P2", "P3", "P5"]
    for serial, component in doc.components.items():
        assert component.findtext("q:Traceability/q:LotNumber", None, NS) == "L-7"
        assert component.findtext("q:Status/q:InspectionStatusEnum", None, NS) == "PASS", serial
    # P2's reject: its failing length names the reject, the disposition and its signature.
    reject = lot7.reject_of("P2")
    (failed,) = [m for m in doc.measurements.values() if m.status == "FAIL"]
    assert (failed.serial, failed.balloon, failed.value, failed.status) == (
        "P2",
        "1",
        "40.08",
        "FAIL",
    )
    assert failed.nonconformance == reject
    (disposition,) = doc.root.iterfind(".//is:Disposition", NS)
    assert (disposition.get("reject"), disposition.get("disposition")) == (reject, "rework")
    assert disposition.get("reason") == "deburr and re-cut to length"
    assert disposition.get("status") == "disposed"
    (signature,) = disposition
    assert (signature.get("name"), signature.get("userId")) == ("Sam Ortiz", "sam")
    assert signature.get("meaning") == "approval of disposition"
    events = [e.text for e in doc.root.iterfind(".//q:NotedEvent/q:Description", NS)]
    assert any(e.startswith(f"Disposition Rework of reject {reject}") for e in events)


def test_characteristics_carry_limits_balloons_class_and_gauges(
    lot7: RecordedLot, tmp_path, export_qif
):
    doc = read_qif(export_qif(LocalSource(lot7.store), "L-7", tmp_path / "L-7.qif"))
    spec: PartSpec = lot7.spec
    assert list(doc.definitions) == [ch.id for ch in spec.characteristic]
    for ch in spec.characteristic:
        definition = doc.definitions[ch.id]
        assert definition.findtext("q:Name", None, NS) == ch.name
        lower, upper = ch.limits
        assert definition.findtext("q:Tolerance/q:MaxValue", None, NS) == (
            None if upper is None else str(upper)
        )
        assert definition.findtext("q:Tolerance/q:MinValue", None, NS) == (
            None if lower is None else str(lower)
        )
        nominal = doc.nominals[ch.id].findtext("q:TargetValue", None, NS)
        assert nominal == (None if ch.nominal is None else str(ch.nominal))
    item = next(i for i in doc.items.values() if i.findtext("q:Name", None, NS) == "1")
    assert item.findtext(".//q:Criticality/q:LevelEnum", None, NS) == "MAJOR"
    (device_id,) = [e.text for e in item.iterfind("q:MeasurementDeviceIds/q:Id", NS)]
    (device,) = doc.root.iterfind(".//q:ManualMeasurementDevice", NS)
    assert device.get("id") == device_id
    assert device.findtext("q:Name", None, NS) == "CAL-0042"
    assert device.findtext("q:SerialNumber", None, NS) == "A1234567"
    assert device.findtext(".//q:ExpirationDate", None, NS) == "2027-03-01T23:59:59"
    assert device.find(".//is:Gauge", NS).get("certificate") == "CERT-2026-0042"
    part = doc.root.find("q:Product/q:PartSet/q:Part", NS)
    assert (part.findtext("q:ModelNumber", None, NS), part.findtext("q:Version", None, NS)) == (
        "PLT-77",
        "B",
    )
    assert part.find(".//is:Spec", NS).get("hash") == spec.content_hash


def test_the_export_names_the_chain_head_it_was_made_from(
    lot7: RecordedLot, tmp_path: Path, export_qif
):
    source = LocalSource(lot7.store)
    seq, hash_ = lot7.store.head()
    # Records written after the export started are not in it.
    text = export_qif(source, "L-7", tmp_path / "L-7.qif")
    record_part(lot7.recorder, lot7.spec, "L-7", "P6", GOOD)
    doc = read_qif(text)
    (head,) = doc.export.iterfind("is:ChainHead", NS)
    assert (head.get("station"), head.get("seq"), head.get("hash")) == ("TEST-1", str(seq), hash_)
    (chain,) = doc.export.iterfind("is:Verification/is:Chain", NS)
    assert (chain.get("ok"), chain.get("headSeq")) == ("true", str(seq))
    assert f"TEST-1 seq {seq} ({hash_})" in doc.root.findtext("q:Header/q:Description", None, NS)
    assert "P6" not in doc.components


def test_a_correction_keeps_the_earlier_value_superseded(
    lot7: RecordedLot, tmp_path: Path, export_qif
):
    doc = read_qif(export_qif(LocalSource(lot7.store), "L-7", tmp_path / "L-7.qif"))
    p3 = {m.record["value"]: m for m in doc.measurements.values() if m.serial == "P3"}
    earlier, correction = p3["0.201"], p3["0.012"]
    assert earlier.status == "SUPERSEDED" and earlier.record["verdict"] == "fail"
    assert correction.status == "PASS"
    assert correction.record["supersedes"] == earlier.record["uuid"]
    assert earlier.record["supersededBy"] == correction.record["uuid"]
    assert correction.events == [
        f"Correction of characteristic 3 by ann: 0.012 mm supersedes record "
        f"{earlier.record['uuid']}; reason: typo: 0.201 keyed for 0.012"
    ]


def test_inches_angles_and_micrometres_are_declared_units(
    store: LocalStore, shaft: PartSpec, tmp_path: Path, export_qif
):
    recorder = Recorder(store, today=TODAY)
    values = {"1": ("25.3937", "mm"), "2": ("8.5004", None), "3": ("0.130", None)}
    values |= {"4": ("45.5", None), "5": ("0.45", None)}
    for char, (value, unit) in values.items():
        recorder.measure(
            spec=shaft,
            lot="S-1",
            serial="SH-1",
            inspector="ann",
            characteristic=char,
            value=value,
            unit=unit,
            source=ManualSource("bench micrometer"),
            auto_close=True,
        )
    text = export_qif(LocalSource(store), "S-1", tmp_path / "S-1.qif")
    assert_measurements_match(text, lot_records(store, "S-1"))
    doc = read_qif(text)
    units = doc.root.find("q:FileUnits", NS)
    assert units.findtext("q:PrimaryUnits/q:LinearUnit/q:UnitName", None, NS) == "in"
    assert units.findtext("q:PrimaryUnits/q:LinearUnit/q:UnitConversion/q:Factor", None, NS) == (
        "0.0254"
    )
    assert units.findtext("q:PrimaryUnits/q:AngularUnit/q:UnitName", None, NS) == "deg"
    assert [u.text for u in units.iterfind("q:OtherUnits/*/q:UnitName", NS)] == ["um"]
    by_balloon = {m.balloon: m for m in doc.measurements.values()}
    assert by_balloon["4"].type == "UserDefinedAngularCharacteristicMeasurement"
    assert (by_balloon["4"].value, by_balloon["4"].value_unit) == ("45.5", "deg")
    assert by_balloon["1"].record["unit"] == "mm" and by_balloon["1"].value_unit == "in"
    assert (by_balloon["5"].value, by_balloon["5"].value_unit) == ("0.45", "um")


def test_hostile_text_is_escaped_and_the_document_stays_valid(
    store: LocalStore, plate: PartSpec, tmp_path: Path, export_qif
):
    recorder = Recorder(store, today=TODAY)
    serial = 'S<1>&"\x01'
    reason = "</Description><Evil/> & \x02\x7f"
    for char, value in GOOD.items():
        source = GaugeSource(CALIPER, b'01A+40.01"<\x03\r') if char == "1" else ManualSource(reason)
        with unchecked_text():  # as an older record (or another station's) can hold it
            recorder.measure(
                spec=plate,
                lot="L&<9>",
                serial=serial,
                inspector="ann",
                characteristic=char,
                value=value,
                source=source,
                auto_close=True,
            )
    text = export_qif(LocalSource(store), "L&<9>", tmp_path / "hostile.qif", 'Org "A" & <B>')
    assert "<Evil/>" not in text
    assert_measurements_match(text, lot_records(store, "L&<9>"))
    doc = read_qif(text)
    assert list(doc.components) == ['S<1>&"\\x01']
    assert doc.export.get("lot") == "L&<9>"


# -- the validator itself -------------------------------------------------------------------


def test_the_validator_refuses_broken_documents(
    lot7: RecordedLot, qif_schema, tmp_path: Path, export_qif
):
    text = export_qif(LocalSource(lot7.store), "L-7", tmp_path / "L-7.qif")
    device = re.search(r'<ManualMeasurementDevice id="(\d+)"', text).group(1)
    first_id = re.search(r'<Standard id="(\d+)"', text).group(1)
    broken = {
        "a measurement without its status": re.sub(
            r"<Status><CharacteristicStatusEnum>PASS</CharacteristicStatusEnum></Status>",
            "",
            text,
            count=1,
        ),
        "a value that is not a number": text.replace(
            '<Value linearUnit="mm">40.01</Value>', '<Value linearUnit="mm">40,01</Value>', 1
        ),
        "a status QIF does not know": text.replace(
            "<CharacteristicStatusEnum>PASS<", "<CharacteristicStatusEnum>OK<", 1
        ),
        "a reference to a gauge that is not there": text.replace(
            f'<MeasurementDeviceIds n="1"><Id>{device}</Id>',
            '<MeasurementDeviceIds n="1"><Id>99999</Id>',
            1,
        ),
        "an id used twice": text.replace(
            f'<Standard id="{first_id}">', f'<Standard id="{device}">', 1
        ),
        "another QIF version": text.replace('versionQIF="3.0.0"', 'versionQIF="3.1.0"', 1),
        "a count that does not match": text.replace(
            '<ActualComponentSet n="5">', '<ActualComponentSet n="4">', 1
        ),
        "an idMax below the largest id": re.sub(r'idMax="\d+"', 'idMax="3"', text, count=1),
    }
    for what, document in broken.items():
        assert document != text, what
        assert schema_errors(qif_schema, document), f"{what} was accepted"


# -- a central store ------------------------------------------------------------------------


def _comparable(text: str) -> str:
    """The document without what differs between two exports of the same records."""
    text = re.sub(r"<QPId>[^<]*</QPId>", "", text)
    text = re.sub(r'generated="[^"]*"', "", text)
    text = re.sub(r"<TimeCreated>[^<]*</TimeCreated>", "", text)
    return re.sub(r"<is:Source [^>]*/>", "", text)


def test_the_lot_exports_the_same_from_a_central_store(
    lot7: RecordedLot, central_url: str, tmp_path: Path, export_qif
):
    ship(lot7.store, central_url)
    local = export_qif(LocalSource(lot7.store), "L-7", tmp_path / "local.qif")
    with open_source(central_url) as source:
        central = export_qif(source, "L-7", tmp_path / "central.qif")
    assert_measurements_match(central, lot_records(lot7.store, "L-7"))
    assert read_qif(central).export.find("is:Source", NS).get("kind") == "central"
    assert _comparable(central) == _comparable(local)


def test_a_lot_from_two_stations_names_both_chain_heads(
    lot7: RecordedLot, central_url: str, tmp_path: Path, export_qif
):
    with LocalStore(tmp_path / "bench2.db", "BENCH-2") as bench2:
        record_part(Recorder(bench2, today=TODAY), lot7.spec, "L-7", "Q9", GOOD)
        ship(bench2, central_url)
        bench2_head = bench2.head()
        bench2_records = lot_records(bench2, "L-7")
    ship(lot7.store, central_url)
    with open_source(central_url) as source:
        text = export_qif(source, "L-7", tmp_path / "central.qif")
    assert_measurements_match(text, lot_records(lot7.store, "L-7") + bench2_records)
    heads = {
        h.get("station"): (int(h.get("seq")), h.get("hash"))
        for h in read_qif(text).export.iterfind("is:ChainHead", NS)
    }
    assert heads == {"BENCH-2": bench2_head, "TEST-1": lot7.store.head()}


# -- the command ----------------------------------------------------------------------------


def test_export_lot_format_qif_writes_the_document_and_its_manifest(
    lot7: RecordedLot, qif_schema, tmp_path: Path, monkeypatch
):
    config = tmp_path / "station.toml"
    config.write_text(
        f'station = "TEST-1"\norganisation = "Acme Aero, Plant 2"\ndb = "{lot7.store.path}"\n'
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main, ["--config", str(config), "export", "lot", "L-7", "--format", "qif"]
    )
    assert result.exit_code == 0, result.output
    assert "Wrote L-7.qif (25 measurement records" in result.output
    check = subprocess.run(["sha256sum", "-c", "L-7.qif.sha256"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "# format: qif;" in Path("L-7.qif.sha256").read_text()
    text = Path("L-7.qif").read_text(encoding="utf-8")
    assert schema_errors(qif_schema, text) == []
    doc = read_qif(text)
    assert doc.export.get("organisation") == "Acme Aero, Plant 2"
    name = ".//q:InspectionTraceability/q:InspectingOrganization/q:Name"
    assert doc.root.findtext(name, None, NS) == "Acme Aero, Plant 2"


def test_export_to_standard_output_is_the_document_alone(
    lot7: RecordedLot, qif_schema, tmp_path: Path
):
    config = tmp_path / "station.toml"
    config.write_text(f'station = "TEST-1"\ndb = "{lot7.store.path}"\n')
    result = CliRunner().invoke(
        main, ["--config", str(config), "export", "lot", "L-7", "--format", "qif", "--out", "-"]
    )
    assert result.exit_code == 0, result.stderr
    # Parses as one document: no chain summary (or anything else) after it.
    assert len(read_qif(result.stdout_bytes).measurements) == 25
    assert schema_errors(qif_schema, result.stdout_bytes) == []
    assert "# chain TEST-1: OK" in result.stderr
