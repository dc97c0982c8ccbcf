# Over 500 lines: the projection schema, declared once as data, with its derivation.
"""Query tables derived from journal records (pure: record in, rows out).

The journal is the source of truth. Each projection row carries the ``seq`` of the record it came
from, is written in the same transaction as that record, and can be re-derived by ``verify`` to
prove it was not edited. Projection tables are append-only too; "current" state (a measurement
not superseded by a correction, a reject not yet disposed) is computed by views.

The schema is declared once, in ``SCHEMA``: each table's columns in order, with their SQL type
and where the value comes from in a record (a record field, a body key, a key of a nested body
object, its canonical JSON, a flag, a constant). ``KINDS`` says which tables a record kind fills.
``TABLES`` (names and types only) is derived from it for the migrations and the central schemas.
"""

from __future__ import annotations

import itertools
import linecache
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from inspect_station.canonical import canonical_json
from inspect_station.store.journal import fast_text

Row = dict[str, Any]
Projector = Callable[[Mapping[str, Any]], list[tuple[str, Row]]]

TEXT = "TEXT"
INTEGER = "INTEGER"


@dataclass(frozen=True)
class Source:
    """Where a column's value comes from in a record; made by ``record``, ``body`` and friends."""

    place: str
    """``record`` (a field of the record), ``body`` (a key every record of the kind has),
    ``optional`` (a key that may be absent) or ``constant``."""
    path: str | None = None
    """The field or key; ``a.b`` is key ``b`` of the object at body key ``a``. None: the
    column's own name."""
    default: Any = None
    """The value of an absent optional key (read only: never mutate it), or the constant."""
    convert: str | None = None
    """``json``: canonical JSON text of the value (None stays NULL); ``flag``: 1 if true else 0."""


def record(field: str | None = None) -> Source:
    """A field of the record itself (seq, uuid, kind, ts, station); default: the column's name."""
    return Source("record", field)


def body(path: str | None = None) -> Source:
    """A body key the record must have (KeyError otherwise); ``a.b`` for a nested object's key."""
    return Source("body", path)


def optional(path: str | None = None, default: Any = None) -> Source:
    """A body key that may be absent (``default`` then).

    With ``a.b``, an absent or empty object ``a`` reads as ``{}``, unless another column of the
    table reads it with ``body`` (then the object must be there).
    """
    return Source("optional", path, default)


def constant(value: Any) -> Source:
    """The same value in every row."""
    return Source("constant", default=value)


def json_of(source: Source) -> Source:
    """The canonical JSON text (RFC 8785) of what ``source`` reads; None stays NULL."""
    return replace(source, convert="json")


def flag(source: Source) -> Source:
    """1 if what ``source`` reads is true, else 0 (SQLite has no boolean)."""
    return replace(source, convert="flag")


RECORD = record()
"""The record field named like the column."""
BODY = body()
"""The body key named like the column, which the record must have."""
OPTIONAL = optional()
"""The body key named like the column, None if absent."""


class Column(NamedTuple):
    """One column of a projection table."""

    name: str
    """Column name."""
    sqltype: str
    """SQL type: TEXT or INTEGER."""
    source: Source
    """Where its value comes from."""


def text(name: str, source: Source) -> Column:
    """A TEXT column."""
    return Column(name, TEXT, source)


def integer(name: str, source: Source) -> Column:
    """An INTEGER column."""
    return Column(name, INTEGER, source)


# Every table starts with the record's seq and uuid; most carry a part's or a spec's identity.
_KEY = [integer("seq", RECORD), text("uuid", RECORD)]
_SPEC = [text("part_number", BODY), text("revision", BODY), text("spec_hash", BODY)]
_PART = [text("lot", BODY), text("serial", BODY), *_SPEC]
_STATION = text("station", RECORD)
_SIGNER = [
    text("user_id", body("signature.user_id")),
    text("name", body("signature.name")),
    text("meaning", body("signature.meaning")),
    text("signed_at", body("signature.signed_at")),
]
"""Who signed, what it means and when: columns of the signature a record holds."""

