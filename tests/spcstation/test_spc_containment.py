"""What an SPC alarm's answer decides for its held parts is done, in the answer's transaction:
reject -> a reject in review's queue (defect code SPC, the alarm named), reinspect -> a
re-inspection opened (the part held until re-measured), release -> nothing else."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner
from spcstationkit import BASELINE, locked, measure_part, measure_parts, session_of, spc_station
from userkit import PINS

from inspect_station.cli import main
from inspect_station.measuring import PartClosed, spc_service
from inspect_station.measuring.spc_service import SpcService, SpcStationError, review_line
from inspect_station.records import LocalSource


@pytest.fixture
def alarmed(tmp_path: Path):
    """A station whose SPC-1 #1 has locked limits and an open alarm holding part 011 (in hand,
    both characteristics measured, not closed)."""
    service = spc_station(tmp_path)
    session = session_of(service)
    measure_parts(session, BASELINE)
    locked(service)
    length, _ = measure_part(session, "10.20")
    assert length.alarm is not None and [p["serial"] for p in length.alarm.parts] == ["011"]
    config = tmp_path / "station.toml"
    config.write_text(
        f'station = "SPC-BENCH"\ndb = "{tmp_path / "station.db"}"\n'
        f'specs = ["{tmp_path / "specs"}"]\n'
    )
    yield service, session, config, length.alarm.uuid
    service.store.close()


def run(config: Path, *args: str, stdin: str = ""):
    return CliRunner().invoke(main, ["--config", str(config), *args], input=stdin)


def answer(config: Path, alarm: str, *options: str, user: str = "ann"):
    args = ["spc", "answer", alarm[:8], "--cause", "TOOL", "--action", "TOOL", "--note", "worn"]
    return run(config, *args, *options, "--user", user, "--pin-stdin", stdin=PINS[user] + "\n")


def rows(service, sql: str) -> list[dict]:
    return service.store.query(sql)


def test_reject_makes_the_held_part_a_reject_review_can_dispose_of(alarmed):
    service, session, config, alarm = alarmed
    done = answer(config, alarm, "--held", "reject")
    assert done.exit_code == 0, done.output
    assert "011 rejected: reject" in done.output and "awaits disposition" in done.output
    (result,) = rows(service, "SELECT * FROM current_results WHERE serial = '011'")
    assert result["result"] == "reject" and result["defect_code"] == "SPC"
    assert f"alarm {alarm[:8]}" in result["note"] and "rule 1" in result["note"]
    assert json.loads(result["failed"]) == ["1"]
    body = json.loads(
        rows(service, f"SELECT body FROM journal WHERE seq = {result['seq']}")[0]["body"]
    )
    assert body["containment"]["alarm"] == alarm and body["containment"]["rules"] == ["1"]
    (ans,) = rows(service, "SELECT * FROM spc_answers")
    assert ans["seq"] == result["seq"] + 1  # one transaction: the reject, then the answer
    assert json.loads(ans["parts"])[0]["result"] == result["uuid"]
    listed = run(config, "rejects", "list", "--json")
    (line,) = [json.loads(x) for x in listed.output.splitlines()]
    assert line["serial"] == "011" and line["defect_code"] == "SPC"
    # The part in hand stays that reject when it is closed: no accept replaces it.
    session.spc.refresh()
    closed = session.close_part()
    assert isinstance(closed, PartClosed) and closed.result == "reject"
    assert len(rows(service, "SELECT * FROM results WHERE serial = '011'")) == 1
    signed = run(
        config,
        "disposition",
        "sign",
        result["uuid"][:8],
        "--disposition",
        "scrap",
        "--reason",
        "suspect after tool wear",
        "--user",
        "sam",
        "--pin-stdin",
        stdin=PINS["sam"] + "\n",
    )
    assert signed.exit_code == 0, signed.output
    assert run(config, "rejects", "list", "--json").output.strip() == ""
    # The lot export says where the reject came from: the alarm and its rule.
    exported = run(config, "export", "lot", "L-1", "--format", "json", "--out", "-")
    assert exported.exit_code == 0, exported.output
    part = next(p for p in json.loads(exported.stdout)["parts"] if p["serial"] == "011")
    (inspection,) = part["inspections"]
    (closed,) = inspection["results"]
    assert closed["defect_code"] == "SPC" and f"alarm {alarm[:8]}" in closed["note"]
    assert "(rule 1)" in closed["note"] and inspection["disposition_status"] is not None


def test_reinspect_opens_a_reinspection_and_holds_the_part_until_it_is_measured(alarmed):
    service, session, config, alarm = alarmed
    first = rows(service, "SELECT uuid FROM inspections WHERE serial = '011'")[0]["uuid"]
    done = answer(config, alarm, "--held", "reinspect")
    assert done.exit_code == 0, done.output
    assert "011 re-inspection" in done.output and "held until re-measured" in done.output
    (reinspection,) = rows(service, "SELECT * FROM reinspections")
    assert reinspection["serial"] == "011" and reinspection["reinspection_of"] == first
    assert reinspection["inspector"] == "ann"
    listed = run(config, "spc", "alarms")
    assert "011 awaiting re-inspection" in listed.output, listed.output
    data = json.loads(run(config, "spc", "alarms", "--json").output)
    (part,) = data["alarms"][0]["answer"]["parts"]
    assert part["decision"] == "reinspect" and part["status"] == "awaiting re-inspection"
    line = review_line(LocalSource(service.store))
    assert line.endswith("Awaiting SPC re-inspection: 011 (lot L-1, SPC-BENCH).")
    # The part is measured again: the readings go to the re-inspection, which closes.
    session.spc.refresh()
    record = ["record", "--spec", "SPC-1", "--lot", "L-1", "--inspector", "ann"]
    again = run(
        config, *record, "--serial", "011", "--manual-reason", "re-check", "1=10.01", "2=5.000"
    )
    assert again.exit_code == 0, again.output
    (result,) = rows(
        service, f"SELECT * FROM current_results WHERE inspection = '{reinspection['uuid']}'"
    )
    assert result["result"] == "accept"
    assert "011 re-inspected: accept" in run(config, "spc", "alarms").output
    # (Back from 10.20, the re-measurement's moving range alarms: that is a new alarm.)
    assert "Awaiting SPC re-inspection" not in review_line(LocalSource(service.store))
    # The certificate's appendix says what sent the part back (no disposition: the alarm).
    html = run(config, "export", "lot", "L-1", "--format", "html", "--out", "-").stdout
    assert "sent back by an SPC alarm's answer (containment)" in html
    assert "after the disposition of reject" not in html


def test_release_writes_nothing_but_the_answer(alarmed):
    service, _, config, alarm = alarmed
    before = len(rows(service, "SELECT seq FROM journal"))
    done = answer(config, alarm)
    assert done.exit_code == 0, done.output
    assert "011 released" in done.output
    kinds = [r["kind"] for r in rows(service, f"SELECT kind FROM journal WHERE seq > {before}")]
    assert kinds == ["spc_answer"]


BORES = ["5.001", "4.999", "5.002", "5.000", "4.998", "5.001", "5.000", "4.999", "5.002", "5.000"]
"""Ten in-control readings of the critical #2."""


