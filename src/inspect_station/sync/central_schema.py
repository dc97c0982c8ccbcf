"""The central store's schema, shared by its backends: projection tables derived from the
station's (``projections.TABLES``), the indexes for the questions asked of them, and the views.

Projection tables follow the station's: a table or column a newer station version adds is
created in the central store by ``central init`` (PostgreSQL) or on opening (SQLite); nothing is
ever dropped. Each central table has ``station`` first and ``seq`` second, the key by which it
is checked against the journal.
"""

from __future__ import annotations

from inspect_station.store.projections import TABLES

CENTRAL_TABLES: dict[str, list[tuple[str, str]]] = {
    table: [("station", "TEXT"), *[(c, t) for c, t in columns if c != "station"]]
    for table, columns in TABLES.items()
}
"""The station's projection tables with ``station`` first (and ``seq`` second) as the key."""

QUERY_INDEXES: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "measurements": [
        ("measurements_lot", ("lot", "serial")),
        ("measurements_supersedes", ("supersedes",)),
    ],
    "inspections": [("inspections_lot", ("lot", "serial"))],
    "results": [
        ("results_inspection", ("inspection",)),
        ("results_supersedes", ("supersedes",)),
        ("results_lot", ("lot", "serial")),
    ],
    "lots": [("lots_lot", ("lot",))],
    "dispositions": [("dispositions_reject", ("reject",))],
    "signatures": [("signatures_disposition", ("disposition",))],
    "resolutions": [("resolutions_reject", ("reject",))],
    "spc_limits": [("spc_limits_char", ("part_number", "characteristic"))],
    "spc_violations": [
        ("spc_violations_char", ("part_number", "characteristic")),
        ("spc_violations_alarm", ("alarm",)),
    ],
    "spc_holds": [("spc_holds_part", ("part_number",))],
    "spc_answers": [("spc_answers_alarm", ("alarm",))],
    "first_articles": [("first_articles_lot", ("lot", "serial"))],
    "calibrations": [("calibrations_asset", ("asset",))],
}
"""Indexes for the questions asked of the central store (a lot's history, open rejects)."""

SPARSE_INDEXES: frozenset[str] = frozenset({"measurements_supersedes", "results_supersedes"})
"""Indexes of a column that is NULL in nearly every row (only a correction supersedes): where the
database can, they hold only the rows with a value (the reads ask ``supersedes = uuid``, which a
NULL never matches), so the common record does not pay for an index entry it never needs."""

VIEWS: dict[str, tuple[str, str]] = {
    "current_measurements": (
        "measurements",
        "SELECT m.* FROM {s}measurements m WHERE NOT EXISTS "
        "(SELECT 1 FROM {s}measurements c WHERE c.supersedes = m.uuid)",
    ),
    "current_results": (
        "results",
        "SELECT r.* FROM {s}results r WHERE NOT EXISTS "
        "(SELECT 1 FROM {s}results c WHERE c.supersedes = r.uuid)",
    ),
}
"""Views of the current state (a correction supersedes what it corrects): name -> (table, SQL)."""


def missing_columns(existing: dict[str, set[str]]) -> dict[str, list[tuple[str, str]]]:
    """Per table, the (column, type) the central store lacks; all columns for a missing table."""
    out: dict[str, list[tuple[str, str]]] = {}
    for table, columns in CENTRAL_TABLES.items():
        have = existing.get(table)
        lacking = columns if have is None else [(c, t) for c, t in columns if c not in have]
        if lacking:
            out[table] = lacking
    return out
