"""Read commands leave a record as they found it: byte for byte, no file created beside it.

An auditor's copy may be a plain file, a file without write permission (0444), a file on a
read-only mount, or a crash-consistent copy taken with its write-ahead log; every read command
opens it read-only, never migrates it, never switches it to WAL, and creates nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from userkit import PINS, add_users

from inspect_station.cli import main
from inspect_station.config import GaugeAsset
from inspect_station.errors import StoreError
from inspect_station.recording import GaugeSource, ManualSource, Recorder
from inspect_station.records import LocalSource
from inspect_station.review.service import Review
from inspect_station.spec import PartSpec
from inspect_station.store import LocalStore

GOOD = {"1": "120.01", "2": "12.005", "3": "0.02", "4": "pass"}
CALIPER = GaugeAsset(
    asset="CAL-0042",
    profile="mitutoyo-ascii",
    port="loop://",
    unit="mm",
    serial_number="A1234567",
    certificate="CERT-2026-0042",
    calibrated_on=dt.date(2026, 3, 1),
    calibration_due=dt.date(2099, 3, 1),
)


def record_station(path: Path, bracket: PartSpec) -> tuple[str, int]:
    """A bench record with users, an accepted part and a reject: (reject uuid, head seq)."""
    with LocalStore(path, "BENCH-7") as store:
        add_users(store)
        recorder = Recorder(store)
        for serial, values in (("S1", GOOD), ("S2", {**GOOD, "1": "120.30"})):
            for char, value in values.items():
                recorder.measure(
                    spec=bracket,
                    lot="L-77",
                    serial=serial,
                    inspector="ann",
                    characteristic=char,
                    value=value,
                    source=GaugeSource(CALIPER) if char == "1" else ManualSource("dial"),
                    auto_close=serial == "S1",
                    lot_size=50,
                )
        reject = recorder.close_inspection(
            spec=bracket, lot="L-77", serial="S2", inspector="ann", defect_code="D01"
        )["uuid"]
        return reject, store.head()[0]


def fingerprint(folder: Path) -> dict[str, str]:
    """Name -> SHA-256 of every file in a folder."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def read_commands(db: Path, reject: str, out: Path) -> list[list[str]]:
    """Every command that only reads a record, pointed at ``db``."""
    return [
        ["verify", "--db", str(db)],
        ["export", "lot", "L-77", "--format", "csv", "--out", str(out / "l.csv"), "--db", str(db)],
        [
            "export",
            "lot",
            "L-77",
            "--format",
            "json",
            "--out",
            str(out / "l.json"),
            "--db",
            str(db),
        ],
        ["trace", "gauge", "CAL-0042", "--db", str(db)],
        ["rejects", "list", "--all", "--db", str(db)],
        ["rejects", "show", reject[:8], "--db", str(db)],
        ["users", "list", "--db", str(db)],
    ]


@pytest.fixture
def auditor(tmp_path: Path) -> Path:
    """An auditor's station.toml: another station, whose own record does not exist."""
    path = tmp_path / "auditor.toml"
    path.write_text(f'station = "AUDIT-9"\ndb = "{tmp_path / "audit" / "audit.db"}"\n')
    return path


def run_all(auditor: Path, commands: list[list[str]]) -> list[str]:
    """Run each command in-process; their outputs (each must exit 0)."""
    outputs = []
    for command in commands:
        result = CliRunner().invoke(main, ["--config", str(auditor), *command])
        assert result.exit_code == 0, f"{command}: {result.output}"
        outputs.append(result.output)
    return outputs


@contextlib.contextmanager
def read_only_mount(folder: Path) -> Iterator[Path]:
    """``folder`` bind-mounted read-only at a sibling path (root only; skipped otherwise)."""
    target = folder.parent / (folder.name + "-ro")
    target.mkdir()
    mounted = subprocess.run(
        ["mount", "--bind", folder, target], capture_output=True, text=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"a read-only bind mount is not allowed here: {mounted.stderr.strip()}")
    try:
        remount = subprocess.run(
            ["mount", "-o", "remount,bind,ro", target], capture_output=True, text=True
        )
        if remount.returncode != 0:
            pytest.skip(f"a bind mount cannot be made read-only here: {remount.stderr.strip()}")
        yield target
    finally:
        subprocess.run(["umount", target], check=False)
        target.rmdir()


@pytest.mark.parametrize("case", ["plain", "mode-0444", "read-only-mount"])
def test_every_read_command_leaves_the_file_untouched(
    case: str, tmp_path: Path, bracket: PartSpec, auditor: Path
):
    copies, out = tmp_path / "copies", tmp_path / "out"
    copies.mkdir()
    out.mkdir()
    reject, head = record_station(copies / "bench7.db", bracket)
    assert sorted(p.name for p in copies.iterdir()) == ["bench7.db"]  # a closed record
    with contextlib.ExitStack() as stack:
        folder = copies
        if case == "mode-0444":
            os.chmod(copies / "bench7.db", 0o444)
        elif case == "read-only-mount":
            folder = stack.enter_context(read_only_mount(copies))
        db = folder / "bench7.db"
        before = fingerprint(folder)
        outputs = run_all(auditor, read_commands(db, reject, out))
        assert fingerprint(folder) == before  # same files, same bytes
    assert f"{db}: OK: {head} records" in outputs[0]
    assert "S2" in outputs[4] and "awaiting disposition" in outputs[4]
    assert "ann" in outputs[6] and "PIN set" in outputs[6]
    assert not (tmp_path / "audit").exists()  # the auditor's own record was not made
    assert (copies / "bench7.db").read_bytes()[18:20] == b"\x02\x02"  # still a WAL-mode file


