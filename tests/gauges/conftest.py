"""Fixtures for the gauge tests: event logs, simulators and readers closed after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from gaugekit import FAST, EventLog

from inspect_station.gauges import GaugeProfile, GaugeReader, GaugeSimulator, simulator_for


@pytest.fixture
def events() -> EventLog:
    """An empty event log."""
    return EventLog()


@pytest.fixture
def start_sim() -> Iterator[Callable[..., GaugeSimulator]]:
    """Start simulators that are closed after the test."""
    started: list[GaugeSimulator] = []

    def start(profile: GaugeProfile, **kwargs: Any) -> GaugeSimulator:
        sim = simulator_for(profile, **kwargs).start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.close()


@pytest.fixture
def start_reader(events: EventLog) -> Iterator[Callable[..., GaugeReader]]:
    """Start readers (reporting to ``events``) that are closed after the test."""
    started: list[GaugeReader] = []

    def start(port: str, profile: GaugeProfile, assets=(), **kwargs: Any) -> GaugeReader:
        kwargs.setdefault("backoff", FAST)
        kwargs.setdefault("events", events.queue)
        reader = GaugeReader(port, profile, assets, **kwargs)
        reader.start()
        started.append(reader)
        return reader

    yield start
    for reader in started:
        reader.close()
