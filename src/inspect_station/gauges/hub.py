"""GaugeHub: every gauge asset of a station, one reader per port, and their current state.

Whoever measures at the station -- the station app (which starts and closes it) and the part
session it hands it to, or a headless caller -- uses this and nothing below it::

    hub = GaugeHub(config, on_event=handler)   # handler runs in a reader thread: hand over only
    hub.start()
    hub.state("CAL-0042").state                # connected / disconnected / error / connecting
    hub.request("MIC-0007")                    # poll gauges: ask for a value now
    hub.close()
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from inspect_station.backoff import Backoff
from inspect_station.config import CalibrationStatus, GaugeAsset, StationConfig
from inspect_station.errors import ConfigError, GaugeError
from inspect_station.gauges.codec import Reading
from inspect_station.gauges.events import (
    ConnectedEvent,
    DisconnectedEvent,
    ErrorEvent,
    GaugeEvent,
    ReadingEvent,
    TrafficEntry,
)
from inspect_station.gauges.ports import parse_binding
from inspect_station.gauges.profile import GaugeProfile, load_profile
from inspect_station.gauges.reader import EventCallback, GaugeReader


class GaugeState(StrEnum):
    """Where an asset's connection stands."""

    CONNECTING = "connecting"
    """The reader has not opened the port yet."""
    CONNECTED = "connected"
    """The port is open and the last thing heard was fine."""
    DISCONNECTED = "disconnected"
    """The port is gone or cannot be opened; the reader keeps retrying."""
    ERROR = "error"
    """The port is open but the last thing heard was an error (device error, timeout, refused
    reading of an overdue asset, ...)."""


@dataclass(frozen=True, slots=True)
class AssetState:
    """A snapshot of one gauge asset for a status bar or a gauge list."""

    asset: str
    """Asset id."""
    port: str
    """Port binding."""
    profile: str
    """Profile name."""
    state: GaugeState
    """Connection state."""
    calibration: CalibrationStatus
    """ok / due / overdue today."""
    calibration_due: dt.date
    """The asset's calibration due date."""
    can_request: bool
    """Whether request() can ask this gauge for a value."""
    device: str | None = None
    """The device currently open for it."""
    reason: str | None = None
    """Why it is disconnected or in error, one sentence."""
    last_reading: Reading | None = None
    """The last reading delivered for it."""
    last_reading_at: dt.datetime | None = None
    """When the last reading was received, UTC."""


