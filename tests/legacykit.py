"""A local record written the way versions before migration m006 wrote it (PIN hashes in it)."""

from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from inspect_station.store import journal
from inspect_station.store.migrations import migrations
from inspect_station.store.projections import TABLES, project


def old_hash(pin: str) -> str:
    """A PIN hash as earlier versions wrote it into user records (scrypt N=2^14)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    b64 = base64.b64encode
    return f"scrypt$16384$8$1${b64(salt).decode()}${b64(digest).decode()}"


class OldStation:
    """Writes a local record as the versions before migration m006 did."""

    def __init__(self, path: Path, station: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        db = Database(self.conn)
        migrations.apply(db, stop_before="m006_credentials")
        # Their users projection had the PIN hash as a column.
        self.conn.execute("ALTER TABLE users ADD COLUMN pin_hash TEXT")
        self.conn.execute("INSERT INTO meta (key, value) VALUES ('station', ?)", (station,))
        self.station, self.seq, self.head = station, 0, journal.GENESIS

    def append(self, kind: str, body: dict[str, Any]) -> None:
        """One record and its projection rows, as the old station wrote them."""
        record, body_json = journal.seal(
            station=self.station, seq=self.seq + 1, kind=kind, body=body, prev_hash=self.head
        )
        self.conn.execute(
            "INSERT INTO journal (seq, uuid, format, station, kind, ts, prev_hash, hash, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [record[k] for k in ("seq", "uuid", "format", "station", "kind", "ts", "prev_hash")]
            + [record["hash"], body_json],
        )
        for table, row in project(record):
            columns = [c for c, _ in TABLES[table]]
            values = [row[c] for c in columns]
            if table == "users":
                columns.append("pin_hash")
                values.append(body["pin_hash"])
            marks = ", ".join("?" for _ in columns)
            self.conn.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values
            )
        self.seq, self.head = record["seq"], record["hash"]

    def user(
        self,
        user_id: str,
        name: str,
        role: str,
        pin_hash: str,
        change: str,
        *,
        qualifications: tuple[str, ...] = ("*",),
        badge: str | None = None,
    ) -> None:
        """A user record of the old format: with the PIN hash, changed_by free text."""
        self.append(
            "user",
            {
                "user_id": user_id,
                "name": name,
                "role": role,
                "qualifications": list(qualifications),
                "badge": badge,
                "active": True,
                "pin_hash": pin_hash,
                "changed_by": "admin",
                "change": change,
            },
        )

    def sign_in(self, user_id: str, success: bool) -> None:
        """A sign-in attempt of the old format."""
        reason = None if success else "wrong PIN"
        self.append("sign_in", {"user_id": user_id, "success": success, "reason": reason})

    def close(self) -> None:
        """Close the file, as the old station did."""
        self.conn.close()
