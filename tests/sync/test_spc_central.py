"""SPC records at a central store: derived by the database like every projection, never forged."""

from __future__ import annotations

import json

import pytest
from spcstationkit import BASELINE, locked, measure_part, measure_parts, session_of, spc_station
from synckit import RawCentral

from inspect_station.store.projections import project
from inspect_station.sync import Shipper, open_central
from inspect_station.sync.verify import verify_central_store

SPC_TABLES = ("spc_limits", "spc_violations", "spc_holds", "spc_answers")

FORGED_ANSWER = (
    "INSERT INTO {s}spc_answers (station, seq, uuid, alarm, alarm_station, part_number, "
    "characteristic, cause, cause_label, action, action_label, note, parts, answered_by, "
    "critical, signed_hash) VALUES (%s, %s, 'forged-spc-1', %s, %s, 'SPC-1', '1', 'NCF', "
    "'No assignable cause found', 'NONE', 'No action', 'forged', '[]', 'qm', 0, 'x')"
)
FORGED_LIMITS = (
    "INSERT INTO {s}spc_limits (station, seq, uuid, part_number, revision, spec_hash, "
    "characteristic, version, limits_hash, effective_from, reason, chart, subgroup_size, unit, "
    "centre, sigma, ucl, lcl, range_centre, range_ucl, range_lcl, baseline_count, limits, "
    "signed_hash, user_id, name, meaning, signed_at) VALUES (%s, %s, 'forged-spc-2', 'SPC-1', "
    "'A', 'x', '1', 9, 'x', '2026-01-01T00:00:00Z', 'wider', 'i-mr', 1, 'mm', '10', '1', '13', "
    "'7', '1', '3', '0', 10, '{{}}', 'x', 'qm', 'Quality Manager', 'approval', "
    "'2026-01-01T00:00:00Z')"
)


@pytest.fixture
def spc_bench(tmp_path):
    """A station with locked limits, an answered alarm and an open one."""
    service = spc_station(tmp_path)
    session = session_of(service)
    measure_parts(session, BASELINE)
    spc = locked(service)
    length, _ = measure_part(session, "10.20")
    spc.answer(length.alarm.uuid, cause="TOOL", action="ADJ", note="offset", by=session.user)
    session.spc.refresh()
    session.close_part()
    measure_part(session, "9.70")  # an open alarm
    yield service
    service.store.close()


def test_the_central_store_derives_the_spc_projections_the_station_has(central_url, spc_bench):
    store = spc_bench.store
    Shipper(store, central_url).ship()
    with open_central(central_url) as central:
        assert all(report.ok for report in verify_central_store(central))
        for table in SPC_TABLES:
            held = central.projection_rows(table, "SPC-BENCH", 1, 10**6)
            expected = [
                row for record in store.records() for t, row in project(record) if t == table
            ]
            assert len(held) == len(expected) > 0, table
            for have, want in zip(held, expected, strict=True):
                assert {k: have[k] for k in want} == want
    parts = json.loads(expected[0]["parts"])
    assert parts[0]["decision"] == "release"


def test_a_forged_spc_row_is_refused_like_every_projection(central_url, spc_bench):
    store = spc_bench.store
    Shipper(store, central_url).ship()
    hold = next(r for r in store.records() if r["kind"] == "spc_hold")
    raw = RawCentral(central_url)
    for statement, params in (
        (FORGED_ANSWER, ("SPC-BENCH", 999, hold["uuid"], "SPC-BENCH")),
        (FORGED_ANSWER, ("SPC-BENCH", hold["seq"], hold["uuid"], "SPC-BENCH")),
        (FORGED_LIMITS, ("SPC-BENCH", 998)),
    ):
        with pytest.raises(Exception, match="derived from journal records only"):
            raw.execute(statement, params)
    with open_central(central_url) as central:
        assert all(report.ok for report in verify_central_store(central))
        answers = central.projection_rows("spc_answers", "SPC-BENCH", 1, 10**6)
    assert [a["cause"] for a in answers] == ["TOOL"]


def test_verify_finds_an_altered_spc_projection_row(spc_bench):
    store = spc_bench.store
    assert store.verify().ok
    store.conn.execute("DROP TRIGGER spc_answers_no_update")
    store.conn.execute("UPDATE spc_answers SET cause = 'NCF'")
    store.conn.commit()
    report = store.verify()
    assert not report.ok
    assert "spc_answers.cause" in report.summary()
