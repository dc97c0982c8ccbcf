"""Who the users are: roles, the authority an act is done on, a user's state, the errors."""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from inspect_station.errors import InspectStationError
from inspect_station.text import TextError, check_line, quote

_USER_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")
MAX_NAME = 80
"""Longest printed name."""

FIRST_ADMIN_HINT = (
    'inspect-station users add ID --name "PRINTED NAME" --role admin '
    "(the first user of an empty record is its administrator)"
)
"""How to add the first administrator, shown wherever a station has no users yet."""

SIGNING_IN = "signing in"
"""Purpose of an authentication at the sign-in screen."""
SIGNING = "signing"
"""Purpose of a PIN re-entered for an electronic signature."""
ADMINISTERING = "administering users"
"""Purpose of a PIN given with --as for a change to users."""


class AuthError(InspectStationError):
    """Sign-in, signature or administration refused; the message says why in one sentence."""


class LockedOut(AuthError):
    """The user is locked out after repeated wrong PINs; the attempt was recorded."""

    def __init__(self, message: str, user_id: str, until: dt.datetime) -> None:
        super().__init__(message)
        self.user_id = user_id
        self.until = until


class WrongPinError(AuthError):
    """The PIN is wrong; the attempt was recorded and counted."""

    def __init__(self, message: str, user_id: str, left: int) -> None:
        super().__init__(message)
        self.user_id = user_id
        self.left = left
        """Tries left before the lock-out (0: the user is now locked)."""


class NotAuthorized(AuthError):
    """The authenticated user may not do this."""


class UserError(InspectStationError):
    """A user cannot be added or changed as asked."""


class Role(StrEnum):
    """What a user may do."""

    INSPECTOR = "inspector"
    """Measures parts and rejects them."""
    SUPERVISOR = "supervisor"
    """Also reviews rejects and signs dispositions."""
    ADMIN = "admin"
    """Manages users: adds them, sets PINs, qualifies and deactivates them. Does not sign."""
    CELL = "cell"
    """An automation cell: records measurements through ``record``; has no PIN, never signs in."""


class Authority(StrEnum):
    """On what authority an actor changes users (recorded with every change)."""

    ADMINISTRATOR = "administrator"
    """An administrator, authenticated with their PIN."""
    BOOTSTRAP = "bootstrap"
    """The first user of an empty record, who becomes its administrator."""
    FIRST_ADMINISTRATOR = "supervisor, before the first administrator"
    """A supervisor of a record that predates administrators, adding the first one."""
    SELF = "own PIN"
    """A user changing their own PIN, authenticated with the current one."""


@dataclass(frozen=True)
class User:
    """A user's current state (the latest user record)."""

    user_id: str
    """Sign-in id."""
    name: str
    """Printed name, shown on signatures."""
    role: Role
    """inspector, supervisor, admin or cell."""
    qualifications: tuple[str, ...]
    """Part-number patterns the user is qualified to inspect (fnmatch, e.g. BRK-*)."""
    badge: str | None
    """Badge code a scanner types instead of the user id."""
    active: bool
    """Whether the user may sign in and record."""

    def qualified_for(self, part_number: str) -> bool:
        """Whether any qualification pattern matches the part number (case-insensitive)."""
        return any(
            fnmatch.fnmatchcase(part_number.upper(), pattern.upper())
            for pattern in self.qualifications
        )


@dataclass(frozen=True)
class PinState:
    """Where a user's PIN stands, for listings (never the verifier)."""

    state: str
    """``set``, ``legacy`` (its hash is in a record written by an earlier version: set it
    again), ``none`` (an automation cell) or ``missing``."""
    set_at: str | None
    """When it was set (UTC)."""
    set_by: str | None
    """Who set it."""
    locked_until: dt.datetime | None
    """End of a lock-out in force now."""


def describe_id(identifier: str) -> str:
    """How an id someone typed may be written down: as it is if it could be a user id and
    does not look like a PIN (all digits); otherwise "unknown id (N characters)"."""
    text = identifier.strip()
    if _USER_ID.fullmatch(text) and not text.isdigit():
        return text
    return f"unknown id ({len(text)} characters)"


def article(word: str) -> str:
    """'an' before a vowel, else 'a'."""
    return "an" if word[:1] in "aeiou" else "a"


def named_id(identifier: str) -> str:
    """An id someone typed, for a message: quoted, or only its length if it may be a PIN."""
    text = identifier.strip()
    if describe_id(text) == text:
        return repr(text)
    return f"with that id ({len(text)} characters, not shown)"


def user_from_row(row: dict[str, Any]) -> User:
    """A User from its current row of the users table."""
    return User(
        user_id=row["user_id"],
        name=row["name"],
        role=Role(row["role"]),
        qualifications=tuple(json.loads(row["qualifications"] or "[]")),
        badge=row["badge"],
        active=bool(row["active"]),
    )


def user_from_body(body: dict[str, Any]) -> User:
    """A User from the body of a user record."""
    return User(
        user_id=body["user_id"],
        name=body["name"],
        role=Role(body["role"]),
        qualifications=tuple(body["qualifications"]),
        badge=body["badge"],
        active=bool(body["active"]),
    )


def checked_patterns(values: Iterable[str]) -> list[str]:
    """Qualification patterns, checked: part-number characters and the wildcards * ? [ ]."""
    out = []
    for value in values:
        text = value.strip()
        if not re.fullmatch(r"[A-Za-z0-9_.\-*?\[\]!]{1,64}", text):
            raise UserError(
                f"{value!r} is not a part-number pattern (letters, digits, . _ - and the "
                "wildcards * ? [ ], at most 64 characters)."
            )
        if text not in out:
            out.append(text)
    return out


def checked_fields(
    user_id: str, name: str, role: Role | str, qualifications: Iterable[str], badge: str | None
) -> dict[str, Any]:
    """The checked fields of a new user record (without its change and authority)."""
    if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
        shown = quote(user_id) if isinstance(user_id, str) else type(user_id).__name__
        raise UserError(f"User id {shown} must be 1-32 letters, digits, '.', '_' or '-'.")
    if not isinstance(name, str) or not name.strip(" "):
        raise UserError("A user needs a printed name (it appears on signatures).")
    try:
        # The one text validator: no controls, bidi overrides or separators in a name.
        text = check_line(name, "printed name", max_length=MAX_NAME)
    except TextError as exc:
        raise UserError(exc.message) from None
    try:
        kind = Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise UserError(f"Role must be one of {choices}, not {role!r}.") from None
    if badge is not None and not (isinstance(badge, str) and _USER_ID.fullmatch(badge)):
        raise UserError("A badge code is 1-32 letters, digits, '.', '_' or '-'.")
    return {
        "user_id": user_id,
        "name": text,
        "role": kind.value,
        "qualifications": checked_patterns(qualifications),
        "badge": badge or None,
    }


__all__ = [
    "ADMINISTERING",
    "FIRST_ADMIN_HINT",
    "MAX_NAME",
    "SIGNING",
    "SIGNING_IN",
    "AuthError",
    "Authority",
    "LockedOut",
    "NotAuthorized",
    "PinState",
    "Role",
    "User",
    "UserError",
    "WrongPinError",
    "article",
    "checked_fields",
    "checked_patterns",
    "describe_id",
    "named_id",
    "user_from_body",
    "user_from_row",
]
