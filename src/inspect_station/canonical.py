"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme): the bytes a record's hash covers.

The one implementation the station and the central ingest path share (pure, no I/O). The
reference is the ``rfc8785`` package; it is pure Python and costs 30-40 µs per record, which
would cap shipping and verifying at ~25,000 records/s. For the values a journal record holds --
strings, booleans, null, integers within ±(2**53 - 1), arrays and objects with string keys, no
floats -- the standard library's C encoder with sorted keys, no spaces and ``ensure_ascii=False``
writes exactly the RFC 8785 bytes: the same string escapes (``\\b \\t \\n \\f \\r \\" \\\\`` and
lowercase ``\\u00xx`` for other controls, everything else literal) and the same integer form.
Key order agrees too unless the text holds a character outside the Basic Multilingual Plane
(RFC 8785 sorts by UTF-16 code units, which differ from code point order only there). Anything
outside that domain -- such a character, a huge integer, a lone surrogate, a value of another
type -- goes to the reference. A float is refused: measurements and limits are decimal strings.

``tests/test_journal.py`` and ``tests/sync/test_sync_canonical.py`` check the fast path against
the reference on generated values and records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import rfc8785

_SAFE_INT = 2**53 - 1

_dumps = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode
"""Compact JSON with sorted keys, non-ASCII kept: RFC 8785 for plain values in the BMP."""
_string = json.encoder.encode_basestring
"""A JSON string with non-ASCII kept, as RFC 8785 writes it."""


# -- the one guard --------------------------------------------------------------------------


def _plain(value: Any, path: str) -> bool:
    """Whether ``value`` holds only what the C encoder writes the RFC 8785 way (see the module
    docstring); a float anywhere raises TypeError naming where it is."""
    plain = True
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is dict:
            if not all(type(k) is str for k in item):
                plain = False
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind is int:
            plain = plain and -_SAFE_INT <= item <= _SAFE_INT
        elif isinstance(item, float):
            raise TypeError(f"{_float_path(value, path)} is a float; write decimals as strings")
        else:
            plain = False  # other mappings, sequences and subclasses take the reference path
    return plain


def _in_order(text: str) -> bool:
    """Whether code point order (Python's sort) is RFC 8785's UTF-16 order for this text: true
    when no character lies outside the Basic Multilingual Plane."""
    return text.isascii() or max(text) <= "\uffff"


def _float_path(value: Any, path: str) -> str | None:
    """Where the first float in ``value`` is, as body.limits.upper or body.list[2]."""
    if isinstance(value, float):
        return path
    items: Any = ()
    if isinstance(value, Mapping):
        items = ((f"{path}.{k}", v) for k, v in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    for sub_path, item in items:
        found = _float_path(item, sub_path)
        if found:
            return found
    return None


# -- values ---------------------------------------------------------------------------------


def canonical_text(value: Any, path: str = "value") -> str:
    """The RFC 8785 text of a JSON value (``path`` names it in the error for a float)."""
    if _plain(value, path):
        text = _dumps(value)
        if _in_order(text):
            return text
    return rfc8785.dumps(value).decode("utf-8")


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes of a JSON value; the C-accelerated encoder where it is identical."""
    if _plain(value, "value"):
        text = _dumps(value)
        if _in_order(text):
            try:
                return text.encode("utf-8")
            except UnicodeEncodeError:
                pass  # a lone surrogate: the reference refuses it with its own error
    return rfc8785.dumps(value)


def canonical_body(body: Mapping[str, Any]) -> str:
    """The body's own canonical JSON text, as kept in the journal table."""
    return canonical_json(dict(body)).decode("utf-8")


class _NotPlain(ValueError):
    """A stored body holds a value the C encoder does not write the RFC 8785 way."""


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


def parse_body(text: str) -> tuple[Any, bool]:
    """Decode a stored body; True when it is plain (no floats, safe integers), so that
    ``record_digest`` may take the fast path without walking it again."""
    try:
        return _plain_decoder.decode(text), True
    except _NotPlain:
        return json.loads(text), False


# -- records --------------------------------------------------------------------------------


def _head(record: Mapping[str, Any]) -> str | None:
    """The canonical text of a record's fields after ``body`` (from ',"format":' to the closing
    brace) when they are plain; RFC 8785 orders them format, kind, prev_hash, seq, station, ts,
    uuid."""
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


def compose(record: Mapping[str, Any], body_text: str) -> bytes:
    """Canonical bytes of a record (without ``hash``) from its fields and its body's canonical
    text: RFC 8785 puts ``body`` first, and each value's form does not depend on where it is."""
    head = _head(record)
    if head is None:
        parts = [""]
        for key in ("format", "kind", "prev_hash", "seq", "station", "ts", "uuid"):
            parts.append(f'"{key}":{canonical_json(record[key]).decode("utf-8")}')
        head = ",".join(parts) + "}"
    return ('{"body":' + body_text + head).encode("utf-8")


def canonical_bytes(record: Mapping[str, Any]) -> bytes:
    """RFC 8785 bytes of a record without its ``hash`` field: what the hash is taken over."""
    return compose(record, canonical_json(record["body"]).decode("utf-8"))


def record_hash(record: Mapping[str, Any]) -> str:
    """Lowercase hex SHA-256 of the record's canonical bytes."""
    return hashlib.sha256(canonical_bytes(record)).hexdigest()


def canonical_parts(record: Mapping[str, Any], plain_body: bool = False) -> tuple[bytes, str]:
    """(canonical bytes of the record without ``hash``, canonical text of its body).

    ``plain_body`` says the body came from ``parse_body`` and was found plain, so it is encoded
    without walking it again; otherwise the body is checked as ``canonical_json`` checks it.
    Raises what the reference raises for a record that cannot be canonicalised.
    """
    if plain_body:
        body = _dumps(record["body"])
        if _in_order(body):
            try:
                return compose(record, body), body
            except UnicodeEncodeError:
                pass  # a lone surrogate: let the reference refuse it
    body = canonical_body(record["body"])
    return compose(record, body), body


def record_digest(record: Mapping[str, Any], plain_body: bool = False) -> tuple[str, str]:
    """(SHA-256 hex of the record's canonical bytes, canonical body text)."""
    data, body = canonical_parts(record, plain_body)
    return hashlib.sha256(data).hexdigest(), body
