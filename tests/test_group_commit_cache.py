"""A write transaction remembers what it read and wrote of parts, and answers as SQLite would.

The group commit asks, for every measurement, the part's latest inspection, the current
measurement of its characteristic, the inspection's verdicts and its result in force. The
transaction keeps these (``store.inspections.PartCache``) from the rows it inserts, so it need
not ask SQLite again; a measurement refused after its records were appended (rolled back to
its savepoint) must leave nothing of itself in what the next one is told.
"""

from __future__ import annotations

import dataclasses
import random

import pytest
from rejectkit import GOOD, request

from inspect_station.errors import InspectStationError
from inspect_station.recording import (
    ManualSource,
    Measurement,
    MeasurementAck,
    Recorder,
    RecordingError,
)
from inspect_station.spec import PartSpec
from inspect_station.store import LocalStore, Transaction, inspections

BAD = {"1": "120.5", "2": "12.03", "3": "0.09", "4": "fail"}


class Refused(InspectStationError):
    """What the test's ``after`` hook raises: the measurement is refused after its append."""


def refuse_after_append(tx: Transaction, record: dict) -> None:
    """An ``after`` hook that refuses the measurement once its records are in the transaction."""
    raise Refused("refused after the append")


def test_a_measurement_refused_after_its_append_leaves_nothing_for_the_next(store, bracket):
    outcomes = Recorder(store).measure_many(
        [
            request(bracket, "S1", "1", "120.01", after=refuse_after_append),
            request(bracket, "S1", "1", "120.02"),  # the first never happened: no reason needed
            request(bracket, "S1", "2", "12.005"),
        ]
    )
    assert isinstance(outcomes[0], Refused)
    assert isinstance(outcomes[1], MeasurementAck) and outcomes[1].supersedes is None
    assert isinstance(outcomes[2], MeasurementAck)
    # The inspection the refused one opened was rolled back: the kept ones opened their own.
    opened = store.query("SELECT uuid FROM inspections")
    assert [row["uuid"] for row in opened] == [outcomes[1].inspection]
    assert outcomes[2].inspection == outcomes[1].inspection
    assert store.verify().ok


def test_a_refused_correction_leaves_the_measurement_it_would_have_superseded_current(
    store, bracket
):
    recorder = Recorder(store)
    first = recorder.measure_many([request(bracket, "S1", "1", "120.01")])[0]
    assert isinstance(first, MeasurementAck)
    outcomes = recorder.measure_many(
        [
            request(bracket, "S1", "1", "120.5", reason="re-seated", after=refuse_after_append),
            request(bracket, "S1", "1", "120.03"),  # 120.01 is still current: needs a reason
            request(bracket, "S1", "1", "120.04", reason="re-seated"),
        ]
    )
    assert isinstance(outcomes[0], Refused)
    assert isinstance(outcomes[1], RecordingError) and "give a reason" in outcomes[1].message
    assert isinstance(outcomes[2], MeasurementAck) and outcomes[2].supersedes == first.uuid
    current = store.query("SELECT value FROM current_measurements")
    assert [row["value"] for row in current] == ["120.04"]


def answers(db: LocalStore | Transaction, lot: str, serial: str) -> tuple:
    """What the named reads answer: from SQLite itself when ``db`` is the store, from the part
    cache when it is a write transaction."""
    inspection = inspections.latest_inspection(db, lot, serial)
    if inspection is None:
        return None, None, None, None
    verdicts = inspections.current_verdicts(db, lot, serial, inspection)
    measured = {
        char: inspections.current_measurement(db, lot, serial, char, inspection) for char in GOOD
    }
    return inspection, verdicts, measured, inspections.current_result(db, inspection)


@pytest.mark.parametrize("seed", range(6))
def test_the_transaction_answers_every_read_as_sqlite_does(store, bracket: PartSpec, seed):
    rng = random.Random(seed)
    recorder = Recorder(store)
    serials = [f"S{n}" for n in range(4)]
    # Some parts exist before the transaction, closed or not.
    recorder.measure_many([request(bracket, "S0", c, v) for c, v in GOOD.items()])
    recorder.measure_many([request(bracket, "S1", "1", "120.01")])
    with store.transaction() as tx:
        for serial in serials:  # read before anything is written: loaded from SQLite
            assert answers(tx, "L1", serial) == answers(store, "L1", serial)
        for _ in range(40):
            serial = rng.choice(serials)
            char = rng.choice(list(GOOD))
            value = rng.choice([GOOD, BAD])[char]
            reason = rng.choice([None, "re-measured"])
            after = refuse_after_append if rng.random() < 0.15 else None
            item = recorder._prepare(
                request(bracket, serial, char, value, reason=reason, after=after)
            )
            try:
                with tx.savepoint():
                    recorder._write(tx, item)
            except InspectStationError:
                pass
            for other in serials:
                assert answers(tx, "L1", other) == answers(store, "L1", other)
    assert store.verify().ok


def test_a_manual_reason_is_checked_on_every_line_of_a_group(store, bracket: PartSpec):
    def manual(serial: str, reason: str) -> Measurement:
        return dataclasses.replace(
            request(bracket, serial, "1", "120.01"), source=ManualSource(reason)
        )

    hostile = "dial\x1b[2J gauge"
    outcomes = Recorder(store).measure_many(
        [
            manual("S1", "dial"),
            manual("S2", hostile),
            manual("S3", "dial"),
            manual("S4", hostile),  # refused again: a refusal is never remembered as passed
            manual("S5", " "),
        ]
    )
    assert [type(o).__name__ for o in outcomes] == [
        "MeasurementAck",
        "TextError",
        "MeasurementAck",
        "TextError",
        "ReadingError",
    ]
    assert "manual entry reason" in str(outcomes[1]) and str(outcomes[1]) == str(outcomes[3])
    serials = [row["serial"] for row in store.query("SELECT serial FROM measurements")]
    assert serials == ["S1", "S3"]