@pytest.mark.parametrize("files", [("-wal",), ("-wal", "-shm")])
def test_a_copy_taken_with_its_write_ahead_log_is_read_whole_and_left_as_it_is(
    files: tuple[str, ...], tmp_path: Path, bracket: PartSpec, auditor: Path
):
    bench, copies, out = tmp_path / "bench", tmp_path / "copies", tmp_path / "out"
    for folder in (bench, copies, out):
        folder.mkdir()
    reject, _ = record_station(bench / "bench7.db", bracket)
    with LocalStore(bench / "bench7.db", "BENCH-7") as live:  # the station is still running
        live.conn.execute("PRAGMA wal_autocheckpoint = 0")
        Recorder(live).measure(
            spec=bracket,
            lot="L-77",
            serial="S3",
            inspector="ann",
            characteristic="1",
            value="120.02",
            source=ManualSource("dial"),
        )
        head = live.head()[0]
        for suffix in ("", *files):  # a crash-consistent copy: the file, its log (and index)
            shutil.copyfile(bench / f"bench7.db{suffix}", copies / f"bench7.db{suffix}")
    assert (copies / "bench7.db-wal").stat().st_size > 0
    before = fingerprint(copies)
    outputs = run_all(auditor, read_commands(copies / "bench7.db", reject, out))
    after = fingerprint(copies)
    # The record and its log are never written, nothing is created beside them; a copied
    # -shm (a shared-memory index SQLite rebuilds at will, not part of the record) may be used.
    assert after.keys() == before.keys()
    for name in ("bench7.db", "bench7.db-wal"):
        assert after[name] == before[name]
    assert f"OK: {head} records" in outputs[0]  # the records still in the log were read


def test_reading_the_record_of_a_running_station_sees_its_latest_commit(
    tmp_path: Path, bracket: PartSpec, auditor: Path
):
    path = tmp_path / "bench7.db"
    record_station(path, bracket)
    with LocalStore(path, "BENCH-7") as live:
        live.append("note", {"text": "still writing"})
        (output,) = run_all(auditor, [["verify", "--db", str(path)]])
        assert f"OK: {live.head()[0]} records" in output
        live.append("note", {"text": "and writing after the reader"})
        assert live.verify().ok


def test_a_record_opened_to_read_refuses_every_write(tmp_path: Path, bracket: PartSpec):
    path = tmp_path / "bench7.db"
    record_station(path, bracket)
    before = fingerprint(tmp_path)
    with LocalStore.open_readonly(path) as copy:
        for write in (
            lambda: copy.append("note", {"text": "x"}),
            lambda: copy.set_sync_error("sqlite:///c.db", "down", "X", "2026-01-01T00:00:00Z"),
            lambda: copy.set_sync_acknowledged("sqlite:///c.db", 1, "0" * 64, "t"),
        ):
            with pytest.raises(StoreError, match="opened to read only; nothing was written"):
                write()
        with pytest.raises(sqlite3.OperationalError):
            copy.conn.execute("DELETE FROM sync_state")  # not even behind the store's back
    assert fingerprint(tmp_path) == before


def test_review_on_a_copy_lists_and_shows_rejects_and_cannot_sign_into_it(
    tmp_path: Path, bracket: PartSpec
):
    path = tmp_path / "bench7.db"
    reject, _ = record_station(path, bracket)
    before = fingerprint(tmp_path)
    with LocalStore.open_readonly(path) as copy:
        review = Review(LocalSource(copy), copy)
        (waiting,) = review.queue()
        assert review.detail(waiting.reject[:8]).summary.serial == "S2"
        with pytest.raises(StoreError, match="read only"):
            review.sign(reject, "scrap", "cracked", user_id="sam", pin=PINS["sam"])
    assert fingerprint(tmp_path) == before


@pytest.mark.parametrize(
    "command",
    [
        ["verify"],
        ["export", "lot", "L-77"],
        ["trace", "gauge", "CAL-0042"],
        ["rejects", "list"],
        ["rejects", "show", "abcdef12"],
    ],
)
def test_read_commands_on_a_station_without_a_record_create_nothing(
    auditor: Path, tmp_path: Path, command: list[str]
):
    result = CliRunner().invoke(main, ["--config", str(auditor), *command])
    assert result.exit_code == 2
    assert (
        result.output.strip()
        == f"Error: There is no local record at {tmp_path / 'audit' / 'audit.db'}."
    )
    assert not (tmp_path / "audit").exists()


def test_users_list_without_a_record_says_how_to_add_the_first_administrator(
    auditor: Path, tmp_path: Path
):
    result = CliRunner().invoke(main, ["--config", str(auditor), "users", "list"])
    assert result.exit_code == 0
    assert f"No users: there is no local record at {tmp_path / 'audit' / 'audit.db'} yet." in (
        result.output
    )
    assert "Add the first administrator: inspect-station users add ID" in result.output
    assert "--role admin" in result.output
    assert not (tmp_path / "audit").exists()


def test_listing_a_central_store_s_rejects_creates_no_local_record(auditor: Path, tmp_path: Path):
    from inspect_station.sync import open_central

    url = f"sqlite:///{tmp_path / 'central.db'}"
    with open_central(url) as central:
        central.migrate()
    for command in (["rejects", "list"], ["rejects", "list", "--all", "--json"]):
        result = CliRunner().invoke(main, ["--config", str(auditor), *command, "--central", url])
        assert result.exit_code == 0, result.output
    assert not (tmp_path / "audit").exists()
