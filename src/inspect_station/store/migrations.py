"""Versioned schema of the local record (sqlite-utils Migrations)."""

from __future__ import annotations

import itertools

from sqlite_utils import Database, Migrations

from inspect_station.store.journal import GENESIS
from inspect_station.store.projections import TABLES

migrations = Migrations("inspect_station.local")


def append_only(db: Database, table: str) -> None:
    """Triggers that refuse UPDATE and DELETE on ``table``."""
    for action in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
        )


def create_projection(db: Database, table: str) -> None:
    """Create one projection table from its column list, append-only, keyed by seq."""
    (first, first_type), *rest = TABLES[table]
    assert (first, first_type) == ("seq", "INTEGER"), "a projection is keyed by its record's seq"
    columns = ", ".join(["seq INTEGER PRIMARY KEY", *(f"{n} {t}" for n, t in rest)])
    db.execute(f"CREATE TABLE {table} ({columns})")
    append_only(db, table)


@migrations()
def m001_journal(db: Database) -> None:
    """The append-only, hash-chained journal and the station identity."""
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    append_only(db, "meta")
    db.execute(
        """
        CREATE TABLE journal (
            seq INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL,
            format INTEGER NOT NULL,
            station TEXT NOT NULL,
            kind TEXT NOT NULL,
            ts TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            body TEXT NOT NULL
        )
        """
    )
    append_only(db, "journal")
    # The database itself keeps the chain gap-free and linked, whoever writes to it.
    db.execute(
        f"""
        CREATE TRIGGER journal_chain BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT COALESCE(
               (SELECT hash FROM journal ORDER BY seq DESC LIMIT 1), '{GENESIS}')
        BEGIN SELECT RAISE(ABORT, 'journal insert does not continue the chain'); END
        """
    )


@migrations()
def m002_projections(db: Database) -> None:
    """Query tables for specs, lots, inspections, measurements and results, plus views."""
    for table in ("specs", "lots", "inspections", "measurements", "results"):
        create_projection(db, table)
    # Few indexes on the hot table: each one is another page written by every commit.
    db.execute("CREATE INDEX measurements_part ON measurements(lot, serial, characteristic)")
    db.execute(
        "CREATE INDEX measurements_supersedes ON measurements(supersedes) "
        "WHERE supersedes IS NOT NULL"
    )
    db.execute("CREATE INDEX inspections_lot ON inspections(lot, serial)")
    db.execute("CREATE INDEX results_inspection ON results(inspection)")
    db.execute("CREATE UNIQUE INDEX lots_lot ON lots(lot)")
    db.execute("CREATE UNIQUE INDEX specs_hash ON specs(spec_hash)")
    db.execute(
        """
        CREATE VIEW current_measurements AS
        SELECT m.* FROM measurements m
        WHERE NOT EXISTS (SELECT 1 FROM measurements c WHERE c.supersedes = m.uuid)
        """
    )
    db.execute(
        """
        CREATE VIEW current_results AS
        SELECT r.* FROM results r
        WHERE NOT EXISTS (SELECT 1 FROM results c WHERE c.supersedes = r.uuid)
        """
    )


@migrations()
def m003_people(db: Database) -> None:
    """Users, sign-in attempts and acknowledgements of new revisions."""
    for table in ("users", "sign_ins", "revision_acks"):
        create_projection(db, table)
    db.execute("CREATE INDEX users_user ON users(user_id)")
    db.execute("CREATE INDEX users_badge ON users(badge) WHERE badge IS NOT NULL")
    db.execute("CREATE INDEX sign_ins_user ON sign_ins(user_id)")
    db.execute("CREATE INDEX revision_acks_user ON revision_acks(user_id, spec_hash)")
    db.execute(
        """
        CREATE VIEW current_users AS
        SELECT u.* FROM users u
        WHERE u.seq = (SELECT MAX(seq) FROM users v WHERE v.user_id = u.user_id)
        """
    )


@migrations()
def m004_dispositions(db: Database) -> None:
    """Signed dispositions of rejects, their signatures, re-inspections; the rejects queue."""
    for table in ("dispositions", "signatures", "reinspections"):
        create_projection(db, table)
    # One disposition per reject in a journal; a second signer adds a signature instead.
    db.execute("CREATE UNIQUE INDEX dispositions_reject ON dispositions(reject)")
    db.execute("CREATE INDEX signatures_disposition ON signatures(disposition)")
    db.execute("CREATE INDEX reinspections_of ON reinspections(reinspection_of)")
    db.execute("CREATE INDEX results_lot ON results(lot, serial)")
    db.execute(
        "CREATE INDEX results_supersedes ON results(supersedes) WHERE supersedes IS NOT NULL"
    )
    db.execute("CREATE INDEX results_rejects ON results(closed_at) WHERE result = 'reject'")