SCHEMA: dict[str, list[Column]] = {
    "specs": [
        *_KEY,
        text("spec_hash", BODY),
        text("part_number", BODY),
        text("revision", BODY),
        text("description", optional(default="")),
        text("status", OPTIONAL),
        text("content", json_of(BODY)),
    ],
    "lots": [
        *_KEY,
        text("lot", BODY),
        *_SPEC,
        text("work_order", OPTIONAL),
        integer("lot_size", OPTIONAL),
        text("sampling", json_of(OPTIONAL)),
        text("inspector", OPTIONAL),
        _STATION,
        text("opened_at", record("ts")),
    ],
    "inspections": [
        *_KEY,
        *_PART,
        text("inspector", BODY),
        _STATION,
        text("opened_at", record("ts")),
    ],
    "measurements": [
        *_KEY,
        text("inspection", BODY),
        *_PART,
        text("characteristic", BODY),
        text("characteristic_name", OPTIONAL),
        text("kind", OPTIONAL),
        text("value", BODY),
        text("unit", OPTIONAL),
        text("value_in_spec_unit", OPTIONAL),
        text("spec_unit", optional("limits.unit")),
        text("nominal", optional("limits.nominal")),
        text("lower", optional("limits.lower")),
        text("upper", optional("limits.upper")),
        text("verdict", BODY),
        text("zone", OPTIONAL),
        text("deviation", OPTIONAL),
        text("limit_broken", optional("limit")),
        text("exceeds_by", OPTIONAL),
        text("decision_rule", json_of(OPTIONAL)),
        text("source", BODY),
        text("manual_reason", OPTIONAL),
        text("gauge_asset", optional("gauge.asset")),
        text("gauge_serial", optional("gauge.serial_number")),
        text("gauge_certificate", optional("gauge.certificate")),
        text("gauge_calibration_due", optional("gauge.calibration_due")),
        text("raw", OPTIONAL),
        text("inspector", BODY),
        _STATION,
        text("measured_at", record("ts")),
        text("supersedes", OPTIONAL),
        text("reason", OPTIONAL),
    ],
    "results": [
        *_KEY,
        text("inspection", BODY),
        *_PART,
        text("result", BODY),
        text("failed", json_of(optional(default=[]))),
        text("defect_code", OPTIONAL),
        text("note", OPTIONAL),
        text("inspector", BODY),
        _STATION,
        text("closed_at", record("ts")),
        text("supersedes", OPTIONAL),
    ],
    "users": [
        *_KEY,
        text("user_id", BODY),
        text("name", BODY),
        text("role", BODY),
        text("qualifications", json_of(optional(default=[]))),
        text("badge", OPTIONAL),
        integer("active", flag(optional(default=True))),
        # No PIN hash: verifiers live in the local credential table, never in a record. (Files
        # written before keep a pin_hash column, filled from their old records' bodies.)
        text("changed_by", OPTIONAL),
        text("changed_at", record("ts")),
        _STATION,
    ],
    "sign_ins": [
        *_KEY,
        text("user_id", BODY),
        text("event", record("kind")),
        integer("success", flag(optional(default=True))),
        text("reason", OPTIONAL),
        text("at", record("ts")),
        _STATION,
    ],
    "revision_acks": [
        *_KEY,
        text("user_id", BODY),
        *_SPEC,
        text("previous_revision", OPTIONAL),
        text("changes", json_of(optional(default=[]))),
        text("at", record("ts")),
        _STATION,
    ],
    "dispositions": [
        *_KEY,
        text("reject", BODY),
        text("reject_station", BODY),
        integer("reject_seq", BODY),
        text("inspection", BODY),
        *_PART,
        text("disposition", BODY),
        text("reason", BODY),
        text("regrade_to", OPTIONAL),
        text("signed_hash", BODY),
        integer("signers_required", BODY),
        *_SIGNER,
        _STATION,
    ],
    # One row per signature: who signed, with what meaning, when, bound to which content.
    "signatures": [
        *_KEY,
        text("disposition", BODY),
        text("disposition_station", BODY),
        text("disposition_hash", BODY),
        text("reject", BODY),
        text("signed_hash", BODY),
        *_SIGNER[:2],
        text("role", optional("signature.role")),
        *_SIGNER[2:],
        _STATION,
    ],
    "reinspections": [
        *_KEY,
        text("lot", BODY),
        text("serial", BODY),
        text("reinspection_of", BODY),
        text("disposition", OPTIONAL),
        text("inspector", BODY),
        _STATION,
        text("opened_at", record("ts")),
    ],
    # A supervisor's signed decision between conflicting dispositions of one reject.
    "resolutions": [
        *_KEY,
        text("reject", BODY),
        text("reject_station", BODY),
        integer("reject_seq", BODY),
        text("lot", BODY),
        text("serial", BODY),
        text("part_number", BODY),
        text("kept", BODY),
        text("kept_station", BODY),
        text("considered", json_of(BODY)),
        text("reason", BODY),
        text("signed_hash", BODY),
        *_SIGNER,
        _STATION,
    ],
    # SPC (issue 13): a limit version locked by a supervisor's signature (Part 11), bound to
    # the baseline readings and the version's content hash.
    "spc_limits": [
        *_KEY,
        *_SPEC,
        text("characteristic", BODY),
        integer("version", BODY),
        text("limits_hash", BODY),
        text("previous_hash", OPTIONAL),
        text("effective_from", BODY),
        text("reason", BODY),
        text("chart", body("limits.chart")),
        integer("subgroup_size", body("limits.subgroup_size")),
        text("unit", body("limits.unit")),
        text("centre", body("limits.centre")),
        text("sigma", body("limits.sigma")),
        text("ucl", body("limits.ucl")),
        text("lcl", body("limits.lcl")),
        text("range_centre", body("limits.range_centre")),
        text("range_ucl", body("limits.range_ucl")),
        text("range_lcl", body("limits.range_lcl")),
        integer("baseline_count", body("limits.baseline_count")),
        text("limits", json_of(BODY)),
        text("arl", json_of(OPTIONAL)),
        text("signed_hash", BODY),
        *_SIGNER[:2],
        text("role", optional("signature.role")),
        *_SIGNER[2:],
        _STATION,
    ],
    # One row per rule that fired: the readings involved, the limit version judged against, and
    # the alarm (spc_holds, written just before) it belongs to.
    "spc_violations": [
        *_KEY,
        *_SPEC,
        text("characteristic", BODY),
        text("lot", BODY),
        text("serial", BODY),
        text("measurement", BODY),
        text("alarm", BODY),
        text("rule", BODY),
        text("chart", BODY),
        integer("point", BODY),
        text("readings", json_of(BODY)),
        text("sentence", BODY),
        text("limits_hash", BODY),
        integer("limits_version", BODY),
        text("inspector", BODY),
        _STATION,
        text("at", record("ts")),
    ],
    # An alarm: the violations of one point, and the parts held (containment) until answered.
    "spc_holds": [
        *_KEY,
        *_SPEC,
        text("characteristic", BODY),
        text("lot", BODY),
        text("serial", BODY),
        text("measurement", BODY),
        text("rules", json_of(BODY)),
        text("limits_hash", BODY),
        text("since", OPTIONAL),
        text("parts", json_of(BODY)),
        text("inspector", BODY),
        _STATION,
        text("held_at", record("ts")),
    ],
    # The answer to an alarm: cause, action, note, what happens to each held part; for a
    # critical characteristic, a supervisor's counter-signature.
    "spc_answers": [
        *_KEY,
        text("alarm", BODY),
        text("alarm_station", BODY),
        text("part_number", BODY),
        text("characteristic", BODY),
        text("cause", BODY),
        text("cause_label", BODY),
        text("action", BODY),
        text("action_label", BODY),
        text("note", BODY),
        text("parts", json_of(BODY)),
        text("answered_by", BODY),
        integer("critical", flag(BODY)),
        text("signed_hash", BODY),
        text("user_id", optional("signature.user_id")),
        text("name", optional("signature.name")),
        text("role", optional("signature.role")),
        text("meaning", optional("signature.meaning")),
        text("signed_at", optional("signature.signed_at")),
        _STATION,
        text("answered_at", record("ts")),
    ],
    # A part (serial) or a whole lot declared a first article (AS9102), before or while measured.
    "first_articles": [
        *_KEY,
        text("lot", BODY),
        text("serial", OPTIONAL),
        *_SPEC,
        text("scope", BODY),
        text("fair_number", OPTIONAL),
        text("declared_by", BODY),
        text("reason", OPTIONAL),
        _STATION,
        text("declared_at", record("ts")),
    ],
    # A gauge asset's calibration event (ISO 9001 7.1.5.2), recorded by an authenticated user.
    "calibrations": [
        *_KEY,
        text("asset", BODY),
        text("result", BODY),
        text("certificate", BODY),
        text("calibrated_on", BODY),
        text("due", OPTIONAL),
        text("serial_number", OPTIONAL),
        text("note", OPTIONAL),
        text("user_id", body("signature.user_id")),
        text("name", body("signature.name")),
        text("meaning", body("signature.meaning")),
        text("signed_at", body("signature.signed_at")),
        _STATION,
        text("recorded_at", record("ts")),
    ],
}
"""table -> its columns in order. Columns are only ever added (at the end): the local migrations
and the central stores create tables and columns from this order, and existing files keep it."""

