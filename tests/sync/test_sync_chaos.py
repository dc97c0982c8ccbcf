"""Chaos: connections terminated, the server restarted, shippers SIGKILLed -- none lost, none twice.

A station ships a large backlog through the real command (``inspect-station sync --watch`` in a
subprocess, as the station's own role on PostgreSQL) while the test terminates its database
connection (``pg_terminate_backend``), restarts or stops-then-starts the server, or SIGKILLs the
shipper and starts a new one. The faults are injected by record count, not by time: each when
the central store holds a set share of the backlog, with the shipper frozen (SIGSTOP) wherever
it was -- mid-batch, mid-commit, waiting for an answer -- so every fault happens while records
are moving, however fast or loaded the machine. Afterwards the central store must hold exactly
the station's records: same count, same seqs, uuids and hashes, every chain and projection
verified.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from pg import PgServer, start_private_server
from procs import Children

from inspect_station.store import LocalStore
from inspect_station.sync import CentralUnavailable, Shipper, open_central
from inspect_station.sync.central_pg import APPLICATION_NAME
from inspect_station.sync.verify import verify_central_store

BACKLOG = 50_000


class ShipperProcess:
    """``inspect-station sync --watch`` in a subprocess; its output kept for diagnostics."""

    log: ClassVar[deque[str]] = deque(maxlen=400)
    """The last lines of every shipper process started, in order."""

    def __init__(self, children: Children, config: Path, url: str) -> None:
        self.proc = children.popen(
            [
                sys.executable,
                "-m",
                "inspect_station",
                "--config",
                str(config),
                "sync",
                "--watch",
                "--central",
                url,
                "--batch-size",
                "100",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: deque[str] = deque(maxlen=40)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            self.log.append(line.rstrip())

    def freeze(self) -> None:
        """Stop the shipper where it is (SIGSTOP): no record moves until ``thaw``."""
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """Let a frozen shipper go on (SIGCONT)."""
        self.proc.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGCONT)
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(60)
        self.reader.join(10)
        return code


def marks(total: int, faults: int) -> list[int]:
    """Record counts at which to inject ``faults`` faults: evenly spaced, the last one well
    before the end of the backlog, so that records are still moving when it happens."""
    return [total * (i + 1) // (faults + 2) for i in range(faults)]


def wait_for_head(url: str, station: str, mark: int, deadline: float, shipper) -> int:
    """Wait until the central store holds at least ``mark`` records of the station."""
    while (head := central_head(url, station)) < mark:
        assert time.monotonic() < deadline, (mark, head, list(shipper.lines))
        time.sleep(0.02)
    return head


def central_head(url: str, station: str, timeout: float = 60) -> int:
    """The station's head seq in the central store, waiting out a restarting server."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open_central(url) as central:
                return central.head(station)[0]
        except CentralUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def assert_exactly_the_stations_records(admin_url: str, stores: list[LocalStore]) -> None:
    with open_central(admin_url) as central:
        summaries = {s.station: s for s in central.stations()}
        for store in stores:
            local = [(r["seq"], r["uuid"], r["hash"]) for r in store.records()]
            held = [(r["seq"], r["uuid"], r["hash"]) for r in central.records(store.station)]
            assert len(held) == len(local) == summaries[store.station].records
            assert held == local
            assert (summaries[store.station].head_seq, summaries[store.station].head_hash) == (
                store.head()
            )
        reports = verify_central_store(central)
        assert [r.station for r in reports] == sorted(s.station for s in stores)
        assert all(r.ok for r in reports), [r.line() for r in reports if not r.ok]
        for store in stores:
            local_rows = store.query("SELECT count(*) AS n FROM measurements")[0]["n"]
            held_rows = central.projection_rows("measurements", store.station, 1, 10**9)
            assert len(held_rows) == local_rows


@pytest.fixture
def own_server() -> Iterator[PgServer]:
    """A PostgreSQL server of this test alone: it is stopped and restarted under the shipper
    (the run's shared server serves other workers' tests meanwhile)."""
    server = start_private_server()
    try:
        yield server
    finally:
        server.destroy()


