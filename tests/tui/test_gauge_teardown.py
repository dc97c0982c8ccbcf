"""A gauge reading that arrives while the measure screen is being torn down, or after the last
screen is gone (the station closing with gauges still sending), is dropped: the station neither
crashes nor records it."""

from __future__ import annotations

import datetime as dt

from uikit import measuring, settle

from inspect_station.gauges.codec import Reading
from inspect_station.gauges.events import ReadingEvent
from inspect_station.tui.app import GaugeMessage
from inspect_station.tui.screens.measure import MeasureScreen


async def test_a_reading_for_a_screen_being_torn_down_is_dropped_not_a_crash(station):
    app = station.app()
    async with app.run_test() as pilot:
        await measuring(pilot)
        screen = app.screen
        assert isinstance(screen, MeasureScreen)
        before = station.service.store.head()[0]
        asset = station.service.config.gauge[0].asset
        await screen.remove_children()  # what closing the station does to it
        reading = Reading("120.01", "mm", None, None, b"120.01\r")
        event = ReadingEvent(port="sim", at=dt.datetime.now(dt.UTC), asset=asset, reading=reading)
        app.post_message(GaugeMessage(event))
        await settle(pilot)
        assert app._exception is None and app.is_running
    # Closed: the screens are gone, and a message still queued for the app finds none.
    app.on_gauge_message(GaugeMessage(event))
    app.refresh_status()
    assert station.service.store.head()[0] - before <= 1  # at most the sign-out, no measurement
    kinds = station.service.store.query("SELECT kind FROM journal WHERE seq > ?", [before])
    assert "measurement" not in [k["kind"] for k in kinds]
