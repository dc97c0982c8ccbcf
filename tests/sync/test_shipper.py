"""The shipper: batches, acknowledgement after commit, resume, refusals, back-off, status."""

from __future__ import annotations

import random
import shutil
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from backlog import fill

from inspect_station.store import LocalStore
from inspect_station.sync import (
    Backoff,
    CentralUnavailable,
    IngestRefused,
    Refusal,
    Shipper,
    SyncState,
    SyncStatus,
    open_central,
    parse_central_url,
)
from inspect_station.sync.central import CentralStore

FAST = Backoff(initial=0.01, maximum=0.05)


class Flaky:
    """A real central store whose connection fails on cue (the network, not the data, fails)."""

    def __init__(self, central: CentralStore, fail_after_commit: set[int] = frozenset()) -> None:
        self.central = central
        self.fail_after_commit = set(fail_after_commit)
        self.batches = 0

    def head(self, station: str) -> tuple[int, str]:
        return self.central.head(station)

    def ingest_prepared(self, batch):
        self.batches += 1
        result = self.central.ingest_prepared(batch)
        if self.batches in self.fail_after_commit:
            raise CentralUnavailable("The connection dropped before the commit was confirmed.")
        return result

    def close(self) -> None:
        self.central.close()


def held(central_url: str, station: str) -> list[tuple[int, str, str]]:
    with open_central(central_url) as central:
        return [(r["seq"], r["uuid"], r["hash"]) for r in central.records(station)]


def local(store: LocalStore) -> list[tuple[int, str, str]]:
    return [(r["seq"], r["uuid"], r["hash"]) for r in store.records()]


