"""The audit report's model: sections of findings, each with its clause, records and command."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FORMAT = 1
"""Version of the report's JSON form (``audit.schema.json``)."""


@dataclass(frozen=True)
class Finding:
    """One thing an auditor would write up, with the records behind it."""

    clause: str
    """The clause it concerns: ``ISO 9001 7.1.5.2``, ``AS9100 8.7``, ``21 CFR 11.10(e)`` ..."""
    check: str
    """Which check found it (a stable name, e.g. ``gauge-overdue``)."""
    what: str
    """What is wrong, in one sentence."""
    records: tuple[tuple[str, int], ...] = ()
    """The records (station, seq) it is about (empty when it is about configuration)."""
    command: str = ""
    """The one command that shows them."""

    def json(self) -> dict[str, Any]:
        """The finding as a JSON object."""
        return {
            "clause": self.clause,
            "check": self.check,
            "what": self.what,
            "records": [{"station": s, "seq": q} for s, q in self.records],
            "command": self.command,
        }


@dataclass
class Section:
    """One question an auditor asks, with what the record answers."""

    key: str
    """Stable name: calibration, nonconforming, competence, records, spc."""
    title: str
    """The question, for people."""
    clause: str
    """The clause(s) it answers."""
    findings: list[Finding] = field(default_factory=list)
    """What is wrong (empty: nothing)."""
    notes: list[str] = field(default_factory=list)
    """What was checked, and what the record cannot show."""

    def json(self) -> dict[str, Any]:
        """The section as a JSON object."""
        return {
            "key": self.key,
            "title": self.title,
            "clause": self.clause,
            "findings": [f.json() for f in self.findings],
            "notes": list(self.notes),
        }


@dataclass
class AuditReport:
    """The whole report: where it was read, when, and its sections."""

    source: str
    """Where the records came from (no password)."""
    generated_at: str
    """When the report was made (UTC)."""
    since: str | None
    """Only records from this date on (None: all)."""
    heads: dict[str, tuple[int, str]]
    """Station -> (seq, hash) of the snapshot the report read."""
    sections: list[Section] = field(default_factory=list)
    """The sections, in order."""

    @property
    def findings(self) -> list[Finding]:
        """Every finding of every section."""
        return [f for s in self.sections for f in s.findings]

    def json(self) -> dict[str, Any]:
        """The report as a JSON object (``audit.schema.json``)."""
        return {
            "format": FORMAT,
            "source": self.source,
            "generated_at": self.generated_at,
            "since": self.since,
            "heads": [
                {"station": station, "seq": seq, "hash": hash_}
                for station, (seq, hash_) in sorted(self.heads.items())
            ],
            "findings": len(self.findings),
            "sections": [s.json() for s in self.sections],
        }
