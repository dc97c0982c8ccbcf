"""A group's SPC reads: asked once per write transaction, asked again once it writes SPC.

Every reading asks which limit version is locked for its characteristic, and every new part
asks whether an alarm of the part number holds it. Inside one group commit these are read once
(``Transaction.remembered``) and read again as soon as the transaction records a hold, an
answer or limits, or rolls back to a savepoint: what a measurement is told is what SQLite holds
in that transaction at that moment. Statements are counted, never timed.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from spcstationkit import BASELINE, BORE, locked, measure_parts, session_of, spc_station

from inspect_station.measuring import Capture, PartSession, SpcHold
from inspect_station.recording import ManualSource, Measurement, MeasurementAck
from inspect_station.station import StationService
from inspect_station.store import Transaction
from inspect_station.store import spc as named

ALARMS_READ = "FROM spc_holds h LEFT JOIN spc_answers"
LIMITS_READ = "SELECT limits_hash FROM spc_limits"


@pytest.fixture
def service(tmp_path: Path) -> StationService:
    """A station with ten in-control parts measured and limits of #1 locked from them."""
    service = spc_station(tmp_path)
    measure_parts(session_of(service, lot="L-0"), BASELINE)
    locked(service)
    return service


def group(session: PartSession, readings: list[tuple[str, str, str]]) -> list[Measurement]:
    """The readings (serial, characteristic, value) as the station writer groups them."""
    return [
        session.grouped(Capture(serial, char, value, None, ManualSource("test bench"))).request
        for serial, char, value in readings
    ]


def counting(service: StationService) -> Counter[str]:
    """Counts of the SPC reads SQLite is asked from now on."""
    seen: Counter[str] = Counter()

    def trace(sql: str) -> None:
        for read in (ALARMS_READ, LIMITS_READ):
            if read in sql:
                seen[read] += 1

    service.store.conn.set_trace_callback(trace)
    return seen


def test_a_group_reads_open_alarms_and_locked_limits_once(service: StationService):
    session = session_of(service)
    readings = []
    for part in range(11, 19):
        readings += [(f"{part:03d}", "1", "10.01"), (f"{part:03d}", "2", BORE)]
    seen = counting(service)
    outcomes = service.recorder.measure_many(group(session, readings))
    assert all(isinstance(o, MeasurementAck) for o in outcomes)
    # eight new parts, sixteen readings of two characteristics: one read of each question
    assert seen[ALARMS_READ] == 1
    assert seen[LIMITS_READ] == 2  # one per characteristic
    assert service.store.verify().ok


def test_an_alarm_recorded_in_the_group_holds_the_next_new_part_of_it(service):
    session = session_of(service)
    seen = counting(service)
    outcomes = service.recorder.measure_many(
        group(
            session,
            [
                ("011", "1", "10.00"),  # a new part: no alarm open (read once)
                ("012", "1", "10.01"),  # a new part: the kept answer, no alarm
                ("012", "2", BORE),
                ("013", "1", "10.20"),  # beyond the UCL: the alarm is recorded here
                ("014", "1", "10.00"),  # a new part after it: held, the alarms read again
            ],
        )
    )
    assert [type(o) for o in outcomes[:4]] == [MeasurementAck] * 4
    assert isinstance(outcomes[4], SpcHold) and "before the next part" in outcomes[4].message
    assert seen[ALARMS_READ] == 2
    holds = service.store.query("SELECT serial FROM spc_holds")
    assert [row["serial"] for row in holds] == ["013"]
    assert service.store.verify().ok


def test_an_alarm_rolled_back_with_its_measurement_holds_nothing(service):
    session = session_of(service)
    requests = group(session, [("011", "1", "10.20"), ("012", "1", "10.00")])
    hook = requests[0].after
    assert hook is not None
    tracker = session.spc

    def alarm_then_refuse(tx: Transaction, record: dict) -> None:
        hook(tx, record)  # the alarm is written in the measurement's savepoint ...
        tracker.require_clear(tx)  # ... read back (and kept), and the measurement refused

    requests[0] = dataclasses.replace(requests[0], after=alarm_then_refuse)
    outcomes = service.recorder.measure_many(requests)
    assert isinstance(outcomes[0], SpcHold)
    assert isinstance(outcomes[1], MeasurementAck)  # what was rolled back holds no part
    # ... nor judges the reading after it: 10.00 alone is in control; after the rolled-back
    # 10.20 its moving range would have alarmed.
    assert tracker.outcome(outcomes[1].uuid) is None
    assert tracker.blocking() is None
    assert service.store.query("SELECT serial FROM spc_holds") == []
    chart = tracker.chart("1")
    assert chart is not None and [p.value for p in chart.points][-1] == Decimal("10.00")
    assert Decimal("10.20") not in [p.value for p in chart.points]
    assert service.store.verify().ok


def test_a_refused_measurement_is_undone_before_the_next_of_its_group_is_written(service):
    session = session_of(service)
    requests = group(session, [("011", "1", "10.00"), ("011", "2", "5.00"), ("012", "1", "10.00")])
    seen: list[str] = []

    def refuse(tx: Transaction, record: dict) -> None:
        raise SpcHold("refused after the append, for the test.")

    requests[0] = dataclasses.replace(
        requests[0], after=refuse, rolled_back=lambda: seen.append("undone 011")
    )
    requests[2] = dataclasses.replace(requests[2], before=lambda tx: seen.append("012 begins"))
    outcomes = service.recorder.measure_many(requests)
    assert isinstance(outcomes[0], SpcHold)
    assert seen == ["undone 011", "012 begins"]


def test_limits_recorded_in_the_transaction_are_read_again(service):
    store = service.store
    (locked_body,) = [r["body"] for r in store.records() if r["kind"] == "spc_limits"]
    relocked = {**locked_body, "version": locked_body["version"] + 1, "limits_hash": "f" * 64}
    with store.transaction() as tx:
        before = named.latest_limits_hash(tx, "SPC-1", "1")
        assert named.latest_limits_hash(tx, "SPC-1", "1") == before  # kept
        tx.append("spc_limits", relocked)
        after = named.latest_limits_hash(tx, "SPC-1", "1")
        tx.conn.execute("ROLLBACK")  # a test's transaction: nothing of it is kept
        tx.conn.execute("BEGIN")
    assert before == locked_body["limits_hash"]
    assert after == "f" * 64


def test_a_store_outside_a_transaction_is_asked_every_time(service):
    seen = counting(service)
    for _ in range(3):
        named.latest_limits_hash(service.store, "SPC-1", "1")
        named.alarms(service.store, open_only=True, part_number="SPC-1")
    assert seen == {LIMITS_READ: 3, ALARMS_READ: 3}


def test_a_kept_answer_is_not_changed_by_what_its_caller_does(service):
    session = session_of(service)
    service.recorder.measure_many(group(session, [("011", "1", "10.20")]))
    with service.store.transaction() as tx:
        first = named.alarms(tx, open_only=True, part_number="SPC-1")
        first[0]["serial"] = "changed by the caller"
        first[0]["parts"].clear()
        first.clear()
        second = named.alarms(tx, open_only=True, part_number="SPC-1")
    assert [a["serial"] for a in second] == ["011"]
    assert [p["serial"] for p in second[0]["parts"]] == ["011"]
