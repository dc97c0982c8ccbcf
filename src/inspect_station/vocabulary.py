"""The words the record is written in: a reading's verdict, a part's result, a disposition,
what an SPC answer does with a held part, a calibration's result.

These values are what journal bodies, projections, exports and screens say; each is an enum
here, in the core, so that configuration, recording, review and export compare members, never
bare strings, and none of them has to import another to learn a word.
"""

from __future__ import annotations

import re
from enum import StrEnum

from inspect_station.errors import DispositionError


class Verdict(StrEnum):
    """Conformance verdict of one reading."""

    PASS = "pass"
    """The reading conforms (inside the acceptance zone, or an attribute judged good)."""
    FAIL = "fail"
    """The reading does not conform, or its conformance is not proven."""


class PartResult(StrEnum):
    """The result a part inspection is closed with."""

    ACCEPT = "accept"
    """Every characteristic passed."""
    REJECT = "reject"
    """At least one characteristic failed: the part awaits a disposition."""


class Disposition(StrEnum):
    """What is done with a nonconforming part (ISO 9000:2015 §3.12, AS9100D 8.7)."""

    USE_AS_IS = "use-as-is"
    """Concession: released as it is, without conforming."""
    REWORK = "rework"
    """Made to conform; re-inspected afterwards."""
    REPAIR = "repair"
    """Made fit for the intended use without conforming."""
    REGRADE = "regrade"
    """Altered grade so that it conforms to different requirements."""
    SCRAP = "scrap"
    """Precluded from its intended use, destroyed or recycled."""
    RETURN_TO_SUPPLIER = "return-to-supplier"
    """Sent back to the supplier who made it."""

    @property
    def label(self) -> str:
        """How the disposition is shown to people."""
        return _LABELS[self]


_LABELS = {
    Disposition.USE_AS_IS: "Use as is (concession)",
    Disposition.REWORK: "Rework",
    Disposition.REPAIR: "Repair",
    Disposition.REGRADE: "Regrade",
    Disposition.SCRAP: "Scrap",
    Disposition.RETURN_TO_SUPPLIER: "Return to supplier",
}

_DISPOSITION_ALIASES = {
    "concession": Disposition.USE_AS_IS,
    "uai": Disposition.USE_AS_IS,
    "rts": Disposition.RETURN_TO_SUPPLIER,
}


def parse_disposition(value: Disposition | str) -> Disposition:
    """A Disposition from its value or a loose spelling ('use as is', 'RTS'); else an error."""
    if isinstance(value, Disposition):
        return value
    text = re.sub(r"[\s_]+", "-", str(value).strip().lower())
    alias = _DISPOSITION_ALIASES.get(text)
    if alias is not None:
        return alias
    try:
        return Disposition(text)
    except ValueError:
        choices = ", ".join(d.value for d in Disposition)
        raise DispositionError(
            f"{value!r} is not a disposition; choose one of {choices}."
        ) from None


class HeldPartDecision(StrEnum):
    """What the answer to an SPC alarm does with a part the alarm held (containment)."""

    RELEASE = "release"
    """The part goes on as measured."""
    REINSPECT = "reinspect"
    """A re-inspection is opened; the part waits until it is measured again."""
    REJECT = "reject"
    """The part becomes a reject awaiting its disposition in review."""


class CalibrationResult(StrEnum):
    """The outcome of a gauge's calibration."""

    PASS = "pass"
    """Found within its accuracy: fit for use until the next due date."""
    FAIL = "fail"
    """Found out of its accuracy: results since its last good calibration are suspect."""


__all__ = [
    "CalibrationResult",
    "Disposition",
    "HeldPartDecision",
    "PartResult",
    "Verdict",
    "parse_disposition",
]
