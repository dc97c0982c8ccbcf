"""The journal record format: canonical bytes (RFC 8785), SHA-256 hash chain, verification.

A record is a JSON object::

    {"format": 1, "station": "BENCH-3", "seq": 7, "uuid": "...", "kind": "measurement",
     "ts": "2026-11-25T09:14:03.123456Z", "prev_hash": "<hex>", "body": {...}, "hash": "<hex>"}

``hash`` is the lowercase hex SHA-256 of the RFC 8785 (JSON Canonicalization Scheme) bytes of the
object without ``hash`` (``inspect_station.canonical``, whose ``record_hash``, ``canonical_bytes``,
``canonical_body`` and ``canonical_json`` this module passes on). The first record's
``prev_hash`` is 64 zeros. Measurement values and limits in ``body`` are decimal strings, never
JSON numbers. This module is pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from inspect_station import clock
from inspect_station.canonical import canonical_body as canonical_body
from inspect_station.canonical import canonical_bytes as canonical_bytes
from inspect_station.canonical import canonical_json as canonical_json
from inspect_station.canonical import canonical_text, compose, record_hash

FORMAT = 1
GENESIS = "0" * 64
RECORD_FIELDS = ("format", "station", "seq", "uuid", "kind", "ts", "prev_hash", "body")
STORED_FIELDS = ("format", "station", "seq", "uuid", "kind", "ts", "prev_hash", "hash", "body")
"""A record's fields in the order a journal row is read and shipped (``body`` as stored text)."""


_SAFE_INT = 2**53 - 1
_encode_text = json.encoder.encode_basestring
"""A JSON string with non-ASCII kept: how the C encoder (``canonical``) writes keys and text."""
_PLANS: dict[tuple[Any, ...], tuple[tuple[str, str], ...] | None] = {}
"""An object's keys, as it holds them -> (text before each value, its key) in RFC 8785 order,
or None when its keys are not all text within the BMP (``canonical`` orders those)."""


def _plan(keys: tuple[Any, ...]) -> tuple[tuple[str, str], ...] | None:
    """How an object with these keys is written: each key's ``{"key":`` or ``,"key":``, in
    sorted order (code point order is UTF-16 order for keys within the BMP)."""
    if not all(type(k) is str and (k.isascii() or max(k) <= "\uffff") for k in keys):
        return None
    return tuple(
        (("{" if i == 0 else ",") + _encode_text(key) + ":", key)
        for i, key in enumerate(sorted(keys))
    )


def _write_value(value: Any, parts: list[str]) -> bool:
    """Append a value's text to ``parts``; False if it is not plain: text, true/false, null,
    integers within ±(2**53 - 1), and objects with text keys and arrays of those, each of
    exactly those types (what the C encoder writes the RFC 8785 way; anything else, a float
    included, is for ``canonical`` to write or refuse)."""
    kind = type(value)
    if kind is str:
        parts.append(_encode_text(value))
    elif value is None:
        parts.append("null")
    elif kind is bool:
        parts.append("true" if value else "false")
    elif kind is dict:
        return _write_object(value, parts)
    elif kind is int and -_SAFE_INT <= value <= _SAFE_INT:
        parts.append(int.__repr__(value))
    elif kind is list:
        if not value:
            parts.append("[]")
            return True
        separator = "["
        for item in value:
            parts.append(separator)
            separator = ","
            if not _write_value(item, parts):
                return False
        parts.append("]")
    else:
        return False
    return True


def _write_object(value: dict[Any, Any], parts: list[str]) -> bool:
    """Append an object's text to ``parts``, its keys in the order of its plan."""
    if not value:
        parts.append("{}")
        return True
    keys = tuple(value)
    if keys in _PLANS:
        plan = _PLANS[keys]
    else:
        plan = _plan(keys)
        if len(_PLANS) < 512:  # bodies have a few shapes; free-form content is not kept
            _PLANS[keys] = plan
    if plan is None:
        return False
    for before, key in plan:
        parts.append(before)
        item = value[key]
        if type(item) is str:
            parts.append(_encode_text(item))
        elif item is None:
            parts.append("null")
        elif not _write_value(item, parts):
            return False
    parts.append("}")
    return True


def fast_text(value: Any) -> str | None:
    """The RFC 8785 text of an object or array that is surely plain (see ``_write_value``) and
    whose text stays within the BMP; None when ``canonical`` must judge it. The text is what
    ``canonical.canonical_text`` writes: the same keys in the same order, each value as the C
    encoder writes it, put together without walking the value twice (plainness proved on the
    way, the keys' order planned once per set of keys)."""
    if type(value) is not dict and type(value) is not list:
        return None
    parts: list[str] = []
    try:
        if not _write_value(value, parts):
            return None
    except RecursionError:  # nested too deeply: let ``canonical`` say so
        return None
    text = "".join(parts)
    if text.isascii() or max(text) <= "\uffff":
        return text
    return None


