"""The fast verification of a span of the journal: no JSON decoded per record, rows compared
inside SQLite's C, and anything not certainly in order handed back to the reference.

What ``journal.ChainVerifier`` and ``projections.check_projections`` (the reference) do per
record is decode the body, encode it again in RFC 8785 form, hash that, derive the projection
rows in Python and compare them with the stored ones fetched into Python. Decoding alone caps
that near 35,000 records/s. This module gets the same answer another way.

**The hash covers the stored bytes.** The station seals a record by hashing the RFC 8785 text
of its body (``journal.seal``) and stores exactly that text, so the canonical bytes of a record
are ``{"body":`` + the stored body + the other fields in their fixed, sorted order. Those fields
are composed by SQLite (``_TAIL``), and only for plain values (integers where the format says
so, text with no quote, backslash or control character, which RFC 8785 writes between quotes
as it is); the digest of the stored bytes is compared
with the stored hash. A match means the stored bytes are the hashed bytes.

**Canonical form is checked too**, because an auditor's script re-encodes the parsed record:
a body whose stored text is not RFC 8785 (keys out of order or repeated, a space, ``1.0``,
``\\u0041``...) must be reported even if someone hashed exactly those bytes, and the reference
does report it (it re-encodes, and the hash differs). Here, without a decode: a body's text is
split at its quotes into the parts outside strings and the strings; a body is canonical exactly
when (a) its *shape* -- everything outside strings (structure, numbers, literals) with the keys
-- is that of a canonical text and (b) each string is canonically written: no quote or control
character inside, only the escapes RFC 8785 writes (``\\\\ \\b \\t \\n \\f \\r`` and lowercase
``\\u00xx`` for the other controls), valid UTF-8. (b) is checked per record with byte searches;
(a) is decided once per shape by the reference itself (``parse_body`` and ``canonical_text``
on the first body of that shape) and remembered, so a body of a shape already seen costs a
split, a join and two dictionary lookups. A string's content never changes what RFC 8785 does
with the structure around it, so the verdict holds for every body of the shape. Bodies holding
an empty string or an escaped quote are left to the reference (a projection can depend on
whether a string is empty; an escaped quote defeats the split).

**Projection rows are compared as text, in SQLite.** For each table a record kind fills, SQLite
renders the stored row as its columns' JSON forms (``json_quote``, which writes exactly the
RFC 8785 escapes) joined by a separator, the columns the record itself gives (seq, uuid, ts,
station, kind) compared with the journal row there and then. The expected rendering is made from
the body's own bytes: once per shape, ``projections.project`` (the Python rules themselves)
runs on the body with each string replaced by a marker, and where a marker lands in a row
says which string of the body that column holds; every other column of the shape is a constant
(a null, an integer, a default). A JSON string's canonical text is the same bytes in the body
and in ``json_quote`` of its decoded value, so equal renderings mean equal values, type
included (``"5"`` is not ``5``, ``"null"`` not ``null``); a column of ``json_of`` is compared as
its stored text. Each table's rows in the span are counted too, so an extra row is found.

Wherever any of this does not hold -- a link, a hash, a rendering, a count, a shape the
reference refuses or cannot be sure of, an SQL error -- the reference looks (``verifier``: the
record alone first; if anything is wrong there, the rest of the span, with the reference's own
span boundaries), and it names the first bad seq and the reason exactly as it always has.
So this path can only ever say "in order" where the reference would;
``tests/test_verify_sql.py`` tampers with every projection column of every kind and compares,
and a differential test generates journals at random.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from inspect_station.canonical import canonical_json, canonical_text, parse_body
from inspect_station.store.projections import KINDS, READ_AS, SCHEMA, Column, project

Query = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]
"""(sql, params) -> rows as tuples: a read of the local record."""

SEP = b"\x1f"
"""Between two columns of a rendered row (a canonical text never holds a raw control)."""

_TAIL = (
    'CAST(\',"format":\' || j.format || \',"kind":"\' || j.kind || \'","prev_hash":"\' '
    '|| j.prev_hash || \'","seq":\' || j.seq || \',"station":"\' || j.station '
    '|| \'","ts":"\' || j.ts || \'","uuid":"\' || j.uuid || \'"}\' AS BLOB)'
)
"""The canonical bytes of a record after its body, for plain fields (``_PLAIN``)."""

_PLAIN = (
    "(typeof(j.format) = 'integer' AND j.format = 1 AND (?1 IS NULL OR j.station = ?1) "
    "AND typeof(j.kind) = 'text' AND typeof(j.station) = 'text' AND typeof(j.ts) = 'text' "
    "AND typeof(j.uuid) = 'text' AND typeof(j.prev_hash) = 'text' AND typeof(j.body) = 'text')"
)
"""1 when a journal row is of this format and station (?1) and its fields are text. That the
text needs no escape -- no quote, backslash or control character, so that RFC 8785 writes it
between quotes as it is -- is checked on the composed bytes (``_TAIL_QUOTES``), and the link
to the record before in Python (a lookup per row in SQL costs more than the whole hash)."""

_TAIL_QUOTES = 24
"""Quotes in the composed bytes after the body when no field holds one: 12 strings."""

_PREFIX = b'{"body":'

_CONTROLS = bytes(range(0x20))
_CONTROLS_AND_BACKSLASH = _CONTROLS + b"\\"
_BAD_ESCAPE = re.compile(rb"\\(?![bfnrt]|u00(?:0[0-7bef]|1[0-9a-f]))")
"""A backslash (once escaped backslashes are removed) that does not begin an RFC 8785 escape."""
_MARKER = re.compile("\ue000([0-9]+)\ue001")

MAX_SHAPES = 20_000
"""Shapes (and key sets per shape) remembered in one verification: a hostile record cannot
grow memory without bound, it only costs the time of learning its shape again."""


def _record_field(kind: str, table: str, column: Column) -> str | None:
    """The journal column a projection column is read from, if it is one (seq, uuid, ts...)."""
    source = column.source
    if source.place == "record":
        return source.path or column.name
    overrides = READ_AS.get((kind, table), {})
    if source.place in ("body", "optional"):
        path = (source.path or column.name).split(".")
        override = overrides.get(path[0])
        if override is not None and override.place == "record":
            if len(path) > 1 or source.convert is not None:
                raise ValueError(f"{table}.{column.name}: an override read through a path")
            return override.path or path[0]
    return None


def _checked_name(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"{name!r} cannot be named in verification SQL")
    return name


def _render_sql(kind: str, table: str) -> str:
    """SQL rendering the stored ``table`` row of record ``j`` (NULL if there is none): the
    JSON array of its plain columns, then each ``json_of`` column as ``T`` + its text (``N``
    for NULL), after a separator; char(0) where a record field differs or a type is off."""
    fields, plain, jsons = [], [], []
    for column in SCHEMA[table]:
        name = _checked_name(column.name)
        field = _record_field(kind, table, column)
        if field is not None:
            if name != "seq":
                fields.append(f"s.{name} IS j.{_checked_name(field)}")
        elif column.source.convert == "json":
            jsons.append(
                f"CASE typeof(s.{name}) WHEN 'null' THEN 'N' WHEN 'text' THEN 'T' || s.{name} "
                "ELSE char(0) END"
            )
        else:
            plain.append(f"s.{name}")
    rendered = " || char(31) || ".join([f"json_array({', '.join(plain)})", *jsons])
    check = " AND ".join(fields) or "1"
    return (
        f"(SELECT CAST(CASE WHEN {check} THEN {rendered} ELSE char(0) END AS BLOB) "
        f"FROM {_checked_name(table)} s WHERE s.seq = j.seq)"
    )


def _renders_sql() -> tuple[str, ...]:
    """One column per position in ``KINDS`` (the first table of each kind, the second...)."""
    width = max(len(tables) for tables in KINDS.values())
    columns = []
    for position in range(width):
        cases = [
            f"WHEN '{kind}' THEN {_render_sql(kind, tables[position])}"
            for kind, tables in KINDS.items()
            if len(tables) > position
        ]
        columns.append(f"CASE j.kind {' '.join(cases)} END")
    return tuple(columns)


_RENDERS = _renders_sql()

SPAN_SQL = (
    f"SELECT j.seq, j.kind, j.hash, CAST(j.body AS BLOB), {_TAIL}, {_PLAIN}, j.prev_hash, "
    + ", ".join(_RENDERS)
    + " FROM journal j WHERE j.seq BETWEEN ?2 AND ?3 ORDER BY j.seq"
)
"""The journal rows of a span (?2..?3) with what the fast path needs: seq, kind, hash, body,
the canonical bytes after the body, whether the fields are plain, prev_hash, the renderings."""

_TABLES = tuple(SCHEMA)
COUNT_SQL = "SELECT " + ", ".join(
    f"(SELECT count(*) FROM {_checked_name(t)} WHERE seq BETWEEN ?1 AND ?2)" for t in _TABLES
)
"""How many rows each projection table holds for the seqs ?1..?2."""

NEXT_SQL = "SELECT min(seq) FROM journal WHERE seq > ?"


_FIELDS: dict[str, Any] = {
    "format": 1,
    "station": "",
    "uuid": "",
    "ts": "",
    "prev_hash": "",
    "hash": "",
}
"""Stand-ins for the record fields while a shape is learnt (their columns are compared in SQL)."""


class _Unsure:
    """A shape this path leaves to the reference."""


UNSURE = _Unsure()

Picker = Callable[[list[bytes]], tuple[bytes, ...]]


def _picker(positions: Sequence[int]) -> Picker:
    """Those parts of a split body, as a tuple, whatever their number."""
    if not positions:
        return lambda parts: ()
    if len(positions) == 1:
        (only,) = positions
        return lambda parts: (parts[only],)
    return itemgetter(*positions)


class Plan:
    """What the projection rows of bodies of one shape render as: per table of the kind (two
    at most), a template of bytes (``%s`` where a string of the body goes) and which strings
    fill it (None: the template is the rendering)."""

    def __init__(self, rows: list[tuple[bytes, Picker | None]]) -> None:
        if len(rows) > 2:
            raise ValueError("a record kind fills two tables at most")
        padded: list[tuple[bytes | None, Picker | None]] = [*rows, (None, None), (None, None)]
        (self.first, self.pick_first), (self.second, self.pick_second) = padded[:2]


class Shapes:
    """The shapes seen in one verification: kind and text outside strings -> keys -> plan."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, bytes], tuple[Picker, dict[bytes, Any]]] = {}

    def plan(self, kind: str, body: bytes, parts: list[bytes], record: dict[str, Any]) -> Any:
        """The plan of a body split at its quotes, or UNSURE (learnt from it if need be)."""
        outside = b'"'.join(parts[0::2])
        entry = self.seen.get((kind, outside))
        if entry is None:
            if len(self.seen) >= MAX_SHAPES:
                self.seen.clear()
            keys = [i for i in range(1, len(parts) - 1, 2) if parts[i + 1][:1] == b":"]
            entry = (_picker(keys), {})
            self.seen[(kind, outside)] = entry
        pick, plans = entry
        keys_here = b'"'.join(pick(parts))  # a key holds no raw quote: joined, still apart
        plan = plans.get(keys_here)
        if plan is None:
            plan = _learn(kind, body, parts, record)
            if len(plans) >= MAX_SHAPES:
                plans.clear()
            plans[keys_here] = plan
        return plan