KINDS: dict[str, tuple[str, ...]] = {
    "spec": ("specs",),
    "lot_opened": ("lots",),
    "inspection_opened": ("inspections",),
    "measurement": ("measurements",),
    "inspection_closed": ("results",),
    "user": ("users",),
    "sign_in": ("sign_ins",),
    "sign_out": ("sign_ins",),
    "revision_ack": ("revision_acks",),
    "disposition": ("dispositions", "signatures"),
    "disposition_signature": ("signatures",),
    "reinspection_opened": ("inspections", "reinspections"),
    "disposition_resolution": ("resolutions",),
    "spc_limits": ("spc_limits",),
    "spc_violation": ("spc_violations",),
    "spc_hold": ("spc_holds",),
    "spc_answer": ("spc_answers",),
    "first_article": ("first_articles",),
    "calibration": ("calibrations",),
}
"""Record kind -> the tables it fills, one row each, in this order. Other kinds (``note``, ...)
are journal-only."""

TABLES: dict[str, list[tuple[str, str]]] = {
    table: [(column.name, column.sqltype) for column in columns]
    for table, columns in SCHEMA.items()
}
"""table -> ordered (column, SQL type). Every table has seq (the record's) as its first column."""


READ_AS: dict[tuple[str, str], dict[str, Source]] = {
    # A disposition is read as its own first signature (there is no separate record to hash).
    ("disposition", "signatures"): {
        "disposition": record("uuid"),
        "disposition_station": record("station"),
        "disposition_hash": constant(None),
    },
}
"""(kind, table) -> body keys that, for that table, are read from elsewhere (a record field or a
constant) instead of the body. Declared as data so that the central stores' SQL derivation
(``sync/central_derive.py``) reads a record exactly as ``project`` does."""