def test_a_critical_answer_writes_no_reject_without_the_countersignature(tmp_path):
    service = spc_station(tmp_path)
    session = session_of(service)
    for bore in BORES:
        measure_part(session, "10.00", bore)
        assert isinstance(session.close_part(), PartClosed)
    locked(service, char="2")
    _, bore = measure_part(session, "10.00", "5.300")
    assert bore.alarm is not None
    config = tmp_path / "station.toml"
    config.write_text(
        f'station = "SPC-BENCH"\ndb = "{tmp_path / "station.db"}"\n'
        f'specs = ["{tmp_path / "specs"}"]\n'
    )
    refused = answer(config, bore.alarm.uuid, "--held", "reject")
    assert refused.exit_code == 2 and "counter-sign" in refused.output
    assert not rows(service, "SELECT * FROM results WHERE serial = '011'")
    assert not rows(service, "SELECT * FROM spc_answers")
    args = ["spc", "answer", bore.alarm.uuid, "--cause", "TOOL", "--action", "TOOL"]
    done = run(
        config,
        *args,
        "--note",
        "worn",
        "--held",
        "reject",
        "--user",
        "ann",
        "--countersign",
        "sam",
        "--pin-stdin",
        stdin=f"{PINS['ann']}\n{PINS['sam']}\n",
    )
    assert done.exit_code == 0, done.output
    assert "counter-signed by Sam Ortiz" in done.output and "011 rejected" in done.output
    (result,) = rows(service, "SELECT * FROM current_results WHERE serial = '011'")
    assert result["defect_code"] == "SPC" and json.loads(result["failed"]) == ["2"]


def test_one_decision_that_cannot_be_done_rolls_the_whole_answer_back(tmp_path):
    """Nine parts on one side of the centre (rule 2) hold nine parts; the fifth is a reject
    already, so it cannot be sent to re-inspection: nothing of the answer is written."""
    service = spc_station(tmp_path)
    session = session_of(service)
    measure_parts(session, BASELINE)
    locked(service)
    for index in range(9):
        value = "10.01" if index % 2 else "10.02"
        measure_part(session, value, "5.600" if index == 4 else "5.000")
        if index < 8:
            closed = session.close_part(defect_code="D01" if index == 4 else None)
            assert isinstance(closed, PartClosed), closed
    alarm = session.spc.blocking()
    assert alarm is not None and len(alarm.parts) == 9 and alarm.rules == ("2",)
    config = tmp_path / "station.toml"
    config.write_text(
        f'station = "SPC-BENCH"\ndb = "{tmp_path / "station.db"}"\n'
        f'specs = ["{tmp_path / "specs"}"]\n'
    )
    before = len(rows(service, "SELECT seq FROM journal"))
    refused = answer(config, alarm.uuid, "--held", "reinspect")
    assert refused.exit_code == 2
    assert "Part 015 of lot L-1 is already a reject" in refused.output
    assert "nothing was recorded" in refused.output
    assert len(rows(service, "SELECT seq FROM journal")) == before
    # Deciding reject for the reject (left as it is) and reinspect for the others is done.
    done = answer(config, alarm.uuid, "--held", "reinspect", "--part", "015=reject")
    assert done.exit_code == 0, done.output
    assert "015 already a reject" in done.output
    assert len(rows(service, "SELECT * FROM reinspections")) == 8


