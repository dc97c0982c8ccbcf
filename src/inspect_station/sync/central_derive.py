# Over 500 lines: one declaration per journal kind and its SQLite and PostgreSQL derivations.
"""The central stores' projections, derived by the database from verified journal records.

A station's role adds journal records only; every projection row in a central store is made by
the database from the record it comes from, in the same statement that inserts the record
(PostgreSQL: one set-based statement per ingested batch in a statement-level trigger; SQLite: a
trigger per record kind), or rebuilt from the whole journal by ``central init``. Nobody, the
stations included, can insert a projection row of their own.

The SQL here is generated from the same declarations the station's Python projector is compiled
from (``store.projections.SCHEMA``, ``KINDS``, ``READ_AS``, ``SHAPES``), so what the database
derives is, column by column, what ``projections.project`` makes -- which ``verify`` re-checks:

- a text column is the body string (``->>``), an integer column the body integer, a ``json_of``
  column the value's own JSON text cut from the stored body, which is RFC 8785 canonical text, so
  the cut is canonical too (PostgreSQL's ``json`` type and SQLite's ``->`` keep it as written);
- a flag is 1 for true (or for an absent key whose default is true), else 0;
- a record whose body does not have its kind's shape (``projections.SHAPES``: a missing key, a
  number where text belongs, ...) is refused as malformed with the key named, so no row is ever
  derived from a value ``project`` would read differently.

This module only builds SQL text; the backends (``central_pg.py``, ``central_sqlite.py``) run it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from inspect_station.store.projections import (
    INTEGER,
    KINDS,
    MAX_SAFE_INTEGER,
    READ_AS,
    SCHEMA,
    SHAPES,
    Column,
    ShapeCheck,
    Source,
    canonical_json,
)
from inspect_station.sync.central_schema import (
    CENTRAL_TABLES,
    QUERY_INDEXES,
    SPARSE_INDEXES,
    VIEWS,
)

_RECORD_FIELDS = ("station", "seq", "uuid", "kind", "ts")


def kinds_of(table: str) -> tuple[str, ...]:
    """The record kinds whose records fill ``table``."""
    return tuple(kind for kind, tables in KINDS.items() if table in tables)


def _literal(value: Any) -> str:
    """An SQL literal (both dialects) for a default or constant: NULL, an integer or text."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise ValueError(f"no SQL literal for {value!r}")


def _json_default(source: Source) -> str:
    """The literal a ``json_of`` column takes when its optional key is absent."""
    if source.place == "optional" and source.default is not None:
        return _literal(canonical_json(source.default).decode("utf-8"))
    return "NULL"


def _path(column: Column) -> tuple[str, ...]:
    return tuple((column.source.path or column.name).split("."))


def _check_key(key: str) -> str:
    if not key.isidentifier():
        raise ValueError(f"{key!r} cannot be a body key in derived SQL")
    return key


# -- PostgreSQL -------------------------------------------------------------------------------
#
# Each body is parsed as ``json`` (which keeps text as written and parses about three times faster
# than ``jsonb``); for each record kind ``json_to_record`` then takes, in one pass, every
# top-level key that kind's tables and checks read, as a ``json`` column holding the value's own
# text (SQL NULL when the key is absent or null; the shape rules make the two mean the same,
# except for a defaulted key, where the rare NULL is looked at again), and a second
# ``json_to_record`` per object-valued key takes the nested keys read (``gauge.asset``), so no
# value is parsed twice. Alias ``k`` is such a row: the record's columns, ``body``, one
# ``j_KEY`` column per key and one ``j_KEY.SUB`` column per nested key.
#
# A ``json`` column's text is the value exactly as written (no leading space: the lexer starts it
# at its first character), so its JSON type is its first character: ``"`` a string, ``{`` an
# object, ``[`` an array, ``t``/``f`` a boolean, ``-`` or a digit a number (null is SQL NULL). A
# comparison of that character costs far less than ``json_typeof``, which runs the lexer again.


def _q(name: str) -> str:
    """A quoted SQL identifier (body keys may be SQL words, like ``limit``)."""
    return '"' + _check_key(name) + '"'


