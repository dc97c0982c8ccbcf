"""The capability report read from a station's record: figures, superseded/manual, limits, rules."""

from __future__ import annotations

import datetime as dt
import math
import random
import tempfile
from decimal import Decimal
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportkit import GRIDDLE, correct, griddle, record_values

from inspect_station import clock
from inspect_station.records import LocalSource
from inspect_station.reports import spc as report_module
from inspect_station.reports.spc import ReportScope, SpcReportError, spc_report
from inspect_station.reports.spc_html import render_html
from inspect_station.reports.spc_model import schema
from inspect_station.reports.spc_text import render_table
from inspect_station.spc import SpcSettings, derive_limits
from inspect_station.spec import PartSpec
from inspect_station.store import LocalStore

HAND = ["50.010", "49.990", "50.020", "50.000", "49.980"]
"""Five readings whose figures are worked out by hand below."""


def _report(store: LocalStore, **scope: str) -> dict:
    return spc_report(LocalSource(store), ReportScope(**scope)).json()


def _char(doc: dict, char: str) -> dict:
    return next(c for c in doc["characteristics"] if c["id"] == char)


def test_figures_match_a_hand_computation(store: LocalStore, grd: PartSpec) -> None:
    # mean 50.000; deviations .01 -.01 .02 0 -.02: s = sqrt(.001 / 4) = 0.0158114;
    # moving ranges .02 .03 .02 .02: MR-bar .0225, sigma within .0225 / 1.128 = 0.0199468;
    # Cp = .06 / (6 * .0199468) = 0.501, Pp = .06 / (6 * .0158114) = 0.632; centred: Cpk = Cp.
    record_values(store, grd, "L-1", "1", HAND)
    c = _char(_report(store, lot="L-1"), "1")
    assert (c["n"], c["manual"], c["superseded_excluded"]) == (5, 0, 0)
    assert (c["lower"], c["upper"]) == ("49.970", "50.030")
    assert c["mean"] == "50.00000"
    assert c["sigma_within"] == "0.01995"
    assert c["sigma_overall"] == "0.01581"
    assert (c["cp"], c["cpk"], c["pp"], c["ppk"]) == ("0.50", "0.50", "0.63", "0.63")
    assert c["normality"] is None  # fewer than 8 readings
    assert c["limits"] is None and c["violations"] == []
    assert any("first 25 are needed" in note for note in c["notes"])


def test_superseded_readings_are_left_out_and_manual_ones_counted(
    store: LocalStore, grd: PartSpec
) -> None:
    wrong = [*HAND[:2], "50.200", *HAND[3:]]
    uuids = record_values(store, grd, "L-1", "1", wrong, manual=[1])
    fixed = correct(store, grd, "L-1", "S0003", "1", HAND[2])
    doc = _report(store, part_number="GRD-5")
    c = _char(doc, "1")
    # The corrected value replaced the wrong one: the same figures as the hand computation.
    assert (c["n"], c["superseded_excluded"]) == (5, 1)
    assert c["manual"] == 2  # the hand-entered reading and the (manual) correction
    assert (c["mean"], c["sigma_overall"], c["cpk"]) == ("50.00000", "0.01581", "0.50")
    assert uuids[2] != fixed


def test_one_sided_limits_give_only_the_one_sided_index(store: LocalStore, grd: PartSpec) -> None:
    record_values(store, grd, "L-1", "2", ["0.010", "0.014", "0.008", "0.012", "0.016"])
    record_values(store, grd, "L-1", "3", ["2.030", "2.026", "2.034", "2.028", "2.032"])
    doc = _report(store, lot="L-1")
    runout, wall = _char(doc, "2"), _char(doc, "3")
    for c in (runout, wall):
        assert c["cp"] is None and c["pp"] is None
    # Runout: mean .012, MR-bar (.004+.006+.004+.004)/4 = .0045, sigma within .0045/1.128;
    # CPU = (.040 - .012) / (3 * .0039894) = 2.34; s = sqrt(.00004/4) = .0031623, PPU = 2.95.
    assert (runout["upper"], runout["lower"]) == ("0.040", None)
    assert (runout["cpk"], runout["cpu"], runout["cpl"]) == ("2.34", "2.34", None)
    assert runout["ppk"] == "2.95"
    # Wall: mean 2.030, moving ranges .004 .008 .006 .004: MR-bar .0055, sigma within
    # .0055 / 1.128 = .0048759, CPL = (2.030 - 2.000) / (3 * .0048759) = 2.05.
    assert (wall["lower"], wall["upper"]) == ("2.000", None)
    assert (wall["cpk"], wall["cpl"], wall["cpu"]) == ("2.05", "2.05", None)
    assert "Visual" not in {c["name"] for c in doc["characteristics"]}  # attributes have none


