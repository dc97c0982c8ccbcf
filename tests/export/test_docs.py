"""The export documentation says what the code does."""

from __future__ import annotations

import re
from pathlib import Path

import inspect_station.export
from inspect_station.export.csvfile import COLUMNS
from inspect_station.export.jsonfile import SCHEMA_FILE
from inspect_station.export.lot import FORMATS
from inspect_station.store.projections import PROJECTORS

DOCS = (Path(inspect_station.export.__file__).parent / "README.md").read_text()


def test_every_csv_column_is_documented_in_order():
    documented = re.findall(r"^\| `([a-z_]+)` \|", DOCS, flags=re.M)
    assert documented == [name for name, _ in COLUMNS]


def test_every_format_the_schema_and_the_new_record_kinds_are_described():
    for fmt in FORMATS:
        assert f"--format {fmt}" in DOCS
    assert SCHEMA_FILE in DOCS
    for kind in ("disposition", "disposition_signature", "reinspection_opened"):
        assert kind in PROJECTORS and f"`{kind}`" in DOCS
