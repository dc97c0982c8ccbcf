"""Calibration records: `gauges calibrate` records a signed pass/fail event, refuses what it
must, and `trace gauge` shows the history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from lots import RecordedLot, ship
from userkit import PINS

from inspect_station.calibration import CalibrationError, record_calibration
from inspect_station.cli import main
from inspect_station.export.trace import calibration_history
from inspect_station.records import LocalSource
from inspect_station.sync import open_source


@pytest.fixture
def config(lot7: RecordedLot, tmp_path: Path) -> Path:
    """station.toml of TEST-1 with the caliper CAL-0042, whose record is the lot7 store."""
    path = tmp_path / "station.toml"
    path.write_text(
        f'station = "TEST-1"\ndb = "{lot7.store.path}"\n'
        "[[gauge]]\n"
        'asset = "CAL-0042"\nprofile = "mitutoyo-ascii"\nport = "loop://"\nunit = "mm"\n'
        'serial_number = "A1234567"\ncertificate = "CERT-2026-0042"\n'
        "calibrated_on = 2026-03-01\ncalibration_due = 2027-03-01\n"
    )
    return path


def run(config: Path, *args: str, pin: str | None = None):
    """Invoke the command line in-process, the PIN on standard input."""
    return CliRunner().invoke(
        main, ["--config", str(config), *args], input=None if pin is None else pin + "\n"
    )


def calibrations(lot7: RecordedLot) -> list[dict]:
    """The calibration records of the journal."""
    return [r for r in lot7.store.records() if r["kind"] == "calibration"]


def test_a_supervisor_records_a_calibration_signed_with_their_pin(config: Path, lot7):
    result = run(
        config,
        *("gauges", "calibrate", "CAL-0042", "--result", "pass", "--certificate", "C-77"),
        *("--due", "2027-12-01", "--on", "2026-11-30", "--as", "sam", "--pin-stdin"),
        pin=PINS["sam"],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "Recorded calibration of CAL-0042: PASS on 2026-11-30, certificate C-77, next due "
        "2027-12-01"
    )
    (record,) = calibrations(lot7)
    body = record["body"]
    assert (body["asset"], body["serial_number"], body["result"]) == (
        "CAL-0042",
        "A1234567",
        "pass",
    )
    assert (body["calibrated_on"], body["due"]) == ("2026-11-30", "2027-12-01")
    assert body["signature"]["user_id"] == "sam" and body["signature"]["name"] == "Sam Ortiz"
    assert body["signature"]["meaning"] == "responsibility for the calibration result"
    assert lot7.store.verify().ok


def test_a_failed_calibration_says_the_results_are_suspect(config: Path, lot7):
    result = run(
        config,
        *("gauges", "calibrate", "CAL-0042", "--result", "fail", "--certificate", "C-78"),
        *("--as", "kim", "--pin-stdin"),
        pin=PINS["kim"],
    )
    assert result.exit_code == 0, result.output
    assert "Results taken with CAL-0042 since its last good calibration are suspect" in (
        result.stderr
    )
    assert calibrations(lot7)[0]["body"]["result"] == "fail"


@pytest.mark.parametrize(
    ("args", "pin", "message"),
    [
        (["--as", "ann"], PINS["ann"], "Ann Lee (ann) is an inspector: only a supervisor"),
        (["--as", "sam"], "000000", "Wrong PIN (4 tries left)"),
        (["--as", "nobody"], "123456", "There is no user"),
        (["--as", "sam", "--due", "2020-01-01"], PINS["sam"], "must be after the calibration"),
        (["--as", "sam", "--on", "2999-01-01"], PINS["sam"], "for a future date"),
        (["--as", "sam", "--certificate", "C\x1b[2J"], PINS["sam"], "certificate"),
    ],
)
def test_refusals_are_one_sentence_exit_2_and_record_no_calibration(
    config: Path, lot7: RecordedLot, args: list[str], pin: str, message: str
):
    base = ["gauges", "calibrate", "CAL-0042", "--result", "pass", "--certificate", "C-1"]
    result = run(config, *base, *args, "--pin-stdin", pin=pin)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert calibrations(lot7) == []


def test_a_failed_calibration_takes_no_due_date(lot7: RecordedLot):
    with pytest.raises(CalibrationError, match="A failed calibration has no next due date"):
        record_calibration(
            lot7.store,
            lot7.users,
            asset="CAL-0042",
            result="fail",
            certificate="C-2",
            user_id="sam",
            pin=PINS["sam"],
            due=dt.date(2030, 1, 1),
        )


def test_trace_gauge_shows_the_calibration_history(config: Path, lot7, central_url: str):
    for on, outcome in (("2026-06-01", "pass"), ("2026-11-30", "fail")):
        record_calibration(
            lot7.store,
            lot7.users,
            asset="CAL-0042",
            result=outcome,
            certificate=f"C-{on}",
            user_id="sam",
            pin=PINS["sam"],
            calibrated_on=dt.date.fromisoformat(on),
            due=dt.date(2027, 6, 1) if outcome == "pass" else None,
        )
    result = run(config, "trace", "gauge", "CAL-0042")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Calibrations of CAL-0042:"
    assert lines[1].startswith("  2026-06-01  PASS  certificate C-2026-06-01, next due 2027-06-01")
    assert lines[2].startswith("  2026-11-30  FAIL  certificate C-2026-11-30, recorded by Sam")
    assert lines[3].startswith("Time (UTC)")
    ship(lot7.store, central_url)
    with open_source(central_url) as source:
        central = calibration_history(source, "CAL-0042")
    assert central == calibration_history(LocalSource(lot7.store), "CAL-0042")
    assert [e.result for e in central] == ["pass", "fail"]
