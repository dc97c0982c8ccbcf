"""AS9102 Form 3 of one part: a row for every characteristic, values as recorded, in HTML, CSV
and .xlsx (read back with openpyxl), from a station's record and from a central store."""

from __future__ import annotations

import csv
import io
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hostilekit import unchecked_text
from lots import GOOD, PLATE, TODAY, RecordedLot, record_part, ship

from inspect_station.cli import main
from inspect_station.export.fai import (
    COLUMNS,
    NOT_MEASURED,
    TABLE_HEADERS,
    Form3,
    export_form3,
    load_form3,
    table_cells,
)
from inspect_station.export.lot import ExportError
from inspect_station.recording import ManualSource, Recorder
from inspect_station.records import LocalSource
from inspect_station.spec import PartSpec, load_spec
from inspect_station.store import LocalStore
from inspect_station.sync import open_source


def journal(store: LocalStore) -> dict[str, dict[str, Any]]:
    """station:seq -> record, for every record of the station."""
    return {f"{r['station']}:{r['seq']}": r for r in store.records()}


def assert_rows_match_the_record(form: Form3, spec: PartSpec, records: dict[str, dict]) -> None:
    """One row per characteristic in spec order; each result is the recorded value in force."""
    assert [r.char_no for r in form.rows] == [ch.id for ch in spec.characteristic]
    for row in form.rows:
        ch = spec.get(row.char_no)
        assert row.designator == ch.class_.value.capitalize()
        assert row.reference_location == ch.location
        assert row.requirement.startswith(f"{ch.name}: ")
        if row.verdict == NOT_MEASURED:
            assert (row.result, row.record) == (NOT_MEASURED, None)
            continue
        record = records[row.record]
        body = record["body"]
        assert record["kind"] == "measurement"
        assert (body["serial"], body["characteristic"]) == (form.serial, row.char_no)
        assert row.record_hash == record["hash"]
        assert row.verdict == body["verdict"].upper()
        assert (row.value, row.unit) == (body["value"], body["unit"])
        if body["kind"] == "attribute":
            assert row.result == body["value"]
        else:
            assert row.result.startswith(f"{body['value']} {body['unit']}")
        assert row.measured_at == record["ts"] and row.inspector == body["inspector"]


@pytest.fixture
def located(tmp_path_factory: pytest.TempPathFactory) -> PartSpec:
    """PLT-77 revision B with reference locations on two characteristics."""
    text = PLATE.replace('name = "Length"', 'name = "Length"\nlocation = "sheet 1 B3"')
    text = text.replace('name = "Visual"', 'name = "Visual"\nlocation = "note 4"')
    path = tmp_path_factory.mktemp("located") / "PLT-77-B.toml"
    path.write_text(text, encoding="utf-8")
    return load_spec(path)


# -- the form ---------------------------------------------------------------------------------


def test_every_characteristic_has_a_row_with_the_recorded_result(lot7: RecordedLot):
    form = load_form3(LocalSource(lot7.store), "P2", organisation="Acme Aero")
    assert_rows_match_the_record(form, lot7.spec, journal(lot7.store))
    assert (form.part_number, form.part_name, form.revision) == (
        "PLT-77",
        "Cover plate Ø40 — anodised",
        "B",
    )
    assert (form.serial, form.lot, form.organisation) == ("P2", "L-7", "Acme Aero")
    assert form.fair_number == "PLT-77-B-P2" and form.fair_number_derived
    assert form.first_article.startswith("NOT DECLARED") and not form.declared
    # P2 failed its length (40.08), was disposed rework and re-inspected good (40.03).
    length = form.rows[0]
    reject = lot7.reject_of("P2")
    assert (length.result, length.verdict) == ("40.03 mm", "PASS")
    assert length.nonconformance == reject[:8]
    assert "40.08 mm FAIL" in length.comments and "disposition Rework" in length.comments
    assert "Sam Ortiz (sam), approval of disposition" in length.comments
    assert length.tooling == ("CAL-0042 (S/N A1234567, cert. CERT-2026-0042, cal. due 2027-03-01)")
    assert form.rows[1].tooling == "manual entry (typed from the dial)"
    assert form.rows[0].requirement == "Length: 40.00 ±0.05 mm"
    assert form.rows[1].requirement == (
        "Hole Ø: 6.000 +0.012/+0.000 mm; guard band U = 0.002 (ISO 14253-1)"
    )
    assert form.rows[2].requirement == "Flatness, face A: ≤ 0.020 mm"
    assert form.rows[3].requirement == "Visual: attribute, visual, 2x loupe"
    assert form.part_result == "accept"