def _j(key: str) -> str:
    """The column of row ``k`` holding body key ``key`` (prefixed: a body may have a ``kind``)."""
    return "k." + _q("j_" + key)


def _jn(path: tuple[str, ...]) -> str:
    """The column name (unqualified) holding the value at ``path`` (one or two keys)."""
    return '"j_' + ".".join(_check_key(k) for k in path) + '"'


def _kind_keys(kind: str) -> list[str]:
    """Top-level body keys that a kind's rows or shape checks read, in a stable order."""
    return list(dict.fromkeys(path[0] for path in _kind_paths(kind)))


def _kind_paths(kind: str) -> list[tuple[str, ...]]:
    """Body paths (one or two keys) that a kind's rows or shape checks read, in a stable order."""
    paths = [check.path for check in SHAPES.get(kind, ())]
    for table in KINDS.get(kind, ()):
        overrides = READ_AS.get((kind, table), {})
        for column in SCHEMA[table]:
            if column.source.place in ("body", "optional"):
                path = _path(column)
                if path[0] not in overrides:
                    paths.append(path)
    for path in paths:
        if not 1 <= len(path) <= 2:
            raise ValueError(f"{'.'.join(path)}: derived SQL reads at most two keys deep")
    return list(dict.fromkeys(paths))


def _pg_element(path: tuple[str, ...]) -> str:
    """The json value at ``path`` in row ``k``: SQL NULL when absent or null."""
    return "k." + _jn(path)


def _pg_null(path: tuple[str, ...]) -> str:
    """Whether the value at ``path`` in row ``k`` is absent or null."""
    return f"{_pg_element(path)} IS NULL"


def _pg_present_null(path: tuple[str, ...]) -> str:
    """Whether the key at ``path`` is there with a null (the body parsed again: only ever asked
    when the value is absent or null, which for a defaulted key is rare)."""
    if len(path) == 1:
        return f"coalesce(k.body::jsonb ? '{_check_key(path[0])}', false)"
    return f"json_typeof({_j(path[0])} -> '{_check_key(path[1])}') = 'null'"


_FIRST_CHARS = {
    "object": "'{'",
    "string": "'\"'",
    "boolean": "'t', 'f'",
    "number": "'-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'",
}


def _pg_is(element: str, json_type: str) -> str:
    """Whether the present (not null) json ``element`` is of ``json_type``, by its first char."""
    return f"left({element}::text, 1) IN ({_FIRST_CHARS[json_type]})"


def _pg_value(column: Column, overrides: dict[str, Source]) -> str:
    """The PostgreSQL expression of one column of a row derived from record row ``k``."""
    source = column.source
    if source.place == "record":
        field = source.path or column.name
        if field not in _RECORD_FIELDS:
            raise ValueError(f"{column.name}: unknown record field {field!r}")
        return f"k.{field}"
    if source.place == "constant":
        return _literal(source.default)
    path = _path(column)
    if path[0] in overrides:
        return _pg_value(Column(column.name, column.sqltype, overrides[path[0]]), {})
    element = _pg_element(path)
    default = source.default if source.place == "optional" else None
    if source.convert == "json":
        value = f"{element}::text"  # the value's canonical text, cut from the canonical body
        absent = _json_default(source)
    elif source.convert == "flag":
        value = f"CASE WHEN {element}::text = 'true' THEN 1 ELSE 0 END"
        absent = "1" if default else "0"
    elif column.sqltype == INTEGER:
        # Safe even on a malformed value (the shape check refuses the record anyway).
        value = f"CASE WHEN {element}::text ~ '^-?[0-9]{{1,16}}$' THEN {element}::text::bigint END"
    else:
        value = f"({element} #>> '{{}}')"
        absent = _literal(default)
    if default is None:
        return f"CASE WHEN {_pg_null(path)} THEN NULL ELSE {value} END"
    return f"CASE WHEN {_pg_null(path)} THEN {absent} ELSE {value} END"


_PG_TYPES = {
    "object": "object",
    "object_or_null": "object",
    "text": "string",
    "flag": "boolean",
}


