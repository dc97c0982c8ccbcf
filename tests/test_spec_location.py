"""A characteristic's reference location on the drawing (for AS9102 Form 3 and QIF)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspect_station.locations import shipped_specs_dir
from inspect_station.spec import SpecFileError, load_spec

# The content hash of the shipped BRK-1042 revision C as it has been recorded since it was
# released: adding the optional key must not change the identity of any spec without it.
BRK_1042_C_HASH = "6253de423b6c04808e5b3e4f3a0d998360200764bbb901737958326b9848dfbd"


def test_a_spec_without_locations_keeps_its_content_and_hash():
    spec = load_spec(shipped_specs_dir() / "BRK-1042-C.toml")
    assert spec.content_hash == BRK_1042_C_HASH
    content = json.loads(spec.canonical())
    assert all("location" not in ch for ch in content["characteristic"])


def test_a_location_is_read_and_is_part_of_the_content(tmp_path: Path):
    source = (shipped_specs_dir() / "BRK-1042-C.toml").read_text()
    located = source.replace('name = "Overall length"', 'name = "Overall length"\nlocation = "B3"')
    (tmp_path / "BRK-1042-C.toml").write_text(located)
    spec = load_spec(tmp_path / "BRK-1042-C.toml")
    assert spec.get("1").location == "B3"
    assert spec.get("2").location is None
    assert json.loads(spec.canonical())["characteristic"][0]["location"] == "B3"
    assert spec.content_hash != BRK_1042_C_HASH


def test_an_empty_location_names_its_line(tmp_path: Path):
    path = tmp_path / "X-1.toml"
    path.write_text(
        'format = 1\npart_number = "X"\nrevision = "1"\n\n[[characteristic]]\nid = "1"\n'
        'name = "Length"\nmin = 1\nlocation = ""\n'
    )
    with pytest.raises(SpecFileError) as info:
        load_spec(path)
    assert info.value.problems[0].startswith(f"{path}:9: ")
