"""Gauge trace: every result taken with a gauge asset, with what became of its part."""

from __future__ import annotations

import csv
import datetime as dt
import io

from lots import RecordedLot
from userkit import PINS

from inspect_station.export.trace import TRACE_COLUMNS, trace_csv, trace_gauge, trace_table
from inspect_station.records import LocalSource


def test_every_result_taken_with_the_gauge(lot7: RecordedLot):
    results = trace_gauge(LocalSource(lot7.store), "CAL-0042")
    expected = [
        r for r in lot7.store.records() if r["kind"] == "measurement" and r["body"]["gauge"]
    ]
    assert [r.uuid for r in results] == [r["uuid"] for r in expected]
    assert {r.characteristic for r in results} == {"1"}
    assert {(r.calibration_due, r.gauge_certificate) for r in results} == {
        ("2027-03-01", "CERT-2026-0042")
    }
    p2 = [r for r in results if r.serial == "P2"]
    assert [(r.value, r.verdict, r.part_result, r.disposition) for r in p2] == [
        ("40.08", "fail", "reject", "rework"),
        ("40.03", "pass", "accept", None),
    ]
    assert trace_gauge(LocalSource(lot7.store), "CAL-9999") == []


def test_since_a_date_and_the_output_forms(lot7: RecordedLot):
    source = LocalSource(lot7.store)
    today = dt.datetime.now(dt.UTC).date()
    assert len(trace_gauge(source, "CAL-0042", since=today)) == 6
    assert trace_gauge(source, "CAL-0042", since=today + dt.timedelta(days=1)) == []
    results = trace_gauge(source, "CAL-0042")
    rows = list(csv.DictReader(io.StringIO(trace_csv(results), newline="")))
    assert list(rows[0]) == list(TRACE_COLUMNS) and len(rows) == 6
    assert {r["serial"] for r in rows} == {"P1", "P2", "P3", "'+P4", "P5"}
    table = trace_table(results).splitlines()
    assert table[0].startswith("Time (UTC)") and len(table) == 7
    assert "40.08 mm" in table[2] and "FAIL" in table[2] and "rework" in table[2]


def test_a_disposition_awaiting_its_second_signature_is_shown_as_such(lot7: RecordedLot):
    from lots import GOOD, record_part

    record_part(
        lot7.recorder, lot7.spec, "L-7", "P6", {**GOOD, "1": "40.09"}, defect="D01", note="long"
    )
    review = lot7.review()
    reject = lot7.reject_of("P6")
    review.sign(reject, "use-as-is", "customer concession", user_id="sam", pin=PINS["sam"])
    source = LocalSource(lot7.store)
    p6 = next(r for r in trace_gauge(source, "CAL-0042") if r.serial == "P6")
    assert (p6.disposition, p6.disposition_status) == ("use-as-is", "awaiting second signature")
    line = next(line for line in trace_table([p6]).splitlines() if "P6" in line)
    assert line.endswith("reject  use-as-is (awaiting second signature)")
    review.cosign(reject, user_id="kim", pin=PINS["kim"])
    source = LocalSource(lot7.store)  # a source reads the record as it was when opened
    p6 = next(r for r in trace_gauge(source, "CAL-0042") if r.serial == "P6")
    assert (p6.disposition, p6.disposition_status) == ("use-as-is", "disposed")
    assert trace_table([p6]).splitlines()[1].endswith("reject  use-as-is")
