"""The fast verification (``store.verify_fast``: no decode, rows compared in SQLite) reports
exactly what the reference (``verify_rows(fast=False)``: decode, re-encode, ``project``) reports.

Every projection column of every record kind is tampered with (another text, NULL, a blob, a
number for text), every row deleted and added where it does not belong, and bodies whose stored
text is not RFC 8785 are hashed as stored, so that only the canonical check can find them. Then
journals are generated at random and both verifiers must agree on each.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from propertykit import cases, examples

from inspect_station.store import LocalStore, journal, verifier, verify_fast
from inspect_station.store.projections import INTEGER, KINDS, READ_AS, SCHEMA, TABLES
from inspect_station.store.verifier import verify_rows

STRANGE = [
    'quote " backslash \\ slash /',
    "controls \x01\x1f\t\n\r\x7f",
    "non-ASCII é ü ß 中文 — \u2028 \u2029",
    "astral \U0001f600 \U00010000 and \ufeff",
    "percent %s %% %(x)s",
]


def body_for(kind: str, text: str = "v", number: int = 7) -> dict[str, Any]:
    """A body filling every column the kind's tables read from the body."""
    body: dict[str, Any] = {}
    for table in KINDS[kind]:
        overrides = READ_AS.get((kind, table), {})
        for column in SCHEMA[table]:
            source = column.source
            if source.place not in ("body", "optional"):
                continue
            path = (source.path or column.name).split(".")
            if path[0] in overrides:
                continue
            if source.convert == "json":
                value: Any = {"list": [text, column.name], "n": number}
            elif source.convert == "flag":
                value = True
            elif column.sqltype == INTEGER:
                value = number
            else:
                value = f"{column.name} {text}"
            holder = body
            for key in path[:-1]:
                holder = holder.setdefault(key, {})
            holder.setdefault(path[-1], value)
    return body


def both(store: LocalStore) -> tuple[Any, Any]:
    """(fast report, reference report) as (ok, count, bad seq, reason, head seq, head hash).

    How many records a broken verification had read depends on its spans (the reference
    checks a span's rows after its chain), so the count is compared when all is in order.
    """
    reports = []
    for fast in (True, False):
        r = verify_rows(store.station, store.journal_rows, store._tuples, fast=fast)
        reports.append(
            (r.ok, r.count if r.ok else None, r.bad_seq, r.reason, r.head_seq, r.head_hash)
        )
    return reports[0], reports[1]


def agree(store: LocalStore) -> Any:
    fast, reference = both(store)
    assert fast == reference
    return fast


@pytest.fixture
def every_kind(tmp_path: Path, monkeypatch) -> Iterator[tuple[LocalStore, dict[str, int]]]:
    """A record with two records of every kind that fills a table (and a note), in spans of 8."""
    monkeypatch.setattr(verifier, "SPAN", 8)
    store, seqs = build(tmp_path / "kinds.db", ["plain", *STRANGE])
    yield store, seqs
    store.close()


def build(path: Path, texts: list[str]) -> tuple[LocalStore, dict[str, int]]:
    """A record of every kind per text (each kind's first seq), a note after each round."""
    store = LocalStore(path, "KINDS-1")
    seqs: dict[str, int] = {}
    with store.transaction() as tx:
        for index, text in enumerate(texts):
            for kind in KINDS:
                record = tx.append(kind, body_for(kind, text, index))
                seqs.setdefault(kind, record["seq"])
            tx.append("note", {"text": text})
    return store, seqs


@contextmanager
def tampered(store: LocalStore, *edits: tuple[str, tuple[Any, ...]]) -> Iterator[None]:
    """Edit behind the program's back (the guard triggers dropped), undone afterwards."""
    conn = store.conn
    conn.execute("BEGIN")
    try:
        for table in ("journal", *TABLES):
            conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        for sql, params in edits:
            conn.execute(sql, params)
        yield
    finally:
        conn.execute("ROLLBACK")


