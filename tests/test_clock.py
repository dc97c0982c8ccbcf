"""One clock: every time the station writes comes from ``inspect_station.clock``, in one form."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

import inspect_station
from inspect_station import clock
from inspect_station.store import LocalStore
from inspect_station.sync import Shipper

RECORD_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
FIXED = dt.datetime(2031, 2, 3, 4, 5, 6, 789012, tzinfo=dt.UTC)
FIXED_TEXT = "2031-02-03T04:05:06.789012Z"


def test_now_is_an_aware_utc_moment_and_its_text_is_the_record_form():
    before = dt.datetime.now(dt.UTC)
    now = clock.utc_now()
    assert now.utcoffset() == dt.timedelta(0)
    assert before <= now <= dt.datetime.now(dt.UTC)
    text = clock.utc_timestamp()
    assert RECORD_TIME.match(text), text
    assert clock.parse_utc(text) >= now


def test_a_moment_in_another_zone_is_written_in_utc_and_reads_back_the_same():
    paris = dt.timezone(dt.timedelta(hours=1))
    moment = dt.datetime(2031, 2, 3, 5, 5, 6, 789012, tzinfo=paris)
    assert clock.format_utc(moment) == FIXED_TEXT
    assert clock.parse_utc(FIXED_TEXT) == moment
    assert clock.start_of_day_utc(dt.date(2031, 2, 3)) == "2031-02-03T00:00:00.000000Z"


def test_a_moment_without_a_time_zone_is_refused():
    with pytest.raises(ValueError, match="no time zone"):
        clock.format_utc(dt.datetime(2031, 2, 3, 4, 5, 6))


def test_setting_the_one_clock_sets_every_time_the_station_writes(
    monkeypatch: pytest.MonkeyPatch, db_path: Path, bracket, tmp_path: Path
):
    from inspect_station.recording import ManualSource, Recorder

    monkeypatch.setattr(clock, "utc_now", lambda: FIXED)
    with LocalStore(db_path, "CLOCK-1") as store:
        Recorder(store).measure(
            spec=bracket,
            lot="L1",
            serial="S1",
            inspector="ann",
            characteristic="1",
            value="120.01",
            source=ManualSource("test"),
        )
        times = {record["ts"] for record in store.records()}
        Shipper(store, f"sqlite:///{tmp_path / 'central.db'}").ship()
        (state,) = store.sync_states()
    assert times == {FIXED_TEXT}
    assert state["last_success_at"] == FIXED_TEXT


# What reads the system's clock or spells the record time format; only clock.py may.
_CLOCK_READS = re.compile(r"\bdatetime\.now\(|\butcnow\(|%Y-%m-%dT%H:%M:%S")


def test_only_the_clock_module_reads_the_time_of_day():
    root = Path(inspect_station.__file__).parent
    offenders = sorted(
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if path.name != "clock.py" or path.parent != root
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _CLOCK_READS.search(line)
    )
    assert offenders == []
