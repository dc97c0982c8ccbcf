"""Records holding hostile text, as a version before the text validator could have written them
(or another station's record arriving in the central store): for testing what reads them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import inspect_station.recording as recording


@contextmanager
def unchecked_text() -> Iterator[None]:
    """While inside, the recorder keeps lots, serials, notes and reasons exactly as given."""
    saved = recording.check_id, recording.check_line

    def as_given(value: Any, what: str, **_: Any) -> Any:
        return value

    recording.check_id, recording.check_line = as_given, as_given
    try:
        yield
    finally:
        recording.check_id, recording.check_line = saved
