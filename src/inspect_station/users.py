"""Users, PINs, sign-in with lock-out, qualifications and acknowledgement of new revisions.

Every change to a user and every sign-in attempt is a journal record, so the audit trail of
who could do what, and who signed in when, is as tamper-evident as the measurements. PINs are
kept only as salted scrypt hashes.
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import hashlib
import hmac
import itertools
import json
import os
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from inspect_station.errors import InspectStationError
from inspect_station.spec.diff import Change, diff_specs
from inspect_station.spec.model import PartSpec
from inspect_station.store.db import LocalStore

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_USER_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")
MAX_FAILURES = 5
"""Consecutive wrong PINs after which a user is locked out."""
LOCKOUT = dt.timedelta(minutes=15)
"""How long a lock-out lasts (a supervisor can lift it earlier by setting a new PIN)."""


class AuthError(InspectStationError):
    """Sign-in or signature refused; the message says why in one sentence."""


class UserError(InspectStationError):
    """A user cannot be added or changed as asked."""


class Role(StrEnum):
    """What a user may do at the station."""

    INSPECTOR = "inspector"
    """Measures parts and rejects them."""
    SUPERVISOR = "supervisor"
    """Also reviews rejects and signs dispositions."""


@dataclass(frozen=True)
class User:
    """A user's current state (the latest user record)."""

    user_id: str
    """Sign-in id."""
    name: str
    """Printed name, shown on signatures."""
    role: Role
    """inspector or supervisor."""
    qualifications: tuple[str, ...]
    """Part-number patterns the user is qualified to inspect (fnmatch, e.g. BRK-*)."""
    badge: str | None
    """Badge code a scanner types instead of the user id."""
    active: bool
    """Whether the user may sign in."""

    def qualified_for(self, part_number: str) -> bool:
        """Whether any qualification pattern matches the part number (case-insensitive)."""
        return any(
            fnmatch.fnmatchcase(part_number.upper(), pattern.upper())
            for pattern in self.qualifications
        )


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """A salted scrypt hash of a PIN: scrypt$n$r$p$salt$hash (base64)."""
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(
        pin.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def check_pin(pin: str, stored: str | None) -> bool:
    """Whether ``pin`` matches a stored hash (constant-time comparison)."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = hashlib.scrypt(
            pin.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(base64.b64decode(digest)),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, base64.b64decode(digest))


def validate_pin(pin: str) -> None:
    """A PIN is 4 to 12 digits, so it can be typed with gloves on a numeric pad."""
    if not re.fullmatch(r"\d{4,12}", pin or ""):
        raise UserError("A PIN is 4 to 12 digits.")


def _parse_ts(ts: str) -> dt.datetime:
    return dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


class UserDirectory:
    """Users of a station, kept as journal records in its local store."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store

    # -- reading ---------------------------------------------------------------------------

    def _row(self, user_id: str) -> dict[str, Any] | None:
        rows = self.store.query("SELECT * FROM current_users WHERE user_id = ?", (user_id,))
        return rows[0] if rows else None

    @staticmethod
    def _user(row: dict[str, Any]) -> User:
        return User(
            user_id=row["user_id"],
            name=row["name"],
            role=Role(row["role"]),
            qualifications=tuple(json.loads(row["qualifications"] or "[]")),
            badge=row["badge"],
            active=bool(row["active"]),
        )

    def get(self, user_id: str) -> User | None:
        """The user with this id, if any."""
        row = self._row(user_id)
        return self._user(row) if row else None

    def list(self) -> list[User]:
        """Every user, by id."""
        rows = self.store.query("SELECT * FROM current_users ORDER BY user_id")
        return [self._user(r) for r in rows]

    def resolve(self, identifier: str) -> dict[str, Any] | None:
        """The current user row for a user id or a scanned badge code."""
        ident = identifier.strip()
        row = self._row(ident)
        if row is None and ident:
            rows = self.store.query("SELECT * FROM current_users WHERE badge = ?", (ident,))
            row = rows[0] if rows else None
        return row

    # -- changing --------------------------------------------------------------------------

    def _write(self, body: dict[str, Any]) -> User:
        record = self.store.append("user", body)
        row = self.store.query("SELECT * FROM users WHERE seq = ?", (record["seq"],))[0]
        return self._user(row)

    def add(
        self,
        user_id: str,
        name: str,
        role: Role | str,
        pin: str,
        *,
        qualifications: tuple[str, ...] | list[str] = (),
        badge: str | None = None,
        by: str = "admin",
    ) -> User:
        """Add a user with a PIN (stored only as a salted hash)."""
        if not _USER_ID.match(user_id or ""):
            raise UserError(f"User id {user_id!r} must be 1-32 letters, digits, '.', '_' or '-'.")
        if not name.strip():
            raise UserError("A user needs a printed name (it appears on signatures).")
        try:
            role = Role(role)
        except ValueError:
            raise UserError(f"Role must be inspector or supervisor, not {role!r}.") from None
        validate_pin(pin)
        if self._row(user_id) is not None:
            raise UserError(f"User {user_id} already exists.")
        if badge and self.resolve(badge) is not None:
            raise UserError(f"Badge {badge} already belongs to another user.")
        return self._write(
            {
                "user_id": user_id,
                "name": name.strip(),
                "role": role.value,
                "qualifications": list(qualifications),
                "badge": badge or None,
                "active": True,
                "pin_hash": hash_pin(pin),
                "changed_by": by,
                "change": "added",
            }
        )

    def _update(self, user_id: str, by: str, change: str, **fields: Any) -> User:
        row = self._row(user_id)
        if row is None:
            raise UserError(f"There is no user {user_id}.")
        body = {
            "user_id": user_id,
            "name": row["name"],
            "role": row["role"],
            "qualifications": json.loads(row["qualifications"] or "[]"),
            "badge": row["badge"],
            "active": bool(row["active"]),
            "pin_hash": row["pin_hash"],
            "changed_by": by,
            "change": change,
        }
        body.update(fields)
        return self._write(body)

    def set_pin(self, user_id: str, pin: str, *, by: str = "admin") -> User:
        """Give a user a new PIN (this also lifts a lock-out)."""
        validate_pin(pin)
        return self._update(user_id, by, "pin set", pin_hash=hash_pin(pin))

    def qualify(
        self,
        user_id: str,
        add: tuple[str, ...] | list[str] = (),
        remove: tuple[str, ...] | list[str] = (),
        *,
        by: str = "admin",
    ) -> User:
        """Add or remove part-number patterns the user is qualified for."""
        user = self.get(user_id)
        if user is None:
            raise UserError(f"There is no user {user_id}.")
        patterns = [p for p in user.qualifications if p not in remove]
        patterns += [p for p in add if p not in patterns]
        change = f"qualifications +{list(add)} -{list(remove)}"
        return self._update(user_id, by, change, qualifications=patterns)

    def set_active(self, user_id: str, active: bool, *, by: str = "admin") -> User:
        """Enable or disable a user."""
        return self._update(user_id, by, "enabled" if active else "disabled", active=active)

    # -- signing in ------------------------------------------------------------------------

    def _failures(self, user_id: str) -> list[dict[str, Any]]:
        """Failed sign-ins since the user's last success or PIN change, newest first."""
        rows = self.store.query(
            "SELECT event, success, at, seq FROM sign_ins WHERE user_id = ? AND event = 'sign_in' "
            "ORDER BY seq DESC LIMIT ?",
            (user_id, MAX_FAILURES + 1),
        )
        history = self.store.query(
            "SELECT seq, pin_hash FROM users WHERE user_id = ? ORDER BY seq", (user_id,)
        )
        pin_changed = 0
        for before, after in itertools.pairwise(history):
            if after["pin_hash"] != before["pin_hash"]:
                pin_changed = after["seq"]
        out = []
        for row in rows:
            if row["success"] or row["seq"] < pin_changed:
                break
            out.append(row)
        return out

    def tries_left(self, user_id: str) -> int:
        """Wrong PINs the user may still enter before being locked out."""
        return max(0, MAX_FAILURES - len(self._failures(user_id)))

    def locked_until(self, user_id: str, now: dt.datetime | None = None) -> dt.datetime | None:
        """When the user's lock-out ends, if they are locked out now."""
        now = now or dt.datetime.now(dt.UTC)
        failures = self._failures(user_id)
        if len(failures) < MAX_FAILURES:
            return None
        until = _parse_ts(failures[0]["at"]) + LOCKOUT
        return until if until > now else None

    def authenticate(self, identifier: str, pin: str, now: dt.datetime | None = None) -> User:
        """Sign a user in by id or badge and PIN; every attempt is recorded."""
        row = self.resolve(identifier)
        if row is None:
            self.store.append(
                "sign_in",
                {
                    "user_id": identifier.strip()[:32] or "?",
                    "success": False,
                    "reason": "unknown user",
                },
            )
            raise AuthError("Unknown user id or badge.")
        user = self._user(row)
        if not user.active:
            self.store.append(
                "sign_in", {"user_id": user.user_id, "success": False, "reason": "disabled"}
            )
            raise AuthError(f"User {user.user_id} is disabled; ask a supervisor.")
        until = self.locked_until(user.user_id, now)
        if until is not None:
            self.store.append(
                "sign_in", {"user_id": user.user_id, "success": False, "reason": "locked out"}
            )
            raise AuthError(
                f"User {user.user_id} is locked after {MAX_FAILURES} wrong PINs until "
                f"{until.astimezone().strftime('%H:%M')}; ask a supervisor to reset the PIN."
            )
        if not check_pin(pin, row["pin_hash"]):
            self.store.append(
                "sign_in", {"user_id": user.user_id, "success": False, "reason": "wrong PIN"}
            )
            left = MAX_FAILURES - len(self._failures(user.user_id))
            if left <= 0:
                raise AuthError(f"Wrong PIN. User {user.user_id} is now locked for 15 minutes.")
            raise AuthError(f"Wrong PIN ({left} {'try' if left == 1 else 'tries'} left).")
        self.store.append("sign_in", {"user_id": user.user_id, "success": True, "reason": None})
        return user

    def verify_pin(self, user_id: str, pin: str) -> bool:
        """Whether the PIN is the user's (for re-entry when signing); records nothing."""
        row = self._row(user_id)
        return bool(row) and bool(row["active"]) and check_pin(pin, row["pin_hash"])

    def sign_out(self, user_id: str, reason: str = "signed out") -> None:
        """Record that a user's session ended (by the user or by the idle time-out)."""
        self.store.append("sign_out", {"user_id": user_id, "success": True, "reason": reason})

    # -- competence ------------------------------------------------------------------------

    def pending_changes(
        self, user: User, spec: PartSpec, previous: PartSpec | None
    ) -> list[Change]:
        """Changes the user must acknowledge before measuring ``spec`` (empty if none due)."""
        if previous is None:
            return []
        done = self.store.query(
            "SELECT 1 FROM revision_acks WHERE user_id = ? AND spec_hash = ? LIMIT 1",
            (user.user_id, spec.content_hash),
        )
        if done:
            return []
        used_before = self.store.query(
            "SELECT 1 FROM inspections WHERE inspector = ? AND spec_hash = ? LIMIT 1",
            (user.user_id, spec.content_hash),
        )
        if used_before:
            return []
        return diff_specs(previous, spec) or [
            Change("changed", None, "new revision; no characteristic changed")
        ]

    def acknowledge(
        self, user: User, spec: PartSpec, previous: PartSpec | None, changes: list[Change]
    ) -> dict[str, Any]:
        """Record that the user has read what changed in a new revision."""
        return self.store.append(
            "revision_ack",
            {
                "user_id": user.user_id,
                **spec.identity(),
                "previous_revision": previous.revision if previous else None,
                "previous_spec_hash": previous.content_hash if previous else None,
                "changes": [c.record() for c in changes],
            },
        )
