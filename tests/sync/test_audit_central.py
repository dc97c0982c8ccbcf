"""The audit of a central store (SQLite and PostgreSQL): a head rolled back behind the store's
history of acknowledged heads, and conflicting dispositions signed at two terminals."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner
from rejectkit import make_people, reject_part
from synckit import RawCentral
from test_anchors import roll_back_central

from inspect_station.audit import schema
from inspect_station.cli import main
from inspect_station.records import LocalSource
from inspect_station.review.service import Review
from inspect_station.sync import Shipper, open_source


def audit(central_url: str, *options: str, tmp_path: Path) -> tuple[int, dict]:
    """``audit --central URL --format json`` at an office with no gauges: (exit code, report)."""
    config = tmp_path / "office.toml"
    config.write_text(f'station = "OFFICE-9"\ndb = "{tmp_path / "office9.db"}"\n')
    result = CliRunner().invoke(
        main,
        ["--config", str(config), "audit", "--central", central_url, "--format", "json", *options],
    )
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.stdout)
    jsonschema.validate(data, schema())
    return result.exit_code, data


def findings(data: dict, key: str) -> list[dict]:
    """The findings of one section."""
    return next(s for s in data["sections"] if s["key"] == key)["findings"]


def test_a_head_rolled_back_in_the_central_store(
    central_url, make_station, raw_central: RawCentral, tmp_path: Path
):
    one = make_station("BENCH-1", 40)
    Shipper(one, central_url, 16).ship()
    _, before = audit(central_url, tmp_path=tmp_path)
    assert [f["check"] for f in findings(before, "records")] == []
    head = one.head()[0]
    roll_back_central(raw_central, "BENCH-1", 20, keep_history=True)
    code, data = audit(central_url, tmp_path=tmp_path)
    assert code == 1
    (rolled,) = findings(data, "records")
    assert rolled["check"] == "head-moved-backwards"
    assert rolled["records"] == [{"station": "BENCH-1", "seq": head}]
    assert f"seq {head} was acknowledged at " in rolled["what"]
    assert "holds it only up to seq 20" in rolled["what"]
    assert rolled["command"].startswith("inspect-station verify --central ")
    # The full verification streams the chain back and does not report the same head twice.
    code, full = audit(central_url, "--full-verify", tmp_path=tmp_path)
    assert code == 1 and findings(full, "records") == findings(data, "records")


def test_conflicting_dispositions_are_a_finding_until_resolved(
    central_url, make_station, bracket, tmp_path: Path
):
    bench = make_station("BENCH-3")
    make_people(bench, ("sam", "Sam Ortiz", "975310"))
    reject = reject_part(bench, bracket, "S-17", lot="L-9")
    Shipper(bench, central_url).ship()
    office = make_station("OFFICE-1")
    make_people(office, ("kim", "Kim Park", "550761"))
    with open_source(central_url) as source:
        Review(source, office).sign(reject, "rework", "re-cut", user_id="kim", pin="550761")
    Review(LocalSource(bench), bench).sign(reject, "scrap", "burnt", user_id="sam", pin="975310")
    Shipper(office, central_url).ship()
    Shipper(bench, central_url).ship()
    code, data = audit(central_url, tmp_path=tmp_path)
    assert code == 1
    (conflict,) = findings(data, "nonconforming")
    assert conflict["check"] == "disposition-conflict"
    assert f"Reject {reject[:8]} of part S-17 of lot L-9" in conflict["what"]
    assert "conflicting dispositions (" in conflict["what"]
    assert {r["station"] for r in conflict["records"]} == {"BENCH-3", "OFFICE-1"}
    assert conflict["command"].startswith(f"inspect-station rejects show {reject[:8]} --central")
    with open_source(central_url) as source:
        kept = Review(source, office).detail(reject).dispositions[0].uuid
        Review(source, office).resolve_conflict(
            reject, kept, "rework agreed", user_id="kim", pin="550761"
        )
    Shipper(office, central_url).ship()
    _, data = audit(central_url, tmp_path=tmp_path)
    assert findings(data, "nonconforming") == []
