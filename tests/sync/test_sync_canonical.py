"""The ingest hash path (the canonical module's fast path) writes exactly the RFC 8785 bytes."""

from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from propertykit import examples

from inspect_station.canonical import canonical_parts, parse_body, record_digest
from inspect_station.store import journal

# JSON values as a station body can hold them after a round trip through the journal table:
# any text (including controls, quotes, non-ASCII, astral characters), integers of any size,
# booleans, null, nested lists and objects; floats are generated too, to check the fallback.
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.text(max_size=12)
    | st.floats(allow_nan=False, allow_infinity=False)
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=20,
)
_bodies = st.dictionaries(st.text(max_size=8), _values, max_size=8)


def _record(body: dict, **fields: object) -> dict:
    record = {
        "format": 1,
        "station": "BENCH-1",
        "seq": 7,
        "uuid": "5b0c1c9e-1d2e-4c3b-9a5f-0e2d3c4b5a69",
        "kind": "measurement",
        "ts": "2026-11-25T09:14:03.123456Z",
        "prev_hash": "0" * 64,
        "body": body,
    }
    record.update(fields)
    return record


def _reference(record: dict) -> bytes:
    """The journal's own canonical bytes, checked against the rfc8785 package itself."""
    data = journal.canonical_bytes(record)
    assert data == rfc8785.dumps({k: record[k] for k in journal.RECORD_FIELDS})
    return data


@pytest.mark.slow
@settings(max_examples=examples(400), deadline=None)
@given(body=_bodies, kind=st.text(max_size=10), station=st.text(min_size=1, max_size=8))
def test_same_bytes_as_rfc8785_for_any_stored_body(body: dict, kind: str, station: str):
    record = _record(body, kind=kind, station=station)
    try:
        expected = _reference(record)
    except (rfc8785.CanonicalizationError, TypeError):  # floats are refused by the journal
        expected = None
    # The body as the shipper sees it: read back from the journal table's JSON text.
    parsed, plain = parse_body(json.dumps(body))
    stored = {**record, "body": parsed}
    try:
        actual, body_text = canonical_parts(stored, plain)
    except (rfc8785.CanonicalizationError, ValueError, TypeError):
        assert expected is None
        return
    assert actual == expected
    assert body_text == rfc8785.dumps(parsed).decode("utf-8")


def test_floats_and_huge_integers_are_not_plain():
    assert parse_body('{"a": "1.5", "b": [1, 2, {"c": null}]}')[1] is True
    assert parse_body('{"a": 1.5}') == ({"a": 1.5}, False)
    assert parse_body('{"a": 1e400}')[1] is False
    assert parse_body('{"a": NaN}')[1] is False
    assert parse_body('{"a": 9007199254740993}')[1] is False
    assert parse_body('{"a": 9007199254740991}')[1] is True


def test_a_key_outside_the_basic_plane_sorts_the_utf16_way():
    # U+1F600 is D83D DE00 in UTF-16, which sorts before U+FB01; code point order says after.
    body = {"\U0001f600": "x", "\ufb01": "y"}
    record = _record(body)
    data, _ = canonical_parts(record, plain_body=True)
    assert data == _reference(record)
    assert data.index("\U0001f600".encode()) < data.index("\ufb01".encode())


def test_digest_of_a_real_record_is_its_hash():
    record = journal.make_record(
        station="BENCH-1",
        seq=1,
        kind="measurement",
        body={"value": "12.005", "unit": "µm", "raw": "\x02+012.005\r", "note": 'say "hi"'},
        prev_hash=journal.GENESIS,
    )
    text = journal.canonical_body(record["body"])
    body, plain = parse_body(text)
    assert plain
    digest, body_text = record_digest({**record, "body": body}, plain)
    assert digest == record["hash"] == journal.record_hash(record)
    assert body_text == text
