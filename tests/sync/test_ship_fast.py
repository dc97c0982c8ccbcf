"""Shipping fast: to a store that checks every record itself the station does not repeat that
work (a record the database refuses is still named with its seq and reason), and records that
trickle in while the station records ship together instead of one transaction each."""

from __future__ import annotations

import itertools
import threading
import time
from types import SimpleNamespace

import pytest

from inspect_station.store import journal as jn
from inspect_station.sync import IngestRefused, Refusal, Shipper, open_central
from inspect_station.sync import batch as batches
from inspect_station.sync import shipper as shipping
from inspect_station.sync.batch import LOCAL_COLUMNS, diagnose, prepare_rows


@pytest.fixture
def pg_url(pg_central_database) -> str:
    """An initialised, empty PostgreSQL central store."""
    return pg_central_database.url


def _no_rehash(*_args, **_kwargs):
    raise AssertionError("the station re-hashed a record the database checks itself")


@pytest.mark.postgres
def test_postgresql_is_sent_the_records_as_stored_and_holds_them_all(
    pg_url, make_station, monkeypatch: pytest.MonkeyPatch
):
    store = make_station("BENCH-1", 600)
    monkeypatch.setattr(batches, "record_digest", _no_rehash)
    summary = Shipper(store, pg_url, batch_size=128).ship()
    assert summary.head_seq == store.head()[0] and summary.inserted == store.head()[0]
    with open_central(pg_url) as central:
        held = [(r["seq"], r["uuid"], r["hash"], r["body"]) for r in central.records("BENCH-1")]
    assert held == [(r["seq"], r["uuid"], r["hash"], r["body"]) for r in store.records()]


@pytest.mark.postgres
def test_a_record_postgresql_refuses_is_named_by_seq_and_reason(pg_url, make_station):
    store = make_station("BENCH-1", 300)
    store.conn.execute("DROP TRIGGER journal_no_update")
    body = store.conn.execute("SELECT body FROM journal WHERE seq = 170").fetchone()[0]
    tampered = body.replace('"LOT-SYNC"', '"LOT-EDIT"')
    assert tampered != body
    store.conn.execute("UPDATE journal SET body = ? WHERE seq = 170", (tampered,))
    with pytest.raises(IngestRefused) as info:
        Shipper(store, pg_url, batch_size=100).ship()
    assert (info.value.reason, info.value.seq) == (Refusal.BAD_HASH, 170)
    assert "seq 170 of station BENCH-1 does not match its hash" in info.value.message
    with open_central(pg_url) as central:
        assert central.head("BENCH-1")[0] == 100  # the good batch before it is in, no more


def test_without_rehash_the_links_are_still_checked_and_diagnose_finds_a_bad_body(make_station):
    store = make_station("BENCH-1", 20)
    rows = [tuple(r[k] for k in LOCAL_COLUMNS) for r in store.query("SELECT * FROM journal")]
    broken = list(rows)
    broken[6] = (*rows[6][:6], jn.GENESIS, *rows[6][7:])
    with pytest.raises(IngestRefused) as info:
        prepare_rows("BENCH-1", broken, rehash=False)
    assert (info.value.reason, info.value.seq) == (Refusal.BROKEN_LINK, 7)
    bad_body = list(rows)
    bad_body[4] = (*rows[4][:8], "{not json")
    light = prepare_rows("BENCH-1", bad_body, rehash=False)  # passed on: the database checks
    assert not light.rehashed and light.journal[4][8] == "{not json"
    problem = diagnose(light)
    assert problem is not None and (problem.reason, problem.seq) == (Refusal.MALFORMED, 5)
    assert diagnose(prepare_rows("BENCH-1", rows, rehash=False)) is None


def test_records_woken_for_one_after_another_wait_for_the_linger_to_ship_together(
    make_station, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    store = make_station("BENCH-1", 12)
    shipper = Shipper(store, f"sqlite:///{tmp_path / 'central.db'}", linger=0.5)
    ticks = itertools.count()
    clock = [0.0]

    def monotonic() -> float:  # each look at the clock is 10 ms later
        clock[0] = next(ticks) * 0.01
        return clock[0]

    monkeypatch.setattr(shipping, "time", SimpleNamespace(monotonic=monotonic, sleep=time.sleep))
    shipper.wake()  # a reading was just committed, right after the last shipping
    shipper._wait_for_records(threading.Event())
    assert clock[0] >= 0.5  # it waited for the readings that follow, not one batch each
    eager = Shipper(store, f"sqlite:///{tmp_path / 'central.db'}", linger=0.0)
    start = clock[0]
    eager.wake()
    eager._wait_for_records(threading.Event())
    assert clock[0] - start < 0.1  # without a linger it goes at once