def _pg_cases(check: ShapeCheck) -> str:
    """``WHEN condition THEN problem`` clauses of ``check`` for row ``k``."""
    cases = []
    if check.required:
        cases.append(f"WHEN {_pg_null(check.path)} THEN {_literal(check.problem(missing=True))}")
    elif check.defaulted:
        cases.append(
            f"WHEN {_pg_null(check.path)} AND {_pg_present_null(check.path)} "
            f"THEN {_literal(check.null_problem())}"
        )
    if check.rule == "any":
        return " ".join(cases)
    element = _pg_element(check.path)
    if check.rule == "integer":
        # The text of a number is its JSON text (a string would start with a quote).
        good = (
            f"CASE WHEN {element}::text ~ '^-?[0-9]{{1,16}}$' "
            f"THEN abs({element}::text::numeric) <= {MAX_SAFE_INTEGER} ELSE false END"
        )
    else:
        good = _pg_is(element, _PG_TYPES[check.rule])
    cases.append(f"WHEN NOT {_pg_null(check.path)} AND NOT {good} THEN {_literal(check.problem())}")
    return " ".join(cases)


def _pg_problem(kind: str) -> str:
    """A CASE giving a record row ``k`` of ``kind`` its first shape problem (NULL if none)."""
    cases = " ".join(_pg_cases(check) for check in SHAPES.get(kind, ()))
    return f"CASE {cases} END" if cases else "NULL::text"


def _pg_kind_rows(kind: str, source: str) -> str:
    """The records of ``kind`` in ``source`` with the body values they need as json columns and
    ``jtype``, the body's JSON type (each body parsed once, only by its own kind's rows)."""
    paths = _kind_paths(kind)
    keys = _kind_keys(kind)
    columns = ", ".join(f"{_q(key)} json" for key in keys) or '"-" json'
    selected = "".join(f", x.{_q(key)} AS {_jn((key,))}" for key in keys)
    nested = ""
    for index, key in enumerate(k for k in keys if any(len(p) == 2 and p[0] == k for p in paths)):
        subs = [p[1] for p in paths if len(p) == 2 and p[0] == key]
        alias = f"y{index}"
        nested += (
            f", LATERAL json_to_record(CASE WHEN {_pg_is('x.' + _q(key), 'object')} "
            f"THEN x.{_q(key)} ELSE '{{}}' END) AS {alias}("
            + ", ".join(f"{_q(sub)} json" for sub in subs)
            + ")"
        )
        selected += "".join(f", {alias}.{_q(sub)} AS {_jn((key, sub))}" for sub in subs)
    # The body itself is kept only for a kind that may need to look again (a defaulted key).
    body = ", p.body" if any(c.defaulted for c in SHAPES.get(kind, ())) else ""
    return (
        f"SELECT p.station, p.seq, p.uuid, p.kind, p.ts, json_typeof(p.j) AS jtype{body}"
        f"{selected} FROM (SELECT n.station, n.seq, n.uuid, n.kind, n.ts, n.body, "
        f"n.body::json AS j FROM {source} n WHERE n.kind = {_literal(kind)} OFFSET 0) p, "
        "LATERAL json_to_record(CASE WHEN json_typeof(p.j) = 'object' THEN p.j ELSE '{}' END) "
        f"AS x({columns}){nested}"
    )


def _pg_insert(kind: str, table: str, schema: str, rows: str) -> str:
    """INSERT ... SELECT of ``table``'s rows from the record rows ``rows`` of ``kind``."""
    overrides = READ_AS.get((kind, table), {})
    by_name = {c.name: c for c in SCHEMA[table]}
    names = ", ".join(c for c, _ in CENTRAL_TABLES[table])
    values = ", ".join(
        "k.station" if name == "station" else _pg_value(by_name[name], overrides)
        for name, _ in CENTRAL_TABLES[table]
    )
    return f"INSERT INTO {schema}.{table} ({names}) SELECT {values} FROM {rows} k"