def test_a_correction_shows_the_value_in_force_and_the_superseded_one(lot7: RecordedLot):
    form = load_form3(LocalSource(lot7.store), "P3")
    flatness = form.rows[2]
    assert (flatness.result, flatness.verdict) == ("0.012 mm", "PASS")
    assert flatness.comments == (
        "corrected: 0.201 mm (FAIL) superseded, reason: typo: 0.201 keyed for 0.012"
    )
    assert flatness.nonconformance is None


def test_unmeasured_characteristics_are_marked_never_left_out(
    store: LocalStore, located: PartSpec, tmp_path: Path
):
    recorder = Recorder(store, today=TODAY)
    for char in ("1", "3"):
        recorder.measure(
            spec=located,
            lot="L-9",
            serial="F1",
            inspector="ann",
            characteristic=char,
            value=GOOD[char],
            source=ManualSource("first article, bench"),
        )
    form = load_form3(LocalSource(store), "F1", fair_number="FAIR-0042")
    assert_rows_match_the_record(form, located, journal(store))
    assert [r.verdict for r in form.rows] == ["PASS", NOT_MEASURED, "PASS", NOT_MEASURED]
    assert form.rows[1].comments == (
        "no measurement of this characteristic is recorded for this part"
    )
    assert [r.reference_location for r in form.rows] == ["sheet 1 B3", None, None, "note 4"]
    assert (form.fair_number, form.fair_number_derived, form.part_result) == (
        "FAIR-0042",
        False,
        "open",
    )
    for fmt in ("html", "csv", "xlsx"):
        export_form3(form, fmt, tmp_path / f"F1.{fmt}")
    assert [r["result"] for r in read_csv(tmp_path / "F1.csv")] == [
        "40.01 mm",
        NOT_MEASURED,
        "0.011 mm",
        NOT_MEASURED,
    ]
    assert [r[4] for r in read_xlsx(tmp_path / "F1.xlsx")[1]] == [
        "40.01 mm",
        NOT_MEASURED,
        "0.011 mm",
        NOT_MEASURED,
    ]
    assert [r[4] for r in read_html(tmp_path / "F1.html")] == [
        "40.01 mm",
        NOT_MEASURED,
        "0.011 mm",
        NOT_MEASURED,
    ]


def test_a_failing_result_in_force_names_its_reject(lot7: RecordedLot):
    record_part(lot7.recorder, lot7.spec, "L-7", "P8", {**GOOD, "2": "6.011"}, defect="D01")
    form = load_form3(LocalSource(lot7.store), "P8")
    hole = form.rows[1]
    assert (hole.result, hole.verdict) == ("6.011 mm", "FAIL")
    assert hole.nonconformance == lot7.reject_of("P8")[:8]
    assert hole.comments.startswith("in the guard band: conformance not proven (ISO 14253-1)")
    assert "awaiting disposition" in hole.comments
    assert form.part_result == "reject"


def test_the_form_names_the_chain_head_it_was_made_from(lot7: RecordedLot):
    seq, hash_ = lot7.store.head()
    form = load_form3(LocalSource(lot7.store), "P1")
    assert form.heads == [("TEST-1", seq, hash_)]
    assert form.heads_text == f"TEST-1:{seq}:{hash_}"
    assert form.verification_text == "OK"


