"""Group commit: measurements waiting together share one durable commit, each refused alone.

``Recorder.measure_many`` writes several measurements in one transaction (one fsync) and
returns only after its commit; ``record --stdin`` groups the lines already waiting; a lone
line is a group of one, committed at once. ``LineBatches`` is the reading side.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rejectkit import GOOD, request
from userkit import PINS, add_users

from inspect_station.cli import main
from inspect_station.cli.linebatch import LineBatches
from inspect_station.errors import InspectStationError, ReadingError
from inspect_station.recording import (
    MeasurementAck,
    Recorder,
    RecordingError,
)
from inspect_station.spec import PartSpec
from inspect_station.store import LocalStore


def commits(store: LocalStore) -> list[str]:
    """The COMMIT statements the store's connection runs from now on."""
    seen: list[str] = []
    store.conn.set_trace_callback(lambda sql: seen.append(sql) if sql == "COMMIT" else None)
    return seen


def test_a_group_is_one_commit_and_every_ack_is_in_the_record(store, bracket: PartSpec):
    recorder = Recorder(store)
    seen = commits(store)
    group = [request(bracket, f"S{n}", char, v) for n in range(3) for char, v in GOOD.items()]
    outcomes = recorder.measure_many(group)
    assert len(seen) == 1
    assert all(isinstance(o, MeasurementAck) for o in outcomes)
    rows = store.query("SELECT uuid, seq, serial, characteristic, value FROM measurements")
    assert [(r["serial"], r["characteristic"], r["value"]) for r in rows] == [
        (g.serial, g.characteristic, g.value) for g in group
    ]
    assert [o.uuid for o in outcomes] == [r["uuid"] for r in rows]
    # every part was closed by its last measurement, inside the same group
    assert [o.result for o in outcomes if o.result] == ["accept"] * 3
    assert store.verify().ok


def test_a_refused_measurement_is_rolled_back_alone(store, bracket: PartSpec):
    recorder = Recorder(store)
    outcomes = recorder.measure_many(
        [
            request(bracket, "S1", "1", "120.01"),
            request(bracket, "S1", "2", "abc"),  # not a number: refused before the write
            request(bracket, "S1", "1", "120.02"),  # a correction without a reason: refused
            request(bracket, "S2", "1", "120.03"),
            request(bracket, "S1", "1", "120.04", reason="part was not seated"),
        ]
    )
    kinds = [type(o) for o in outcomes]
    assert kinds[0] is MeasurementAck and kinds[3] is MeasurementAck and kinds[4] is MeasurementAck
    assert isinstance(outcomes[1], ReadingError)
    assert isinstance(outcomes[2], RecordingError) and "give a reason" in outcomes[2].message
    # The chain continues where the refused ones would have been: no gap, no orphan record.
    seqs = [o.seq for o in outcomes if isinstance(o, MeasurementAck)]
    assert seqs == sorted(seqs)
    assert outcomes[4].supersedes == outcomes[0].uuid
    values = store.query("SELECT value FROM measurements ORDER BY seq")
    assert [v["value"] for v in values] == ["120.01", "120.03", "120.04"]
    assert store.verify().ok


def test_a_savepoint_undoes_its_records_and_the_chain_head(store):
    with store.transaction() as tx:
        kept = tx.append("note", {"text": "kept"})
        with pytest.raises(InspectStationError), tx.savepoint():
            tx.append("note", {"text": "undone"})
            tx.append("note", {"text": "undone too"})
            raise InspectStationError("refused")
        after = tx.append("note", {"text": "after"})
    assert after["seq"] == kept["seq"] + 1 and after["prev_hash"] == kept["hash"]
    assert [r["body"]["text"] for r in store.records()] == ["kept", "after"]
    assert store.verify().ok


def test_an_unexpected_error_acknowledges_nothing_of_the_group(
    store, bracket: PartSpec, monkeypatch
):
    recorder = Recorder(store)
    original = recorder._write
    calls = 0

    def failing(tx, item, *rest):
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError("disk gone")
        return original(tx, item, *rest)

    monkeypatch.setattr(recorder, "_write", failing)
    with pytest.raises(OSError):
        recorder.measure_many([request(bracket, "S1", c, v) for c, v in GOOD.items()])
    assert store.head()[0] == 0


# -- record --stdin ------------------------------------------------------------------------


@pytest.fixture
def station(tmp_path: Path) -> tuple[Path, Path]:
    """(config, record) of a station whose inspector ann may record every part."""
    config = tmp_path / "station.toml"
    config.write_text('station = "BENCH-G"\n')
    db = tmp_path / "station.db"
    with LocalStore(db, "BENCH-G") as store:
        add_users(store, [("ann", "Ann Lee", "inspector", PINS["ann"], ["*"])])
    return config, db


