"""Exports verify from the last verified checkpoint; ``verify --full`` re-verifies everything.

A full verification that finds the record in order records a checkpoint (seq + hash of the
head, in the user's data folder). An export then verifies only the records after it, and only
if the record still holds that hash at that seq: truncation below it and a chain re-hashed
since are reported as broken; an edit before it that left the hashes alone is what
``verify --full`` is for.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from inspect_station.cli import main
from inspect_station.recording import ManualSource, Recorder
from inspect_station.spec import PartSpec
from inspect_station.store import LocalStore, journal
from inspect_station.store.checkpoints import Checkpoints
from inspect_station.store.projections import TABLES

GOOD = {"1": "120.01", "2": "12.005", "3": "0.02", "4": "pass"}


def record_parts(db: Path, spec: PartSpec, serials: range) -> int:
    """Record complete parts of lot L1; the head seq after."""
    with LocalStore(db, "INC-1") as store:
        recorder = Recorder(store)
        for n in serials:
            for char, value in GOOD.items():
                recorder.measure(
                    spec=spec,
                    lot="L1",
                    serial=f"P{n}",
                    inspector="ann",
                    characteristic=char,
                    value=value,
                    source=ManualSource("dial"),
                    auto_close=True,
                )
        return store.head()[0]


def tamper(db: Path, sql: str, params: tuple = ()) -> None:
    """Edit the file behind the program's back (guard triggers dropped)."""
    with LocalStore(db, "INC-1") as store:
        for table in ("journal", *TABLES):
            store.conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            store.conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        store.conn.execute(sql, params)


def export(db: Path, tmp_path: Path, *extra: str) -> tuple[int, dict]:
    """``export lot L1 --format json``: (exit code, the export's verification of the chain)."""
    out = tmp_path / "L1.json"
    args = ["export", "lot", "L1", "--format", "json", "--db", str(db), "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--force", *extra])
    assert result.exit_code in (0, 1), result.output
    chains = json.loads(out.read_text())["verification"]["chains"]
    return result.exit_code, chains[0]


def verify(db: Path, *extra: str) -> tuple[int, str]:
    """``verify --db``: (exit code, output)."""
    result = CliRunner().invoke(main, ["verify", "--db", str(db), *extra])
    return result.exit_code, result.output


@pytest.fixture
def db(tmp_path: Path, bracket: PartSpec) -> Path:
    """A record of 10 parts (about 60 records), verified in full once: the checkpoint."""
    path = tmp_path / "station.db"
    record_parts(path, bracket, range(10))
    code, output = verify(path)
    assert code == 0 and "OK:" in output, output
    return path


def checkpoint(db: Path) -> int:
    found = Checkpoints().get("INC-1", db)
    assert found is not None
    return found.seq


def test_an_export_verifies_only_what_is_new_since_the_checkpoint(db, tmp_path, bracket):
    first = checkpoint(db)
    head = record_parts(db, bracket, range(10, 12))
    code, chain = export(db, tmp_path)
    assert code == 0 and chain["ok"]
    assert chain["verified_from"] == first
    assert chain["records"] == head - first
    # The checkpoint moved to the head: the next export re-hashes nothing.
    assert checkpoint(db) == head
    code, chain = export(db, tmp_path)
    assert (code, chain["records"], chain["verified_from"]) == (0, 0, head)
    # On request, the whole chain.
    code, chain = export(db, tmp_path, "--full-verify")
    assert (code, chain["records"], chain["verified_from"]) == (0, head, 0)


def test_without_a_checkpoint_an_export_verifies_everything(tmp_path, bracket):
    db = tmp_path / "fresh.db"
    head = record_parts(db, bracket, range(3))
    code, chain = export(db, tmp_path)
    assert (code, chain["records"], chain["verified_from"]) == (0, head, 0)
    assert checkpoint(db) == head
    # A copy elsewhere is another file: it starts with a full verification.
    copy = tmp_path / "copy" / "fresh.db"
    copy.parent.mkdir()
    shutil.copyfile(db, copy)
    code, chain = export(copy, tmp_path)
    assert (code, chain["records"], chain["verified_from"]) == (0, head, 0)


