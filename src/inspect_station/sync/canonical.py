"""Record hashes at ingest speed: the documented RFC 8785 hash, through the C JSON encoder.

``journal.record_hash`` (the reference, via the ``rfc8785`` package) is pure Python and costs
about 30-40 µs per record; the ingest path recomputes the hash of every record it ships, so that
would cap a shipper at ~25,000 records/s before any I/O. For the values a journal body holds when
it is read back with ``parse_body`` -- strings, booleans, null, integers within ±(2**53 - 1),
arrays and objects, no floats -- the standard library's C encoder with sorted keys, no spaces
and ``ensure_ascii=False`` writes exactly the RFC 8785 bytes: the same string escapes
(``\\b \\t \\n \\f \\r \\" \\\\`` and lowercase ``\\u00xx`` for other controls, everything else
literal) and the same integer form. Key order agrees too unless a key holds a character outside
the Basic Multilingual Plane (UTF-16 order differs from code point order only there). Anything
outside that domain -- a float, NaN, a huge integer, such a character, a lone surrogate -- goes
to ``journal.canonical_bytes``. ``tests/sync/test_canonical.py`` checks the two agree on
generated records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from inspect_station.store import journal

_SAFE_INT = 2**53 - 1
# RFC 8785 sorts the record's keys by UTF-16 code units: body, format, kind, prev_hash, seq,
# station, ts, uuid. ``_head`` writes the fields after the body in that order.
assert sorted(journal.RECORD_FIELDS) == [
    "body", "format", "kind", "prev_hash", "seq", "station", "ts", "uuid"
]  # fmt: skip

_encode = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
).encode


class _NotPlain(ValueError):
    """A body holds a value the fast encoder does not write the RFC 8785 way."""


def _no_float(text: str) -> Any:
    raise _NotPlain(text)


def _checked_int(text: str) -> int:
    value = int(text)
    if len(text) > 15 and not -_SAFE_INT <= value <= _SAFE_INT:
        raise _NotPlain(text)
    return value


_plain_decoder = json.JSONDecoder(
    parse_float=_no_float, parse_int=_checked_int, parse_constant=_no_float
)
_string = json.encoder.encode_basestring  # a JSON string with non-ASCII kept, as RFC 8785 has it


def parse_body(text: str) -> tuple[Any, bool]:
    """Decode a stored body; True when the fast encoder is exact for it (no floats, safe ints)."""
    try:
        return _plain_decoder.decode(text), True
    except _NotPlain:
        return json.loads(text), False


def _head(record: Mapping[str, Any]) -> str | None:
    """The canonical text of the record's fields after ``body`` (from ',"format":'), if plain."""
    fmt, seq = record["format"], record["seq"]
    kind, prev_hash, station = record["kind"], record["prev_hash"], record["station"]
    ts, uuid = record["ts"], record["uuid"]
    if (
        type(fmt) is not int
        or type(seq) is not int
        or not (-_SAFE_INT <= fmt <= _SAFE_INT and -_SAFE_INT <= seq <= _SAFE_INT)
        or type(kind) is not str
        or type(prev_hash) is not str
        or type(station) is not str
        or type(ts) is not str
        or type(uuid) is not str
    ):
        return None
    return (
        f',"format":{fmt},"kind":{_string(kind)},"prev_hash":{_string(prev_hash)},'
        f'"seq":{seq},"station":{_string(station)},"ts":{_string(ts)},"uuid":{_string(uuid)}}}'
    )


def canonical_parts(record: Mapping[str, Any], plain_body: bool = False) -> tuple[bytes, str]:
    """(canonical bytes of the record without ``hash``, canonical text of its body).

    ``plain_body`` says the body came from ``parse_body`` and was found plain; otherwise (or when
    the record is outside the fast domain) the journal's reference implementation is used.
    Raises whatever that raises for a record that cannot be canonicalised.
    """
    if plain_body:
        head = _head(record)
        if head is not None:
            body = _encode(record["body"])
            text = '{"body":' + body + head
            if text.isascii() or max(text) <= "\uffff":
                try:
                    return text.encode("utf-8"), body
                except UnicodeEncodeError:
                    pass  # a lone surrogate: let the reference implementation refuse it
    data = journal.canonical_bytes(record)
    return data, journal.canonical_body(record["body"])


def record_digest(record: Mapping[str, Any], plain_body: bool = False) -> tuple[str, str]:
    """(SHA-256 hex of the record's canonical bytes, canonical body text)."""
    data, body = canonical_parts(record, plain_body)
    return hashlib.sha256(data).hexdigest(), body
