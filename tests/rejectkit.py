"""Helpers that make measurements, rejects and the people who dispose of them (a module of its
own, so test folders can share it without importing one another's tests)."""

from __future__ import annotations

from typing import Any

from userkit import USUAL, add_users

from inspect_station.recording import ManualSource, Measurement, Recorder
from inspect_station.spec import PartSpec
from inspect_station.store import LocalStore
from inspect_station.users import UserDirectory

GOOD = {"1": "120.01", "2": "12.005", "3": "0.02", "4": "pass"}


def manual(spec: PartSpec, lot: str, serial: str, char: str, value: str) -> dict[str, Any]:
    """What a manual measurement by ann (dial), closing the part when complete, is asked with."""
    return {
        "spec": spec,
        "lot": lot,
        "serial": serial,
        "inspector": "ann",
        "characteristic": char,
        "value": value,
        "source": ManualSource("dial"),
        "auto_close": True,
    }


def request(spec: PartSpec, serial: str, char: str, value: str, **extra: Any) -> Measurement:
    """A manual measurement of lot L1 by ann, closing the part when complete."""
    return Measurement(**manual(spec, "L1", serial, char, value), **extra)


def make_people(store: LocalStore, *supervisors: tuple[str, str, str]) -> UserDirectory:
    """The station's users, added by its administrator: inspector ann and the given
    (id, name, PIN) supervisors."""
    people = [] if UserDirectory(store).get("ann") else [USUAL[0]]
    people += [(user_id, name, "supervisor", pin, ["*"]) for user_id, name, pin in supervisors]
    return add_users(store, people)


def reject_part(store: LocalStore, spec: PartSpec, serial: str, lot: str = "L1") -> str:
    """Record a part whose length fails and close it with a defect code; the reject's UUID."""
    recorder = Recorder(store)
    for char, value in {**GOOD, "1": "120.25"}.items():
        recorder.measure(**manual(spec, lot, serial, char, value), lot_size=500)
    return recorder.close_inspection(
        spec=spec, lot=lot, serial=serial, inspector="ann", defect_code="D01", note="burr"
    )["uuid"]
