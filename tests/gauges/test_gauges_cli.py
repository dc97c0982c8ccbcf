"""``inspect-station gauges``: list, check, read and simulate, in process and as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import serial
from click.testing import CliRunner
from gaugekit import DATA, SHIPPED_NAMES, shipped

from inspect_station.cli import main
from inspect_station.gauges import simulator_for

STATION = """
station = "BENCH-CLI"

[[gauge]]
asset = "CAL-0042"
profile = "mitutoyo-ascii"
port = "usb:0fe7:4001:SN12345"
unit = "mm"
serial_number = "A1234567"
certificate = "CERT-2026-0042"
calibrated_on = 2026-01-01
calibration_due = 2099-12-01

[[gauge]]
asset = "MIC-0001"
profile = "mitutoyo-mux"
port = "/dev/ttyUSB7"
channel = 2
serial_number = "B7"
certificate = "CERT-1"
calibrated_on = 2020-01-01
calibration_due = 2021-01-01
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "station.toml"
    path.write_text(STATION)
    return path


def cli_command(*args: str) -> list[str]:
    """The installed console script's command line (same interpreter as the tests)."""
    return [sys.executable, "-m", "inspect_station", *args]


@pytest.mark.parametrize("command", ["list", "read", "check", "simulate"])
def test_every_gauges_command_has_help(runner, command):
    result = runner.invoke(main, ["gauges", command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output
    assert main.commands["gauges"].commands[command].help


def test_list_shows_profiles_assets_with_calibration_and_ports(runner, config_file):
    result = runner.invoke(main, ["--config", str(config_file), "gauges", "list"])
    assert result.exit_code == 0, result.output
    for name in SHIPPED_NAMES:
        assert name in result.output
    assert "sylvac-duplex      poll  4800 7E2" in result.output
    assert "CAL-0042" in result.output and "calibration ok (due 2099-12-01)" in result.output
    assert "MIC-0001" in result.output and "channel 2" in result.output
    assert "calibration overdue (due 2021-01-01)" in result.output
    assert "Serial ports:" in result.output


def test_check_passes_the_shipped_profiles(runner):
    result = runner.invoke(main, ["gauges", "check"])
    assert result.exit_code == 0
    assert f"{len(SHIPPED_NAMES)} profile file(s) valid." in result.output


def test_check_prints_file_line_problems_and_fails(runner):
    bad = DATA / "unknown-key.toml"
    result = runner.invoke(main, ["gauges", "check", str(bad), str(DATA / "bad-mode.toml")])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"{bad}:6: serial > baud: unknown key (check its spelling)"
    assert lines[1].startswith(f"{DATA / 'bad-mode.toml'}:9: protocol > mode:")


def test_read_from_a_port_that_cannot_be_opened_is_one_sentence_and_exit_2(runner, tmp_path):
    missing = tmp_path / "ttyUSB9"
    result = runner.invoke(
        main, ["gauges", "read", "--profile", "mitutoyo-ascii", "--port", str(missing)]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: Cannot open gauge port {missing}: no such device (is the gauge plugged in?).\n"
    )
    assert "Traceback" not in result.output


def test_read_polling_a_push_gauge_is_exit_2(runner):
    args = ["gauges", "read", "--profile", "mitutoyo-ascii", "--port", "loop://", "--poll", "1"]
    result = runner.invoke(main, args)
    assert result.exit_code == 2
    assert "cannot be polled" in result.stderr


def test_read_with_an_unknown_profile_is_exit_2(runner):
    result = runner.invoke(main, ["gauges", "read", "--profile", "nope", "--port", "loop://"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: There is no gauge profile 'nope'")


def test_read_polls_a_poll_gauge_and_prints_json_lines(runner):
    with simulator_for(shipped("sylvac-duplex"), values=["12.345"]) as sim:
        sim.set_value("-0.012")
        args = ["--profile", "sylvac-duplex", "--port", sim.port, "--poll", "0.05"]
        args += ["--count", "2", "--json", "--unit", "mm"]
        result = runner.invoke(main, ["gauges", "read", *args])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 2
    for row in rows:
        assert row["value"] == "-0.012"
        assert row["unit"] == "mm"
        assert row["channel"] is None
        assert row["raw"] == "-0.012\\r"
        assert row["received_at"].endswith("Z")
    assert "Reading sylvac-duplex" in result.stderr


def test_read_as_a_subprocess_prints_readings_and_device_errors(tmp_path, children):
    link = tmp_path / "gauge"
    with simulator_for(shipped("generic-ascii"), link=link) as sim:
        proc = children.popen(
            cli_command(
                "gauges",
                "read",
                "--profile",
                "generic-ascii",
                "--port",
                str(link),
                "--count",
                "2",
                "--json",
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # The banner comes once the port is open, so nothing pressed now is flushed away.
            assert proc.stderr.readline().startswith("Reading generic-ascii on")
            sim.press(".1455")
            sim.send_error("E3")
            sim.press("-.5725")
            out, err = proc.communicate(timeout=20)
        finally:
            proc.kill()
    assert proc.returncode == 0, err
    first, error, second = (json.loads(line) for line in out.splitlines())
    assert (first["value"], first["unit"], first["raw"]) == ("0.1455", "mm", "0.1455 mm\\r")
    assert error == {
        "error": "device error",
        "code": "E3",
        "kind": "device",
        "raw": "E3\\r",
        "received_at": error["received_at"],
    }
    assert second["value"] == "-0.5725"


def test_simulate_as_a_subprocess_speaks_on_a_stable_link(tmp_path, children):
    link = tmp_path / "sim" / "caliper"
    proc = children.popen(
        cli_command(
            "gauges", "simulate", "mitutoyo-ascii", "--link", str(link), "--values", "1.5,2.5"
        ),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    try:
        banner = proc.stdout.readline()
        assert banner.startswith(f"Simulating mitutoyo-ascii on {link} (now /dev/pts/")
        proc.stdout.readline()  # the command help
        with serial.Serial(str(link), 9600, timeout=5) as port:
            proc.stdin.write("\n")  # Enter presses DATA
            assert port.read_until(b"\r") == b"01A+000001.5\r"
            proc.stdin.write("p -0.25\n")
            assert port.read_until(b"\r") == b"01A-00000.25\r"
            assert proc.stdout.readline() == "sent 01A+000001.5\\r\n"
            assert proc.stdout.readline() == "sent 01A-00000.25\\r\n"
            proc.stdin.write("u\n")
            assert proc.stdout.readline() == "unplugged\n"
            assert not link.is_symlink()
            proc.stdin.write("r\n")
            assert proc.stdout.readline().startswith(f"plugged in: {link} -> /dev/pts/")
        proc.stdin.write("q\n")
        proc.stdin.flush()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
    assert not link.is_symlink()


def test_simulate_commands_in_process(runner):
    result = runner.invoke(
        main, ["gauges", "simulate", "sylvac-duplex"], input="e\ng\ns\np 1\nx\nq\n"
    )
    assert result.exit_code == 0, result.output
    link = Path(os.environ["INSPECT_STATION_DATA"]) / "simulated-gauges" / "sylvac-duplex"
    assert f"Simulating sylvac-duplex on {link}" in result.output
    assert "error frame ERR3\\r (next answer)" in result.output
    assert "garbage \\x00\\xff#\\x13~\\x80q" in result.output
    assert "silent\n" in result.output
    assert "silent: nothing sent" in result.output
    assert "unknown command 'x'" in result.output
    assert not link.is_symlink()


def test_simulate_refuses_a_link_a_running_simulator_holds(runner, tmp_path):
    link = tmp_path / "held"
    with simulator_for(shipped("mitutoyo-ascii"), link=link):
        result = runner.invoke(
            main, ["gauges", "simulate", "mitutoyo-ascii", "--link", str(link)], input="q\n"
        )
    assert result.exit_code == 2
    assert "is in use by a running simulator" in result.stderr
