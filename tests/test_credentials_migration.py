"""A record written before credentials left the journal is carried forward, not rewritten.

The record below is made the way earlier versions made it: user records whose bodies (and the
users projection) hold a 4-digit PIN's scrypt hash, and sign-in failures counted from the
journal. Opening it with this version moves each user's current verifier into the credential
table as ``legacy``, keeps old bodies as they are (the chain depends on them), keeps a lock-out
in force, and lets a supervisor add the first administrator.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from legacykit import OldStation, old_hash

from inspect_station.cli import main
from inspect_station.store import LocalStore
from inspect_station.users import (
    Authority,
    LockedOut,
    NotAuthorized,
    Role,
    UserDirectory,
)


@pytest.fixture
def old_record(tmp_path: Path) -> Path:
    """A record of station OLD-1: supervisor sam (PIN 9999, one failure then a success) and
    inspector ann (PIN 1234 changed to 4321, then five wrong PINs: locked out)."""
    path = tmp_path / "old.db"
    old = OldStation(path, "OLD-1")
    old.user("sam", "Sam Ortiz", "supervisor", old_hash("9999"), "added")
    ann_first = old_hash("1234")
    old.user("ann", "Ann Lee", "inspector", ann_first, "added")
    old.sign_in("sam", False)
    old.sign_in("sam", True)
    old.sign_in("ann", False)  # before her PIN change: does not count
    old.user("ann", "Ann Lee", "inspector", old_hash("4321"), "pin set")
    for _ in range(5):
        old.sign_in("ann", False)
    old.close()
    return path


def test_old_verifiers_move_to_the_credential_table_and_old_bodies_stay(old_record: Path):
    before = [r for r in _journal(old_record)]
    with LocalStore(old_record, "OLD-1") as store:
        assert store.verify().ok
        assert [r["hash"] for r in store.records()] == [r["hash"] for r in before]
        creds = {r["user_id"]: r for r in store.query("SELECT * FROM credentials")}
        assert {u: c["origin"] for u, c in creds.items()} == {"sam": "legacy", "ann": "legacy"}
        assert creds["sam"]["failures"] == 0 and creds["ann"]["failures"] == 5
        assert creds["ann"]["set_seq"] == 6  # the record that set the PIN in force
        users = UserDirectory(store)
        assert users.authenticate("sam", "9999").role is Role.SUPERVISOR  # still works
        with pytest.raises(LockedOut):
            users.authenticate("ann", "4321")  # the lock-out in force stays
        states = users.pin_states()
        assert states["sam"].state == "legacy" and states["ann"].locked_until is not None


def test_a_supervisor_adds_the_first_administrator_who_then_replaces_the_old_pins(
    old_record: Path, tmp_path: Path
):
    config = tmp_path / "station.toml"
    config.write_text(f'station = "OLD-1"\ndb = "{old_record}"\n')
    first = CliRunner().invoke(
        main,
        ["--config", str(config), "users", "add", "boss", "--name", "Bea Boss", "--role",
         "admin", "--as", "sam", "--pin-stdin"],
        input="9999\n864209\n",
    )  # fmt: skip
    assert first.exit_code == 0, first.output
    with LocalStore(old_record, "OLD-1") as store:
        users = UserDirectory(store)
        (added,) = [r["body"] for r in store.records() if r["kind"] == "user"][-1:]
        assert (added["user_id"], added["changed_by"], added["authority"]) == (
            "boss",
            "sam",
            "supervisor, before the first administrator",
        )
        assert "pin_hash" not in added
        sam = users.authorize("sam", "9999")
        assert sam.authority is Authority.SELF  # there is an administrator now
        with pytest.raises(NotAuthorized):
            users.add("boss2", "Second Boss", "admin", "975310", by=sam)
        boss = users.authorize("boss", "864209")
        users.set_pin("sam", "975310", by=boss)
        users.set_pin("ann", "246813", by=boss)  # also lifts her lock-out
        assert users.authenticate("ann", "246813").user_id == "ann"
        assert {s.state for s in users.pin_states().values()} == {"set"}
        assert store.verify().ok
    listed = CliRunner().invoke(main, ["--config", str(config), "users", "list"])
    assert "legacy" not in listed.output


def test_until_then_a_supervisor_may_do_nothing_else(old_record: Path):
    with LocalStore(old_record, "OLD-1") as store:
        users = UserDirectory(store)
        sam = users.authorize("sam", "9999")
        assert sam.authority is Authority.FIRST_ADMINISTRATOR
        with pytest.raises(NotAuthorized, match="may only add the first administrator"):
            users.add("mallory", "Mal Lory", "supervisor", "975310", by=sam)
        with pytest.raises(NotAuthorized, match="may only add the first administrator"):
            users.set_pin("ann", "975310", by=sam)


def test_a_record_not_yet_upgraded_is_listed_without_being_upgraded(old_record: Path):
    before = old_record.read_bytes()
    listed = CliRunner().invoke(main, ["users", "list", "--db", str(old_record)])
    assert listed.exit_code == 0, listed.output
    assert "PIN: legacy, set again" in listed.output
    assert old_record.read_bytes() == before
    with sqlite3.connect(old_record) as raw:
        names = {n for (n,) in raw.execute("SELECT name FROM sqlite_master")}
    assert "credentials" not in names


def _journal(path: Path) -> list[dict[str, Any]]:
    """The journal rows of a file, read with sqlite3 alone."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as raw:
        rows = raw.execute("SELECT seq, hash, body FROM journal ORDER BY seq").fetchall()
    return [{"seq": s, "hash": h, "body": json.loads(b)} for s, h, b in rows]
