"""The audit-readiness report: each section finds what a record made to contain it holds, a
clean record reports nothing (exit 0), and the JSON validates against the shipped schema."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import shutil
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from lots import CALIPER, GOOD, RecordedLot, record_part
from userkit import PINS, add_users

from inspect_station.audit import Context, Gauge, SyncFacts, run_audit, schema
from inspect_station.audit.render import render_json
from inspect_station.calibration import record_calibration
from inspect_station.cli import main
from inspect_station.recording import GaugeSource, Recorder
from inspect_station.records import LocalSource
from inspect_station.review.model import SignaturePolicy
from inspect_station.review.service import Review
from inspect_station.spec import load_spec
from inspect_station.sync import Shipper, open_source
from inspect_station.users import UserDirectory

NOW = dt.datetime.now(dt.UTC)


def audit(source, **options):
    """The report over ``source`` with the chains verified and nothing stale."""
    ctx = Context(source, "", today=NOW.date(), now=NOW, **options)
    ctx.chains = source.verify(sorted(source.heads))
    if ctx.sync is None:
        ctx.sync = SyncFacts(last_synced=dict.fromkeys(source.heads, NOW.isoformat()))
    return run_audit(ctx)


def checks(report) -> list[str]:
    """The check names of every finding, in order."""
    return [f.check for f in report.findings]


def section(report, key: str):
    """One section of a report."""
    return next(s for s in report.sections if s.key == key)


def validate(report) -> dict:
    """The report's JSON, validated against the shipped schema."""
    data = json.loads(render_json(report))
    jsonschema.validate(data, schema())
    return data


@pytest.fixture
def config(lot7: RecordedLot, tmp_path: Path) -> Path:
    """station.toml of TEST-1 (CAL-0042 configured), whose record is the lot7 store."""
    path = tmp_path / "station.toml"
    path.write_text(
        f'station = "TEST-1"\ndb = "{lot7.store.path}"\ncentral = "sqlite:///{tmp_path}/c.db"\n'
        "[[gauge]]\n"
        'asset = "CAL-0042"\nprofile = "mitutoyo-ascii"\nport = "loop://"\nunit = "mm"\n'
        'serial_number = "A1234567"\ncertificate = "CERT-2026-0042"\n'
        "calibrated_on = 2026-03-01\ncalibration_due = 2027-03-01\n"
    )
    return path


def run(config: Path, *args: str):
    """Invoke the command line in-process."""
    return CliRunner().invoke(main, ["--config", str(config), "audit", *args])


# -- a clean record ----------------------------------------------------------------------------


def test_a_clean_record_reports_nothing_and_exits_0(lot7: RecordedLot, config: Path, tmp_path):
    report = audit(LocalSource(lot7.store))
    assert report.findings == []
    data = validate(report)
    assert data["findings"] == 0 and [s["key"] for s in data["sections"]] == [
        "calibration",
        "nonconforming",
        "competence",
        "records",
        "spc",
    ]
    assert section(report, "spc").notes == ["0 unanswered alarms."]
    Shipper(lot7.store, f"sqlite:///{tmp_path}/c.db").ship()
    result = run(config)
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("Nothing to report.")
    result = run(config, "--format", "json", "--full-verify")
    assert result.exit_code == 0, result.output
    jsonschema.validate(json.loads(result.output), schema())


def test_the_validator_refuses_a_broken_report(lot7: RecordedLot):
    data = validate(audit(LocalSource(lot7.store)))
    data["sections"][0]["findings"].append({"clause": "x", "check": "Bad Name", "what": "w"})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema())


# -- 7.1.5.2 -----------------------------------------------------------------------------------


def test_gauges_overdue_and_due_soon(lot7: RecordedLot):
    gauges = [
        Gauge("MIC-1", NOW.date() - dt.timedelta(days=1)),
        Gauge("IND-2", NOW.date() + dt.timedelta(days=3)),
        Gauge("HGT-3", NOW.date() + dt.timedelta(days=90)),
    ]
    report = audit(LocalSource(lot7.store), gauges=gauges)
    found = {f.what.split(" ")[1]: f for f in section(report, "calibration").findings}
    assert set(found) == {"MIC-1", "IND-2"}
    assert found["MIC-1"].check == "gauge-overdue" and "station.toml" in found["MIC-1"].what
    assert found["IND-2"].check == "gauge-due-soon"
    assert found["MIC-1"].command == "inspect-station trace gauge MIC-1"
    validate(report)
    # A gauge followed by calibration records: its last passed one gives the due date.
    record = record_calibration(
        lot7.store,
        lot7.users,
        asset="BORE-7",
        result="pass",
        certificate="C-9",
        user_id="sam",
        pin=PINS["sam"],
        calibrated_on=NOW.date() - dt.timedelta(days=300),
        due=NOW.date() + dt.timedelta(days=2),
    )
    report = audit(LocalSource(lot7.store))
    (soon,) = report.findings
    assert (soon.check, soon.records) == ("gauge-due-soon", (("TEST-1", record["seq"]),))
    assert "its last calibration record" in soon.what


