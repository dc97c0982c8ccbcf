"""``inspect-station spc report`` on a --db file and on a central store of several stations."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from reportkit import record_values, ship

from inspect_station import clock
from inspect_station.cli import main
from inspect_station.records import LocalSource
from inspect_station.reports.spc import ReportScope, spc_report
from inspect_station.reports.spc_model import schema
from inspect_station.spec import PartSpec
from inspect_station.store import LocalStore

A = ["50.010", "49.990", "50.020", "50.000", "49.980", "50.004", "49.996", "50.012"]
B = ["50.021", "50.018", "50.025", "50.016", "50.022", "50.019"]


def run(*args: str):
    """Run the command line; the result with stdout and stderr apart."""
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def station_db(store: LocalStore, grd: PartSpec, db_path: Path) -> Path:
    """TEST-1's record: lot L-1, characteristic 1 (A) and 2, one reading typed by hand."""
    record_values(store, grd, "L-1", "1", A, manual=[2])
    record_values(store, grd, "L-1", "2", ["0.010", "0.014", "0.008"])
    return db_path


@pytest.mark.parametrize("fmt", ["table", "json", "html"])
def test_the_report_of_a_lot_on_a_station_file(station_db: Path, fmt: str) -> None:
    result = run("spc", "report", "--lot", "L-1", "--db", str(station_db), "--format", fmt)
    assert result.exit_code == 0, result.output
    if fmt == "json":
        doc = json.loads(result.stdout)
        jsonschema.validate(doc, schema())
        assert [(c["id"], c["n"], c["manual"]) for c in doc["characteristics"]] == [
            ("1", 8, 1),
            ("2", 3, 0),
        ]
    elif fmt == "html":
        assert result.stdout.startswith("<!DOCTYPE html>") and result.stdout.count("<svg") == 2
    else:
        assert result.stdout.splitlines()[2].split()[:3] == ["1", "8", "1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lot", "L-9"], "Error: There is no lot 'L-9' in the local record"),
        (["--part", "NOPE"], "Error: There is no part 'NOPE' in the local record"),
        (["--part", "GRD-5", "--characteristic", "3"], "Error: Nothing measured: part GRD-5"),
        (["--part", "GRD-5", "--since", "2999-01-01"], "Error: Nothing measured: part GRD-5"),
        (["--part", "GRD-5", "--lot", "L-1"], "Give --lot LOT or --part PART_NUMBER"),
        ([], "Give --lot LOT or --part PART_NUMBER"),
        (["--lot", "L-1", "--central", "sqlite:///x.db"], "Give --db or --central, not both"),
        (["--lot", "L-1", "--since", "yesterday"], "Invalid value for '--since'"),
    ],
)
def test_a_bad_request_is_one_sentence_and_exit_2(
    station_db: Path, args: list[str], message: str
) -> None:
    result = run("spc", "report", "--db", str(station_db), *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert result.stdout == ""


def test_a_missing_record_file_is_refused(tmp_path: Path) -> None:
    result = run("spc", "report", "--lot", "L-1", "--db", str(tmp_path / "none.db"))
    assert result.exit_code == 2 and result.stderr.startswith("Error: ")


def _figures(chars: list[dict]) -> list[tuple]:
    keys = ("id", "n", "manual", "mean", "sigma_within", "sigma_overall", "cpk", "ppk")
    return [tuple(c[k] for k in keys) for c in chars]


def test_the_central_report_covers_every_station_and_each_side_by_side(
    tmp_path: Path, grd: PartSpec, central_url: str
) -> None:
    with LocalStore(tmp_path / "one.db", "BENCH-1") as one:
        record_values(one, grd, "L-1", "1", A, manual=[0])
        ship(one, central_url)
        alone_one = spc_report(LocalSource(one), ReportScope(part_number="GRD-5")).json()
    with LocalStore(tmp_path / "two.db", "BENCH-2") as two:
        record_values(two, grd, "L-2", "1", B, first_serial=100)
        ship(two, central_url)
        alone_two = spc_report(LocalSource(two), ReportScope(part_number="GRD-5")).json()
    result = run(
        "spc",
        "report",
        "--part",
        "GRD-5",
        "--central",
        central_url,
        "--format",
        "json",
        "--by-station",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, schema())
    (c,) = doc["characteristics"]
    assert (c["n"], c["manual"], c["stations"]) == (14, 1, ["BENCH-1", "BENCH-2"])
    assert doc["source"]["kind"] == "central"
    assert {h["station"] for h in doc["source"]["heads"]} == {"BENCH-1", "BENCH-2"}
    by_station = {s["station"]: s["characteristics"] for s in doc["stations"]}
    assert _figures(by_station["BENCH-1"]) == _figures(alone_one["characteristics"])
    assert _figures(by_station["BENCH-2"]) == _figures(alone_two["characteristics"])
    # One lot of the central store is the same report as the station's own.
    lot = run("spc", "report", "--lot", "L-2", "--central", central_url, "--format", "json")
    assert _figures(json.loads(lot.stdout)["characteristics"]) == _figures(
        alone_two["characteristics"]
    )
    table = run("spc", "report", "--part", "GRD-5", "--central", central_url, "--by-station")
    lines = [line.split()[:2] for line in table.stdout.splitlines()[2:5]]
    assert lines == [["1", "14"], ["BENCH-1", "8"], ["BENCH-2", "6"]]


def test_since_takes_a_utc_date_or_a_time_with_its_zone(
    store: LocalStore, grd: PartSpec, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setattr(clock, "utc_now", lambda: dt.datetime(2026, 11, 10, 7, 30, tzinfo=dt.UTC))
    record_values(store, grd, "L-1", "1", A[:3])
    monkeypatch.setattr(clock, "utc_now", lambda: dt.datetime(2026, 11, 10, 8, 30, tzinfo=dt.UTC))
    record_values(store, grd, "L-1", "1", A[3:], first_serial=10)

    def n(since: str) -> int:
        result = run(
            "spc",
            "report",
            "--lot",
            "L-1",
            "--db",
            str(db_path),
            "--format",
            "json",
            "--since",
            since,
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["characteristics"][0]["n"]

    assert n("2026-11-10") == 8
    assert n("2026-11-10T08:00:00") == 5
    assert n("2026-11-10T09:00:00+01:00") == 5  # 08:00 UTC
