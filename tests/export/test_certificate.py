"""HTML certificate: rendered by headless Chromium, on screen (DOM) and in print (PDF)."""

from __future__ import annotations

import re
from pathlib import Path

from chromium import run_chromium
from lots import GOOD, RecordedLot, record_part

from inspect_station.export.lot import export_lot
from inspect_station.records import LocalSource


def render_dom(chromium: str, html: Path, tmp_path: Path) -> str:
    """The DOM Chromium builds from the file."""
    result = run_chromium(chromium, tmp_path, "--dump-dom", html.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def text_of(dom: str, element_id: str) -> str:
    """The text inside the element with this id (no nested markup expected)."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', dom, flags=re.S)
    assert match, f"no element #{element_id}"
    return " ".join(match.group(1).split())


def test_certificate_of_an_accepted_lot_in_a_browser_and_in_print(
    lot7: RecordedLot, tmp_path: Path, chromium: str
):
    path = tmp_path / "L-7.html"
    export_lot(LocalSource(lot7.store), "L-7", "html", path)
    dom = render_dom(chromium, path, tmp_path)
    assert text_of(dom, "title") == "Certificate of Conformance"
    assert text_of(dom, "verdict") == "LOT ACCEPTED"
    statement = text_of(dom, "statement")
    assert "Lot L-7 of PLT-77 revision B" in statement and "lot is accepted" in statement
    for expected in (
        "Cover plate Ø40 — anodised",
        lot7.spec.content_hash,
        "WO-881",
        "sample size 5, Ac 1 / Re 2",
        "Sam Ortiz",
        "approval of disposition",
        "Rework",
        "deburr and re-cut to length",
        'burr, side "A"',
        "L-7.html.sha256",
    ):
        assert expected in dom.replace("&quot;", '"'), expected
    assert re.search(r"<td>TEST-1</td><td><span class=\"pass\">OK</span></td>", dom)
    pdf = tmp_path / "L-7.pdf"
    printed = run_chromium(
        chromium, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", path.as_uri()
    )
    assert printed.returncode == 0, printed.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(re.findall(rb"/Type\s*/Page\b", data)) >= 1


def test_a_lot_with_an_open_reject_gets_a_report_not_a_certificate(
    lot7: RecordedLot, tmp_path: Path, chromium: str
):
    for serial in ("Q1", "Q2", "Q3", "Q4"):
        record_part(lot7.recorder, lot7.spec, "L-8", serial, GOOD)
    record_part(
        lot7.recorder,
        lot7.spec,
        "L-8",
        "Q5",
        {**GOOD, "3": "0.030"},
        defect="D03",
        note="<script>alert(1)</script>",
    )
    path = tmp_path / "L-8.html"
    export_lot(LocalSource(lot7.store), "L-8", "html", path)
    dom = render_dom(chromium, path, tmp_path)
    assert text_of(dom, "title") == "Lot Inspection Report"
    assert text_of(dom, "verdict") == "NOT CERTIFIED"
    assert "still await a signed disposition (Q5)" in text_of(dom, "statement")
    assert "<script>" not in dom and "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "awaiting disposition" in dom


def test_a_broken_chain_is_shown_and_prevents_the_certificate(
    lot7: RecordedLot, tmp_path: Path, chromium: str
):
    store = lot7.store
    store.conn.execute("DROP TRIGGER journal_no_update")
    seq = store.query("SELECT seq FROM measurements WHERE serial = 'P1' LIMIT 1")[0]["seq"]
    store.conn.execute(
        "UPDATE journal SET body = replace(body, '40.01', '40.02') WHERE seq = ?", (seq,)
    )
    path = tmp_path / "L-7.html"
    result = export_lot(LocalSource(store), "L-7", "html", path)
    assert result.data.verified is False
    dom = render_dom(chromium, path, tmp_path)
    assert text_of(dom, "title") == "Lot Inspection Report"
    assert "Record verification FAILED" in dom
    assert f"# chain TEST-1: BROKEN at seq {seq}: hash does not match" in result.manifest
    assert "A journal the records come from did not verify." in text_of(dom, "statement")
