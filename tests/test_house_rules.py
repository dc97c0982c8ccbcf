"""Two house rules of issue 12, kept true by a scan of src/ (each scan is itself tested).

- SQL text is written only in ``store/`` (the local file's owner) and the central backends
  (``sync/central_*.py``); everything else asks for a named query.
- A module of more than 500 lines says why on its first line: ``# Over 500 lines: <reason>``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import inspect_station

ROOT = Path(inspect_station.__file__).parent
MAX_LINES = 500

# SQL as this code base writes it (upper-case keywords), and statements whose shape is SQL in
# any case; prose ("Select a gauge from the list", "Insert into the fixture") is not matched.
_SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bUPDATE\s+\w+\s+SET\b|\bWITH\s+RECURSIVE\b|\bINSERT\s+INTO\b"
    r"|\bDELETE\s+FROM\b|\bBEGIN\s+(IMMEDIATE|EXCLUSIVE)\b|\bPRAGMA\s+\w+"
    r"|\b(CREATE|DROP|ALTER)\s+(TEMP\s+)?(UNIQUE\s+)?(TABLE|INDEX|TRIGGER|VIEW)\b"
    r"|(?i:\binsert\s+(or\s+\w+\s+)?into\s+\w+\s*(\(|values\b|select\b)"
    r"|\bdelete\s+from\s+\w+\s*(where\b|;|$)|\bselect\s+[\w*, ]+\s+from\s+\w+\s*(where\b|;|$)"
    r"|\b(create|drop)\s+(temp\s+)?(unique\s+)?(table|index|trigger|view)\s+(if\s+)?\w+)"
)


def _may_hold_sql(relative: str) -> bool:
    if relative.startswith("store/"):
        return True
    return re.fullmatch(r"sync/central_\w+\.py", relative) is not None


def _texts(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of every string literal; an f-string as one text, ``{}`` for each field."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.Constant) else "{}" for v in node.values]
            out.append((node.lineno, "".join(str(p) for p in parts)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append((node.lineno, node.value))
    return out


def sql_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string literal in ``source`` that reads as SQL."""
    return [(line, text) for line, text in _texts(ast.parse(source)) if _SQL.search(text)]


def test_no_sql_text_outside_the_store_and_the_central_backends():
    offenders = [
        f"{relative}:{line}: {text[:60]!r}"
        for path in sorted(ROOT.rglob("*.py"))
        if not _may_hold_sql(relative := path.relative_to(ROOT).as_posix())
        for line, text in sql_literals(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_store_and_central_backends_do_hold_sql():
    """The scan sees the SQL where it lives (a scan that found nothing anywhere proves nothing)."""
    for module in ("store/db.py", "sync/central_pg.py", "sync/central_sqlite.py"):
        assert sql_literals((ROOT / module).read_text(encoding="utf-8")), module


@pytest.mark.parametrize(
    "source",
    [
        'rows = conn.execute("SELECT seq FROM journal WHERE lot = ?", (lot,))',
        "q = f'SELECT {cols} FROM results'",
        'db.execute("insert into meta (key) values (1)")',
        'db.execute("DELETE FROM sync_state")',
        'db.execute("UPDATE meta SET value = ? WHERE key = ?", row)',
        'conn.execute("PRAGMA journal_mode=WAL")',
        'db.execute("create unique index ix on t (a)")',
        'conn.execute("BEGIN IMMEDIATE")',
    ],
)
def test_the_scan_sees_sql(source: str):
    assert sql_literals(source)


@pytest.mark.parametrize(
    "source",
    [
        '"""Select a gauge from the list; update the screen."""',
        'click.echo("Deleted from the queue: 3 records")',
        'label = "Insert into the fixture, then press DATA"',
    ],
)
def test_the_scan_leaves_prose_alone(source: str):
    assert sql_literals(source) == []


def test_a_module_over_500_lines_says_why_on_its_first_line():
    unexplained = []
    for path in sorted(ROOT.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES and not re.match(r"# Over 500 lines: \S.{10,}", lines[0]):
            unexplained.append(f"{path.relative_to(ROOT)} ({len(lines)} lines)")
    assert unexplained == []
