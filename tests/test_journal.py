"""The record format: our fast canonical encoder is RFC 8785, byte for byte."""

from __future__ import annotations

import hashlib

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from propertykit import examples

from inspect_station.store import journal

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=examples(400))
@given(json_values)
def test_canonical_json_is_rfc8785(value):
    assert journal.canonical_json(value) == rfc8785.dumps(value)


def test_keys_beyond_the_bmp_sort_by_utf16():
    value = {"\U0001f600": 1, "\ufb01": 2, "a": 3}
    assert journal.canonical_json(value) == rfc8785.dumps(value)


@settings(max_examples=examples(200))
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6), st.text(min_size=1))
def test_record_hash_matches_reference(body, station):
    record = journal.make_record(station=station, seq=3, kind="note", body=body, prev_hash="a" * 64)
    reference = {k: v for k, v in record.items() if k != "hash"}
    assert record["hash"] == hashlib.sha256(rfc8785.dumps(reference)).hexdigest()
    assert journal.record_hash(record) == record["hash"]
