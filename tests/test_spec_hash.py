"""A spec's content hash is the SHA-256 of its RFC 8785 bytes, written by the station's one
canonical writer (``canonical.py``): the same bytes as the reference ``rfc8785`` package for
every spec, without the reference's pure-Python cost where the C encoder writes them alike."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import rfc8785

from inspect_station.locations import shipped_specs_dir
from inspect_station.spec import load_spec
from inspect_station.spec.loader import spec_files

DATA = Path(__file__).parent / "data" / "specs"


def reference_hash(path: Path) -> str:
    """The hash as the reference writes the spec's content."""
    spec = load_spec(path)
    data = spec.model_dump(mode="json", by_alias=True)
    return hashlib.sha256(rfc8785.dumps(data)).hexdigest()


def loadable(folder: Path) -> list[Path]:
    """The spec files of ``folder`` that load (the hostile ones are refused elsewhere)."""
    found = []
    for path in spec_files([folder]):
        try:
            load_spec(path)
        except Exception:
            continue
        found.append(path)
    return found


SPECS = loadable(shipped_specs_dir()) + loadable(DATA)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_the_content_hash_is_the_reference_rfc8785_hash(path):
    assert load_spec(path).content_hash == reference_hash(path)


def test_text_beyond_the_basic_plane_is_hashed_as_the_reference_orders_it(tmp_path):
    # RFC 8785 orders keys by UTF-16 code units; text outside the BMP takes the reference path.
    source = (shipped_specs_dir() / "BRK-1042-C.toml").read_text(encoding="utf-8")
    path = tmp_path / "BRK-1042-C.toml"
    text = 'description = "Bracket \U0001f527 \u00e9\u6f22 \ufb01"\n'
    path.write_text(source.replace('description = "', text + "# ", 1), encoding="utf-8")
    spec = load_spec(path)
    assert "\U0001f527" in spec.description
    assert spec.content_hash == reference_hash(path)


def test_loading_a_spec_does_not_run_the_pure_python_writer(monkeypatch):
    def refused(value):
        raise AssertionError("rfc8785.dumps called for a plain spec")

    monkeypatch.setattr(rfc8785, "dumps", refused)
    spec = load_spec(shipped_specs_dir() / "BRK-1042-C.toml")
    assert len(spec.content_hash) == 64
