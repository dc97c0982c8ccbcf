"""Reject review: the queue, the detail, signed dispositions, second signers, re-inspection."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from userkit import PINS, add_users

from inspect_station.config import GaugeAsset, load_config
from inspect_station.errors import ConfigError
from inspect_station.recording import GaugeSource, ManualSource, Recorder
from inspect_station.records import LocalSource
from inspect_station.review.model import (
    MEANING_APPROVAL,
    MEANING_SECOND_APPROVAL,
    AlreadyDisposed,
    DispositionError,
    RejectFilter,
    ReviewError,
    SignaturePolicy,
    StaleReject,
    Status,
    UnknownReject,
)
from inspect_station.review.service import Review
from inspect_station.review.signing import NotPermitted, WrongPin
from inspect_station.spec import PartSpec
from inspect_station.store import LocalStore
from inspect_station.users import AuthError, UserDirectory
from inspect_station.users.attempts import MAX_FAILURES
from inspect_station.vocabulary import Disposition, parse_disposition

ANN, SAM, KIM = PINS["ann"], PINS["sam"], PINS["kim"]

GOOD = {"1": "120.01", "2": "12.005", "3": "0.02", "4": "pass"}
CALIPER = GaugeAsset(
    asset="CAL-0042",
    profile="mitutoyo-ascii",
    port="loop://",
    unit="mm",
    serial_number="A1234567",
    certificate="CERT-2026-0042",
    calibrated_on=dt.date(2026, 3, 1),
    calibration_due=dt.date(2027, 3, 1),
)


def utc(ts: str) -> dt.datetime:
    """A record time as an aware datetime."""
    return dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


@pytest.fixture
def users(store: LocalStore) -> UserDirectory:
    """ann (inspector), sam and kim (supervisors), added by the administrator root."""
    return add_users(store)


@pytest.fixture
def recorder(store: LocalStore) -> Recorder:
    """A recorder on the station's store."""
    return Recorder(store, today=dt.date(2026, 11, 25))


def reject_part(
    recorder: Recorder,
    spec: PartSpec,
    serial: str,
    lot: str = "L1",
    length: str = "120.25",
    defect: str = "D01",
) -> str:
    """Record a part whose length fails (from the caliper), close it with a defect code."""
    for char, value in {**GOOD, "1": length}.items():
        source = GaugeSource(CALIPER, b"01A+" + value.encode() + b"\r") if char == "1" else None
        recorder.measure(
            spec=spec,
            lot=lot,
            serial=serial,
            inspector="ann",
            characteristic=char,
            value=value,
            source=source or ManualSource("dial"),
            auto_close=True,
            lot_size=500,
        )
    return recorder.close_inspection(
        spec=spec, lot=lot, serial=serial, inspector="ann", defect_code=defect, note="seen at 5x"
    )["uuid"]


@pytest.fixture
def review(store: LocalStore, users: UserDirectory) -> Review:
    """The review of the station's own record."""
    return Review(LocalSource(store), store, users)


def dispositions(store: LocalStore) -> list[dict]:
    """Every disposition record in the journal."""
    return [r for r in store.records() if r["kind"] == "disposition"]