def test_ships_the_backlog_in_batches_and_acknowledges_it(central_url, make_station):
    store = make_station("BENCH-1", 2500)
    n = store.head()[0]
    seen = []
    shipper = Shipper(store, central_url, batch_size=400)
    assert shipper.status().unsynced == n and shipper.status().last_success is None
    summary = shipper.ship(progress=lambda result: seen.append(result.head_seq))
    assert (summary.inserted, summary.skipped, summary.head_seq) == (n, 0, n)
    assert summary.batches == len(seen) == -(-n // 400)
    assert seen == sorted(seen) and seen[-1] == n
    assert held(central_url, "BENCH-1") == local(store)
    state = store.sync_state(parse_central_url(central_url).identity)
    assert (state["acked_seq"], state["acked_hash"], state["last_error"]) == (
        n,
        store.head()[1],
        None,
    )
    status = Shipper(store, central_url).status()
    assert status.unsynced == 0 and status.last_success is not None
    again = Shipper(store, central_url).ship()
    assert (again.inserted, again.batches) == (0, 0)


def test_a_batch_committed_but_not_acknowledged_is_not_sent_twice(central_url, make_station):
    store = make_station("BENCH-1", 1000)
    n = store.head()[0]
    key = parse_central_url(central_url).identity
    flaky: list[Flaky] = []

    def connect(url):
        flaky.append(Flaky(open_central(url), fail_after_commit={2}))
        return flaky[-1]

    with pytest.raises(CentralUnavailable):
        Shipper(store, central_url, batch_size=300, connect=connect).ship()
    # Central committed 600 records; the station acknowledged only the first 300.
    assert store.sync_state(key)["acked_seq"] == 300
    assert len(held(central_url, "BENCH-1")) == 600
    assert "dropped" in store.sync_state(key)["last_error"]
    summary = Shipper(store, central_url, batch_size=300).ship()
    assert (summary.inserted, summary.skipped) == (n - 600, 0)  # resumed from central's head
    assert held(central_url, "BENCH-1") == local(store)
    assert store.sync_state(key)["acked_seq"] == n and store.sync_state(key)["last_error"] is None


def test_transient_failures_are_retried_with_back_off(central_url, make_station):
    store = make_station("BENCH-1", 900)
    attempts = []

    def connect(url):
        attempts.append(url)
        return Flaky(open_central(url), fail_after_commit={1} if len(attempts) == 1 else set())

    summary = Shipper(store, central_url, 200, backoff=FAST, connect=connect).ship(attempts=5)
    assert summary.head_seq == store.head()[0]
    assert len(attempts) == 2
    assert held(central_url, "BENCH-1") == local(store)


def test_stops_after_its_attempts_with_one_sentence(central_url, make_station, tmp_path: Path):
    store = make_station("BENCH-1", 10)

    def unreachable(url):
        raise CentralUnavailable("Cannot connect to the central store: connection refused.")

    shipper = Shipper(store, central_url, backoff=FAST, connect=unreachable)
    with pytest.raises(CentralUnavailable, match="connection refused"):
        shipper.ship(attempts=3)
    assert shipper.status().last_error == "Cannot connect to the central store: connection refused."


def test_a_refusal_is_kept_as_the_last_error_and_shown(central_url, make_station):
    store = make_station("BENCH-1", 700)
    store.conn.execute("DROP TRIGGER journal_no_update")
    store.conn.execute("UPDATE journal SET ts = '2020-01-01T00:00:00.000000Z' WHERE seq = 450")
    with pytest.raises(IngestRefused) as info:
        Shipper(store, central_url, batch_size=200).ship()
    assert (info.value.reason, info.value.seq) == (Refusal.BAD_HASH, 450)
    assert len(held(central_url, "BENCH-1")) == 400  # the good batches before it are in
    state = store.sync_state(parse_central_url(central_url).identity)
    assert (state["acked_seq"], state["last_error_kind"]) == (400, "bad hash")
    status = Shipper(store, central_url).status()  # a restarted station still shows it
    assert status.refusal is Refusal.BAD_HASH and status.unsynced == store.head()[0] - 400
    assert "seq 450 of station BENCH-1 does not match its hash" in status.summary()


def test_a_replaced_station_database_is_a_fork(central_url, make_station, tmp_path: Path):
    store = make_station("BENCH-1", 50)
    Shipper(store, central_url).ship()
    with LocalStore(tmp_path / "replaced.db", "BENCH-1") as replaced:
        for i in range(60):
            replaced.append("note", {"i": i})
        with pytest.raises(IngestRefused) as info:
            Shipper(replaced, central_url).ship()
        assert info.value.reason is Refusal.FORK
        assert "forked" in info.value.message
        with LocalStore(tmp_path / "short.db", "BENCH-1") as short:
            short.append("note", {})
            with pytest.raises(IngestRefused, match="beyond this station's last record"):
                Shipper(short, central_url).ship()


def test_a_central_store_restored_from_an_older_backup_gets_the_rest(make_station, tmp_path):
    store = make_station("BENCH-1", 600)
    url = f"sqlite:///{tmp_path / 'central.db'}"
    backed_up = Shipper(store, url, 100).ship().head_seq
    shutil.copy(tmp_path / "central.db", tmp_path / "backup.db")
    fill(store, store_spec(store), 1200)
    Shipper(store, url, 100).ship()
    (tmp_path / "central.db-wal").unlink(missing_ok=True)
    (tmp_path / "central.db-shm").unlink(missing_ok=True)
    shutil.copy(tmp_path / "backup.db", tmp_path / "central.db")
    assert len(held(url, "BENCH-1")) < store.head()[0]
    summary = Shipper(store, url, 100).ship()
    assert summary.inserted == store.head()[0] - backed_up
    assert held(url, "BENCH-1") == local(store)


def store_spec(store: LocalStore):
    from inspect_station.locations import shipped_specs_dir
    from inspect_station.spec import SpecLibrary

    return SpecLibrary.load([shipped_specs_dir()]).get("BRK-1042@C")


def _collect() -> tuple[list[SyncStatus], Callable[[SyncStatus], None], Callable]:
    statuses: list[SyncStatus] = []
    changed = threading.Condition()

    def on_status(status: SyncStatus) -> None:
        with changed:
            statuses.append(status)
            changed.notify_all()

    def wait_for(predicate: Callable[[SyncStatus], bool], timeout: float = 30) -> SyncStatus:
        with changed:
            assert changed.wait_for(lambda: statuses and predicate(statuses[-1]), timeout), (
                statuses[-3:]
            )
            return statuses[-1]

    return statuses, on_status, wait_for


def test_run_in_a_background_thread_reports_status(central_url, make_station):
    """The TUI's worker: run(stop, on_status) until stopped; status is small and immutable."""
    store = make_station("BENCH-1", 1500)
    statuses, on_status, wait_for = _collect()
    shipper = Shipper(store, central_url, batch_size=250, poll_interval=5.0)
    stop = threading.Event()
    worker = threading.Thread(target=shipper.run, args=(stop, on_status))
    worker.start()
    try:
        done = wait_for(lambda s: s.state is SyncState.UP_TO_DATE)
        assert done.unsynced == 0 and done.acked_seq == store.head()[0] == done.local_seq
        assert done.last_success is not None and done.last_error is None
        assert statuses[0].state is SyncState.STARTING
        assert any(s.state is SyncState.SYNCING for s in statuses)
        with pytest.raises(AttributeError):
            done.unsynced = 5  # type: ignore[misc]
        record = store.append("note", {"text": "recorded while the shipper idles"})
        shipper.wake()  # what the TUI does after a commit (else the next poll finds it)
        caught_up = wait_for(
            lambda s: s.state is SyncState.UP_TO_DATE and s.acked_seq == record["seq"]
        )
        assert caught_up.unsynced == 0
    finally:
        stop.set()
        worker.join(30)
    assert not worker.is_alive()
    assert statuses[-1].state is SyncState.STOPPED
    assert held(central_url, "BENCH-1") == local(store)


def test_run_survives_an_unreachable_central_store(central_url, make_station):
    store = make_station("BENCH-1", 300)
    statuses, on_status, wait_for = _collect()
    failures = [3]

    def connect(url):
        if failures[0]:
            failures[0] -= 1
            raise CentralUnavailable("Cannot connect to the central store: connection refused.")
        return open_central(url)

    shipper = Shipper(store, central_url, 100, backoff=FAST, poll_interval=0.05, connect=connect)
    stop = threading.Event()
    worker = threading.Thread(target=shipper.run, args=(stop, on_status))
    worker.start()
    try:
        wait_for(lambda s: s.state is SyncState.UP_TO_DATE)
    finally:
        stop.set()
        worker.join(30)
    offline = [s for s in statuses if s.state is SyncState.OFFLINE]
    assert len(offline) == 3
    assert all(s.last_error and "connection refused" in s.last_error for s in offline)
    assert all(s.unsynced == store.head()[0] for s in offline)
    assert all(0 < s.retry_in <= FAST.maximum for s in offline)
    assert "offline: Cannot connect" in offline[0].summary()
    assert held(central_url, "BENCH-1") == local(store)


def test_back_off_grows_exponentially_with_jitter():
    backoff = Backoff(initial=1.0, maximum=60.0, factor=2.0)
    rng = random.Random(7)
    for attempt, ceiling in [(0, 1), (1, 2), (3, 8), (5, 32), (6, 60), (40, 60)]:
        delays = {backoff.delay(attempt, rng) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) == 20  # jitter: no two stations wait the same


@pytest.mark.slow
def test_memory_stays_flat_whatever_the_backlog(make_station, tmp_path: Path):
    """Peak Python memory while shipping does not grow with the backlog (streamed in batches)."""
    peaks = []
    for size in (1_500, 9_000):
        store = make_station(f"MEM-{size}", size)
        url = f"sqlite:///{tmp_path / f'central-{size}.db'}"
        shipper = Shipper(store, url, batch_size=250)
        tracemalloc.start()
        try:
            shipper.ship()
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert peaks[1] < peaks[0] * 1.5, peaks
