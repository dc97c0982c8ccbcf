"""Reading hand-written TOML data files with errors that name the file and line."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

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


def read_toml(path: Path | str) -> tuple[dict[str, Any], str]:
    """Parse a TOML file with exact decimals; raise TomlFileError naming file:line on bad syntax."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TomlFileError(p, [f"{p}: no such file"]) from None
    except UnicodeDecodeError as exc:
        problem = f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise TomlFileError(p, [problem]) from None
    except OSError as exc:
        raise TomlFileError(p, [f"{p}: cannot be read ({exc.strerror})"]) from None
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_POS.search(msg)
        line = m.group(1) if m else "1"
        reason = _TOML_POS.sub("", msg).strip().rstrip(".")
        raise TomlFileError(p, [f"{p}:{line}: TOML syntax error: {reason}"]) from None
    return data, text


def locate(text: str, loc: Sequence[str | int]) -> int | None:
    """Line number (1-based) where the key path ``loc`` is written in TOML ``text``, if found."""
    lines = text.splitlines()
    # Walk the file, tracking the current table path with array-of-table indices.
    counters: dict[str, int] = {}
    current: list[str | int] = []
    key_lines: dict[tuple[str | int, ...], int] = {}
    for number, line in enumerate(lines, start=1):
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
