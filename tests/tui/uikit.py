"""Helpers to drive the station UI with Pilot: wait, type, sign in, start a lot."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot

from inspect_station.gauges.hub import GaugeState


async def settle(pilot: Pilot, rounds: int = 3) -> None:
    """Let the writer thread finish and its results reach the screen."""
    app = pilot.app
    for _ in range(rounds):
        await asyncio.wrap_future(app._writer.submit(lambda: None))
        await pilot.pause()


async def wait_until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait (without sleeping blindly) until ``condition`` holds, or fail."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await settle(pilot, rounds=1)
        await pilot.pause(0.02)


async def all_connected(pilot: Pilot) -> None:
    """Wait until every demo gauge's port is open."""
    hub = pilot.app.hub
    await wait_until(pilot, lambda: all(s.state is GaugeState.CONNECTED for s in hub.states()))


async def type_text(pilot: Pilot, text: str) -> None:
    """Type text key by key."""
    for char in text:
        await pilot.press(char)


async def sign_in(pilot: Pilot, user: str = "demo", pin: str = "314159") -> None:
    """Sign in from the sign-in screen."""
    await type_text(pilot, user)
    await pilot.press("enter")
    await type_text(pilot, pin)
    await pilot.press("enter")
    await settle(pilot)


async def start_lot(
    pilot: Pilot, part: str = "BRK", lot: str = "L-1", lot_size: str = "500", ack: bool = True
) -> None:
    """From the job screen: choose a part, enter a lot, acknowledge a new revision."""
    await type_text(pilot, part)
    await pilot.press("enter")
    await type_text(pilot, lot)
    await pilot.press("enter")
    await pilot.press("enter")  # no work order
    await type_text(pilot, lot_size)
    await pilot.press("enter")
    await settle(pilot)
    if ack:
        await pilot.press("a")
        await settle(pilot)


async def measuring(pilot: Pilot, **lot: str | bool) -> None:
    """Gauges connected, the demo inspector signed in, a lot started: the measure screen."""
    await all_connected(pilot)
    await sign_in(pilot)
    await start_lot(pilot, **lot)  # type: ignore[arg-type]
