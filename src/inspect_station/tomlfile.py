"""Reading hand-written TOML data files with errors that name the file and line.

Spec files, gauge profiles and ``station.toml`` are written by people and may be hostile. A
file is refused with ``file:line: reason`` -- never a traceback -- when it is not a regular
file, is larger than :data:`MAX_FILE_BYTES`, starts with a byte order mark, is not UTF-8, nests
deeper than :data:`MAX_DEPTH`, holds a date that does not exist, an integer of more than
30 digits or a decimal that is not a number of the station's grammar
(:mod:`inspect_station.numbers`: no exponent, no ``inf``/``nan``, at most 30 digits).
"""

from __future__ import annotations

import datetime as dt
import re
import stat
import tomllib
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from inspect_station.numbers import MAX_DIGITS, NumberError, parse_number

MAX_FILE_BYTES = 1_000_000
"""Largest data file read (a spec of a thousand characteristics is a tenth of that)."""
MAX_DEPTH = 32
"""Deepest nesting of tables and arrays a data file may have."""
_MAX_LOCATE_LINE = 4000
_DATE = re.compile(r"(?<![0-9])([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?![0-9])")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"']+)\s*=")
_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


class KeyedValueError(ValueError):
    """A model validator's error that names the key it is about, so its line can be found."""

    def __init__(self, key: str | tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path: tuple[str | int, ...] = (key,) if isinstance(key, str) else key


class TomlFileError(Exception):
    """A data file failed to parse or validate; ``problems`` holds ``file:line: message`` lines."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        super().__init__(problems[0] if problems else str(path))
        self.path = str(path)
        self.problems = problems


class _BadNumber:
    """What a TOML decimal that is not a number of the grammar becomes until it is reported."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _toml_decimal(text: str) -> Decimal | _BadNumber:
    """A TOML float's text read by the number grammar (exactly), or why it is not a number."""
    try:
        return parse_number(text)
    except NumberError as exc:
        return _BadNumber(exc.message.rstrip("."))


def _read_bytes(p: Path) -> bytes:
    """The file's bytes; TomlFileError if it is missing, not a regular file, or too large."""
    try:
        info = p.stat()
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise TomlFileError(p, [f"{p}: {kind}, not a data file"])
        if info.st_size > MAX_FILE_BYTES:
            raise TomlFileError(
                p, [f"{p}: larger than {MAX_FILE_BYTES // 1_000_000} MB, not a data file"]
            )
        with p.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise TomlFileError(p, [f"{p}: no such file"]) from None
    except OSError as exc:
        raise TomlFileError(p, [f"{p}: cannot be read ({exc.strerror})"]) from None
    if len(data) > MAX_FILE_BYTES:
        raise TomlFileError(p, [f"{p}: larger than {MAX_FILE_BYTES // 1_000_000} MB"])
    return data


def read_toml(path: Path | str) -> tuple[dict[str, Any], str]:
    """Parse a TOML file with exact decimals; TomlFileError naming file:line on any problem."""
    p = Path(path)
    raw = _read_bytes(p)
    if raw.startswith(b"\xef\xbb\xbf"):
        raise TomlFileError(
            p,
            [
                f"{p}:1: the file starts with a UTF-8 byte order mark (BOM); "
                "save it as UTF-8 without a BOM"
            ],
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problem = f"{p}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} is {exc.reason})"
        raise TomlFileError(p, [problem]) from None
    deep = _too_deep(text)
    if deep is not None:
        raise TomlFileError(p, [f"{p}:{deep}: nested more than {MAX_DEPTH} levels deep"])
    try:
        data = tomllib.loads(text, parse_float=_toml_decimal)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_POS.search(msg)
        line = int(m.group(1)) if m else 1
        bad_date = _invalid_date(text, line)
        if bad_date is not None:
            raise TomlFileError(p, [f"{p}:{line}: {bad_date}"]) from None
        reason = _TOML_POS.sub("", msg).strip().rstrip(".")
        raise TomlFileError(p, [f"{p}:{line}: TOML syntax error: {reason}"]) from None
    except RecursionError:
        raise TomlFileError(p, [f"{p}: nested too deeply"]) from None
    except ValueError:
        # tomllib's int() refuses integers of thousands of digits, without a position.
        long_line = next(
            (n for n, ln in enumerate(text.splitlines(), 1) if re.search(r"[0-9_]{100}", ln)),
            None,
        )
        where = f"{p}:{long_line}" if long_line else str(p)
        raise TomlFileError(p, [f"{where}: a number has more than {MAX_DIGITS} digits"]) from None
    problems = [
        f"{p}:{line}: {_loc_text(loc)}: {reason}" if line else f"{p}: {_loc_text(loc)}: {reason}"
        for loc, reason in _value_problems(data)
        for line in [locate(text, loc)]
    ]
    if problems:
        raise TomlFileError(p, problems)
    return data, text


def _too_deep(text: str) -> int | None:
    """The line where brackets and braces (outside strings and comments) nest too deep."""
    depth, line, i, n = 0, 1, 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif c in "\"'":
            triple = text.startswith(c * 3, i)
            delim = c * 3 if triple else c
            j = i + len(delim)
            while j < n:
                if c == '"' and text[j] == "\\":
                    j += 2
                    continue
                if text.startswith(delim, j):
                    break
                if text[j] == "\n" and not triple:
                    break
                j += 1
            line += text.count("\n", i, j)
            i = j if j < n and text[j] == "\n" and not triple else j + len(delim)
            continue
        elif c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1
    return None


def _invalid_date(text: str, line: int) -> str | None:
    """'2026-13-45 is not a valid date' when line ``line`` of ``text`` holds such a date."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    for m in _DATE.finditer(lines[line - 1].split("#", 1)[0]):
        try:
            dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return f"{m.group(0)} is not a valid date (write YYYY-MM-DD)"
    return None


def _value_problems(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """(key path, reason) for each value no data file may hold: a bad decimal, an integer of
    more than 30 digits, nesting deeper than MAX_DEPTH (checked without recursion)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while stack:
        loc, value = stack.pop()
        if isinstance(value, _BadNumber):
            problems.append((loc, value.reason))
        elif isinstance(value, int) and not isinstance(value, bool):
            if abs(value) >= 10**MAX_DIGITS:
                problems.append((loc, f"the integer has more than {MAX_DIGITS} digits"))
        elif isinstance(value, dict | list):
            if len(loc) > MAX_DEPTH:
                problems.append((loc[:MAX_DEPTH], f"nested more than {MAX_DEPTH} levels deep"))
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend(((*loc, key), item) for key, item in reversed(list(items)))
    return problems


def locate(text: str, loc: Sequence[str | int]) -> int | None:
    """Line number (1-based) where the key path ``loc`` is written in TOML ``text``, if found."""
    lines = text.splitlines()
    # Walk the file, tracking the current table path with array-of-table indices.
    counters: dict[str, int] = {}
    current: list[str | int] = []
    key_lines: dict[tuple[str | int, ...], int] = {}
    for number, line in enumerate(lines, start=1):
        if len(line) > _MAX_LOCATE_LINE:
            continue
        stripped = line.split("#", 1)[0] if '"' not in line else line
        header = _HEADER.match(stripped)
        if header and not _KEY.match(stripped):
            name = header.group(2).replace('"', "").replace("'", "")
            parts: list[str | int] = []
            for piece in name.split("."):
                parts.append(piece.strip())
            if header.group(1) == "[[":
                dotted = ".".join(str(x) for x in parts)
                index = counters.get(dotted, -1) + 1
                counters[dotted] = index
                parts.append(index)
            current = parts
            key_lines.setdefault(tuple(current), number)
            continue
        key = _KEY.match(line)
        if key:
            name = key.group(1).strip("\"'")
            key_lines.setdefault((*current, name), number)
    path = tuple(loc)
    while path:
        if path in key_lines:
            return key_lines[path]
        path = path[:-1]
    return None


def _loc_text(loc: Sequence[str | int]) -> str:
    """Human form of a location, counting from 1: ``characteristic 2 > tolerance``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f" {part + 1}"
        else:
            out += (" > " if out else "") + str(part)
    return out


def validation_problems(path: Path | str, text: str, error: ValidationError) -> list[str]:
    """Turn a pydantic ValidationError into ``file:line: key: message`` lines."""
    problems = []
    for item in error.errors():
        loc: list[str | int] = list(item["loc"])
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, KeyedValueError):
            loc.extend(cause.path)
        line = locate(text, loc)
        where = f"{path}:{line}" if line else str(path)
        message = item["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if item["type"] == "extra_forbidden":
            message = "unknown key (check its spelling)"
        elif item["type"] == "missing":
            message = "required key is missing"
        key = _loc_text(loc)
        problems.append(f"{where}: {key}: {message}" if key else f"{where}: {message}")
    return problems