RECORD = ["record", "--stdin", "--spec", "BRK-1042", "--lot", "L1", "--inspector", "ann"]


@pytest.fixture
def transactions(monkeypatch) -> Iterator[list[int]]:
    """How many measurements each write transaction of the store committed."""
    sizes: list[int] = []
    original = LocalStore.transaction

    @contextlib.contextmanager
    def counting(self):
        with original(self) as tx:
            yield tx
        sizes.append([r["kind"] for r in tx.appended].count("measurement"))

    monkeypatch.setattr(LocalStore, "transaction", counting)
    yield sizes


def test_record_stdin_commits_waiting_lines_together(station, transactions):
    config, db = station
    lines = []
    for part in range(5):
        for char, value in GOOD.items():
            lines.append(json.dumps({"serial": f"P{part}", "characteristic": char, "value": value}))
    lines.insert(7, '{"serial": "P1", "characteristic": "2", "value": 12.005}')  # refused alone
    stdin = ("\n".join(lines) + "\n").encode()
    result = CliRunner().invoke(
        main,
        ["--config", str(config), *RECORD, "--db", str(db)],
        input=stdin,
    )
    assert result.exit_code == 2, result.output
    acks = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(acks) == 20
    assert [a["seq"] for a in acks] == sorted(a["seq"] for a in acks)
    assert result.stderr.strip() == (
        'Error: stdin line 8: "value" must be JSON text such as "12.345" (a JSON number loses '
        "digits), not a number."
    )
    # All 21 lines were waiting at once: one commit holds the 20 measurements.
    assert transactions == [20]
    with LocalStore.open_readonly(db) as store:
        assert store.verify().ok
        assert len(store.query("SELECT * FROM results")) == 5


# -- LineBatches -----------------------------------------------------------------------------


@pytest.fixture
def pipe() -> Iterator[tuple[object, int]]:
    """(read end as a binary file, write end's descriptor) of an OS pipe."""
    read_fd, write_fd = os.pipe()
    reader = os.fdopen(read_fd, "rb")
    yield reader, write_fd
    reader.close()
    with contextlib.suppress(OSError):
        os.close(write_fd)


def test_a_batch_is_what_is_waiting_and_a_partial_line_does_not_hold_it(pipe):
    reader, write_fd = pipe
    batches = LineBatches(reader, max_line=100)
    os.write(write_fd, b"a\nb\nc\npartial")
    assert next(batches) == [(1, b"a\n"), (2, b"b\n"), (3, b"c\n")]
    os.write(write_fd, b" line\n")
    assert next(batches) == [(4, b"partial line\n")]
    # A lone line is a batch of one, returned as soon as it is there: nothing waits for more.
    got: list = []
    taker = threading.Thread(target=lambda: got.append(next(batches)))
    taker.start()
    os.write(write_fd, b"lone\n")
    taker.join(timeout=10)
    assert got == [[(5, b"lone\n")]]
    os.write(write_fd, b"last, without its newline")
    os.close(write_fd)
    assert next(batches) == [(6, b"last, without its newline")]
    with pytest.raises(StopIteration):
        next(batches)


def test_an_overlong_line_is_skipped_without_holding_it(pipe):
    reader, write_fd = pipe
    batches = LineBatches(reader, max_line=10)
    writer = threading.Thread(
        target=lambda: (
            os.write(write_fd, b"ok\n" + b"x" * 200_000 + b"\nfine\n"),
            os.close(write_fd),
        )
    )
    writer.start()
    lines = [line for batch in batches for line in batch]
    writer.join()
    assert lines == [(1, b"ok\n"), (2, None), (3, b"fine\n")]


def test_an_overlong_last_line_without_its_newline_is_refused_too(pipe):
    reader, write_fd = pipe
    writer = threading.Thread(
        target=lambda: (os.write(write_fd, b"ok\n" + b"x" * 100_000), os.close(write_fd))
    )
    writer.start()
    lines = [line for batch in LineBatches(reader, max_line=10) for line in batch]
    writer.join()
    assert lines == [(1, b"ok\n"), (2, None)]


def test_a_batch_holds_at_most_its_limit(pipe):
    reader, write_fd = pipe
    os.write(write_fd, b"".join(b"%d\n" % n for n in range(7)))
    os.close(write_fd)
    batches = LineBatches(reader, max_line=100, limit=3)
    assert [len(b) for b in batches] == [3, 3, 1]