def _reader(overrides: Mapping[str, Source]) -> Callable[[Mapping[str, Any]], Mapping[str, Any]]:
    """How a record is read for a table whose body keys ``overrides`` replaces."""

    def read_as(rec: Mapping[str, Any]) -> Mapping[str, Any]:
        body = dict(rec["body"])
        for key, source in overrides.items():
            if source.place == "record":
                body[key] = rec[source.path or key]
            elif source.place == "constant":
                body[key] = source.default
            else:
                raise ValueError(f"{key}: a body key is read from a record field or a constant")
        return {**rec, "body": body}

    return read_as


_READ_AS: dict[tuple[str, str], Callable[[Mapping[str, Any]], Mapping[str, Any]]] = {
    key: _reader(overrides) for key, overrides in READ_AS.items()
}
"""(kind, table) -> how a record of that kind is read for that table, where not as it is."""


def _json(value: Any) -> str | None:
    """Canonical JSON text of a nested value (None stays NULL)."""
    if value is None:
        return None
    text = fast_text(value)  # the same text, without walking the value in Python
    if text is not None and text.isascii():  # (canonical_json refuses a lone surrogate)
        return text
    return canonical_json(value).decode("utf-8")


_EMPTY: dict[str, Any] = {}
"""What an absent optional object reads as (a plain dict: faster than a proxy; never written)."""