def test_every_kind_verifies_the_fast_way(tmp_path: Path):
    """The untouched record is in order, and no span went to the reference to say so (an
    escaped quote is the reference's: STRANGE[0] is left out)."""
    store, _ = build(tmp_path / "fast.db", ["plain", *STRANGE[1:]])
    spans = verify_fast.FastSpans(store.station, store._tuples)
    seq, prev, count = 0, "0" * 64, 0
    while True:
        done = spans.span(seq, prev, 8)
        assert done is not None, f"the fast path gave up on the span after seq {seq}"
        n, seq, prev, stuck = done
        assert not stuck, f"the fast path left seq {seq + 1} to the reference"
        if n == 0:
            break
        count += n
    assert count == store.head()[0] == agree(store)[1]
    assert agree(store)[0]
    store.close()


COLUMN_EDITS = {"text": "'tampered'", "null": "NULL", "blob": "X'00'", "number": "8"}
"""What a column is set to behind the program's back: each kind of SQLite value."""


def kind_edits() -> list[Any]:
    """Every kind with every edit (the full run); by default every kind once, the edits taken
    in turn (each edit still tried on a quarter of the kinds, every kind's columns each once)."""
    edits = list(COLUMN_EDITS.items())
    every = [(kind, edit) for kind in KINDS for edit in edits]
    sample = [(kind, edits[i % len(edits)]) for i, kind in enumerate(KINDS)]
    return [
        pytest.param(kind, sql, id=f"{kind}-{name}") for kind, (name, sql) in cases(every, sample)
    ]


@pytest.mark.property
@pytest.mark.parametrize(("kind", "edit"), kind_edits())
def test_each_projection_column_tampered_is_found_as_the_reference_finds_it(
    every_kind, kind: str, edit: str
):
    store, seqs = every_kind
    seq = seqs[kind] + len(KINDS) + 1  # the record of this kind with the strange text
    found = 0
    for table in KINDS[kind]:
        for name, _ in TABLES[table]:
            if name == "seq":
                continue
            with tampered(store, (f"UPDATE {table} SET {name} = {edit} WHERE seq = ?", (seq,))):
                fast = agree(store)
                changed = store.conn.execute("SELECT changes()").fetchone()
            found += not fast[0]
            assert changed is not None
    assert found > 0


@pytest.mark.parametrize("kind", [k for k in KINDS])
def test_a_projection_row_deleted_or_added_is_found_as_the_reference_finds_it(
    every_kind, kind: str
):
    store, seqs = every_kind
    seq = seqs[kind]
    note = seqs["spec"] + len(KINDS)  # the first note: a seq whose record fills no table
    for table in KINDS[kind]:
        with tampered(store, (f"DELETE FROM {table} WHERE seq = ?", (seq,))):
            fast = agree(store)
        assert not fast[0] and fast[2] == seq
        texts = [c for c, t in TABLES[table] if t == "TEXT"]
        unique = ", ".join(f"{c} = {c} || '+'" for c in texts)  # past any unique index
        with tampered(
            store,
            (f"CREATE TEMP TABLE t AS SELECT * FROM {table} WHERE seq = ?", (seq,)),
            (f"UPDATE t SET seq = ?, {unique}", (note,)),
            (f"INSERT INTO {table} SELECT * FROM t", ()),
        ):
            fast = agree(store)
        assert not fast[0] and fast[2] == note


