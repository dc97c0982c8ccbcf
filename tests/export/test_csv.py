"""CSV export: read back with the csv module and compared with the journal, record by record."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from lots import RecordedLot

from inspect_station.export.csvfile import COLUMNS, spreadsheet_safe
from inspect_station.export.lot import ExportError, ExportOptions, export_lot
from inspect_station.recording import Recorder
from inspect_station.records import LocalSource, RecordSource


def read_csv(path: Path) -> tuple[bytes, list[dict[str, str]]]:
    """The raw bytes and the rows of an exported CSV file."""
    data = path.read_bytes()
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return data, rows


def journal(lot: RecordedLot, kind: str) -> list[dict]:
    """The lot's records of one kind, in journal order."""
    return [r for r in lot.store.records() if r["kind"] == kind]


def test_one_row_per_measurement_record_matching_the_journal(lot7: RecordedLot, tmp_path: Path):
    path = tmp_path / "L-7.csv"
    export_lot(LocalSource(lot7.store), "L-7", "csv", path)
    data, rows = read_csv(path)
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == len(rows) + 1 and b"\n" not in data.replace(b"\r\n", b"")
    assert list(rows[0]) == [name for name, _ in COLUMNS]
    records = journal(lot7, "measurement")
    assert [r["record_uuid"] for r in rows] == [m["uuid"] for m in records]
    for row, record in zip(rows, records, strict=True):
        body = record["body"]
        gauge = body["gauge"] or {}
        assert row["record_hash"] == record["hash"] and row["record_seq"] == str(record["seq"])
        assert (row["record_station"], row["measured_at"]) == (record["station"], record["ts"])
        assert row["characteristic"] == body["characteristic"]
        assert (row["value"], row["unit"]) == (body["value"], body["unit"] or "")
        assert row["lower_limit"] == (body["limits"]["lower"] or "")
        assert row["upper_limit"] == (body["limits"]["upper"] or "")
        assert row["nominal"] == (body["limits"]["nominal"] or "")
        assert (row["verdict"], row["zone"]) == (body["verdict"], body["zone"])
        assert row["decision_rule"] == body["decision_rule"]["rule"]
        assert row["uncertainty"] == body["decision_rule"].get("uncertainty", "")
        assert row["gauge_asset"] == gauge.get("asset", "")
        assert row["gauge_serial"] == gauge.get("serial_number", "")
        assert row["gauge_calibration_due"] == gauge.get("calibration_due", "")
        assert row["inspector"] == body["inspector"] == "ann"
        assert row["spec_hash"] == lot7.spec.content_hash
        assert (row["lot_decision"], row["chain_verified"]) == ("ACCEPT", "OK")


def test_cells_that_spreadsheets_would_misread_are_safe(lot7: RecordedLot, tmp_path: Path):
    path = tmp_path / "L-7.csv"
    export_lot(LocalSource(lot7.store), "L-7", "csv", path)
    _, rows = read_csv(path)
    serials = {r["serial"] for r in rows}
    assert "'+P4" in serials and "+P4" not in serials
    deviations = {r["deviation"] for r in rows}
    assert "+0.01" in deviations and not [d for d in deviations if d.startswith("'")]
    gauge_rows = [r for r in rows if r["source"] == "gauge"]
    assert gauge_rows and all(r["raw_frame"].endswith("\\r") for r in gauge_rows)
    assert gauge_rows[0]["raw_frame"] == "01A+40.01\\r"
    (note,) = {r["part_note"] for r in rows if r["part_note"]}
    assert note == 'burr, side "A"'


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+2", "'=1+2"),
        ("+P4", "'+P4"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("  =x", "'  =x"),
        ("+0.03", "+0.03"),
        ("-12.5", "-12.5"),
        ("120.00", "120.00"),
        ("S-001", "S-001"),
        ("", ""),
        (None, None),
        (7, 7),
    ],
)
def test_spreadsheet_safe(cell, safe):
    assert spreadsheet_safe(cell) == safe


