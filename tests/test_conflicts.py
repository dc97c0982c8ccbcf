"""Where a reject's dispositions stand: one in force, or a conflict until a signed resolution."""

from __future__ import annotations

from inspect_station.review.model import Status
from inspect_station.review.signing import Signature
from inspect_station.review.views import DispositionInfo, Resolution, Standing
from inspect_station.vocabulary import Disposition


def signature(user: str, at: str) -> Signature:
    return Signature(user, user.title(), "supervisor", "approval", at, "S", f"rec-{user}")


def disposition(
    uuid: str, kind: Disposition, signers: int = 1, required: int = 1
) -> DispositionInfo:
    sigs = tuple(signature(f"u{i}", f"2026-11-2{i}T00:00:00.000000Z") for i in range(signers))
    return DispositionInfo(uuid, "S", 1, "r", kind, "why", None, "h", required, sigs)


def resolution(kept: str, *considered: str) -> Resolution:
    return Resolution(
        f"res-{kept}", "O", 1, "r", kept, considered, "because", signature("kim", "2026")
    )


SCRAP = disposition("a1", Disposition.SCRAP)
REWORK = disposition("b2", Disposition.REWORK)
USE = disposition("c3", Disposition.USE_AS_IS, signers=1, required=2)


def test_none_one_and_two_dispositions():
    assert Standing(()).status is Status.AWAITING and Standing(()).in_force is None
    assert (Standing((SCRAP,)).status, Standing((SCRAP,)).in_force) == (Status.DISPOSED, SCRAP)
    assert Standing((USE,)).status is Status.AWAITING_SECOND
    both = Standing((SCRAP, REWORK))
    assert (both.conflict, both.status, both.in_force) == (True, Status.CONFLICT, None)


def test_a_resolution_over_every_disposition_puts_its_choice_in_force():
    resolved = Standing((SCRAP, USE), (resolution("c3", "a1", "c3"),))
    assert not resolved.conflict and resolved.in_force is USE
    assert resolved.status is Status.AWAITING_SECOND  # the one kept still needs its co-signer


def test_a_later_disposition_or_a_disagreeing_resolution_conflicts_again():
    resolved = (resolution("a1", "a1", "b2"),)
    assert Standing((SCRAP, REWORK, USE), resolved).status is Status.CONFLICT
    disagreeing = (*resolved, resolution("b2", "a1", "b2"))
    assert Standing((SCRAP, REWORK), disagreeing).status is Status.CONFLICT
    agreeing = (*resolved, resolution("a1", "a1", "b2", "c3"))
    assert Standing((SCRAP, REWORK, USE), agreeing).in_force is SCRAP
