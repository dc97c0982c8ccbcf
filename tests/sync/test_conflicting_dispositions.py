"""Two terminals dispose of the same reject while one is offline: both records are kept, the
conflict is found at ingest and shown everywhere the reject is, until a supervisor signs which
disposition stands."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from rejectkit import make_people, reject_part

from inspect_station.cli import main
from inspect_station.records import LocalSource
from inspect_station.review.model import AlreadyDisposed, RejectFilter, Status
from inspect_station.review.service import Review
from inspect_station.review.signing import NotPermitted
from inspect_station.store import LocalStore
from inspect_station.store.catalog import read_query
from inspect_station.sync import Shipper, open_central, open_source
from inspect_station.sync.verify import verify_central_store


def cli(*args: str, config: Path, stdin: str | None = None) -> click.testing.Result:
    return CliRunner().invoke(
        main, ["--config", str(config), *args], input=stdin, catch_exceptions=False
    )


@pytest.fixture
def conflict(central_url, make_station, bracket, tmp_path: Path):
    """BENCH-3 rejects a part and ships it; the office signs rework against the central store
    while the bench, offline, signs scrap; both ship. (bench, office, reject, office config)."""
    bench = make_station("BENCH-3")
    make_people(bench, ("sam", "Sam Ortiz", "975310"))
    reject = reject_part(bench, bracket, "S-17", lot="L-9")
    Shipper(bench, central_url).ship()
    with sqlite3.connect(bench.path) as source, sqlite3.connect(tmp_path / "copy.db") as copy:
        source.backup(copy)  # the reject, before anyone disposed of it
    office = make_station("OFFICE-1")
    make_people(office, ("kim", "Kim Park", "550761"))
    with open_source(central_url) as source:
        review = Review(source, office)
        review.sign(reject, "rework", "re-cut to length", user_id="kim", pin="550761")
    Review(LocalSource(bench), bench).sign(reject, "scrap", "burnt", user_id="sam", pin="975310")
    config = tmp_path / "office.toml"
    config.write_text(f'station = "OFFICE-1"\ndb = "{office.path}"\n')
    return bench, office, reject, config


HELD = read_query(
    "test.dispositions_held",
    "SELECT d.disposition, d.station FROM dispositions d WHERE {bound:d} ORDER BY d.station",
    aliases=("d",),
)


def queue(central_url: str, writer: LocalStore) -> list:
    with open_source(central_url) as source:
        return Review(source, writer).queue(RejectFilter(include_disposed=True))


def test_a_double_disposition_is_found_at_ingest_and_both_are_kept(
    central_url, conflict, tmp_path: Path
):
    bench, office, reject, _ = conflict
    assert Shipper(office, central_url).ship().conflicts == ()
    config = tmp_path / "bench.toml"
    config.write_text(f'station = "BENCH-3"\ndb = "{bench.path}"\n')
    shipped = cli("sync", "--central", central_url, config=config)  # the second one to arrive
    assert shipped.exit_code == 0, shipped.output
    assert f"Reject {reject[:8]} now has conflicting dispositions" in shipped.output
    assert f"disposition resolve {reject[:8]}" in shipped.output
    with open_source(central_url) as source:
        held = source.rows(HELD)
        assert held == [
            {"disposition": "scrap", "station": "BENCH-3"},
            {"disposition": "rework", "station": "OFFICE-1"},
        ]
        assert all(report.ok for report in verify_central_store(source.central))
    (summary,) = queue(central_url, office)
    assert (summary.reject, summary.status, summary.disposition) == (reject, Status.CONFLICT, None)
    assert Review(LocalSource(bench), bench).queue() == []  # the bench alone sees its own


def test_nothing_is_in_force_until_a_supervisor_signs_which_disposition_stands(
    central_url, conflict, bracket
):
    bench, office, reject, config = conflict
    Shipper(office, central_url).ship()
    Shipper(bench, central_url).ship()
    with open_source(central_url) as source:
        review = Review(source, office)
        detail = review.detail(reject)
        assert detail.standing.conflict and detail.disposition is None
        for attempt in (
            lambda: review.sign(reject, "scrap", "again", user_id="kim", pin="550761"),
            lambda: review.cosign(reject, user_id="kim", pin="550761"),
        ):
            with pytest.raises(NotPermitted, match="has conflicting dispositions"):
                attempt()
    listed = cli("rejects", "list", "--central", central_url, config=config)
    assert listed.exit_code == 0 and "conflicting dispositions" in listed.output
    shown = cli("rejects", "show", reject[:8], "--central", central_url, config=config)
    assert "CONFLICTING DISPOSITIONS: 2 were signed apart" in shown.output
    assert "Rework — re-cut to length (conflicting)" in shown.output
    assert "Scrap — burnt (conflicting)" in shown.output

    rework = next(d for d in detail.dispositions if d.station == "OFFICE-1")
    wrong = cli(
        "disposition", "resolve", reject[:8], "--keep", rework.uuid[:8], "--reason", "x",
        "--user", "kim", "--pin-stdin", "--central", central_url,
        config=config, stdin="000000\n",
    )  # fmt: skip
    assert wrong.exit_code == 2 and "Wrong PIN" in wrong.output
    resolved = cli(
        "disposition", "resolve", reject[:8], "--keep", rework.uuid[:8],
        "--reason", "rework agreed with the customer", "--user", "kim", "--pin-stdin",
        "--central", central_url,
        config=config, stdin="550761\n",
    )  # fmt: skip
    assert resolved.exit_code == 0, resolved.output
    stands = f"disposition {rework.uuid[:8]} of reject {reject[:8]} stands (1 set aside)"
    assert stands in resolved.output
    # The office sees it at once (its own journal), every terminal once it is shipped.
    assert [s.status for s in queue(central_url, office)] == [Status.DISPOSED]
    Shipper(office, central_url).ship()
    other = LocalStore(office.path.with_name("auditor.db"), "AUDIT-1")
    try:
        (summary,) = queue(central_url, other)
        assert (summary.status, summary.disposition.uuid) == (Status.DISPOSED, rework.uuid)
    finally:
        other.close()
    with open_source(central_url) as source:
        assert all(report.ok for report in verify_central_store(source.central))
        review = Review(source, office)
        review.start_reinspection(reject, _recorder(office), bracket, "ann")  # rework in force


def _recorder(store: LocalStore):
    from inspect_station.recording import Recorder

    return Recorder(store)


def test_exports_show_conflicting_dispositions(central_url, conflict, tmp_path):
    bench, office, _, config = conflict
    Shipper(office, central_url).ship()
    Shipper(bench, central_url).ship()
    paths = {}
    for fmt in ("csv", "json", "html"):
        paths[fmt] = tmp_path / f"L-9.{fmt}"
        result = cli(
            "export", "lot", "L-9", "--format", fmt, "--out", str(paths[fmt]),
            "--central", central_url, config=config,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(paths["csv"].read_text(encoding="utf-8-sig"))))
    assert {r["disposition_status"] for r in rows} == {"conflicting dispositions"}
    assert {r["disposition"] for r in rows} == {"rework; scrap"}  # in the order signed
    (part,) = json.loads(paths["json"].read_text())["parts"]
    (inspection,) = part["inspections"]
    assert inspection["disposition_status"] == "conflicting dispositions"
    assert len(inspection["dispositions"]) == 2 and inspection["resolutions"] == []
    html = paths["html"].read_text()
    assert "conflicting dispositions" in html and "Certificate of Conformance" not in html


def test_a_disposition_signed_after_a_resolution_conflicts_again(conflict, central_url, tmp_path):
    bench, office, reject, _ = conflict
    Shipper(office, central_url).ship()
    Shipper(bench, central_url).ship()
    with open_source(central_url) as source:
        review = Review(source, office)
        kept = review.detail(reject).dispositions[0]
        resolution = review.resolve_conflict(
            reject, kept.uuid, "the first one stands", user_id="kim", pin="550761"
        )
        assert set(resolution.considered) == {d.uuid for d in review.detail(reject).dispositions}
    Shipper(office, central_url).ship()
    third = LocalStore(tmp_path / "third.db", "OFFICE-2")
    try:
        make_people(third, ("lee", "Lee Wu", "246802"))
        # A terminal that never saw the others' (only the reject, from an early copy).
        with open_source(central_url) as source:
            review = Review(source, third)
            with pytest.raises(AlreadyDisposed, match="already disposed as rework"):
                review.sign(reject, "repair", "x", user_id="lee", pin="246802")
        with LocalStore.open_existing(tmp_path / "copy.db") as copy:
            Review(LocalSource(copy), third).sign(
                reject, "return-to-supplier", "supplier fault", user_id="lee", pin="246802"
            )
        assert Shipper(third, central_url).ship().conflicts == (reject,)
        assert [s.status for s in queue(central_url, third)] == [Status.CONFLICT]
    finally:
        third.close()


@pytest.mark.postgres
def test_a_station_role_learns_of_the_conflict_its_batch_made(pg_database, make_station, bracket):
    with open_central(pg_database.url) as central:
        central.migrate()
        bench_role = central.add_station("BENCH-3")
        office_role = central.add_station("OFFICE-1")
    bench = make_station("BENCH-3")
    make_people(bench, ("sam", "Sam Ortiz", "975310"))
    reject = reject_part(bench, bracket, "S-1")
    office = make_station("OFFICE-1")
    make_people(office, ("kim", "Kim Park", "550761"))
    Shipper(bench, bench_role.url).ship()
    with open_source(pg_database.url) as source:
        Review(source, office).sign(reject, "rework", "re-cut", user_id="kim", pin="550761")
    assert Shipper(office, office_role.url).ship().conflicts == ()
    Review(LocalSource(bench), bench).sign(reject, "scrap", "burnt", user_id="sam", pin="975310")
    assert Shipper(bench, bench_role.url).ship().conflicts == (reject,)
