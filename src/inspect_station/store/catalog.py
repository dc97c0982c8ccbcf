"""The catalogue of named read queries over the projection schema, local and central alike.

A read of the record (a reject queue, a lot's measurements, a gauge's results) is a
:class:`ReadQuery`: a name and one dialect-neutral SQL text over the projection tables, which
the local store and every central backend share. Sources execute a query by its object, and a
central backend answers only queries registered here, never SQL text from a caller.

SQL conventions: ``?`` placeholders; ``{bound:ALIAS}`` where the rows of table alias ``ALIAS``
must be kept inside the source's snapshot (each station's records up to its head); ``{in}``
where a list of values goes (``(?, ?, ...)``, chunked by the source).
"""

from __future__ import annotations

from dataclasses import dataclass

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
