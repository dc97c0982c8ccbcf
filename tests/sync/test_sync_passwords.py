"""Central passwords of every printable character: used, never printed, never stored.

Against a real PostgreSQL server: a station role and an administrator whose passwords hold
every printable ASCII character (``/``, ``?``, ``#``, ``@``, ``:``, ``%``, space ...), in URLs
written percent-encoded and as typed, through ``central init``, ``sync`` and
``verify --central``; then the station's sync state is read back.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

import click
import pytest
from click.testing import CliRunner
from pg import PgDatabase
from psycopg import sql

from inspect_station.cli import main
from inspect_station.sync import open_central

pytestmark = pytest.mark.postgres

PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))


def cli(*args: str, config: Path | None = None) -> click.testing.Result:
    options = ["--config", str(config)] if config else []
    return CliRunner().invoke(main, [*options, *args], catch_exceptions=False)


def leaks(text: str, password: str) -> list[str]:
    """Pieces of the password (runs of 4 that are not plain letters or digits) found in text."""
    runs = {password[i : i + 4] for i in range(len(password) - 3)}
    return sorted(r for r in runs if not r.isalnum() and r in text)


def set_password(pg_database: PgDatabase, role: str, password: str) -> None:
    with pg_database.connect() as conn:
        verifier = conn.pgconn.encrypt_password(password.encode(), role.encode()).decode()
        conn.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(verifier))
        )


def url_for(pg_database: PgDatabase, role: str, password: str, encoded: bool) -> str:
    written = quote(password, safe="") if encoded else password
    port = pg_database.server.port
    return f"postgresql://{role}:{written}@127.0.0.1:{port}/{pg_database.name}"


@pytest.mark.parametrize("password", [PRINTABLE, PRINTABLE[::-1]], ids=["forward", "reverse"])
@pytest.mark.parametrize("encoded", [True, False], ids=["encoded", "as-typed"])
def test_passwords_of_every_printable_character_are_never_printed_or_stored(
    pg_database: PgDatabase, make_station, tmp_path: Path, password: str, encoded: bool
):
    admin = pg_database.url
    with open_central(admin) as central:
        central.migrate()
        creds = central.add_station("BENCH-1")
    set_password(pg_database, creds.role, password)
    # An administrator (a member of the schema owner) with such a password too.
    qa = f"{pg_database.name}_qa"
    with pg_database.connect() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(qa)))
        conn.execute(
            sql.SQL("GRANT {} TO {}").format(
                sql.Identifier(pg_database.server.admin_role), sql.Identifier(qa)
            )
        )
    set_password(pg_database, qa, password[::-1])
    station_url = url_for(pg_database, creds.role, password, encoded)
    admin_url = url_for(pg_database, qa, password[::-1], encoded)
    store = make_station("BENCH-1", 40)
    config = tmp_path / "station.toml"
    config.write_text(f'station = "BENCH-1"\ndb = "{store.path}"\n')

    results = [
        cli("central", "init", admin_url),
        cli("sync", "--central", station_url, config=config),
        cli("verify", "--central", admin_url),
        # Wrong passwords: the errors are shown and kept, without the password either.
        cli("sync", "--central", station_url.replace("@127", "x@127"), config=config),
        cli("verify", "--central", admin_url.replace("@127", "x@127")),
        cli("central", "init", admin_url.replace("@127", "x@127")),
    ]
    init, shipped, verified, *refused = results
    assert init.exit_code == 0 and "is already up to date" in init.output, init.output
    records = store.head()[0]
    assert shipped.exit_code == 0, shipped.output
    assert f"Shipped {records} records" in shipped.output
    assert verified.exit_code == 0 and f"OK: 1 station(s), {records} records" in verified.output
    for result in refused:
        assert result.exit_code == 2 and "password authentication failed" in result.output
        assert ":***@127.0.0.1" in result.output
    for result in results:
        assert leaks(result.output, password) == [], result.output
        assert leaks(result.output, password[::-1]) == [], result.output
    with sqlite3.connect(store.path) as conn:
        state = conn.execute("SELECT central, last_error FROM sync_state").fetchall()
    assert state == [
        (
            f"postgresql://127.0.0.1:{pg_database.server.port}/{pg_database.name}",
            state[0][1],
        )
    ]
    assert "password authentication failed" in state[0][1]
    assert leaks(repr(state), password) == []
