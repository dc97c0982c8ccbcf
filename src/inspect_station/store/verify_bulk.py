"""A whole span of the journal verified at once: one read per span, the chain as three
comparisons, one template per body, one comparison per projection table.

``verify_fast`` checks a span record by record: a row per record from SQLite (the stored
projection rows rendered beside it by a lookup per record), the body split at its quotes, its
shape looked up, a template filled and compared per table. This module answers one question
for a span: *are the records from its first on in order?* -- all of them, or those before
the first one it is not sure of. Only that answer is acted on. Anything else (a difference
anywhere, a record of a shape the reference does not vouch for, an SQL error) hands the span
to ``verify_fast``, which finds the first bad seq and hands it to the reference
(``verifier``/``journal.ChainVerifier``/``projections.check_projections``), which names it as
it always has. So this path only ever says "in order" where the reference would.

**One read of the journal per span** (``JOURNAL_SQL``): how many rows there are and their seqs
joined; how many have plain fields (the format the integer 1, the station the one verified,
every other field text -- compared, not ``typeof``: text sorts after every number and before
every blob); the bodies joined by ``\\x1e`` and the rest of each record's canonical bytes
(``printf``, fields in their fixed sorted order) likewise; the kinds, ts, uuids, hashes and
``prev_hash`` values joined by commas. Then, once per span: no field holds a quote, backslash
or control character (so ``printf`` wrote each whole, and RFC 8785 writes it as it is), no
body a raw control character (so the separators split exactly: a part too many means a
record held one), every backslash begins a simple escape (else each body is looked at with
``verify_fast.strings_canonical``), the bytes are UTF-8. The chain: the seqs are first..last
in order; the hashes computed over ``{"body":`` + body + the rest are those stored; each
``prev_hash`` is the hash before (the first: the one given).

**One template per body.** A body is split at its quotes (a canonical string holds no raw
quote). Its *shape* -- kind, structure, keys, numbers: everything but the string values -- is
learnt once, decided by the reference on the first body of that shape: ``parse_body`` and
``canonical_text`` must give back the stored text, and the projection rules
(``projections.project``) run on the body with each string value replaced by a marker, as in
``verify_fast``. The shape becomes one ``%`` template: the body with ``%s`` for each string
value, then, per table its kind fills, the row as ``json_array`` writes it (each column a
constant of the shape, a string of the body, or a field of the record: seq, ts, uuid, the
station, the kind). Filled with the body's own strings it must give back the body byte for
byte -- which proves the body has that shape, so is canonical (its strings' escapes and
UTF-8 having been checked), since a string's content never changes what RFC 8785 does around
it. A body with an empty string (a projection may depend on emptiness) or an escaped quote
(which defeats the split) is not taken on. Candidates are found by kind and number of parts.

**One comparison per projection table.** SQLite renders every row of every table in the
span as ``json_array`` of all its columns, seq first, joined by ``json_group_array``.
``json_quote`` writes exactly RFC 8785's escapes, so a JSON string is the same bytes in the
body and in the rendering, and types stay apart (``"5"`` is not ``5``, ``"null"`` not
``null``; a blob is an SQL error); a JSON column is its text quoted once more (its strings'
backslashes doubled in the template). The expected text, made from the templates, must equal
the stored one: a row altered, deleted, added or moved to another seq makes them differ.
``tests/test_verify_sql.py`` tampers with every column of every kind, deletes, adds and moves
rows, re-hashes bodies out of canonical form, and checks this path vouches for none of them
and that verify's verdict is the reference's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from inspect_station.canonical import canonical_json, canonical_text, parse_body
from inspect_station.store.projections import KINDS, SCHEMA, project
from inspect_station.store.verify_fast import (
    _MARKER,
    MAX_SHAPES,
    Picker,
    _checked_name,
    _picker,
    _record_field,
    strings_canonical,
)

Query = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]
"""(sql, params) -> rows as tuples: a read of the local record."""

_TEXT_FIELDS = ("kind", "station", "ts", "uuid", "prev_hash", "hash", "body")

_PLAIN = " AND ".join(
    [
        "j.format = 1",
        "typeof(j.format) = 'integer'",
        "j.station = ?1",
        *(f"j.{name} >= '' AND j.{name} < X''" for name in _TEXT_FIELDS),
    ]
)
"""True when a journal row's format is the integer 1, its station the one verified and every
other field text (text sorts after every number and before every blob)."""

_TAIL = (
    'printf(\',"format":%d,"kind":"%s","prev_hash":"%s","seq":%d,"station":"%s",'
    '"ts":"%s","uuid":"%s"}\', j.format, j.kind, j.prev_hash, j.seq, j.station, j.ts, '
    "j.uuid)"
)
"""A record's canonical bytes after its body, when its fields are plain: text with no quote,
backslash or control character (checked on the fields themselves, joined, in Python)."""

SEP = b"\x1e"
"""Between two bodies (a canonical text never holds a raw control character)."""

JOURNAL_SQL = (
    "SELECT count(*), total(" + _PLAIN + "), "
    "CAST(group_concat(j.seq, ',') AS BLOB), CAST(group_concat(j.body, char(30)) AS BLOB), "
    f"CAST(group_concat({_TAIL}, char(30)) AS BLOB), CAST(group_concat(j.kind, ',') AS BLOB), "
    "CAST(group_concat(j.ts, ',') AS BLOB), CAST(group_concat(j.uuid, ',') AS BLOB), "
    "group_concat(j.hash, ','), group_concat(j.prev_hash, ',') "
    "FROM journal j WHERE j.seq BETWEEN ?2 AND ?3"
)
"""What a span (?2..?3) of the journal holds, at once (see the module docstring)."""

_TABLES = tuple(SCHEMA)


def _rendered_sql(table: str) -> str:
    columns = ", ".join(f"s.{_checked_name(column.name)}" for column in SCHEMA[table])
    return (
        f"(SELECT CAST(json_group_array(json_array({columns})) AS BLOB) "
        f"FROM {_checked_name(table)} s WHERE s.seq BETWEEN ?1 AND ?2)"
    )


TABLES_SQL = "SELECT " + ", ".join(_rendered_sql(table) for table in _TABLES)
"""Every projection table's rows for the seqs ?1..?2, each rendered as one JSON text."""