# -- the three formats ------------------------------------------------------------------------


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a Form 3 CSV."""
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def read_xlsx(path: Path) -> tuple[dict[str, str], list[list[Any]]]:
    """(header label -> text, table rows) of a Form 3 workbook, read with openpyxl."""
    import openpyxl  # here, not at the top: every test worker collects this module

    book = openpyxl.load_workbook(path)
    sheet = book["Form 3"]
    header: dict[str, str] = {}
    rows: list[list[Any]] = []
    table = False
    for cells in sheet.iter_rows(values_only=True):
        if cells[0] == TABLE_HEADERS[0]:
            assert list(cells[: len(TABLE_HEADERS)]) == list(TABLE_HEADERS)
            table = True
        elif table:
            if cells[0] is not None:
                rows.append(list(cells[: len(TABLE_HEADERS)]))
        elif cells[0] is not None and cells[1] is not None:
            header[cells[0]] = cells[1]
    return header, rows


class _Cells(HTMLParser):
    """The body rows of the HTML form's characteristic table."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tables = 0
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables += 1
        elif tag == "tr" and self.tables == 2:
            self.rows.append([])
        elif tag == "td" and self.tables == 2:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None:
            self.rows[-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def read_html(path: Path) -> list[list[str]]:
    """The characteristic rows of an HTML form."""
    parser = _Cells()
    parser.feed(path.read_text(encoding="utf-8"))
    return [r for r in parser.rows if r]


def test_xlsx_reads_back_with_openpyxl(lot7: RecordedLot, tmp_path: Path):
    form = load_form3(LocalSource(lot7.store), "P2", organisation="Acme Aero")
    export_form3(form, "xlsx", tmp_path / "P2.xlsx")
    header, rows = read_xlsx(tmp_path / "P2.xlsx")
    assert header["1. Part Number"] == "PLT-77"
    assert header["2. Part Name"] == "Cover plate Ø40 — anodised"
    assert header["3. Serial Number"] == "P2"
    assert header["4. FAI Report Number"].startswith("PLT-77-B-P2")
    assert header["Organization Name"] == "Acme Aero"
    assert header["First Article"] == form.first_article
    assert header["Made From Chain Heads"] == form.heads_text
    assert rows == [table_cells(r) for r in form.rows]
    assert_rows_match_the_record(form, lot7.spec, journal(lot7.store))


def test_csv_and_html_hold_the_same_rows(lot7: RecordedLot, tmp_path: Path):
    form = load_form3(LocalSource(lot7.store), "P2")
    export_form3(form, "csv", tmp_path / "P2.csv")
    export_form3(form, "html", tmp_path / "P2.html")
    rows = read_csv(tmp_path / "P2.csv")
    assert list(rows[0]) == [name for name, _ in COLUMNS]
    assert [r["char_no"] for r in rows] == ["1", "2", "3", "4"]
    for row, cells in zip(rows, form.rows, strict=True):
        assert (row["result"], row["verdict"], row["record_hash"]) == (
            cells.result,
            cells.verdict,
            cells.record_hash,
        )
        assert row["serial"] == "P2" and row["chain_heads"] == form.heads_text
    assert read_html(tmp_path / "P2.html") == [table_cells(r) for r in form.rows]


def test_hostile_text_stays_text_in_every_format(store: LocalStore, plate: PartSpec, tmp_path):
    serial = '=HYPERLINK("x")<b>\x01'
    with unchecked_text():  # as an older record (or another station's) can hold it
        record_part(Recorder(store, today=TODAY), plate, "L-1", serial, GOOD)
    form = load_form3(LocalSource(store), serial)
    for fmt in ("html", "csv", "xlsx"):
        export_form3(form, fmt, tmp_path / f"x.{fmt}")
    assert read_csv(tmp_path / "x.csv")[0]["serial"] == "'" + serial
    import openpyxl

    book = openpyxl.load_workbook(tmp_path / "x.xlsx")
    cell = next(
        c for row in book["Form 3"].iter_rows() for c in row if c.value and "HYPER" in c.value
    )
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("x")<b>\\x01'
    text = (tmp_path / "x.html").read_text(encoding="utf-8")
    assert "<b>" not in text and "&lt;b&gt;" in text


# -- where the records come from, and the command ---------------------------------------------


def test_the_form_is_the_same_from_a_central_store(lot7: RecordedLot, central_url: str):
    ship(lot7.store, central_url)
    local = load_form3(LocalSource(lot7.store), "P2")
    with open_source(central_url) as source:
        central = load_form3(source, "P2")
    assert central.rows == local.rows
    assert central.heads == local.heads and central.verification_text == "OK"
    assert_rows_match_the_record(central, lot7.spec, journal(lot7.store))


@pytest.fixture
def config(lot7: RecordedLot, tmp_path: Path) -> Path:
    """station.toml of TEST-1 with its organisation, whose record is the lot7 store."""
    path = tmp_path / "station.toml"
    path.write_text(f'station = "TEST-1"\norganisation = "Acme Aero"\ndb = "{lot7.store.path}"\n')
    return path


def run(config: Path, *args: str):
    """Invoke the command line in-process."""
    return CliRunner().invoke(main, ["--config", str(config), *args])


def test_export_fai_writes_the_form_and_its_manifest(config: Path, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(config, "export", "fai", "P2", "--format", "xlsx", "--undeclared")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Wrote FAI-P2.xlsx (Form 3 of PLT-77 rev B serial P2, lot L-7")
    check = subprocess.run(
        ["sha256sum", "-c", "FAI-P2.xlsx.sha256"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    header, rows = read_xlsx(tmp_path / "FAI-P2.xlsx")
    assert header["Organization Name"] == "Acme Aero" and len(rows) == 4
    out = tmp_path / "form.html"
    result = run(
        config, "export", "fai", "P1", "--out", str(out), "--fair-number", "FAIR-7", "--undeclared"
    )
    assert result.exit_code == 0, result.output
    assert "FAIR-7" in out.read_text(encoding="utf-8")


def test_export_fai_asks_for_the_lot_when_a_serial_is_in_two(
    config: Path, lot7: RecordedLot, tmp_path: Path
):
    record_part(lot7.recorder, lot7.spec, "L-8", "P1", GOOD)
    result = run(config, "export", "fai", "P1", "--out", str(tmp_path / "a.csv"))
    assert result.exit_code == 2
    assert (
        result.output
        == "Error: Part P1 was inspected in lots L-7, L-8; give --lot to choose one.\n"
    )
    assert not (tmp_path / "a.csv").exists()
    result = run(
        config,
        "export",
        "fai",
        "P1",
        "--lot",
        "L-8",
        "--out",
        str(tmp_path / "a.csv"),
        "--undeclared",
    )
    assert result.exit_code == 0, result.output
    assert {r["lot"] for r in read_csv(tmp_path / "a.csv")} == {"L-8"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NOPE"], "Error: There is no part 'NOPE' in the local record"),
        (["P1", "--lot", "L-99"], "Error: Part P1 was not inspected in lot L-99 (it was in L-7)."),
        (["P1", "--out", "exists.html"], "already exists; give --force to overwrite it."),
    ],
)
def test_export_fai_refusals_are_one_sentence_and_exit_2(
    config: Path, tmp_path: Path, monkeypatch, args: list[str], message: str
):
    monkeypatch.chdir(tmp_path)
    Path("exists.html").write_text("old")
    result = run(config, "export", "fai", *args, "--undeclared")
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert Path("exists.html").read_text() == "old"


def test_export_fai_reads_a_central_store(
    config: Path, lot7: RecordedLot, central_url: str, tmp_path: Path
):
    ship(lot7.store, central_url)
    out = tmp_path / "central.csv"
    result = run(
        config, "export", "fai", "P3", "--central", central_url, "--out", str(out), "--undeclared"
    )
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    assert [r["verdict"] for r in rows] == ["PASS"] * 4
    assert rows[0]["organisation"] == "Acme Aero"


def test_a_load_error_is_an_export_error(lot7: RecordedLot):
    with pytest.raises(ExportError, match=r"Give the serial number of the part\."):
        load_form3(LocalSource(lot7.store), "  ")


def test_export_fai_to_standard_output_puts_the_manifest_on_stderr(config: Path):
    result = CliRunner().invoke(
        main,
        [
            "--config",
            str(config),
            "export",
            "fai",
            "P5",
            "--format",
            "csv",
            "--out",
            "-",
            "--undeclared",
        ],
    )
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    assert [r["char_no"] for r in rows] == ["1", "2", "3", "4"]
    assert result.stderr.startswith("# inspect-station AS9102 Form 3 manifest")
    assert "# part PLT-77 revision B serial P5; lot L-7;" in result.stderr
    assert "# chain TEST-1: OK" in result.stderr and result.stderr.rstrip().endswith("  -")
