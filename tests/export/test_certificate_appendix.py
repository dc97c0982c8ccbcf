"""The certificate's appendix: every part's record, measurement by measurement."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from chromium import run_chromium
from lots import RecordedLot

from inspect_station.export.appendix import frame_text
from inspect_station.export.lot import export_lot, load_lot
from inspect_station.records import LocalSource


@pytest.fixture
def page(lot7: RecordedLot, tmp_path: Path) -> str:
    """The HTML certificate of lot L-7."""
    path = tmp_path / "L-7.html"
    export_lot(LocalSource(lot7.store), "L-7", "html", path)
    return path.read_text(encoding="utf-8")


def part(page: str, serial: str) -> str:
    """The appendix section of one part, tags removed, entities decoded, spaces squeezed."""
    sections = re.findall(r'<section class="part" id="part-\d+">(.*?)</section>', page, re.S)
    for section in sections:
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", section)).split())
        if text.startswith(f"Part {serial} "):
            return text
    raise AssertionError(f"no appendix section for part {serial}")


def test_there_is_a_section_per_part_in_serial_order(page: str):
    titles = re.findall(r'<section class="part" id="part-\d+"><h3>Part (.*?)</h3>', page)
    assert [html.unescape(t) for t in titles] == ["+P4", "P1", "P2", "P3", "P5"]
    assert page.index('id="appendix"') > page.index("Record verification")


def test_every_measurement_with_its_gauge_calibration_and_raw_frame(page: str, lot7):
    p1 = part(page, "P1")
    assert "40.01 mm" in p1 and "39.95 … 40.05 mm" in p1.replace("39.950", "39.95")
    assert "CAL-0042, S/N A1234567 cert. CERT-2026-0042, cal. due 2027-03-01" in p1
    assert "01A+40.01\\r" in p1  # the frame as sent, its CR shown
    assert "entered by hand: typed from the dial" in p1
    records = lot7.store.query("SELECT seq FROM measurements WHERE serial = 'P1' ORDER BY seq")
    for row in records:
        assert f"TEST-1:{row['seq']} " in p1


def test_a_correction_follows_the_value_it_superseded(page: str, lot7):
    p3 = part(page, "P3")
    assert p3.index("0.201") < p3.index("0.012")
    assert "superseded by" in p3
    assert "typo: 0.201 keyed for 0.012" in p3
    superseded = re.findall(r'<tr class="superseded">(.*?)</tr>', page, re.S)
    assert len(superseded) == 1 and "0.201" in superseded[0]


def test_a_reinspected_part_shows_both_inspections_and_the_reject(page: str):
    p2 = part(page, "P2")
    assert "Inspection opened by ann" in p2 and "Re-inspection opened by ann" in p2
    assert "result reject at" in p2 and '(defect D01: burr, side "A")' in p2
    assert p2.index("40.08") < p2.index("Re-inspection") < p2.index("40.03")
    assert "FAIL upper limit by 0.03 mm" in p2


def test_hostile_text_is_escaped(page: str):
    assert "burr, side &quot;A&quot;" in page
    assert "<script" not in page.lower()


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("01A+00040.08\r", "01A+00040.08\\r"),
        ("12.3 mm\r\n", "12.3 mm\\r\\n"),
        ("\x00\x13\x7f\x80", "\\x00\\x13\\x7f\\x80"),
        ("Ø\\", "Ø\\\\"),
        (None, ""),
    ],
)
def test_raw_frames_hide_nothing(raw, shown):
    assert frame_text(raw) == shown


def test_the_appendix_prints_on_pages_of_its_own(lot7: RecordedLot, tmp_path: Path, chromium):
    data = load_lot(LocalSource(lot7.store), "L-7")
    assert data.measurement_count == 25
    path = tmp_path / "L-7.html"
    export_lot(LocalSource(lot7.store), "L-7", "html", path)
    pdf = tmp_path / "L-7.pdf"
    printed = run_chromium(
        chromium, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", path.as_uri()
    )
    assert printed.returncode == 0, printed.stderr[-2000:]
    assert len(re.findall(rb"/Type\s*/Page\b", pdf.read_bytes())) >= 2
