"""Gauges: profiles, pure protocol codecs, serial ports, reader threads, the hub, simulators.

The station app and the part session use :class:`GaugeHub` and the event classes (the recorder
only records what they hand it); the CLI and tests also use :class:`GaugeReader` and the
simulators directly. Nothing in this package imports a UI.
"""

from typing import TYPE_CHECKING

from inspect_station import imported_on_first_use
from inspect_station.backoff import Backoff
from inspect_station.gauges.codec import (
    Framer,
    Notice,
    Reading,
    ToleranceFlag,
    decode,
    escape_bytes,
    normalize_value,
)
from inspect_station.gauges.errors import (
    AmbiguousPort,
    DeviceError,
    Disconnected,
    FrameError,
    GaugeTimeout,
    LinesUnsupported,
    PortError,
    PortNotFound,
    PortOpenError,
    ProfileError,
    UnroutedChannel,
)
from inspect_station.gauges.events import (
    ConnectedEvent,
    DisconnectedEvent,
    DroppedEvent,
    ErrorEvent,
    ErrorKind,
    GaugeEvent,
    ReadingEvent,
    TrafficEntry,
)
from inspect_station.gauges.hub import AssetState, GaugeHub, GaugeState
from inspect_station.gauges.ports import (
    PortBinding,
    SerialPortInfo,
    list_serial_ports,
    parse_binding,
    resolve_port,
)
from inspect_station.gauges.profile import (
    GaugeProfile,
    available_profiles,
    check_profiles,
    load_profile,
    parse_profile,
)
from inspect_station.gauges.reader import GaugeReader

if TYPE_CHECKING:
    from inspect_station.gauges.simulator import (
        DtrPulseSimulator,
        GaugeSimulator,
        PollSimulator,
        PushSimulator,
        SimulatorBank,
        simulator_for,
    )

# The simulators (the demo's and the tests' gauges) are imported on first use: a station at a
# bench reads real gauges and starts without them.
_SIMULATOR = (
    "DtrPulseSimulator",
    "GaugeSimulator",
    "PollSimulator",
    "PushSimulator",
    "SimulatorBank",
    "simulator_for",
)
__getattr__ = imported_on_first_use(__name__, dict.fromkeys(_SIMULATOR, "simulator"))


__all__ = [
    "AmbiguousPort",
    "AssetState",
    "Backoff",
    "ConnectedEvent",
    "DeviceError",
    "Disconnected",
    "DisconnectedEvent",
    "DroppedEvent",
    "DtrPulseSimulator",
    "ErrorEvent",
    "ErrorKind",
    "FrameError",
    "Framer",
    "GaugeEvent",
    "GaugeHub",
    "GaugeProfile",
    "GaugeReader",
    "GaugeSimulator",
    "GaugeState",
    "GaugeTimeout",
    "LinesUnsupported",
    "Notice",
    "PollSimulator",
    "PortBinding",
    "PortError",
    "PortNotFound",
    "PortOpenError",
    "ProfileError",
    "PushSimulator",
    "Reading",
    "ReadingEvent",
    "SerialPortInfo",
    "SimulatorBank",
    "ToleranceFlag",
    "TrafficEntry",
    "UnroutedChannel",
    "available_profiles",
    "check_profiles",
    "decode",
    "escape_bytes",
    "list_serial_ports",
    "load_profile",
    "normalize_value",
    "parse_binding",
    "parse_profile",
    "resolve_port",
    "simulator_for",
]
