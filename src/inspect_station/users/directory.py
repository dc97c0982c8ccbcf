"""The user directory of a station: users kept as journal records, PINs in its credential table.

See the package documentation for the authority rules; ``attempts`` counts and records every
authentication, ``pins`` makes and checks the verifiers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from inspect_station.clock import utc_now
from inspect_station.spec.diff import Change, diff_specs
from inspect_station.spec.model import PartSpec
from inspect_station.store import LocalStore, Transaction, credentials, people
from inspect_station.users import attempts, pins
from inspect_station.users.model import (
    ADMINISTERING,
    SIGNING,
    SIGNING_IN,
    AuthError,
    Authority,
    NotAuthorized,
    PinState,
    Role,
    User,
    UserError,
    article,
    checked_fields,
    checked_patterns,
    describe_id,
    named_id,
    user_from_body,
    user_from_row,
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


class UserDirectory:
    """Users of a station, kept as journal records; their PINs in its credential table."""

    def __init__(
        self, store: LocalStore, *, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        self.store = store
        self._clock = clock or utc_now

    # -- reading ---------------------------------------------------------------------------

    def get(self, user_id: str) -> User | None:
        """The user with this id, if any."""
        row = people.current_user(self.store, user_id)
        return user_from_row(row) if row else None

    def all_users(self) -> list[User]:
        """Every user, by id."""
        return [user_from_row(r) for r in people.current_users(self.store)]

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
        return user_from_row(row) if row else None

    def pin_states(self, now: dt.datetime | None = None) -> dict[str, PinState]:
        """user id -> where the user's PIN stands (never the verifier)."""
        now = now or self._clock()
        rows = credentials.states(self.store)
        out: dict[str, PinState] = {}
        for user in self.all_users():
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
                row["origin"], row["set_at"], row["set_by"], attempts.lock_end(row, now)
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
        fields = checked_fields(user_id, name, Role.ADMIN, qualifications, badge)
        pins.validate_pin(pin)
        verifier = pins.hash_pin(pin)
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
        return Actor(user_from_body(body), Authority.BOOTSTRAP, _ACTOR_TOKEN)

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
        self._attempt(user, pin, now, ADMINISTERING, record_success=False)
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

    def _attempt(
        self, user: User, pin: str, now: dt.datetime | None, purpose: str, *, record_success: bool
    ) -> None:
        """Count the attempt, check the lock, then the PIN; record what happened."""
        attempts.check_attempt(
            self.store,
            user,
            pin,
            now or self._clock(),
            purpose=purpose,
            record_success=record_success,
        )

    def _refused(self, user_id: str, reason: str, purpose: str = SIGNING_IN) -> None:
        """Record a refused attempt that no PIN was checked for."""
        attempts.record_refusal(self.store, user_id, reason, purpose)

    def _current_actor(self, tx: Transaction, actor: Actor) -> User:
        """The actor as the record says now (still there and active), inside ``tx``."""
        row = people.current_user(tx, actor.user.user_id)
        user = user_from_row(row) if row else None
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
            f"{article(actor.user.role.value)} {actor.user.role.value}."
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
        fields = checked_fields(user_id, name, role, qualifications, badge)
        kind = Role(fields["role"])
        first_admin = by.authority is Authority.FIRST_ADMINISTRATOR and kind is Role.ADMIN
        if not first_admin:
            self._permit(by, "add users")
        if kind is Role.CELL:
            if pin:
                raise UserError("An automation cell has no PIN; leave it out.")
            verifier = None
        else:
            pins.validate_pin(pin or "")
            verifier = pins.hash_pin(pin or "")
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
        return user_from_body(body)

    def _update(
        self, tx: Transaction, user_id: str, by: Actor, change: str, **fields: Any
    ) -> dict[str, Any]:
        row = people.current_user(tx, user_id)
        if row is None:
            raise UserError(f"There is no user {named_id(user_id)}.")
        current = user_from_row(row)
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
        pins.validate_pin(pin)
        target = self.get(user_id)
        if target is None:
            raise UserError(f"There is no user {named_id(user_id)}.")
        if target.role is Role.CELL:
            raise UserError(f"{target.user_id} is an automation cell and has no PIN.")
        own = by.user.user_id == target.user_id
        if not own:
            self._permit(by, "set another user's PIN")
        verifier = pins.hash_pin(pin)
        with self.store.transaction() as tx:
            if own:
                self._current_actor(tx, by)
                cred = credentials.read(tx, target.user_id)
                if cred is not None and attempts.lock_end(cred, now or self._clock()) is not None:
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
        return user_from_body(record["body"])

    def qualify(
        self,
        user_id: str,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        *,
        by: Actor,
    ) -> User:
        """Add or remove part-number patterns the user is qualified for."""
        added, removed = checked_patterns(add), checked_patterns(remove)
        self._permit(by, "qualify users")
        with self.store.transaction() as tx:
            self._require_admin(tx, by, "qualify users")
            row = people.current_user(tx, user_id)
            if row is None:
                raise UserError(f"There is no user {named_id(user_id)}.")
            patterns = [p for p in user_from_row(row).qualifications if p not in removed]
            patterns += [p for p in added if p not in patterns]
            change = f"qualifications +{added} -{removed}"
            record = self._update(tx, user_id, by, change, qualifications=patterns)
        return user_from_body(record["body"])

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
        return user_from_body(record["body"])

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
        self._attempt(user, pin, now, SIGNING_IN, record_success=True)
        return user

    def confirm(
        self, user_id: str, pin: str, purpose: str = SIGNING, now: dt.datetime | None = None
    ) -> User:
        """Check a PIN re-entered for an act (a signature): counted toward the lock-out.

        A wrong PIN raises WrongPinError, a lock-out LockedOut; both attempts are recorded.
        """
        user = self._known(user_id, purpose)
        self._attempt(user, pin, now, purpose, record_success=False)
        return user

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


__all__ = ["Actor", "UserDirectory"]
