"""The HTML capability report printed by a real browser: one page per characteristic."""

from __future__ import annotations

import re
from pathlib import Path

from chromium import run_chromium
from lots import RecordedLot

from inspect_station.records import LocalSource
from inspect_station.reports.spc import ReportScope, spc_report
from inspect_station.reports.spc_html import render_html


def test_each_characteristic_prints_on_a_page_of_its_own(
    lot7: RecordedLot, tmp_path: Path, chromium: str
) -> None:
    report = spc_report(LocalSource(lot7.store), ReportScope(lot="L-7"))
    assert [c.id for c in report.characteristics] == ["1", "2", "3"]
    path = tmp_path / "L-7-capability.html"
    path.write_text(render_html(report), encoding="utf-8")
    pdf = tmp_path / "L-7-capability.pdf"
    printed = run_chromium(
        chromium, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", path.as_uri()
    )
    assert printed.returncode == 0, printed.stderr[-2000:]
    data = pdf.read_bytes()
    # The summary, then characteristics 1, 2 and 3 each on a page of its own.
    assert len(re.findall(rb"/Type\s*/Page\b", data)) == 4
    dom = run_chromium(chromium, tmp_path, "--dump-dom", path.as_uri()).stdout
    assert dom.count("<svg") == 3 and "<script" not in dom
