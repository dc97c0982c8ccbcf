"""Hostile text: one validator refuses controls and bidi overrides wherever people type text,
nothing is recorded for it, and the record still verifies."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from propertykit import examples
from userkit import ADMIN_ID, ADMIN_PIN, PINS, add_users

from inspect_station.recording import ManualSource, Recorder
from inspect_station.records import LocalSource
from inspect_station.review.model import DispositionError, SignaturePolicy
from inspect_station.review.service import Review
from inspect_station.spec import PartSpec
from inspect_station.store import LocalStore
from inspect_station.text import (
    _UNSAFE,
    TextError,
    check_id,
    check_line,
    printable,
    safe_json,
    unsafe,
)
from inspect_station.users import UserError

HOSTILE = {
    "NUL": "\x00",
    "TAB": "\t",
    "LF": "\n",
    "ESC": "\x1b",
    "DEL": "\x7f",
    "NEL (C1)": "\x85",
    "CSI (C1)": "\x9b",
    "RLO": "\u202e",
    "LRE": "\u202a",
    "RLI": "\u2067",
    "PDI": "\u2069",
    "RLM": "\u200f",
    "ALM": "\u061c",
    "LINE SEPARATOR": "\u2028",
    "lone surrogate": "\udcff",
}


@pytest.fixture
def recorder(store: LocalStore) -> Recorder:
    """A recorder on a fresh store."""
    return Recorder(store)


def measure(recorder: Recorder, bracket: PartSpec, **fields: str) -> None:
    """Record characteristic 3 of a part, with some of its texts replaced."""
    texts = {"lot": "L1", "serial": "S1", "inspector": "ann", "manual_reason": "gauge away"}
    texts.update(fields)
    reason = texts.pop("manual_reason")
    recorder.measure(
        spec=bracket, characteristic="3", value="0.01", source=ManualSource(reason), **texts
    )


@pytest.mark.parametrize("char", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("field", ["lot", "serial", "inspector", "manual_reason"])
def test_a_control_or_bidi_character_is_refused_and_nothing_is_recorded(
    store: LocalStore, recorder: Recorder, bracket: PartSpec, field: str, char: str
):
    with pytest.raises(TextError) as info:
        measure(recorder, bracket, **{field: f"A{char}B"})
    assert not any(unsafe(c) for c in info.value.message)
    assert store.head()[0] == 0
    assert store.verify().ok


@pytest.mark.parametrize("char", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_defect_note_and_code_are_checked(
    store: LocalStore, recorder: Recorder, bracket: PartSpec, char: str
):
    for value, ch in (("130", "1"), ("12.005", "2"), ("0.01", "3"), ("pass", "4")):
        recorder.measure(
            spec=bracket, lot="L1", serial="S1", inspector="ann", characteristic=ch,
            value=value, source=ManualSource("test"),
        )  # fmt: skip
    head = store.head()[0]
    for fields in ({"note": f"burr{char}here"}, {"defect_code": f"D0{char}1"}):
        with pytest.raises(TextError):
            recorder.close_inspection(
                spec=bracket, lot="L1", serial="S1", inspector="ann",
                **{"defect_code": "D01", **fields},
            )  # fmt: skip
    assert store.head()[0] == head
    assert store.verify().ok


@pytest.mark.parametrize("char", HOSTILE.values(), ids=HOSTILE.keys())
def test_user_ids_names_and_badges_are_checked(store: LocalStore, char: str):
    users = add_users(store, [])
    admin = users.authorize(ADMIN_ID, ADMIN_PIN)
    head = store.head()[0]
    attempts = [
        {"user_id": f"ann{char}"},
        {"name": f"Ann{char}Lee"},
        {"badge": f"B-{char}7"},
        {"qualifications": [f"BRK-{char}*"]},
    ]
    for change in attempts:
        fields = {"user_id": "ann", "name": "Ann Lee", "role": "inspector", "pin": "246813"}
        with pytest.raises(UserError):
            users.add(**{**fields, **change}, by=admin)
    assert store.head()[0] == head
    assert store.verify().ok


@pytest.mark.parametrize("char", ["\x1b", "\x9b", "\u202e", "\udcff"])
def test_disposition_texts_are_checked(
    store: LocalStore, recorder: Recorder, bracket: PartSpec, char: str
):
    users = add_users(store)
    for value, ch in (("130", "1"), ("12.005", "2"), ("0.01", "3"), ("pass", "4")):
        recorder.measure(
            spec=bracket, lot="L1", serial="S1", inspector="ann", characteristic=ch,
            value=value, source=ManualSource("test"),
        )  # fmt: skip
    recorder.close_inspection(
        spec=bracket, lot="L1", serial="S1", inspector="ann", defect_code="D01"
    )
    review = Review(LocalSource(store), store, users, SignaturePolicy())
    reject = review.queue()[0].reject
    head = store.head()[0]
    with pytest.raises(DispositionError, match="contains"):
        review.sign(reject, "scrap", f"bent{char}", user_id="sam", pin=PINS["sam"])
    with pytest.raises(DispositionError, match="contains"):
        review.sign(reject, "scrap", "bent", user_id="sam", pin=PINS["sam"], meaning=f"ok{char}")
    assert store.head()[0] == head
    assert store.verify().ok


@pytest.mark.parametrize("text", ["L\u200b1", "L\u00a01", "L\ufeff1", "L\u00ad1"])
def test_identifiers_refuse_invisible_characters_that_make_lookalikes(text: str):
    with pytest.raises(TextError, match="invisible or non-ASCII blank"):
        check_id(text, "lot")


def test_free_text_keeps_what_real_languages_need():
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # with a ZWNJ
    assert check_line(persian, "note") == persian
    assert check_line("Müller: Grat an Kante 3 👍", "note") == "Müller: Grat an Kante 3 👍"
    assert check_id("Lot-Ä 12", "lot") == "Lot-Ä 12"


def test_printable_shows_every_unsafe_character_as_an_escape():
    shown = printable("L1\x1b[2J\x9b\u202eX\udcff")
    assert shown == "L1\\x1b[2J\\x9b\\u202eX\\udcff"
    assert not any(unsafe(c) for c in shown)


@settings(max_examples=examples(500), deadline=None)
@given(st.recursive(st.text(), lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids)))
def test_safe_json_is_the_same_json_without_a_terminal_control(value):
    text = safe_json(value)
    assert not any(unsafe(c) for c in text)
    assert json.loads(text) == value


def test_the_one_scan_for_unsafe_characters_agrees_with_unsafe_on_every_code_point():
    for code in range(0x110000):
        char = chr(code)
        assert (_UNSAFE.search(char) is not None) is unsafe(char), hex(code)
    assert safe_json({"a": "x\u202ey"}) == '{"a": "x\\u202ey"}'
