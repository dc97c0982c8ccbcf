"""Conflicting dispositions of one reject, and the signed resolution that says which stands.

Each journal holds at most one disposition of a reject, but two terminals (a bench and an office
terminal, one of them offline) can each sign one into their own journals; the central store
keeps both. Until a supervisor signs a ``disposition_resolution`` record naming the one that
stands, the reject shows "conflicting dispositions" and nothing of it is in force
(:class:`~inspect_station.review.views.Standing`). A resolution covers the dispositions it
names: one signed later conflicts again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inspect_station.errors import DispositionError
from inspect_station.records import RecordRef
from inspect_station.review.model import StaleReject
from inspect_station.review.signing import NotPermitted, Signature, signature_body
from inspect_station.review.views import DispositionInfo, RejectDetail, Resolution
from inspect_station.users import User


def refuse_while_conflicting(detail: RejectDetail, what: str) -> None:
    """NotPermitted if the reject's dispositions conflict (it cannot be ``what`` until resolved)."""
    if detail.standing.conflict:
        s = detail.summary
        signed = ", ".join(
            f"{d.disposition.label.lower()} ({d.uuid[:8]}, {d.station})"
            for d in detail.dispositions
        )
        raise NotPermitted(
            f"Reject {s.short_id} of part {s.serial} has conflicting dispositions ({signed}); it "
            f"cannot be {what} until a supervisor signs which one stands "
            "(inspect-station disposition resolve)."
        )


def choose_disposition(dispositions: tuple[DispositionInfo, ...], keep: str) -> DispositionInfo:
    """The disposition whose record UUID is (or starts with) ``keep``; an error otherwise."""
    text = (keep or "").strip().lower()
    found = [d for d in dispositions if text and d.uuid.startswith(text)]
    if len(text) < 6 or len(found) != 1:
        choices = ", ".join(d.uuid[:8] for d in dispositions)
        raise DispositionError(
            f"{keep!r} does not name one of the conflicting dispositions; give the first 8 "
            f"characters of one of {choices}."
        )
    return found[0]


def resolution_body(
    detail: RejectDetail,
    kept: DispositionInfo,
    reason: str,
    refs: Mapping[tuple[str, int], RecordRef],
    user: User,
    meaning: str | None,
    signed_at: str,
) -> dict[str, Any]:
    """The body of a ``disposition_resolution`` record: the reject, the disposition that stands,
    every disposition considered (by station, seq, UUID and hash), the reason, the signature."""
    s = detail.summary
    considered = []
    for d in detail.dispositions:
        ref = refs.get((d.station, d.seq))
        if ref is None:
            raise StaleReject(f"The disposition record {d.uuid[:8]} cannot be found; reload.")
        considered.append(ref.json())
    return {
        "reject": s.reject,
        "reject_station": s.station,
        "reject_seq": s.seq,
        "lot": s.lot,
        "serial": s.serial,
        "part_number": s.part_number,
        "kept": kept.uuid,
        "kept_station": kept.station,
        "considered": considered,
        "reason": reason,
        "signed_hash": detail.signed_hash,
        "signature": signature_body(user, meaning, signed_at),
    }


def resolution_from_record(record: Mapping[str, Any]) -> Resolution:
    """A Resolution from its journal record."""
    body = record["body"]
    return Resolution(
        uuid=record["uuid"],
        station=record["station"],
        seq=record["seq"],
        reject=body["reject"],
        kept=body["kept"],
        considered=tuple(c["uuid"] for c in body["considered"]),
        reason=body["reason"],
        signature=Signature.from_record(record),
    )


__all__ = [
    "choose_disposition",
    "refuse_while_conflicting",
    "resolution_body",
    "resolution_from_record",
]
