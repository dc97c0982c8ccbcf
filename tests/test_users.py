"""Users: who may administer them, PINs kept out of the journal, sign-in with an atomic lock-out,
qualifications and new-revision acknowledgement."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
from userkit import ADMIN_ID, ADMIN_PIN, PINS, add_users

from inspect_station.recording import ManualSource, Recorder
from inspect_station.spec import SpecLibrary
from inspect_station.store import LocalStore
from inspect_station.users import (
    Actor,
    AuthError,
    Authority,
    LockedOut,
    NotAuthorized,
    Role,
    UserDirectory,
    UserError,
    WrongPinError,
)
from inspect_station.users.attempts import MAX_FAILURES
from inspect_station.users.pins import check_pin, hash_pin, trivial_pin

ANN, SAM = PINS["ann"], PINS["sam"]


@pytest.fixture
def users(store) -> UserDirectory:
    """Administrator root; inspector ann (BRK-*, badge B-77) and supervisor sam (*)."""
    return add_users(
        store,
        [
            ("ann", "Ann Lee", Role.INSPECTOR, ANN, ["BRK-*"]),
            ("sam", "Sam Ortiz", "supervisor", SAM, ["*"]),
        ],
        badges={"ann": "B-77"},
    )


def admin(users: UserDirectory) -> Actor:
    """The administrator root, authenticated now."""
    return users.authorize(ADMIN_ID, ADMIN_PIN)


def journal_text(store: LocalStore) -> str:
    """Every journal record as JSON text, one per line."""
    return "\n".join(json.dumps(r) for r in store.records())


def attempts(store: LocalStore, user_id: str) -> list[tuple[int, str | None]]:
    """(success, reason) of every recorded authentication attempt of a user, in order."""
    rows = store.query(
        "SELECT success, reason FROM sign_ins WHERE user_id = ? ORDER BY seq", (user_id,)
    )
    return [(r["success"], r["reason"]) for r in rows]


def lock_out(users: UserDirectory, user_id: str) -> None:
    """Five wrong PINs in a row."""
    for _ in range(MAX_FAILURES):
        with pytest.raises(WrongPinError):
            users.authenticate(user_id, "000000")


# -- credentials out of the ledger ---------------------------------------------------------------


@pytest.mark.production_pin_cost
def test_a_pin_never_enters_the_journal_only_that_it_was_set_by_whom(
    users: UserDirectory, store: LocalStore
):
    users.set_pin("ann", "864209", by=admin(users))
    text = journal_text(store)
    assert "scrypt" not in text and "pin_hash" not in text
    for pin in (ANN, SAM, ADMIN_PIN, "864209"):
        assert pin not in text
    added, changed = [r["body"] for r in store.records() if r["kind"] == "user"][1::2]
    assert (added["user_id"], added["pin_set"], added["changed_by"]) == ("ann", True, "root")
    assert added["authority"] == "bootstrap"
    assert (changed["change"], changed["pin_set"], changed["changed_by"]) == (
        "PIN set by an administrator",
        True,
        "root",
    )
    assert changed["authority"] == "administrator"
    # The verifier is in the local credential table, bound to the record that announced it.
    (cred,) = store.query("SELECT * FROM credentials WHERE user_id = 'ann'")
    assert cred["verifier"].startswith("scrypt$32768$8$1$") and check_pin(
        "864209", cred["verifier"]
    )
    assert (cred["origin"], cred["set_by"]) == ("set", "root")
    assert (
        cred["set_seq"]
        == store.query("SELECT MAX(seq) AS s FROM users WHERE user_id = 'ann'")[0]["s"]
    )
    assert not check_pin(ANN, cred["verifier"])
    assert hash_pin("864209") != hash_pin("864209")  # salted
    assert "pin_hash" not in {
        c for (c,) in store.conn.execute("SELECT name FROM pragma_table_info('users')")
    }
    assert store.verify().ok


def test_an_unknown_id_that_looks_like_a_pin_is_recorded_by_its_length_only(
    users: UserDirectory, store: LocalStore
):
    for typed in ("975310", " 975310 ", "ann smith\x1b[2J"):
        with pytest.raises(AuthError, match="Unknown user id or badge"):
            users.authenticate(typed, SAM)
    with pytest.raises(
        AuthError, match=r"There is no user with that id \(6 characters, not shown\)"
    ):
        users.authorize("975310", SAM)
    with pytest.raises(AuthError, match="There is no user 'nobody'"):
        users.authorize("nobody", SAM)
    text = journal_text(store)
    assert "975310" not in text and "\\u001b" not in text
    who = [r["user_id"] for r in store.query("SELECT user_id FROM sign_ins ORDER BY seq")]
    assert who == [
        "unknown id (6 characters)",
        "unknown id (6 characters)",
        "unknown id (13 characters)",  # 'ann smith' and an escape sequence
        "unknown id (6 characters)",
        "nobody",
    ]


@pytest.mark.parametrize(
    ("pin", "ok"),
    [
        ("864209", True),
        ("31415926", True),
        ("1234", False),
        ("12345", False),
        ("1234567890123", False),
        ("123456", False),
        ("987654", False),
        ("890123", False),
        ("000000", False),
        ("121212", False),
        ("123123", False),
        ("12 456", False),
        ("١٢٣٤٥٦", False),  # Arabic-Indic digits are not typed on a numeric pad
    ],
)
def test_a_pin_is_six_to_twelve_digits_and_not_a_trivial_one(users: UserDirectory, pin, ok):
    if ok:
        users.set_pin("ann", pin, by=admin(users))
        assert users.authenticate("ann", pin).user_id == "ann"
    else:
        with pytest.raises(UserError, match=r"A PIN is 6 to 12 digits|too easy to guess"):
            users.set_pin("ann", pin, by=admin(users))
    assert trivial_pin("111111") and not trivial_pin("864209")


# -- who may administer ----------------------------------------------------------------------------


def test_the_first_user_of_an_empty_record_is_its_administrator_and_only_the_first(store):
    users = UserDirectory(store)
    assert users.is_empty()
    boss = users.bootstrap("boss", "Bea Boss", "864209")
    assert (boss.user.role, boss.authority) == (Role.ADMIN, Authority.BOOTSTRAP)
    with pytest.raises(NotAuthorized, match="already has users: an administrator adds the next"):
        users.bootstrap("mallory", "Mal Lory", "975310")
    assert users.get("mallory") is None
    (record,) = [r for r in store.records() if r["kind"] == "user"]
    assert record["body"]["changed_by"] == "boss" and record["body"]["authority"] == "bootstrap"


def test_an_actor_is_made_only_by_authenticating(users: UserDirectory):
    sam = users.get("sam")
    with pytest.raises(NotAuthorized, match="only by authenticating"):
        Actor(sam, Authority.ADMINISTRATOR, object())
    with pytest.raises(NotAuthorized):
        Actor(sam, Authority.ADMINISTRATOR)


def test_only_an_administrator_adds_qualifies_disables_or_sets_another_user_s_pin(
    users: UserDirectory, store: LocalStore
):
    sam = users.authorize("sam", SAM)  # a supervisor, authenticated
    assert sam.authority is Authority.SELF
    with pytest.raises(NotAuthorized, match="Only an administrator can add users; Sam Ortiz"):
        users.add("mallory", "Mal Lory", "supervisor", "864209", by=sam)
    with pytest.raises(NotAuthorized, match="Only an administrator can set another user's PIN"):
        users.set_pin("ann", "864209", by=sam)
    with pytest.raises(NotAuthorized, match="Only an administrator can qualify users"):
        users.qualify("sam", ["SHF-*"], by=sam)
    with pytest.raises(NotAuthorized, match="Only an administrator can enable or disable users"):
        users.set_active("ann", False, by=sam)
    assert users.get("mallory") is None and users.authenticate("ann", ANN)
    refused = [r for r in attempts(store, "sam") if r[1] and r[1].startswith("not permitted")]
    assert len(refused) == 4
    # A wrong PIN given to administer counts toward the lock-out like any other.
    with pytest.raises(WrongPinError, match="4 tries left"):
        users.authorize(ADMIN_ID, "000000")
    assert attempts(store, ADMIN_ID)[-1] == (0, "wrong PIN when administering users")


def test_a_user_changes_their_own_pin_with_the_current_one(users: UserDirectory, store):
    ann = users.authorize("ann", ANN)
    users.set_pin("ann", "864209", by=ann)
    assert users.authenticate("ann", "864209").user_id == "ann"
    last = [r["body"] for r in store.records() if r["kind"] == "user"][-1]
    assert (last["change"], last["changed_by"], last["authority"]) == (
        "PIN changed by the user",
        "ann",
        "own PIN",
    )


def test_nobody_lifts_their_own_lockout_and_only_an_administrator_lifts_another_s(
    users: UserDirectory,
):
    lock_out(users, "ann")
    with pytest.raises(LockedOut, match="ask an administrator"):
        users.authorize("ann", ANN)  # to change her own PIN: refused, even with the right PIN
    sam = users.authorize("sam", SAM)
    with pytest.raises(NotAuthorized):
        users.set_pin("ann", "864209", by=sam)
    users.qualify("ann", ["SHF-*"], by=admin(users))  # a change that is not a PIN: still locked
    with pytest.raises(LockedOut):
        users.authenticate("ann", ANN)
    users.set_pin("ann", "864209", by=admin(users))
    assert users.authenticate("ann", "864209").user_id == "ann"


def test_an_administrator_locked_out_cannot_unlock_themselves(store):
    users = add_users(store, [("boss2", "Second Admin", "admin", "864209", [])])
    lock_out(users, ADMIN_ID)
    with pytest.raises(LockedOut):
        users.authorize(ADMIN_ID, ADMIN_PIN)
    boss2 = users.authorize("boss2", "864209")
    users.set_pin(ADMIN_ID, "975318", by=boss2)
    assert users.authorize(ADMIN_ID, "975318").authority is Authority.ADMINISTRATOR


def test_the_last_active_administrator_cannot_be_disabled(users: UserDirectory):
    with pytest.raises(UserError, match="last active administrator"):
        users.set_active(ADMIN_ID, False, by=admin(users))
    users.set_active("ann", False, by=admin(users))
    with pytest.raises(AuthError, match="disabled"):
        users.authenticate("ann", ANN)


def test_an_automation_cell_has_no_pin_and_never_signs_in(users: UserDirectory, store):
    cell = users.add("CELL-3", "Cell 3 (CMM)", "cell", None, by=admin(users), qualifications=["*"])
    assert cell.role is Role.CELL
    assert not store.query("SELECT 1 FROM credentials WHERE user_id = 'CELL-3'")
    with pytest.raises(UserError, match="no PIN"):
        users.add("CELL-4", "Cell 4", "cell", "864209", by=admin(users))
    with pytest.raises(AuthError, match="automation cell"):
        users.authenticate("CELL-3", "")
    assert users.require_recorder("CELL-3", "BRK-1042").user_id == "CELL-3"


# -- sign-in and lock-out --------------------------------------------------------------------------


def test_sign_in_by_id_or_badge(users: UserDirectory):
    assert users.authenticate("ann", ANN).name == "Ann Lee"
    assert users.authenticate("B-77", ANN).user_id == "ann"


def test_wrong_pin_then_lockout(users: UserDirectory, store):
    for left in range(MAX_FAILURES - 1, 0, -1):
        with pytest.raises(AuthError, match=rf"Wrong PIN \({left} tr"):
            users.authenticate("ann", "000000")
    with pytest.raises(AuthError, match="now locked for 15 minutes"):
        users.authenticate("ann", "000000")
    with pytest.raises(AuthError, match="is locked after 5 wrong PINs"):
        users.authenticate("ann", ANN)  # even the right PIN
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16)
    assert users.authenticate("ann", ANN, now=later).user_id == "ann"
    reasons = [reason for _, reason in attempts(store, "ann")]
    assert reasons == ["wrong PIN"] * MAX_FAILURES + ["locked out", None]


def test_forty_concurrent_wrong_pins_are_checked_at_most_five_times(users: UserDirectory, db_path):
    start = threading.Barrier(40)
    outcomes: list[str] = []

    def attempt() -> None:
        with LocalStore(db_path, "TEST-1") as own:  # a connection of its own, as a process has
            start.wait()
            try:
                UserDirectory(own).authenticate("sam", "000000")
            except LockedOut:
                outcomes.append("locked")
            except WrongPinError:
                outcomes.append("wrong")

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reasons = [reason for _, reason in attempts(users.store, "sam")]
    assert len(reasons) == 40 and sorted(outcomes) == sorted(
        "wrong" if r == "wrong PIN" else "locked" for r in reasons
    )
    assert reasons.count("wrong PIN") <= MAX_FAILURES
    assert set(reasons) <= {"wrong PIN", "locked out"}
    with pytest.raises(LockedOut):
        users.authenticate("sam", SAM)


def test_a_signature_pin_counts_toward_the_same_lockout(users: UserDirectory, store):
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(WrongPinError):
            users.confirm("sam", "000000")
    with pytest.raises(WrongPinError):
        users.authenticate("sam", "000000")
    with pytest.raises(LockedOut):
        users.confirm("sam", SAM)
    assert attempts(store, "sam")[0] == (0, "wrong PIN when signing")


def test_unknown_and_disabled_users(users: UserDirectory):
    with pytest.raises(AuthError, match="Unknown user id or badge"):
        users.authenticate("nobody", ANN)
    users.set_active("ann", False, by=admin(users))
    with pytest.raises(AuthError, match="disabled"):
        users.authenticate("ann", ANN)
    with pytest.raises(UserError, match="disabled and cannot record"):
        users.require_recorder("ann", "BRK-1042")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"user_id": "ann"}, "already exists"),
        ({"user_id": "bad id"}, "must be 1-32 letters"),
        ({"pin": "1234"}, "6 to 12 digits"),
        ({"pin": "12ab56"}, "6 to 12 digits"),
        ({"pin": "111111"}, "too easy to guess"),
        ({"role": "root"}, "Role must be one of inspector, supervisor, admin, cell"),
        ({"name": " "}, "printed name"),
        ({"name": "Zed\x1b[31m"}, "contains a control character"),
        ({"badge": "B-77"}, "already belongs"),
        ({"badge": "ann"}, "already belongs"),
        ({"qualifications": ["BRK-*; DROP"]}, "not a part-number pattern"),
    ],
)
def test_bad_user_input(users: UserDirectory, kwargs, message):
    args = {"user_id": "zed", "name": "Zed", "role": "inspector", "pin": "864209"} | kwargs
    with pytest.raises(UserError, match=message):
        users.add(
            args.pop("user_id"), args.pop("name"), args.pop("role"), args.pop("pin"),
            by=admin(users), **args,
        )  # fmt: skip
    assert users.get("zed") is None


def test_qualifications(users: UserDirectory):
    ann = users.get("ann")
    assert ann.qualified_for("BRK-1042") and ann.qualified_for("brk-9")
    assert not ann.qualified_for("SHF-220")
    ann = users.qualify("ann", ["SHF-220"], ["BRK-*"], by=admin(users))
    assert ann.qualifications == ("SHF-220",)
    assert users.get("sam").qualified_for("ANYTHING")
    with pytest.raises(UserError, match="not qualified for BRK-1042"):
        users.require_recorder("ann", "BRK-1042")


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


def test_users_of_a_file_are_listed_with_their_pin_state_never_the_pin(
    users: UserDirectory, db_path: Path
):
    lock_out(users, "ann")
    states = users.pin_states()
    assert states["ann"].locked_until is not None and states["ann"].state == "set"
    assert states["sam"].locked_until is None and states["sam"].set_by == ADMIN_ID
