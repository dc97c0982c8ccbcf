"""Helpers that make rejects and the people who dispose of them (a module of its own, so test
folders can share it without importing one another's tests)."""

from __future__ import annotations

from inspect_station.recording import ManualSource, Recorder
from inspect_station.spec import PartSpec
from inspect_station.store import LocalStore
from inspect_station.users import UserDirectory

GOOD = {"1": "120.01", "2": "12.005", "3": "0.02", "4": "pass"}


def make_people(store: LocalStore, *supervisors: tuple[str, str, str]) -> UserDirectory:
    """The station's users: inspector ann (PIN 1234) and the given (id, name, PIN) supervisors."""
    directory = UserDirectory(store)
    if directory.get("ann") is None:
        directory.add("ann", "Ann Lee", "inspector", "1234", qualifications=["*"])
    for user_id, name, pin in supervisors:
        directory.add(user_id, name, "supervisor", pin, qualifications=["*"])
    return directory


def reject_part(store: LocalStore, spec: PartSpec, serial: str, lot: str = "L1") -> str:
    """Record a part whose length fails and close it with a defect code; the reject's UUID."""
    recorder = Recorder(store)
    for char, value in {**GOOD, "1": "120.25"}.items():
        recorder.measure(
            spec=spec,
            lot=lot,
            serial=serial,
            inspector="ann",
            characteristic=char,
            value=value,
            source=ManualSource("dial"),
            auto_close=True,
            lot_size=500,
        )
    return recorder.close_inspection(
        spec=spec, lot=lot, serial=serial, inspector="ann", defect_code="D01", note="burr"
    )["uuid"]