def _learn(kind: str, body: bytes, parts: list[bytes], record: dict[str, Any]) -> Any:
    """The plan of this body's shape, decided by the reference, or UNSURE."""
    try:
        text = body.decode("utf-8")
        value, plain = parse_body(text)
        if not plain or type(value) is not dict or canonical_text(value, "body") != text:
            return UNSURE
    except Exception:
        return UNSURE
    if kind not in KINDS:
        return Plan([])
    marked = list(parts)
    slots = [i for i in range(1, len(parts) - 1, 2) if parts[i + 1][:1] != b":"]
    for i in range(1, len(parts) - 1, 2):
        if b"\xee\x80\x80" in parts[i] or b"\xee\x80\x81" in parts[i]:
            return UNSURE  # the private-use marker characters themselves
    for i in slots:
        marked[i] = f"\ue000{i}\ue001".encode()
    try:
        marked_body, _ = parse_body(b'"'.join(marked).decode("utf-8"))
        rows = project({**record, "body": marked_body})
    except Exception:
        return UNSURE
    tables = KINDS[kind]
    if [table for table, _ in rows] != list(tables):
        return UNSURE
    plan_rows = []
    for table, row in rows:
        rendered = _template(kind, table, row)
        if rendered is None:
            return UNSURE
        plan_rows.append(rendered)
    return Plan(plan_rows)


