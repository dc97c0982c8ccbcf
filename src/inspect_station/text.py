"""Hostile text: one validator for what people type, one way to show data on a terminal.

Everything a person or a cell types that is kept in the record -- lot, serial, user ids, badge,
work order, defect codes and notes, reasons, signature meanings -- is checked by
:func:`check_text` before anything is written. It refuses every control character (C0, DEL,
C1), the Unicode bidirectional controls that make text read differently from how it is stored
(``U+202E`` and its kin), line and paragraph separators, and lone surrogates (what is left of
bytes that were not UTF-8). Identifiers (:func:`check_id`) are stricter: no invisible
formatting characters and no blank but the ASCII space either, so two ids that look the same
are the same.

Data read back (from a record, a central store, a copy from another bench) is passed through
:func:`printable` or :func:`safe_json` before it reaches a terminal, so nothing stored can emit
an escape sequence. Nothing here does I/O.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from inspect_station.errors import InspectStationError

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""Arabic letter mark, LRM/RLM, embeddings, overrides and isolates."""

_SEPARATORS = frozenset("\u2028\u2029")
_ID_CATEGORIES = frozenset({"Cf", "Co", "Cn", "Zl", "Zp", "Zs"})


class TextError(InspectStationError):
    """Typed text (an id, a note, a reason) is empty, too long or holds forbidden characters."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"The {what} {reason}.")
        self.reason = reason
        """What is wrong, without naming the field: "'L1\\x1b' contains a control ..."."""


_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff" + "".join(sorted(BIDI_CONTROLS | _SEPARATORS)) + "]"
)
"""Matches exactly the characters ``unsafe`` names: one C-speed scan of a whole text."""


def unsafe(char: str) -> bool:
    """Whether ``char`` may not be shown raw on a terminal (a control, bidi control, ...)."""
    code = ord(char)
    return (
        code < 0x20
        or 0x7F <= code <= 0x9F
        or 0xD800 <= code <= 0xDFFF
        or char in BIDI_CONTROLS
        or char in _SEPARATORS
    )


def _problem(char: str, identifier: bool) -> str | None:
    """Why ``char`` may not be in a text (an identifier with ``identifier``), or None."""
    code = ord(char)
    if char in "\r\n":
        return f"a line break (U+{code:04X}); write one line"
    if code < 0x20 or code == 0x7F:
        return f"a control character (U+{code:04X})"
    if 0x80 <= code <= 0x9F:
        return f"a C1 control character (U+{code:04X})"
    if 0xD800 <= code <= 0xDFFF:
        return "bytes that are not UTF-8 text"
    if char in BIDI_CONTROLS:
        return f"a bidirectional control character (U+{code:04X})"
    if char in _SEPARATORS:
        return f"a line or paragraph separator (U+{code:04X})"
    if identifier and char != " " and unicodedata.category(char) in _ID_CATEGORIES:
        return f"an invisible or non-ASCII blank character (U+{code:04X})"
    return None


def _clean(text: str, identifier: bool) -> bool:
    """Whether ``text`` surely holds no character ``_problem`` refuses, found in one C-speed
    scan: ``_UNSAFE`` matches every character refused in any text, and the characters refused
    in an identifier only (invisible and non-ASCII blanks) are all outside ASCII. False means
    "look character by character", not "refused"."""
    return _UNSAFE.search(text) is None and (not identifier or text.isascii())


def _first_problem(text: str, identifier: bool) -> str | None:
    """Why the first refused character of ``text`` is refused, or None (one by one)."""
    for char in text:
        problem = _problem(char, identifier)
        if problem is not None:
            return problem
    return None


def check_text(
    value: object,
    what: str,
    *,
    max_length: int,
    identifier: bool = False,
    required: bool = True,
) -> str:
    """``value`` trimmed of blanks, if it is acceptable text; TextError naming ``what`` if not.

    With ``required`` false an empty text is returned as ``""``.
    """
    if not isinstance(value, str):
        raise TextError(what, f"must be text, not {type(value).__name__}")
    text = value.strip(" ")
    problem = None if _clean(text, identifier) else _first_problem(text, identifier)
    if problem is not None:
        raise TextError(what, f"{quote(text)} contains {problem}")
    if not text:
        if required:
            raise TextError(what, "must not be empty")
        return ""
    if len(text) > max_length:
        raise TextError(what, f"{quote(text, 20)} is longer than {max_length} characters")
    return text


def check_id(value: object, what: str, *, max_length: int = 64) -> str:
    """An identifier (lot, serial, user id, badge, work order, defect code) as typed, checked."""
    return check_text(value, what, max_length=max_length, identifier=True)


def check_line(value: object, what: str, *, max_length: int = 500, required: bool = True) -> str:
    """One line of free text (a note, a reason, a name), checked; "" if optional and empty."""
    return check_text(value, what, max_length=max_length, required=required)


def field_text(value: Any, *, identifier: bool = False, max_length: int = 500) -> Any:
    """For a data file's model validator: ``value`` checked like typed text (ValueError with the
    reason if it is not acceptable); an int id becomes text, other types are left to the model."""
    if identifier and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return value
    try:
        return check_text(
            value, "text", max_length=max_length, identifier=identifier, required=False
        )
    except TextError as exc:
        raise ValueError(exc.reason) from None


def printable(text: str, keep: str = "") -> str:
    """``text`` with every character unsafe on a terminal shown as an escape (``\\x1b``);
    the characters in ``keep`` (say line ends of a multi-line text) are left as they are."""
    if _UNSAFE.search(text) is None or not any(unsafe(c) and c not in keep for c in text):
        return text
    out = []
    for char in text:
        if not unsafe(char) or char in keep:
            out.append(char)
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(f"\\u{ord(char):04x}")
    return "".join(out)


_readable_json = json.JSONEncoder(ensure_ascii=False).encode
"""``json.dumps(obj, ensure_ascii=False)``, the encoder built once instead of per call."""


def safe_json(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` (non-ASCII kept readable) with every unsafe character as a ``\\uXXXX``
    escape, so a line of JSON never carries a terminal control; the JSON value is unchanged."""
    text = _readable_json(obj) if not kwargs else json.dumps(obj, ensure_ascii=False, **kwargs)
    if _UNSAFE.search(text) is None:
        return text
    return "".join(f"\\u{ord(c):04x}" if unsafe(c) else c for c in text)


def quote(text: str, limit: int = 40) -> str:
    """A short, printable, quoted snippet of ``text`` for a message (never a control byte)."""
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"'{printable(shown)}'"
