"""Named reads of the people tables of the local record: users, sign-ins, acknowledgements.

Every query the user directory asks of the local schema is here, by name; the directory itself
holds no SQL. Each function takes the store or an open transaction (both answer ``query``), so
a check and the write it guards can run in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Queryable(Protocol):
    """A local store or an open transaction: anything that answers a read query."""

    def query(
        self, sql: str, params: tuple[Any, ...] | Mapping[str, Any] = ()
    ) -> list[dict[str, Any]]:
        """Rows of a read query as dicts."""
        ...


_CURRENT = (
    "SELECT u.* FROM users u "
    "WHERE u.seq = (SELECT MAX(v.seq) FROM users v WHERE v.user_id = u.user_id)"
)


def current_user(q: Queryable, user_id: str) -> dict[str, Any] | None:
    """The latest user record's row of ``user_id``, or None."""
    rows = q.query("SELECT * FROM users WHERE user_id = ? ORDER BY seq DESC LIMIT 1", (user_id,))
    return rows[0] if rows else None


def current_user_by_badge(q: Queryable, badge: str) -> dict[str, Any] | None:
    """The current row of the user whose current badge is ``badge``, or None."""
    rows = q.query(f"SELECT * FROM ({_CURRENT}) WHERE badge = ? LIMIT 1", (badge,))
    return rows[0] if rows else None


def current_users(q: Queryable) -> list[dict[str, Any]]:
    """The current row of every user, by user id."""
    return q.query(f"SELECT * FROM ({_CURRENT}) ORDER BY user_id")


def has_user_records(q: Queryable) -> bool:
    """Whether the record holds any user record at all (an empty record has none)."""
    return bool(q.query("SELECT 1 FROM users LIMIT 1"))


def had_administrator(q: Queryable) -> bool:
    """Whether any user record ever gave a user the role admin."""
    return bool(q.query("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1"))


def active_administrators(q: Queryable) -> list[str]:
    """User ids of the administrators who are active now."""
    rows = q.query(f"SELECT user_id FROM ({_CURRENT}) WHERE role = 'admin' AND active = 1")
    return [r["user_id"] for r in rows]


def has_acknowledged(q: Queryable, user_id: str, spec_hash: str) -> bool:
    """Whether the user acknowledged the changes of this spec revision."""
    return bool(
        q.query(
            "SELECT 1 FROM revision_acks WHERE user_id = ? AND spec_hash = ? LIMIT 1",
            (user_id, spec_hash),
        )
    )


def has_inspected(q: Queryable, user_id: str, spec_hash: str) -> bool:
    """Whether the user already inspected a part against this spec revision."""
    return bool(
        q.query(
            "SELECT 1 FROM inspections WHERE inspector = ? AND spec_hash = ? LIMIT 1",
            (user_id, spec_hash),
        )
    )
