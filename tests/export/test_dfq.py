"""AQDEF .dfq export, read back by a small reader written here from the format description."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from lots import RecordedLot, record_part

from inspect_station.export.lot import ExportError, ExportOptions, export_lot
from inspect_station.records import LocalSource


@dataclass
class Dfq:
    """What a .dfq file says: header fields, characteristic fields, value records."""

    header: dict[str, str] = field(default_factory=dict)
    characteristics: dict[int, dict[str, str]] = field(default_factory=dict)
    values: dict[int, list[dict[str, str]]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)


def read_dfq(data: bytes) -> Dfq:
    """Parse a .dfq: 'Kxxxx[/i] value' lines, CRLF, cp1252 unless a UTF-8 BOM says otherwise.

    A K0001/i line starts a new value of characteristic i; the K00xx/i lines after it belong
    to that value (the per-line value form).
    """
    bom = data.startswith(b"\xef\xbb\xbf")
    text = data[3:].decode("utf-8") if bom else data.decode("cp1252")
    assert text.endswith("\r\n"), "the last line ends with CRLF"
    lines = text[:-2].split("\r\n")
    assert not any("\n" in line or "\r" in line for line in lines), "CRLF line ends only"
    out = Dfq()
    for line in lines:
        key, sep, value = line.partition(" ")
        assert sep == " " and key.startswith("K") and key[1:5].isdigit(), line
        number, _, index = key.partition("/")
        out.order.append(number)
        if not index:
            out.header[number] = value
        elif number.startswith("K2"):
            out.characteristics.setdefault(int(index), {})[number] = value
        elif number == "K0001":
            out.values.setdefault(int(index), []).append({"K0001": value})
        else:
            out.values[int(index)][-1][number] = value
    return out


def dd_mm_yyyy(ts: str) -> str:
    """2026-11-25T09:14:03.123456Z -> 25.11.2026/09:14:03."""
    date, time = ts[:10].split("-"), ts[11:19]
    return f"{date[2]}.{date[1]}.{date[0]}/{time}"


def test_dfq_fields_values_and_limits_read_back(lot7: RecordedLot, tmp_path: Path):
    path = tmp_path / "L-7.dfq"
    export_lot(LocalSource(lot7.store), "L-7", "dfq", path)
    dfq = read_dfq(path.read_bytes())
    assert dfq.order[0] == "K0100" and dfq.header["K0100"] == "4"
    assert dfq.header["K1001"] == "PLT-77" and dfq.header["K1004"] == "B"
    assert dfq.header["K1002"] == "Cover plate Ø40 — anodised"
    length, hole, flatness, visual = (dfq.characteristics[i] for i in (1, 2, 3, 4))
    assert length == {
        "K2001": "1", "K2002": "Length", "K2004": "0", "K2022": "2", "K2101": "40.00",
        "K2110": "39.95", "K2111": "40.05", "K2112": "-0.05", "K2113": "0.05", "K2142": "mm",
    }  # fmt: skip
    assert (hole["K2002"], hole["K2106"], hole["K2110"], hole["K2111"]) == (
        "Hole Ø",
        "0.002",
        "6.000",
        "6.012",
    )
    assert "K2110" not in flatness and flatness["K2111"] == "0.020"
    assert (visual["K2004"], visual["K2002"]) == ("1", "Visual")
    index = {"1": 1, "2": 2, "3": 3, "4": 4}
    records = [r for r in lot7.store.records() if r["kind"] == "measurement"]
    superseded = {r["body"]["supersedes"] for r in records if r["body"]["supersedes"]}
    expected: dict[int, list[dict[str, str]]] = {}
    for record in records:
        body = record["body"]
        value = body["value_in_spec_unit"]
        if body["kind"] == "attribute":
            value = "0" if body["verdict"] == "pass" else "1"
        entry = {
            "K0001": value,
            "K0002": "255" if record["uuid"] in superseded else "0",
            "K0004": dd_mm_yyyy(record["ts"]),
            "K0006": "#L-7",
            "K0008": body["inspector"],
            "K0014": body["serial"],
        }
        if body["gauge"]:
            entry["K0012"] = body["gauge"]["asset"]
        expected.setdefault(index[body["characteristic"]], []).append(entry)
    assert dfq.values == expected
    assert [v["K0001"] for v in dfq.values[3] if v["K0014"] == "P3"] == ["0.201", "0.012"]
    assert [v["K0002"] for v in dfq.values[3] if v["K0014"] == "P3"] == ["255", "0"]
    assert {v["K0012"] for v in dfq.values[1]} == {"CAL-0042"}


def test_dfq_is_windows_1252_unless_told_otherwise(lot7: RecordedLot, tmp_path: Path):
    record_part(
        lot7.recorder,
        lot7.spec,
        "L-9",
        "P-α",
        {"1": "40.00", "2": "6.004", "3": "0.010", "4": "pass"},
    )
    source = LocalSource(lot7.store)
    path = tmp_path / "L-7.dfq"
    export_lot(source, "L-7", "dfq", path)
    assert "Ø".encode("cp1252") in path.read_bytes() and b"\xc3" not in path.read_bytes()
    with pytest.raises(ExportError, match=r"cannot be written in cp1252: 'α'.*--encoding utf-8"):
        export_lot(source, "L-9", "dfq", tmp_path / "L-9.dfq")
    assert not (tmp_path / "L-9.dfq").exists()
    export_lot(source, "L-9", "dfq", tmp_path / "L-9.dfq", ExportOptions(encoding="utf-8"))
    dfq = read_dfq((tmp_path / "L-9.dfq").read_bytes())
    assert {v["K0014"] for v in dfq.values[1]} == {"P-α"}
