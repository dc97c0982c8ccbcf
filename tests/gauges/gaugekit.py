"""Helpers for the gauge tests: shipped profiles, assets, an event log that waits with timeouts."""

from __future__ import annotations

import datetime as dt
import queue
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

from inspect_station.config import GaugeAsset
from inspect_station.gauges import (
    Backoff,
    GaugeEvent,
    GaugeProfile,
    available_profiles,
    load_profile,
)
from inspect_station.locations import shipped_gauges_dir

SHIPPED = [shipped_gauges_dir()]
SHIPPED_NAMES = sorted(available_profiles(SHIPPED))
DATA = Path(__file__).parents[1] / "data" / "gauges"
FAST = Backoff(initial=0.02, maximum=0.2)
"""Reconnect quickly in tests."""
WAIT = 5.0
"""Longest a test waits for an event that should come (it normally comes in milliseconds)."""

E = TypeVar("E", bound=GaugeEvent)


def shipped(name: str) -> GaugeProfile:
    """A shipped profile by name."""
    return load_profile(name, SHIPPED)


def quick(profile: GaugeProfile, **protocol: Any) -> GaugeProfile:
    """The profile with shorter timeouts so tests of silence finish fast."""
    values = {"reply_timeout": Decimal("0.2"), "frame_timeout": Decimal("0.15"), **protocol}
    return profile.model_copy(
        update={"protocol": profile.protocol.model_copy(update=values)}, deep=False
    )


def make_asset(
    asset: str,
    profile: str,
    port: str,
    *,
    channel: int | None = None,
    unit: str | None = "mm",
    due: dt.date = dt.date(2099, 1, 1),
) -> GaugeAsset:
    """A gauge asset calibrated until ``due``."""
    return GaugeAsset(
        asset=asset,
        profile=profile,
        port=port,
        channel=channel,
        unit=unit,
        serial_number=f"SN-{asset}",
        certificate=f"CERT-{asset}",
        calibrated_on=dt.date(2020, 1, 1),
        calibration_due=due,
    )


class EventLog:
    """Events from a reader, taken in order with a timeout (never a sleep)."""

    def __init__(self) -> None:
        self.queue: queue.Queue[GaugeEvent] = queue.Queue()

    def next(self, timeout: float = WAIT) -> GaugeEvent:
        """The next event; fails the test if none comes within ``timeout``."""
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no gauge event within {timeout} s")

    def expect(self, kind: type[E], timeout: float = WAIT) -> E:
        """The next event, which must be of ``kind`` (anything else is a phantom)."""
        event = self.next(timeout)
        assert isinstance(event, kind), f"expected {kind.__name__}, got {event!r}"
        return event

    def quiet(self, timeout: float) -> None:
        """Assert that nothing arrives within ``timeout``."""
        try:
            event = self.queue.get(timeout=timeout)
        except queue.Empty:
            return
        pytest.fail(f"unexpected event {event!r}")
