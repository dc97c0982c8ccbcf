"""The demo's simulated gauges, put on the part as an inspector would (kept out of screens)."""

from __future__ import annotations

import functools
import random
import threading
from dataclasses import dataclass, field

from inspect_station.config import GaugeAsset
from inspect_station.demo import plausible_value
from inspect_station.gauges.profile import load_profile
from inspect_station.gauges.simulator import SimulatorBank
from inspect_station.spec.model import Characteristic, PartSpec
from inspect_station.station import StationService
from inspect_station.units import normalize_unit


@dataclass
class DemoControls:
    """Puts each simulated gauge on the characteristic being measured and presses its DATA key.

    Whatever reads a simulated gauge -- DATA (``D``), a poll (Space), a poll after a DATA press --
    gets a value that fits the characteristic the gauge was last put on: mostly in tolerance,
    now and then out, in the gauge's own unit and resolution.
    """

    service: StationService
    """The station whose assets the simulators serve."""
    bank: SimulatorBank
    """The running simulators."""
    rng: random.Random = field(default_factory=random.Random)
    """Where plausible values come from."""
    _aimed: dict[str, tuple[PartSpec, Characteristic]] = field(default_factory=dict)
    _units: dict[str, str | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        config = self.service.config
        for port, simulator in self.bank.simulators.items():
            assets = [a for a in config.gauge if a.port == port]
            simulator.follow(functools.partial(self._reading, assets))

    def aim(self, asset_id: str, spec: PartSpec, ch: Characteristic) -> None:
        """Put the gauge ``asset_id`` on characteristic ``ch`` of the part in hand."""
        with self._lock:
            self._aimed[asset_id] = (spec, ch)

    def value_for(self, asset_id: str, spec: PartSpec, ch: Characteristic) -> str:
        """A plausible reading of ``ch`` as gauge ``asset_id`` would send it."""
        asset = self.service.config.asset(asset_id)
        with self._lock:
            return plausible_value(spec, ch, self._unit(asset), asset.resolution, self.rng)

    def press(self, asset_id: str, spec: PartSpec, ch: Characteristic) -> str:
        """Put the gauge on ``ch``, show a plausible value and press DATA; returns the value."""
        self.aim(asset_id, spec, ch)
        asset = self.service.config.asset(asset_id)
        value = self.value_for(asset_id, spec, ch)
        simulator = self.bank.for_asset(self.service.config, asset_id)
        if simulator.behaviour == "push" or simulator.profile.protocol.data_key:
            simulator.press(value, channel=asset.channel)
        else:
            simulator.set_value(value, channel=asset.channel)
        return value

    def needs_request(self, asset_id: str) -> bool:
        """Whether the station must poll after a press (the gauge does not send by itself)."""
        simulator = self.bank.for_asset(self.service.config, asset_id)
        return not (simulator.behaviour == "push" or simulator.profile.protocol.data_key)

    def _reading(self, assets: list[GaugeAsset], channel: int) -> str | None:
        """Called by a simulator being read: a value for what its asset is on, if anything."""
        asset = next((a for a in assets if a.channel in (None, channel)), None)
        if asset is None:
            return None
        with self._lock:
            aimed = self._aimed.get(asset.asset)
        if aimed is None:
            return None
        return self.value_for(asset.asset, *aimed)

    def _unit(self, asset: GaugeAsset) -> str | None:
        """The unit of the gauge's readings: the frame's if it names one, else the asset's."""
        if asset.asset not in self._units:
            profile = load_profile(asset.profile, self.service.config.profile_paths)
            unit = asset.unit
            if profile.frame.unit_from == "frame" and profile.simulate.unit:
                unit = normalize_unit(profile.simulate.unit) or unit
            self._units[asset.asset] = unit
        return self._units[asset.asset]