def compile_table(table: str, columns: Sequence[Column]) -> Projector:
    """The projector record -> [(table, row)] of one table, generated from its columns.

    It is written as Python source, with the row as a dict display like a hand-written
    projector's, and compiled once: ``project`` runs for every measurement recorded and every
    record shipped, and interpreting the declarations per row (or ``dict(zip(...))``) costs
    about twice as much. A missing required key raises KeyError, as indexing does.
    """
    if not table.isidentifier():
        raise ValueError(f"{table!r} cannot be a projection table name")
    env: dict[str, Any] = {"_json": _json, "_EMPTY": _EMPTY}
    paths = [(column, (column.source.path or column.name).split(".")) for column in columns]
    required = {
        path[0] for column, path in paths if len(path) == 2 and column.source.place == "body"
    }
    objects: dict[str, str] = {}  # nested object's body key -> local variable holding it
    lines = [f"def {table}(record):", "    body = record['body']"]
    entries = []
    for index, (column, path) in enumerate(paths):
        if not column.name.isidentifier() or len(path) > 2:
            raise ValueError(f"{table}.{column.name}: bad column name or path {path}")
        holder = "body"
        if len(path) == 2:
            parent = path[0]
            if parent not in objects:
                objects[parent] = f"o{len(objects)}"
                fetch = (
                    f"body[{parent!r}]" if parent in required else f"body.get({parent!r}) or _EMPTY"
                )
                lines.append(f"    {objects[parent]} = {fetch}")
            holder = objects[parent]
        value = _expression(column, holder, path, env, f"v{index}")
        entries.append(f"        {column.name!r}: {value},")
    code = "\n".join([*lines, f"    return [({table!r}, {{", *entries, "    })]", ""])
    filename = f"<projection {table}>"
    # Tracebacks through a generated function show its lines.
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    exec(compile(code, filename, "exec"), env)
    projector = env[table]
    projector.__doc__ = f"[({table!r}, row)] of a record, generated from SCHEMA[{table!r}]."
    return projector


def _expression(
    column: Column, holder: str, path: list[str], env: dict[str, Any], name: str
) -> str:
    """Python expression of a column's value; ``holder`` names the mapping a body key is in.

    A value that cannot be written as a literal (a default, a constant) goes into ``env`` as
    ``name``.
    """
    source = column.source
    key = path[-1]
    if source.place == "record" and len(path) == 1:
        value = f"record[{key!r}]"
    elif source.place == "body":
        value = f"{holder}[{key!r}]"
    elif source.place == "optional" and source.default is None:
        value = f"{holder}.get({key!r})"
    elif source.place == "optional":
        env[name] = source.default
        value = f"{holder}.get({key!r}, {name})"
    elif source.place == "constant":
        env[name] = source.default
        value = name
    else:
        raise ValueError(f"{column.name}: cannot read {source.place} {'.'.join(path)!r}")
    if source.convert == "json":
        return f"_json({value})"
    if source.convert == "flag":
        return f"(1 if {value} else 0)"
    if source.convert is not None:
        raise ValueError(f"{column.name}: unknown conversion {source.convert!r}")
    return value


TABLE_PROJECTORS: dict[str, Projector] = {
    table: compile_table(table, columns) for table, columns in SCHEMA.items()
}
"""table -> its projector: record -> [(table, row)]."""


def _projector(kind: str, tables: tuple[str, ...]) -> Projector:
    """The projector of a record kind: the rows of each of its tables, in order."""
    steps = [(TABLE_PROJECTORS[table], _READ_AS.get((kind, table))) for table in tables]
    if len(steps) == 1 and steps[0][1] is None:
        return steps[0][0]

    def several(record: Mapping[str, Any]) -> list[tuple[str, Row]]:
        rows: list[tuple[str, Row]] = []
        for rows_of, read_as in steps:
            rows += rows_of(read_as(record) if read_as else record)
        return rows

    return several


