"""The station's one writer thread, with group commit for the measurements waiting in it.

Everything that blocks on the local record (a sign-in's PIN hash, reading a part, recording,
closing) runs here, one job after another, in the order submitted. Measurements are special:
when the thread turns to a measurement, it takes every further measurement already waiting
right behind it (up to ``limit``) and records them all with :meth:`Recorder.measure_many` in one
durable transaction -- one fsync -- then completes each one's future, in order, with its
acknowledgement or the error that refused it alone. A lone measurement is a group of one and
commits at once: nothing waits for company. A job that is not a measurement ends a group, so
the order of everything submitted is kept (a part is never closed before its readings).

A future completes only after the commit: an acknowledgement always means on disk. If the
group's transaction fails as a whole (the disk, a defect), nothing of it was recorded and every
future of the group gets that error.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from inspect_station.errors import InspectStationError
from inspect_station.recording import Measurement, MeasurementAck, Recorder

T = TypeVar("T")

GROUP_LIMIT = 64
"""Most measurements one transaction takes (four gauges at 10 Hz queue a handful at most)."""

BACKLOG_LIMIT = 200
"""Most measurements waiting for the writer (five seconds of four gauges at 10 Hz behind a
stalled disk): one more is refused at once with :class:`RecordingBacklog`, never queued
without bound and never dropped silently."""


class RecordingBacklog(InspectStationError):
    """Too many measurements are waiting to be recorded: this one was not taken."""


@dataclass(frozen=True)
class GroupedWrite:
    """A measurement for the writer's group commit, with what to undo in memory if it is not
    committed (a chart it fed before it was refused or its group rolled back)."""

    request: Measurement
    """The measurement to record."""
    undo: Callable[[], None] | None = None
    """Called (on the writer thread) when the measurement was not committed."""

    def not_committed(self) -> None:
        """Undo in memory what the measurement fed, as it was not committed."""
        if self.undo is not None:
            self.undo()


@dataclass
class _Job:
    work: Callable[[], Any]
    future: Future[Any]


@dataclass
class _Write:
    write: GroupedWrite
    future: Future[MeasurementAck]


class StationWriter:
    """One thread that runs blocking jobs in order and group-commits waiting measurements."""

    def __init__(
        self,
        recorder: Recorder,
        *,
        limit: int = GROUP_LIMIT,
        backlog: int = BACKLOG_LIMIT,
        name: str = "station-writer",
    ) -> None:
        if limit < 1 or backlog < 1:
            raise ValueError("a group and the backlog hold at least one measurement")
        self._recorder = recorder
        self._limit = limit
        self.backlog = backlog
        """Most measurements that may wait; one more is refused (RecordingBacklog)."""
        self._writes = 0
        self._queue: deque[_Job | _Write] = deque()
        self._ready = threading.Condition()
        self._closing = False
        self.groups: list[int] = []
        """Size of each measurement group committed so far, in order (kept short: the last
        hundred), for whoever wants to see the group commit at work."""
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[], T]) -> Future[T]:
        """Run ``work`` after everything submitted before it; its outcome is the future's."""
        future: Future[T] = Future()
        self._put(_Job(work, future))
        return future

    def submit_measurement(self, write: GroupedWrite) -> Future[MeasurementAck]:
        """Record a measurement, in one commit with the measurements waiting next to it; the
        future holds its acknowledgement (after the commit) or the error that refused it --
        :class:`RecordingBacklog` at once if ``backlog`` measurements are already waiting."""
        future: Future[MeasurementAck] = Future()
        with self._ready:
            if self._writes >= self.backlog:
                future.set_running_or_notify_cancel()
                future.set_exception(
                    RecordingBacklog(
                        f"recording backlog: {self._writes} earlier readings are still "
                        "waiting for the disk; send this one again"
                    )
                )
                return future
            self._writes += 1
        self._put(_Write(write, future))
        return future

    def waiting(self) -> int:
        """Jobs and measurements submitted and not yet started."""
        with self._ready:
            return len(self._queue)

    def shutdown(self, wait: bool = True) -> None:
        """Finish what was submitted, then stop; nothing more is accepted."""
        with self._ready:
            self._closing = True
            self._ready.notify()
        if wait and threading.current_thread() is not self._thread:
            self._thread.join()

    def _put(self, item: _Job | _Write) -> None:
        with self._ready:
            if self._closing:
                raise RuntimeError("the station writer has been shut down")
            self._queue.append(item)
            self._ready.notify()

    def _take(self) -> _Job | list[_Write] | None:
        """The next job, or the group of measurements waiting at the head of the queue (None
        once shut down and drained)."""
        with self._ready:
            while not self._queue and not self._closing:
                self._ready.wait()
            if not self._queue:
                return None
            first = self._queue.popleft()
            if isinstance(first, _Job):
                return first
            group = [first]
            while self._queue and isinstance(self._queue[0], _Write) and len(group) < self._limit:
                item = self._queue.popleft()
                assert isinstance(item, _Write)
                group.append(item)
            self._writes -= len(group)
            return group

    def _run(self) -> None:
        while (item := self._take()) is not None:
            if isinstance(item, _Job):
                if item.future.set_running_or_notify_cancel():
                    try:
                        result = item.work()
                    except BaseException as exc:  # handed to whoever waits on the future
                        item.future.set_exception(exc)
                    else:
                        item.future.set_result(result)
            else:
                self._commit(item)

    def _commit(self, group: list[_Write]) -> None:
        """Record a group in one transaction, then complete each future in order."""
        live = [w for w in group if w.future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            outcomes = self._recorder.measure_many([w.write.request for w in live])
        except BaseException as exc:  # the whole group rolled back: nothing acknowledged
            for w in live:
                w.write.not_committed()
                w.future.set_exception(exc)
            return
        self.groups = [*self.groups[-99:], len(live)]
        for w, outcome in zip(live, outcomes, strict=True):
            if isinstance(outcome, InspectStationError):
                w.write.not_committed()
                w.future.set_exception(outcome)
            else:
                w.future.set_result(outcome)