def _pg_parts(schema: str, source: str) -> tuple[str, list[tuple[str, str, str, list[str]]]]:
    """The pieces of a derivation over ``source``: the problem query of the records of kinds
    that fill no table, and per kind that does (kind, its rows' CTE, its problem query, its
    inserts' CTEs)."""
    kinds = ", ".join(_literal(kind) for kind in KINDS)
    # Records of a kind that fills no table: only their bodies' being objects is checked.
    other = (
        "SELECT n.station, n.seq, n.kind, 'body is not an object' AS problem "
        f"FROM {source} n WHERE n.kind NOT IN ({kinds}) "
        "AND json_typeof(n.body::json) IS DISTINCT FROM 'object'"
    )
    parts = []
    for index, (kind, tables) in enumerate(KINDS.items()):
        rows = f"k{index}"
        cte = f"{rows} AS MATERIALIZED ({_pg_kind_rows(kind, source)})"
        problem = (
            "SELECT k.station, k.seq, k.kind, CASE WHEN k.jtype IS DISTINCT FROM 'object' "
            f"THEN 'body is not an object' ELSE {_pg_problem(kind)} END FROM {rows} k"
        )
        inserts = [
            f"i{index}_{number} AS ({_pg_insert(kind, table, schema, rows)})"
            for number, table in enumerate(tables)
        ]
        parts.append((kind, cte, problem, inserts))
    return other, parts


_FIRST_PROBLEM = (
    " SELECT z.station, z.seq, z.kind, z.problem FROM ({}) z WHERE z.problem IS NOT NULL "
    "ORDER BY z.station, z.seq LIMIT 1"
)


def pg_derive(schema: str, source: str) -> str:
    """One statement deriving every projection row of the records in ``source``; its result
    is the first malformed record there (station, seq, kind, problem), if any.

    ``source`` is a relation with the journal's columns: the trigger's transition table, or the
    whole journal for a rebuild. Each body is parsed once, by its kind's rows (a body that is
    not JSON fails the statement); the derivation itself never fails on a malformed body, and a
    caller that finds a problem row refuses the whole statement.
    """
    other, parts = _pg_parts(schema, source)
    ctes = [cte for _, cte, _, _ in parts] + [i for *_, inserts in parts for i in inserts]
    problems = [other, *(problem for _, _, problem, _ in parts)]
    return f"WITH {', '.join(ctes)}" + _FIRST_PROBLEM.format(" UNION ALL ".join(problems))


def _dollar(text: str) -> str:
    """``text`` as a dollar-quoted PL/pgSQL string literal."""
    if "$q$" in text:
        raise ValueError("derived SQL cannot hold $q$")
    return f"$q${text}$q$"


def pg_project_function(schema: str, sqlstate: str) -> str:
    """The trigger function deriving a batch's projection rows (statement level, SECURITY DEFINER).

    It runs after ``journal_inserted`` has checked the chain (triggers fire by name), derives
    every row in one statement and refuses the batch, naming the key, if a record is malformed.
    The statement holds the parts of only the kinds the batch has (a batch of measurements is
    not scanned for 18 other kinds, and the statement, planned at every batch, stays small).
    """
    other, parts = _pg_parts(schema, "new_rows")
    pieces = "".join(
        f"""
    IF {_literal(kind)} = ANY(present) THEN
        ctes := ctes || {_dollar(cte)}::text;
        problems := problems || {_dollar(problem)}::text;
        inserts := inserts || ARRAY[{", ".join(_dollar(i) for i in inserts)}]::text[];
    END IF;"""
        for kind, cte, problem, inserts in parts
    )
    return f"""
CREATE OR REPLACE FUNCTION {schema}.journal_project() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    bad record;
    present text[];
    ctes text[] := '{{}}';
    problems text[] := ARRAY[{_dollar(other)}::text];
    inserts text[] := '{{}}';
    statement text;
BEGIN
    SELECT array_agg(DISTINCT n.kind) INTO present FROM new_rows n;{pieces}
    statement := replace({_dollar(_FIRST_PROBLEM)}, '{{}}',
                         array_to_string(problems, ' UNION ALL '));
    IF cardinality(ctes) > 0 THEN
        statement := 'WITH ' || array_to_string(ctes || inserts, ', ') || statement;
    END IF;
    EXECUTE statement INTO bad;
    IF bad.seq IS NOT NULL THEN
        RAISE EXCEPTION 'record seq % of station % (%) is malformed: %',
            bad.seq, bad.station, bad.kind, bad.problem
            USING ERRCODE = '{sqlstate}', DETAIL = 'malformed';
    END IF;
    RETURN NULL;
END $fn$;
"""


