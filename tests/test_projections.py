"""Projections: rows built from declared columns; the kinds with more than one row."""

from __future__ import annotations

import pytest

from inspect_station.store.projections import (
    BODY,
    KINDS,
    OPTIONAL,
    RECORD,
    SCHEMA,
    TABLES,
    body,
    check_projections,
    compile_table,
    constant,
    flag,
    integer,
    json_of,
    optional,
    project,
    record,
    text,
)

CHECKS = [
    integer("seq", RECORD),
    text("at", record("ts")),
    text("lot", BODY),
    text("note", OPTIONAL),
    text("grade", optional(default="A")),
    text("upper", optional("limits.upper")),
    text("signer", body("signature.user_id")),
    text("role", optional("signature.role")),
    text("rule", json_of(OPTIONAL)),
    integer("active", flag(optional(default=True))),
    text("origin", constant("test")),
]


def a_record(**body) -> dict:
    """A record of kind ``check`` with this body."""
    return {"seq": 7, "uuid": "u-7", "kind": "check", "ts": "T", "station": "S", "body": body}


def test_a_row_follows_the_declared_columns_in_order():
    build = compile_table("checks", CHECKS)
    rec = a_record(
        lot="L1",
        limits={"upper": "1.5"},
        signature={"user_id": "sam", "role": "supervisor"},
        rule={"rule": "simple", "guard": "0.002"},
        active=False,
    )
    assert build(rec) == [
        (
            "checks",
            {
                "seq": 7,
                "at": "T",
                "lot": "L1",
                "note": None,
                "grade": "A",
                "upper": "1.5",
                "signer": "sam",
                "role": "supervisor",
                "rule": '{"guard":"0.002","rule":"simple"}',
                "active": 0,
                "origin": "test",
            },
        )
    ]
    assert list(build(rec)[0][1]) == [c.name for c in CHECKS]


def test_absent_optional_objects_read_as_empty_and_required_ones_raise():
    build = compile_table("checks", CHECKS)
    ((_, row),) = build(a_record(lot="L1", signature={"user_id": "kim"}))
    assert (row["upper"], row["role"], row["rule"], row["active"]) == (None, None, None, 1)
    with pytest.raises(KeyError, match="lot"):
        build(a_record(signature={"user_id": "kim"}))
    with pytest.raises(KeyError, match="signature"):
        build(a_record(lot="L1"))


def test_a_column_that_cannot_be_read_is_refused_when_declared():
    with pytest.raises(ValueError, match=r"cannot read record 'a\.b'"):
        compile_table("bad", [text("x", record("a.b"))])
    with pytest.raises(ValueError, match="bad column name"):
        compile_table("bad", [text("x y", BODY)])


def test_the_schema_declares_what_the_stores_create():
    for table, columns in TABLES.items():
        assert columns[0] == ("seq", "INTEGER"), table
        assert len({name for name, _ in columns}) == len(columns), table
        assert [(c.name, c.sqltype) for c in SCHEMA[table]] == columns
    assert {t for tables in KINDS.values() for t in tables} == set(TABLES)


SIGNATURE = {
    "user_id": "sam",
    "name": "Sam Ortiz",
    "role": "supervisor",
    "meaning": "approval of disposition",
    "signed_at": "2026-11-25T10:00:00.000000Z",
}


def test_a_disposition_is_its_own_first_signature_and_a_cosignature_names_it():
    disposition = {
        **a_record(
            reject="r-1",
            reject_station="BENCH-1",
            reject_seq=12,
            inspection="i-1",
            lot="L1",
            serial="P2",
            part_number="PLT-77",
            revision="B",
            spec_hash="h",
            disposition="rework",
            reason="deburr",
            signed_hash="content",
            signers_required=2,
            signature=SIGNATURE,
        ),
        "kind": "disposition",
        "uuid": "d-1",
        "station": "OFFICE-1",
    }
    rows = project(disposition)
    assert [table for table, _ in rows] == ["dispositions", "signatures"]
    (_, d), (_, first) = rows
    assert (d["disposition"], d["user_id"], d["signers_required"]) == ("rework", "sam", 2)
    assert (first["disposition"], first["disposition_station"], first["disposition_hash"]) == (
        "d-1",
        "OFFICE-1",
        None,
    )
    assert (first["uuid"], first["role"], first["reject"]) == ("d-1", "supervisor", "r-1")
    assert disposition["body"]["disposition"] == "rework"  # the record itself is not changed

    cosign = {
        **a_record(
            disposition="d-1",
            disposition_station="OFFICE-1",
            disposition_hash="hash-of-d-1",
            reject="r-1",
            signed_hash="content",
            signature={**SIGNATURE, "user_id": "kim", "meaning": "second approval"},
        ),
        "kind": "disposition_signature",
    }
    ((table, second),) = project(cosign)
    assert table == "signatures"
    assert (second["disposition"], second["disposition_hash"], second["user_id"]) == (
        "d-1",
        "hash-of-d-1",
        "kim",
    )


@pytest.mark.parametrize("kind", ["sign_in", "sign_out"])
def test_sign_ins_and_sign_outs_share_a_table(kind: str):
    rec = {**a_record(user_id="ann", success=False, reason="wrong PIN"), "kind": kind}
    ((table, row),) = project(rec)
    assert table == "sign_ins"
    assert (row["event"], row["success"], row["reason"], row["at"]) == (kind, 0, "wrong PIN", "T")


def test_journal_only_kinds_project_nothing():
    assert project({**a_record(text="hello"), "kind": "note"}) == []


def held(records: list[dict], station: str | None = None) -> dict[str, list[dict]]:
    """What a store holds for these records: their projection rows by table (plus a column
    a newer version might have added)."""
    tables: dict[str, list[dict]] = {}
    for rec in records:
        for table, row in project(rec):
            extra = {"station": station} if station else {}
            tables.setdefault(table, []).append({**row, **extra, "added_later": None})
    return tables


def reader(tables: dict[str, list[dict]]):
    """``stored`` over rows held in memory."""
    return lambda table, first, last: [
        r for r in tables.get(table, []) if first <= r["seq"] <= last
    ]


def test_the_checker_finds_the_first_altered_missing_or_extra_row():
    records = [
        {**a_record(user_id="ann", success=True), "kind": "sign_in", "seq": 1},
        {**a_record(user_id="ann", success=False), "kind": "sign_in", "seq": 2},
        {**a_record(text="hi"), "kind": "note", "seq": 3},
    ]
    tables = held(records)
    assert check_projections(records, reader(tables)) is None
    assert check_projections([], reader({})) is None

    altered = {"sign_ins": [tables["sign_ins"][0], {**tables["sign_ins"][1], "success": 1}]}
    assert check_projections(records, reader(altered)) == (
        2,
        "sign_ins.success is 1 but the journal says 0 (projection altered)",
    )
    missing = {"sign_ins": tables["sign_ins"][:1]}
    assert check_projections(records, reader(missing)) == (
        2,
        "the record is missing its sign_ins row",
    )
    extra = {**tables, "users": [{"seq": 3}]}
    assert check_projections(records, reader(extra)) == (3, "the record has an extra users row")


def test_the_checker_compares_the_station_a_central_store_keys_rows_by():
    records = [{**a_record(user_id="ann"), "kind": "sign_out", "seq": 1, "station": "B-1"}]
    assert check_projections(records, reader(held(records, "B-1")), "B-1") is None
    problem = check_projections(records, reader(held(records, "B-2")), "B-1")
    assert problem == (
        1,
        "sign_ins.station is 'B-2' but the journal says 'B-1' (projection altered)",
    )
