"""The part session feeds SPC: alarms are journal records that hold parts and block the next."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spcstationkit import (
    BASELINE,
    is_refusal,
    kinds,
    locked,
    measure_part,
    measure_parts,
    session_of,
    spc_station,
)
from userkit import PINS

from inspect_station.measuring import PartClosed, SpcHold
from inspect_station.measuring.spc_service import SpcService, SpcStationError
from inspect_station.review.signing import NotPermitted, WrongPin


@pytest.fixture
def service(tmp_path: Path):
    service = spc_station(tmp_path)
    yield service
    service.store.close()


def test_without_locked_limits_nothing_alarms_and_the_chart_says_so(service):
    session = session_of(service)
    measure_parts(session, [*BASELINE, "10.45", "9.55"])  # wild, but in tolerance
    assert not [k for k in kinds(service) if k.startswith("spc_")]
    chart = session.spc.chart("1")
    assert chart is not None and not chart.locked
    assert chart.title.endswith("limits not locked")
    assert [str(p.value) for p in chart.points][-2:] == ["10.45", "9.55"]


def test_an_alarm_is_recorded_with_its_hold_and_blocks_the_next_part_until_answered(service):
    session = session_of(service)
    measure_parts(session, BASELINE)
    spc = locked(service)
    length, _ = measure_part(session, "10.20")  # beyond the UCL (about 10.06), in tolerance
    alarm = length.alarm
    assert alarm is not None and alarm.rules == ("1",)
    assert [p["serial"] for p in alarm.parts] == ["011"]
    assert kinds(service)[-4:] == ["measurement", "spc_hold", "spc_violation", "measurement"]
    violation = service.store.query("SELECT * FROM spc_violations")[0]
    limits = service.store.query("SELECT limits_hash FROM spc_limits")[0]
    assert violation["limits_hash"] == limits["limits_hash"]
    assert json.loads(violation["readings"]) == [length.ack.uuid]
    assert violation["alarm"] == alarm.uuid

    # Closing the part and opening another are refused with a sentence.
    assert is_refusal(session.finish(), "A answers it")
    with pytest.raises(SpcHold, match="A answers it"):
        session.open_part("099")
    assert not service.store.query("SELECT * FROM results WHERE serial = '011'")

    spc.answer(alarm.short_id, cause="TOOL", action="TOOL", note="insert chipped", by=session.user)
    session.spc.refresh()
    assert isinstance(session.close_part(), PartClosed)
    answer = service.store.query("SELECT * FROM spc_answers")[0]
    assert (answer["cause"], answer["action"], answer["answered_by"]) == ("TOOL", "TOOL", "ann")
    assert json.loads(answer["parts"])[0]["decision"] == "release"
    assert service.store.verify().ok


def test_a_run_holds_every_part_since_the_last_in_control_reading(service):
    session = session_of(service)
    measure_parts(session, BASELINE)
    locked(service)
    # Rule 2 (nine in a row above the centre line): the ninth raises it, the nine are held.
    (below, _) = measure_part(session, "9.99")
    session.close_part()
    high = ["10.01", "10.02", "10.01", "10.03", "10.02", "10.01", "10.02", "10.03"]
    measure_parts(session, high)
    (length, _) = measure_part(session, "10.02")
    assert length.alarm is not None and "2" in length.alarm.rules
    assert [p["serial"] for p in length.alarm.parts] == [f"0{n}" for n in range(12, 21)]
    hold = service.store.query("SELECT since FROM spc_holds")[0]
    assert hold["since"] == below.ack.uuid  # the last in-control reading, named


def test_a_critical_characteristic_needs_a_supervisor_countersignature(service):
    session = session_of(service)
    for value in BASELINE:
        measure_part(session, "10.00", bore=f"5.00{value[-1]}")
        session.close_part()
    spc = locked(service, "2")
    _, bore = measure_part(session, "10.00", bore="5.200")
    assert bore.alarm is not None
    with pytest.raises(SpcStationError, match="critical: a supervisor must counter-sign"):
        spc.answer(bore.alarm.uuid, cause="NCF", action="NONE", note="-", by=session.user)
    with pytest.raises(NotPermitted, match="Only a supervisor"):
        spc.answer(
            bore.alarm.uuid,
            cause="NCF",
            action="NONE",
            note="checked",
            by=session.user,
            countersign=("ann", PINS["ann"]),
        )
    with pytest.raises(WrongPin):
        spc.answer(
            bore.alarm.uuid,
            cause="NCF",
            action="NONE",
            note="checked",
            by=session.user,
            countersign=("sam", "000000"),
        )
    record = spc.answer(
        bore.alarm.uuid,
        cause="GAUGE",
        action="GAUGE",
        note="bore gauge re-zeroed",
        by=session.user,
        decision="reinspect",
        countersign=("sam", PINS["sam"]),
    )
    assert record["body"]["signature"]["user_id"] == "sam"
    assert record["body"]["critical"] is True
    row = service.store.query("SELECT user_id, meaning, critical FROM spc_answers")[0]
    assert (row["user_id"], row["critical"]) == ("sam", 1)


def test_limits_lock_needs_a_supervisor_and_their_pin(service):
    session = session_of(service)
    measure_parts(session, BASELINE)
    spc = SpcService(service, arl_budget=20_000)
    proposal = spc.propose("SPC-1", "1", first=10)
    with pytest.raises(NotPermitted, match="Only a supervisor can lock control limits"):
        spc.lock(proposal, user_id="ann", pin=PINS["ann"])
    with pytest.raises(WrongPin):
        spc.lock(proposal, user_id="sam", pin="111111")
    assert not service.store.query("SELECT * FROM spc_limits")
    done = spc.lock(proposal, user_id="sam", pin=PINS["sam"])
    row = service.store.query("SELECT * FROM spc_limits")[0]
    assert row["limits_hash"] == done.limits.content_hash
    assert json.loads(row["limits"])["baseline"] == [r[0] for r in spc.readings("SPC-1", "1")]
    assert (row["user_id"], row["meaning"]) == ("sam", "approval of control limits")
    # Re-locking needs a reason, and names the version it replaces.
    with pytest.raises(SpcStationError, match="re-locking needs a reason"):
        spc.propose("SPC-1", "1", first=10)
    again = spc.propose("SPC-1", "1", first=10, reason="new insert grade")
    second = spc.lock(again, user_id="kim", pin=PINS["kim"])
    assert second.limits.version == 2
    assert second.limits.previous_hash == done.limits.content_hash
    # A stale proposal (version 1 was current when it was made) is refused.
    with pytest.raises(SpcStationError, match="locked meanwhile"):
        spc.lock(again, user_id="kim", pin=PINS["kim"])


def test_a_proposal_shows_what_would_have_alarmed_and_the_arl(service):
    session = session_of(service)
    measure_parts(session, [*BASELINE, "10.30"])
    proposal = SpcService(service, arl_budget=20_000).propose("SPC-1", "1", first=10)
    assert proposal.replay.alarms == 1
    text = "\n".join(proposal.lines())
    assert "1 of 11 points would have alarmed" in text
    assert "false alarm every" in text


@pytest.mark.parametrize(
    ("cause", "action", "note", "message"),
    [
        ("BOGUS", "ADJ", "x", "Unknown cause code 'BOGUS'"),
        ("TOOL", "NOPE", "x", "Unknown corrective action code 'NOPE'"),
        ("TOOL", "ADJ", "x" * 501, "note"),
        ("TOOL", "ADJ", "two\nlines", "note"),
        ("TOOL", "ADJ", "", "note"),
    ],
)
def test_hostile_answers_are_refused_and_nothing_is_recorded(service, cause, action, note, message):
    session = session_of(service)
    measure_parts(session, BASELINE)
    spc = locked(service)
    length, _ = measure_part(session, "10.20")
    with pytest.raises(Exception, match=message) as caught:
        spc.answer(length.alarm.uuid, cause=cause, action=action, note=note, by=session.user)
    assert getattr(caught.value, "exit_code", None) == 2
    assert not service.store.query("SELECT * FROM spc_answers")


def test_a_corrected_reading_leaves_the_chart_and_the_monitor_restarts(service):
    session = session_of(service)
    measure_parts(session, BASELINE)
    locked(service)
    session.open_part()
    step = session.manual("1", "10.01", "test bench")
    session.record(step)
    again = session.manual("1", "10.02", "test bench")
    corrected = session.correct(again, "typo")
    outcome = session.record(corrected)
    assert outcome.alarm is None
    chart = session.spc.chart("1")
    assert [str(p.value) for p in chart.points][-1] == "10.02"
    assert "10.01" not in [str(p.value) for p in chart.points][-2:]


def test_the_spc_report_charts_against_the_limits_the_station_locked(tmp_path):
    """spc report reads the station's spc_limits records (no hook left empty): the version a
    supervisor locked is the one the report names and judges against."""
    from inspect_station.records import LocalSource
    from inspect_station.reports.spc import ReportScope, spc_report

    service = spc_station(tmp_path)
    measure_parts(session_of(service), BASELINE)
    locked(service)
    measure_parts(session_of(service, lot="L-2"), BASELINE)  # judged against the lock
    doc = spc_report(LocalSource(service.store), ReportScope(part_number="SPC-1")).json()
    limits = next(c for c in doc["characteristics"] if c["id"] == "1")["limits"]
    assert limits["locked"] is True
    assert limits["version"] == 1 and limits["label"] == "locked limits version 1"
    (row,) = service.store.query("SELECT limits_hash FROM spc_limits")
    assert limits["hash"] == row["limits_hash"]
