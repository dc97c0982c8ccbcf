"""A part session: measuring the parts of a lot, one after another, without any UI.

Everything a measure screen used to decide lives here: which characteristic a gauge reading
belongs to (the answer to a poll, the highlighted characteristic, or the next open one its
gauge type fits), the calibration lock, the part in hand (its serial, current values, what is
being recorded, the readings its gauges showed), corrections that need a reason, and whether
the part can be closed and with what, and the live SPC of each reading (``spc``: control
charts, alarms that hold parts and block the next part until answered). A screen maps keys and
gauge messages to these calls and renders the typed outcome each returns; a script or a test
drives the same session headless.

Two kinds of methods, so that nothing slow runs on a UI thread:

* quick ones (``on_gauge``, ``manual``, ``judge``, ``correct``, ``poll``, ``finish``, the
  ``recorded`` / ``not_recorded`` / ``show`` / ``closed`` halves ...) change the session's state
  and never touch the record; call them all from one thread (a UI's);
* the I/O halves -- :meth:`PartSession.write`, :meth:`PartSession.read`,
  :meth:`PartSession.close` -- block on the local record, never change the session, and may
  run on a worker thread. A :class:`Capture` is a plain value: a writer may queue several and
  commit them together.

:meth:`PartSession.take`, :meth:`PartSession.record`, :meth:`PartSession.open_part` and
:meth:`PartSession.close_part` do both halves in turn, for headless use.
"""

from typing import TYPE_CHECKING

from inspect_station import imported_on_first_use

if TYPE_CHECKING:
    from inspect_station.measuring.outcomes import (
        Capture,
        CloseRequest,
        LoadedPart,
        ManualPrompt,
        NeedsDefect,
        NeedsReason,
        Notice,
        NotRecorded,
        Outcome,
        PartClosed,
        PartRequest,
        PartValue,
        Poll,
        PressData,
        Recorded,
        Stale,
        Step,
    )
    from inspect_station.measuring.session import Gauges, PartSession
    from inspect_station.measuring.spc import Alarm, ChartData, Plotted, SpcHold, SpcTracker

# Each name's module, imported on first use: the station's start needs the writer
# (``measuring.writer``) but not the part session, its outcomes or the live SPC, which load
# when an inspector first opens a lot.
_HOME = {
    "Capture": "outcomes",
    "CloseRequest": "outcomes",
    "LoadedPart": "outcomes",
    "ManualPrompt": "outcomes",
    "NeedsDefect": "outcomes",
    "NeedsReason": "outcomes",
    "Notice": "outcomes",
    "NotRecorded": "outcomes",
    "Outcome": "outcomes",
    "PartClosed": "outcomes",
    "PartRequest": "outcomes",
    "PartValue": "outcomes",
    "Poll": "outcomes",
    "PressData": "outcomes",
    "Recorded": "outcomes",
    "Stale": "outcomes",
    "Step": "outcomes",
    "Gauges": "session",
    "PartSession": "session",
    "Alarm": "spc",
    "ChartData": "spc",
    "Plotted": "spc",
    "SpcHold": "spc",
    "SpcTracker": "spc",
}

__getattr__ = imported_on_first_use(__name__, _HOME)


__all__ = [
    "Alarm",
    "Capture",
    "ChartData",
    "CloseRequest",
    "Gauges",
    "LoadedPart",
    "ManualPrompt",
    "NeedsDefect",
    "NeedsReason",
    "NotRecorded",
    "Notice",
    "Outcome",
    "PartClosed",
    "PartRequest",
    "PartSession",
    "PartValue",
    "Plotted",
    "Poll",
    "PressData",
    "Recorded",
    "SpcHold",
    "SpcTracker",
    "Stale",
    "Step",
]