def test_results_taken_after_the_due_date(lot7: RecordedLot):
    lapsed = CALIPER.model_copy(update={"calibration_due": dt.date(2026, 1, 31)})
    # A station whose clock said January let the gauge feed a reading recorded now.
    recorder = Recorder(lot7.store, today=dt.date(2026, 1, 15))
    ack = recorder.measure(
        spec=lot7.spec,
        lot="L-7",
        serial="P7",
        inspector="ann",
        characteristic="1",
        value="40.00",
        source=GaugeSource(lapsed, b"01A+40.00\r"),
    )
    report = audit(LocalSource(lot7.store))
    (late,) = [f for f in report.findings if f.check == "result-after-due"]
    assert late.records == (("TEST-1", ack.seq),)
    assert "1 result taken with gauge CAL-0042 after its calibration due date (2026-01-31)" in (
        late.what
    )
    assert late.clause == "ISO 9001 7.1.5.2"
    assert late.command.startswith("inspect-station trace gauge CAL-0042 --since ")
    overdue = [f for f in report.findings if f.check == "gauge-overdue"]
    assert overdue == []  # its latest recorded due date (2027-03-01) is still ahead


def test_a_failed_calibration_makes_results_since_the_last_good_one_suspect(lot7: RecordedLot):
    gauge_results = [
        r for r in lot7.store.records() if r["kind"] == "measurement" and r["body"]["gauge"]
    ]
    record_calibration(
        lot7.store,
        lot7.users,
        asset="CAL-0042",
        result="pass",
        certificate="C-OLD",
        user_id="sam",
        pin=PINS["sam"],
        calibrated_on=dt.date(2026, 3, 1),
        due=dt.date(2027, 3, 1),
    )
    report = audit(LocalSource(lot7.store))
    assert report.findings == []
    record_calibration(
        lot7.store,
        lot7.users,
        asset="CAL-0042",
        result="fail",
        certificate="C-FAIL",
        user_id="kim",
        pin=PINS["kim"],
    )
    report = audit(LocalSource(lot7.store))
    suspect = next(f for f in report.findings if f.check == "result-suspect")
    assert suspect.records == tuple(("TEST-1", r["seq"]) for r in gauge_results)
    assert f"{len(gauge_results)} results taken with it since its last good calibration " in (
        suspect.what
    )
    assert suspect.command == "inspect-station trace gauge CAL-0042 --since 2026-03-01"
    assert "gauge-failed" in checks(report)
    validate(report)


# -- 8.7 ---------------------------------------------------------------------------------------


def test_rejects_without_disposition_awaiting_and_without_second_signer(lot7: RecordedLot):
    rec = lot7.recorder
    record_part(rec, lot7.spec, "L-7", "P8", {**GOOD, "1": "40.09"}, defect="D01", note="n")
    record_part(rec, lot7.spec, "L-7", "P9", {**GOOD, "1": "40.09"}, defect="D01", note="n")
    record_part(rec, lot7.spec, "L-7", "P10", {**GOOD, "1": "40.09"}, defect="D01", note="n")
    lot7.review().sign(lot7.reject_of("P9"), "use-as-is", "ok", user_id="sam", pin=PINS["sam"])
    lax = Review(LocalSource(lot7.store), lot7.store, lot7.users, SignaturePolicy(frozenset()))
    lax.sign(lot7.reject_of("P10"), "repair", "fixed", user_id="sam", pin=PINS["sam"])
    report = audit(LocalSource(lot7.store))
    found = {f.check: f for f in section(report, "nonconforming").findings}
    assert set(found) == {"reject-undisposed", "awaiting-second-signature", "no-second-signer"}
    p8 = lot7.reject_of("P8")
    assert found["reject-undisposed"].what.startswith(
        f"Reject {p8[:8]} of part P8 of lot L-7 (PLT-77), closed "
    )
    assert found["reject-undisposed"].command == f"inspect-station rejects show {p8[:8]}"
    assert "awaits a second signature: 1 of 2" in found["awaiting-second-signature"].what
    assert "signed by 1 person only (sam)" in found["no-second-signer"].what
    assert len(found["no-second-signer"].records) == 2  # the reject and its disposition
    validate(report)


# -- 7.2 ---------------------------------------------------------------------------------------


