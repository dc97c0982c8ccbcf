"""Users, who may administer them, PINs, sign-in with lock-out, qualifications, acknowledgements.

Authority (21 CFR Part 11 §11.10(d), (g), §11.300):

- Administrators (role ``admin``) manage users. Every change is made by an ``Actor``: a user
  whose PIN was checked at the moment of the act (``authorize``); the journal names that
  authenticated user, never free text. The first user of an empty record is its bootstrap
  administrator (``bootstrap``). On a record written before administrators existed, a
  supervisor may add the first administrator, and nothing else.
- A user may change their own PIN by giving the current one; nobody can lift their own
  lock-out (a locked user cannot authenticate, and ``set_pin`` refuses it explicitly).

Credentials never enter the journal: PIN verifiers (scrypt) live in the local, non-replicated
credential table (``store.credentials``); a user record says only that a PIN was set, by whom
and when. Every authentication attempt is a journal record; an unknown id that looks like a PIN
is recorded as "unknown id (N characters)", never in clear.

Lock-out is atomic: an attempt is counted in the credential table, in one transaction with the
check of the lock, *before* the slow hash is computed; so however many attempts arrive at once,
at most ``MAX_FAILURES`` wrong PINs are ever checked before the lock holds.
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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from inspect_station.errors import InspectStationError
from inspect_station.spec.diff import Change, diff_specs
from inspect_station.spec.model import PartSpec
from inspect_station.store import LocalStore, Transaction, credentials, people
from inspect_station.text import TextError, check_line, quote

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
"""scrypt cost of a new PIN verifier: 32 MiB and about 60 ms per check on one core of the
development machine (see README, "PINs and credentials", and ``bench/bench_pin_hash.py``)."""
_SCRYPT_MAX_N, _SCRYPT_MAX_R, _SCRYPT_MAX_P = 2**20, 32, 16
"""Largest parameters a stored verifier may ask for (a hostile row cannot exhaust memory)."""
_SALT_BYTES, _KEY_BYTES = 16, 32
MIN_PIN, MAX_PIN = 6, 12
"""A PIN is this many digits."""
_USER_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")
MAX_NAME = 80
"""Longest printed name."""
MAX_FAILURES = 5
"""Consecutive wrong PINs after which a user is locked out."""
LOCKOUT = dt.timedelta(minutes=15)
"""How long a lock-out lasts (an administrator can lift it earlier by setting a new PIN)."""

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

_TS = "%Y-%m-%dT%H:%M:%S.%fZ"


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


_ACTOR_TOKEN = object()


@dataclass(frozen=True)
class Actor:
    """A user authenticated at the moment of an administrative act; made by ``UserDirectory``."""

    user: User
    """Who acts."""
    authority: Authority
    """On what authority."""
    token: object = field(repr=False, compare=False, default=None)
    """Proof that the directory made this actor (``authorize`` or ``bootstrap``)."""

    def __post_init__(self) -> None:
        if self.token is not _ACTOR_TOKEN:
            raise NotAuthorized("An actor is made only by authenticating with a PIN.")


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


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """A salted scrypt verifier of a PIN: ``scrypt$N$r$p$salt$hash`` (base64)."""
    salt = salt or os.urandom(_SALT_BYTES)
    digest = _scrypt(pin, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, _KEY_BYTES)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        pin.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        dklen=length,
        maxmem=256 * r * (n + p) + (1 << 20),
    )


def check_pin(pin: str, stored: str | None) -> bool:
    """Whether ``pin`` matches a stored verifier (constant-time comparison)."""
    if not stored:
        return False
    try:
        scheme, n_text, r_text, p_text, salt_text, digest_text = stored.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        if scheme != "scrypt" or not (
            1 < n <= _SCRYPT_MAX_N and n & (n - 1) == 0 and 0 < r <= _SCRYPT_MAX_R
        ):
            return False
        if not 0 < p <= _SCRYPT_MAX_P:
            return False
        digest = base64.b64decode(digest_text, validate=True)
        if not 16 <= len(digest) <= 64:
            return False
        actual = _scrypt(pin, base64.b64decode(salt_text, validate=True), n, r, p, len(digest))
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(actual, digest)


def validate_pin(pin: str) -> None:
    """A PIN is 6 to 12 digits (typed with gloves on a numeric pad) and not a trivial one."""
    if not re.fullmatch(rf"\d{{{MIN_PIN},{MAX_PIN}}}", pin or ""):
        raise UserError(f"A PIN is {MIN_PIN} to {MAX_PIN} digits.")
    if trivial_pin(pin):
        raise UserError(
            "That PIN is too easy to guess (one digit repeated, a run such as 123456 or a "
            "short pattern repeated such as 121212); choose another."
        )


def trivial_pin(pin: str) -> bool:
    """Whether a PIN is a repeated digit, a run up or down (123456, 987654) or a repeat of a
    pattern of up to three digits (121212, 123123)."""
    digits = [int(c) for c in pin]
    steps = {(b - a) % 10 for a, b in itertools.pairwise(digits)}
    if len(steps) == 1 and steps <= {0, 1, 9}:
        return True
    return any(len(pin) % k == 0 and pin == pin[:k] * (len(pin) // k) for k in (1, 2, 3))


def describe_id(identifier: str) -> str:
    """How an id someone typed may be written down: as it is if it could be a user id and
    does not look like a PIN (all digits); otherwise "unknown id (N characters)"."""
    text = identifier.strip()
    if _USER_ID.fullmatch(text) and not text.isdigit():
        return text
    return f"unknown id ({len(text)} characters)"


def _ts(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(_TS)


def _parse_ts(ts: str) -> dt.datetime:
    return dt.datetime.strptime(ts, _TS).replace(tzinfo=dt.UTC)


def _clock_time(moment: dt.datetime) -> str:
    return moment.astimezone().strftime("%H:%M")


def _user(row: dict[str, Any]) -> User:
    return User(
        user_id=row["user_id"],
        name=row["name"],
        role=Role(row["role"]),
        qualifications=tuple(json.loads(row["qualifications"] or "[]")),
        badge=row["badge"],
        active=bool(row["active"]),
    )


def _body_user(body: dict[str, Any]) -> User:
    return User(
        user_id=body["user_id"],
        name=body["name"],
        role=Role(body["role"]),
        qualifications=tuple(body["qualifications"]),
        badge=body["badge"],
        active=bool(body["active"]),
    )


class UserDirectory:
    """Users of a station, kept as journal records; their PINs in its credential table."""

    def __init__(
        self, store: LocalStore, *, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        self.store = store
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    # -- reading ---------------------------------------------------------------------------

    def get(self, user_id: str) -> User | None:
        """The user with this id, if any."""
        row = people.current_user(self.store, user_id)
        return _user(row) if row else None

    def list(self) -> list[User]:
        """Every user, by id."""
        return [_user(r) for r in people.current_users(self.store)]

    def is_empty(self) -> bool:
        """Whether the record has no user yet (the next one added is its administrator)."""
        return not people.has_user_records(self.store)

    def resolve(self, identifier: str) -> User | None:
        """The user with this user id or scanned badge code."""
        ident = identifier.strip()
        if not ident:
            return None
        row = people.current_user(self.store, ident) or people.current_user_by_badge(
            self.store, ident
        )
        return _user(row) if row else None

    def pin_states(self, now: dt.datetime | None = None) -> dict[str, PinState]:
        """user id -> where the user's PIN stands (never the verifier)."""
        now = now or self._clock()
        rows = credentials.states(self.store)
        out: dict[str, PinState] = {}
        for user in self.list():
            if rows is None:  # a record not upgraded yet: PIN hashes are in its user records
                legacy = "none" if user.role is Role.CELL else "legacy"
                out[user.user_id] = PinState(legacy, None, None, None)
                continue
            row = rows.get(user.user_id)
            if row is None:
                state = "none" if user.role is Role.CELL else "missing"
                out[user.user_id] = PinState(state, None, None, None)
                continue
            out[user.user_id] = PinState(
                row["origin"], row["set_at"], row["set_by"], _lock_end(row, now)
            )
        return out

    def locked_until(self, user_id: str, now: dt.datetime | None = None) -> dt.datetime | None:
        """When the user's lock-out ends, if they are locked out now."""
        state = self.pin_states(now).get(user_id)
        return state.locked_until if state else None

    # -- authority -------------------------------------------------------------------------

    def bootstrap(
        self,
        user_id: str,
        name: str,
        pin: str,
        *,
        qualifications: Iterable[str] = (),
        badge: str | None = None,
    ) -> Actor:
        """Add the first user of an empty record as its administrator; refused otherwise."""
        fields = _fields(user_id, name, Role.ADMIN, qualifications, badge)
        validate_pin(pin)
        verifier = hash_pin(pin)
        with self.store.transaction() as tx:
            if people.has_user_records(tx):
                raise NotAuthorized(
                    f"Station {self.store.station} already has users: an administrator adds "
                    "the next one (give --as ADMIN_ID and that administrator's PIN)."
                )
            body = {
                **fields,
                "active": True,
                "change": "added as the bootstrap administrator (first user of the record)",
                "changed_by": fields["user_id"],
                "authority": Authority.BOOTSTRAP.value,
                "pin_set": True,
            }
            record = tx.append("user", body)
            credentials.put(
                tx,
                fields["user_id"],
                verifier,
                set_at=record["ts"],
                set_by=fields["user_id"],
                set_seq=record["seq"],
            )
        return Actor(_body_user(body), Authority.BOOTSTRAP, _ACTOR_TOKEN)

    def authorize(self, actor_id: str, pin: str, *, now: dt.datetime | None = None) -> Actor:
        """The user ``actor_id``, authenticated by PIN now, to change users.

        An administrator may do every change; any other user only change their own PIN;
        a supervisor of a record that never had an administrator may add the first one.
        A wrong PIN counts toward the lock-out like a wrong PIN at sign-in.
        """
        user = self._known(actor_id, ADMINISTERING)
        if user.role is Role.ADMIN:
            authority = Authority.ADMINISTRATOR
        elif user.role is Role.SUPERVISOR and not people.had_administrator(self.store):
            authority = Authority.FIRST_ADMINISTRATOR
        elif user.role is Role.CELL:
            self._refused(user.user_id, "automation cell", ADMINISTERING)
            raise NotAuthorized(f"{user.user_id} is an automation cell and has no PIN.")
        else:
            authority = Authority.SELF
        self._check_pin(user, pin, now, purpose=ADMINISTERING, record_success=False)
        return Actor(user, authority, _ACTOR_TOKEN)

    def _known(self, user_id: str, purpose: str) -> User:
        """The active user ``user_id``; an unknown or disabled one is recorded and refused."""
        user = self.get((user_id or "").strip())
        if user is None:
            self._refused(describe_id(user_id or "") or "?", "unknown user", purpose)
            raise AuthError(
                f"There is no user {named_id(user_id or '')} at station {self.store.station}."
            )
        if not user.active:
            self._refused(user.user_id, "disabled", purpose)
            raise AuthError(f"User {user.user_id} is disabled; ask an administrator.")
        return user

    def _refused(self, user_id: str, reason: str, purpose: str = SIGNING_IN) -> None:
        """Record a refused attempt that no PIN was checked for."""
        self.store.append(
            "sign_in", {"user_id": user_id, "success": False, "reason": reason, "purpose": purpose}
        )

    def _current_actor(self, tx: Transaction, actor: Actor) -> User:
        """The actor as the record says now (still there and active), inside ``tx``."""
        row = people.current_user(tx, actor.user.user_id)
        user = _user(row) if row else None
        if user is None or not user.active or user.role is not actor.user.role:
            raise NotAuthorized(
                f"{actor.user.user_id} was changed or disabled since signing in; nothing was done."
            )
        return user

    def _permission_error(self, actor: Actor, what: str) -> NotAuthorized | None:
        """Why the actor may not do ``what`` (an administrator's act), or None if they may."""
        if actor.authority in (Authority.ADMINISTRATOR, Authority.BOOTSTRAP):
            return None
        if actor.authority is Authority.FIRST_ADMINISTRATOR:
            return NotAuthorized(
                f"Station {self.store.station} has no administrator yet: supervisor "
                f"{actor.user.user_id} may only add the first administrator (--role admin)."
            )
        return NotAuthorized(
            f"Only an administrator can {what}; {actor.user.name} ({actor.user.user_id}) is "
            f"{_article(actor.user.role.value)} {actor.user.role.value}."
        )

    def _permit(self, actor: Actor, what: str) -> None:
        """Refuse, and record the refusal, unless the actor may do ``what``."""
        error = self._permission_error(actor, what)
        if error is not None:
            self._refused(actor.user.user_id, f"not permitted to {what}", ADMINISTERING)
            raise error

    def _require_admin(self, tx: Transaction, actor: Actor, what: str) -> None:
        """Inside the change's transaction: the actor is still there, active, and may do it."""
        self._current_actor(tx, actor)
        error = self._permission_error(actor, what)
        if error is not None:
            raise error

    # -- changing --------------------------------------------------------------------------

    def add(
        self,
        user_id: str,
        name: str,
        role: Role | str,
        pin: str | None,
        *,
        by: Actor,
        qualifications: Iterable[str] = (),
        badge: str | None = None,
    ) -> User:
        """Add a user; the PIN goes to the credential table, the journal says that one was set.

        An automation cell (role ``cell``) has no PIN.
        """
        fields = _fields(user_id, name, role, qualifications, badge)
        kind = Role(fields["role"])
        first_admin = by.authority is Authority.FIRST_ADMINISTRATOR and kind is Role.ADMIN
        if not first_admin:
            self._permit(by, "add users")
        if kind is Role.CELL:
            if pin:
                raise UserError("An automation cell has no PIN; leave it out.")
            verifier = None
        else:
            validate_pin(pin or "")
            verifier = hash_pin(pin or "")
        with self.store.transaction() as tx:
            if first_admin:
                self._current_actor(tx, by)
                if people.had_administrator(tx):
                    raise NotAuthorized(
                        f"Station {self.store.station} has an administrator now; ask them."
                    )
            else:
                self._require_admin(tx, by, "add users")
            if people.current_user(tx, fields["user_id"]) is not None:
                raise UserError(f"User {fields['user_id']} already exists.")
            if badge and (
                people.current_user_by_badge(tx, badge) or people.current_user(tx, badge)
            ):
                raise UserError(f"Badge {badge} already belongs to another user.")
            body = {
                **fields,
                "active": True,
                "change": "added",
                "changed_by": by.user.user_id,
                "authority": by.authority.value,
                "pin_set": verifier is not None,
            }
            record = tx.append("user", body)
            if verifier is not None:
                credentials.put(
                    tx,
                    fields["user_id"],
                    verifier,
                    set_at=record["ts"],
                    set_by=by.user.user_id,
                    set_seq=record["seq"],
                )
        return _body_user(body)

    def _update(
        self, tx: Transaction, user_id: str, by: Actor, change: str, **fields: Any
    ) -> dict[str, Any]:
        row = people.current_user(tx, user_id)
        if row is None:
            raise UserError(f"There is no user {named_id(user_id)}.")
        current = _user(row)
        body = {
            "user_id": current.user_id,
            "name": current.name,
            "role": current.role.value,
            "qualifications": list(current.qualifications),
            "badge": current.badge,
            "active": current.active,
            "change": change,
            "changed_by": by.user.user_id,
            "authority": by.authority.value,
            "pin_set": False,
        }
        body.update(fields)
        return tx.append("user", body)

    def set_pin(self, user_id: str, pin: str, *, by: Actor, now: dt.datetime | None = None) -> User:
        """Give a user a new PIN: an administrator for anyone (this lifts a lock-out), or a
        user for themselves (never while locked out)."""
        validate_pin(pin)
        target = self.get(user_id)
        if target is None:
            raise UserError(f"There is no user {named_id(user_id)}.")
        if target.role is Role.CELL:
            raise UserError(f"{target.user_id} is an automation cell and has no PIN.")
        own = by.user.user_id == target.user_id
        if not own:
            self._permit(by, "set another user's PIN")
        verifier = hash_pin(pin)
        with self.store.transaction() as tx:
            if own:
                self._current_actor(tx, by)
                cred = credentials.read(tx, target.user_id)
                if cred is not None and _lock_end(cred, now or self._clock()) is not None:
                    raise NotAuthorized(
                        f"{target.user_id} is locked out and cannot lift their own lock-out; "
                        "ask an administrator."
                    )
                change = "PIN changed by the user"
            else:
                self._require_admin(tx, by, "set another user's PIN")
                change = "PIN set by an administrator"
            record = self._update(tx, target.user_id, by, change, pin_set=True)
            credentials.put(
                tx,
                target.user_id,
                verifier,
                set_at=record["ts"],
                set_by=by.user.user_id,
                set_seq=record["seq"],
            )
        return _body_user(record["body"])

    def qualify(
        self,
        user_id: str,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        *,
        by: Actor,
    ) -> User:
        """Add or remove part-number patterns the user is qualified for."""
        added, removed = _patterns(add), _patterns(remove)
        self._permit(by, "qualify users")
        with self.store.transaction() as tx:
            self._require_admin(tx, by, "qualify users")
            row = people.current_user(tx, user_id)
            if row is None:
                raise UserError(f"There is no user {named_id(user_id)}.")
            patterns = [p for p in _user(row).qualifications if p not in removed]
            patterns += [p for p in added if p not in patterns]
            change = f"qualifications +{added} -{removed}"
            record = self._update(tx, user_id, by, change, qualifications=patterns)
        return _body_user(record["body"])

    def set_active(self, user_id: str, active: bool, *, by: Actor) -> User:
        """Enable or disable a user; the last active administrator cannot be disabled."""
        self._permit(by, "enable or disable users")
        with self.store.transaction() as tx:
            self._require_admin(tx, by, "enable or disable users")
            row = people.current_user(tx, user_id)
            if row is None:
                raise UserError(f"There is no user {named_id(user_id)}.")
            if (
                not active
                and row["role"] == Role.ADMIN.value
                and people.active_administrators(tx) == [user_id]
            ):
                raise UserError(
                    f"{user_id} is the last active administrator; add another one first."
                )
            record = self._update(
                tx, user_id, by, "enabled" if active else "disabled", active=active
            )
        return _body_user(record["body"])

    # -- authenticating --------------------------------------------------------------------

    def authenticate(self, identifier: str, pin: str, now: dt.datetime | None = None) -> User:
        """Sign a user in by id or badge and PIN; every attempt is recorded."""
        user = self.resolve(identifier)
        if user is None:
            self._refused(describe_id(identifier) or "?", "unknown user")
            raise AuthError("Unknown user id or badge.")
        if user.role is Role.CELL:
            self._refused(user.user_id, "automation cell")
            raise AuthError(
                f"{user.user_id} is an automation cell; cells record through the record "
                "command and do not sign in."
            )
        if not user.active:
            self._refused(user.user_id, "disabled")
            raise AuthError(f"User {user.user_id} is disabled; ask an administrator.")
        self._check_pin(user, pin, now, purpose=SIGNING_IN, record_success=True)
        return user

    def confirm(
        self, user_id: str, pin: str, purpose: str = SIGNING, now: dt.datetime | None = None
    ) -> User:
        """Check a PIN re-entered for an act (a signature): counted toward the lock-out.

        A wrong PIN raises WrongPinError, a lock-out LockedOut; both attempts are recorded.
        """
        user = self._known(user_id, purpose)
        self._check_pin(user, pin, now, purpose=purpose, record_success=False)
        return user

    def _check_pin(
        self,
        user: User,
        pin: str,
        now: dt.datetime | None,
        *,
        purpose: str,
        record_success: bool,
    ) -> None:
        """Count the attempt, check the lock, then the PIN; record what happened.

        The attempt is counted (and the lock checked) in one transaction before the slow
        hash, so concurrent attempts cannot all slip through before the lock holds.
        """
        now = now or self._clock()
        wrong_reason = "wrong PIN" if purpose == SIGNING_IN else f"wrong PIN when {purpose}"
        refusal: AuthError | None = None
        verifier = None
        failures = 0
        with self.store.transaction() as tx:
            cred = credentials.read(tx, user.user_id)
            until = _lock_end(cred, now) if cred else None
            if cred is None:
                tx.append("sign_in", _attempt(user.user_id, False, "no PIN", purpose))
                refusal = AuthError(
                    f"User {user.user_id} has no PIN; ask an administrator to set one."
                )
            elif until is not None:
                tx.append("sign_in", _attempt(user.user_id, False, "locked out", purpose))
                refusal = LockedOut(
                    f"User {user.user_id} is locked after {MAX_FAILURES} wrong PINs until "
                    f"{_clock_time(until)}; ask an administrator to set a new PIN.",
                    user.user_id,
                    until,
                )
            else:
                expired = cred["failures"] >= MAX_FAILURES
                failures = credentials.count_failure(tx, user.user_id, _ts(now), restart=expired)
                verifier = cred["verifier"]
        if refusal is not None:
            raise refusal
        ok = check_pin(pin or "", verifier)
        with self.store.transaction() as tx:
            if ok:
                credentials.clear_failures(tx, user.user_id)
                if record_success:
                    tx.append("sign_in", _attempt(user.user_id, True, None, purpose))
                return
            tx.append("sign_in", _attempt(user.user_id, False, wrong_reason, purpose))
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

    def sign_out(self, user_id: str, reason: str = "signed out") -> None:
        """Record that a user's session ended (by the user or by the idle time-out)."""
        self.store.append("sign_out", {"user_id": user_id, "success": True, "reason": reason})

    # -- recording -------------------------------------------------------------------------

    def require_recorder(self, user_id: str, part_number: str) -> User:
        """The active user ``user_id`` qualified to record ``part_number`` (headless record)."""
        user = self.get((user_id or "").strip())
        if user is None:
            raise UserError(
                f"There is no user {named_id(user_id or '')} at station "
                f"{self.store.station}; --inspector must name a user (users list), an "
                "automation cell being a user with role cell."
            )
        if not user.active:
            raise UserError(f"User {user.user_id} is disabled and cannot record measurements.")
        if not user.qualified_for(part_number):
            raise UserError(
                f"{user.name} ({user.user_id}) is not qualified for {part_number}; an "
                "administrator can qualify them (users qualify)."
            )
        return user

    # -- competence ------------------------------------------------------------------------

    def pending_changes(
        self, user: User, spec: PartSpec, previous: PartSpec | None
    ) -> list[Change]:
        """Changes the user must acknowledge before measuring ``spec`` (empty if none due)."""
        if previous is None:
            return []
        if people.has_acknowledged(self.store, user.user_id, spec.content_hash):
            return []
        if people.has_inspected(self.store, user.user_id, spec.content_hash):
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


def _article(word: str) -> str:
    """'an' before a vowel, else 'a'."""
    return "an" if word[:1] in "aeiou" else "a"


def named_id(identifier: str) -> str:
    """An id someone typed, for a message: quoted, or only its length if it may be a PIN."""
    text = identifier.strip()
    if describe_id(text) == text:
        return repr(text)
    return f"with that id ({len(text)} characters, not shown)"


def _attempt(user_id: str, success: bool, reason: str | None, purpose: str) -> dict[str, Any]:
    """The body of a sign_in record: one authentication attempt."""
    return {"user_id": user_id, "success": success, "reason": reason, "purpose": purpose}


def _lock_end(cred: dict[str, Any], now: dt.datetime) -> dt.datetime | None:
    """When the lock-out of a credential row ends, if it is in force at ``now``."""
    if cred["failures"] < MAX_FAILURES or not cred["last_failure_at"]:
        return None
    until = _parse_ts(cred["last_failure_at"]) + LOCKOUT
    return until if until > now else None


def _patterns(values: Iterable[str]) -> list[str]:
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


def _fields(
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
        "qualifications": _patterns(qualifications),
        "badge": badge or None,
    }
