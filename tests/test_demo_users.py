"""The demo's users: the README lists them all, and each signs in with the PIN it lists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from legacykit import OldStation, old_hash

from inspect_station.demo import DEMO_ADMIN, DEMO_STATION, DEMO_USERS, ensure_demo_users
from inspect_station.store import LocalStore
from inspect_station.users import Role, UserDirectory, WrongPinError

README = Path(__file__).parents[1] / "README.md"


def readme_users() -> dict[str, tuple[str, str]]:
    """user id -> (PIN, role) from the README's table of demo users."""
    rows = re.findall(
        r"^\| `([\w-]+)`(?: \(badge `[\w-]+`\))? \| `(\d+)` \| (\w+) \|", README.read_text(), re.M
    )
    return {user_id: (pin, role) for user_id, pin, role in rows}


def test_the_readme_lists_every_demo_user_with_their_pin_and_role():
    roles = {
        Role.ADMIN: "administrator",
        Role.SUPERVISOR: "supervisor",
        Role.INSPECTOR: "inspector",
    }
    assert readme_users() == {
        user_id: (pin, roles[role]) for user_id, _, role, pin, _, _ in DEMO_USERS
    }
    supervisors = [u for u in DEMO_USERS if u[2] is Role.SUPERVISOR]
    assert len(supervisors) >= 2  # so a second signature can be tried


def test_every_demo_user_signs_in_with_the_readme_pin(tmp_path: Path):
    with LocalStore(tmp_path / "demo.db", DEMO_STATION) as store:
        users = UserDirectory(store)
        ensure_demo_users(users)
        head = store.head()
        ensure_demo_users(users)  # a second start adds nothing
        assert store.head() == head
        for user_id, (pin, _) in readme_users().items():
            assert users.authenticate(user_id, pin).user_id == user_id
        changes = [r["body"] for r in store.records() if r["kind"] == "user"]
        assert {c["changed_by"] for c in changes} == {DEMO_ADMIN}
        assert users.get(DEMO_ADMIN).role is Role.ADMIN


def test_a_demo_record_of_an_earlier_version_gets_its_administrator_and_new_pins(
    tmp_path: Path,
):
    path = tmp_path / "demo.db"
    old = OldStation(path, DEMO_STATION)
    old.user("demo", "Dana Demo", "inspector", old_hash("1234"), "added", badge="BADGE-0001")
    old.user("super", "Sam Supervisor", "supervisor", old_hash("9999"), "added", badge="BADGE-0002")
    old.user("trainee", "Terry Trainee", "inspector", old_hash("1111"), "added",
             qualifications=("HSG-*",))  # fmt: skip
    old.close()
    with LocalStore(path, DEMO_STATION) as store:
        users = UserDirectory(store)
        ensure_demo_users(users)
        for user_id, (pin, _) in readme_users().items():
            assert users.authenticate(user_id, pin).user_id == user_id
        with pytest.raises(WrongPinError):
            users.authenticate("super", "9999")
        assert {s.state for s in users.pin_states().values()} == {"set"}
        (first_admin,) = [
            r["body"]
            for r in store.records()
            if r["kind"] == "user" and r["body"]["user_id"] == DEMO_ADMIN
        ]
        assert (first_admin["changed_by"], first_admin["authority"]) == (
            "super",
            "supervisor, before the first administrator",
        )
        assert store.verify().ok
