"""Helpers for the sync tests (a module name of its own, so imports never hit another conftest)."""

from __future__ import annotations


class RawCentral:
    """Direct SQL on a central store's database, behind the program's back (for tampering)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = url.startswith("postgres")
        self.prefix = "inspect_station." if self.postgres else ""

    def execute(self, statement: str, params: tuple = ()) -> list[tuple]:
        """Run one statement ({s} is the schema prefix); its rows."""
        statement = statement.format(s=self.prefix)
        if self.postgres:
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as conn:
                cur = conn.execute(statement, params or None)
                return cur.fetchall() if cur.description else []
        import sqlite3

        conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            return conn.execute(statement.replace("%s", "?"), params).fetchall()
        finally:
            conn.close()

    def tamper(self, table: str, statement: str) -> None:
        """Disable the table's append-only guard, run ``statement``, and restore the guard."""
        if self.postgres:
            self.execute(f"ALTER TABLE {{s}}{table} DISABLE TRIGGER {table}_no_change")
            try:
                self.execute(statement)
            finally:
                self.execute(f"ALTER TABLE {{s}}{table} ENABLE TRIGGER {table}_no_change")
        else:
            self.execute(f"DROP TRIGGER {table}_no_update")
            self.execute(f"DROP TRIGGER {table}_no_delete")
            self.execute(statement)


def extend_projections(monkeypatch, table: str, columns: list, kinds: tuple[str, ...]) -> None:
    """Declare a new projection table (or more columns of one) filled by ``kinds``, as a newer
    version of the program would: every table derived from the declarations follows."""
    from inspect_station.store import projections as pj
    from inspect_station.sync.central_schema import CENTRAL_TABLES

    monkeypatch.setitem(pj.SCHEMA, table, columns)
    monkeypatch.setitem(pj.TABLES, table, [(c.name, c.sqltype) for c in columns])
    monkeypatch.setitem(
        CENTRAL_TABLES,
        table,
        [("station", "TEXT"), *[(c.name, c.sqltype) for c in columns if c.name != "station"]],
    )
    monkeypatch.setitem(pj.TABLE_PROJECTORS, table, pj.compile_table(table, columns))
    for kind in kinds:
        tables = tuple(dict.fromkeys((*pj.KINDS.get(kind, ()), table)))
        monkeypatch.setitem(pj.KINDS, kind, tables)
        monkeypatch.setitem(pj.PROJECTORS, kind, pj._projector(kind, tables))
        monkeypatch.setitem(pj.SHAPES, kind, pj._shape_checks(kind))