_CONTROLS = bytes(range(0x20))
_NOT_IN_FIELDS = b'"\\' + _CONTROLS
_CONTROLS_AND_BACKSLASH = b"\\" + _CONTROLS
_SIMPLE_ESCAPES = (b"\\r", b"\\n", b"\\t", b"\\b", b"\\f")
_RECORD_FIELDS = ("seq", "ts", "uuid")
"""The record fields a template takes from the record (after the body's parts); the station
is the one verified, the kind the shape's."""

Shape = tuple[bytes, Picker, tuple[int, ...], tuple[Callable[[bytes], None], ...]]
"""A learnt shape: one template -- the body (``%s`` for each string value), then for each
table the kind fills, after a separator, the row as ``json_array`` renders it -- and what picks
the body's parts and the record's fields filling it, the parts a JSON column quotes once more
(their copies follow the fields), and where each row's rendering goes."""

MAX_CANDIDATES = 8
"""Shapes of one kind with the same number of parts tried before a body counts as unseen."""


class _Unsure:
    """A shape this path leaves to the others."""


UNSURE = _Unsure()


class BulkSpans:
    """Says whether whole spans of the journal are in order (see the module docstring)."""

    def __init__(self, station: str | None, query: Query) -> None:
        self.station = station
        self.query = query
        self.known: dict[tuple[bytes, int], list[Shape]] = {}
        self.learnt = 0
        self.rendered: dict[str, list[bytes]] = {table: [] for table in _TABLES}

    def in_order(self, first: int, last: int, linked: str) -> tuple[int, str] | None:
        """(how many records, hash of the last) when the records from ``first`` on (up to
        ``last``; the journal may end before) are consecutive and in order, the first linked
        to ``linked``, with exactly their projection rows -- all of them, or those before a
        record this path is not sure of; None when it cannot say."""
        station = self.station
        if station is None or last < first or "," in linked:
            return None
        if not station.isascii() or len(station.encode().translate(None, _NOT_IN_FIELDS)) != len(
            station
        ):
            return None
        try:
            return self._check(first, last, linked)
        except Exception:  # an SQL error, a value of an unexpected type: not sure
            return None

    def _check(self, first: int, last: int, linked: str) -> tuple[int, str] | None:
        ((count, plain, seqs, bodies, tails, kinds, tss, uuids, hashes, prevs),) = self.query(
            JOURNAL_SQL, (self.station, first, last)
        )
        n = count
        if not 0 < n <= last - first + 1 or plain != n:
            return None
        if seqs != ",".join(map(str, range(first, first + n))).encode():
            return None
        fields = kinds + tss + uuids + prevs.encode() + hashes.encode()
        if len(fields.translate(None, _NOT_IN_FIELDS)) != len(fields):
            return None  # a quote, backslash or control in a field: the reference's
        # Raw control characters (but the n - 1 separators) and backslashes, at once: when
        # every backslash begins a gauge frame's \r (the usual case), both are accounted for.
        unusual = len(bodies) - len(bodies.translate(None, _CONTROLS_AND_BACKSLASH)) - (n - 1)
        frames = bodies.count(b"\\r") if unusual else 0
        if unusual != frames and len(bodies.translate(None, _CONTROLS)) != len(bodies) - (n - 1):
            return None  # a raw control character in a body
        if not (bodies.isascii() and tails.isascii()):
            (bodies + tails).decode("utf-8")  # invalid UTF-8 raises: not sure
        body_list = bodies.split(SEP)
        tail_list = tails.split(SEP)
        kind_list = kinds.split(b",")
        ts_list = tss.split(b",")
        uuid_list = uuids.split(b",")
        hash_list = hashes.split(",")
        prev_list = prevs.split(",")
        seq_list = seqs.split(b",")
        lists = (body_list, tail_list, kind_list, ts_list, uuid_list, hash_list, prev_list)
        if any(len(items) != n for items in lists):
            return None
        # Whether each body must be looked at for escapes other than the simple ones, or for
        # an empty string or an escaped quote (which this path leaves to the others).
        careful = b'""' in bodies
        if unusual != frames and not careful:  # escapes other than \r: which ones?
            escapes = bodies.count(b"\\")
            for escape in _SIMPLE_ESCAPES:
                if escapes:
                    escapes -= bodies.count(escape)
            careful = escapes != 0
        rendered = self.rendered
        for rows in rendered.values():
            rows.clear()
        sha256 = hashlib.sha256
        known = self.known
        digests: list[str] = []
        digest = digests.append
        good = n
        for index, (body, tail, kind, ts, uuid, seq) in enumerate(
            zip(body_list, tail_list, kind_list, ts_list, uuid_list, seq_list, strict=True)
        ):
            if careful and (b'""' in body or (b"\\" in body and not strings_canonical(body))):
                good = index
                break
            parts = body.split(b'"')
            size = len(parts)
            parts += (seq, ts, uuid)
            for shape in known.get((kind, size), ()):
                if shape[2]:
                    parts += [parts[i].replace(b"\\", b"\\\\") for i in shape[2]]
                made = (shape[0] % shape[1](parts)).split(SEP)
                if made[0] == body:
                    break
                del parts[size + 3 :]
            else:
                shape = self._learn(kind, body, parts[:size])
                if shape is UNSURE:
                    good = index
                    break
                if shape[2]:
                    parts += [parts[i].replace(b"\\", b"\\\\") for i in shape[2]]
                made = (shape[0] % shape[1](parts)).split(SEP)
            digest(sha256(b'{"body":' + body + tail).hexdigest())
            adds = shape[3]
            if adds:
                adds[0](made[1])
                if len(adds) > 1:
                    adds[1](made[2])
        if good == 0:
            return None
        if digests != hash_list[:good] or prev_list[:good] != [linked, *digests[: good - 1]]:
            return None
        (stored,) = self.query(TABLES_SQL, (first, first + good - 1))
        for table, text in zip(_TABLES, stored, strict=True):
            if text != b"[" + b",".join(rendered[table]) + b"]":
                return None
        return good, digests[-1]

    def _learn(self, kind: bytes, body: bytes, parts: list[bytes]) -> Any:
        """The shape of this body (UNSURE if this path is not sure of it), decided by the
        reference and remembered."""
        assert self.station is not None
        learnt = _rows(kind, body, parts, self.station, self.rendered)
        if learnt is UNSURE:
            return UNSURE
        escaped, rows = learnt
        values = [i for i in range(1, len(parts) - 1, 2) if parts[i + 1][:1] != b":"]
        skeleton = [part.replace(b"%", b"%%") for part in parts]
        for i in values:
            skeleton[i] = b"%s"
        template = SEP.join([b'"'.join(skeleton), *(row[1] for row in rows)])
        positions = [*values, *(at for row in rows for at in row[2])]
        shape: Shape = (template, _picker(positions), escaped, tuple(row[0] for row in rows))
        extended = [*parts, b"0", b"0", b"0"] + [parts[i].replace(b"\\", b"\\\\") for i in escaped]
        if (template % shape[1](extended)).split(SEP)[0] != body:
            return UNSURE
        if self.learnt >= MAX_SHAPES:
            self.known.clear()
            self.learnt = 0
        candidates = self.known.setdefault((kind, len(parts)), [])
        if len(candidates) >= MAX_CANDIDATES:
            del candidates[0]
        candidates.append(shape)
        self.learnt += 1
        return shape