def plain_text(value: Any, path: str = "value") -> str:
    """``canonical.canonical_text`` of a value, the same text or the same error, faster for
    what records hold (an object of text, nulls and small nested objects): the plainness
    ``canonical_text`` proves by walking every value is proved here a level at a time."""
    text = fast_text(value)
    return canonical_text(value, path) if text is None else text


_VARIANT = "89ab" * 4
"""Hex digit 17 of a version 4 UUID from any random one: its two top bits set to 10."""


def new_uuid() -> str:
    """A random (version 4) UUID as text, as ``str(uuid.uuid4())`` writes it: 122 random bits,
    the version digit 4 and the variant bits 10 (written in place in the hex text)."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16)]}{h[17:20]}-{h[20:]}"


def seal(
    *,
    station: str,
    seq: int,
    kind: str,
    body: Mapping[str, Any],
    prev_hash: str,
    record_uuid: str | None = None,
    ts: str | None = None,
) -> tuple[dict[str, Any], str]:
    """A complete, hashed record continuing the chain at ``prev_hash``, and its body's JSON."""
    body = dict(body)
    body_json = plain_text(body, "body")
    record: dict[str, Any] = {
        "format": FORMAT,
        "station": station,
        "seq": seq,
        "uuid": record_uuid or new_uuid(),
        "kind": kind,
        "ts": ts or clock.utc_timestamp(),
        "prev_hash": prev_hash,
        "body": body,
    }
    record["hash"] = hashlib.sha256(compose(record, body_json)).hexdigest()
    return record, body_json


def make_record(
    *,
    station: str,
    seq: int,
    kind: str,
    body: Mapping[str, Any],
    prev_hash: str,
    record_uuid: str | None = None,
    ts: str | None = None,
) -> dict[str, Any]:
    """Build a complete, hashed record that continues a chain whose head is ``prev_hash``."""
    record, _ = seal(
        station=station,
        seq=seq,
        kind=kind,
        body=body,
        prev_hash=prev_hash,
        record_uuid=record_uuid,
        ts=ts,
    )
    return record


@dataclass(frozen=True)
class ChainReport:
    """Outcome of verifying a chain of records."""

    ok: bool
    """Whether every record verified."""
    count: int
    """How many records were checked (up to and including the first bad one)."""
    head_seq: int
    """seq of the last good record (0 if none)."""
    head_hash: str
    """hash of the last good record (GENESIS if none)."""
    bad_seq: int | None = None
    """seq of the first record that failed, if any."""
    reason: str | None = None
    """What is wrong with it, in one sentence."""


class ChainVerifier:
    """Checks records one by one as they stream past; keeps only the chain head in memory."""

    def __init__(self, station: str | None = None, after_seq: int = 0, prev_hash: str = GENESIS):
        self.station = station
        self.seq = after_seq
        self.prev_hash = prev_hash
        self.count = 0
        self.failure: tuple[int, str] | None = None

    def feed(self, record: Mapping[str, Any]) -> bool:
        """Check the next record; False (and ``failure`` set) if it breaks the chain."""
        if self.failure is not None:
            return False
        self.count += 1
        seq = record.get("seq")
        problem = self._problem(record)
        if problem is not None:
            self.failure = (seq if isinstance(seq, int) else self.seq + 1, problem)
            return False
        self.seq = record["seq"]
        self.prev_hash = record["hash"]
        return True

    def _problem(self, record: Mapping[str, Any]) -> str | None:
        missing = [k for k in (*RECORD_FIELDS, "hash") if k not in record]
        if missing:
            return f"record is missing {', '.join(missing)}"
        if record["format"] != FORMAT:
            return f"unknown record format {record['format']!r}"
        if self.station is not None and record["station"] != self.station:
            return f"record belongs to station {record['station']!r}, not {self.station!r}"
        if record["seq"] != self.seq + 1:
            return f"expected seq {self.seq + 1} next, found seq {record['seq']} (gap or reorder)"
        if record["prev_hash"] != self.prev_hash:
            return "prev_hash does not match the previous record's hash (chain broken or forked)"
        try:
            actual = record_hash(record)
        except Exception as exc:  # a record that cannot be canonicalised is corrupt
            return f"record cannot be canonicalised ({exc})"
        if actual != record["hash"]:
            return "hash does not match the record's content (the record was altered)"
        return None

    def report(self) -> ChainReport:
        """The outcome so far."""
        if self.failure is None:
            return ChainReport(True, self.count, self.seq, self.prev_hash)
        bad_seq, reason = self.failure
        return ChainReport(False, self.count, self.seq, self.prev_hash, bad_seq, reason)


def verify_chain(records: Iterable[Mapping[str, Any]], station: str | None = None) -> ChainReport:
    """Verify a whole chain from seq 1: seq gap-free, prev_hash linked, every hash right."""
    verifier = ChainVerifier(station)
    for record in records:
        if not verifier.feed(record):
            break
    return verifier.report()
