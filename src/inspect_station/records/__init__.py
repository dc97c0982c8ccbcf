"""The read model shared by review, export, trace and the station: records by named query.

- ``source``: ``RecordSource`` (the interface: a snapshot, ``rows(query)``, capabilities),
  ``ChainCheck``, ``RecordRef``, ``ROW_FIELDS``/``FIELD`` (a measurement row);
- ``local``: ``LocalSource``, a station's own record;
- ``central``: ``CentralSource`` over a ``CentralReader`` (``sync.open_source(url)`` opens one).

The queries themselves are in ``store.queries`` (and ``store.catalog`` runs them).
"""

from inspect_station.records.central import CentralReader, CentralSource
from inspect_station.records.local import LocalSource
from inspect_station.records.source import (
    FIELD,
    ROW_FIELDS,
    Capability,
    ChainCheck,
    RecordRef,
    RecordSource,
    SourceError,
)

__all__ = [
    "FIELD",
    "ROW_FIELDS",
    "Capability",
    "CentralReader",
    "CentralSource",
    "ChainCheck",
    "LocalSource",
    "RecordRef",
    "RecordSource",
    "SourceError",
]