def _rows(
    kind_bytes: bytes,
    body: bytes,
    parts: list[bytes],
    station: str,
    rendered: dict[str, list[bytes]],
) -> Any:
    """A shape's templates, one per table its kind fills: (where the rendering goes, the
    template, what fills it from the body's parts and the record's fields); UNSURE if the
    reference does not find the body canonical or a column cannot be templated."""
    try:
        kind = kind_bytes.decode("ascii")
        text = body.decode("utf-8")
        value, plain = parse_body(text)
        if not plain or type(value) is not dict or canonical_text(value, "body") != text:
            return UNSURE
    except Exception:
        return UNSURE
    if kind not in KINDS:
        return (), ()
    values = [i for i in range(1, len(parts) - 1, 2) if parts[i + 1][:1] != b":"]
    for i in range(1, len(parts) - 1, 2):
        if b"\xee\x80\x80" in parts[i] or b"\xee\x80\x81" in parts[i]:
            return UNSURE  # the private-use marker characters themselves
    marked = list(parts)
    for i in values:
        marked[i] = f"\ue000{i}\ue001".encode()
    try:
        marked_body, _ = parse_body(b'"'.join(marked).decode("utf-8"))
        projected = project(
            {
                "format": 1,
                "station": "",
                "uuid": "",
                "ts": "",
                "prev_hash": "",
                "hash": "",
                "seq": 1,
                "kind": kind,
                "body": marked_body,
            }
        )
    except Exception:
        return UNSURE
    if [table for table, _ in projected] != list(KINDS[kind]):
        return UNSURE
    at: dict[str, Any] = {f"p{i}": i for i in values}
    at.update({name: len(parts) + offset for offset, name in enumerate(_RECORD_FIELDS)})
    at.update(station=station, kind=kind, escaped=len(parts) + len(_RECORD_FIELDS))
    escaped: list[int] = []
    rows = []
    for table, row in projected:
        made = _template(kind, table, row, at, escaped)
        if made is None:
            return UNSURE
        template, positions = made
        rows.append((rendered[table].append, template, positions))
    return tuple(escaped), tuple(rows)