def pg_rebuild(schema: str) -> str:
    """The statement deriving every projection row from the whole journal (``central init``)."""
    return pg_derive(schema, f"{schema}.journal")


# -- SQLite -----------------------------------------------------------------------------------
#
# In a trigger the record is ``NEW``; in a rebuild it is ``j``, a row of the journal.


def _sq_path(path: tuple[str, ...]) -> str:
    return "'$." + ".".join(_check_key(k) for k in path) + "'"


def _sq_value(column: Column, overrides: dict[str, Source], row: str) -> str:
    """The SQLite expression of one column of a row derived from record ``row``."""
    source = column.source
    if source.place == "record":
        field = source.path or column.name
        if field not in _RECORD_FIELDS:
            raise ValueError(f"{column.name}: unknown record field {field!r}")
        return f"{row}.{field}"
    if source.place == "constant":
        return _literal(source.default)
    path = _path(column)
    if path[0] in overrides:
        return _sq_value(Column(column.name, column.sqltype, overrides[path[0]]), {}, row)
    where = _sq_path(path)
    kind = f"json_type({row}.body, {where})"
    absent = source.default if source.place == "optional" else None
    if source.convert == "json":
        return (
            f"CASE WHEN {kind} IS NULL THEN {_json_default(source)} "
            f"WHEN {kind} = 'null' THEN NULL ELSE {row}.body -> {where} END"
        )
    if source.convert == "flag":
        return f"CASE {kind} WHEN 'true' THEN 1 WHEN 'false' THEN 0 WHEN 'null' THEN 0 ELSE {1 if absent else 0} END"  # noqa: E501
    value = f"json_extract({row}.body, {where})"
    if absent is not None:
        return f"CASE WHEN {kind} IS NULL THEN {_literal(absent)} ELSE {value} END"
    return value


def _sq_cases(check: ShapeCheck, row: str, prefix: str) -> str:
    """``WHEN condition THEN RAISE(...)`` clauses of ``check`` for record ``row``."""
    kind = f"json_type({row}.body, {_sq_path(check.path)})"
    cases = []
    if check.required:
        message = _literal(prefix + check.problem(missing=True))
        cases.append(f"WHEN coalesce({kind}, 'null') = 'null' THEN RAISE(ABORT, {message})")
    elif check.defaulted:
        message = _literal(prefix + check.null_problem())
        cases.append(f"WHEN {kind} = 'null' THEN RAISE(ABORT, {message})")
    bad = _sq_bad(check, row)
    if bad:
        cases.append(f"WHEN {bad} THEN RAISE(ABORT, {_literal(prefix + check.problem())})")
    return " ".join(cases)


def _sq_bad(check: ShapeCheck, row: str) -> str | None:
    """SQLite condition true when the present value in record ``row`` breaks ``check``'s rule."""
    where = _sq_path(check.path)
    kind = f"json_type({row}.body, {where})"
    if check.rule == "object":
        return f"{kind} IS NOT 'object'"
    if check.rule == "any":
        return None
    allowed = {
        "object_or_null": "'object', 'null'",
        "text": "'text', 'null'",
        "integer": "'integer', 'null'",
        "flag": "'true', 'false', 'null'",
    }[check.rule]
    bad = f"coalesce({kind} NOT IN ({allowed}), 0)"
    if check.rule == "integer":
        bad = (
            f"{bad} OR ({kind} = 'integer' AND "
            f"abs(json_extract({row}.body, {where})) > {MAX_SAFE_INTEGER})"
        )
    return bad


