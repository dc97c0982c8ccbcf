"""The one clock: the current time in UTC, and the text form every record writes it in.

Records (the journal's ``ts``, sync state, credential attempts, signatures) hold time as
RFC 3339 UTC text with microseconds and a ``Z``: ``2026-11-25T09:14:03.000000Z``. That text
sorts as the time does, so SQL compares it as text. Code that needs "now" calls
:func:`utc_now` (an aware datetime) or :func:`utc_timestamp` (that text); code that is given a
clock (the review service, the user directory) takes a :data:`Clock`, so tests can set the time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
"""strftime/strptime format of a record's UTC time."""

Clock = Callable[[], dt.datetime]
"""Something that tells the time: returns the current moment as an aware UTC datetime."""


def utc_now() -> dt.datetime:
    """The current moment as a timezone-aware datetime in UTC."""
    return dt.datetime.now(dt.UTC)


def format_utc(moment: dt.datetime) -> str:
    """A moment as records write it (RFC 3339 UTC, microseconds, ``Z``); aware moments only."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone: a record's time must be unambiguous")
    return _utc_text(moment.astimezone(dt.UTC))


def _utc_text(utc: dt.datetime) -> str:
    """The text of a moment already in UTC (``TIMESTAMP_FORMAT``)."""
    if utc.year < 1000:  # isoformat pads the year to four digits; strftime need not
        return utc.strftime(TIMESTAMP_FORMAT)
    # The same text as TIMESTAMP_FORMAT, written by C code without parsing a format.
    return utc.isoformat(timespec="microseconds")[:-6] + "Z"  # "+00:00" -> "Z"


def utc_timestamp() -> str:
    """The current moment as records write it: the journal's ``ts`` text."""
    moment = utc_now()
    # Already UTC (what utc_now gives): not converted again; every journal record asks this.
    return _utc_text(moment) if moment.tzinfo is dt.UTC else format_utc(moment)


def parse_utc(text: str) -> dt.datetime:
    """A record's UTC time text as an aware datetime; ValueError if it is not in that form."""
    return dt.datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=dt.UTC)


def start_of_day_utc(day: dt.date) -> str:
    """Midnight UTC at the start of ``day``, as records write times (a lower bound for queries)."""
    return format_utc(dt.datetime.combine(day, dt.time(), dt.UTC))


def wall_clock(moment: dt.datetime) -> str:
    """A moment as the station's local wall clock shows it to a person: ``HH:MM``."""
    return moment.astimezone().strftime("%H:%M")
