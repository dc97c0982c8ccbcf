"""The review and users packages keep their place in the layers (DESIGN.md, issue 12).

The review reads only through named queries, the exports see only its queries face, nothing
below the review imports it, and no import circle runs through the review, the users, the
core vocabulary or the configuration.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import inspect_station

ROOT = Path(inspect_station.__file__).parent


def _module_name(path: Path) -> str:
    parts = ["inspect_station", *path.relative_to(ROOT).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in ROOT.rglob("*.py")}
"""Every module of the package, by dotted name."""


def _imports(name: str) -> set[str]:
    """The package's modules ``name`` imports, anywhere in the file (a function-level import
    closes a circle too): ``from a import b`` names ``a.b`` when that is a module."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in MODULES else base)
    return {m for m in found if m in MODULES}


@functools.cache
def graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (parsed when first asked, not when every test
    worker collects this module)."""
    return {name: _imports(name) for name in MODULES}


def _in(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _circles() -> list[set[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph()[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(group)

    for v in sorted(graph()):
        if v not in index:
            visit(v)
    return out


OURS = (
    "inspect_station.review",
    "inspect_station.users",
    "inspect_station.vocabulary",
    "inspect_station.config",
    "inspect_station.store.review",
)


def test_the_graph_sees_the_imports_it_checks():
    assert "inspect_station.review.queries" in graph()["inspect_station.export.model"]
    assert "inspect_station.users.pins" in graph()["inspect_station.users.directory"]
    assert "inspect_station.vocabulary" in graph()["inspect_station.config"]


def test_no_import_circle_runs_through_the_review_users_vocabulary_or_config():
    touching = [sorted(c) for c in _circles() if any(_in(m, *OURS) for m in c)]
    assert touching == []


def test_the_exports_see_only_the_reviews_queries():
    seen = {
        (name, target)
        for name, targets in graph().items()
        if _in(name, "inspect_station.export")
        for target in targets
        if _in(target, "inspect_station.review")
    }
    assert seen, "the exports read dispositions through the review's queries"
    assert {target for _, target in seen} == {"inspect_station.review.queries"}


def test_nothing_below_the_review_imports_it():
    above = ("inspect_station.review", "inspect_station.export", "inspect_station.tui")
    above += ("inspect_station.cli", "inspect_station.station", "inspect_station.wiring")
    above += ("inspect_station.measuring",)  # the part session's SPC signs limit locks (DESIGN)
    above += ("inspect_station.audit",)  # the audit report reads like the exports
    importers = {
        name
        for name, targets in graph().items()
        if not _in(name, *above) and any(_in(t, "inspect_station.review") for t in targets)
    }
    assert importers == set()


def test_the_review_imports_neither_the_recorder_nor_the_interfaces():
    review = {name for name in graph() if _in(name, "inspect_station.review")}
    imported = set().union(*(graph()[name] for name in review))
    assert not {m for m in imported if _in(m, "inspect_station.recording", "inspect_station.tui")}
    assert not {m for m in imported if _in(m, "inspect_station.cli", "inspect_station.station")}


def test_the_review_and_users_hold_no_sql():
    words = ("SELECT ", "INSERT ", "UPDATE ", "DELETE FROM", " FROM results", " FROM journal")
    offenders = {
        name
        for name, path in MODULES.items()
        if _in(name, "inspect_station.review", "inspect_station.users")
        and any(word in path.read_text(encoding="utf-8") for word in words)
    }
    assert offenders == set()
