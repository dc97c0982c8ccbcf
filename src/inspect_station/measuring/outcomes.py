"""What a part session holds and answers: the part's values and a typed outcome per call.

Plain, immutable values: a screen renders them, a script inspects them, and a capture can wait
in a queue for a writer that commits several together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inspect_station.config import GaugeAsset
from inspect_station.evaluate import Evaluation, Zone
from inspect_station.gauges.events import ReadingEvent
from inspect_station.recording import ManualSource, MeasurementAck, Source
from inspect_station.spec.model import Characteristic, Kind
from inspect_station.station import LotProgress
from inspect_station.vocabulary import PartResult, Verdict

# -- the part's values ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartValue:
    """The current value of one characteristic of the part in hand, as recorded.

    Its fields are named after the measurement projection's columns, and ``value["verdict"]``
    reads a field like a projection row would.
    """

    characteristic: str
    """Characteristic id."""
    kind: Kind
    """variable or attribute."""
    value: str
    """The value as measured (an attribute: pass / fail)."""
    unit: str | None
    """Its unit as measured."""
    value_in_spec_unit: str | None
    """The value in the spec's unit."""
    spec_unit: str | None
    """The unit of the characteristic's limits."""
    verdict: Verdict
    """pass or fail."""
    zone: Zone | None
    """inside, guard-band or outside (None in records older than zones)."""
    source: str
    """gauge or manual."""
    manual_reason: str | None
    """Why it was entered by hand."""
    supersedes: str | None
    """The record it corrects, if it is a correction."""
    reason: str | None
    """The reason of the correction."""

    @property
    def manual(self) -> bool:
        """A variable value entered by hand (attributes are always judged by a person)."""
        return self.source == "manual" and self.kind is not Kind.ATTRIBUTE

    def __getitem__(self, name: str) -> Any:
        """A field by its projection column name."""
        if name not in self.__slots__:
            raise KeyError(name)
        return getattr(self, name)

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> PartValue:
        """The value of a current measurement row of the record."""
        return cls(
            characteristic=row["characteristic"],
            kind=Kind(row["kind"] or Kind.VARIABLE.value),
            value=row["value"],
            unit=row["unit"],
            value_in_spec_unit=row["value_in_spec_unit"],
            spec_unit=row["spec_unit"],
            verdict=Verdict(row["verdict"]),
            zone=Zone(row["zone"]) if row["zone"] else None,
            source=row["source"],
            manual_reason=row["manual_reason"],
            supersedes=row["supersedes"],
            reason=row["reason"],
        )

    @classmethod
    def of_ack(cls, capture: Capture, kind: Kind, ack: MeasurementAck) -> PartValue:
        """The value a committed capture gave the characteristic."""
        e = ack.evaluation
        manual = isinstance(capture.source, ManualSource)
        return cls(
            characteristic=ack.characteristic,
            kind=kind,
            value=e.value,
            unit=e.unit,
            value_in_spec_unit=e.value_in_spec_unit,
            spec_unit=e.spec_unit,
            verdict=e.verdict,
            zone=e.zone,
            source="manual" if manual else "gauge",
            manual_reason=capture.source.reason
            if isinstance(capture.source, ManualSource)
            else None,
            supersedes=ack.supersedes,
            reason=capture.reason if ack.supersedes else None,
        )


# -- what a call asks for or answers -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notice:
    """Something to tell the inspector; nothing is recorded."""

    message: str
    """One sentence."""
    error: bool = False
    """Whether it is a problem (shown as one, with the bell) rather than a hint."""


@dataclass(frozen=True, slots=True)
class Capture:
    """A value bound for a characteristic of the part in hand, ready to be recorded."""

    serial: str
    """The part it belongs to."""
    characteristic: str
    """Characteristic id."""
    value: str
    """The value as read or typed (without its unit)."""
    unit: str | None
    """Its unit, if it came with one."""
    source: Source
    """The gauge asset and frame, or the reason it was typed."""
    reason: str | None = None
    """The reason of a correction (the characteristic already had a value)."""
    event: ReadingEvent | None = None
    """The gauge event it came from, if any."""


@dataclass(frozen=True, slots=True)
class NeedsReason:
    """The characteristic already has a value: recording another is a correction with a reason.

    Answer with :meth:`PartSession.correct`.
    """

    capture: Capture
    """What would be recorded once a reason is given."""

    @property
    def message(self) -> str:
        """The question to ask."""
        return f"#{self.capture.characteristic} already has a value: reason for the correction?"


@dataclass(frozen=True, slots=True)
class Recorded:
    """A value committed to the record: the verdict to show."""

    capture: Capture
    """What was recorded."""
    ack: MeasurementAck
    """The record's acknowledgement (after the commit)."""
    value: PartValue
    """The characteristic's value now."""
    complete: bool
    """Every characteristic of the part has a value now."""

    @property
    def evaluation(self) -> Evaluation:
        """The verdict and its explanation."""
        return self.ack.evaluation


@dataclass(frozen=True, slots=True)
class NotRecorded:
    """A value the record refused (not a number, implausible, an overdue gauge ...)."""

    capture: Capture
    """What was refused."""
    message: str
    """Why, in one sentence."""


@dataclass(frozen=True, slots=True)
class Stale:
    """A value committed for a part that is no longer in hand (safe in the record)."""

    ack: MeasurementAck
    """The record's acknowledgement."""


Step = Capture | NeedsReason | Notice
"""What a reading, a typed value or a judgement turns into before it is recorded."""
Outcome = Recorded | NotRecorded | Stale
"""What recording a capture turned into."""


@dataclass(frozen=True, slots=True)
class Poll:
    """Ask this polled gauge for the highlighted characteristic's value."""

    asset: GaugeAsset
    """The gauge to ask."""
    characteristic: Characteristic
    """What its answer is for."""


@dataclass(frozen=True, slots=True)
class PressData:
    """The highlighted characteristic's gauge sends by itself: press its DATA key."""

    asset: GaugeAsset
    """The gauge."""


@dataclass(frozen=True, slots=True)
class ManualPrompt:
    """Type the highlighted characteristic's value, with a reason."""

    characteristic: Characteristic
    """What is entered."""
    default_reason: str
    """The reason to offer (why no gauge can feed it), or ""."""


@dataclass(frozen=True, slots=True)
class PartRequest:
    """Which part to load: a serial, or None for the lot's open part or next serial."""

    serial: str | None


@dataclass(frozen=True, slots=True)
class LoadedPart:
    """A part as the record has it."""

    serial: str
    """Its serial."""
    values: dict[str, PartValue]
    """Characteristic id -> current value of its latest inspection."""


@dataclass(frozen=True, slots=True)
class NeedsDefect:
    """The part fails: closing it rejects it, with a defect code and a note."""

    serial: str
    """The part."""
    failed: list[str]
    """The characteristics that failed."""
    codes: dict[str, str]
    """The station's defect codes -> what they mean."""


@dataclass(frozen=True, slots=True)
class CloseRequest:
    """Close the part in hand: accepted, or rejected with a defect code."""

    serial: str
    """The part."""
    defect_code: str | None = None
    """Why it is rejected (None: it passes)."""
    note: str | None = None
    """What the inspector saw."""


@dataclass(frozen=True, slots=True)
class PartClosed:
    """A part closed, where the lot stands now, and the next part."""

    serial: str
    """The part closed."""
    result: str
    """accept or reject."""
    progress: LotProgress
    """The lot after it."""
    next_part: LoadedPart
    """The part to measure next."""

    @property
    def accepted(self) -> bool:
        """Whether the part was accepted."""
        return self.result == PartResult.ACCEPT