def test_subgroups_use_the_range_over_d2(store: LocalStore, grd: PartSpec) -> None:
    second = ["50.005", "50.015", "49.995", "50.000", "50.010"]
    record_values(store, grd, "L-1", "1", [*HAND, *second])
    report = spc_report(
        LocalSource(store), ReportScope(lot="L-1"), settings={"1": SpcSettings(subgroup_size=5)}
    )
    c = report.json()["characteristics"][0]
    # Ranges .040 and .020: R-bar .030, sigma within .030 / d2(5) = .030 / 2.326 = 0.012898.
    assert (c["subgroup_size"], c["sigma_within"]) == (5, "0.01290")
    assert c["cp"] == "0.78"  # .06 / (6 * .012898) = 0.775


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.integers(min_value=-40, max_value=40), min_size=2, max_size=30))
def test_figures_agree_with_numpy_on_random_readings(grd: PartSpec, steps: list[int]) -> None:
    values = [f"{Decimal(50) + Decimal(k) / 1000:.3f}" for k in steps]
    with (
        tempfile.TemporaryDirectory() as folder,
        LocalStore(Path(folder) / "s.db", "TEST-1") as store,
    ):
        record_values(store, grd, "L-1", "1", values)
        c = _char(_report(store, lot="L-1"), "1")
    xs = np.array([float(v) for v in values])
    mean, sd = xs.mean(), xs.std(ddof=1)
    within = np.abs(np.diff(xs)).mean() / 1.128
    assert c["n"] == len(values)
    assert abs(float(c["mean"]) - mean) <= 0.5e-5 + 1e-12
    assert abs(float(c["sigma_overall"]) - sd) <= 0.5e-5 + 1e-12
    assert abs(float(c["sigma_within"]) - within) <= 0.5e-5 + 1e-12
    lo, hi = 49.970, 50.030
    if within > 0:
        assert abs(float(c["cp"]) - (hi - lo) / (6 * within)) <= 0.005 + 1e-9
        assert abs(float(c["cpk"]) - min(hi - mean, mean - lo) / (3 * within)) <= 0.005 + 1e-9
    else:
        assert c["cp"] is None and c["cpk"] is None
    if sd > 0:
        assert abs(float(c["pp"]) - (hi - lo) / (6 * sd)) <= 0.005 + 1e-9
        assert abs(float(c["ppk"]) - min(hi - mean, mean - lo) / (3 * sd)) <= 0.005 + 1e-9
    else:
        assert c["pp"] is None


def _in_control(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.gauss(50.0, 0.004):.3f}" for _ in range(count)]


def test_violations_are_found_against_limits_derived_from_the_first_readings(
    store: LocalStore, grd: PartSpec
) -> None:
    baseline = _in_control(25)
    uuids = record_values(store, grd, "L-1", "1", [*baseline, "50.028"])
    c = _char(_report(store, lot="L-1"), "1")
    limits = c["limits"]
    assert limits["locked"] is False and limits["hash"] is None
    assert limits["label"] == "limits derived from the first 25 readings (not locked)"
    expected = derive_limits(
        list(zip(uuids[:25], map(Decimal, baseline), strict=True)),
        SpcSettings(),
        part_number="GRD-5",
        characteristic="1",
        unit="mm",
        resolution=Decimal("0.001"),
        effective_from="2026-11-25T00:00:00Z",
        reason="test",
    )
    assert (limits["ucl"], limits["lcl"]) == (str(expected.ucl), str(expected.lcl))
    assert Decimal("50.028") > expected.ucl  # in tolerance, out of control
    rule1 = [v for v in c["violations"] if v["rule"] == "1" and v["chart"] == "x"]
    assert rule1 and rule1[-1]["readings"] == [uuids[-1]] and rule1[-1]["point"] == 25
    assert c["violations_by_rule"]["rule 1"] == len(rule1)


