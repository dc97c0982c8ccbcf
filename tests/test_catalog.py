"""Named read queries: registered once, executed by object, refused when not registered."""

from __future__ import annotations

import pytest

from inspect_station.records import LocalSource
from inspect_station.store.catalog import CATALOG, ReadQuery, read_query

LOTS = read_query(
    "test.lots_by_part",
    "SELECT l.lot FROM lots l WHERE l.part_number = ? AND {bound:l} ORDER BY l.lot",
    aliases=("l",),
)
MEASURED = read_query(
    "test.measured_characteristics",
    "SELECT DISTINCT m.characteristic FROM measurements m "
    "WHERE m.serial IN {in} AND {bound:m} ORDER BY m.characteristic",
    aliases=("m",),
)


def test_a_named_query_runs_over_the_snapshot(recorded):
    source = LocalSource(recorded)
    assert source.rows(LOTS, ["BRK-1042"]) == [{"lot": "L1"}]
    assert [r["characteristic"] for r in source.rows(MEASURED, values=["S1", "S9"])] == [
        "1", "2", "3", "4",
    ]  # fmt: skip


def test_only_registered_queries_run(recorded):
    source = LocalSource(recorded)
    look_alike = ReadQuery(LOTS.name, "SELECT * FROM journal")
    with pytest.raises(ValueError, match="not a registered read query"):
        source.rows(look_alike)
    with pytest.raises(ValueError, match="registered twice"):
        read_query(LOTS.name, LOTS.sql, LOTS.aliases)
    with pytest.raises(ValueError, match="needs its list of values"):
        source.rows(MEASURED)
    assert CATALOG[LOTS.name] is LOTS


def test_an_alias_must_be_bounded():
    with pytest.raises(ValueError, match="never bounds it"):
        read_query("test.unbounded", "SELECT * FROM lots l", aliases=("l",))
