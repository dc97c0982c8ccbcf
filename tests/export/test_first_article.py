"""First-article declarations: `record --first-article` records one, `export fai` shows it (FAIR
number, the declaration in the Form 1 header) and refuses a part nobody declared."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from lots import GOOD, PLATE, RecordedLot, ship

from inspect_station.cli import main
from inspect_station.export.fai import load_form3
from inspect_station.first_article import FirstArticleError, declare_first_article
from inspect_station.records import LocalSource
from inspect_station.sync import open_source


@pytest.fixture
def config(lot7: RecordedLot, tmp_path: Path) -> Path:
    """station.toml of TEST-1 (specs: PLT-77 B), whose record is the lot7 store."""
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "PLT-77-B.toml").write_text(PLATE, encoding="utf-8")
    path = tmp_path / "station.toml"
    path.write_text(
        f'station = "TEST-1"\norganisation = "Acme Aero"\ndb = "{lot7.store.path}"\n'
        f'specs = ["{specs}"]\n'
    )
    return path


def run(config: Path, *args: str, input: str | None = None):
    """Invoke the command line in-process."""
    return CliRunner().invoke(main, ["--config", str(config), *args], input=input)


def record_args(serial: str | None, lot: str = "L-9") -> list[str]:
    """A record command measuring every characteristic of PLT-77 B."""
    args = ["record", "--spec", "PLT-77", "--lot", lot, "--inspector", "ann"]
    if serial:
        args += ["--serial", serial]
    return [*args, *(f"{c}={v}" for c, v in GOOD.items())]


def first_articles(lot7: RecordedLot) -> list[dict]:
    """The first_article records of the journal."""
    return [r for r in lot7.store.records() if r["kind"] == "first_article"]


def test_record_first_article_declares_the_part_once(config: Path, lot7: RecordedLot, tmp_path):
    args = record_args("FA-1")
    result = run(config, *args[:1], "--first-article", "--fair-number", "FAIR-0042", *args[1:])
    assert result.exit_code == 0, result.output
    assert "First article recorded: declared: part FA-1 is a first article (by ann" in (
        result.stderr
    )
    (record,) = first_articles(lot7)
    body = record["body"]
    assert (body["lot"], body["serial"], body["scope"]) == ("L-9", "FA-1", "part")
    assert (body["fair_number"], body["declared_by"]) == ("FAIR-0042", "ann")
    assert body["spec_hash"] == lot7.spec.content_hash
    # Declaring it again records nothing.
    again = run(config, "record", "--first-article", *record_args("FA-1")[1:], "--reason", "re")
    assert again.exit_code == 0, again.output
    assert "already recorded" in again.stderr and len(first_articles(lot7)) == 1
    assert lot7.store.verify().ok

    out = tmp_path / "fa.csv"
    result = run(config, "export", "fai", "FA-1", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert rows[0]["fair_number"] == "FAIR-0042"
    assert rows[0]["first_article"].startswith("declared: part FA-1 is a first article (by ann")
    assert f"record TEST-1:{record['seq']}" in rows[0]["first_article"]


def test_a_lot_declaration_covers_every_part_of_the_lot(config: Path, lot7: RecordedLot):
    result = run(config, "record", "--first-article", *record_args(None)[1:], "--serial", "A1")
    assert result.exit_code == 0, result.output
    # --serial given: the part; now the lot itself, through the library (a lot has no --serial).
    declared, new = declare_first_article(lot7.store, lot7.spec, "L-9", None, "sam")
    assert new and declared.scope == "lot"
    form = load_form3(LocalSource(lot7.store), "A1")
    assert form.declared and "part A1" in form.first_article
    result = run(config, *record_args("A2"))
    assert result.exit_code == 0, result.output
    form = load_form3(LocalSource(lot7.store), "A2")
    assert form.declared and "every part of lot L-9" in form.first_article
    assert form.fair_number == "PLT-77-B-A2" and form.fair_number_derived


def test_export_fai_refuses_an_undeclared_part_and_drafts_it_on_request(
    config: Path, tmp_path: Path
):
    out = tmp_path / "p1.html"
    result = run(config, "export", "fai", "P1", "--out", str(out))
    assert result.exit_code == 2
    assert result.output == (
        "Error: Part P1 of lot L-7 is not declared a first article in the record "
        "(record --first-article); give --undeclared for a draft form.\n"
    )
    assert not out.exists()
    result = run(config, "export", "fai", "P1", "--out", str(out), "--undeclared")
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "NOT DECLARED" in page and "this is a draft, not a FAIR" in page


def test_a_declaration_needs_its_lot_of_the_same_part(lot7: RecordedLot):
    with pytest.raises(FirstArticleError, match="There is no lot L-404"):
        declare_first_article(lot7.store, lot7.spec, "L-404", "X", "ann")
    other = lot7.spec.model_copy(update={"revision": "C"})
    with pytest.raises(FirstArticleError, match="is a lot of PLT-77 revision B, not PLT-77"):
        declare_first_article(lot7.store, other, "L-7", "P1", "ann")
    assert first_articles(lot7) == []


def test_hostile_text_in_a_declaration_is_refused_and_nothing_recorded(config: Path, lot7):
    result = run(
        config, "record", "--first-article", "--fair-number", "F\x1b[2J", *record_args("Z")[1:]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "FAIR number" in result.output
    assert first_articles(lot7) == []


def test_the_declaration_reaches_the_central_store(lot7: RecordedLot, central_url: str):
    declare_first_article(lot7.store, lot7.spec, "L-7", "P5", "ann", fair_number="F-5")
    ship(lot7.store, central_url)
    with open_source(central_url) as source:
        form = load_form3(source, "P5")
        assert source.verify(["TEST-1"])[0].ok
    assert form.declared and form.fair_number == "F-5"
    assert "part P5 is a first article (by ann" in form.first_article
