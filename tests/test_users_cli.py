"""The users commands and record --inspector as an administrator, and as an attacker, uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from inspect_station.cli import main
from inspect_station.store import LocalStore
from inspect_station.users import UserDirectory, WrongPinError
from inspect_station.users.attempts import MAX_FAILURES

BOSS = "864209"
"""The bootstrap administrator's PIN."""
SUPER, ANN = "975310", "246813"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """station.toml of BENCH-3, whose record does not exist yet."""
    path = tmp_path / "station.toml"
    path.write_text(f'station = "BENCH-3"\ndb = "{tmp_path / "bench3.db"}"\n')
    return path


def cli(config: Path, *args: str, stdin: str | None = None) -> Result:
    """Run the command line in-process (PINs on standard input, one per line)."""
    return CliRunner().invoke(main, ["--config", str(config), *args], input=stdin)


def records(config: Path, kind: str) -> list[dict]:
    """Bodies of the journal records of one kind."""
    with LocalStore.open_readonly(config.parent / "bench3.db") as store:
        return [r["body"] for r in store.records() if r["kind"] == kind]


@pytest.fixture
def bench(config: Path) -> Path:
    """BENCH-3 with administrator boss, supervisor super and inspector ann (BRK-*)."""
    added = cli(config, "users", "add", "boss", "--name", "Bea Boss", "--pin-stdin", stdin=BOSS)
    assert added.exit_code == 0, added.output
    assert added.output.strip() == (
        "Added administrator boss (Bea Boss), the first user of station BENCH-3."
    )
    for args, pin in (
        (["super", "--name", "Sam Super", "--role", "supervisor", "--qualify", "*"], SUPER),
        (["ann", "--name", "Ann Lee", "--qualify", "BRK-*"], ANN),
    ):
        result = cli(
            config, "users", "add", *args, "--as", "boss", "--pin-stdin", stdin=f"{BOSS}\n{pin}\n"
        )
        assert result.exit_code == 0, result.output
    return config


def test_the_first_user_must_be_the_administrator(config: Path):
    refused = cli(
        config, "users", "add", "mallory", "--name", "Mal", "--role", "supervisor",
        "--pin-stdin", stdin=SUPER,
    )  # fmt: skip
    assert refused.exit_code == 2
    assert refused.output.strip() == (
        "Error: mallory would be the first user of station BENCH-3: the first user is its "
        "administrator (--role admin), who then adds the others."
    )
    assert cli(config, "users", "list").output.startswith("No users yet at station BENCH-3.")


def test_nobody_but_an_administrator_adds_a_supervisor(bench: Path):
    anonymous = cli(
        bench, "users", "add", "mallory", "--name", "Mal", "--role", "supervisor",
        "--pin-stdin", stdin=SUPER,
    )  # fmt: skip
    assert anonymous.exit_code == 2
    assert "already has users: give --as ADMIN_ID" in anonymous.output
    by_ann = cli(
        bench, "users", "add", "mallory", "--name", "Mal", "--role", "supervisor", "--as", "ann",
        "--pin-stdin", stdin=f"{ANN}\n{SUPER}\n",
    )  # fmt: skip
    assert by_ann.exit_code == 2
    assert by_ann.output.strip() == (
        "Error: Only an administrator can add users; Ann Lee (ann) is an inspector."
    )
    wrong_pin = cli(
        bench, "users", "add", "mallory", "--name", "Mal", "--role", "supervisor", "--as", "boss",
        "--pin-stdin", stdin=f"000000\n{SUPER}\n",
    )  # fmt: skip
    assert wrong_pin.exit_code == 2 and "Wrong PIN (4 tries left)." in wrong_pin.output
    assert "mallory" not in cli(bench, "users", "list").output
    refusals = [(b["user_id"], b["reason"]) for b in records(bench, "sign_in")]
    assert refusals == [
        ("ann", "not permitted to add users"),
        ("boss", "wrong PIN when administering users"),
    ]


def test_set_pin_neither_needs_nothing_nor_lifts_a_lockout_for_anyone(bench: Path):
    with LocalStore(bench.parent / "bench3.db", "BENCH-3") as store:
        users = UserDirectory(store)
        for _ in range(MAX_FAILURES):
            with pytest.raises(WrongPinError):
                users.authenticate("super", "000000")
    # What used to work: a new PIN for super with no authentication, and free text for "by".
    old_way = cli(bench, "users", "set-pin", "super", "--pin-stdin", "--by", "x", stdin="111000\n")
    assert old_way.exit_code == 2 and "No such option '--by'" in old_way.output
    no_admin = cli(bench, "users", "set-pin", "super", "--pin-stdin", stdin="314152\n")
    assert no_admin.exit_code == 2 and "give --as ADMIN_ID" in no_admin.output
    by_himself = cli(
        bench, "users", "set-pin", "super", "--as", "super", "--pin-stdin",
        stdin=f"{SUPER}\n314152\n",
    )  # fmt: skip
    assert by_himself.exit_code == 2 and "is locked after 5 wrong PINs" in by_himself.output
    listed = cli(bench, "users", "list").output
    assert "locked until" in listed.splitlines()[2]  # super, still locked
    by_admin = cli(
        bench, "users", "set-pin", "super", "--as", "boss", "--pin-stdin",
        stdin=f"{BOSS}\n314152\n",
    )  # fmt: skip
    assert by_admin.exit_code == 0 and by_admin.output.strip() == "PIN of super set by boss."
    last = records(bench, "user")[-1]
    assert (last["user_id"], last["change"], last["changed_by"], last["pin_set"]) == (
        "super",
        "PIN set by an administrator",
        "boss",
        True,
    )


