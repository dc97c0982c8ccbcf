"""spc report lists, per characteristic, the answered alarms by cause found and the rules that
only ever produced "no cause", with the false-alarm ARL of the rules in force (the same tally
as ``spc alarms``)."""

from __future__ import annotations

import jsonschema
from spcstationkit import BASELINE, locked, measure_part, measure_parts, session_of, spc_station

from inspect_station.records import LocalSource
from inspect_station.reports.spc import ReportScope, spc_report
from inspect_station.reports.spc_model import schema
from inspect_station.reports.spc_text import render_table


def _alarm_answered(session, spc, length: str, cause: str) -> None:
    outcome, _ = measure_part(session, length)
    assert outcome.alarm is not None
    spc.answer(outcome.alarm.short_id, cause=cause, action="NONE", note="checked", by=session.user)
    session.spc.refresh()
    session.close_part()


def test_rules_that_only_ever_found_no_cause_are_listed_with_the_counts_and_the_arl(tmp_path):
    service = spc_station(tmp_path)
    session = session_of(service)
    measure_parts(session, BASELINE)
    spc = locked(service)
    _alarm_answered(session, spc, "10.20", "NCF")  # rule 1, no cause found
    report = spc_report(LocalSource(service.store), ReportScope(part_number="SPC-1"))
    doc = report.json()
    jsonschema.validate(doc, schema())
    c = next(c for c in doc["characteristics"] if c["id"] == "1")
    fatigue = c["alarm_fatigue"]
    assert (fatigue["alarms"], fatigue["real_cause"], fatigue["no_cause"]) == (1, 0, 1)
    assert fatigue["rules_only_no_cause"] == ["1"]
    assert fatigue["by_rule"] == {"1": {"real_cause": 0, "no_cause": 1}}
    assert float(fatigue["arl"]["arl0_points"]) > 10
    assert 'rules that only ever produced "no cause": rule 1' in render_table(report)

    # A later rule-1 alarm that finds a real cause: rule 1 is no longer "only no cause".
    _alarm_answered(session, spc, "10.20", "TOOL")
    doc = spc_report(LocalSource(service.store), ReportScope(part_number="SPC-1")).json()
    fatigue = next(c for c in doc["characteristics"] if c["id"] == "1")["alarm_fatigue"]
    assert (fatigue["alarms"], fatigue["real_cause"], fatigue["no_cause"]) == (2, 1, 1)
    assert fatigue["rules_only_no_cause"] == []
    # The station's own alarm figures say the same (one computation).
    (figures,) = [f for f in spc.fatigue() if f.characteristic == "1"]
    assert (figures.real_cause, figures.no_cause, figures.only_no_cause) == (1, 1, [])
