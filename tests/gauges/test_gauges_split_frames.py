"""Whole frames or nothing: a silence inside a frame breaks it, and no part of it is ever read.

Every shipped profile, a frame split at every byte position, on a real pseudo-terminal: the
head is reported when the silence passes the frame timeout, the tail (up to its terminator) is
reported as the rest of that broken frame, and the next whole frame is read exactly. Today's
examples from the issue (``-`` + pause + ``0.512``, ``+12`` + pause + ``.345``, ``-1`` + pause +
``2.345=``, ``-0`` + pause + ``.5 mm``) are among them. The framer's invariant is also checked
on its own, with silences anywhere in any byte stream.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from gaugekit import SHIPPED_NAMES, EventLog, make_asset, quick, shipped
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from propertykit import examples

from inspect_station.gauges import (
    ConnectedEvent,
    ErrorEvent,
    ErrorKind,
    Framer,
    GaugeProfile,
    GaugeReader,
    ReadingEvent,
    simulator_for,
)

SILENCE = Decimal("0.05")
"""Frame timeout used here: a split waits this long, so all splits of all profiles stay fast."""


class SplitBench:
    """A simulated gauge of one profile on a pty and a reader with one asset for every channel
    (the frames are sent as raw bytes, whatever the profile's request)."""

    def __init__(self, name: str) -> None:
        self.profile: GaugeProfile = quick(
            shipped(name), frame_timeout=SILENCE, double_press_window=Decimal("0")
        )
        self.sim = simulator_for(self.profile).start()
        self.channel = self.sim.channels[0]
        assets = [make_asset("G-1", name, self.sim.port)]
        self.events = EventLog()
        self.reader = GaugeReader(self.sim.port, self.profile, assets, events=self.events.queue)
        self.reader.start()
        self.events.expect(ConnectedEvent)
        self.count = 0

    def frame(self, value: str) -> bytes:
        """The frame a device of this family sends for ``value`` (with a flag where it has one)."""
        flag = "=" if self.profile.frame.flags and "{flag}" in self.profile.simulate.reading else ""
        return self.profile.encode(value, channel=self.channel, flag=flag)

    def split(self, frame: bytes, at: int) -> None:
        """Send ``frame`` with a silence after ``at`` bytes; assert it is broken, never read."""
        head, tail = frame[:at], frame[at:]
        self.sim.send_raw(head)
        broke = self.events.expect(ErrorEvent)
        assert broke.kind is ErrorKind.FRAME and broke.raw == head, broke
        assert "no terminator" in broke.reason
        self.sim.send_raw(tail)
        rest = self.events.expect(ErrorEvent)  # a ReadingEvent here would be a false value
        assert rest.kind is ErrorKind.FRAME and rest.raw == tail, rest
        assert "rest of a frame broken by a silence" in rest.reason
        self.whole()

    def whole(self) -> None:
        """A whole frame after a broken one is read exactly: the reader is in step again."""
        self.count += 1
        value = f"{self.count % 1000}.{self.count % 97:03d}"
        self.sim.send_raw(self.frame(value))
        reading = self.events.expect(ReadingEvent)
        assert reading.reading.decimal == Decimal(value)

    def close(self) -> None:
        """Stop the reader and the simulator."""
        self.reader.close()
        self.sim.close()


@contextlib.contextmanager
def split_bench(name: str) -> Iterator[SplitBench]:
    """A SplitBench, closed afterwards."""
    bench = SplitBench(name)
    try:
        yield bench
    finally:
        bench.close()


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_a_frame_split_at_every_position_is_never_read(name):
    with split_bench(name) as b:
        for value in ("-0.512", "12.345"):
            frame = b.frame(value)
            for at in range(1, len(frame)):
                b.split(frame, at)


@pytest.mark.parametrize(
    ("name", "value", "at"),
    [
        ("sylvac-simplex", "-0.512", 1),  # '-' + pause + '0.512\r' was read as 0.512
        ("sylvac-simplex", "12.345", 3),  # '+12' + pause + '.345\r' was read as 0.345
        ("mahr-c1202", "-12.345", 2),  # '-1' + pause + '2.345=\r' was read as 2.345 within
        ("generic-ascii", "-0.5", 2),  # '-0' + pause + '.5 mm\r' was read as 0.5
    ],
)
def test_the_split_frames_of_the_issue(name, value, at):
    with split_bench(name) as b:
        b.split(b.frame(value), at)


VALUES = st.decimals(
    min_value=Decimal("-9999.999"), max_value=Decimal("9999.999"), places=3, allow_nan=False
)


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_any_value_split_anywhere_is_never_read(name):
    with split_bench(name) as b:

        @settings(
            max_examples=6,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(value=VALUES, data=st.data())
        def check(value, data):
            frame = b.frame(format(value, "f"))
            b.split(frame, data.draw(st.integers(1, len(frame) - 1), label="split after"))

        check()


@settings(max_examples=examples(500), deadline=None)
@given(
    chunks=st.lists(
        st.tuples(st.binary(max_size=12).map(lambda b: b.replace(b"\r", b"\n")), st.booleans()),
        max_size=12,
    ),
    crlf=st.booleans(),
    terminate=st.lists(st.integers(0, 11), max_size=4),
)
def test_the_framer_only_ever_returns_whole_frames_unbroken_by_a_silence(chunks, crlf, terminate):
    terminator = b"\r\n" if crlf else b"\r"
    # Put terminators (or half of a CR LF) at some chunk ends.
    stream = []
    for index, (chunk, silence) in enumerate(chunks):
        if index in terminate:
            chunk += terminator if index % 3 else terminator[:1]
        stream.append((chunk, silence))
    framer = Framer(terminator, max_frame=32)
    data = b""
    silences: list[int] = []  # byte offsets after which a silence fell
    frames: list[bytes] = []
    for chunk, silence in stream:
        data += chunk
        frames += [f.data for f in framer.feed(chunk) if f.complete and not f.broken]
        if silence:
            framer.interrupt()
            silences.append(len(data))
    # Cut the stream the only honest way: the whole frames are the pieces between terminators
    # that no silence falls inside and that are not overlong -- all of them, and only them.
    honest: list[bytes] = []
    start = 0
    for m in re.finditer(re.escape(terminator), data):
        piece = data[start : m.end()]
        silent_inside = any(start < s < m.end() for s in silences)
        if not silent_inside and len(piece) - len(terminator) <= 32:
            honest.append(piece)
        start = m.end()
    assert frames == honest, (data, silences)
