"""The demo behaves like the floor: its simulated gauges give values that fit what they measure."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from inspect_station.cli import main
from inspect_station.cli.station import demo_farewell
from inspect_station.config import load_config
from inspect_station.demo import demo_config, ensure_demo_users, plausible_value, write_demo_config
from inspect_station.errors import ConfigError
from inspect_station.evaluate import evaluate
from inspect_station.recording import GaugeSource, ManualSource
from inspect_station.spec import Kind, SpecLibrary
from inspect_station.station import StationService
from inspect_station.store import LocalStore


def _measured(library: SpecLibrary):
    """(spec, characteristic, demo asset) for every measured characteristic a demo gauge fits."""
    config = demo_config()
    for spec in library.released():
        for ch in spec.characteristic:
            if ch.kind is Kind.ATTRIBUTE:
                continue
            for asset in config.gauge:
                if asset.gauge_type == ch.gauge:
                    yield spec, ch, asset


def test_every_demo_gauge_fits_every_characteristic_it_can_measure(library: SpecLibrary):
    rng = random.Random(11)
    cases = list(_measured(library))
    assert len(cases) >= 6  # caliper on an inch part too
    for spec, ch, asset in cases:
        unit = asset.unit or "mm"  # the Millimar's frame says mm
        verdicts = []
        for _ in range(300):
            value = plausible_value(spec, ch, unit, asset.resolution, rng)
            # Never refused as implausible (evaluate raises ImplausibleReading).
            verdicts.append(evaluate(value, unit, ch, spec).passed)
        where = f"{spec.part_number} #{ch.id} with {asset.asset}"
        share = sum(verdicts) / len(verdicts)
        assert 0.75 <= share <= 0.95, f"{where}: {share:.0%} pass"


@pytest.mark.parametrize("resolution", ["0.01", "0.001", "0.0001"])
def test_values_come_in_the_gauges_resolution(library: SpecLibrary, resolution: str):
    spec = library.get("BRK-1042@C")
    rng = random.Random(3)
    for ch in spec.characteristic[:3]:
        value = plausible_value(spec, ch, "mm", resolution, rng)
        assert len(value.partition(".")[2]) == len(resolution.partition(".")[2])


def test_a_millimetre_gauge_on_an_inch_part_reads_millimetres(library: SpecLibrary):
    spec = library.get("SHF-220@A")
    length = spec.get("2")  # 8.490 .. 8.510 in
    values = [plausible_value(spec, length, "mm", "0.01", random.Random(n)) for n in range(50)]
    assert all(210 < float(v) < 222 for v in values), values


def test_attributes_pass_mostly_and_fail_now_and_then(library: SpecLibrary):
    thread = library.get("BRK-1042@C").get("4")
    rng = random.Random(5)
    answers = [
        plausible_value(library.get("BRK-1042@C"), thread, None, None, rng) for _ in range(200)
    ]
    assert 140 < answers.count("pass") < 195 and answers.count("fail") > 5


# -- the demo's configuration, for every command ----------------------------------------------


@pytest.fixture
def demo_record(library: SpecLibrary):
    """The demo's record as a session at the demo station leaves it: one part measured on its
    gauges and rejected, the demo users, and the configuration file the demo writes."""
    config = demo_config()
    config.db_path.parent.mkdir(parents=True)
    store = LocalStore(config.db_path, config.station)
    service = StationService(config, store, library)
    ensure_demo_users(service.users)
    spec = library.get("BRK-1042@C")
    user = service.users.get("demo")
    service.start_lot(user, spec, "LOT-D1", lot_size=20)
    caliper = GaugeSource(config.asset("CAL-0042"), b"01A+00120.14\r")
    service.measure(user, spec, "LOT-D1", "001", "1", "120.14", unit="mm", source=caliper)
    for char, value in [("2", "12.008"), ("3", "0.012"), ("4", "pass")]:
        service.measure(user, spec, "LOT-D1", "001", char, value, source=ManualSource("test"))
    service.close_part(user, spec, "LOT-D1", "001", defect_code="D01", note="long")
    store.close()
    return config, write_demo_config(config)


def _cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


COMMANDS = [
    (["verify"], "OK: "),
    (["trace", "gauge", "CAL-0042"], "LOT-D1"),
    (["rejects", "list"], "LOT-D1"),
    (["users", "list"], "Sam Supervisor"),
    (["sync"], "Shipped"),
]


@pytest.mark.parametrize(("args", "expected"), COMMANDS, ids=[c[0][0] for c in COMMANDS])
def test_every_command_works_on_the_demo_with_demo(demo_record, args, expected):
    result = _cli("--demo", *args)
    assert result.exit_code == 0, result.output
    assert expected in result.output


@pytest.mark.parametrize(("args", "expected"), COMMANDS, ids=[c[0][0] for c in COMMANDS])
def test_every_command_works_on_the_demo_with_its_config_file(demo_record, args, expected):
    _, config_file = demo_record
    result = _cli("--config", str(config_file), *args)
    assert result.exit_code == 0, result.output
    assert expected in result.output


def test_export_lot_of_the_demo(demo_record, tmp_path: Path):
    out = tmp_path / "lot.html"
    result = _cli("--demo", "export", "lot", "LOT-D1", "--format", "html", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "LOT-D1" in out.read_text(encoding="utf-8")


def test_the_demo_config_file_loads_back_as_the_demo_configuration(tmp_path: Path):
    config = demo_config(tmp_path / "demo")
    (tmp_path / "demo").mkdir()
    path = write_demo_config(config)
    assert path == tmp_path / "demo" / "demo.station.toml"
    loaded = load_config(path)
    assert loaded.model_dump() == config.model_dump()


def test_the_demo_never_overwrites_a_configuration_it_did_not_write(tmp_path: Path):
    config = demo_config(tmp_path, db=tmp_path / "mine.db")
    own = tmp_path / "mine.station.toml"
    own.write_text('station = "BENCH-3"\n')
    with pytest.raises(ConfigError, match="was not written by the demo"):
        write_demo_config(config)
    assert own.read_text() == 'station = "BENCH-3"\n'


def test_demo_without_a_demo_record_says_how_to_make_one():
    result = _cli("--demo", "verify")
    assert result.exit_code == 2
    assert "There is no demo record yet" in result.output
    assert "start `inspect-station demo` first" in result.output


def test_demo_and_config_together_are_refused(tmp_path: Path):
    result = _cli("--config", str(tmp_path / "x.toml"), "--demo", "verify")
    assert result.exit_code == 2 and "not both" in result.output


def test_the_demo_says_on_quitting_how_to_use_its_record(tmp_path: Path):
    text = demo_farewell(tmp_path / "demo.station.toml", tmp_path / "demo.db", True)
    assert f"inspect-station --config {tmp_path / 'demo.station.toml'} verify" in text
    assert "inspect-station --demo export lot" in text