PROJECTORS: dict[str, Projector] = {
    kind: _projector(kind, tables) for kind, tables in KINDS.items()
}
"""Record kind -> its projector."""


def project(record: Mapping[str, Any]) -> list[tuple[str, Row]]:
    """The projection rows a record yields (none for kinds that are journal-only)."""
    projector = PROJECTORS.get(record["kind"])
    return projector(record) if projector else []


# -- the shape a record of each kind must have -------------------------------------------------

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer a record may hold (RFC 8785 writes integers exactly only up to here)."""


class ShapeCheck(NamedTuple):
    """One rule a body key of a record kind must meet for the kind's projection rows."""

    path: tuple[str, ...]
    """Body keys from the top (``("signature", "user_id")`` is ``body.signature.user_id``)."""
    rule: str
    """``object`` (must be an object), ``object_or_null`` (an object, null or absent), ``text``
    (a string or null), ``integer`` (an integer within ±(2**53 - 1), or null), ``flag`` (true,
    false or null), ``any`` (any JSON value)."""
    required: bool
    """Whether the key must be present, and not null."""
    defaulted: bool = False
    """An optional key read with a default when absent: it may be absent, but not null."""

    @property
    def name(self) -> str:
        """The key as people read it: ``body.signature.user_id``."""
        return ".".join(("body", *self.path))

    def problem(self, missing: bool = False) -> str:
        """What is wrong when the check fails: a required key absent or null (``missing``), a
        defaulted key null, or a value of the wrong kind."""
        if missing:
            return f"{self.name} is missing or null"
        return f"{self.name} {SHAPE_PROBLEMS[self.rule]}"

    def null_problem(self) -> str:
        """What is wrong with a null where a defaulted key may only be absent or a value."""
        return f"{self.name} is null"


SHAPE_PROBLEMS: dict[str, str] = {
    "object": "is not an object",
    "object_or_null": "is not an object",
    "text": "is not text",
    "integer": "is not an integer",
    "flag": "is not true or false",
    "any": "is missing",
}
"""rule -> how a record that breaks it is described (after the key's name)."""


def _shape_checks(kind: str) -> tuple[ShapeCheck, ...]:
    """The checks a record of ``kind`` must pass, parents before their keys, each once."""
    checks: dict[tuple[tuple[str, ...], str], ShapeCheck] = {}
    for table in KINDS.get(kind, ()):
        overrides = READ_AS.get((kind, table), {})
        columns = SCHEMA[table]
        paths = [
            (column, tuple((column.source.path or column.name).split(".")))
            for column in columns
            if column.source.place in ("body", "optional")
        ]
        required_parents = {p[0] for c, p in paths if len(p) == 2 and c.source.place == "body"}
        for column, path in paths:
            if path[0] in overrides:
                continue
            if len(path) == 2:
                rule = "object" if path[0] in required_parents else "object_or_null"
                parent = ShapeCheck(path[:1], rule, rule == "object")
                checks.setdefault((parent.path, parent.rule), parent)
            if column.source.convert == "json":
                rule = "any"
            elif column.source.convert == "flag":
                rule = "flag"
            elif column.sqltype == INTEGER:
                rule = "integer"
            else:
                rule = "text"
            defaulted = column.source.place == "optional" and column.source.default is not None
            check = ShapeCheck(path, rule, column.source.place == "body", defaulted)
            key = (path, rule)
            if key in checks and check.required and not checks[key].required:
                del checks[key]
            checks.setdefault(key, check)
    ordered = sorted(checks.values(), key=lambda c: (len(c.path), c.path[0]))
    return tuple(ordered)


SHAPES: dict[str, tuple[ShapeCheck, ...]] = {kind: _shape_checks(kind) for kind in KINDS}
"""Record kind -> the shape its body must have for its projection rows (journal-only kinds: none).

A central store refuses a record that breaks one (``shape_problem`` in Python, the same rules in
SQL in ``sync/central_derive.py``), so every row it derives is exactly what ``project`` makes."""