def _template(
    kind: str,
    table: str,
    row: dict[str, Any],
    at: dict[str, int],
    escaped: list[int],
) -> tuple[bytes, list[int]] | None:
    """A row's rendering as ``json_array`` writes it, as a template (``%s`` where a part of
    the body or a field of the record goes) and those positions in order; None if not sure.

    ``at`` says where the record's fields are (``seq``, ``ts``, ``uuid``; the station and
    the kind are constants: ``station`` and ``kind`` entries hold their JSON text) and where
    each string of the body is (``"p<part>"``); a string inside a JSON column is written there
    quoted once more (its backslashes doubled), so it is taken from a copy made so, whose
    position ``escaped`` notes."""
    pieces: list[str] = []
    positions: list[int] = []
    for column in SCHEMA[table]:
        field = _record_field(kind, table, column)
        value = row[column.name]
        if field is not None:
            if field == "seq":
                pieces.append("%s")
                positions.append(at["seq"])
            elif field in ("ts", "uuid"):
                pieces.append('"%s"')
                positions.append(at[field])
            elif field in ("station", "kind"):
                pieces.append(canonical_json(at[field]).decode("utf-8").replace("%", "%%"))
            else:
                return None
            continue
        if column.source.convert == "json":
            if value is None:
                pieces.append("null")
                continue
            if type(value) is not str:
                return None
            text = canonical_json(value).decode("utf-8")
            slotted = _slotted(text, positions, at, escaped)
            if slotted is None:
                return None
            pieces.append(slotted)
        elif value is None:
            pieces.append("null")
        elif type(value) is int:
            pieces.append(str(value))
        elif type(value) is str:
            whole = _MARKER.fullmatch(value)
            if whole:
                where = at.get(f"p{whole.group(1)}")
                if where is None:
                    return None
                positions.append(where)
                pieces.append('"%s"')
            elif "\ue000" in value or "\ue001" in value:
                return None
            else:
                pieces.append(canonical_json(value).decode("utf-8").replace("%", "%%"))
        else:
            return None  # a bool, float or object in a column: never equal to a stored value
    if not positions:
        return None
    return ("[" + ",".join(pieces) + "]").encode("utf-8"), positions


def _slotted(text: str, positions: list[int], at: dict[str, Any], escaped: list[int]) -> str | None:
    """A JSON column's quoted text with markers as a template: ``%s`` where each marker was,
    filled from the escaped copy of that part; None if a marker is of no string of the body."""
    out = []
    last = 0
    for found in _MARKER.finditer(text):
        out.append(text[last : found.start()].replace("%", "%%"))
        part = at.get(f"p{found.group(1)}")
        if part is None:
            return None
        if part not in escaped:
            escaped.append(part)
        positions.append(at["escaped"] + escaped.index(part))
        out.append("%s")
        last = found.end()
    out.append(text[last:].replace("%", "%%"))
    return "".join(out)