def test_queue_lists_rejects_oldest_first_and_filters(
    store: LocalStore, users: UserDirectory, recorder: Recorder, bracket: PartSpec
):
    first = reject_part(recorder, bracket, "S1", lot="L1")
    second = reject_part(recorder, bracket, "S2", lot="L2")
    third = reject_part(recorder, bracket, "S3", lot="L1")
    for char, value in GOOD.items():  # an accepted part is not in the queue
        recorder.measure(
            spec=bracket,
            lot="L1",
            serial="S4",
            inspector="ann",
            characteristic=char,
            value=value,
            source=ManualSource("dial"),
            auto_close=True,
        )
    closed = {r["uuid"]: r["closed_at"] for r in store.query("SELECT * FROM results")}
    now = utc(closed[second]) + dt.timedelta(hours=1)
    review = Review(LocalSource(store), store, users, clock=lambda: now)

    queue = review.queue()
    assert [r.reject for r in queue] == [first, second, third]
    assert {r.status for r in queue} == {Status.AWAITING}
    head = queue[0]
    assert (head.lot, head.serial, head.part_number, head.revision) == ("L1", "S1", "BRK-1042", "C")
    assert (head.failed, head.defect_code, head.inspector, head.station) == (
        ("1",),
        "D01",
        "ann",
        "TEST-1",
    )
    assert queue[1].age == dt.timedelta(hours=1)
    assert [r.reject for r in review.queue(RejectFilter(lot="L1"))] == [first, third]
    assert review.queue(RejectFilter(part_number="SHF-220")) == []
    assert len(review.queue(RejectFilter(station="TEST-1"))) == 3
    assert review.queue(RejectFilter(station="BENCH-9")) == []
    older = review.queue(RejectFilter(older_than=dt.timedelta(hours=1)))
    assert [r.reject for r in older] == [first, second]
    newer = review.queue(RejectFilter(newer_than=dt.timedelta(hours=1)))
    assert [r.reject for r in newer] == [second, third]