def test_locked_limit_versions_are_used_where_the_record_has_them(
    store: LocalStore, grd: PartSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline = _in_control(30, seed=3)
    uuids = record_values(store, grd, "L-1", "1", baseline)
    version = derive_limits(
        list(zip(uuids[:25], map(Decimal, baseline[:25]), strict=True)),
        SpcSettings(),
        part_number="GRD-5",
        characteristic="1",
        unit="mm",
        resolution=Decimal("0.001"),
        effective_from="2000-01-01T00:00:00Z",
        reason="first lock",
    )
    monkeypatch.setattr(
        report_module, "locked_limits", lambda source, part, char: [version] if char == "1" else []
    )
    c = _char(_report(store, lot="L-1"), "1")
    assert c["limits"]["locked"] is True
    assert c["limits"]["hash"] == version.content_hash and c["limits"]["version"] == 1
    assert c["limits"]["label"] == "locked limits version 1"


def test_since_and_characteristic_narrow_the_readings(
    store: LocalStore, grd: PartSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "utc_now", lambda: dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC))
    record_values(store, grd, "L-1", "1", ["50.001", "50.002", "50.003"])
    monkeypatch.setattr(clock, "utc_now", lambda: dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC))
    record_values(store, grd, "L-1", "1", HAND, first_serial=10)
    record_values(store, grd, "L-1", "2", ["0.010", "0.011"], first_serial=10)
    doc = _report(store, part_number="GRD-5", since="2026-11-10T00:00:00.000000Z")
    assert [c["id"] for c in doc["characteristics"]] == ["1", "2"]
    assert _char(doc, "1")["n"] == 5 and _char(doc, "1")["mean"] == "50.00000"
    doc = _report(store, part_number="GRD-5", characteristic="2")
    assert [(c["id"], c["n"]) for c in doc["characteristics"]] == [("2", 2)]


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ({"lot": "L-9"}, "There is no lot 'L-9'"),
        ({"part_number": "NOPE-1"}, "There is no part 'NOPE-1'"),
        ({"part_number": "GRD-5", "characteristic": "9"}, "has no characteristic '9'"),
        ({"part_number": "GRD-5", "characteristic": "4"}, "is an attribute"),
        ({"part_number": "GRD-5", "characteristic": "3"}, "Nothing measured"),
        ({"lot": "L-1", "since": "2999-01-01T00:00:00.000000Z"}, "Nothing measured"),
    ],
)
def test_a_report_that_cannot_be_made_says_why_in_one_sentence(
    store: LocalStore, grd: PartSpec, scope: dict[str, str], message: str
) -> None:
    record_values(store, grd, "L-1", "1", HAND)
    with pytest.raises(SpcReportError) as caught:
        spc_report(LocalSource(store), ReportScope(**scope))
    assert message in caught.value.message and "\n" not in caught.value.message


def test_the_json_follows_its_schema_and_names_the_figures(
    store: LocalStore, grd: PartSpec
) -> None:
    record_values(store, grd, "L-1", "1", [*_in_control(25), "50.028"], manual=[4])
    record_values(store, grd, "L-1", "2", ["0.010", "0.014", "0.008"])
    doc = spc_report(LocalSource(store), ReportScope(lot="L-1"), by_station=True).json()
    jsonschema.Draft202012Validator(schema()).validate(doc)
    for c in doc["characteristics"]:
        assert {"id", "n", "mean", "sigma_within", "sigma_overall"} <= c.keys()
        assert {"cp", "cpk", "pp", "ppk", "violations"} <= c.keys()
        for key in ("mean", "sigma_within", "sigma_overall", "cpk", "ppk"):
            assert isinstance(c[key], str)
    assert [s["station"] for s in doc["stations"]] == ["TEST-1"]
    assert doc["source"]["heads"][0]["seq"] == store.head()[0]
    # The schema refuses a float where a figure belongs.
    _char(doc, "1")["mean"] = 50.0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema())


def test_html_escapes_record_text_and_breaks_pages_per_characteristic(
    tmp_path: Path, store: LocalStore
) -> None:
    hostile = GRIDDLE.replace('name = "Length"', 'name = "<script>alert(1)</script> & co"')
    spec = griddle(tmp_path, hostile)
    record_values(store, spec, "<b>L-1</b>", "1", [*_in_control(25), "50.028"])
    record_values(store, spec, "<b>L-1</b>", "2", ["0.010", "0.014", "0.008"])
    page = render_html(spc_report(LocalSource(store), ReportScope(lot="<b>L-1</b>")))
    assert "<script" not in page.lower() and "javascript" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in page
    assert "&lt;b&gt;L-1&lt;/b&gt;" in page and "<b>L-1" not in page
    assert page.count('<section class="characteristic"') == 2
    assert page.count("<svg") == 2
    assert "section.characteristic { break-before: page" in page
    assert "limits from the first 25 readings, not locked" in page