@migrations()
def m005_sync_state(db: Database) -> None:
    """Where shipping to each central store stands: mutable bookkeeping, not part of the record."""
    db.execute(
        f"""
        CREATE TABLE sync_state (
            central TEXT PRIMARY KEY,
            acked_seq INTEGER NOT NULL DEFAULT 0,
            acked_hash TEXT NOT NULL DEFAULT '{GENESIS}',
            last_success_at TEXT,
            last_attempt_at TEXT,
            last_error TEXT,
            last_error_kind TEXT,
            last_error_at TEXT
        )
        """
    )


LEGACY_MAX_FAILURES = 5
"""The lock-out limit of the versions that kept PIN hashes in user records."""


@migrations()
def m006_credentials(db: Database) -> None:
    """PIN verifiers move out of the journal into a local, mutable, never-shipped table.

    Records written before keep their bodies (the chain depends on them). Each user's current
    verifier is copied from its latest user record into ``credentials`` with origin ``legacy``
    (that hash is in the old record, so the PIN should be set again), with the count of wrong
    PINs since the user's last success or PIN change, so that a lock-out in force stays.
    """
    db.execute(
        """
        CREATE TABLE credentials (
            user_id TEXT PRIMARY KEY,
            verifier TEXT NOT NULL,
            origin TEXT NOT NULL,
            set_at TEXT NOT NULL,
            set_by TEXT,
            set_seq INTEGER,
            failures INTEGER NOT NULL DEFAULT 0,
            last_failure_at TEXT
        )
        """
    )
    if "pin_hash" not in db["users"].columns_dict:
        return
    history: dict[str, list[tuple[int, str | None, str, str | None]]] = {}
    for seq, user_id, pin_hash, changed_at, changed_by in db.execute(
        "SELECT seq, user_id, pin_hash, changed_at, changed_by FROM users ORDER BY seq"
    ).fetchall():
        history.setdefault(user_id, []).append((seq, pin_hash, changed_at, changed_by))
    for user_id, rows in history.items():
        if not rows[-1][1]:
            continue
        changed = rows[0]  # the record that set the PIN in force now
        for before, after in itertools.pairwise(rows):
            if after[1] != before[1]:
                changed = after
        failures, last_failure = _trailing_failures(db, user_id, since_seq=changed[0])
        db.execute(
            "INSERT INTO credentials (user_id, verifier, origin, set_at, set_by, set_seq, "
            "failures, last_failure_at) VALUES (?, ?, 'legacy', ?, ?, ?, ?, ?)",
            [user_id, rows[-1][1], changed[2], changed[3], changed[0], failures, last_failure],
        )


def _trailing_failures(db: Database, user_id: str, since_seq: int) -> tuple[int, str | None]:
    """Failed sign-ins after ``since_seq`` and after the last success: (count, newest time)."""
    rows = db.execute(
        "SELECT success, at FROM sign_ins WHERE user_id = ? AND event = 'sign_in' AND seq > ? "
        "ORDER BY seq DESC LIMIT ?",
        [user_id, since_seq, LEGACY_MAX_FAILURES],
    ).fetchall()
    count, newest = 0, None
    for success, at in rows:
        if success:
            break
        count += 1
        newest = newest or at
    return count, newest


@migrations()
def m007_resolutions(db: Database) -> None:
    """Signed resolutions of conflicting dispositions (two signed apart for one reject)."""
    create_projection(db, "resolutions")
    db.execute("CREATE INDEX resolutions_reject ON resolutions(reject)")


@migrations()
def m008_spc(db: Database) -> None:
    """SPC: locked limit versions, rule violations, alarms holding parts, and their answers."""
    for table in ("spc_limits", "spc_violations", "spc_holds", "spc_answers"):
        create_projection(db, table)
    db.execute("CREATE INDEX spc_limits_char ON spc_limits(part_number, characteristic)")
    db.execute("CREATE INDEX spc_violations_char ON spc_violations(part_number, characteristic)")
    db.execute("CREATE INDEX spc_holds_part ON spc_holds(part_number)")
    db.execute("CREATE INDEX spc_violations_alarm ON spc_violations(alarm)")
    db.execute("CREATE INDEX spc_answers_alarm ON spc_answers(alarm)")
    # A characteristic's readings of one part number, in order: read when a chart starts.
    db.execute("CREATE INDEX measurements_spc ON measurements(part_number, characteristic, seq)")


@migrations()
def m009_first_articles(db: Database) -> None:
    """First-article declarations (AS9102) of a part serial or a whole lot."""
    create_projection(db, "first_articles")
    db.execute("CREATE INDEX first_articles_lot ON first_articles(lot, serial)")


@migrations()
def m010_calibrations(db: Database) -> None:
    """Calibration events of gauge assets (ISO 9001 7.1.5.2), pass or fail."""
    create_projection(db, "calibrations")
    db.execute("CREATE INDEX calibrations_asset ON calibrations(asset)")
