"""The journal record format: canonical bytes (RFC 8785), SHA-256 hash chain, verification.

A record is a JSON object::

    {"format": 1, "station": "BENCH-3", "seq": 7, "uuid": "...", "kind": "measurement",
     "ts": "2026-11-25T09:14:03.123456Z", "prev_hash": "<hex>", "body": {...}, "hash": "<hex>"}

``hash`` is the lowercase hex SHA-256 of the RFC 8785 (JSON Canonicalization Scheme) bytes of the
object without ``hash``. The first record's ``prev_hash`` is 64 zeros. Measurement values and
limits in ``body`` are decimal strings, never JSON numbers. This module is pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid as uuidlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785

FORMAT = 1
GENESIS = "0" * 64
RECORD_FIELDS = ("format", "station", "seq", "uuid", "kind", "ts", "prev_hash", "body")


def utc_now() -> str:
    """The current UTC time as an RFC 3339 string with microseconds and a Z."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_MAX_SAFE_INT = 2**53 - 1


def _fast_encodable(value: Any, path: str = "body") -> bool:
    """Whether json.dumps(sort_keys) gives the RFC 8785 bytes of ``value``; floats are refused.

    That holds for strings, booleans, null, integers within ±(2**53 - 1), lists and objects
    with string keys. Key order is checked on the encoded text (``_same_key_order``): code point
    order equals UTF-16 order unless a character at or above U+E000 occurs. Measurements and
    limits must be decimal strings, so a float raises TypeError.
    """
    fast = True
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is dict:
            if not all(type(k) is str for k in item):
                fast = False
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind is int:
            fast = fast and -_MAX_SAFE_INT <= item <= _MAX_SAFE_INT
        elif isinstance(item, float):
            raise TypeError(f"{_float_path(value, path)} is a float; write decimals as strings")
        else:
            fast = False  # other mappings, sequences and subclasses take the reference path
    return fast


def _same_key_order(text: str) -> bool:
    """Whether sorting keys by code point equals RFC 8785's UTF-16 order for this text."""
    return text.isascii() or max(text) < "\ue000"


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


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes of a JSON value; the C-accelerated encoder where it is identical."""
    if _fast_encodable(value, "value"):
        text = _dumps(value)
        if _same_key_order(text):
            return text.encode("utf-8")
    return rfc8785.dumps(value)


_encode_str = json.encoder.encode_basestring  # JSON string, non-ASCII kept: as RFC 8785 writes it


_dumps = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode
"""Compact JSON with sorted keys, non-ASCII kept: RFC 8785 for ``_fast_encodable`` values."""


def _compose(record: Mapping[str, Any], body_json: str) -> bytes:
    """Canonical bytes of a record from its fields and its body's canonical JSON.

    RFC 8785 orders the top-level keys body, format, kind, prev_hash, seq, station, ts, uuid;
    each value's own canonical form does not depend on where it stands.
    """
    parts = [f'{{"body":{body_json}']
    for key in ("format", "kind", "prev_hash", "seq", "station", "ts", "uuid"):
        value = record[key]
        if isinstance(value, str):
            text = _encode_str(value)
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) <= _MAX_SAFE_INT:
            text = str(value)
        else:
            text = canonical_json(value).decode("utf-8")
        parts.append(f'"{key}":{text}')
    return (",".join(parts) + "}").encode("utf-8")


def canonical_bytes(record: Mapping[str, Any]) -> bytes:
    """RFC 8785 bytes of a record without its ``hash`` field: what the hash is taken over."""
    return _compose(record, canonical_json(record["body"]).decode("utf-8"))


def record_hash(record: Mapping[str, Any]) -> str:
    """Lowercase hex SHA-256 of the record's canonical bytes."""
    return hashlib.sha256(canonical_bytes(record)).hexdigest()


def canonical_body(body: Mapping[str, Any]) -> str:
    """The body's own canonical JSON text, as kept in the journal table."""
    return canonical_json(dict(body)).decode("utf-8")


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
    body_json = _dumps(body) if _fast_encodable(body, "body") else ""
    if not _same_key_order(body_json) or not body_json:
        body_json = rfc8785.dumps(body).decode("utf-8")
    record: dict[str, Any] = {
        "format": FORMAT,
        "station": station,
        "seq": seq,
        "uuid": record_uuid or str(uuidlib.uuid4()),
        "kind": kind,
        "ts": ts or utc_now(),
        "prev_hash": prev_hash,
        "body": body,
    }
    record["hash"] = hashlib.sha256(_compose(record, body_json)).hexdigest()
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
