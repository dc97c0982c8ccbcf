"""The record path's fast routes give exactly what the plain routes give, byte for byte.

Group commit is CPU-bound (issue 15): the text check, the body's canonical text, the shape
check, the projection's JSON columns, the record's time and UUID and the verdict each have a
faster route now. Each is held here to the slower, obviously right one it replaces, on
generated values, hostile ones included; and the journal a group writes is, byte for byte, the
journal the same measurements write one by one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from propertykit import examples

from inspect_station import canonical, clock, intake
from inspect_station.errors import InspectStationError
from inspect_station.evaluate import evaluate
from inspect_station.recording import ManualSource, Measurement, MeasurementAck, Recorder
from inspect_station.spec import PartSpec
from inspect_station.store import LocalStore, journal, projections
from inspect_station.text import TextError, _first_problem, check_text

# -- text ------------------------------------------------------------------------------------

HOSTILE_CHARS = "\x00\t\n\r\x1b\x7f\x85\x9b\u061c\u200b\u200e\u202e\u2028\u2029\u2067\u00a0\u3000"
texts = st.text(
    alphabet=st.sampled_from("ab1 -_.é€😀") | st.sampled_from(HOSTILE_CHARS) | st.characters(),
    max_size=30,
)


@settings(max_examples=examples(2000))
@given(texts, st.booleans())
def test_check_text_refuses_exactly_what_the_character_scan_refuses(text, identifier):
    expected = _first_problem(text.strip(" "), identifier)
    try:
        check_text(text, "note", max_length=1000, identifier=identifier, required=False)
    except TextError as exc:
        assert expected is not None and exc.reason.endswith(f"contains {expected}")
    else:
        assert expected is None


@pytest.mark.parametrize("char", list(HOSTILE_CHARS))
def test_every_hostile_character_is_still_refused_in_an_identifier(char):
    with pytest.raises(TextError):
        check_text(f"L{char}1", "lot", max_length=64, identifier=True)


# -- canonical text --------------------------------------------------------------------------

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.text(alphabet=st.characters() | st.sampled_from("\U0001f600\ufb01\ud800"), max_size=6)
)
json_like = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=4) | st.sampled_from(["\U0001f600", "a"]), children)
    ),
    max_leaves=25,
)


def outcome(encode: Any, value: Any) -> tuple[str, Any]:
    """What an encoder gives: its text, or its error's type and message."""
    try:
        return "text", encode(value)
    except Exception as exc:
        return "error", (type(exc), str(exc))


@settings(max_examples=examples(2000))
@given(st.dictionaries(st.text(max_size=6), json_like, max_size=8) | json_like)
def test_plain_text_is_canonical_text(value):
    assert outcome(journal.plain_text, value) == outcome(canonical.canonical_text, value)


@settings(max_examples=examples(500))
@given(st.dictionaries(st.text(max_size=6), json_like, max_size=8))
def test_plain_text_is_rfc8785_where_rfc8785_writes_it(value):
    try:
        reference = rfc8785.dumps(value)
    except Exception:
        return  # refused by the reference: covered by the comparison with canonical_text
    assert journal.plain_text(value).encode("utf-8") == reference


def test_a_float_is_refused_naming_where_it_is():
    with pytest.raises(TypeError, match=r"body\.limits\.upper is a float"):
        journal.plain_text({"limits": {"upper": 0.1}}, "body")


@settings(max_examples=examples(1000))
@given(json_like)
def test_projection_json_columns_are_canonical_json(value):
    assert outcome(projections._json, value) == outcome(
        lambda v: None if v is None else canonical.canonical_json(v).decode("utf-8"), value
    )


# -- the shape check -------------------------------------------------------------------------