def test_a_part_reinspected_since_the_alarm_is_refused_with_a_sentence(alarmed):
    service, _, config, alarm = alarmed
    spec = service.library.get("SPC-1@A")
    service.recorder.open_reinspection(
        spec=spec, lot="L-1", serial="011", inspector="sam", reinspection_of="elsewhere"
    )
    before = len(rows(service, "SELECT seq FROM journal"))
    refused = answer(config, alarm, "--held", "reject")
    assert refused.exit_code == 2
    assert "Part 011 of lot L-1 was re-inspected after alarm" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    assert len(rows(service, "SELECT seq FROM journal")) == before
    assert answer(config, alarm).exit_code == 0  # released: the re-inspection decides


def test_spc_alarms_reads_a_copy_of_the_record_and_the_audit_names_that_command(alarmed, tmp_path):
    service, _, _, alarm = alarmed
    copy = tmp_path / "copy.db"
    with closing(sqlite3.connect(service.store.path)) as src, closing(sqlite3.connect(copy)) as dst:
        src.backup(dst)
    other = tmp_path / "office.toml"
    other.write_text(f'station = "OFFICE"\ndb = "{tmp_path / "office.db"}"\n')
    listed = run(other, "spc", "alarms", "--db", str(copy), "--open")
    assert listed.exit_code == 0, listed.output
    assert alarm[:8] in listed.output and "SPC-BENCH" in listed.output and "OPEN" in listed.output
    assert not (tmp_path / "office.db").exists()  # read-only: nothing created
    report = json.loads(run(other, "audit", "--db", str(copy), "--format", "json").stdout)
    (section,) = [s for s in report["sections"] if s["key"] == "spc"]
    (finding,) = section["findings"]
    assert finding["command"] == f"inspect-station spc alarms --open --db {copy}"


def test_an_answer_from_another_stations_record_is_refused(alarmed, tmp_path):
    """The answer is written into the alarm's own station's chain: a configuration naming
    another station over that record file is refused before any PIN is asked."""
    service, _, _, alarm = alarmed
    other = tmp_path / "other.toml"
    other.write_text(
        f'station = "BENCH-9"\ndb = "{tmp_path / "station.db"}"\nspecs = ["{tmp_path / "specs"}"]\n'
    )
    refused = answer(other, alarm, "--held", "reject")
    assert refused.exit_code == 2
    assert "belongs to station 'SPC-BENCH', not 'BENCH-9'" in refused.output
    assert not rows(service, "SELECT * FROM spc_answers")
    assert not rows(service, "SELECT * FROM results WHERE serial = '011'")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--db", "{tmp}/missing.db"], "missing.db"),
        (["--db", "{tmp}/a.db", "--central", "sqlite:///{tmp}/c.db"], "not both"),
        (["--central", "ftp://qa-db/x"], "ftp"),
    ],
)
def test_spc_alarms_off_station_refuses_a_bad_source_in_one_sentence(
    alarmed, tmp_path, options, message
):
    args = [o.replace("{tmp}", str(tmp_path)) for o in options]
    result = run(alarmed[2], "spc", "alarms", *args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "c.db").exists()


def test_the_service_refuses_an_alarm_row_of_another_station(alarmed, monkeypatch):
    """A record source holding several stations (a central copy) must never lead to an answer
    written into this station's chain for another station's alarm."""
    service, _, _, alarm = alarmed
    real = spc_service.named.alarm

    def elsewhere(db, alarm_id):
        return [{**row, "station": "BENCH-9"} for row in real(db, alarm_id)]

    monkeypatch.setattr(spc_service.named, "alarm", elsewhere)
    who = service.users.authenticate("ann", PINS["ann"])
    with pytest.raises(SpcStationError, match="raised at station BENCH-9: it is answered there"):
        SpcService(service).answer(
            alarm, cause="TOOL", action="TOOL", note="x", by=who, decision="reject"
        )
    assert not rows(service, "SELECT * FROM spc_answers")
    assert not rows(service, "SELECT * FROM results WHERE serial = '011'")