def test_table_names_the_limits_and_the_violations(store: LocalStore, grd: PartSpec) -> None:
    record_values(store, grd, "L-1", "1", [*_in_control(25), "50.028"], manual=[0, 1])
    text = render_table(spc_report(LocalSource(store), ReportScope(lot="L-1")))
    header = text.splitlines()[1].split()
    assert header[:3] == ["#", "n", "manual"]
    row = text.splitlines()[2].split()
    assert row[:3] == ["1", "26", "2"]
    assert "limits derived from the first 25 readings (not locked)" in text
    assert "rule 1 × " in text
    assert math.isfinite(float(row[3]))


def test_small_pages_give_the_same_report(store: LocalStore, grd: PartSpec) -> None:
    record_values(store, grd, "L-1", "1", [*_in_control(25), "50.028"], manual=[3])
    correct(store, grd, "L-1", "S0005", "1", "50.001")
    record_values(store, grd, "L-1", "2", ["0.010", "0.014", "0.008"])
    whole = spc_report(LocalSource(store), ReportScope(lot="L-1")).json()
    paged = spc_report(LocalSource(store), ReportScope(lot="L-1"), page=4).json()
    assert paged["characteristics"] == whole["characteristics"]


def test_figures_alone_skip_the_rules_but_not_the_numbers(store: LocalStore, grd: PartSpec) -> None:
    record_values(store, grd, "L-1", "1", [*_in_control(25), "50.028"])
    full = spc_report(LocalSource(store), ReportScope(lot="L-1")).json()["characteristics"][0]
    bare = spc_report(LocalSource(store), ReportScope(lot="L-1"), rules=False).json()
    figures = bare["characteristics"][0]
    assert figures["violations"] == [] and figures["limits"] is None and full["violations"]
    for key in ("n", "mean", "sigma_within", "sigma_overall", "cp", "cpk", "pp", "ppk"):
        assert figures[key] == full[key]


def test_a_revision_in_another_unit_is_converted_to_the_first_readings_unit(
    tmp_path: Path, store: LocalStore, grd: PartSpec
) -> None:
    inches = (
        GRIDDLE.replace('revision = "A"', 'revision = "B"')
        .replace('unit = "mm"', 'unit = "in"')
        .replace(
            "nominal = 50.000\ntolerance = [-0.030, 0.030]",
            "nominal = 2.0000\ntolerance = [-0.0010, 0.0010]",
        )
        .replace(
            'resolution = 0.001\n\n[[characteristic]]\nid = "2"',
            'resolution = 0.0001\n\n[[characteristic]]\nid = "2"',
        )
    )
    folder = tmp_path / "b"
    folder.mkdir()
    rev_b = griddle(folder, inches)
    record_values(store, grd, "L-1", "1", ["50.800", "50.810"])
    record_values(store, rev_b, "L-2", "1", ["2.0000", "2.0004"], first_serial=10, manual=[0, 1])
    c = _char(_report(store, part_number="GRD-5"), "1")
    # 2.0000 in = 50.8 mm, 2.0004 in = 50.81016 mm: the mean of the four in mm.
    assert c["unit"] == "mm" and c["n"] == 4
    assert c["mean"] == "50.805040"  # to the latest resolution (0.0001) plus two decimals
    # The latest limits (revision B, 2.0000 ± 0.0010 in) in mm: 50.7746 .. 50.8254.
    assert (c["lower"], c["upper"]) == ("50.7746", "50.8254")
    assert any("2 sets of specification limits" in note for note in c["notes"])


def test_a_spec_that_declares_spc_settings_sets_the_subgroup_size() -> None:
    from types import SimpleNamespace

    from inspect_station.reports.spc import _Specs, spec_settings

    own = SpcSettings(subgroup_size=5)
    whole = SpcSettings(subgroup_size=3)
    specs = _Specs({"h": SimpleNamespace(spc=whole)}, ["h"])  # type: ignore[dict-item]
    assert spec_settings(SimpleNamespace(spc=own), specs) is own
    assert spec_settings(SimpleNamespace(), specs) is whole
    assert spec_settings(None, _Specs()) is None
