"""ARCHITECTURE.md stays true: every module it names exists, and every module has a layer there."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import inspect_station

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(inspect_station.__file__).parent
DOC = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")


def _named_paths() -> set[str]:
    """Module and package paths the document names in backticks (``gauges/reader.py``)."""
    found = set()
    for text in re.findall(r"`([^`\s]+)`", DOC):
        text = text.removeprefix("src/inspect_station/")
        if re.fullmatch(r"[a-z_]+(/[a-z_<>]+)*(\.py|/)", text) and "<" not in text:
            found.add(text)
    return found


def _exists(name: str) -> bool:
    """A path of the repository (``tests/...``), of the package, or of one of its packages
    (``central_pg.py`` next to ``sync/...`` in the same sentence)."""
    places = [ROOT, PACKAGE, *(p for p in PACKAGE.iterdir() if p.is_dir())]
    return any((place / name).exists() for place in places)


def test_every_module_the_document_names_exists():
    names = _named_paths()
    assert len(names) > 30
    assert sorted(n for n in names if not _exists(n)) == []


def test_every_top_level_module_has_a_layer_in_the_document_and_the_contract():
    table = DOC.split("## Layers", 1)[1].split("\nThe contracts", 1)[0]
    in_table = set(re.findall(r"`([a-z_]+)(?:/|\.py)?`", table))
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [
        c["layers"] for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "layers"
    ]
    in_contract = {name.strip() for layer in layers for name in re.split(r"[|:]", layer)}
    modules = {
        p.stem if p.suffix == ".py" else p.name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    }
    assert modules - in_table == set()
    assert modules == in_contract
