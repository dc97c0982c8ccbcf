"""Authentication attempts: the lock-out counted in the credential table, each attempt recorded.

Lock-out is atomic: an attempt is counted in the credential table, in one transaction with the
check of the lock, *before* the slow hash is computed; so however many attempts arrive at once,
at most ``MAX_FAILURES`` wrong PINs are ever checked before the lock holds. Every attempt is a
``sign_in`` journal record (success or refusal, with its purpose); never the PIN.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from inspect_station.clock import format_utc, parse_utc, wall_clock
from inspect_station.store import LocalStore, credentials
from inspect_station.users.model import SIGNING_IN, AuthError, LockedOut, User, WrongPinError
from inspect_station.users.pins import check_pin

MAX_FAILURES = 5
"""Consecutive wrong PINs after which a user is locked out."""
LOCKOUT = dt.timedelta(minutes=15)
"""How long a lock-out lasts (an administrator can lift it earlier by setting a new PIN)."""


def check_attempt(
    store: LocalStore,
    user: User,
    pin: str,
    now: dt.datetime,
    *,
    purpose: str,
    record_success: bool,
) -> None:
    """Count the attempt, check the lock, then the PIN; record what happened.

    The attempt is counted (and the lock checked) in one transaction before the slow
    hash, so concurrent attempts cannot all slip through before the lock holds.
    """
    wrong_reason = "wrong PIN" if purpose == SIGNING_IN else f"wrong PIN when {purpose}"
    refusal: AuthError | None = None
    verifier = None
    failures = 0
    with store.transaction() as tx:
        cred = credentials.read(tx, user.user_id)
        until = lock_end(cred, now) if cred else None
        if cred is None:
            tx.append("sign_in", attempt_body(user.user_id, False, "no PIN", purpose))
            refusal = AuthError(f"User {user.user_id} has no PIN; ask an administrator to set one.")
        elif until is not None:
            tx.append("sign_in", attempt_body(user.user_id, False, "locked out", purpose))
            refusal = LockedOut(
                f"User {user.user_id} is locked after {MAX_FAILURES} wrong PINs until "
                f"{wall_clock(until)}; ask an administrator to set a new PIN.",
                user.user_id,
                until,
            )
        else:
            expired = cred["failures"] >= MAX_FAILURES
            failures = credentials.count_failure(tx, user.user_id, format_utc(now), restart=expired)
            verifier = cred["verifier"]
    if refusal is not None:
        raise refusal
    ok = check_pin(pin or "", verifier)
    with store.transaction() as tx:
        if ok:
            credentials.clear_failures(tx, user.user_id)
            if record_success:
                tx.append("sign_in", attempt_body(user.user_id, True, None, purpose))
            return
        tx.append("sign_in", attempt_body(user.user_id, False, wrong_reason, purpose))
    left = max(0, MAX_FAILURES - failures)
    if left == 0:
        raise WrongPinError(
            f"Wrong PIN. User {user.user_id} is now locked for "
            f"{int(LOCKOUT.total_seconds() // 60)} minutes.",
            user.user_id,
            0,
        )
    raise WrongPinError(
        f"Wrong PIN ({left} {'try' if left == 1 else 'tries'} left).", user.user_id, left
    )


def record_refusal(store: LocalStore, user_id: str, reason: str, purpose: str = SIGNING_IN) -> None:
    """Record a refused attempt that no PIN was checked for."""
    store.append("sign_in", attempt_body(user_id, False, reason, purpose))


def attempt_body(user_id: str, success: bool, reason: str | None, purpose: str) -> dict[str, Any]:
    """The body of a sign_in record: one authentication attempt."""
    return {"user_id": user_id, "success": success, "reason": reason, "purpose": purpose}


def lock_end(cred: dict[str, Any], now: dt.datetime) -> dt.datetime | None:
    """When the lock-out of a credential row ends, if it is in force at ``now``."""
    if cred["failures"] < MAX_FAILURES or not cred["last_failure_at"]:
        return None
    until = parse_utc(cred["last_failure_at"]) + LOCKOUT
    return until if until > now else None


__all__ = [
    "LOCKOUT",
    "MAX_FAILURES",
    "attempt_body",
    "check_attempt",
    "format_utc",
    "lock_end",
    "parse_utc",
    "record_refusal",
]
