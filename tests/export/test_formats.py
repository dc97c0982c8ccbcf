"""Export formats are a registry: each format module registers itself, and a new one is one
module -- ``export_lot``, the manifest and the error for an unknown name follow it."""

from __future__ import annotations

from pathlib import Path

import pytest
from lots import RecordedLot

from inspect_station.export import formats
from inspect_station.export.formats import ExportFormat, HashingWriter, register_format
from inspect_station.export.lot import FORMATS, ExportError, ExportOptions, export_lot
from inspect_station.export.model import LotData
from inspect_station.records import LocalSource


def test_the_shipped_formats_register_themselves_in_their_listing_order():
    assert FORMATS == formats.names() == ("csv", "json", "dfq", "html", "qif")
    with pytest.raises(ExportError, match=r"Unknown export format 'pdf'; use one of csv, json, "):
        formats.writer_for("pdf")
    with pytest.raises(ValueError, match="'csv' is registered twice"):
        register_format("csv", formats.writer_for("csv"), order=0)


def test_a_format_registered_by_a_new_module_is_exported_with_its_manifest(
    lot7: RecordedLot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(formats, "_FORMATS", dict(formats._FORMATS))

    def write_count(data: LotData, out: HashingWriter, options: ExportOptions) -> None:
        out.write(f"{data.lot}: {data.measurement_count} measurements\n".encode())

    register_format("count", write_count, order=99)
    assert formats.names()[-1] == "count"
    assert formats._FORMATS["count"] == ExportFormat("count", write_count, 99)
    path = tmp_path / "L-7.count"
    result = export_lot(LocalSource(lot7.store), "L-7", "count", path, ExportOptions(verify=False))
    count = result.data.measurement_count
    assert path.read_text() == f"L-7: {count} measurements\n"
    assert f"# format: count; {result.size} bytes" in result.manifest
    assert result.manifest.endswith(f"{result.sha256}  L-7.count\n")