def test_inspections_by_unqualified_users_and_unacknowledged_revisions(
    lot7: RecordedLot, plate, tmp_path: Path
):
    admin = UserDirectory(lot7.store)
    add_users(lot7.store, [("tom", "Tom Trainee", "inspector", "864209", ["HSG-*"])])
    # Recorded by a user qualified for HSG-* only (the recorder itself does not judge people).
    record_part(lot7.recorder, lot7.spec, "L-7", "T1", GOOD, inspector="tom")
    text = plate.model_dump  # noqa: F841  (the spec object is what the recorder needs)
    path = tmp_path / "PLT-77-C.toml"
    from lots import PLATE

    path.write_text(PLATE.replace('revision = "B"', 'revision = "C"'), encoding="utf-8")
    rev_c = load_spec(path)
    record_part(lot7.recorder, rev_c, "L-8", "C1", GOOD)
    report = audit(LocalSource(lot7.store))
    found = {f.check: f for f in section(report, "competence").findings}
    assert set(found) == {"not-qualified", "revision-not-acknowledged"}
    assert "1 inspection of PLT-77 at TEST-1 by tom, who was not qualified for PLT-77 " in (
        found["not-qualified"].what
    )
    assert "(qualified: HSG-*)" in found["not-qualified"].what
    assert found["revision-not-acknowledged"].what.startswith(
        "ann first inspected PLT-77 revision C at TEST-1 (lot L-8"
    )
    assert "since revision B" in found["revision-not-acknowledged"].what
    # Acknowledged before the first use: no finding.
    ann = admin.get("ann")
    assert ann is not None
    validate(report)


# -- records -----------------------------------------------------------------------------------


def test_a_broken_chain_and_a_station_not_synced(lot7: RecordedLot):
    lot7.store.conn.execute("DROP TRIGGER journal_no_update")
    lot7.store.conn.execute("UPDATE journal SET ts = '2026-01-01T00:00:00.000000Z' WHERE seq = 5")
    ctx = Context(LocalSource(lot7.store), "--db x.db", today=NOW.date(), now=NOW)
    ctx.chains = ctx.source.verify(["TEST-1"])
    ctx.sync = SyncFacts(last_synced={"TEST-1": "2026-01-01T00:00:00.000000Z"})
    report = run_audit(ctx)
    found = {f.check: f for f in section(report, "records").findings}
    assert set(found) == {"chain-broken", "not-synced"}
    assert found["chain-broken"].records == (("TEST-1", 5),)
    assert found["chain-broken"].command == "inspect-station verify --db x.db"
    assert "has not been synced for more than 24 hours (last synced 2026-01-01" in (
        found["not-synced"].what
    )


def test_the_cli_exit_codes_and_formats(lot7: RecordedLot, config: Path, tmp_path: Path):
    record_part(
        lot7.recorder, lot7.spec, "L-7", "<P&11>", {**GOOD, "1": "40.09"}, defect="D01", note="n"
    )
    result = run(config)  # never synced, one reject without disposition
    assert result.exit_code == 1, result.output
    assert "[reject-undisposed] Reject" in result.output
    assert "[not-synced] Station TEST-1 has not been synced" in result.output
    out = tmp_path / "audit.html"
    result = run(config, "--format", "html", "--out", str(out))
    assert result.exit_code == 1
    page = out.read_text(encoding="utf-8")
    assert "&lt;P&amp;11&gt;" in page and "<P&11>" not in page

    class Parser(HTMLParser):
        pass

    Parser().feed(page)  # well-formed enough to parse
    result = run(config, "--out", str(tmp_path / "no" / "such" / "dir.txt"))
    assert result.exit_code == 2 and "Cannot write the report to" in result.output
    assert "Traceback" not in result.output
    result = run(config, "--db", str(tmp_path / "missing.db"))
    assert result.exit_code == 2 and "Traceback" not in result.output
    result = run(config, "--db", "x", "--central", "sqlite:///y")
    assert result.exit_code == 2


def test_the_same_findings_from_a_central_store(lot7: RecordedLot, central_url: str):
    record_part(
        lot7.recorder, lot7.spec, "L-7", "P12", {**GOOD, "1": "40.09"}, defect="D01", note="n"
    )
    Shipper(lot7.store, central_url).ship()
    local = audit(LocalSource(lot7.store))
    with open_source(central_url) as source:
        central = audit(source)
    assert checks(central) == checks(local) == ["reject-undisposed"]
    assert central.findings[0].records == local.findings[0].records
    validate(central)


def test_a_record_in_a_folder_with_a_space_is_named_quoted_in_every_command(
    lot7: RecordedLot, config: Path, tmp_path
):
    """The commands a finding names can be pasted into a shell as they are."""
    folder = tmp_path / "copies of records"
    folder.mkdir()
    copy = folder / "bench 3.db"
    for part in lot7.store.path.parent.glob(lot7.store.path.name + "*"):  # the file and its WAL
        shutil.copy(part, folder / part.name.replace(lot7.store.path.name, copy.name))
    result = run(config, "--db", str(copy), "--format", "json", "--stale-hours", "1")
    data = json.loads(result.stdout)
    commands = [f["command"] for s in data["sections"] for f in s["findings"]]
    assert commands, result.output
    with_db = [c for c in commands if "--db" in c]
    assert with_db, commands
    for command in with_db:
        assert shlex.split(command)[-2:] == ["--db", str(copy)]
