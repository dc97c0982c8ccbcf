"""Users, who may administer them, PINs, sign-in with lock-out, qualifications, acknowledgements.

Authority (21 CFR Part 11 §11.10(d), (g), §11.300):

- Administrators (role ``admin``) manage users. Every change is made by an ``Actor``: a user
  whose PIN was checked at the moment of the act (``authorize``); the journal names that
  authenticated user, never free text. The first user of an empty record is its bootstrap
  administrator (``bootstrap``). On a record written before administrators existed, a
  supervisor may add the first administrator, and nothing else.
- A user may change their own PIN by giving the current one; nobody can lift their own
  lock-out (a locked user cannot authenticate, and ``set_pin`` refuses it explicitly).

Credentials never enter the journal: PIN verifiers (scrypt, ``pins``) live in the local,
non-replicated credential table (``store.credentials``); a user record says only that a PIN was
set, by whom and when. Every authentication attempt is a journal record (``attempts``, which
also holds the atomic lock-out); an unknown id that looks like a PIN is recorded as "unknown id
(N characters)", never in clear.

- ``model``: roles, authorities, a user's state, the errors, the checks of ids and names;
- ``pins``: PIN verifiers (pure);
- ``attempts``: authentication attempts and the lock-out;
- ``directory``: ``UserDirectory`` and the ``Actor`` it authenticates.

This package's face below is what the rest of the station uses.
"""

from inspect_station.users.directory import Actor, UserDirectory
from inspect_station.users.model import (
    ADMINISTERING,
    FIRST_ADMIN_HINT,
    MAX_NAME,
    SIGNING,
    SIGNING_IN,
    AuthError,
    Authority,
    LockedOut,
    NotAuthorized,
    PinState,
    Role,
    User,
    UserError,
    WrongPinError,
    describe_id,
    named_id,
)
from inspect_station.users.pins import validate_pin

__all__ = [
    "ADMINISTERING",
    "FIRST_ADMIN_HINT",
    "MAX_NAME",
    "SIGNING",
    "SIGNING_IN",
    "Actor",
    "AuthError",
    "Authority",
    "LockedOut",
    "NotAuthorized",
    "PinState",
    "Role",
    "User",
    "UserDirectory",
    "UserError",
    "WrongPinError",
    "describe_id",
    "named_id",
    "validate_pin",
]
