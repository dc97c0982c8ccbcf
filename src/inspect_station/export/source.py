"""Moved: the read side is the ``inspect_station.records`` package now.

Kept only so that modules written against this path while the read side moved (the review
package, the station wiring) keep importing; import from ``inspect_station.records``. The
central source is opened with ``inspect_station.sync.open_source(url)``.
"""

from inspect_station.records import (
    FIELD,
    ROW_FIELDS,
    CentralSource,
    ChainCheck,
    LocalSource,
    RecordRef,
    RecordSource,
    SourceError,
)

__all__ = [
    "FIELD",
    "ROW_FIELDS",
    "CentralSource",
    "ChainCheck",
    "LocalSource",
    "RecordRef",
    "RecordSource",
    "SourceError",
]