def test_corrections_dispositions_and_reinspections_are_on_their_rows(
    lot7: RecordedLot, tmp_path: Path
):
    path = tmp_path / "L-7.csv"
    export_lot(LocalSource(lot7.store), "L-7", "csv", path)
    _, rows = read_csv(path)
    p3 = [r for r in rows if r["serial"] == "P3" and r["characteristic"] == "3"]
    old, new = p3
    assert (old["value"], old["status"], old["superseded_by"]) == (
        "0.201",
        "superseded",
        new["record_uuid"],
    )
    assert (new["value"], new["status"], new["supersedes"]) == (
        "0.012",
        "current",
        old["record_uuid"],
    )
    assert new["correction_reason"] == "typo: 0.201 keyed for 0.012"
    p2 = [r for r in rows if r["serial"] == "P2"]
    first = [r for r in p2 if not r["reinspection_of"]]
    again = [r for r in p2 if r["reinspection_of"]]
    assert len(first) == len(again) == 4
    reject = lot7.reject_of("P2")
    assert {r["reinspection_of"] for r in again} == {reject}
    assert {r["part_result"] for r in first} == {"reject"}
    assert {r["part_result"] for r in again} == {"accept"}
    assert {(r["disposition"], r["disposition_status"]) for r in first} == {("rework", "disposed")}
    (signatures,) = {r["disposition_signatures"] for r in first}
    assert signatures.startswith("Sam Ortiz (sam), approval of disposition, 20")
    assert {r["defect_code"] for r in first} == {"D01"}


class PortableLocal(LocalSource):
    """The local store read only through the portable SQL a central store gets."""

    capabilities = frozenset()
    measurement_rows = RecordSource.measurement_rows
    lot_measurements = RecordSource.lot_measurements


def test_the_local_fast_path_writes_the_same_bytes_as_the_portable_one(
    lot7: RecordedLot, tmp_path: Path
):
    recorder = Recorder(lot7.store)
    # Cells that exercise quoting and the formula check, in every column that holds text.
    recorder.close_inspection(
        spec=lot7.spec, lot="L-7", serial="P5", inspector="ann", note='=HYPERLINK("x"), "q"'
    )
    fast, portable = tmp_path / "fast.csv", tmp_path / "portable.csv"
    export_lot(LocalSource(lot7.store), "L-7", "csv", fast, ExportOptions(verify=False))
    export_lot(PortableLocal(lot7.store), "L-7", "csv", portable, ExportOptions(verify=False))
    data = fast.read_bytes()
    assert data == portable.read_bytes()
    assert b"'=HYPERLINK" in data


def test_unknown_and_empty_lots_and_existing_files_are_refused(lot7: RecordedLot, tmp_path: Path):
    source = LocalSource(lot7.store)
    with pytest.raises(ExportError, match="There is no lot 'NOPE' in the local record"):
        export_lot(source, "NOPE", "csv", tmp_path / "x.csv")
    lot7.recorder.open_lot("L-EMPTY", lot7.spec, "ann", lot_size=10)
    source.refresh()
    with pytest.raises(ExportError, match="Lot L-EMPTY has no measurements yet"):
        export_lot(source, "L-EMPTY", "csv", tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()
    target = tmp_path / "L-7.csv"
    target.write_text("keep me")
    with pytest.raises(ExportError, match="already exists; give --force"):
        export_lot(source, "L-7", "csv", target)
    assert target.read_text() == "keep me"
    export_lot(source, "L-7", "csv", target, ExportOptions(force=True))
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")


def test_the_manifest_holds_the_hash_and_the_verification(lot7: RecordedLot, tmp_path: Path):
    import hashlib
    import subprocess

    path = tmp_path / "L-7.csv"
    result = export_lot(LocalSource(lot7.store), "L-7", "csv", path)
    manifest = (tmp_path / "L-7.csv.sha256").read_text()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert manifest.endswith(f"{digest}  L-7.csv\n") and result.sha256 == digest
    assert "# chain TEST-1: OK" in manifest and "# lot decision: ACCEPT" in manifest
    check = subprocess.run(
        ["sha256sum", "-c", "L-7.csv.sha256"], cwd=tmp_path, capture_output=True, text=True
    )
    assert check.returncode == 0 and "L-7.csv: OK" in check.stdout
    path.write_bytes(path.read_bytes() + b"x")
    check = subprocess.run(
        ["sha256sum", "-c", "L-7.csv.sha256"], cwd=tmp_path, capture_output=True, text=True
    )
    assert check.returncode != 0
