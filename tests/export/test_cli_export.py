"""The export, trace, rejects and disposition commands as a script or a person uses them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from lots import RecordedLot
from userkit import PINS

from inspect_station.cli import main

ANN_IN, SAM_IN, KIM_IN = (PINS[who] + "\n" for who in ("ann", "sam", "kim"))


@pytest.fixture
def config(lot7: RecordedLot, tmp_path: Path) -> Path:
    """A station.toml for station TEST-1 whose record is the lot7 store."""
    path = tmp_path / "station.toml"
    path.write_text(f'station = "TEST-1"\ndb = "{lot7.store.path}"\n')
    return path


def run(config: Path, *args: str, stdin: str | None = None):
    """Invoke the command line in-process."""
    return CliRunner().invoke(main, ["--config", str(config), *args], input=stdin)


def test_export_lot_writes_the_file_and_its_manifest(config: Path, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(config, "export", "lot", "L-7", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "Wrote L-7.json (25 measurement records" in result.output
    assert "chain TEST-1: OK" in result.output
    check = subprocess.run(["sha256sum", "-c", "L-7.json.sha256"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads(Path("L-7.json").read_text())["lot"]["lot"] == "L-7"


def test_export_to_standard_output_puts_the_manifest_on_stderr(config: Path):
    result = CliRunner().invoke(
        main, ["--config", str(config), "export", "lot", "L-7", "--format", "dfq", "--out", "-"]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.startswith(b"K0100 4\r\n")
    assert "# lot decision: ACCEPT" in result.stderr and result.stderr.rstrip().endswith("  -")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NOPE"], "Error: There is no lot 'NOPE' in the local record"),
        (["L-EMPTY"], "Error: Lot L-EMPTY has no measurements yet; there is nothing to export."),
        (["L-7", "--out", "exists.csv"], "already exists; give --force to overwrite it."),
    ],
)
def test_export_refusals_are_one_sentence_and_exit_2(
    config: Path, lot7: RecordedLot, tmp_path: Path, monkeypatch, args, message
):
    monkeypatch.chdir(tmp_path)
    lot7.recorder.open_lot("L-EMPTY", lot7.spec, "ann", lot_size=5)
    Path("exists.csv").write_text("old")
    result = run(config, "export", "lot", *args)
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert Path("exists.csv").read_text() == "old"
    assert run(config, "export", "lot", "L-7", "--out", "exists.csv", "--force").exit_code == 0


def test_a_broken_chain_is_exported_but_exits_1(config: Path, lot7: RecordedLot, tmp_path: Path):
    lot7.store.conn.execute("DROP TRIGGER journal_no_update")
    lot7.store.conn.execute("UPDATE journal SET ts = '2020-01-01T00:00:00.000000Z' WHERE seq = 5")
    result = run(config, "export", "lot", "L-7", "--out", str(tmp_path / "x.csv"))
    assert result.exit_code == 1
    assert "chain TEST-1: BROKEN at seq 5" in result.output
    assert (tmp_path / "x.csv").exists()


def test_trace_gauge_as_table_and_csv(config: Path):
    table = run(config, "trace", "gauge", "CAL-0042")
    assert table.exit_code == 0 and len(table.output.splitlines()) == 7
    as_csv = run(config, "trace", "gauge", "CAL-0042", "--format", "csv", "--since", "2020-01-01")
    assert as_csv.output.splitlines()[0].startswith("measured_at,station,seq,uuid,lot")
    none = run(config, "trace", "gauge", "CAL-0042", "--since", "2999-01-01")
    assert (
        none.exit_code == 0
        and "No results were taken with gauge CAL-0042 since 2999" in none.output
    )


def test_rejects_and_disposition_from_the_command_line(config: Path, lot7: RecordedLot):
    from lots import GOOD, record_part

    record_part(
        lot7.recorder, lot7.spec, "L-8", "Q1", {**GOOD, "3": "0.030"}, defect="D03", note="dent"
    )
    listed = run(config, "rejects", "list", "--json")
    (item,) = [json.loads(line) for line in listed.output.splitlines()]
    assert (item["serial"], item["status"]) == ("Q1", "awaiting disposition")
    shown = run(config, "rejects", "show", item["reject"][:8])
    assert "Flatness, face A" in shown.output and "upper by 0.010" in shown.output
    wrong = run(
        config, "disposition", "sign", item["reject"][:8], "--disposition", "use-as-is",
        "--reason", "flat enough for the gasket", "--user", "sam", "--pin-stdin", stdin="1111\n",
    )  # fmt: skip
    assert wrong.exit_code == 2
    assert "Error: Wrong PIN; nothing was signed (4 tries left)." in wrong.output
    inspector = run(
        config, "disposition", "sign", item["reject"][:8], "--disposition", "scrap",
        "--reason", "dent", "--user", "ann", "--pin-stdin", stdin=ANN_IN,
    )  # fmt: skip
    assert inspector.exit_code == 2 and "Only a supervisor can sign" in inspector.output
    signed = run(
        config, "disposition", "sign", item["reject"][:8], "--disposition", "use-as-is",
        "--reason", "flat enough for the gasket", "--user", "sam", "--pin-stdin", stdin=SAM_IN,
    )  # fmt: skip
    assert signed.exit_code == 0, signed.output
    assert "A second signature is required" in signed.output
    waiting = run(config, "rejects", "list")
    assert "awaiting second signature" in waiting.output
    cosigned = run(
        config, "disposition", "cosign", item["reject"][:8], "--user", "kim", "--pin-stdin",
        stdin=KIM_IN,
    )  # fmt: skip
    assert cosigned.exit_code == 0 and "Kim Park (kim), second approval" in cosigned.output
    assert run(config, "rejects", "list").output.strip() == "No rejects await disposition."
    again = run(
        config, "disposition", "sign", item["reject"][:8], "--disposition", "scrap",
        "--reason", "changed my mind", "--user", "kim", "--pin-stdin", stdin=KIM_IN,
    )  # fmt: skip
    assert again.exit_code == 2 and "was already disposed as use as is" in again.output


@pytest.fixture
def auditor(tmp_path: Path) -> Path:
    """A station.toml for another station, AUDIT-9, whose own record does not exist yet."""
    path = tmp_path / "auditor.toml"
    path.write_text(f'station = "AUDIT-9"\ndb = "{tmp_path / "audit.db"}"\n')
    return path


def test_a_record_copied_from_another_station_is_read_with_db(
    auditor: Path, lot7: RecordedLot, tmp_path: Path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    db = str(lot7.store.path)
    head = lot7.store.head()
    verified = run(auditor, "verify", "--db", db)
    assert verified.exit_code == 0, verified.output
    assert f"{db}: OK: {head[0]} records, chain and projections verified." in verified.output
    exported = run(auditor, "export", "lot", "L-7", "--format", "json", "--db", db)
    assert exported.exit_code == 0, exported.output
    assert "chain TEST-1: OK" in exported.output
    assert json.loads(Path("L-7.json").read_text())["source"]["kind"] == "local"
    traced = run(auditor, "trace", "gauge", "CAL-0042", "--format", "csv", "--db", db)
    assert traced.exit_code == 0 and len(traced.output.splitlines()) == 7
    listed = run(auditor, "rejects", "list", "--all", "--json", "--db", db)
    assert listed.exit_code == 0, listed.output
    (item,) = [json.loads(line) for line in listed.output.splitlines()]
    assert (item["station"], item["serial"], item["status"]) == ("TEST-1", "P2", "disposed")
    shown = run(auditor, "rejects", "show", item["reject"][:8], "--db", db)
    assert shown.exit_code == 0 and "disposition: Rework" in shown.output
    # Read only: the copy holds the same chain, and the auditor's own record was not made.
    assert lot7.store.head() == head
    assert not (tmp_path / "audit.db").exists()


def test_signing_into_another_station_s_record_is_refused(auditor: Path, lot7: RecordedLot):
    from lots import GOOD, record_part

    record_part(lot7.recorder, lot7.spec, "L-8", "Q1", {**GOOD, "3": "0.030"}, defect="D03")
    head = lot7.store.head()
    reject = lot7.reject_of("Q1")
    signed = run(
        auditor, "disposition", "sign", reject[:8], "--disposition", "scrap", "--reason", "dent",
        "--user", "sam", "--pin-stdin", "--db", str(lot7.store.path), stdin=SAM_IN,
    )  # fmt: skip
    assert signed.exit_code == 2
    assert "belongs to station 'TEST-1', not 'AUDIT-9'" in signed.output
    assert lot7.store.head() == head


@pytest.mark.parametrize(
    "command",
    [["verify"], ["export", "lot", "L-7"], ["trace", "gauge", "CAL-0042"], ["rejects", "list"]],
)
def test_a_missing_db_file_is_one_sentence_and_not_created(
    auditor: Path, tmp_path: Path, command: list[str]
):
    missing = tmp_path / "copies" / "bench.db"
    result = run(auditor, *command, "--db", str(missing))
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: There is no local record at {missing}."
    assert not missing.parent.exists()


def test_disposition_sign_follows_the_second_signer_policy_of_station_toml(
    config: Path, lot7: RecordedLot
):
    from lots import GOOD, record_part

    config.write_text(config.read_text() + 'second_signer = ["scrap"]\n')
    for serial in ("Q1", "Q2", "Q3"):
        record_part(lot7.recorder, lot7.spec, "L-8", serial, {**GOOD, "3": "0.030"}, defect="D03")

    def sign(serial: str, kind: str, *options: str):
        return run(
            config, "disposition", "sign", lot7.reject_of(serial)[:8], "--disposition", kind,
            "--reason", "dent", "--user", "sam", "--pin-stdin", *options, stdin=SAM_IN,
        )  # fmt: skip

    scrapped = sign("Q1", "scrap")
    assert scrapped.exit_code == 0, scrapped.output
    assert "A second signature is required" in scrapped.output
    conceded = sign("Q2", "use-as-is")
    assert conceded.exit_code == 0 and "second signature" not in conceded.output
    # The caller cannot override the plant's policy from the command line.
    overridden = sign("Q3", "scrap", "--second-signer-for", "use-as-is")
    assert overridden.exit_code == 2 and "No such option '--second-signer-for'" in overridden.output
    assert sign("Q3", "rework").exit_code == 0
    # Each disposition records the policy it was signed under, and where it came from.
    policies = [
        r["body"]["signature_policy"] for r in lot7.store.records() if r["kind"] == "disposition"
    ]
    assert (
        policies[-3:] == [{"second_signer": ["scrap"], "source": f"second_signer in {config}"}] * 3
    )
    listed = run(config, "rejects", "list", "--lot", "L-8", "--all", "--json")
    statuses = {
        json.loads(line)["serial"]: json.loads(line)["status"]
        for line in listed.output.splitlines()
    }
    assert statuses == {
        "Q1": "awaiting second signature",
        "Q2": "disposed",
        "Q3": "disposed",
    }


def test_ages_are_parsed_and_bad_ones_refused(config: Path):
    assert run(config, "rejects", "list", "--older-than", "3d").exit_code == 0
    bad = run(config, "rejects", "list", "--older-than", "soon")
    assert bad.exit_code == 2 and "'soon' is not an age such as 90m, 12h, 3d or 2w" in bad.output


@pytest.mark.parametrize(
    "command",
    [
        ["export"],
        ["export", "lot"],
        ["trace"],
        ["trace", "gauge"],
        ["rejects"],
        ["rejects", "list"],
        ["rejects", "show"],
        ["disposition"],
        ["disposition", "sign"],
        ["disposition", "cosign"],
    ],
)
def test_every_command_has_help(command: list[str]):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    summary = result.output.split("\n\n")[1].strip()
    assert len(summary) > 15