shape_values = st.none() | st.booleans() | st.integers() | st.text(max_size=3) | st.just({})


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A record kind and a body near its shape: every key checked, some missing, null or of
    the wrong type, nested objects too."""
    kind = draw(st.sampled_from(sorted(projections.SHAPES)))
    body: dict[str, Any] = {}
    for check in projections.SHAPES[kind]:
        holder = body
        for parent in check.path[:-1]:
            if parent not in holder or not isinstance(holder[parent], dict):
                holder[parent] = draw(st.sampled_from([{}, {}, {}, None, "x"]))
            holder = holder[parent]
            if not isinstance(holder, dict):
                break
        else:
            good = {
                "text": "t",
                "integer": 3,
                "flag": True,
                "object": {},
                "object_or_null": {},
                "any": [1],
            }[check.rule]
            if draw(st.integers(0, 9)) < 8:
                holder[check.path[-1]] = good
            elif draw(st.booleans()):
                holder[check.path[-1]] = draw(shape_values)
    return kind, body


@settings(max_examples=examples(3000))
@given(bodies())
def test_the_compiled_shape_check_answers_as_the_declarations_read(case):
    kind, body = case
    record = {"kind": kind, "body": body}
    assert projections.shape_problem(record) == projections.interpret_shape(
        projections.SHAPES[kind], body
    )


def test_a_replaced_declaration_is_compiled_again(monkeypatch):
    record = {"kind": "measurement", "body": {}}
    assert projections.shape_problem(record) is not None
    monkeypatch.setitem(projections.SHAPES, "measurement", ())
    assert projections.shape_problem(record) is None


# -- time and identity -----------------------------------------------------------------------


@settings(max_examples=examples(1000))
@given(
    st.datetimes(
        min_value=dt.datetime(1, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30))]),
    )
)
def test_record_time_text_is_the_documented_format(moment):
    assert clock.format_utc(moment) == moment.astimezone(dt.UTC).strftime(clock.TIMESTAMP_FORMAT)


@given(
    st.datetimes(
        min_value=dt.datetime(1, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-7))]),
    )
)
def test_the_journal_time_of_now_is_the_documented_format(moment):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "utc_now", lambda: moment)
        text = clock.utc_timestamp()
    assert text == moment.astimezone(dt.UTC).strftime(clock.TIMESTAMP_FORMAT)


def test_record_uuids_are_random_version_4_in_their_usual_text():
    seen = {journal.new_uuid() for _ in range(2000)}
    assert len(seen) == 2000
    for text in itertools.islice(seen, 200):
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == text
    # every digit but the version's and the variant's is random: each takes every hex value
    digits = [text.replace("-", "") for text in seen]
    for position in range(32):
        values = {d[position] for d in digits}
        if position == 12:
            assert values == {"4"}
        elif position == 16:
            assert values == set("89ab")
        else:
            assert values == set("0123456789abcdef"), position


# -- the verdict -----------------------------------------------------------------------------


def test_a_reloaded_spec_is_judged_by_its_own_limits(bracket: PartSpec):
    ch = bracket.get("1")
    assert ch is not None
    assert evaluate("120.09", None, ch, bracket).verdict.value == "pass"
    tighter = ch.model_copy(
        update={"tolerance": None, "lower": ch.limits[0], "upper": Decimal("120.05")}
    )
    tighter = type(ch).model_validate(tighter.model_dump(by_alias=True))
    spec = bracket.model_copy(update={"characteristic": [tighter, *bracket.characteristic[1:]]})
    judged = evaluate("120.09", None, tighter, spec)
    assert judged.verdict.value == "fail" and judged.limit == "upper"
    assert judged.limits["upper"] == "120.05"
    # the first spec's characteristic is still judged by its own limits
    assert evaluate("120.09", None, ch, bracket).verdict.value == "pass"


# -- the journal a group writes --------------------------------------------------------------


def fixed_identities(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every record's time and UUID from a counter, so two runs can be compared byte for byte."""
    ticks = itertools.count()
    start = dt.datetime(2031, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    monkeypatch.setattr(clock, "utc_now", lambda: start + dt.timedelta(microseconds=next(ticks)))
    ids = itertools.count(1)
    monkeypatch.setattr(journal, "new_uuid", lambda: str(uuid.UUID(int=next(ids), version=4)))


def requests(spec: PartSpec) -> list[Measurement]:
    """Two parts of a lot, a refused reading, a correction with its reason, a failing value,
    a value in another unit."""
    values = [
        ("P1", "1", "120.01", None, None),
        ("P1", "2", "12.005", None, None),
        ("P1", "2", "abc", None, None),
        ("P1", "3", "0.02", None, None),
        ("P1", "4", "pass", None, None),
        ("P2", "1", "4.7248", "in", None),
        ("P2", "2", "12.0195", None, None),
        ("P2", "3", "0.06", None, None),
        ("P2", "4", "fail", None, None),
        ("P2", "3", "0.01", None, "the part was not clamped"),
    ]
    return [
        Measurement(
            spec=spec,
            lot="LOT-7",
            serial=serial,
            inspector="ann",
            characteristic=char,
            value=value,
            unit=unit,
            source=ManualSource("bench caliper, no cable"),
            reason=reason,
            auto_close=True,
            lot_size=50,
        )
        for serial, char, value, unit, reason in values
    ]


def snapshot(store: LocalStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every journal row and every projection row, as stored."""
    tables = ["journal", *projections.TABLES]
    return {t: store.query_tuples(f"SELECT * FROM {t} ORDER BY seq") for t in tables}


def test_a_group_writes_the_journal_one_by_one_writes(tmp_path, bracket, monkeypatch):
    fixed_identities(monkeypatch)
    with LocalStore(tmp_path / "one.db", "BENCH-3") as one:
        recorder = Recorder(one)
        outcomes_one: list[MeasurementAck | InspectStationError] = []
        for request in requests(bracket):
            fields = {f.name: getattr(request, f.name) for f in dataclasses.fields(request)}
            del fields["before"], fields["rolled_back"]  # what a group alone calls
            try:
                outcomes_one.append(recorder.measure(**fields))
            except InspectStationError as exc:
                outcomes_one.append(exc)
        by_one = snapshot(one)
        assert one.verify().ok
    fixed_identities(monkeypatch)
    with LocalStore(tmp_path / "group.db", "BENCH-3") as group:
        outcomes_group = Recorder(group).measure_many(requests(bracket))
        grouped = snapshot(group)
        assert group.verify().ok
    assert [type(o) for o in outcomes_group] == [type(o) for o in outcomes_one]
    assert sum(isinstance(o, MeasurementAck) for o in outcomes_group) == 9
    assert grouped == by_one
    kinds = [row[4] for row in grouped["journal"]]
    assert kinds.count("inspection_closed") == 3  # P1, P2, and P2 again after its correction
    for row in grouped["journal"]:
        assert canonical.canonical_text(json.loads(row[-1])) == row[-1]


def test_a_sealed_record_hashes_as_the_reference_says(store: LocalStore, bracket: PartSpec):
    ack = Recorder(store).measure(
        spec=bracket,
        lot="L1",
        serial="S1",
        inspector="ann",
        characteristic="2",
        value="12.0195",
        source=ManualSource("dial ⌀ gauge"),
    )
    (record,) = [r for r in store.records() if r["seq"] == ack.seq]
    reference = {k: v for k, v in record.items() if k != "hash"}
    assert record["hash"] == hashlib.sha256(rfc8785.dumps(reference)).hexdigest()


# -- intake and acknowledgements -------------------------------------------------------------


def reference_decode(text: str) -> tuple[str, Any]:
    """What ``json.loads`` with the intake's hooks gives: the value, or its error."""
    try:
        return "value", json.loads(
            text,
            parse_float=intake._JsonNumber,
            parse_int=intake._JsonNumber,
            parse_constant=intake._refuse_constant,
            object_pairs_hook=intake._pairs,
        )
    except (ValueError, RecursionError) as exc:
        return "error", (type(exc), str(exc).split(":", 1)[0])


def intake_decode(text: str) -> tuple[str, Any]:
    """What ``parse_line``'s decoding gives for the same text."""
    try:
        if text.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return "value", intake._DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        return "error", (type(exc), str(exc).split(":", 1)[0])


def comparable(outcome: tuple[str, Any]) -> Any:
    """A decoded value with JSON numbers as their text, so two decodings compare."""
    kind, value = outcome

    def plain(v: Any) -> Any:
        if isinstance(v, intake._JsonNumber):
            return ("number", v.text)
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v

    return (kind, plain(value)) if kind == "value" else outcome


@settings(max_examples=examples(1000))
@given(
    json_like.map(lambda v: json.dumps(v, ensure_ascii=False))
    | st.text(alphabet='{}[]":,0123456789.eE+-tfnaNIy \ufeff\\', max_size=30)
)
def test_the_intake_decoder_reads_a_line_as_json_loads_does(text):
    assert comparable(intake_decode(text)) == comparable(reference_decode(text))


def test_a_byte_order_mark_and_a_repeated_key_are_still_refused():
    with pytest.raises(intake.IntakeError, match="BOM"):
        intake.parse_line('\ufeff{"characteristic": "1", "value": "1"}'.encode())
    with pytest.raises(intake.IntakeError, match="given twice"):
        intake.parse_line(b'{"characteristic": "1", "value": "1", "value": "2"}')


@settings(max_examples=examples(500))
@given(json_like)
def test_safe_json_is_json_dumps_made_safe(value):
    from inspect_station.text import _UNSAFE, safe_json

    text = safe_json(value)
    assert json.loads(text) == json.loads(json.dumps(value, ensure_ascii=False))
    assert _UNSAFE.search(text) is None


intake_values = st.one_of(
    st.text(max_size=6),
    st.none(),
    st.integers(-5, 5),
    st.booleans(),
    st.just([]),
    st.just({}),
    st.just("\u0100"),
)


@settings(max_examples=examples(2000))
@given(
    st.dictionaries(st.sampled_from([*intake.FIELDS, "extra", "Value"]), intake_values, max_size=6)
)
def test_a_line_is_read_as_the_key_by_key_check_reads_it(item):
    # The usual line's shortcut answers what the full check answers, item or sentence.
    line = json.dumps(item, ensure_ascii=False).encode()

    def outcome(read):
        try:
            return read()
        except intake.IntakeError as exc:
            return exc.message

    reference = outcome(lambda: intake._checked(intake._DECODER.decode(line.decode())))
    assert outcome(lambda: intake.parse_line(line)) == reference


def test_the_first_key_given_again_is_named():
    line = b'{"value": "1", "characteristic": "1", "lot": "L", "characteristic": "2", "lot": "M"}'
    with pytest.raises(intake.IntakeError, match="the key 'characteristic' is given twice"):
        intake.parse_line(line)
