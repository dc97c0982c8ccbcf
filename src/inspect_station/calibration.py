"""Calibration records of gauge assets (ISO 9001 7.1.5.2): pass or fail, signed by a supervisor.

``record_calibration`` appends a ``calibration`` journal record: the asset, its serial number
where the station knows it, the result (``pass`` or ``fail``), the certificate, the date it was
calibrated, the next due date, a note, and the signature of the user who recorded it
(authenticated by PIN at that moment; a supervisor, since a failed calibration puts earlier
results in doubt). A failed calibration makes every result taken with the gauge since its last
good calibration suspect: ``inspect-station audit`` lists them, ``trace gauge`` shows the history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from inspect_station.clock import format_utc, utc_now
from inspect_station.errors import InspectStationError
from inspect_station.store import LocalStore
from inspect_station.store.calibrations import CalibrationEvent
from inspect_station.text import check_id, check_line
from inspect_station.users import UserDirectory
from inspect_station.users.model import Role
from inspect_station.vocabulary import CalibrationResult

MEANING = "responsibility for the calibration result"
"""What the signature of a calibration record means (Part 11 §11.50)."""
RECORDING = "recording a calibration"
"""The purpose a PIN is checked for, in the sign-in attempt records."""


__all__ = [
    "CalibrationError",
    "CalibrationEvent",
    "CalibrationResult",
    "record_calibration",
]


class CalibrationError(InspectStationError):
    """A calibration cannot be recorded as asked."""


def record_calibration(
    store: LocalStore,
    users: UserDirectory,
    *,
    asset: str,
    result: CalibrationResult | str,
    certificate: str,
    user_id: str,
    pin: str,
    calibrated_on: dt.date | None = None,
    due: dt.date | None = None,
    serial_number: str | None = None,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Authenticate ``user_id`` by ``pin`` (a supervisor) and record a calibration event."""
    asset = check_id(asset, "gauge asset id")
    certificate = check_id(certificate, "certificate")
    if serial_number is not None:
        serial_number = check_id(serial_number, "gauge serial number")
    if note is not None:
        note = check_line(note, "calibration note") or None
    try:
        outcome = CalibrationResult(str(result).strip().lower())
    except ValueError:
        raise CalibrationError(f"A calibration result is pass or fail, not {result!r}.") from None
    clock = now or utc_now()
    on = calibrated_on or clock.date()
    if on > clock.date():
        raise CalibrationError(f"A calibration cannot be recorded for a future date ({on}).")
    if due is not None and due <= on:
        raise CalibrationError(
            f"The next due date ({due}) must be after the calibration date ({on})."
        )
    if outcome is CalibrationResult.FAIL and due is not None:
        raise CalibrationError(
            "A failed calibration has no next due date: the gauge is out of use until a "
            "calibration passes."
        )
    user = users.confirm(user_id, pin, purpose=RECORDING, now=now)
    if user.role is not Role.SUPERVISOR:
        raise CalibrationError(
            f"{user.name} ({user.user_id}) is {'an' if user.role.value[0] in 'aeiou' else 'a'} "
            f"{user.role.value}: only a supervisor records a calibration."
        )
    signed_at = format_utc(clock)
    return store.append(
        "calibration",
        {
            "asset": asset,
            "serial_number": serial_number,
            "result": outcome.value,
            "certificate": certificate,
            "calibrated_on": on.isoformat(),
            "due": due.isoformat() if due else None,
            "note": note,
            "signature": {
                "user_id": user.user_id,
                "name": user.name,
                "role": user.role.value,
                "meaning": MEANING,
                "signed_at": signed_at,
            },
        },
    )
