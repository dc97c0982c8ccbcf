"""The export formats, by name: each format module registers itself where it is defined.

A format is a function that writes a lot's record (``LotData``) to a ``HashingWriter`` as
``ExportOptions`` say. Its module calls ``register_format`` at import; ``names()`` and
``writer_for()`` import every module of the export package once, so a new format is one new
module in ``inspect_station/export/`` and nothing else changes (``--format``, the manifest, the
error for an unknown name all follow the registry).
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from inspect_station.export.model import ExportError, ExportOptions, LotData


class HashingWriter:
    """A binary file wrapper that keeps the SHA-256 and size of what is written."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        """Write bytes and add them to the hash."""
        self.sha256.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        """Flush the underlying file."""
        self.raw.flush()


Writer = Callable[[LotData, HashingWriter, ExportOptions], None]
"""Writes a lot's record in one format."""


@dataclass(frozen=True)
class ExportFormat:
    """One export format."""

    name: str
    """The name ``--format`` takes, also the file extension."""
    write: Writer
    """The function that writes it."""
    order: int
    """Where it is listed (in ``--help`` and in messages), lowest first."""


_FORMATS: dict[str, ExportFormat] = {}
_loaded = False


def register_format(name: str, write: Writer, *, order: int) -> Writer:
    """Register the writer of format ``name`` (a name is registered once); returns ``write``."""
    if name in _FORMATS:
        raise ValueError(f"export format {name!r} is registered twice")
    _FORMATS[name] = ExportFormat(name, write, order)
    return write


def _load() -> None:
    """Import every module of the export package, so every format has registered itself."""
    global _loaded
    if _loaded:
        return
    package = importlib.import_module("inspect_station.export")
    for module in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
    _loaded = True


def names() -> tuple[str, ...]:
    """The names of every export format, in listing order."""
    _load()
    return tuple(f.name for f in sorted(_FORMATS.values(), key=lambda f: (f.order, f.name)))


def writer_for(fmt: str) -> Writer:
    """The function that writes format ``fmt``; ExportError naming the formats otherwise."""
    _load()
    found = _FORMATS.get(fmt)
    if found is None:
        raise ExportError(f"Unknown export format {fmt!r}; use one of {', '.join(names())}.")
    return found.write
