"""Part spec files: the shipped demos load, every bad file names its line and problem."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from inspect_station.cli import main
from inspect_station.errors import UnknownSpec
from inspect_station.locations import shipped_specs_dir
from inspect_station.spec import Kind, PartSpec, Rule, SpecFileError, SpecLibrary, Status, load_spec
from inspect_station.spec.loader import revision_key

DATA = Path(__file__).parent / "data"

BAD_SPECS = sorted((DATA / "specs").glob("*.toml"))


def test_every_shipped_spec_loads():
    files = sorted(shipped_specs_dir().glob("*.toml"))
    assert len(files) >= 3
    for path in files:
        spec = load_spec(path)
        assert path.stem == f"{spec.part_number}-{spec.revision}", "file named PART-REV.toml"


def test_shipped_specs_use_every_feature(library: SpecLibrary):
    specs = list(library.specs.values())
    chars = [ch for s in specs for ch in s.characteristic]
    units = {s.unit_of(ch) for s in specs for ch in s.characteristic if ch.kind is Kind.VARIABLE}
    assert {"mm", "in", "um", "deg"} <= units
    assert any(s.unit == "in" for s in specs)
    assert {ch.kind for ch in chars} == {Kind.VARIABLE, Kind.ATTRIBUTE}
    assert {ch.decision.rule for ch in chars} == set(Rule)
    assert any(ch.tolerance for ch in chars)
    assert any(ch.lower is not None and ch.upper is not None for ch in chars)
    assert any(ch.max is not None and ch.min is None for ch in chars)
    assert any(ch.min is not None and ch.max is None for ch in chars)
    assert any(ch.reasonable for ch in chars)
    assert any(ch.rounding == "astm-e29" for ch in chars)
    assert any(ch.decimals is not None for ch in chars)
    assert any(ch.resolution is not None for ch in chars)
    assert {s.status for s in specs} == set(Status)
    assert {ch.class_.value for ch in chars} == {"critical", "major", "minor"}
    assert {s.sampling.level for s in specs} >= {"I", "II", "S-3"}


@pytest.mark.parametrize("path", BAD_SPECS, ids=[p.stem for p in BAD_SPECS])
def test_bad_spec_names_file_line_and_problem(path: Path):
    expect = path.read_bytes().decode("utf-8", "replace").lstrip("\ufeff").splitlines()[0]
    expect = expect.removeprefix("# expect: ")
    line, _, message = expect.partition(": ")
    with pytest.raises(SpecFileError) as info:
        load_spec(path)
    first = info.value.problems[0]
    prefix = f"{path}:{line}: " if line != "-" else f"{path}: "
    assert first.startswith(prefix), first
    assert message in first, first


@pytest.mark.parametrize("path", BAD_SPECS, ids=[p.stem for p in BAD_SPECS])
def test_specs_check_cli_prints_file_line_and_fails(path: Path):
    result = CliRunner().invoke(main, ["specs", "check", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith(f"{path}:")
    assert "Traceback" not in result.output


def test_specs_check_cli_passes_shipped_specs():
    result = CliRunner().invoke(main, ["specs", "check", str(shipped_specs_dir())])
    assert result.exit_code == 0, result.output
    assert "OK: " in result.output


def test_content_hash_ignores_comments_and_layout_but_not_content(tmp_path: Path):
    source = (shipped_specs_dir() / "BRK-1042-C.toml").read_text()
    reformatted = "# a new comment\n" + source.replace(" = ", "=")
    changed = source.replace("tolerance = [-0.10, 0.10]", "tolerance = [-0.10, 0.11]")
    (tmp_path / "a.toml").write_text(source)
    (tmp_path / "b.toml").write_text(reformatted)
    (tmp_path / "c.toml").write_text(changed)
    a, b, c = (load_spec(tmp_path / f"{n}.toml") for n in "abc")
    assert a.content_hash == b.content_hash
    assert a.content_hash != c.content_hash
    assert len(a.content_hash) == 64


def test_two_revisions_coexist_and_latest_released_is_default(library: SpecLibrary):
    revisions = [s.revision for s in library.revisions("BRK-1042")]
    assert revisions == ["B", "C", "D"]
    assert library.get("BRK-1042").revision == "C"  # D is a draft
    assert library.get("BRK-1042@B", released_only=False).status is Status.OBSOLETE
    assert library.previous(library.get("BRK-1042@C")).revision == "B"
    with pytest.raises(UnknownSpec, match="draft, not released"):
        library.get("BRK-1042@D")
    with pytest.raises(UnknownSpec, match="no revision 'Z'"):
        library.get("BRK-1042@Z")
    with pytest.raises(UnknownSpec, match="No spec for part 'NOPE'"):
        library.get("NOPE")


def test_duplicate_revision_across_files_is_reported(tmp_path: Path):
    source = (shipped_specs_dir() / "BRK-1042-C.toml").read_text()
    (tmp_path / "one.toml").write_text(source)
    (tmp_path / "two.toml").write_text(source)
    lib = SpecLibrary.load([tmp_path])
    assert len(lib.specs) == 1
    assert "already defined" in lib.problems[0]
    result = CliRunner().invoke(main, ["specs", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert "is also in" in result.output


@pytest.mark.parametrize(
    ("revisions", "ordered"),
    [
        (["B", "A", "AA", "Z"], ["A", "B", "Z", "AA"]),
        (["10", "2", "1"], ["1", "2", "10"]),
    ],
)
def test_revision_order(revisions: list[str], ordered: list[str]):
    assert sorted(revisions, key=revision_key) == ordered


def test_limits_are_exact_decimals(bracket: PartSpec, shaft: PartSpec):
    assert bracket.get("1").limits == (Decimal("119.90"), Decimal("120.10"))
    assert bracket.get("3").limits == (None, Decimal("0.05"))
    assert shaft.get("3").limits == (Decimal("0.125"), None)
    assert shaft.get("1").limits == (Decimal("0.9995"), Decimal("1.0000"))
