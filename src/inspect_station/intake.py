"""One line of ``record --stdin``: strict JSON with fields of the right JSON type, or a sentence.

An automation cell streams one JSON object per line. A line is read here into a
:class:`StdinItem` or refused with one :class:`IntakeError` sentence that quotes at most a few
dozen characters of it; the stream then goes on with the next line. Nothing is coerced: a
number where text is expected, text where a number is expected, an object, a list, ``true`` or
``null`` for a required field, an unknown or a repeated key are all refused. Numbers are read
by the station's grammar later, from the JSON *string* the cell sent (JSON numbers lose digits
in most producers, so a measured value is never accepted as one). Nothing here does I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from inspect_station.errors import ReadingError
from inspect_station.text import quote

MAX_LINE_BYTES = 64 * 1024
"""Longest line read from standard input; a longer one is refused whole."""
MAX_RAW = 4096
"""Most characters of a raw frame (as ISO-8859-1 text, one character per byte)."""

REQUIRED = ("characteristic", "value")
"""The keys every line must have."""
OPTIONAL = ("serial", "lot", "unit", "reason", "gauge", "raw", "manual_reason")
"""The keys a line may have (null is the same as leaving one out)."""
FIELDS = REQUIRED + OPTIONAL
"""The keys a line may have."""


class IntakeError(ReadingError):
    """A line of ``record --stdin`` is not a JSON object of the expected shape."""


@dataclass(frozen=True)
class StdinItem:
    """One measurement as a cell sent it, every field of the right JSON type."""

    characteristic: str
    """Characteristic id (balloon number)."""
    value: str
    """The reading as decimal text, maybe with a unit suffix, or pass/fail for an attribute."""
    serial: str | None = None
    """Part serial (else --serial)."""
    lot: str | None = None
    """Lot (else --lot)."""
    unit: str | None = None
    """Unit of the value (else a suffix of value, the gauge's or the spec's)."""
    reason: str | None = None
    """Reason of a correction."""
    gauge: str | None = None
    """Gauge asset the value came from (else --gauge, else manual entry)."""
    raw: bytes | None = None
    """The gauge's frame, from text with one character U+0000..U+00FF per byte."""
    manual_reason: str | None = None
    """Why the value was typed by hand."""


class _JsonNumber:
    """A JSON number kept as its text, so a huge one costs nothing and nothing is rounded."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _refuse_constant(name: str) -> Any:
    """NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not JSON")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object; a key given twice is refused (which one would count?)."""
    out = dict(pairs)
    if len(out) != len(pairs):  # a key repeated: name the first one given again
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {quote(key)} is given twice")
            seen.add(key)
    return out


_DECODER = json.JSONDecoder(
    parse_float=_JsonNumber,
    parse_int=_JsonNumber,
    parse_constant=_refuse_constant,
    object_pairs_hook=_pairs,
)
"""Strict JSON for a line, built once (``json.loads`` with these hooks builds one per call)."""


def json_type(value: Any) -> str:
    """The JSON type of a parsed value, in words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, _JsonNumber):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


def parse_line(data: bytes) -> StdinItem:
    """Read one line (bytes, without or with its newline) into a StdinItem; IntakeError if not."""
    if len(data) > MAX_LINE_BYTES:
        raise IntakeError(f"the line is longer than {MAX_LINE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IntakeError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at column {exc.start + 1})"
        ) from None
    try:
        if text.startswith("\ufeff"):  # what json.loads says of a byte order mark
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        item = _DECODER.decode(text)
    except RecursionError:
        raise IntakeError("not a JSON object: it is nested too deeply") from None
    except ValueError as exc:
        reason = str(exc).split(":", 1)[0] if isinstance(exc, json.JSONDecodeError) else exc
        raise IntakeError(f"not a JSON object ({reason}): {quote(text.strip(), 80)}") from None
    if (
        type(item) is dict
        and _PLAIN_KEYS.issuperset(item)
        and "characteristic" in item
        and "value" in item
        and all(type(value) is str for value in item.values())
    ):
        return StdinItem(**item)  # the usual line: known keys, every value text, no frame
    return _checked(item)


_PLAIN_KEYS = frozenset(FIELDS) - {"raw"}
"""Keys whose text is taken as it is (``raw`` is turned into bytes)."""


def _checked(item: Any) -> StdinItem:
    """A decoded line checked key by key: the item, or the first problem as a sentence."""
    if not isinstance(item, dict):
        raise IntakeError(f"expected a JSON object, not {json_type(item)}")
    unknown = [key for key in item if key not in FIELDS]
    if unknown:
        raise IntakeError(f"unknown key {quote(unknown[0])}; a line may have {', '.join(FIELDS)}")
    fields: dict[str, Any] = {}
    for key in FIELDS:
        value = item.get(key)
        if key not in item or (value is None and key in OPTIONAL):
            if key in REQUIRED:
                raise IntakeError(f'"{key}" is missing')
            continue
        if not isinstance(value, str):
            example = ' such as "12.345" (a JSON number loses digits)' if key == "value" else ""
            raise IntakeError(f'"{key}" must be JSON text{example}, not {json_type(value)}')
        fields[key] = value
    if "raw" in fields:
        fields["raw"] = _raw_bytes(fields["raw"])
    return StdinItem(**fields)


def _raw_bytes(text: str) -> bytes:
    """A frame given as text with one character per byte (U+0000..U+00FF)."""
    if len(text) > MAX_RAW:
        raise IntakeError(f'"raw" is longer than {MAX_RAW} bytes; no gauge frame is')
    for index, char in enumerate(text):
        if ord(char) > 0xFF:
            raise IntakeError(
                f'"raw" holds U+{ord(char):04X} at position {index + 1}; give the frame\'s '
                "bytes as characters U+0000..U+00FF (\\u00XX), one per byte"
            )
    return text.encode("latin-1")
