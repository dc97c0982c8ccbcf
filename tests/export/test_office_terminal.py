"""How an office terminal gets its users, and what the central store learns of them.

An office terminal is a station of its own (its own station id and record): its first user is
its own administrator, who adds its supervisors. Nobody else can create a supervisor there, a
supervisor known only at a bench cannot sign there, and neither the bench's nor the office's
PIN verifiers ever reach the central store (SQLite and PostgreSQL).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lots import GOOD, RecordedLot, record_part

from inspect_station.cli import main
from inspect_station.store import LocalStore
from inspect_station.sync import Shipper

QA_PIN, SAM_PIN = "864209", "246802"


@pytest.fixture
def office(tmp_path: Path, central_url: str) -> Path:
    """station.toml of OFFICE-1, a supervisor's terminal reading the central store."""
    path = tmp_path / "office.toml"
    path.write_text(
        f'station = "OFFICE-1"\ndb = "{tmp_path / "office.db"}"\ncentral = "{central_url}"\n'
    )
    return path


def cli(config: Path, *args: str, stdin: str | None = None) -> Result:
    """Run the command line in-process as the office terminal."""
    return CliRunner().invoke(main, ["--config", str(config), *args], input=stdin)


def central_text(url: str) -> str:
    """Every journal body and every users row of a central store, as text (read directly)."""
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url) as pg:
            rows = pg.execute("SELECT body::text FROM inspect_station.journal").fetchall()
            rows += pg.execute("SELECT * FROM inspect_station.users").fetchall()
    else:
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            rows = conn.execute("SELECT body FROM journal").fetchall()
            rows += conn.execute("SELECT * FROM users").fetchall()
        finally:
            conn.close()
    return "\n".join(str(row) for row in rows)


def test_an_office_terminal_gets_its_users_from_its_own_administrator(
    lot7: RecordedLot, central_url: str, office: Path, tmp_path: Path
):
    record_part(lot7.recorder, lot7.spec, "L-8", "Q1", {**GOOD, "3": "0.030"}, defect="D03")
    Shipper(lot7.store, central_url).ship()
    reject = lot7.reject_of("Q1")[:8]

    # A fresh terminal: nobody may make themselves a supervisor there.
    mallory = cli(
        office, "users", "add", "mallory", "--name", "Mal Lory", "--role", "supervisor",
        "--pin-stdin", stdin=SAM_PIN,
    )  # fmt: skip
    assert mallory.exit_code == 2 and "the first user is its administrator" in mallory.output
    # Its own administrator is its first user, and adds its supervisors.
    qa = cli(office, "users", "add", "qa", "--name", "Quinn QA", "--pin-stdin", stdin=QA_PIN)
    assert qa.exit_code == 0, qa.output
    again = cli(
        office, "users", "add", "mallory", "--name", "Mal Lory", "--role", "supervisor",
        "--pin-stdin", stdin=SAM_PIN,
    )  # fmt: skip
    assert again.exit_code == 2 and "give --as ADMIN_ID" in again.output
    sam = cli(
        office, "users", "add", "sam", "--name", "Sam Ortiz", "--role", "supervisor", "--as",
        "qa", "--pin-stdin", stdin=f"{QA_PIN}\n{SAM_PIN}\n",
    )  # fmt: skip
    assert sam.exit_code == 0, sam.output

    # kim is a supervisor at the bench only: she cannot sign at the office.
    kim = cli(
        office, "disposition", "sign", reject, "--central", central_url, "--disposition",
        "scrap", "--reason", "dent", "--user", "kim", "--pin-stdin", stdin="550761\n",
    )  # fmt: skip
    assert kim.exit_code == 2
    assert "There is no user 'kim' at station OFFICE-1" in kim.output
    signed = cli(
        office, "disposition", "sign", reject, "--central", central_url, "--disposition",
        "scrap", "--reason", "dent", "--user", "sam", "--pin-stdin", stdin=f"{SAM_PIN}\n",
    )  # fmt: skip
    assert signed.exit_code == 0, signed.output

    with LocalStore(tmp_path / "office.db", "OFFICE-1") as own:
        Shipper(own, central_url).ship()
    text = central_text(central_url)
    assert "scrypt" not in text and "pin_hash" not in text
    for pin in (QA_PIN, SAM_PIN, "246813", "975310", "550761"):
        assert pin not in text
    assert "'changed_by': 'qa'" in text or '"changed_by":"qa"' in text
    if central_url.startswith("sqlite"):
        central_file = Path(central_url.removeprefix("sqlite:///"))
        for path in central_file.parent.glob(central_file.name + "*"):
            assert b"scrypt" not in path.read_bytes()