def rehashed_last(store: LocalStore, text: str) -> None:
    """Replace the last record's body with ``text`` and its hash with the SHA-256 of the bytes
    as stored: only a canonical check can tell it from a sealed record."""
    row = store.conn.execute(
        "SELECT format, kind, prev_hash, seq, station, ts, uuid FROM journal "
        "ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    fmt, kind, prev_hash, seq, station, ts, uuid = row
    data = (
        f'{{"body":{text},"format":{fmt},"kind":"{kind}","prev_hash":"{prev_hash}",'
        f'"seq":{seq},"station":"{station}","ts":"{ts}","uuid":"{uuid}"}}'
    ).encode()
    store.conn.execute(
        "UPDATE journal SET body = ?, hash = ? WHERE seq = ?",
        (text, hashlib.sha256(data).hexdigest(), seq),
    )


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda t: t.replace('{"', '{ "', 1), id="a space"),
        pytest.param(lambda t: '{"zz":"1",' + t[1:], id="keys out of order"),
        pytest.param(lambda t: t[:-1] + ',"text":"again"}', id="a key twice"),
        pytest.param(lambda t: t[:-1] + ',"zz":1.0}', id="a float"),
        pytest.param(lambda t: t[:-1] + ',"zz":-0}', id="minus zero"),
        pytest.param(lambda t: t[:-1] + ',"zz":9007199254740993}', id="an unsafe integer"),
        pytest.param(lambda t: t.replace("plain", "pl\\u0061in"), id="a needless escape"),
        pytest.param(lambda t: t.replace("plain", "pl\\/ain"), id="an escaped slash"),
        pytest.param(lambda t: t.replace("plain", "pl\\u001Fain"), id="an upper-case escape"),
        pytest.param(lambda t: t.replace("plain", "pl\\u0009ain"), id="a long escape for tab"),
        pytest.param(lambda t: t.replace("plain", "pl\\ud800ain"), id="a lone surrogate"),
        pytest.param(lambda t: t.replace("plain", "pl\tain"), id="a raw tab"),
        pytest.param(
            lambda t: t.replace("plain", "pl\\rain\x01"), id="a raw control beside a frame's \\r"
        ),
        pytest.param(lambda t: t.replace("plain", "pl\\qain"), id="an escape JSON lacks"),
        # RFC 8785 orders keys by UTF-16 units: the astral one (D83D...) before U+E000.
        pytest.param(lambda t: t[:-1] + ',"\ue000":"2","\U0001f600":"1"}', id="astral key order"),
        pytest.param(lambda t: "[" + t + " ]", id="a space in an array"),
    ],
)
def test_a_body_not_in_canonical_form_is_found_even_hashed_as_stored(tmp_path: Path, change):
    store = LocalStore(tmp_path / "c.db", "CANON-1")
    with store.transaction() as tx:
        for _ in range(3):
            tx.append("note", {"text": "plain", "at": 1})
    text = store.conn.execute("SELECT body FROM journal WHERE seq = 3").fetchone()[0]
    new = change(text)
    assert new != text
    with tampered(store):
        rehashed_last(store, new)
        fast = agree(store)
    store.close()
    assert not fast[0] and fast[2] == 3


def test_a_canonical_body_rehashed_as_stored_is_in_order_for_both(tmp_path: Path):
    """The other side: the same bytes the sealer writes, re-hashed, verify (nothing to find)."""
    store = LocalStore(tmp_path / "c.db", "CANON-1")
    with store.transaction() as tx:
        for _ in range(3):
            tx.append("note", {"text": "plain", "at": 1})
    text = store.conn.execute("SELECT body FROM journal WHERE seq = 3").fetchone()[0]
    for other in ["other", "o\\rther", "o\\\\rther", "o\\\\\\rth\\ter", "ö\\rther"]:
        with tampered(store):
            rehashed_last(store, text.replace("plain", other))
            assert agree(store)[0], other
    store.close()


# -- random journals, both verifiers ------------------------------------------------------------

texts = st.one_of(st.sampled_from(["", "x", *STRANGE]), st.text(max_size=6))
values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), texts),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=6,
)


@st.composite
def journals(draw: st.DrawFn) -> list[tuple[str, dict[str, Any]]]:
    """Records of random kinds, their bodies full, thinned or salted with extra keys."""
    out = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from([*KINDS, "note"]))
        body = body_for(kind, draw(texts), draw(st.integers(0, 3))) if kind in KINDS else {}
        for key in draw(st.lists(st.sampled_from(sorted(body) or ["x"]), max_size=3)):
            if draw(st.booleans()):
                body.pop(key, None)
            else:
                body[key] = draw(values)
        for key, value in draw(st.dictionaries(texts, values, max_size=2)).items():
            body.setdefault(key, value)
        out.append((kind, body))
    return out


edits = st.lists(
    st.tuples(
        st.sampled_from(sorted(TABLES)),
        st.integers(1, 8),
        st.sampled_from(["'x'", "NULL", "1", "''", "'null'", "'[]'", "'\"x\"'"]),
    ),
    max_size=2,
)


@settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(records=journals(), tamper=edits, data=st.data())
def test_random_journals_are_judged_alike(tmp_path_factory, records, tamper, data):
    store = LocalStore(tmp_path_factory.mktemp("r") / "r.db", "RAND-1")
    try:
        with store.transaction() as tx:
            for kind, body in records:
                try:
                    with tx.savepoint():
                        tx.append(kind, body)
                except Exception:
                    pass
        agree(store)
        sqls = []
        for table, seq, value in tamper:
            column = data.draw(st.sampled_from([c for c, _ in TABLES[table]][1:]))
            sqls.append((f"UPDATE {table} SET {column} = {value} WHERE seq = ?", (seq,)))
        with tampered(store, *sqls):
            agree(store)
    finally:
        store.close()


def test_a_record_the_fast_way_is_not_sure_of_goes_alone_to_the_reference(tmp_path: Path):
    """An empty string (a projection may depend on it) is the reference's, that record only:
    the fast way verifies the records before it and carries on after it."""
    store = LocalStore(tmp_path / "odd.db", "ODD-1")
    with store.transaction() as tx:
        for index in range(30):
            tx.append("note", {"text": "" if index == 11 else "x"})
    spans = verify_fast.FastSpans(store.station, store._tuples)
    head = store.hashes(11, 12)
    assert spans.span(0, "0" * 64, 100) == (11, 11, head[11], True)
    assert spans.span(12, head[12], 100)[:2] == (18, 30)
    report = store.verify()
    assert report.ok and report.count == 30
    store.close()


@pytest.mark.parametrize(
    ("rehashed", "altered", "reported"),
    [(22, 18, 23), (30, 18, 18), (22, 26, 23)],
)
def test_a_broken_link_and_an_altered_row_are_reported_as_the_reference_orders_them(
    every_kind, rehashed: int, altered: int, reported: int
):
    """Within a span (8 records here: 17-24, 25-32) the reference reports a broken link
    before an altered row at an earlier seq; a row in an earlier span comes first. The fast
    way keeps the reference's spans, so it says the same."""
    store, _ = every_kind
    (record,) = store.records(rehashed - 1, 1)
    record["body"]["zz_forged"] = "x"  # no column reads it: only the next link breaks
    kind = store.conn.execute("SELECT kind FROM journal WHERE seq = ?", (altered,)).fetchone()[0]
    with tampered(
        store,
        (
            "UPDATE journal SET body = ?, hash = ? WHERE seq = ?",
            (journal.canonical_body(record["body"]), journal.record_hash(record), rehashed),
        ),
        (f"UPDATE {KINDS[kind][0]} SET uuid = 'x' WHERE seq = ?", (altered,)),
    ):
        fast = agree(store)
    assert not fast[0] and fast[2] == reported


def test_from_a_checkpoint_the_fast_way_links_to_the_checkpoints_hash(every_kind):
    """Verifying from a checkpoint (seq, hash): the first record must link to that hash."""
    store, _ = every_kind
    held = store.hashes(13, 13)[13]
    for after in [(13, held), (13, "f" * 64)]:
        reports = []
        for fast in (True, False):
            r = verify_rows(
                store.station, store.journal_rows, store._tuples,
                after_seq=after[0], after_hash=after[1], fast=fast,
            )  # fmt: skip
            reports.append((r.ok, r.count if r.ok else None, r.bad_seq, r.reason, r.from_seq))
        assert reports[0] == reports[1]
        assert reports[0][0] == (after[1] == held)
        assert reports[0][2] in (None, 14)


@pytest.mark.parametrize("fast", [True, False])
def test_a_rehashed_body_lacking_a_key_its_rows_need_is_reported_not_raised(
    tmp_path: Path, fast: bool
):
    store = LocalStore(tmp_path / "k.db", "KEY-1")
    with store.transaction() as tx:
        tx.append("note", {"text": "x"})
        tx.append("user", {"user_id": "u", "name": "n", "role": "inspector"})
    (record,) = store.records(1, 1)
    del record["body"]["name"]
    with tampered(
        store,
        (
            "UPDATE journal SET body = ?, hash = ? WHERE seq = 2",
            (journal.canonical_body(record["body"]), journal.record_hash(record)),
        ),
    ):
        report = verify_rows(store.station, store.journal_rows, store._tuples, fast=fast)
    store.close()
    assert (report.ok, report.bad_seq) == (False, 2)
    assert report.reason == (
        "body.name is missing or null: the record cannot give its query-table rows"
    )
