"""The lot export's capability summary: JSON (with its schema) and the HTML certificate."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from lots import RecordedLot

from inspect_station.export.jsonfile import schema
from inspect_station.export.lot import export_lot
from inspect_station.records import LocalSource
from inspect_station.reports.spc import ReportScope, spc_report


def _export(lot7: RecordedLot, tmp_path: Path, fmt: str) -> str:
    path = tmp_path / f"L-7.{fmt}"
    export_lot(LocalSource(lot7.store), "L-7", fmt, path)
    return path.read_text(encoding="utf-8")


def test_the_json_export_carries_the_capability_of_each_variable_characteristic(
    lot7: RecordedLot, tmp_path: Path
) -> None:
    doc = json.loads(_export(lot7, tmp_path, "json"))
    jsonschema.Draft202012Validator(schema()).validate(doc)
    summary = {c["id"]: c for c in doc["capability"]["characteristics"]}
    assert list(summary) == ["1", "2", "3"]  # 4 is an attribute: no figures
    # Length, in reading order: 40.01 40.08 40.01 40.01 40.01 and P2's re-inspection 40.03.
    # mean 240.15 / 6 = 40.025; s = sqrt(.00395 / 5) = .028107; MR-bar .16 / 5 = .032,
    # sigma within .032 / 1.128 = .028369; Cp = .10 / (6 * .028369) = .588,
    # Cpk = .025 / (3 * .028369) = .294, Pp = .593, Ppk = .025 / (3 * .028107) = .296.
    length = summary["1"]
    assert (length["n"], length["manual"], length["superseded_excluded"]) == (6, 0, 0)
    assert (length["lower"], length["upper"]) == ("39.95", "40.05")
    assert (length["mean"], length["sigma_within"], length["sigma_overall"]) == (
        "40.0250",
        "0.0284",
        "0.0281",
    )
    assert (length["cp"], length["cpk"], length["pp"], length["ppk"]) == (
        "0.59",
        "0.29",
        "0.59",
        "0.30",
    )
    assert length["violations"] == 0
    assert "(not locked)" not in length["control_limits"]  # 6 readings: no limits derived
    # Flatness: P3's 0.201 was corrected to 0.012 (manual): left out; one-sided limit.
    flatness = summary["3"]
    assert (flatness["n"], flatness["superseded_excluded"], flatness["manual"]) == (6, 1, 6)
    assert flatness["cp"] is None and flatness["pp"] is None and flatness["cpk"] is not None
    # Read back: the same figures as the SPC report of the lot.
    report = spc_report(LocalSource(lot7.store), ReportScope(lot="L-7")).json()
    for c in report["characteristics"]:
        for key in ("n", "mean", "sigma_within", "sigma_overall", "cp", "cpk", "pp", "ppk"):
            assert summary[c["id"]][key] == c[key]


def test_the_certificate_shows_the_capability_table(lot7: RecordedLot, tmp_path: Path) -> None:
    page = _export(lot7, tmp_path, "html")
    assert "<h2>Process capability</h2>" in page
    table = page[page.index('<table id="capability">') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == 4  # the header and characteristics 1, 2, 3
    assert '<td class="num">40.0250</td>' in table and '<td class="num">0.29</td>' in table
