"""The fast verification finds exactly what the general checks find, at the same seq.

``store.verifier`` checks the chain and the projection rows in bulk; wherever it is not sure it
hands the span to the general code (``journal.ChainVerifier``, ``projections.check_projections``).
These tests tamper with a record in every way the fast path shortcuts and compare its report
with the general checks' (the reference below is the verification as it was written first).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspect_station.store import LocalStore, journal, verifier
from inspect_station.store.projections import TABLES, check_projections


def reference(store: LocalStore) -> tuple[bool, int | None, str | None]:
    """(ok, bad seq, reason) by the general checks: record by record, row by row."""
    chain = journal.ChainVerifier(store.station)
    records = []
    for row in store.journal_rows(0, 10**9):
        try:
            record = dict(zip(journal.STORED_FIELDS, row, strict=True))
            record["body"] = json.loads(record["body"])
        except ValueError as exc:
            return False, row[2], f"record body is not valid JSON ({exc})"
        if not chain.feed(record):
            report = chain.report()
            return False, report.bad_seq, report.reason
        records.append(record)

    def stored(table: str, first: int, last: int) -> list[dict]:
        return store.query(
            f"SELECT * FROM {table} WHERE seq BETWEEN ? AND ? ORDER BY seq, rowid", (first, last)
        )

    problem = check_projections(records, stored)
    if problem:
        return False, *problem
    for table in TABLES:
        extra = store.query(f"SELECT MIN(seq) AS s FROM {table} WHERE seq > ?", (chain.seq,))
        if extra[0]["s"] is not None:
            return (
                False,
                extra[0]["s"],
                f"{table} has a row for seq {extra[0]['s']}, which the journal lacks",
            )
    return True, None, None


def tamper(store: LocalStore, sql: str, params: tuple = ()) -> None:
    """Edit behind the program's back: drop the guard triggers, then change rows."""
    for table in ("journal", *TABLES):
        store.conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        store.conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    store.conn.execute(sql, params)


@pytest.fixture
def many(tmp_path: Path, bracket, monkeypatch) -> LocalStore:
    """A record of 60 parts (about 400 records), verified in spans of 50."""
    monkeypatch.setattr(verifier, "SPAN", 50)
    from inspect_station.recording import ManualSource, Recorder

    store = LocalStore(tmp_path / "many.db", "FAST-1")
    recorder = Recorder(store)
    values = {"1": "120.01", "2": "12.005", "3": "0.02", "4": "pass"}
    for part in range(60):
        for char, value in values.items():
            recorder.measure(
                spec=bracket,
                lot="L1",
                serial=f"P{part}",
                inspector="ann",
                characteristic=char,
                value="120.30" if (char == "1" and part % 7 == 0) else value,
                source=ManualSource("dial \U0001f4cf" if part == 30 else "dial"),
                auto_close=True,
            )
    yield store
    store.close()


def body_of(store: LocalStore, seq: int) -> dict:
    return json.loads(
        store.conn.execute("SELECT body FROM journal WHERE seq = ?", (seq,)).fetchone()[0]
    )


def check(store: LocalStore) -> None:
    report = store.verify()
    assert (report.ok, report.bad_seq, report.reason) == reference(store)


def test_an_untouched_record_verifies_in_spans(many: LocalStore):
    report = many.verify()
    assert report.ok and report.count == many.head()[0] > 300
    check(many)


@pytest.mark.parametrize(
    "edit",
    [
        {"value": "120.02"},  # a value changed, hash left
        {"lot_size": 1.5},  # a float: no longer plain, the reference path refuses it
        {"serial": "P\U0001f4cf"},  # outside the BMP: RFC 8785 orders keys by UTF-16
        {"big": 2**60},  # beyond the safe integers
    ],
)
def test_an_edited_body_is_found_at_its_seq(many: LocalStore, edit: dict):
    seq = 321
    body = {**body_of(many, seq), **edit}
    tamper(many, "UPDATE journal SET body = ? WHERE seq = ?", (json.dumps(body), seq))
    report = many.verify()
    assert not report.ok and report.bad_seq == seq
    check(many)


def test_a_body_outside_the_bmp_verifies_by_the_reference_encoder(many: LocalStore):
    seq = next(
        r["seq"]
        for r in many.records()
        if "\U0001f4cf" in json.dumps(r["body"], ensure_ascii=False)
    )
    assert many.verify().ok
    tamper(many, "UPDATE journal SET ts = '2020-01-01T00:00:00.000000Z' WHERE seq = ?", (seq,))
    assert many.verify().bad_seq == seq
    check(many)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE measurements SET value = '120.09' WHERE seq = 250",
        "UPDATE measurements SET zone = NULL WHERE seq = 251",
        "DELETE FROM results WHERE seq = (SELECT MAX(seq) FROM results WHERE seq < 300)",
        "UPDATE journal SET station = 'OTHER' WHERE seq = 130",
        "UPDATE journal SET format = 2 WHERE seq = 131",
        "UPDATE journal SET prev_hash = hash WHERE seq = 132",
        "DELETE FROM journal WHERE seq = 133",
        "UPDATE journal SET body = '{\"truncated\": ' WHERE seq = 134",
        "UPDATE measurements SET seq = seq + 100000 "
        "WHERE seq = (SELECT MIN(seq) FROM measurements WHERE seq > 135)",
    ],
)
def test_tampering_is_found_where_the_general_checks_find_it(many: LocalStore, sql: str):
    tamper(many, sql)
    assert not many.verify().ok
    check(many)


def test_a_rewritten_and_rehashed_record_breaks_the_next_link(many: LocalStore):
    seq = 200
    record = next(r for r in many.records() if r["seq"] == seq)
    record["body"]["value"] = "12.001"
    tamper(
        many,
        "UPDATE journal SET body = ?, hash = ? WHERE seq = ?",
        (journal.canonical_body(record["body"]), journal.record_hash(record), seq),
    )
    report = many.verify()
    assert report.bad_seq == seq + 1 and "prev_hash" in report.reason
    check(many)
