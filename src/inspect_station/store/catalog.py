"""The catalogue of named read queries over the projection schema, local and central alike.

A read of the record (a reject queue, a lot's measurements, a gauge's results) is a
:class:`ReadQuery`: a name and one dialect-neutral SQL text over the projection tables, which
the local store and every central backend share. Sources execute a query by its object, and a
central backend answers only queries registered here, never SQL text from a caller.

SQL conventions: ``?`` placeholders; ``{bound:ALIAS}`` where the rows of table alias ``ALIAS``
must be kept inside the source's snapshot (each station's records up to its head); ``{in}``
where a list of values goes (``(?, ?, ...)``, chunked). :func:`statements` turns a registered
query, its parameters and a snapshot into the plain statements a database runs; it is the only
place those markers are read, for the local store and every central backend alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

IN_CHUNK = 400
"""Values per ``{in}`` list in one statement (well below every database's parameter limit)."""
NOT_PLACEHOLDERS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/""", re.S)
"""Where a ``?`` is not a placeholder: a string, a quoted identifier, a comment."""

CATALOG: dict[str, ReadQuery] = {}
"""Every named read query, by name."""


@dataclass(frozen=True)
class ReadQuery:
    """A named, dialect-neutral read of the projection tables."""

    name: str
    """Unique name, e.g. ``review.reject_queue``."""
    sql: str
    """The query text (see the module docstring for its markers)."""
    aliases: tuple[str, ...] = ()
    """Table aliases whose rows are bounded by the snapshot (``{bound:ALIAS}``)."""

    @property
    def takes_values(self) -> bool:
        """Whether the query has an ``{in}`` list of values."""
        return "{in}" in self.sql


def read_query(name: str, sql: str, aliases: tuple[str, ...] = ()) -> ReadQuery:
    """Register a named read query and return it (a name is registered once)."""
    if name in CATALOG:
        raise ValueError(f"read query {name!r} is registered twice")
    for alias in aliases:
        if f"{{bound:{alias}}}" not in sql:
            raise ValueError(f"read query {name!r} names alias {alias!r} but never bounds it")
    query = ReadQuery(name, sql, tuple(aliases))
    CATALOG[name] = query
    return query


def registered(query: ReadQuery) -> bool:
    """Whether ``query`` is the one registered under its name (not a look-alike)."""
    return CATALOG.get(query.name) is query


def statements(
    query: ReadQuery,
    params: Sequence[Any],
    heads: Mapping[str, int],
    *,
    values: Sequence[Any] | None = None,
    single_chain: bool = False,
) -> list[tuple[str, list[Any]]]:
    """The statements (SQL with ``?`` and their parameters) that answer ``query`` over a snapshot.

    ``heads`` maps each station of the snapshot to the seq of its last record in it; a row of a
    bounded alias is kept only if its station is there and its seq is not beyond. With
    ``single_chain`` every row in the database is of the snapshot's one station (a station's
    own record), so only the seq is compared. ``values`` fill the ``{in}`` list, once each,
    ``IN_CHUNK`` to a statement. ValueError for a query that is not the registered one, a list
    of values missing or not wanted, or more parameters than placeholders.
    """
    if not registered(query):
        raise ValueError(f"{query.name!r} is not a registered read query")
    if not query.takes_values:
        if values is not None:
            raise ValueError(f"read query {query.name!r} takes no list of values")
        return [_bind(query, query.sql, list(params), heads, single_chain)]
    if values is None:
        raise ValueError(f"read query {query.name!r} needs its list of values")
    before, _, after = query.sql.partition("{in}")
    before_count = placeholders(before)
    unique = list(dict.fromkeys(values))
    out = []
    for start in range(0, len(unique), IN_CHUNK):
        chunk = unique[start : start + IN_CHUNK]
        marks = "(" + ", ".join("?" for _ in chunk) + ")"
        args = [*params[:before_count], *chunk, *params[before_count:]]
        out.append(_bind(query, before + marks + after, args, heads, single_chain))
    return out


def placeholders(sql: str) -> int:
    """How many ``?`` placeholders ``sql`` has (not counting those in strings or comments)."""
    return NOT_PLACEHOLDERS.sub("", sql).count("?")


def _bind(
    query: ReadQuery,
    sql: str,
    params: list[Any],
    heads: Mapping[str, int],
    single_chain: bool,
) -> tuple[str, list[Any]]:
    """``sql`` with its ``{bound:ALIAS}`` markers replaced, and every parameter in place.

    Placeholders are filled in textual order, so a marker's own parameters go where it sits.
    """
    text: list[str] = []
    args: list[Any] = []
    rest = sql
    while True:
        start = rest.find("{bound:")
        piece = rest if start < 0 else rest[:start]
        count = placeholders(piece)
        if count > len(params):
            raise ValueError(f"read query {query.name!r} has more placeholders than parameters")
        args += params[:count]
        params = params[count:]
        text.append(piece)
        if start < 0:
            break
        end = rest.index("}", start)
        alias = rest[start + len("{bound:") : end]
        if alias not in query.aliases:
            raise ValueError(f"snapshot marker for undeclared alias {alias!r}")
        condition, bound_args = _bound(alias, heads, single_chain)
        text.append(condition)
        args += bound_args
        rest = rest[end + 1 :]
    if params:
        raise ValueError("more parameters than placeholders")
    return "".join(text), args


def _bound(alias: str, heads: Mapping[str, int], single_chain: bool) -> tuple[str, list[Any]]:
    """SQL condition (and its parameters) that keeps rows of ``alias`` inside the snapshot."""
    if not heads:
        return "1 = 0", []
    if single_chain:
        (seq,) = heads.values()
        return f"{alias}.seq <= ?", [seq]
    if len(heads) == 1:
        ((station, seq),) = heads.items()
        return f"({alias}.station = ? AND {alias}.seq <= ?)", [station, seq]
    cases = " ".join("WHEN ? THEN ?" for _ in heads)
    params: list[Any] = []
    for station, seq in sorted(heads.items()):
        params += [station, seq]
    return f"{alias}.seq <= CASE {alias}.station {cases} ELSE 0 END", params