def _template(kind: str, table: str, row: dict[str, Any]) -> tuple[bytes, Picker | None] | None:
    """The rendering template of a row derived from a marked body (None: not sure), in the
    form ``_render_sql`` renders the stored row."""
    plain: list[str] = []
    jsons: list[str] = []
    plain_at: list[int] = []
    json_at: list[int] = []
    for column in SCHEMA[table]:
        if _record_field(kind, table, column) is not None:
            continue
        value = row[column.name]
        if column.source.convert == "json":
            if value is None:
                jsons.append("N")
            elif type(value) is str:
                jsons.append(_with_slots("T" + value, json_at))
            else:
                return None
        elif value is None:
            plain.append("null")
        elif type(value) is int:
            plain.append(str(value))
        elif type(value) is str:
            whole = _MARKER.fullmatch(value)
            if whole:
                plain_at.append(int(whole.group(1)))
                plain.append('"%s"')
            elif "\ue000" in value or "\ue001" in value:
                return None
            else:
                plain.append(canonical_json(value).decode("utf-8").replace("%", "%%"))
        else:
            return None  # a bool, float or object in a column: never equal to a stored value
    sep = SEP.decode("ascii")
    template = sep.join(["[" + ",".join(plain) + "]", *jsons]).encode("utf-8")
    positions = plain_at + json_at
    if not positions:
        return template.replace(b"%%", b"%"), None
    return template, _picker(positions)


