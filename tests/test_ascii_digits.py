"""Digits are ASCII digits wherever a person types a number: PINs, counts, ages, serials."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from inspect_station.cli import main
from inspect_station.errors import InspectStationError
from inspect_station.station import following_serial
from inspect_station.users.pins import validate_pin


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """station.toml of BENCH-3 with a first administrator, so read commands have a record."""
    path = tmp_path / "station.toml"
    path.write_text(f'station = "BENCH-3"\ndb = "{tmp_path / "bench3.db"}"\n')
    added = cli(path, "users", "add", "boss", "--name", "Bea Boss", "--pin-stdin", stdin="864209")
    assert added.exit_code == 0, added.output
    return path


def cli(config: Path, *args: str, stdin: str | None = None) -> Result:
    """Run the command line in-process."""
    return CliRunner().invoke(main, ["--config", str(config), *args], input=stdin)


@pytest.mark.parametrize("pin", ["٨٦٤٢٠٩", "８６４２０９", "86420٩", "864 209", "+864209"])
def test_a_pin_of_other_digits_is_refused(pin: str) -> None:
    """Python's \\d matches Arabic-Indic and full-width digits; a PIN pad types only 0-9."""
    with pytest.raises(InspectStationError, match="6 to 12 digits"):
        validate_pin(pin)


def test_a_pin_of_ascii_digits_is_accepted() -> None:
    """The grammar still accepts an ordinary PIN."""
    validate_pin("864209")


def test_a_first_administrator_with_other_digits_is_not_created(tmp_path: Path) -> None:
    """The refusal holds end to end: nothing is recorded."""
    path = tmp_path / "station.toml"
    path.write_text(f'station = "BENCH-3"\ndb = "{tmp_path / "bench3.db"}"\n')
    result = cli(path, "users", "add", "boss", "--name", "Bea", "--pin-stdin", stdin="٨٦٤٢٠٩")
    assert result.exit_code == 2
    assert "6 to 12 digits" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("size", ["١٠", "1_000", "１０", "10.0", "0", "100001"])
def test_sync_batch_size_reads_the_one_grammar(config: Path, size: str) -> None:
    """--batch-size is refused with a usage error unless it is 1 to 100000 in ASCII digits."""
    result = cli(config, "sync", "--batch-size", size, "--central", "sqlite:///nowhere.db")
    assert result.exit_code == 2
    assert "--batch-size" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("age", ["٣d", "99999999999999d", "3 d 4h", "1_0h"])
def test_rejects_list_age_is_refused_in_one_sentence(config: Path, age: str) -> None:
    """An age that is not a few ASCII digits and a unit is a usage error, never an overflow."""
    result = cli(config, "rejects", "list", "--older-than", age)
    assert result.exit_code == 2
    assert "is not an age" in result.output
    assert "Traceback" not in result.output


def test_the_next_serial_counts_on_ascii_digits_only() -> None:
    """A serial ending in other digits is not a numbered serial: counting does not convert it."""
    assert following_serial(["SN-099"]) == "SN-100"
    assert following_serial(["SN-٩٩"]) == "001"