def _problem(check: ShapeCheck, holder: Mapping[str, Any]) -> str | None:
    """What is wrong with the value at ``check.path[-1]`` of ``holder``, if anything."""
    value = holder.get(check.path[-1])
    if value is None:
        if check.required:
            return check.problem(missing=True)
        if check.defaulted and check.path[-1] in holder:
            return check.null_problem()
        return None
    rule = check.rule
    if rule == "any":
        bad = False
    elif rule in ("object", "object_or_null"):
        bad = not isinstance(value, dict)
    elif rule == "text":
        bad = not isinstance(value, str)
    elif rule == "integer":
        bad = type(value) is not int or not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    elif rule == "flag":
        bad = type(value) is not bool
    else:
        raise ValueError(f"unknown shape rule {rule!r}")
    return check.problem() if bad else None


def shape_problem(record: Mapping[str, Any]) -> str | None:
    """Why a record's body does not have its kind's shape (one phrase), or None if it does."""
    body = record.get("body")
    if not isinstance(body, dict):
        return "body is not a JSON object"
    kind = record.get("kind")
    checks = SHAPES.get(kind, ())  # type: ignore[arg-type]
    if not checks:
        return None
    compiled = _SHAPE_CHECKERS.get(kind)  # type: ignore[arg-type]
    if compiled is None or compiled[0] is not checks:
        compiled = _SHAPE_CHECKERS[kind] = (checks, compile_shape(checks))  # type: ignore[index]
    return compiled[1](body)


def interpret_shape(checks: Sequence[ShapeCheck], body: Mapping[str, Any]) -> str | None:
    """``shape_problem`` of a body by reading ``checks`` one by one: what ``compile_shape``'s
    functions must answer (the tests hold them to it)."""
    for check in checks:
        holder: Any = body
        for parent in check.path[:-1]:
            holder = holder.get(parent)
            if not isinstance(holder, dict):
                break
        else:
            problem = _problem(check, holder)
            if problem is not None:
                return problem
            continue
        if check.required:  # the parent check (earlier) allowed a null or absent parent
            return check.problem(missing=True)
    return None


_SHAPE_CHECKERS: dict[
    str, tuple[tuple[ShapeCheck, ...], Callable[[Mapping[str, Any]], str | None]]
] = {}
"""kind -> (the checks compiled, their compiled function): compiled again if ``SHAPES[kind]``
is replaced (a newer declaration)."""

_BAD_VALUE: dict[str, str | None] = {
    "any": None,
    "object": "not isinstance(v, dict)",
    "object_or_null": "not isinstance(v, dict)",
    "text": "not isinstance(v, str)",
    "integer": "type(v) is not int or not -MAX <= v <= MAX",
    "flag": "type(v) is not bool",
}
"""rule -> the Python test that a non-null value ``v`` breaks it (None: nothing breaks it)."""


def compile_shape(checks: Sequence[ShapeCheck]) -> Callable[[Mapping[str, Any]], str | None]:
    """A function body -> the first problem of ``checks`` (one phrase) or None, generated as
    straight-line Python and compiled once: every record appended, shipped and verified is
    checked, and reading the declarations per record cost as much as sealing it. It answers
    exactly what ``interpret_shape`` answers.

    The top-level text keys (most of a body) are first judged together, at C speed, by the
    set of their values' types: all text where the key is required, text or null where it is
    optional, text or absent where it has a default. Only when that passes are the other
    checks run alone; otherwise every check runs in order, so the problem named is the first.
    """
    env: dict[str, Any] = {"MAX": MAX_SAFE_INTEGER, "repeat": itertools.repeat}
    blocks: list[list[str]] = []
    groups: dict[str, list[str]] = {"required": [], "optional": [], "defaulted": []}
    rest: list[int] = []
    for index, check in enumerate(checks):
        if len(check.path) not in (1, 2) or check.rule not in _BAD_VALUE:
            raise ValueError(f"{check.name}: cannot check rule {check.rule!r} there")
        blocks.append(_shape_block(check, index, env))
        if len(check.path) == 1 and check.rule == "text":
            group = "required" if check.required else "defaulted" if check.defaulted else "optional"
            groups[group].append(check.path[0])
        else:
            rest.append(index)
    env["ABSENT"] = absent = object()
    env["REQUIRED"], env["OPTIONAL"], env["DEFAULTED"] = (tuple(g) for g in groups.values())
    env["TEXT"] = frozenset({str})
    env["TEXT_OR_NULL"] = frozenset({str, type(None)})
    env["TEXT_OR_ABSENT"] = frozenset({str, type(absent)})
    lines = [
        "def shape(body):",
        "    get = body.get",
        "    if (",
        "        set(map(type, map(get, REQUIRED))) <= TEXT",
        "        and set(map(type, map(get, OPTIONAL))) <= TEXT_OR_NULL",
        "        and set(map(type, map(get, DEFAULTED, repeat(ABSENT)))) <= TEXT_OR_ABSENT",
        "    ):",
        *(f"    {line}" for index in rest for line in blocks[index]),
        "        return None",
        *(line for block in blocks for line in block),
        "    return None",
    ]
    code = "\n".join([*lines, ""])
    filename = f"<shape check {len(_SHAPE_CHECKERS)}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    exec(compile(code, filename, "exec"), env)
    shape: Callable[[Mapping[str, Any]], str | None] = env["shape"]
    return shape