def _with_slots(text: str, positions: list[int]) -> str:
    """A canonical JSON text with markers, as a template: ``%s`` where each marker was."""
    out = []
    last = 0
    for found in _MARKER.finditer(text):
        out.append(text[last : found.start()].replace("%", "%%"))
        out.append("%s")
        positions.append(int(found.group(1)))
        last = found.end()
    out.append(text[last:].replace("%", "%%"))
    return "".join(out)


def strings_canonical(body: bytes) -> bool:
    """Whether every string in a body (whose bytes hold no control character) is written as
    RFC 8785 writes it (see the module docstring), and is one this path splits safely."""
    if b'""' in body:
        return False
    escapes = body.count(b"\\")
    if (
        escapes
        and escapes != body.count(b"\\r")
        and (  # a gauge's frame ends in \r
            b'\\"' in body or _BAD_ESCAPE.search(body.replace(b"\\\\", b"")) is not None
        )
    ):
        return False
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


class FastSpans:
    """Verifies spans of the journal the fast way; a record it is not sure of is the
    reference's."""

    def __init__(self, station: str | None, query: Query) -> None:
        self.station = station
        self.query = query
        self.shapes = Shapes()

    def span(self, after_seq: int, after_hash: str, size: int) -> tuple[int, int, str, bool] | None:
        """Verify the records after ``after_seq`` up to ``after_seq + size``: (how many are in
        order, seq and hash of the last of them, whether the record after them is left to the
        reference); (0, after_seq, after_hash, False) when the journal ends there; None when
        the reference is to look at the whole span."""
        first, last = after_seq + 1, after_seq + size
        try:
            rows = self.query(SPAN_SQL, (self.station, first, last))
            if not rows:
                beyond = self.query(NEXT_SQL, (after_seq,))
                if beyond and beyond[0][0] is not None:
                    return None
                return 0, after_seq, after_hash, False
            if rows[0][0] != first or rows[-1][0] != first + len(rows) - 1:
                return None
            good = self._in_order(rows, after_hash)
            stuck = good < len(rows)
            if not stuck and len(rows) < size:
                beyond = self.query(NEXT_SQL, (rows[-1][0],))
                stuck = bool(beyond and beyond[0][0] is not None)
            if good == 0:
                return 0, after_seq, after_hash, True
            rows = rows[:good]
            counts = self.query(COUNT_SQL, (first, rows[-1][0]))[0]
        except Exception:
            return None
        expected: Counter[str] = Counter()
        for kind, n in Counter(row[1] for row in rows).items():
            for table in KINDS.get(kind, ()):
                expected[table] += n
        if any(counts[i] != expected[table] for i, table in enumerate(_TABLES)):
            return None
        return len(rows), rows[-1][0], rows[-1][2], stuck

    def _in_order(self, rows: list[tuple[Any, ...]], linked: str) -> int:
        """How many of the rows, from the first, link to the one before (the first to
        ``linked``) and have their hash, canonical form and projection rows in order."""
        sha256 = hashlib.sha256
        prefix, odd_bytes, quotes = _PREFIX, _CONTROLS_AND_BACKSLASH, _TAIL_QUOTES
        shapes = self.shapes
        seen = shapes.seen
        for index, (seq, kind, hash_, body, tail, plain, prev, first, second) in enumerate(rows):
            data = prefix + body + tail
            if (
                not plain
                or prev != linked
                or sha256(data).hexdigest() != hash_
                or tail.count(b'"') != quotes
                or b"\\" in tail
                or b'""' in body
            ):
                return index
            # Control characters and backslashes in one pass; when they are exactly the
            # backslashes of a gauge frame's \r (the usual escape), there is no control and
            # no other escape (the tail holds no backslash).
            odd = len(data) - len(data.translate(None, odd_bytes))
            if odd and odd != body.count(b"\\r"):
                if odd != body.count(b"\\"):
                    return index  # a raw control character
                if not strings_canonical(body):
                    return index
            elif not body.isascii() and not strings_canonical(body):
                return index
            parts = body.split(b'"')
            entry = seen.get((kind, b'"'.join(parts[0::2])))
            plan = None if entry is None else entry[1].get(b'"'.join(entry[0](parts)))
            if plan is None:
                plan = shapes.plan(kind, body, parts, {**_FIELDS, "seq": seq, "kind": kind})
            if plan is UNSURE:
                return index
            pick = plan.pick_first
            if first != (plan.first if pick is None else plan.first % pick(parts)):
                return index
            pick = plan.pick_second
            if second != (plan.second if pick is None else plan.second % pick(parts)):
                return index
            linked = hash_
        return len(rows)
