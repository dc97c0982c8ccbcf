"""The reject review as a service: queue, detail, signing, co-signing, resolution, re-inspection.

The review reads rejects through a record source (``queries``) and writes every signature into
the signer's own local store, under that store's station id, never into another station's
chain. A signature is refused unless the records it binds are still the ones shown
(``expected_hash``) and still match their hashes, and unless its signer re-entered their PIN.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol

from inspect_station.clock import utc_now
from inspect_station.errors import DispositionError, ReviewError
from inspect_station.records import LocalSource, RecordRef, RecordSource
from inspect_station.review.conflicts import (
    choose_disposition,
    refuse_while_conflicting,
    resolution_body,
    resolution_from_record,
)
from inspect_station.review.model import (
    MEANING_APPROVAL,
    MEANING_RESOLUTION,
    MEANING_SECOND_APPROVAL,
    AlreadyDisposed,
    RejectFilter,
    SignaturePolicy,
    StaleReject,
    format_utc,
    one_line,
)
from inspect_station.review.queries import RejectReader
from inspect_station.review.signing import (
    SIGNED_CONTENT_FORMAT,
    NotPermitted,
    Signature,
    authenticate_signer,
    changed_records,
    signature_body,
)
from inspect_station.review.views import DispositionInfo, RejectDetail, RejectSummary, Resolution
from inspect_station.spec.model import PartSpec
from inspect_station.store import LocalStore
from inspect_station.store import review as named
from inspect_station.users import User, UserDirectory
from inspect_station.vocabulary import Disposition, parse_disposition

REINSPECTED_AFTER = (Disposition.REWORK, Disposition.REPAIR)
"""Dispositions after which the part comes back to be inspected again."""


class Reinspector(Protocol):
    """What opens the re-inspection of a reworked part (the station's recorder)."""

    def open_reinspection(
        self,
        *,
        spec: PartSpec,
        lot: str,
        serial: str,
        inspector: str,
        reinspection_of: str,
        disposition: str | None = None,
    ) -> str:
        """Open a new inspection of the part, linked to its reject; its inspection UUID."""
        ...


class Review:
    """The reject-review core: queue, detail, signing, co-signing and re-inspection.

    ``source`` is where rejects are read (``LocalSource`` of the station, or a central source);
    ``writer`` is the signer's own local store that dispositions are written to, and ``users``
    the user directory of that store (whose PINs the signers re-enter). A review that only
    reads (``rejects list`` on a terminal with no record of its own) has no writer.
    """

    def __init__(
        self,
        source: RecordSource,
        writer: LocalStore | None,
        users: UserDirectory | None = None,
        policy: SignaturePolicy | None = None,
        *,
        warn_days: int = 14,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.source = source
        self.writer = writer
        self.users = users or (UserDirectory(writer) if writer is not None else None)
        self.policy = policy or SignaturePolicy()
        self.warn_days = warn_days
        self._clock = clock or utc_now

    def now(self) -> dt.datetime:
        """The current time (UTC), from the clock given at construction."""
        return self._clock()

    # -- reading ------------------------------------------------------------------------------

    def _reader(self) -> RejectReader:
        """The source's rejects as of now, with the signer's own newest records."""
        self.source.refresh()
        return RejectReader(self.source, self.writer, warn_days=self.warn_days)

    def queue(self, flt: RejectFilter | None = None) -> list[RejectSummary]:
        """Rejects awaiting disposition (or a second signature), oldest first."""
        return self._reader().queue(flt or RejectFilter(), self.now())

    def resolve(self, reject_id: str) -> dict[str, Any]:
        """The result row of a reject given by its UUID or a unique prefix (at least 6 chars)."""
        return RejectReader(self.source).find(reject_id)

    def detail(self, reject_id: str) -> RejectDetail:
        """All measurements of a rejected part, its dispositions, and what a signature binds."""
        reader = self._reader()
        return reader.detail(reader.find(reject_id), self.now())

    # -- signing ------------------------------------------------------------------------------

    def _writing(self) -> tuple[LocalStore, UserDirectory]:
        """The signer's own store and its users; refused when this review only reads."""
        if self.users is None or self.writer is None:
            raise ReviewError(
                "This review only reads records; sign at a station with its own record."
            )
        return self.writer, self.users

    def _authorise(self, user_id: str, pin: str, act: str) -> User:
        """The supervisor whose PIN this is; a wrong PIN counts toward the lock-out."""
        _, users = self._writing()
        return authenticate_signer(users, user_id, pin, act)

    def _check_records(self, detail: RejectDetail) -> None:
        """Every record a signature binds must still be there and match its hash."""
        problem = changed_records(self.source, detail.signed_records, "this reject")
        if problem is not None:
            raise StaleReject(problem)

    def _require_signable(self, detail: RejectDetail, expected_hash: str | None) -> None:
        """The reject is still current, and its records are the ones the signer was shown."""
        s = detail.summary
        if not detail.current:
            raise StaleReject(
                f"Reject {s.short_id} of part {s.serial} was replaced by a later result "
                f"({(detail.superseded_by or '')[:8]}); review that one."
            )
        if expected_hash is not None and expected_hash != detail.signed_hash:
            raise StaleReject(
                f"The records of part {s.serial} changed since they were shown; review them again "
                "before signing."
            )

    def _reads_own_record(self, writer: LocalStore) -> bool:
        """Whether the source reads the signer's own record (so a check and a write share one
        transaction)."""
        return isinstance(self.source, LocalSource) and self.source.store is writer

    def sign(
        self,
        reject_id: str,
        disposition: Disposition | str,
        reason: str,
        *,
        user_id: str,
        pin: str,
        expected_hash: str | None = None,
        regrade_to: str | None = None,
        meaning: str = MEANING_APPROVAL,
    ) -> DispositionInfo:
        """Dispose of a reject and sign it; the disposition record is durable on return.

        ``expected_hash`` is the ``signed_hash`` of the detail the supervisor was shown: if the
        records changed since, nothing is signed (StaleReject).
        """
        kind = parse_disposition(disposition)
        reason_text = one_line(reason, "reason", required=True)
        regrade = one_line(regrade_to, "grade to regrade to", required=kind is Disposition.REGRADE)
        if regrade and kind is not Disposition.REGRADE:
            raise DispositionError("Only a regrade names a grade to regrade to.")
        meaning_text = one_line(meaning, "meaning of the signature", required=True)
        detail = self.detail(reject_id)
        self._require_signable(detail, expected_hash)
        self._refuse_if_disposed(detail)
        self._check_records(detail)
        user = self._authorise(user_id, pin, "sign a disposition")
        s = detail.summary
        required = self.policy.signers_required(kind)
        writer, _ = self._writing()
        with writer.transaction() as tx:
            if named.has_disposition(tx, s.reject):
                raise AlreadyDisposed(f"Reject {s.short_id} of part {s.serial} was just disposed.")
            # Same file: the check and the write are one transaction.
            if (
                self._reads_own_record(writer)
                and self.detail(s.reject).signed_hash != detail.signed_hash
            ):
                raise StaleReject(
                    f"The records of part {s.serial} changed while signing; nothing was signed."
                )
            record = tx.append(
                "disposition",
                {
                    "reject": s.reject,
                    "reject_station": s.station,
                    "reject_seq": s.seq,
                    "inspection": s.inspection,
                    "lot": s.lot,
                    "serial": s.serial,
                    "part_number": s.part_number,
                    "revision": s.revision,
                    "spec_hash": s.spec_hash,
                    "disposition": kind.value,
                    "reason": reason_text,
                    "regrade_to": regrade,
                    "signers_required": required,
                    "signature_policy": self.policy.record(),
                    "signed_hash": detail.signed_hash,
                    "signed_content_format": SIGNED_CONTENT_FORMAT,
                    "signed_records": [r.json() for r in detail.signed_records],
                    "signature": signature_body(user, meaning_text, format_utc(self.now())),
                },
            )
        return DispositionInfo(
            record["uuid"],
            record["station"],
            record["seq"],
            s.reject,
            kind,
            reason_text or "",
            regrade,
            detail.signed_hash,
            required,
            (Signature.from_record(record),),
        )

    def _refuse_if_disposed(self, detail: RejectDetail) -> None:
        """AlreadyDisposed if a disposition is in force (NotPermitted while several conflict)."""
        refuse_while_conflicting(detail, "disposed again")
        d = detail.disposition
        if d is None:
            return
        s = detail.summary
        first = d.signatures[0] if d.signatures else None
        by = f" by {first.name} on {first.signed_at[:16].replace('T', ' ')} UTC" if first else ""
        raise AlreadyDisposed(
            f"Reject {s.short_id} of part {s.serial} (lot {s.lot}) was already disposed as "
            f"{d.disposition.label.lower()}{by}."
            + ("" if d.complete else " It awaits a second signature.")
        )

    def cosign(
        self,
        reject_id: str,
        *,
        user_id: str,
        pin: str,
        expected_hash: str | None = None,
        meaning: str = MEANING_SECOND_APPROVAL,
    ) -> DispositionInfo:
        """Add the second signer's signature to a disposition that requires one."""
        meaning_text = one_line(meaning, "meaning of the signature", required=True)
        detail = self.detail(reject_id)
        s = detail.summary
        refuse_while_conflicting(detail, "co-signed")
        d = detail.disposition
        if d is None:
            raise NotPermitted(
                f"Reject {s.short_id} of part {s.serial} has no disposition to co-sign yet."
            )
        if d.complete:
            raise AlreadyDisposed(
                f"The {d.disposition.label.lower()} disposition of part {s.serial} already has "
                f"the {d.signers_required} signature(s) it needs."
            )
        if (user_id or "").strip() in {sig.user_id for sig in d.signatures}:
            raise NotPermitted(
                f"{user_id} signed this disposition already; the second signature must come "
                "from another supervisor."
            )
        self._require_signable(detail, expected_hash)
        if detail.signed_hash != d.signed_hash:
            raise StaleReject(
                f"The records of part {s.serial} changed after the first signature; the "
                "disposition cannot be co-signed as it stands."
            )
        self._check_records(detail)
        ref = self._disposition_ref(d)
        user = self._authorise(user_id, pin, "co-sign a disposition")
        writer, _ = self._writing()
        with writer.transaction() as tx:
            signers = {sig.user_id for sig in d.signatures} | named.signers(tx, d.uuid)
            if user.user_id in signers:
                raise NotPermitted(f"{user.user_id} signed this disposition already.")
            if len(signers) >= d.signers_required:
                raise AlreadyDisposed(f"The disposition of part {s.serial} was just completed.")
            record = tx.append(
                "disposition_signature",
                {
                    "disposition": d.uuid,
                    "disposition_station": d.station,
                    "disposition_hash": ref.hash,
                    "reject": s.reject,
                    "lot": s.lot,
                    "serial": s.serial,
                    "part_number": s.part_number,
                    "signed_hash": d.signed_hash,
                    "signature": signature_body(user, meaning_text, format_utc(self.now())),
                },
            )
        return DispositionInfo(
            d.uuid,
            d.station,
            d.seq,
            d.reject,
            d.disposition,
            d.reason,
            d.regrade_to,
            d.signed_hash,
            d.signers_required,
            (*d.signatures, Signature.from_record(record)),
        )

    def _disposition_ref(self, d: DispositionInfo) -> RecordRef:
        """The disposition record's reference with its hash, from the source or the writer."""
        key = (d.station, d.seq)
        refs = self.source.record_refs([key])
        if key in refs:
            return refs[key]
        if self.writer is not None and d.station == self.writer.station:
            own = LocalSource(self.writer).record_refs([key])
            if key in own:
                return own[key]
        raise StaleReject(
            f"The disposition record {d.uuid[:8]} cannot be found; reload the reject."
        )

    # -- conflicting dispositions -------------------------------------------------------------

    def resolve_conflict(
        self,
        reject_id: str,
        keep: str,
        reason: str,
        *,
        user_id: str,
        pin: str,
        meaning: str = MEANING_RESOLUTION,
    ) -> Resolution:
        """Sign which of a reject's conflicting dispositions stands (``keep``: its record UUID
        or a prefix); the others stay in the record, set aside. Durable on return."""
        reason_text = one_line(reason, "reason", required=True) or ""
        meaning_text = one_line(meaning, "meaning of the signature", required=True)
        detail = self.detail(reject_id)
        s = detail.summary
        if not detail.standing.conflict:
            raise NotPermitted(
                f"Reject {s.short_id} of part {s.serial} has no conflicting dispositions to "
                "resolve."
            )
        kept = choose_disposition(detail.dispositions, keep)
        self._check_records(detail)
        refs = self.source.record_refs([(d.station, d.seq) for d in detail.dispositions])
        user = self._authorise(user_id, pin, "resolve conflicting dispositions")
        writer, _ = self._writing()
        with writer.transaction() as tx:
            body = resolution_body(
                detail, kept, reason_text, refs, user, meaning_text, format_utc(self.now())
            )
            record = tx.append("disposition_resolution", body)
        return resolution_from_record(record)

    # -- re-inspection ------------------------------------------------------------------------

    def start_reinspection(
        self, reject_id: str, recorder: Reinspector, spec: PartSpec, inspector: str
    ) -> str:
        """Open the re-inspection of a reworked or repaired part; returns its inspection UUID."""
        detail = self.detail(reject_id)
        s = detail.summary
        refuse_while_conflicting(detail, "re-inspected")
        d = detail.disposition
        if d is None or d.disposition not in REINSPECTED_AFTER:
            raise ReviewError(
                f"Part {s.serial} can be re-inspected only after a signed rework or repair "
                "disposition."
            )
        if not d.complete:
            raise ReviewError(
                f"The {d.disposition.label.lower()} disposition of part {s.serial} still awaits "
                "its second signature."
            )
        if spec.content_hash != s.spec_hash:
            raise ReviewError(
                f"Part {s.serial} was rejected against {s.part_number} revision {s.revision} "
                f"({s.spec_hash[:12]}…); re-inspect it against the same spec revision."
            )
        return recorder.open_reinspection(
            spec=spec,
            lot=s.lot,
            serial=s.serial,
            inspector=inspector,
            reinspection_of=s.reject,
            disposition=d.uuid,
        )


__all__ = ["REINSPECTED_AFTER", "Reinspector", "Review"]