def sqlite_triggers() -> Iterator[str]:
    """CREATE TRIGGER statements that check each new journal record's shape and derive its rows.

    One trigger per record kind that fills a table: it refuses a malformed record (the message
    names the key) and inserts the kind's rows; the checks are the first value of the first
    insert, so the body is parsed once for all of them. Another trigger refuses a body that is
    not a JSON object, for the kinds that fill no table.
    """
    kinds = ", ".join(_literal(kind) for kind in KINDS)
    yield (
        "CREATE TRIGGER journal_body_object BEFORE INSERT ON journal "
        f"WHEN NEW.kind NOT IN ({kinds}) AND json_type(NEW.body) IS NOT 'object' "
        "BEGIN SELECT RAISE(ABORT, 'malformed record: body is not a JSON object'); END"
    )
    for kind, tables in KINDS.items():
        prefix = f"malformed {kind} record: "
        cases = " ".join(
            [
                "WHEN json_type(NEW.body) IS NOT 'object' "
                f"THEN RAISE(ABORT, {_literal(prefix + 'body is not a JSON object')})",
                *(_sq_cases(check, "NEW", prefix) for check in SHAPES[kind]),
            ]
        )
        statements = [
            _sq_insert(kind, table, "NEW", check=cases if index == 0 else None) + ";"
            for index, table in enumerate(tables)
        ]
        yield (
            f"CREATE TRIGGER journal_project_{_check_key(kind)} AFTER INSERT ON journal "
            f"WHEN NEW.kind = {_literal(kind)} BEGIN {' '.join(statements)} END"
        )


def _sq_insert(kind: str, table: str, row: str, check: str | None = None) -> str:
    """The INSERT of ``table``'s row from record ``row`` (``NEW`` in a trigger, else a
    journal alias), with ``check`` -- ``WHEN ... THEN RAISE(...)`` clauses -- guarding it."""
    overrides = READ_AS.get((kind, table), {})
    by_name = {c.name: c for c in SCHEMA[table]}
    names = [c for c, _ in CENTRAL_TABLES[table]]
    values = [
        f"{row}.station" if name == "station" else _sq_value(by_name[name], overrides, row)
        for name in names
    ]
    if check:
        values[0] = f"CASE {check} ELSE {values[0]} END"
    if row == "NEW":
        return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(values)})"
    return (
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} "
        f"FROM journal {row} WHERE {row}.kind = {_literal(kind)} ORDER BY {row}.station, {row}.seq"
    )


def sqlite_rebuild() -> Iterator[str]:
    """INSERT ... SELECT statements deriving every projection row from the whole journal."""
    for kind, tables in KINDS.items():
        for table in tables:
            yield _sq_insert(kind, table, "j")


def sqlite_guard(table: str) -> str:
    """A trigger refusing a row of ``table`` that no journal record of a filling kind stands behind.

    With the unique (station, seq) key of every projection table (the derived row is made in the
    same statement as its record), no other row can take a record's place either.
    """
    kinds = ", ".join(_literal(k) for k in kinds_of(table))
    return (
        f"CREATE TRIGGER {table}_derived_only BEFORE INSERT ON {table} "
        f"WHEN NOT EXISTS (SELECT 1 FROM journal j WHERE j.station = NEW.station "
        f"AND j.seq = NEW.seq AND j.uuid = NEW.uuid AND j.kind IN ({kinds})) "
        f"BEGIN SELECT RAISE(ABORT, '{table} rows are derived from journal records only'); END"
    )


# -- both --------------------------------------------------------------------------------------


def fingerprint() -> str:
    """SHA-256 of everything the derivation depends on: a change means the rows are rebuilt."""
    text = "\n".join(
        [
            repr(sorted((t, tuple(c)) for t, c in CENTRAL_TABLES.items())),
            repr(sorted(QUERY_INDEXES.items())),
            repr(sorted(SPARSE_INDEXES)),
            repr(sorted(VIEWS.items())),
            pg_project_function("s", "X"),
            *sqlite_triggers(),
            *(sqlite_guard(t) for t in CENTRAL_TABLES),
        ]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