def test_tampering_after_the_checkpoint_is_found_by_the_export(db, tmp_path, bracket):
    first = checkpoint(db)
    record_parts(db, bracket, range(10, 12))
    with LocalStore(db, "INC-1") as store:
        row = store.query("SELECT body FROM journal WHERE seq = ?", (first + 3,))[0]
    body = {**json.loads(row["body"]), "inspector": "mallory"}
    tamper(db, "UPDATE journal SET body = ? WHERE seq = ?", (json.dumps(body), first + 3))
    code, chain = export(db, tmp_path)
    assert code == 1 and not chain["ok"] and chain["bad_seq"] == first + 3
    assert "hash does not match" in chain["reason"]
    assert checkpoint(db) == first  # a broken verification moves no checkpoint


def test_tampering_before_the_checkpoint_is_found_by_verify_full(db, tmp_path):
    tamper(db, "UPDATE measurements SET value = '120.09' WHERE seq = 4")
    # The export re-hashes only what is new: an edit that left every hash alone is not seen...
    code, chain = export(db, tmp_path)
    assert code == 0 and chain["records"] == 0
    # ...and the full verification (the default of verify, the audit's) finds it.
    code, output = verify(db, "--full")
    assert code == 1 and "BROKEN at seq 4" in output and "measurements.value" in output
    code, chain = export(db, tmp_path, "--full-verify")
    assert code == 1 and chain["bad_seq"] == 4


def test_truncation_below_the_checkpoint_is_found_by_the_export(db, tmp_path):
    first = checkpoint(db)
    tamper(db, "DELETE FROM journal WHERE seq > ?", (first - 5,))
    for table in TABLES:
        tamper(db, f"DELETE FROM {table} WHERE seq > ?", (first - 5,))
    # The chain alone is in order (it just ends earlier)...
    with LocalStore.open_readonly(db) as store:
        assert store.verify().ok
    # ...but the export knows seq `first` was verified, and the record no longer holds it.
    code, chain = export(db, tmp_path)
    assert code == 1 and not chain["ok"]
    assert f"the record ends at seq {first - 5}" in chain["reason"]
    assert "records were removed" in chain["reason"]
    code, output = verify(db)
    assert code == 1 and "records were removed" in output


def test_a_chain_rewritten_and_rehashed_since_its_checkpoint_is_broken(db, tmp_path, bracket):
    first = checkpoint(db)
    # Rebuild the whole chain with one value changed and every hash recomputed after it.
    with LocalStore(db, "INC-1") as store:
        records = list(store.records())
    prev = journal.GENESIS
    tamper(db, "DELETE FROM journal")
    with LocalStore(db, "INC-1") as store:
        for record in records:
            if record["seq"] == 5:
                record["body"]["rewritten_by"] = "mallory"  # a key no projection reads
            record["prev_hash"] = prev
            record["hash"] = journal.record_hash(record)
            prev = record["hash"]
            store.conn.execute(
                "INSERT INTO journal (seq, uuid, format, station, kind, ts, prev_hash, hash, "
                "body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record["seq"],
                    record["uuid"],
                    record["format"],
                    record["station"],
                    record["kind"],
                    record["ts"],
                    record["prev_hash"],
                    record["hash"],
                    journal.canonical_body(record["body"]),
                ),
            )
    code, chain = export(db, tmp_path)
    assert code == 1 and chain["bad_seq"] == first
    assert "edited and re-hashed" in chain["reason"]
    # A record legitimately replaced (restored) starts over, on request, with a full verify.
    code, output = verify(db, "--full", "--reset-checkpoint")
    assert code == 0, output
    assert checkpoint(db) == first
    code, chain = export(db, tmp_path)
    assert code == 0 and chain["records"] == 0


def test_verify_incremental_says_what_it_covered(db, bracket):
    first = checkpoint(db)
    head = record_parts(db, bracket, range(10, 11))
    code, output = verify(db, "--incremental")
    assert code == 0
    assert f"OK: {head - first} records after the checkpoint at seq {first}" in output
    assert "verify --full re-verifies everything" in output
