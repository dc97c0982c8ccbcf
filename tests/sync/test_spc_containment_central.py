"""What SPC answers did to held parts (a containment reject, a re-inspection) derives at a central
store (SQLite and PostgreSQL) like every record, is verified, and reads there: review's queue,
``spc alarms --central``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from spcstationkit import BASELINE, locked, measure_part, measure_parts, session_of, spc_station
from userkit import PINS

from inspect_station.cli import main
from inspect_station.measuring.spc_service import read_alarms
from inspect_station.recording import ManualSource
from inspect_station.review.service import Review
from inspect_station.store.projections import project
from inspect_station.sync import Shipper, open_central, open_source
from inspect_station.sync.verify import verify_central_store

TABLES = ("results", "inspections", "reinspections", "spc_answers")


@pytest.fixture
def contained(tmp_path):
    """A station where alarm 1 rejected part 011 and alarm 2 sent part 012 to re-inspection,
    which was measured again (accepted)."""
    service = spc_station(tmp_path)
    session = session_of(service)
    measure_parts(session, BASELINE)
    spc = locked(service)
    high, _ = measure_part(session, "10.20")
    who = service.users.authenticate("ann", PINS["ann"])
    spc.answer(high.alarm.uuid, cause="TOOL", action="TOOL", note="worn", by=who, decision="reject")
    session.spc.refresh()
    assert session.close_part().result == "reject"
    low, _ = measure_part(session, "9.70")
    assert [p["serial"] for p in low.alarm.parts] == ["011", "012"]  # since the last in control
    spc.answer(
        low.alarm.uuid,
        cause="SETUP",
        action="ADJ",
        note="offset",
        by=who,
        decision="reinspect",
        decisions={"011": "reject"},  # a reject already: left as it is
    )
    spec = service.library.get("SPC-1@A")
    for char, value in (("1", "10.00"), ("2", "5.000")):
        service.recorder.measure(
            spec=spec,
            lot="L-1",
            serial="012",
            inspector="ann",
            characteristic=char,
            value=value,
            source=ManualSource("re-check"),
            auto_close=True,
        )
    yield service, high.alarm.uuid, low.alarm.uuid
    service.store.close()


def test_containment_records_derive_centrally_and_read_there(central_url, contained, tmp_path):
    service, rejected, reinspected = contained
    store = service.store
    assert store.verify().ok
    Shipper(store, central_url).ship()
    with open_central(central_url) as central:
        assert all(report.ok for report in verify_central_store(central))
        for table in TABLES:
            held = central.projection_rows(table, "SPC-BENCH", 1, 10**6)
            expected = [
                row for record in store.records() for t, row in project(record) if t == table
            ]
            assert len(held) == len(expected) > 0, table
            for have, want in zip(held, expected, strict=True):
                assert {k: have[k] for k in want} == want
    with open_source(central_url) as source:
        (reject,) = Review(source, None).queue()
        assert (reject.serial, reject.defect_code) == ("011", "SPC")
        views = {v.row["uuid"]: v for v in read_alarms(source)}
        (part,) = views[rejected].json()["answer"]["parts"]
        assert part["status"] == "rejected (in review)" and part["result"] == reject.reject
        already, part = views[reinspected].json()["answer"]["parts"]
        assert already["already_rejected"] and already["result"] == reject.reject
        assert part["status"] == "re-inspected: accept"
    config = tmp_path / "office.toml"
    config.write_text(f'station = "OFFICE"\ndb = "{tmp_path / "office.db"}"\n')
    listed = CliRunner().invoke(
        main, ["--config", str(config), "spc", "alarms", "--central", central_url, "--json"]
    )
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.output)
    assert [a["alarm"] for a in data["alarms"]] == [rejected, reinspected]
    assert data["characteristics"][0]["alarms"] == 2


def test_verify_finds_an_altered_containment_reject(contained):
    store = contained[0].store
    store.conn.execute("DROP TRIGGER results_no_update")
    store.conn.execute("UPDATE results SET defect_code = 'D01' WHERE defect_code = 'SPC'")
    store.conn.commit()
    report = store.verify()
    assert not report.ok and "results.defect_code" in report.summary()
