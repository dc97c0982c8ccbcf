"""Electronic signatures (21 CFR Part 11): who signs, with what meaning, when, bound to what.

A signed act -- a disposition, its second signature, the resolution of conflicting
dispositions, and any later one (a lock of control limits, an alarm acknowledgement) -- is a
journal record of the signer's own station that holds:

- the signature (§11.50): user id, printed name, role, meaning and UTC time of signing
  (``signature_body``), read back as a ``Signature``;
- what was signed (§11.70): the SHA-256 of the RFC 8785 bytes of a content object
  (``content_hash``), and the records that content names, by station, seq and UUID, so that an
  auditor can recompute the hash from the journal alone.

For a reject, the content is ``signed_content``, and every disposition records its hash::

    signed_hash = SHA-256(RFC 8785 JSON of {"format": 1,
                                            "measurements": [hash, ...],
                                            "result": hash})

where ``result`` is the hash of the reject's result record and ``measurements`` the hashes of
every measurement record of that part inspection (corrections and superseded values included),
in seq order.

The signer is authenticated at the moment of the act (``authenticate_signer``): the PIN is
entered again and a wrong one counts toward the lock-out, as at sign-in; the roles an act needs
come from the caller, never from the signer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inspect_station.clock import wall_clock
from inspect_station.errors import InspectStationError
from inspect_station.records import RecordRef, RecordSource
from inspect_station.store import journal
from inspect_station.users import (
    SIGNING,
    AuthError,
    LockedOut,
    Role,
    User,
    UserDirectory,
    WrongPinError,
    named_id,
)

SIGNED_CONTENT_FORMAT = 1
"""Version of the signed-content definition written into every disposition."""
SIGNERS: frozenset[Role] = frozenset({Role.SUPERVISOR})
"""Who may sign a disposition, its second signature or a resolution."""


class SigningError(InspectStationError):
    """A signature cannot be given; the message says why in one sentence."""


class NotPermitted(SigningError):
    """The user may not sign this (wrong role, disabled, locked out, signed already, ...)."""


class WrongPin(SigningError):
    """The PIN re-entered for a signature is wrong; the attempt was recorded."""


@dataclass(frozen=True)
class Signature:
    """One electronic signature (21 CFR Part 11 §11.50)."""

    user_id: str
    """Signer's user id."""
    name: str
    """Signer's printed name."""
    role: str | None
    """Signer's role when signing."""
    meaning: str
    """What the signature means, e.g. 'approval of disposition'."""
    signed_at: str
    """UTC time of signing (RFC 3339, Z)."""
    station: str
    """Station whose journal holds the signature record."""
    record: str
    """UUID of the record that holds the signature."""

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Signature:
        """The signature a sealed journal record holds (its body's ``signature``)."""
        return cls(**record["body"]["signature"], station=record["station"], record=record["uuid"])

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Signature:
        """The signature of a projection row (a row without a role column gives no role)."""
        return cls(
            row["user_id"],
            row["name"],
            row.get("role"),
            row["meaning"],
            row["signed_at"],
            row["station"],
            row["uuid"],
        )

    def json(self) -> dict[str, Any]:
        """The signature as a JSON object."""
        return {
            "user_id": self.user_id,
            "name": self.name,
            "role": self.role,
            "meaning": self.meaning,
            "signed_at": self.signed_at,
            "station": self.station,
            "record": self.record,
        }


def signature_body(user: User, meaning: str | None, signed_at: str) -> dict[str, Any]:
    """What a signature records (Part 11 §11.50): who, printed name, role, meaning, when (UTC)."""
    return {
        "user_id": user.user_id,
        "name": user.name,
        "role": user.role.value,
        "meaning": meaning,
        "signed_at": signed_at,
    }


def content_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the RFC 8785 bytes of a signed content object."""
    return hashlib.sha256(journal.canonical_json(content)).hexdigest()


def signed_content(records: Sequence[RecordRef]) -> dict[str, Any]:
    """The object whose canonical JSON a disposition signs: measurement hashes, then the result.

    ``records`` are the measurement records in seq order followed by the result record.
    """
    *measurements, result = records
    return {
        "format": SIGNED_CONTENT_FORMAT,
        "measurements": [r.hash for r in measurements],
        "result": result.hash,
    }


def signed_hash(records: Sequence[RecordRef]) -> str:
    """SHA-256 (hex) of the RFC 8785 bytes of ``signed_content(records)``."""
    return content_hash(signed_content(records))


def changed_records(source: RecordSource, refs: Sequence[RecordRef], what: str) -> str | None:
    """Why the records a signature binds cannot be signed now (missing from ``source``, or not
    matching their hash), in one sentence about ``what``; None when every one stands."""
    keys = [(r.station, r.seq) for r in refs]
    records = source.journal_records(keys)
    if len(records) != len(keys):
        return f"Some records of {what} are missing from the source; reload it."
    for record in records:
        if journal.record_hash(record) != record["hash"]:
            return (
                f"Record seq {record['seq']} of station {record['station']} does not match "
                "its hash; run inspect-station verify before signing."
            )
    return None


def authenticate_signer(
    users: UserDirectory,
    user_id: str,
    pin: str,
    act: str,
    roles: frozenset[Role] = SIGNERS,
) -> User:
    """The active user ``user_id`` in one of ``roles``, whose PIN re-entered now is right.

    ``act`` says what is being signed ('sign a disposition'). A wrong PIN is recorded and counts
    toward the lock-out; every refusal is NotPermitted or WrongPin, ending "nothing was signed".
    """
    user = users.get((user_id or "").strip())
    if user is None:
        raise NotPermitted(
            f"There is no user {named_id(user_id or '')} at station {users.store.station}."
        )
    if not user.active:
        raise NotPermitted(f"User {user.user_id} is disabled and cannot {act}.")
    if user.role not in roles:
        raise NotPermitted(
            f"Only {_roles_text(roles)} can {act}; {user.name} ({user.user_id}) is "
            f"{_article(user.role.value)} {user.role.value}."
        )
    try:
        return users.confirm(user.user_id, pin, SIGNING)
    except LockedOut as exc:
        raise NotPermitted(
            f"User {user.user_id} is locked after repeated wrong PINs until "
            f"{wall_clock(exc.until)}; nothing was signed."
        ) from None
    except WrongPinError as exc:
        raise WrongPin(
            "Wrong PIN; nothing was signed"
            + (
                f", and user {user.user_id} is now locked for a while."
                if exc.left == 0
                else f" ({exc.left} {'try' if exc.left == 1 else 'tries'} left before "
                f"user {user.user_id} is locked)."
            )
        ) from None
    except AuthError as exc:
        raise NotPermitted(f"{exc.message.rstrip('.')}; nothing was signed.") from None


def _article(word: str) -> str:
    """'an' before a vowel, else 'a'."""
    return "an" if word[:1] in "aeiou" else "a"


def _roles_text(roles: frozenset[Role]) -> str:
    """'a supervisor', 'a supervisor or an admin': the roles in their declared order."""
    return " or ".join(f"{_article(r.value)} {r.value}" for r in Role if r in roles)


__all__ = [
    "SIGNED_CONTENT_FORMAT",
    "SIGNERS",
    "NotPermitted",
    "Signature",
    "SigningError",
    "WrongPin",
    "authenticate_signer",
    "changed_records",
    "content_hash",
    "signature_body",
    "signed_content",
    "signed_hash",
]
