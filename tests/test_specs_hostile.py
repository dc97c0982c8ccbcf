"""One hostile spec file never takes the station down: it is skipped with its file:line reason,
every other spec still loads (specs list, record, the station UI), and `specs check` refuses
everything `record` would later choke on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from propertykit import examples
from userkit import PINS, add_users

from inspect_station.cli.core import spec_skipped
from inspect_station.config import StationConfig
from inspect_station.errors import ReadingError
from inspect_station.evaluate import evaluate
from inspect_station.locations import shipped_specs_dir
from inspect_station.spec import PartSpec, SpecLibrary
from inspect_station.store import LocalStore
from inspect_station.wiring import build_service

DATA = Path(__file__).parent / "data" / "specs"
SHIPPED = sorted(shipped_specs_dir().glob("*.toml"))
BAD = sorted(DATA.glob("*.toml"))


@pytest.fixture
def specs_dir(tmp_path: Path) -> Path:
    """The shipped specs, every bad and hostile spec file, a named pipe and a 2 MB file."""
    folder = tmp_path / "specs"
    folder.mkdir()
    for path in [*SHIPPED, *BAD]:
        shutil.copy(path, folder / path.name)
    os.mkfifo(folder / "zz-pipe.toml")
    (folder / "zz-huge.toml").write_text("# " + "x" * 2_000_000 + "\n")
    return folder


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command (a named pipe in the folder must not make it wait)."""
    return subprocess.run(
        [sys.executable, "-m", "inspect_station", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_library_skips_each_bad_file_with_its_reason_and_loads_the_rest(specs_dir: Path):
    library = SpecLibrary.load([specs_dir])
    assert sorted(library.sources.values()) == sorted(specs_dir / p.name for p in SHIPPED)
    named = {problem.split(":", 1)[0] for problem in library.problems}
    expected = {str(specs_dir / p.name) for p in BAD}
    expected |= {str(specs_dir / "zz-pipe.toml"), str(specs_dir / "zz-huge.toml")}
    assert named == expected
    assert not any("cannot be read as a part spec" in p for p in library.problems)


def test_specs_list_and_record_go_on_with_the_good_specs(specs_dir: Path, tmp_path: Path):
    listed = cli("specs", "list", "--specs", str(specs_dir))
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == len(SHIPPED)
    warnings = listed.stderr.splitlines()
    assert len(warnings) >= len(BAD) + 2 and all(w.startswith("warning: ") for w in warnings)
    assert "Traceback" not in listed.stderr
    db = tmp_path / "station.db"
    with LocalStore(db, os.uname().nodename) as store:
        add_users(store, [("ann", "Ann Lee", "inspector", PINS["ann"], ["*"])])
    recorded = cli(
        "record", "--specs", str(specs_dir), "--spec", "BRK-1042", "--lot", "L1",
        "--inspector", "ann", "--serial", "S1", "--db", str(db), "1=120.01", "3=0.01",
    )  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr
    assert len(recorded.stdout.splitlines()) == 2
    assert cli("verify", "--db", str(db)).returncode == 0


def test_specs_check_names_every_bad_file_and_fails(specs_dir: Path):
    checked = cli("specs", "check", str(specs_dir))
    assert checked.returncode == 1
    assert "Traceback" not in checked.stdout + checked.stderr
    named = {line.split(":", 1)[0] for line in checked.stdout.splitlines()}
    assert {str(specs_dir / p.name) for p in BAD} <= named


def test_the_station_ui_starts_on_the_good_specs(specs_dir: Path, tmp_path: Path, capsys):
    config = StationConfig(station="B1", db=tmp_path / "b1.db", specs=[specs_dir])
    service = build_service(config, warn=spec_skipped)  # as the station command builds it
    try:
        assert {s.key for s in service.library.released()} >= {"BRK-1042@C", "SHF-220@A"}
        assert "file skipped" in capsys.readouterr().err
    finally:
        service.store.close()
    with LocalStore(tmp_path / "b1.db", "B1") as store:
        assert store.verify().ok


# -- what specs check accepts, record can judge ----------------------------------------------

NUMBERS = st.one_of(
    st.sampled_from(["0", "1", "-1", "0.001", "120.00", "-0.10", "0.10", "1e-70", "1e999",
                     "inf", "nan", "1_0", "١", "", " 1", "+5", "0.0000000000000000000000000001"]),
    st.builds(lambda a, b: f"{a}.{b}", st.integers(-(10**15), 10**15),
              st.integers(0, 10**14)),
    st.integers(-(10**40), 10**40),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)  # fmt: skip
CHARACTERISTIC = st.fixed_dictionaries(
    {"id": st.just("1"), "name": st.just("x")},
    optional={
        "nominal": NUMBERS,
        "tolerance": st.lists(NUMBERS, min_size=2, max_size=2),
        "lower": NUMBERS,
        "upper": NUMBERS,
        "min": NUMBERS,
        "max": NUMBERS,
        "resolution": NUMBERS,
        "decimals": st.integers(-2, 12),
        "rounding": st.sampled_from(["none", "astm-e29"]),
        "reasonable": st.lists(NUMBERS, min_size=2, max_size=2),
        "unit": st.sampled_from(["mm", "in", "um"]),
        "decision": st.fixed_dictionaries(
            {"rule": st.sampled_from(["simple", "guard-band", "custom"])},
            optional={"uncertainty": NUMBERS, "guard": NUMBERS},
        ),
    },
)
READINGS = st.one_of(NUMBERS.filter(lambda t: isinstance(t, str)), st.text(max_size=12))


@settings(max_examples=examples(600), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(char=CHARACTERISTIC, readings=st.lists(READINGS, max_size=4),
       unit=st.sampled_from([None, "mm", "in", "um"]))  # fmt: skip
def test_a_spec_that_validates_judges_every_reading_or_says_why(char, readings, unit):
    data = {"part_number": "P", "revision": "A", "status": "released", "characteristic": [char]}
    try:
        spec = PartSpec.model_validate(data)
    except ValueError:
        return  # specs check reports it with file:line (tested above)
    assert len(spec.content_hash) == 64
    ch = spec.characteristic[0]
    ch.limits_record(spec.unit_of(ch))
    for reading in readings:
        try:
            result = evaluate(reading, unit, ch, spec)
        except ReadingError:
            continue
        assert result.verdict.value in ("pass", "fail")
