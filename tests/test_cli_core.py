"""The headless commands as an automation cell or a script uses them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from userkit import PINS, add_users

from inspect_station.cli import main
from inspect_station.store import LocalStore


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command in a subprocess, as a cell would."""
    return subprocess.run(
        [sys.executable, "-m", "inspect_station", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


RECORD = ["record", "--spec", "BRK-1042", "--lot", "L1", "--inspector", "ann"]
USERS = 2
"""Records the users take before anything is measured: the administrator root, then ann."""


def with_ann(path: Path, station: str = os.uname().nodename) -> Path:
    """A station's record at ``path`` whose administrator added inspector ann (every part)."""
    with LocalStore(path, station) as store:
        add_users(store, [("ann", "Ann Lee", "inspector", PINS["ann"], ["*"])])
    return path


@pytest.fixture
def db_path(db_path: Path) -> Path:
    """The station's record, holding the inspector ann that --inspector names."""
    return with_ann(db_path)


def test_record_prints_one_ack_per_measurement(db_path: Path):
    result = run(*RECORD, "--serial", "S1", "--db", str(db_path), "1=120.01", "2=12.017", "4=pass")
    assert result.returncode == 0, result.stderr
    acks = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["characteristic"] for a in acks] == ["1", "2", "4"]
    assert acks[0] | {"id": None} == {
        "id": None,
        "seq": USERS + 4,
        "lot": "L1",
        "serial": "S1",
        "characteristic": "1",
        "value": "120.01",
        "unit": "mm",
        "verdict": "pass",
        "zone": "inside",
        "deviation": "+0.01",
    }
    assert acks[1]["verdict"] == "fail" and acks[1]["zone"] == "guard-band"
    with LocalStore(db_path, os.uname().nodename) as store:
        ids = {r["uuid"] for r in store.query("SELECT uuid FROM measurements")}
    assert ids == {a["id"] for a in acks}


def test_record_value_with_unit_suffix(db_path: Path):
    result = run(*RECORD, "--serial", "S1", "--db", str(db_path), "1=4.7250in")
    ack = json.loads(result.stdout)
    assert (ack["value"], ack["unit"], ack["deviation"]) == ("4.7250", "in", "+0.015")


def test_bad_values_are_refused_one_sentence_each_and_the_rest_recorded(db_path: Path):
    result = run(
        *RECORD,
        "--serial",
        "S1",
        "--db",
        str(db_path),
        "1=abc",
        "9=1",
        "1=180",
        "2=12.005",
        "nonsense",
    )
    assert result.returncode == 2
    errors = result.stderr.strip().splitlines()
    assert errors == [
        "Error: 1=abc: 'abc' is not a number.",
        "Error: 9=1: BRK-1042 revision C has no characteristic '9' (characteristics: 1, 2, 3, 4).",
        "Error: 1=180: 180 mm is not a plausible reading for characteristic 1 (Overall length, "
        "expected 100..140 mm): check the gauge and the characteristic.",
        "Error: 'nonsense': expected CHAR=VALUE.",
    ]
    assert [json.loads(x)["characteristic"] for x in result.stdout.splitlines()] == ["2"]


def test_stdin_json_lines(db_path: Path):
    lines = [
        {"serial": "S1", "characteristic": "1", "value": "120.02"},
        {"serial": "S1", "characteristic": "2", "value": "12.004", "unit": "mm"},
        "garbage",
        {"serial": "S1", "characteristic": "1", "value": "120.03"},
        {"serial": "S1", "characteristic": "1", "value": "120.03", "reason": "re-seated"},
        {"serial": "S2", "characteristic": "3", "value": 0.049},
        {"serial": "S2", "characteristic": "3", "value": "0.049"},
        {"characteristic": "3", "value": "0.01"},
    ]
    stdin = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"
    result = run(*RECORD, "--stdin", "--db", str(db_path), stdin=stdin)
    assert result.returncode == 2
    acks = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(a["serial"], a["characteristic"], a["value"]) for a in acks] == [
        ("S1", "1", "120.02"),
        ("S1", "2", "12.004"),
        ("S1", "1", "120.03"),
        ("S2", "3", "0.049"),
    ]
    errors = result.stderr.strip().splitlines()
    assert errors[0].startswith("Error: stdin line 3: not a JSON object")
    assert errors[1].startswith("Error: stdin line 4: Characteristic 1 of part S1 was already")
    assert errors[2] == (
        'Error: stdin line 6: "value" must be JSON text such as "12.345" (a JSON number loses '
        "digits), not a number."
    )
    assert errors[3] == "Error: stdin line 8: no serial (give --serial or a serial per line)."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--spec", "NOPE"], "No spec for part 'NOPE'"),
        (["--spec", "BRK-1042@D"], "is draft, not released"),
    ],
)
def test_unknown_spec_is_one_sentence_exit_2(db_path: Path, args: list[str], message: str):
    result = run(
        "record",
        *args,
        "--lot",
        "L",
        "--serial",
        "S",
        "--inspector",
        "a",
        "--db",
        str(db_path),
        "1=1",
    )
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_verify_command_ok_and_broken(db_path: Path):
    run(*RECORD, "--serial", "S1", "--db", str(db_path), "1=120.01", "2=12.005")
    ok = run("verify", "--db", str(db_path))
    assert ok.returncode == 0 and f"OK: {USERS + 5} records" in ok.stdout
    with LocalStore(db_path, os.uname().nodename) as store:
        store.conn.execute("DROP TRIGGER measurements_no_update")
        store.conn.execute(f"UPDATE measurements SET value = '120.00' WHERE seq = {USERS + 4}")
    broken = run("verify", "--db", str(db_path))
    assert broken.returncode == 1
    assert f"BROKEN at seq {USERS + 4}: measurements.value is '120.00'" in broken.stdout


def test_verify_missing_database_is_one_sentence(tmp_path: Path):
    result = CliRunner().invoke(main, ["verify", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: There is no local record at {tmp_path / 'none.db'}."


def test_config_file_sets_station_and_db(tmp_path: Path):
    config = tmp_path / "station.toml"
    config.write_text('station = "BENCH-9"\ndb = "records/bench9.db"\n')
    with_ann(tmp_path / "records" / "bench9.db", "BENCH-9")
    result = run("--config", str(config), *RECORD, "--serial", "S1", "1=120")
    assert result.returncode == 0, result.stderr
    with LocalStore(tmp_path / "records" / "bench9.db", "BENCH-9") as store:
        assert store.verify().ok and store.head()[0] == USERS + 4


def test_bad_config_is_one_sentence_with_line(tmp_path: Path):
    config = tmp_path / "station.toml"
    config.write_text('station = "B1"\ncalibration_warnig_days = 3\n')
    result = run("--config", str(config), "verify")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"Error: {config}:2: calibration_warnig_days: unknown key (check its spelling)"
    )


def test_every_command_has_help():
    def walk(group, path):
        for name, command in group.commands.items():
            assert command.help, f"{' '.join([*path, name])} has no help text"
            if hasattr(command, "commands"):
                walk(command, [*path, name])

    walk(main, ["inspect-station"])


def test_headless_demo_records_and_verifies(tmp_path: Path):
    result = run("demo", "--headless", "--db", str(tmp_path / "demo.db"))
    assert result.returncode == 0, result.stderr
    assert "DEMO-002  #2  Bore diameter" in result.stdout and "FAIL  (guard-band" in result.stdout
    demo_users = 5
    assert f"OK: {demo_users + 20} records, chain and projections verified." in result.stdout
