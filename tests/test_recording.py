"""Recording: what every measurement carries, corrections, results, lots, lockouts."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from inspect_station.config import GaugeAsset
from inspect_station.errors import (
    CalibrationExpired,
    ImplausibleReading,
    ReadingError,
    UnknownCharacteristic,
)
from inspect_station.numbers import NumberError
from inspect_station.recording import GaugeSource, ManualSource, Recorder, RecordingError
from inspect_station.spec import PartSpec
from inspect_station.text import TextError

TODAY = dt.date(2026, 11, 25)


def caliper(due: dt.date = dt.date(2027, 3, 1)) -> GaugeAsset:
    """A caliper asset with a calibration due date."""
    return GaugeAsset(
        asset="CAL-0042",
        profile="mitutoyo-ascii",
        port="loop://",
        unit="mm",
        serial_number="A1234567",
        certificate="CERT-2026-0042",
        calibrated_on=dt.date(2026, 3, 1),
        calibration_due=due,
    )


@pytest.fixture
def recorder(store) -> Recorder:
    """A recorder on a fresh store, with a fixed 'today' for calibration checks."""
    return Recorder(store, today=TODAY)


def measure(recorder: Recorder, spec: PartSpec, char: str, value: str, **kw):
    """Measure one characteristic of lot L1, part S1 by inspector ann (manual unless given)."""
    kw.setdefault("source", ManualSource("typed in test"))
    kw.setdefault("serial", "S1")
    return recorder.measure(
        spec=spec, lot="L1", inspector="ann", characteristic=char, value=value, **kw
    )


def test_measurement_carries_the_whole_trace(recorder: Recorder, bracket: PartSpec, store):
    raw = b"01A+0120.012\r"
    ack = measure(recorder, bracket, "1", "120.012", source=GaugeSource(caliper(), raw))
    record = next(r for r in store.records() if r["seq"] == ack.seq)
    body = record["body"]
    assert record["kind"] == "measurement" and record["station"] == "TEST-1"
    assert record["ts"].endswith("Z")
    assert body["part_number"] == "BRK-1042" and body["revision"] == "C"
    assert body["spec_hash"] == bracket.content_hash
    assert (body["lot"], body["serial"], body["inspector"]) == ("L1", "S1", "ann")
    assert (body["characteristic"], body["value"], body["unit"]) == ("1", "120.012", "mm")
    assert body["limits"] == {
        "nominal": "120.00",
        "lower": "119.90",
        "upper": "120.10",
        "unit": "mm",
    }
    assert body["verdict"] == "pass" and body["decision_rule"] == {"rule": "simple"}
    assert body["source"] == "gauge"
    assert body["gauge"] == {
        "asset": "CAL-0042",
        "serial_number": "A1234567",
        "certificate": "CERT-2026-0042",
        "calibration_due": "2027-03-01",
    }
    assert body["raw"].encode("latin-1") == raw
    row = store.query("SELECT * FROM measurements WHERE seq = ?", (ack.seq,))[0]
    assert row["gauge_calibration_due"] == "2027-03-01" and row["raw"] == "01A+0120.012\r"


def test_gauge_unit_applies_when_the_frame_has_none(recorder: Recorder, shaft: PartSpec):
    ack = measure(recorder, shaft, "1", "25.39", source=GaugeSource(caliper()))
    assert ack.evaluation.unit == "mm" and ack.evaluation.value_in_spec_unit == "0.9996063"


def test_overdue_gauge_cannot_feed_a_measurement(recorder: Recorder, bracket: PartSpec, store):
    overdue = caliper(due=dt.date(2026, 11, 24))
    with pytest.raises(CalibrationExpired, match="was due for calibration on 2026-11-24"):
        measure(recorder, bracket, "1", "120.00", source=GaugeSource(overdue))
    assert store.head()[0] == 0
    on_the_due_date = caliper(due=TODAY)
    assert measure(recorder, bracket, "1", "120.00", source=GaugeSource(on_the_due_date)).seq


def test_manual_entry_needs_a_reason(recorder: Recorder, bracket: PartSpec):
    with pytest.raises(ReadingError, match="needs a reason"):
        measure(recorder, bracket, "1", "120.00", source=ManualSource("  "))
    ack = measure(recorder, bracket, "1", "120.00", source=ManualSource("gauge unplugged"))
    row = recorder.store.query("SELECT source, manual_reason FROM measurements")[0]
    assert ack.seq and row == {"source": "manual", "manual_reason": "gauge unplugged"}


def test_bad_input_writes_nothing(recorder: Recorder, bracket: PartSpec, store):
    for char, value, error, sentence in [
        ("1", "abc", NumberError, "'abc' is not a number"),
        ("1", "150", ImplausibleReading, "150"),
        ("9", "1", UnknownCharacteristic, "has no characteristic '9'"),
    ]:
        with pytest.raises(error, match=sentence) as caught:
            measure(recorder, bracket, char, value)
        assert type(caught.value) is error
    assert store.head()[0] == 0


def test_correction_supersedes_with_reason(recorder: Recorder, bracket: PartSpec, store):
    first = measure(recorder, bracket, "1", "120.15")
    with pytest.raises(RecordingError, match="give a reason"):
        measure(recorder, bracket, "1", "120.05")
    second = measure(recorder, bracket, "1", "120.05", reason="part was not seated")
    rows = store.query("SELECT uuid, value, supersedes, reason FROM measurements ORDER BY seq")
    assert rows[-1] == {
        "uuid": second.uuid,
        "value": "120.05",
        "supersedes": first.uuid,
        "reason": "part was not seated",
    }
    current = store.query("SELECT value FROM current_measurements")
    assert current == [{"value": "120.05"}]  # the earlier value is still in the record
    assert len(store.query("SELECT * FROM measurements")) == 2


def test_auto_close_writes_result_and_updates_it_on_correction(
    recorder: Recorder, bracket: PartSpec, store
):
    for char, value in [("1", "120.01"), ("2", "12.017"), ("3", "0.01")]:
        assert measure(recorder, bracket, char, value, auto_close=True).result is None
    last = measure(recorder, bracket, "4", "pass", auto_close=True)
    assert last.result == "reject"  # 12.017 is in the guard band
    result = store.query("SELECT result, failed FROM current_results")[0]
    assert result == {"result": "reject", "failed": '["2"]'}
    fixed = measure(recorder, bracket, "2", "12.010", reason="re-measured", auto_close=True)
    assert fixed.result == "accept"
    assert store.query("SELECT result FROM current_results") == [{"result": "accept"}]
    assert len(store.query("SELECT * FROM results")) == 2


def test_close_inspection_needs_all_characteristics_and_a_defect_code(
    recorder: Recorder, bracket: PartSpec
):
    measure(recorder, bracket, "1", "120.50")
    with pytest.raises(RecordingError, match="not measured yet"):
        recorder.close_inspection(spec=bracket, lot="L1", serial="S1", inspector="ann")
    for char, value in [("2", "12.005"), ("3", "0.01"), ("4", "pass")]:
        measure(recorder, bracket, char, value)
    with pytest.raises(RecordingError, match="give a defect code"):
        recorder.close_inspection(spec=bracket, lot="L1", serial="S1", inspector="ann")
    record = recorder.close_inspection(
        spec=bracket, lot="L1", serial="S1", inspector="ann", defect_code="D01", note="long"
    )
    assert record["body"]["result"] == "reject" and record["body"]["failed"] == ["1"]


def test_lot_records_plan_and_spec_content(recorder: Recorder, bracket: PartSpec, store):
    info = recorder.open_lot("L9", bracket, "ann", lot_size=1000, work_order="WO-7")
    assert info.plan["sample_size"] == 80 and (info.plan["accept"], info.plan["reject"]) == (2, 3)
    kinds = [r["kind"] for r in store.records()]
    assert kinds == ["spec", "lot_opened"]
    spec_row = store.query("SELECT content FROM specs")[0]
    assert json.loads(spec_row["content"])["characteristic"][1]["tolerance"] == ["0.000", "0.018"]
    # opening again is idempotent; a second lot of the same spec does not repeat the spec record
    recorder.open_lot("L9", bracket, "ann", lot_size=1000)
    recorder.open_lot("L10", bracket, "ann")
    assert [r["kind"] for r in store.records()] == ["spec", "lot_opened", "lot_opened"]
    with pytest.raises(RecordingError, match="opened with lot size 1000"):
        recorder.open_lot("L9", bracket, "ann", lot_size=50)


def test_lot_of_another_part_is_refused(recorder: Recorder, bracket: PartSpec, shaft: PartSpec):
    measure(recorder, bracket, "1", "120.00")
    with pytest.raises(RecordingError, match="is a lot of BRK-1042 revision C"):
        measure(recorder, shaft, "1", "1.0000")


def test_spec_changed_without_new_revision_is_refused(recorder: Recorder, bracket: PartSpec):
    measure(recorder, bracket, "1", "120.00")
    edited = PartSpec.model_validate(
        bracket.model_dump(by_alias=True) | {"description": "edited in place"}
    )
    with pytest.raises(RecordingError, match="has changed since lot L1 was opened"):
        measure(recorder, edited, "1", "120.00")
    with pytest.raises(RecordingError, match="recorded with different content"):
        recorder.open_lot("L2", edited, "ann")


@pytest.mark.parametrize(("field", "value"), [("serial", ""), ("serial", "a\nb"), ("lot", "  ")])
def test_identifiers_are_checked(recorder: Recorder, bracket: PartSpec, field: str, value: str):
    kwargs = {"spec": bracket, "lot": "L1", "serial": "S1", "inspector": "ann"}
    kwargs[field] = value
    with pytest.raises(TextError, match=f"The {field}"):
        recorder.measure(**kwargs, characteristic="1", value="120", source=ManualSource("test"))


def test_gauge_reading_without_any_unit_is_refused(recorder: Recorder, bracket: PartSpec, store):
    unitless = caliper().model_copy(update={"unit": None})
    with pytest.raises(ReadingError, match="sends no unit and none is configured"):
        measure(recorder, bracket, "1", "120.00", source=GaugeSource(unitless))
    assert measure(recorder, bracket, "1", "120.00", source=GaugeSource(unitless), unit="mm").seq
    assert store.head()[0] == 4
