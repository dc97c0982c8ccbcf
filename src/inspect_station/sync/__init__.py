"""Central stores (embedded SQLite, PostgreSQL) and the batch shipper: offline-first sync.

- ``open_central(url)`` -> ``CentralStore``: ingest batches, report heads, stream back, answer
  named read queries; ``open_source(url)``: the same store as a ``records.CentralSource``;
- ``Shipper(store, central_url, batch_size)``: ``ship()`` once, or ``run(stop, on_status)`` in
  a background thread, reporting ``SyncStatus``;
- ``verify.verify_central(url)``: every station's chain in a central store.
"""

from inspect_station.backoff import Backoff
from inspect_station.sync.batch import PreparedBatch, prepare_batch
from inspect_station.sync.central import (
    CentralStore,
    IngestResult,
    StationCredentials,
    StationSummary,
    open_central,
    open_source,
)
from inspect_station.sync.errors import (
    CentralPermissionError,
    CentralSchemaError,
    CentralUnavailable,
    CentralUrlError,
    IngestRefused,
    Refusal,
    SyncError,
)
from inspect_station.sync.shipper import (
    DEFAULT_BATCH_SIZE,
    Shipper,
    ShipSummary,
    SyncState,
    SyncStatus,
)
from inspect_station.sync.url import mask_url, parse_central_url

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "Backoff",
    "CentralPermissionError",
    "CentralSchemaError",
    "CentralStore",
    "CentralUnavailable",
    "CentralUrlError",
    "IngestRefused",
    "IngestResult",
    "PreparedBatch",
    "Refusal",
    "ShipSummary",
    "Shipper",
    "StationCredentials",
    "StationSummary",
    "SyncError",
    "SyncState",
    "SyncStatus",
    "mask_url",
    "open_central",
    "open_source",
    "parse_central_url",
    "prepare_batch",
]