def _shape_block(check: ShapeCheck, index: int, env: dict[str, Any]) -> list[str]:
    """The lines (in a function's body) that return the problem of one check, if any."""
    key = check.path[-1]
    env[f"missing{index}"] = check.problem(missing=True)
    env[f"null{index}"] = check.null_problem()
    env[f"bad{index}"] = check.problem()
    lines = []
    pad = "    "
    holder = "body"
    if len(check.path) == 2:
        lines.append(f"    h = body.get({check.path[0]!r})")
        lines.append("    if not isinstance(h, dict):")
        lines.append(f"        return missing{index}" if check.required else "        pass")
        lines.append("    else:")
        pad, holder = "        ", "h"
    lines.append(f"{pad}v = {holder}.get({key!r})")
    lines.append(f"{pad}if v is None:")
    if check.required:
        lines.append(f"{pad}    return missing{index}")
    elif check.defaulted:
        lines.append(f"{pad}    if {key!r} in {holder}:")
        lines.append(f"{pad}        return null{index}")
    else:
        lines.append(f"{pad}    pass")
    bad = _BAD_VALUE[check.rule]
    if bad is not None:
        lines.append(f"{pad}elif {bad}:")
        lines.append(f"{pad}    return bad{index}")
    return lines


def check_projections(
    records: Sequence[Mapping[str, Any]],
    stored: Callable[[str, int, int], Iterable[Mapping[str, Any]]],
    station: str | None = None,
) -> tuple[int, str] | None:
    """The first (seq, reason) where stored projection rows differ from what ``records`` yield.

    ``records`` are consecutive journal records; ``stored(table, first_seq, last_seq)`` gives a
    table's stored rows for those seqs, by seq and then in the order they were written. With
    ``station``, every derived row also carries it (a central store keys each table by
    station). Only derived columns are compared; a row missing, extra or altered is reported.
    """
    if not records:
        return None
    first, last = records[0]["seq"], records[-1]["seq"]
    held: dict[str, dict[int, list[Mapping[str, Any]]]] = {}
    for table in TABLES:
        by_seq: dict[int, list[Mapping[str, Any]]] = {}
        for row in stored(table, first, last):
            by_seq.setdefault(row["seq"], []).append(row)
        held[table] = by_seq
    for rec in records:
        expected: dict[str, list[Row]] = {}
        for table, row in project(rec):
            expected.setdefault(table, []).append(
                row if station is None else {**row, "station": station}
            )
        for table in TABLES:
            want = expected.get(table, [])
            have = held[table].get(rec["seq"], [])
            if len(want) != len(have):
                what = "is missing its" if len(have) < len(want) else "has an extra"
                return rec["seq"], f"the record {what} {table} row"
            for w, h in zip(want, have, strict=True):
                for column, value in w.items():
                    if h.get(column) != value:
                        return (
                            rec["seq"],
                            f"{table}.{column} is {h.get(column)!r} but the journal says "
                            f"{value!r} (projection altered)",
                        )
    return None
