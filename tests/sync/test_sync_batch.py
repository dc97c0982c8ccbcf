"""Checking a batch before it reaches the central store: every refusal has its typed reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from backlog import fill

from inspect_station.store import LocalStore
from inspect_station.store import journal as jn
from inspect_station.sync import IngestRefused, Refusal, prepare_batch

ROWS = (
    "SELECT format, station, seq, uuid, kind, ts, prev_hash, hash, body FROM journal ORDER BY seq"
)


@pytest.fixture
def rows(store: LocalStore, bracket) -> list[dict[str, Any]]:
    """30-odd journal rows of station TEST-1 as stored (body as JSON text)."""
    fill(store, bracket, 30)
    return store.query(ROWS)


def refused(rows: list[dict[str, Any]], station: str = "TEST-1") -> IngestRefused:
    with pytest.raises(IngestRefused) as info:
        prepare_batch(station, rows)
    return info.value


def test_a_clean_batch_becomes_journal_rows_only(rows):
    batch = prepare_batch("TEST-1", rows)
    assert len(batch) == len(rows) and batch.first_seq == 1 and batch.last_seq == len(rows)
    assert [r[1] for r in batch.journal] == list(range(1, len(rows) + 1))
    assert batch.last_hash == rows[-1]["hash"]
    assert [r[8] for r in batch.journal] == [r["body"] for r in rows]  # canonical text kept
    # The central store derives the query rows itself: the batch carries none.
    assert not hasattr(batch, "projections")
    assert batch.has_kind("measurement") and not batch.has_kind("disposition")


def test_decoded_records_are_accepted_too(store, rows):
    assert (
        prepare_batch("TEST-1", list(store.records())).journal
        == prepare_batch("TEST-1", rows).journal
    )


def test_an_altered_record_is_a_bad_hash(rows):
    body = json.loads(rows[5]["body"])
    body["value"] = "12.001"
    rows[5]["body"] = jn.canonical_body(body)
    error = refused(rows)
    assert (error.reason, error.seq) == (Refusal.BAD_HASH, 6)
    assert "seq 6 of station TEST-1 does not match its hash" in error.message


def test_a_rehashed_record_breaks_the_next_link(rows):
    body = json.loads(rows[5]["body"])
    body["value"] = "12.001"
    fields = {k: rows[5][k] for k in ("station", "seq", "kind", "prev_hash", "ts")}
    record = jn.make_record(**fields, body=body, record_uuid=rows[5]["uuid"])
    rows[5] = {**record, "body": jn.canonical_body(record["body"])}
    error = refused(rows)
    assert (error.reason, error.seq) == (Refusal.BROKEN_LINK, 7)


def test_a_missing_record_is_a_gap(rows):
    del rows[9]
    error = refused(rows)
    assert (error.reason, error.seq) == (Refusal.GAP, 11)
    assert "jumps from seq 9 to seq 11" in error.message


def test_another_stations_record_is_refused(rows):
    error = refused(rows, station="BENCH-9")
    assert error.reason is Refusal.WRONG_STATION
    assert "belongs to station 'TEST-1', not 'BENCH-9'" in error.message


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"format": 2}, Refusal.MALFORMED),
        ({"body": "{not json"}, Refusal.MALFORMED),
        ({"body": "[1, 2]"}, Refusal.MALFORMED),
        ({"seq": "3"}, Refusal.MALFORMED),
        ({"kind": None}, Refusal.MALFORMED),
    ],
)
def test_malformed_records(rows, change: dict, reason: Refusal):
    rows[2] = {**rows[2], **change}
    assert refused(rows).reason is reason


def test_a_record_without_its_hash_is_malformed(rows):
    del rows[0]["hash"]
    error = refused(rows)
    assert error.reason is Refusal.MALFORMED and "lacks hash" in error.message


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"zone": None, "unit": None, "gauge": None}, None),  # null for an optional key: NULL
        ({"value": None, "lot": None}, "body.lot is missing or null"),
        ({"value": 120.01}, "body.value is not text"),
        ({"value": ["120.01"]}, "body.value is not text"),
        ({"zone": None, "lot": 7}, "body.lot is not text"),
        ({"gauge": "CAL-1"}, "body.gauge is not an object"),
        ({"gauge": {"asset": 42}}, "body.gauge.asset is not text"),
        ({"limits": []}, "body.limits is not an object"),
    ],
)
def test_a_body_of_the_wrong_shape_is_malformed(rows, change: dict, problem: str | None):
    index = next(i for i, r in enumerate(rows) if r["kind"] == "measurement")
    body = {**json.loads(rows[index]["body"]), **change}
    fields = {k: rows[index][k] for k in ("station", "seq", "kind", "prev_hash", "ts")}
    try:
        record = jn.make_record(**fields, body=body, record_uuid=rows[index]["uuid"])
    except TypeError:  # a float: the journal itself refuses it
        assert problem is not None
        return
    rows[index] = {**record, "body": jn.canonical_body(record["body"])}
    if problem is None:
        assert prepare_batch("TEST-1", rows[: index + 1]).last_seq == index + 1
        return
    error = refused(rows[: index + 1])
    assert (error.reason, error.seq) == (Refusal.MALFORMED, index + 1)
    assert f"(measurement) is malformed: {problem}" in error.message


def test_a_body_that_lacks_a_required_key_is_malformed(rows):
    index = next(i for i, r in enumerate(rows) if r["kind"] == "measurement")
    record = jn.make_record(
        **{k: rows[index][k] for k in ("station", "seq", "kind", "prev_hash")}, body={}
    )
    rows[index] = {**record, "body": jn.canonical_body(record["body"])}
    error = refused(rows[: index + 1])
    assert error.reason is Refusal.MALFORMED and "is missing or null" in error.message


def _held(rows: list[dict[str, Any]]):
    def held(first: int, last: int) -> dict[int, tuple[str, str]]:
        return {r["seq"]: (r["uuid"], r["hash"]) for r in rows if first <= r["seq"] <= last}

    return held


def test_against_head_skips_what_is_held_and_keeps_the_rest(rows):
    batch = prepare_batch("TEST-1", rows[10:20])
    head = rows[14]
    rest = batch.against_head(head["seq"], head["hash"], _held(rows[:15]))
    assert (rest.first_seq, rest.last_seq) == (16, 20)
    assert [r[1] for r in rest.journal] == [16, 17, 18, 19, 20]
    assert len(batch.against_head(rows[25]["seq"], rows[25]["hash"], _held(rows))) == 0


def test_against_head_refuses_a_fork_among_held_records(rows, store: LocalStore, tmp_path):
    # Another database with the same station id: same seqs, different records.
    with LocalStore(tmp_path / "other.db", "TEST-1") as other:
        other.append("note", {"text": "I am a different chain"})
        other.append("note", {"text": "me too"})
        forked = prepare_batch("TEST-1", other.query(ROWS))
    with pytest.raises(IngestRefused) as info:
        forked.against_head(rows[4]["seq"], rows[4]["hash"], _held(rows))
    assert (info.value.reason, info.value.seq) == (Refusal.FORK, 1)


def test_against_head_refuses_a_gap_and_a_batch_that_does_not_continue(rows):
    batch = prepare_batch("TEST-1", rows[10:20])
    with pytest.raises(IngestRefused) as info:
        batch.against_head(5, rows[4]["hash"], _held(rows))
    assert info.value.reason is Refusal.GAP and "records 6-10 are missing" in info.value.message
    with pytest.raises(IngestRefused) as info:
        batch.against_head(10, "f" * 64, _held(rows))
    assert (info.value.reason, info.value.seq) == (Refusal.FORK, 11)
