"""The demo's simulated DATA key (kept out of the screens)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from inspect_station.demo import plausible_value
from inspect_station.gauges.simulator import SimulatorBank
from inspect_station.spec.model import Characteristic, PartSpec
from inspect_station.station import StationService


@dataclass
class DemoControls:
    """Presses the simulated gauge of an asset with a value that suits the characteristic."""

    service: StationService
    """The station whose assets the simulators serve."""
    bank: SimulatorBank
    """The running simulators."""
    rng: random.Random = field(default_factory=random.Random)
    """Where plausible values come from."""

    def press(self, asset_id: str, spec: PartSpec, ch: Characteristic) -> str:
        """Put a plausible value on the gauge's display and press DATA; returns the value."""
        asset = self.service.config.asset(asset_id)
        value = plausible_value(spec, ch, asset, self.rng)
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
