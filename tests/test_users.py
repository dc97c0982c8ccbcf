"""Users: PIN hashes only, sign-in with lock-out, qualifications, new-revision acknowledgement."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from inspect_station.recording import ManualSource, Recorder
from inspect_station.spec import SpecLibrary
from inspect_station.users import (
    MAX_FAILURES,
    AuthError,
    Role,
    UserDirectory,
    UserError,
    check_pin,
    hash_pin,
)


@pytest.fixture
def users(store) -> UserDirectory:
    """A directory with inspector ann (BRK-*) and supervisor sam (*)."""
    directory = UserDirectory(store)
    directory.add("ann", "Ann Lee", Role.INSPECTOR, "1234", qualifications=["BRK-*"], badge="B-77")
    directory.add("sam", "Sam Ortiz", "supervisor", "9876", qualifications=["*"])
    return directory


def test_pin_is_stored_only_as_a_salted_hash(users: UserDirectory, store):
    dump = "\n".join(store.conn.iterdump())
    assert "1234" not in dump.replace("B-77", "")
    stored = store.query("SELECT pin_hash FROM current_users WHERE user_id = 'ann'")[0]["pin_hash"]
    assert stored.startswith("scrypt$") and check_pin("1234", stored)
    assert not check_pin("1235", stored)
    assert hash_pin("1234") != hash_pin("1234")  # salted


def test_sign_in_by_id_or_badge(users: UserDirectory):
    assert users.authenticate("ann", "1234").name == "Ann Lee"
    assert users.authenticate("B-77", "1234").user_id == "ann"


def test_wrong_pin_then_lockout(users: UserDirectory, store):
    for left in range(MAX_FAILURES - 1, 0, -1):
        with pytest.raises(AuthError, match=rf"Wrong PIN \({left} tr"):
            users.authenticate("ann", "0000")
    with pytest.raises(AuthError, match="now locked for 15 minutes"):
        users.authenticate("ann", "0000")
    with pytest.raises(AuthError, match="is locked after 5 wrong PINs"):
        users.authenticate("ann", "1234")  # even the right PIN
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16)
    assert users.authenticate("ann", "1234", now=later).user_id == "ann"
    attempts = store.query("SELECT success, reason FROM sign_ins WHERE user_id = 'ann'")
    assert [a["reason"] for a in attempts].count("wrong PIN") == MAX_FAILURES
    assert attempts[-1]["success"] == 1


def test_new_pin_lifts_the_lockout_but_a_qualification_does_not(users: UserDirectory):
    for _ in range(MAX_FAILURES):
        with pytest.raises(AuthError):
            users.authenticate("ann", "0000")
    users.qualify("ann", ["SHF-*"])
    with pytest.raises(AuthError, match="locked"):
        users.authenticate("ann", "1234")
    users.set_pin("ann", "5555", by="sam")
    assert users.authenticate("ann", "5555").user_id == "ann"


def test_unknown_and_disabled_users(users: UserDirectory):
    with pytest.raises(AuthError, match="Unknown user id or badge"):
        users.authenticate("nobody", "1234")
    users.set_active("ann", False, by="sam")
    with pytest.raises(AuthError, match="disabled"):
        users.authenticate("ann", "1234")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"user_id": "ann"}, "already exists"),
        ({"user_id": "bad id"}, "must be 1-32 letters"),
        ({"pin": "12"}, "4 to 12 digits"),
        ({"pin": "12ab"}, "4 to 12 digits"),
        ({"role": "admin"}, "inspector or supervisor"),
        ({"name": " "}, "printed name"),
        ({"badge": "B-77"}, "already belongs"),
    ],
)
def test_bad_user_input(users: UserDirectory, kwargs, message):
    args = {"user_id": "zed", "name": "Zed", "role": "inspector", "pin": "1111"} | kwargs
    with pytest.raises(UserError, match=message):
        users.add(args.pop("user_id"), args.pop("name"), args.pop("role"), args.pop("pin"), **args)


def test_qualifications(users: UserDirectory):
    ann = users.get("ann")
    assert ann.qualified_for("BRK-1042") and ann.qualified_for("brk-9")
    assert not ann.qualified_for("SHF-220")
    ann = users.qualify("ann", ["SHF-220"], ["BRK-*"])
    assert ann.qualifications == ("SHF-220",)
    assert users.get("sam").qualified_for("ANYTHING")


def test_new_revision_must_be_acknowledged_once(users: UserDirectory, library: SpecLibrary, store):
    new, old = library.get("BRK-1042@C"), library.get("BRK-1042@B", released_only=False)
    ann = users.get("ann")
    changes = users.pending_changes(ann, new, old)
    texts = [(c.kind, c.characteristic, c.text) for c in changes]
    assert ("changed", "1", "limits 119.85 … 120.15 mm → 119.90 … 120.10 mm") in texts
    assert ("added", "3", "Flatness, face A: — … 0.05 mm") in texts
    assert (
        "changed",
        "2",
        "decision rule simple acceptance → guard band U = 0.002",
    ) in texts
    users.acknowledge(ann, new, old, changes)
    assert users.pending_changes(ann, new, old) == []
    assert users.pending_changes(users.get("sam"), new, old)  # per inspector
    ack = store.query("SELECT * FROM revision_acks")[0]
    assert (ack["user_id"], ack["revision"], ack["previous_revision"]) == ("ann", "C", "B")
    assert users.pending_changes(ann, old, None) == []  # no previous revision: nothing to show


def test_inspector_who_already_measured_the_revision_is_not_asked(users, library, store):
    spec, old = library.get("BRK-1042@C"), library.get("BRK-1042@B", released_only=False)
    Recorder(store).measure(
        spec=spec,
        lot="L",
        serial="S",
        inspector="sam",
        characteristic="1",
        value="120",
        source=ManualSource("test"),
    )
    assert users.pending_changes(users.get("sam"), spec, old) == []


def test_users_cli(tmp_path):
    db = str(tmp_path / "s.db")

    def cli(*args, stdin=None):
        return subprocess.run(
            [sys.executable, "-m", "inspect_station", "users", *args, "--db", db],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    added = cli(
        "add", "ann", "--name", "Ann Lee", "--qualify", "BRK-*", "--pin-stdin", stdin="2468\n"
    )
    assert added.returncode == 0, added.stderr
    assert cli("qualify", "ann", "SHF-*").stdout.strip() == "ann is qualified for: BRK-*, SHF-*."
    bad = cli("set-pin", "ann", "--pin-stdin", stdin="12\n")
    assert bad.returncode == 2 and bad.stderr.strip() == "Error: A PIN is 4 to 12 digits."
    listing = cli("list").stdout
    assert "ann" in listing and "inspector" in listing and "2468" not in listing