class GaugeHub:
    """Starts one reader per distinct port of a station's gauge assets and tracks their state."""

    def __init__(
        self,
        config: StationConfig,
        *,
        on_event: EventCallback | None = None,
        events: queue.Queue[GaugeEvent] | None = None,
        poll: bool = True,
        backoff: Backoff | None = None,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.config = config
        self._on_event = on_event
        self._events = events
        self._today = today
        self._lock = threading.Lock()
        self._assets: dict[str, GaugeAsset] = {a.asset: a for a in config.gauge}
        self._readers: dict[str, GaugeReader] = {}
        self._reader_of: dict[str, GaugeReader] = {}
        self._states: dict[str, AssetState] = {}
        by_port: dict[str, list[GaugeAsset]] = {}
        for asset in config.gauge:
            key = parse_binding(asset.port).text
            by_port.setdefault(key, []).append(asset)
        profiles: dict[str, GaugeProfile] = {}
        for port, assets in by_port.items():
            names = {a.profile for a in assets}
            if len(names) > 1:
                listed = ", ".join(f"{a.asset} ({a.profile})" for a in assets)
                raise ConfigError(
                    f"Gauge assets on port {port} use different profiles: {listed}; "
                    "one port speaks one protocol."
                )
            name = assets[0].profile
            if name not in profiles:
                profiles[name] = load_profile(name, config.profile_paths)
            profile = profiles[name]
            reader = GaugeReader(
                port,
                profile,
                assets,
                on_event=self._dispatch,
                poll_interval=None if poll else 0.0,
                backoff=backoff,
                warn_days=config.calibration_warning_days,
                today=today,
            )
            self._readers[port] = reader
            for asset in assets:
                self._reader_of[asset.asset] = reader
                self._states[asset.asset] = AssetState(
                    asset=asset.asset,
                    port=port,
                    profile=profile.name,
                    state=GaugeState.CONNECTING,
                    calibration=self._calibration(asset),
                    calibration_due=asset.calibration_due,
                    can_request=reader.can_request,
                )

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> GaugeHub:
        """Start every reader; ports that are not there yet are retried in the background."""
        for reader in self._readers.values():
            reader.start()
        return self

    def close(self) -> None:
        """Stop every reader and close every port."""
        for reader in self._readers.values():
            reader.close()

    def __enter__(self) -> GaugeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries and commands ----------------------------------------------------------------

    @property
    def asset_ids(self) -> list[str]:
        """The configured asset ids, in configuration order."""
        return list(self._assets)

    @property
    def readers(self) -> dict[str, GaugeReader]:
        """Port binding -> its reader."""
        return dict(self._readers)

    def asset(self, asset_id: str) -> GaugeAsset:
        """The configured asset ``asset_id``."""
        self._known(asset_id)
        return self._assets[asset_id]

    def state(self, asset_id: str) -> AssetState:
        """A snapshot of ``asset_id``: connection state and today's calibration status."""
        self._known(asset_id)
        with self._lock:
            snapshot = self._states[asset_id]
        return replace(snapshot, calibration=self._calibration(self._assets[asset_id]))

    def states(self) -> list[AssetState]:
        """Snapshots of every asset, in configuration order."""
        return [self.state(a) for a in self._assets]

    def request(self, asset_id: str) -> None:
        """Ask a polled gauge for a value now; the answer (or a timeout) arrives as an event."""
        self._known(asset_id)
        self._reader_of[asset_id].request(asset_id)

    def traffic(self, asset_id: str) -> list[TrafficEntry]:
        """Recent raw traffic on the port of ``asset_id`` (shared by a multiplexer's assets)."""
        self._known(asset_id)
        return self._reader_of[asset_id].traffic()

    def reader_for(self, asset_id: str) -> GaugeReader:
        """The reader that owns the port of ``asset_id``."""
        self._known(asset_id)
        return self._reader_of[asset_id]

    # -- internals ---------------------------------------------------------------------------

    def _known(self, asset_id: str) -> None:
        if asset_id not in self._assets:
            known = ", ".join(self._assets) or "none configured"
            raise GaugeError(f"No gauge asset {asset_id!r} at this station (known: {known}).")

    def _calibration(self, asset: GaugeAsset) -> CalibrationStatus:
        return asset.calibration_status(self._today(), self.config.calibration_warning_days)

    def _dispatch(self, event: GaugeEvent) -> None:
        """Update the asset states from a reader's event, then pass it on."""
        with self._lock:
            states = self._states
            if isinstance(event, ConnectedEvent):
                for name in event.assets:
                    states[name] = replace(
                        states[name], state=GaugeState.CONNECTED, device=event.device, reason=None
                    )
            elif isinstance(event, DisconnectedEvent):
                for name in event.assets:
                    states[name] = replace(
                        states[name],
                        state=GaugeState.DISCONNECTED,
                        device=None,
                        reason=event.reason,
                    )
            elif isinstance(event, ReadingEvent) and event.asset in states:
                states[event.asset] = replace(
                    states[event.asset],
                    state=GaugeState.CONNECTED,
                    reason=None,
                    last_reading=event.reading,
                    last_reading_at=event.received_at,
                )
            elif isinstance(event, ErrorEvent) and event.asset in states:
                current = states[event.asset]
                if current.state is not GaugeState.DISCONNECTED:
                    states[event.asset] = replace(
                        current, state=GaugeState.ERROR, reason=event.reason
                    )
        if self._events is not None:
            self._events.put(event)
        if self._on_event is not None:
            self._on_event(event)
