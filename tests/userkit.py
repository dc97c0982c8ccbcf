"""Users for tests, added the way a station gets them: a bootstrap administrator adds the rest."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from inspect_station.store import LocalStore
from inspect_station.users import UserDirectory
from inspect_station.users import pins as pins_module

TEST_SCRYPT_N = 2**10
"""scrypt cost of the PIN verifiers tests set (the conftest's ``_quick_pin_verifiers``): 32
times cheaper than the station's own (``pins.SCRYPT_N``), checked the same way."""

ADMIN_ID, ADMIN_NAME, ADMIN_PIN = "root", "Rhea Root", "908172"
"""The administrator ``add_users`` bootstraps (or signs in as) to add the others."""

PINS = {"ann": "246813", "sam": "975310", "kim": "550761"}
"""The PINs of the usual test users: ann (inspector), sam and kim (supervisors)."""

USUAL = [
    ("ann", "Ann Lee", "inspector", PINS["ann"], ["*"]),
    ("sam", "Sam Ortiz", "supervisor", PINS["sam"], ["*"]),
    ("kim", "Kim Park", "supervisor", PINS["kim"], ["*"]),
]
"""ann (inspector), sam and kim (supervisors), each qualified for every part."""


_VERIFIERS: dict[str, str] = {}
"""PIN -> a real scrypt verifier of it, computed once per test session."""


@contextmanager
def remembered_verifiers() -> Iterator[None]:
    """While adding the usual users, compute each PIN's verifier once per session.

    Only the setting of a PIN is spared (the verifier is real: same parameters, a salt shared
    by the tests); every PIN a test then checks still runs scrypt.
    """
    original = pins_module.hash_pin

    def remembered(pin: str, salt: bytes | None = None) -> str:
        if pin not in _VERIFIERS:
            _VERIFIERS[pin] = original(pin, salt)
        return _VERIFIERS[pin]

    pins_module.hash_pin = remembered
    try:
        yield
    finally:
        pins_module.hash_pin = original


def add_users(
    store: LocalStore,
    people: Iterable[tuple[str, str, str, str | None, list[str]]] = USUAL,
    *,
    badges: dict[str, str] | None = None,
) -> UserDirectory:
    """The store's directory with ``people`` (id, name, role, PIN, qualifications) added by the
    administrator root (bootstrapped on an empty record)."""
    directory = UserDirectory(store)
    with remembered_verifiers():
        if directory.is_empty():
            admin = directory.bootstrap(ADMIN_ID, ADMIN_NAME, ADMIN_PIN)
        else:
            admin = directory.authorize(ADMIN_ID, ADMIN_PIN)
        for user_id, name, role, pin, quals in people:
            directory.add(
                user_id,
                name,
                role,
                pin,
                by=admin,
                qualifications=quals,
                badge=(badges or {}).get(user_id),
            )
    return directory
