"""inspect-station spc: propose, lock, alarms with the fatigue figures, answer; hostile input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from spcstationkit import BASELINE, measure_part, measure_parts, session_of, spc_station
from userkit import PINS

from inspect_station.cli import main


@pytest.fixture
def bench(tmp_path: Path):
    """A station (its station.toml) whose SPC-1 #1 has ten baseline readings and one more."""
    service = spc_station(tmp_path)
    session = session_of(service)
    measure_parts(session, [*BASELINE, "10.30"])
    config = tmp_path / "station.toml"
    config.write_text(
        f'station = "SPC-BENCH"\ndb = "{tmp_path / "station.db"}"\n'
        f'specs = ["{tmp_path / "specs"}"]\n'
    )
    yield service, session, config
    service.store.close()


def run(config: Path, *args: str, stdin: str = ""):
    return CliRunner().invoke(main, ["--config", str(config), *args], input=stdin)


def test_propose_shows_the_limits_what_would_have_alarmed_and_the_arl(bench):
    service, _, config = bench
    result = run(config, "spc", "limits", "propose", "SPC-1", "1", "--baseline", "10")
    assert result.exit_code == 0, result.output
    assert "centre 10.0020 mm · UCL 10.0581 · LCL 9.9459" in result.output
    assert (
        "1 of 11 points would have alarmed under limits version 1: rule 1 × 1, rule 1 (range) × 1."
        in result.output
    )
    assert "false alarm every" in result.output
    assert not service.store.query("SELECT * FROM spc_limits")
    data = json.loads(
        run(config, "spc", "limits", "propose", "SPC-1", "1", "--baseline", "10", "--json").output
    )
    assert data["limits"]["ucl"] == "10.0581" and len(data["would_have_alarmed"]) == 2


def test_lock_needs_a_supervisor_pin_and_refuses_an_inspector(bench):
    service, _, config = bench
    lock = ["spc", "limits", "lock", "SPC-1", "1", "--baseline", "10", "--pin-stdin"]
    refused = run(config, *lock, "--user", "ann", stdin=PINS["ann"] + "\n")
    assert refused.exit_code == 2
    assert "Only a supervisor can lock control limits" in refused.output
    wrong = run(config, *lock, "--user", "sam", stdin="000000\n")
    assert wrong.exit_code == 2 and "Wrong PIN; nothing was signed" in wrong.output
    assert not service.store.query("SELECT * FROM spc_limits")
    done = run(config, *lock, "--user", "sam", stdin=PINS["sam"] + "\n")
    assert done.exit_code == 0, done.output
    assert "Locked: SPC-1 #1 limits version 1" in done.output and "Sam Ortiz (sam)" in done.output
    shown = run(config, "spc", "limits", "show", "SPC-1", "1")
    assert shown.output.startswith("v1 from ")
    again = run(config, *lock, "--user", "sam", stdin=PINS["sam"] + "\n")
    assert again.exit_code == 2 and "re-locking needs a reason" in again.output


def test_alarms_list_answer_and_the_fatigue_figures(bench):
    _, session, config = bench
    lock = ["spc", "limits", "lock", "SPC-1", "1", "--baseline", "10", "--pin-stdin"]
    assert run(config, *lock, "--user", "sam", stdin=PINS["sam"] + "\n").exit_code == 0
    length, _ = measure_part(session, "10.20")
    alarm = length.alarm.uuid
    listed = run(config, "spc", "alarms", "--open")
    assert f"{alarm[:8]}" in listed.output and "OPEN" in listed.output
    answer = [
        "spc",
        "answer",
        alarm[:8],
        "--cause",
        "NCF",
        "--action",
        "NONE",
        "--note",
        "nothing found",
        "--user",
        "ann",
        "--pin-stdin",
        "--part",
        "012=reinspect",
    ]
    done = run(config, *answer, stdin=PINS["ann"] + "\n")
    assert done.exit_code == 0, done.output
    assert "Answered SPC alarm" in done.output and "012 re-inspection" in done.output
    data = json.loads(run(config, "spc", "alarms", "--json").output)
    (entry,) = data["alarms"]
    assert entry["answer"]["cause"] == "NCF" and not entry["open"]
    (figures,) = data["characteristics"]
    assert (figures["alarms"], figures["real_cause"], figures["no_cause"]) == (1, 0, 1)
    assert figures["rules_only_no_cause"] == ["1"]
    assert figures["arl"]["arl0_points"] is not None
    text = run(config, "spc", "alarms").output
    assert "Rules that only ever found no cause: 1." in text
    assert run(config, "spc", "alarms", "--open").output.strip() != ""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--cause", "BOGUS"], "Unknown cause code 'BOGUS'; the station's codes are NCF,"),
        (["--note", "n" * 5000], "The note 'nnnnnnnnnnnnnnnnnnn…' is longer than 500"),
        (["--note", "a\u202eb"], "bidirectional control"),
        (["--part", "999=reject"], "Part '999' is not held by this alarm"),
        (["--part", "012=burn"], "is not SERIAL=release"),
    ],
)
def test_hostile_answers_are_one_sentence_and_record_nothing(bench, options, message):
    service, session, config = bench
    lock = ["spc", "limits", "lock", "SPC-1", "1", "--baseline", "10", "--pin-stdin"]
    assert run(config, *lock, "--user", "sam", stdin=PINS["sam"] + "\n").exit_code == 0
    length, _ = measure_part(session, "10.20")
    base = {"--cause": "TOOL", "--action": "ADJ", "--note": "ok"}
    args = ["spc", "answer", length.alarm.uuid, "--user", "ann", "--pin-stdin"]
    for key, value in base.items():
        if key not in options:
            args += [key, value]
    result = run(config, *args, *options, stdin=PINS["ann"] + "\n")
    assert result.exit_code == 2
    assert message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not service.store.query("SELECT * FROM spc_answers")