def test_detail_shows_what_failed_and_binds_the_journal_records(
    store: LocalStore, review: Review, recorder: Recorder, bracket: PartSpec
):
    reject = reject_part(recorder, bracket, "S1")
    detail = review.detail(reject[:8])
    assert detail.summary.reject == reject and detail.current
    assert [m.characteristic for m in detail.measurements] == ["1", "2", "3", "4"]
    (failed,) = detail.failures
    assert (failed.value, failed.upper, failed.limit_broken, failed.exceeds_by) == (
        "120.25",
        "120.10",
        "upper",
        "0.15",
    )
    assert (failed.gauge_asset, failed.gauge_serial, failed.gauge_calibration_due) == (
        "CAL-0042",
        "A1234567",
        "2027-03-01",
    )
    assert failed.calibrated_when_measured is True and failed.raw == "01A+120.25\r"
    assert failed.calibration_now is not None
    # The signed hash, recomputed from the raw journal with the standard library only.
    records = {r["uuid"]: r for r in store.records()}
    body_of = [r for r in records.values() if r["kind"] == "measurement"]
    content = {
        "format": 1,
        "measurements": [r["hash"] for r in sorted(body_of, key=lambda r: r["seq"])],
        "result": records[reject]["hash"],
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    assert detail.signed_hash == hashlib.sha256(text.encode()).hexdigest()
    assert [r.uuid for r in detail.signed_records][-1] == reject


def test_a_wrong_pin_signs_nothing_and_counts_toward_the_lockout(
    store: LocalStore, review: Review, users: UserDirectory, recorder: Recorder, bracket: PartSpec
):
    reject = reject_part(recorder, bracket, "S1")
    with pytest.raises(WrongPin, match="nothing was signed"):
        review.sign(reject, "scrap", "cracked", user_id="sam", pin="0000")
    assert dispositions(store) == []
    failures = store.query("SELECT * FROM sign_ins WHERE user_id = 'sam' AND success = 0")
    assert [f["reason"] for f in failures] == ["wrong PIN when signing"]
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(WrongPin):
            review.sign(reject, "scrap", "cracked", user_id="sam", pin="0000")
    with pytest.raises(NotPermitted, match="locked"):
        review.sign(reject, "scrap", "cracked", user_id="sam", pin=SAM)
    with pytest.raises(AuthError, match="locked"):
        users.authenticate("sam", SAM)
    assert dispositions(store) == []
    assert review.queue()[0].status is Status.AWAITING


def test_an_inspector_cannot_sign_or_cosign(
    store: LocalStore, review: Review, recorder: Recorder, bracket: PartSpec
):
    reject = reject_part(recorder, bracket, "S1")
    with pytest.raises(NotPermitted, match="Only a supervisor can sign a disposition; Ann Lee"):
        review.sign(reject, "scrap", "cracked", user_id="ann", pin=ANN)
    with pytest.raises(NotPermitted, match="no user 'nobody'"):
        review.sign(reject, "scrap", "cracked", user_id="nobody", pin=ANN)
    review.sign(reject, "use-as-is", "fit is not affected", user_id="sam", pin=SAM)
    with pytest.raises(NotPermitted, match="Only a supervisor can co-sign"):
        review.cosign(reject, user_id="ann", pin=ANN)
    assert len(dispositions(store)) == 1
    assert not [r for r in store.records() if r["kind"] == "disposition_signature"]


def test_a_reject_is_disposed_once_with_a_complete_signature_record(
    store: LocalStore, review: Review, recorder: Recorder, bracket: PartSpec
):
    reject = reject_part(recorder, bracket, "S1")
    shown = review.detail(reject)
    info = review.sign(
        reject,
        "scrap",
        "crack at the bore",
        user_id="sam",
        pin=SAM,
        expected_hash=shown.signed_hash,
    )
    assert info.complete and info.disposition is Disposition.SCRAP
    with pytest.raises(AlreadyDisposed, match="already disposed as scrap by Sam Ortiz"):
        review.sign(reject, "rework", "second thoughts", user_id="kim", pin=KIM)
    with pytest.raises(AlreadyDisposed):
        review.cosign(reject, user_id="kim", pin=KIM)
    (record,) = dispositions(store)
    body = record["body"]
    assert record["station"] == "TEST-1" and record["ts"].endswith("Z")
    assert (body["disposition"], body["reason"], body["signers_required"]) == (
        "scrap",
        "crack at the bore",
        1,
    )
    assert body["signature"]["user_id"] == "sam"
    assert body["signature"]["name"] == "Sam Ortiz"
    assert body["signature"]["meaning"] == MEANING_APPROVAL
    assert body["signature"]["signed_at"].endswith("Z")
    assert body["signed_hash"] == shown.signed_hash
    assert [r["uuid"] for r in body["signed_records"]] == [r.uuid for r in shown.signed_records]
    assert (body["reject"], body["lot"], body["serial"]) == (reject, "L1", "S1")
    assert review.queue() == []
    (done,) = review.queue(RejectFilter(include_disposed=True))
    assert done.status is Status.DISPOSED and done.disposition.signatures[0].name == "Sam Ortiz"
    assert store.verify().ok


def test_use_as_is_needs_a_second_supervisor(
    store: LocalStore, review: Review, recorder: Recorder, bracket: PartSpec
):
    reject = reject_part(recorder, bracket, "S1")
    first = review.sign(reject, "use as is", "customer deviation CD-12", user_id="sam", pin=SAM)
    assert (first.signers_required, first.complete) == (2, False)
    (waiting,) = review.queue()
    assert waiting.status is Status.AWAITING_SECOND
    with pytest.raises(NotPermitted, match="another supervisor"):
        review.cosign(reject, user_id="sam", pin=SAM)
    with pytest.raises(WrongPin):
        review.cosign(reject, user_id="kim", pin="1111")
    done = review.cosign(reject, user_id="kim", pin=KIM)
    assert done.complete
    assert [s.name for s in done.signatures] == ["Sam Ortiz", "Kim Park"]
    assert done.signatures[1].meaning == MEANING_SECOND_APPROVAL
    assert review.queue() == []
    with pytest.raises(AlreadyDisposed, match="already has the 2 signature"):
        review.cosign(reject, user_id="kim", pin=KIM)
    (cosign,) = [r for r in store.records() if r["kind"] == "disposition_signature"]
    (disposition,) = dispositions(store)
    assert cosign["body"]["disposition"] == disposition["uuid"]
    assert cosign["body"]["disposition_hash"] == disposition["hash"]
    assert cosign["body"]["signed_hash"] == disposition["body"]["signed_hash"]
    assert store.verify().ok


def test_the_second_signer_policy_is_a_parameter(
    store: LocalStore, users: UserDirectory, recorder: Recorder, bracket: PartSpec
):
    lenient = Review(LocalSource(store), store, users, SignaturePolicy(frozenset()))
    strict = Review(
        LocalSource(store), store, users, SignaturePolicy(frozenset({Disposition.REWORK}))
    )
    assert lenient.sign(
        reject_part(recorder, bracket, "S1"), "use-as-is", "ok", user_id="sam", pin=SAM
    ).complete
    assert not strict.sign(
        reject_part(recorder, bracket, "S2"), "rework", "re-cut", user_id="sam", pin=SAM
    ).complete
    assert strict.sign(
        reject_part(recorder, bracket, "S3"), "repair", "sleeve", user_id="sam", pin=SAM
    ).complete


@pytest.mark.parametrize(
    ("toml", "second"),
    [
        ("", {Disposition.USE_AS_IS, Disposition.REPAIR}),
        (
            'second_signer = ["rework", "use as is", "RTS"]\n',
            {Disposition.REWORK, Disposition.USE_AS_IS, Disposition.RETURN_TO_SUPPLIER},
        ),
        ("second_signer = []\n", set()),
    ],
)
def test_the_second_signer_policy_comes_from_station_toml(
    tmp_path: Path, toml: str, second: set[Disposition]
):
    path = tmp_path / "station.toml"
    path.write_text(f'station = "BENCH-3"\n{toml}')
    policy = SignaturePolicy.from_config(load_config(path))
    assert policy.second_signer == second
    assert policy.signers_required(Disposition.SCRAP) == 1


def test_an_unknown_disposition_in_station_toml_is_one_sentence_with_its_line(tmp_path: Path):
    path = tmp_path / "station.toml"
    path.write_text('station = "BENCH-3"\n\nsecond_signer = ["use-as-is", "scrapp"]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}:3: second_signer: 'scrapp' is not a disposition; choose one of use-as-is, "
        "rework, repair, regrade, scrap, return-to-supplier"
    )


def test_signing_refuses_records_that_changed_since_they_were_shown(
    store: LocalStore, review: Review, recorder: Recorder, bracket: PartSpec
):
    reject = reject_part(recorder, bracket, "S1")
    shown = review.detail(reject)
    recorder.measure(  # a correction that still fails: same reject, different content
        spec=bracket,
        lot="L1",
        serial="S1",
        inspector="ann",
        characteristic="1",
        value="120.24",
        source=ManualSource("dial"),
        reason="re-read the caliper",
    )
    with pytest.raises(StaleReject, match="changed since they were shown"):
        review.sign(
            reject, "scrap", "long", user_id="sam", pin=SAM, expected_hash=shown.signed_hash
        )
    again = review.detail(reject)
    assert again.signed_hash != shown.signed_hash
    assert [m.current for m in again.measurements] == [False, True, True, True, True]
    review.sign(reject, "scrap", "long", user_id="sam", pin=SAM, expected_hash=again.signed_hash)


def test_a_reject_replaced_by_a_later_result_cannot_be_signed(
    store: LocalStore, review: Review, recorder: Recorder, bracket: PartSpec
):
    reject = reject_part(recorder, bracket, "S1")
    recorder.measure(
        spec=bracket,
        lot="L1",
        serial="S1",
        inspector="ann",
        characteristic="1",
        value="120.05",
        source=ManualSource("dial"),
        reason="wrong jaw position",
        auto_close=True,
    )
    assert review.queue() == []
    with pytest.raises(StaleReject, match="replaced by a later result"):
        review.sign(reject, "scrap", "long", user_id="sam", pin=SAM)


def test_a_reworked_part_is_reinspected_and_linked_to_its_reject(
    store: LocalStore, review: Review, recorder: Recorder, bracket: PartSpec
):
    reject = reject_part(recorder, bracket, "S1")
    with pytest.raises(ReviewError, match="only after a signed rework or repair"):
        review.start_reinspection(reject, recorder, bracket, "ann")
    review.sign(reject, "rework", "re-cut to length", user_id="sam", pin=SAM)
    inspection = review.start_reinspection(reject, recorder, bracket, "ann")
    for char, value in GOOD.items():
        ack = recorder.measure(
            spec=bracket,
            lot="L1",
            serial="S1",
            inspector="ann",
            characteristic=char,
            value=value,
            source=ManualSource("dial"),
            auto_close=True,
        )
        assert ack.inspection == inspection
    assert ack.result == "accept"
    detail = review.detail(reject)
    (again,) = detail.reinspections
    assert (again.inspection, again.result) == (inspection, "accept")
    assert again.disposition == detail.disposition.uuid
    (linked,) = store.query("SELECT * FROM reinspections")
    assert (linked["reinspection_of"], linked["serial"]) == (reject, "S1")
    assert store.query("SELECT result FROM current_results WHERE uuid = ?", (reject,))
    assert store.verify().ok


def test_a_failed_reinspection_is_a_new_reject_that_names_the_original(
    store: LocalStore, review: Review, recorder: Recorder, bracket: PartSpec
):
    original = reject_part(recorder, bracket, "S1")
    review.sign(original, "rework", "re-cut", user_id="sam", pin=SAM)
    review.start_reinspection(original, recorder, bracket, "ann")
    again = reject_part(recorder, bracket, "S1", length="120.12", defect="D01")
    (waiting,) = review.queue()
    assert (waiting.reject, waiting.reinspection_of) == (again, original)


def test_an_office_terminal_signs_into_its_own_journal(
    store: LocalStore, users: UserDirectory, recorder: Recorder, bracket: PartSpec, tmp_path: Path
):
    reject = reject_part(recorder, bracket, "S1")
    bench_head = store.head()
    with LocalStore(tmp_path / "office.db", "OFFICE-1") as office:
        office_users = add_users(office, [("sam", "Sam Ortiz", "supervisor", "246802", [])])
        review = Review(LocalSource(store), office, office_users)
        info = review.sign(reject, "scrap", "crack", user_id="sam", pin="246802")
        assert info.station == "OFFICE-1"
        (record,) = dispositions(office)
        assert record["station"] == "OFFICE-1" and record["body"]["reject_station"] == "TEST-1"
        assert review.queue() == []
        with pytest.raises(AlreadyDisposed):
            review.sign(reject, "rework", "again", user_id="sam", pin="246802")
        assert office.verify().ok
    assert store.head() == bench_head
    assert dispositions(store) == []


def test_dispositions_are_validated_before_anything_is_asked(
    store: LocalStore, review: Review, recorder: Recorder, bracket: PartSpec
):
    reject = reject_part(recorder, bracket, "S1")
    with pytest.raises(DispositionError, match="needs a reason"):
        review.sign(reject, "scrap", "  ", user_id="sam", pin=SAM)
    with pytest.raises(DispositionError, match="grade to regrade to"):
        review.sign(reject, "regrade", "shorter variant", user_id="sam", pin=SAM)
    with pytest.raises(DispositionError, match="not a disposition"):
        review.sign(reject, "keep", "why not", user_id="sam", pin=SAM)
    with pytest.raises(DispositionError, match="one line"):
        review.sign(reject, "scrap", "a\nb", user_id="sam", pin=SAM)
    info = review.sign(
        reject,
        "regrade",
        "fits the short variant",
        user_id="sam",
        pin=SAM,
        regrade_to="BRK-1042-S",
    )
    assert info.regrade_to == "BRK-1042-S"
    assert parse_disposition("Return to supplier") is Disposition.RETURN_TO_SUPPLIER
    assert parse_disposition("concession") is Disposition.USE_AS_IS


def test_reject_ids_resolve_by_prefix(review: Review, recorder: Recorder, bracket: PartSpec):
    reject = reject_part(recorder, bracket, "S1")
    assert review.detail(reject[:6]).summary.reject == reject
    with pytest.raises(UnknownReject, match="no reject"):
        review.detail("ffffffff")
    with pytest.raises(UnknownReject, match="not a reject id"):
        review.detail("S1; DROP")