def test_administrator_commands_end_to_end(bench: Path):
    qualified = cli(
        bench, "users", "qualify", "ann", "SHF-*", "--as", "boss", "--pin-stdin", stdin=BOSS
    )
    assert qualified.output.strip() == "ann is qualified for: BRK-*, SHF-*."
    cell = cli(
        bench, "users", "add", "CELL-3", "--name", "CMM cell 3", "--role", "cell", "--qualify",
        "BRK-*", "--as", "boss", "--pin-stdin", stdin=BOSS,
    )  # fmt: skip
    assert cell.exit_code == 0 and "Added cell CELL-3 (CMM cell 3) by boss." in cell.output
    off = cli(bench, "users", "deactivate", "ann", "--as", "boss", "--pin-stdin", stdin=BOSS)
    assert off.output.strip() == "ann is disabled (by boss)."
    last_admin = cli(
        bench, "users", "deactivate", "boss", "--as", "boss", "--pin-stdin", stdin=BOSS
    )
    assert last_admin.exit_code == 2 and "last active administrator" in last_admin.output
    on = cli(bench, "users", "activate", "ann", "--as", "boss", "--pin-stdin", stdin=BOSS)
    assert on.exit_code == 0
    bad = cli(
        bench, "users", "set-pin", "ann", "--as", "boss", "--pin-stdin", stdin=f"{BOSS}\n1234\n"
    )
    assert bad.exit_code == 2 and bad.output.strip() == "Error: A PIN is 6 to 12 digits."
    listing = cli(bench, "users", "list").output
    assert "CELL-3" in listing and "no PIN (cell)" in listing
    assert BOSS not in listing and ANN not in listing and "scrypt" not in listing
    # Prompted instead of --pin-stdin: the administrator's PIN, then the new PIN twice.
    prompted = cli(
        bench, "users", "set-pin", "ann", "--as", "boss", stdin=f"{BOSS}\n135792\n135792\n"
    )
    assert prompted.exit_code == 0, prompted.output
    assert "PIN of boss" in prompted.output and "New PIN for ann" in prompted.output
    assert BOSS not in prompted.output and "135792" not in prompted.output
    changes = [(b["user_id"], b["change"], b["changed_by"]) for b in records(bench, "user")]
    assert changes[-1] == ("ann", "PIN set by an administrator", "boss")
    assert {by for _, _, by in changes} == {"boss"}


RECORD = ["record", "--spec", "BRK-1042", "--lot", "L1", "--serial", "S1"]


def test_record_names_a_known_active_qualified_user(bench: Path):
    unknown = cli(bench, *RECORD, "--inspector", "975310", "1=120.01")
    assert unknown.exit_code == 2 and "975310" not in unknown.output
    assert "There is no user with that id (6 characters, not shown) at station BENCH-3" in (
        unknown.output
    )
    unqualified = cli(bench, "record", "--spec", "SHF-220", "--lot", "L2", "--serial", "S1",
                      "--inspector", "ann", "1=1")  # fmt: skip
    assert unqualified.exit_code == 2
    assert unqualified.output.strip() == (
        "Error: Ann Lee (ann) is not qualified for SHF-220; an administrator can qualify them "
        "(users qualify)."
    )
    cli(bench, "users", "deactivate", "ann", "--as", "boss", "--pin-stdin", stdin=BOSS)
    disabled = cli(bench, *RECORD, "--inspector", "ann", "1=120.01")
    assert disabled.exit_code == 2 and "disabled and cannot record" in disabled.output
    assert not records(bench, "measurement")
    ok = cli(bench, *RECORD, "--inspector", "super", "1=120.01")
    assert ok.exit_code == 0 and json.loads(ok.output)["verdict"] == "pass"
    assert [m["inspector"] for m in records(bench, "measurement")] == ["super"]


def test_record_on_a_station_without_a_record_creates_nothing(config: Path, tmp_path: Path):
    result = cli(config, *RECORD, "--inspector", "ann", "1=120.01")
    assert result.exit_code == 2 and "does not exist yet; add users first" in result.output
    assert not (tmp_path / "bench3.db").exists()