@pytest.mark.slow
@pytest.mark.postgres
def test_chaos_postgres(own_server: PgServer, make_station, tmp_path, children):
    pg_server = own_server
    database = pg_server.create_database()
    admin = pg_server.url(database)
    with open_central(admin) as central:
        central.migrate()
        creds = central.add_station("CHAOS-1")
    store = make_station("CHAOS-1", BACKLOG)
    total = store.head()[0]
    config = tmp_path / "station.toml"
    config.write_text(f'station = "CHAOS-1"\ndb = "{store.path}"\n')

    shipper = ShipperProcess(children, config, creds.url)
    events: list[str] = []
    deadline = time.monotonic() + 150
    actions = [
        "terminate", "kill", "restart", "terminate", "kill", "terminate",
        "stop-start", "terminate", "kill", "terminate", "kill", "terminate",
    ]  # fmt: skip
    try:
        for action, mark in zip(actions, marks(total, len(actions)), strict=True):
            wait_for_head(admin, "CHAOS-1", mark, deadline, shipper)
            shipper.freeze()  # wherever it is: mid-batch, mid-commit, waiting for an answer
            head = central_head(admin, "CHAOS-1")
            assert head < total, (events, head)  # records are still moving
            events.append(f"{action} at {head}")
            if action == "terminate":
                pg_server.terminate(database, APPLICATION_NAME)
            elif action == "kill":
                shipper.kill()
                shipper = ShipperProcess(children, config, creds.url)
            elif action == "restart":
                pg_server.restart()
            else:
                pg_server.ctl("stop")
                time.sleep(1.0)  # the shipper finds nobody there
                pg_server.ctl("start")
                pg_server.wait_ready()
            shipper.thaw()
        wait_for_head(admin, "CHAOS-1", total, deadline, shipper)
    finally:
        code = shipper.interrupt()
    assert code == 0, list(shipper.lines)
    assert len(events) == len(actions), events  # the chaos really happened while shipping
    assert any("up to date" in line for line in shipper.lines)
    assert sum("offline" in line for line in ShipperProcess.log) >= 3  # it felt the chaos
    assert_exactly_the_stations_records(admin, [store])
    state = store.sync_state(Shipper(store, creds.url).url.identity)
    assert state["acked_seq"] == total and state["last_error"] is None


@pytest.mark.slow
def test_chaos_sigkill_embedded(make_station, tmp_path, children):
    url = f"sqlite:///{tmp_path / 'central.db'}"
    store = make_station("CHAOS-2", BACKLOG // 2)
    total = store.head()[0]
    config = tmp_path / "station.toml"
    config.write_text(f'station = "CHAOS-2"\ndb = "{store.path}"\n')
    with open_central(url) as central:
        central.migrate()
    kills: list[int] = []
    shipper = ShipperProcess(children, config, url)
    deadline = time.monotonic() + 90
    try:
        for mark in marks(total, 8):
            wait_for_head(url, "CHAOS-2", mark, deadline, shipper)
            shipper.freeze()
            head = central_head(url, "CHAOS-2")
            assert head < total, (kills, head)  # records are still moving
            kills.append(head)
            shipper.kill()
            shipper = ShipperProcess(children, config, url)
        wait_for_head(url, "CHAOS-2", total, deadline, shipper)
    finally:
        code = shipper.interrupt()
    assert code == 0, list(shipper.lines)
    assert len(kills) == 8, kills
    assert_exactly_the_stations_records(url, [store])


@pytest.mark.slow
@pytest.mark.parametrize("same_station_twice", [False, True])
def test_stations_sync_concurrently(central_url, make_station, same_station_twice: bool):
    """Three stations (and, optionally, a second shipper of one of them) at the same time."""
    stores = [make_station(f"BENCH-{i}", 3000 + 500 * i) for i in range(1, 4)]
    url_for = {s.station: central_url for s in stores}
    if central_url.startswith("postgres"):
        with open_central(central_url) as central:
            for store in stores:
                url_for[store.station] = central.add_station(store.station).url
    jobs = [(s, url_for[s.station]) for s in stores]
    if same_station_twice:  # e.g. `inspect-station sync` while the TUI's worker runs
        jobs.append((LocalStore(stores[0].path, stores[0].station), url_for[stores[0].station]))
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def ship(store: LocalStore, url: str) -> None:
        try:
            start.wait()
            Shipper(store, url, batch_size=200).ship()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ship, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert_exactly_the_stations_records(central_url, stores)
    if same_station_twice:
        jobs[-1][0].close()