def test_an_unknown_alarm_and_an_attribute_are_refused(bench):
    _, _, config = bench
    result = run(
        config,
        "spc",
        "answer",
        "deadbeef",
        "--cause",
        "TOOL",
        "--action",
        "ADJ",
        "--note",
        "x",
        "--user",
        "ann",
        "--pin-stdin",
        stdin="1\n",
    )
    assert result.exit_code == 2 and "There is no SPC alarm 'deadbeef'" in result.output
    result = run(config, "spc", "limits", "propose", "SPC-1", "9")
    assert result.exit_code == 2 and "SPC-1 has no characteristic '9'" in result.output


def test_record_judges_each_reading_and_an_open_alarm_holds_the_next_part(bench):
    service, _, config = bench
    lock = ["spc", "limits", "lock", "SPC-1", "1", "--baseline", "10", "--pin-stdin"]
    assert run(config, *lock, "--user", "sam", stdin=PINS["sam"] + "\n").exit_code == 0
    record = [
        "record",
        "--spec",
        "SPC-1",
        "--lot",
        "L-7",
        "--inspector",
        "ann",
        "--manual-reason",
        "cell",
    ]
    first = run(config, *record, "--serial", "A1", "1=10.01", "2=5.000")
    assert first.exit_code == 0 and "spc_alarm" not in first.output
    alarmed = run(config, *record, "--serial", "A2", "1=10.25", "2=5.000")
    assert alarmed.exit_code == 0, alarmed.output
    acks = [json.loads(line) for line in alarmed.stdout.splitlines()]
    assert "spc_alarm" in acks[0] and "SPC alarm" in alarmed.stderr
    held = run(config, *record, "--serial", "A3", "1=10.00", "2=5.000")
    assert held.exit_code == 2
    assert "inspect-station spc answer" in held.stderr and "nothing was recorded" in held.stderr
    assert not service.store.query("SELECT * FROM measurements WHERE serial = 'A3'")


def test_a_burst_on_stdin_is_held_inside_its_group_after_the_alarm(bench):
    """Lines waiting together are recorded in one commit (group commit); a reading that raises
    an alarm in that group still holds the new part whose lines follow it in the same group."""
    service, _, config = bench
    lock = ["spc", "limits", "lock", "SPC-1", "1", "--baseline", "10", "--pin-stdin"]
    assert run(config, *lock, "--user", "sam", stdin=PINS["sam"] + "\n").exit_code == 0
    lines = [
        {"serial": "B1", "characteristic": "1", "value": "10.25"},
        {"serial": "B1", "characteristic": "2", "value": "5.000"},
        {"serial": "B2", "characteristic": "1", "value": "10.00"},
        {"serial": "B2", "characteristic": "2", "value": "5.000"},
    ]
    stdin = "".join(json.dumps(line) + "\n" for line in lines)
    record = ["record", "--spec", "SPC-1", "--lot", "L-8", "--inspector", "ann"]
    result = run(config, *record, "--manual-reason", "cell", "--stdin", stdin=stdin)
    assert result.exit_code == 2
    acks = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["serial"] for a in acks] == ["B1", "B1"]
    assert "spc_alarm" in acks[0]
    assert result.stderr.count("nothing was recorded") == 2  # both lines of B2
    assert not service.store.query("SELECT * FROM measurements WHERE serial = 'B2'")
    assert len(service.store.query("SELECT * FROM spc_holds")) == 1


def test_the_audit_finds_an_unanswered_alarm_until_it_is_answered(bench):
    """inspect-station audit's SPC section reads the station's real alarm records."""
    _, session, config = bench
    lock = ["spc", "limits", "lock", "SPC-1", "1", "--baseline", "10", "--pin-stdin"]
    assert run(config, *lock, "--user", "sam", stdin=PINS["sam"] + "\n").exit_code == 0
    length, _ = measure_part(session, "10.20")
    alarm = length.alarm.uuid

    def spc_findings() -> list[dict]:
        report = json.loads(run(config, "audit", "--format", "json").stdout)
        (section,) = [s for s in report["sections"] if s["key"] == "spc"]
        return section["findings"]

    (finding,) = spc_findings()
    assert "SPC-1 #1" in finding["what"] and "has no answer" in finding["what"]
    assert finding["command"] == "inspect-station spc alarms --open"
    answer = ["spc", "answer", alarm[:8], "--cause", "NCF", "--action", "NONE", "--note", "ok"]
    done = run(config, *answer, "--user", "ann", "--pin-stdin", stdin=PINS["ann"] + "\n")
    assert done.exit_code == 0, done.output
    assert spc_findings() == []
