"""The capability report's model: its scope, one characteristic's figures, the whole report.

``reports.spc.spc_report`` builds an ``SpcReport``; ``json()`` is the document that
``spc-report.schema.json`` describes (figures as decimal strings, never JSON floats).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

from inspect_station import __version__
from inspect_station.errors import InspectStationError
from inspect_station.records import RecordSource
from inspect_station.spc import Arl, Capability, ChartPoint, LimitVersion, SpcSettings, Violation
from inspect_station.spc.fatigue import CauseTally
from inspect_station.text import unsafe

SCHEMA_FILE = "spc-report.schema.json"
"""File name of the report's JSON Schema inside the package."""
FORMAT = "inspect-station spc report"
"""Value of the JSON document's ``format`` member."""
FORMAT_VERSION = 1
"""Value of its ``format_version`` member."""


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of the report's JSON document."""
    text = files("inspect_station.reports").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return dict(json.loads(text))


class SpcReportError(InspectStationError):
    """A capability report cannot be made as asked (unknown lot or part, nothing measured)."""


@dataclass(frozen=True)
class ReportScope:
    """What a report covers: a part number (every lot) or one lot, optionally narrowed."""

    part_number: str | None = None
    """The part number, for a report over every lot of it."""
    lot: str | None = None
    """The lot, for a report over one lot."""
    since: str | None = None
    """Only readings taken at or after this UTC time (RFC 3339, Z)."""
    characteristic: str | None = None
    """Only this characteristic (balloon id)."""

    def describe(self) -> str:
        """The scope in words, for a heading."""
        what = f"lot {self.lot}" if self.lot is not None else f"part {self.part_number}"
        if self.characteristic is not None:
            what += f", characteristic {self.characteristic}"
        if self.since is not None:
            what += f", readings since {self.since}"
        return what

    def json(self) -> dict[str, Any]:
        """The scope as a JSON object."""
        return {
            "part_number": self.part_number,
            "lot": self.lot,
            "since": self.since,
            "characteristic": self.characteristic,
        }


@dataclass(frozen=True)
class CharacteristicReport:
    """The figures of one characteristic over the readings in scope (of one station, or all)."""

    id: str
    """Balloon id."""
    name: str
    """Name in the latest spec revision measured."""
    unit: str
    """Unit of every value (the spec's)."""
    settings: SpcSettings
    """Subgroup size, baseline and rules used."""
    capability: Capability
    """n, mean, sigmas, indices, normality note."""
    manual: int
    """Readings entered by hand (included)."""
    superseded: int
    """Readings superseded by a correction (left out)."""
    stations: tuple[str, ...]
    """Stations the readings come from."""
    first_at: str
    """Time of the first reading (UTC)."""
    last_at: str
    """Time of the last reading (UTC)."""
    limits: LimitVersion | None
    """The control limits of the chart (the last in force), None when none could be had."""
    limits_label: str
    """Where the limits come from, in words ("not locked" when derived)."""
    locked: bool
    """Whether the limits are locked versions from the record."""
    points: tuple[ChartPoint, ...]
    """The newest plotted points (at most ``CHART_POINTS``)."""
    plotted: int
    """How many points were plotted in all."""
    violations: tuple[Violation, ...]
    """Every rule violation found, in order."""
    notes: tuple[str, ...]
    """Sentences about the figures (limits changed, indices missing, no control limits)."""
    fatigue: CauseTally = field(default_factory=CauseTally)
    """The station's answered alarms of this characteristic: real cause vs "no cause found"."""
    arl: Arl | None = None
    """Expected in-control run length of the rules and subgroup size in force."""

    def fatigue_sentences(self) -> list[str]:
        """The alarm-fatigue figures in words: causes found, rules that only ever produced
        "no cause", and the false-alarm rate of the rules in force."""
        out = []
        f = self.fatigue
        if f.alarms:
            line = (
                f"Alarms at the station: {f.alarms} ({f.real_cause} found a cause, {f.no_cause} "
                f"no cause found, {f.open} open)"
            )
            if f.only_no_cause:
                rules = ", ".join(f"rule {r}" for r in f.only_no_cause)
                line += f'; rules that only ever produced "no cause": {rules}'
            out.append(line + ".")
        if self.arl is not None:
            arl = self.arl.record()
            n = (
                self.limits.subgroup_size
                if self.limits is not None
                else self.settings.subgroup_size
            )
            if arl["arl0_points"] is None:
                out.append("No false alarm is expected with the rules in force.")
            else:
                error = f" ± {arl['standard_error']}" if arl["standard_error"] else ""
                out.append(
                    f"In control, the rules in force (subgroup size {n}) raise a false alarm "
                    f"every {arl['arl0_points']}{error} points on average ({arl['arl0_readings']} "
                    f"readings; {arl['method']})."
                )
        return out

    def by_rule(self) -> dict[str, int]:
        """Violations per rule: 'rule 1', 'rule 1 (range)', 'cusum', 'ewma'."""
        counts: dict[str, int] = {}
        for v in self.violations:
            key = {"x": f"rule {v.rule}", "range": f"rule {v.rule} (range)"}.get(v.chart, v.chart)
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))

    def record(self) -> dict[str, Any]:
        """The characteristic as the report's JSON holds it: figures as decimal strings."""
        cap = self.capability.record()
        limits = None
        if self.limits is not None:
            body = self.limits.body()
            limits = {
                "locked": self.locked,
                "label": self.limits_label,
                "version": self.limits.version if self.locked else None,
                "hash": self.limits.content_hash if self.locked else None,
                **{k: body[k] for k in ("chart", "centre", "sigma", "ucl", "lcl")},
                **{k: body[k] for k in ("range_centre", "range_ucl", "range_lcl")},
                "baseline_count": self.limits.baseline_count,
            }
        return {
            "id": self.id,
            "name": self.name,
            "unit": self.unit,
            "n": cap["n"],
            "manual": self.manual,
            "superseded_excluded": self.superseded,
            "subgroup_size": cap["subgroup_size"],
            "lower": cap["lower"],
            "upper": cap["upper"],
            "mean": cap["mean"],
            "sigma_within": cap["sigma_within"],
            "sigma_overall": cap["sigma_overall"],
            "cp": cap["cp"],
            "cpk": cap["cpk"],
            "cpu": cap["cpu"],
            "cpl": cap["cpl"],
            "pp": cap["pp"],
            "ppk": cap["ppk"],
            "ppu": cap["ppu"],
            "ppl": cap["ppl"],
            "normality": cap["normality"],
            "stations": list(self.stations),
            "first_at": self.first_at,
            "last_at": self.last_at,
            "limits": limits,
            "violations_by_rule": self.by_rule(),
            "violations": [v.record() for v in self.violations],
            "alarm_fatigue": {
                **self.fatigue.record(),
                "arl": None if self.arl is None else self.arl.record(),
            },
            "notes": [*cap["notes"], *self.notes],
        }


@dataclass(frozen=True)
class SpcReport:
    """A capability report: every characteristic in scope, and per station if asked."""

    scope: ReportScope
    """What was asked."""
    part_number: str
    """The part number reported on."""
    revision: str
    """The latest spec revision measured."""
    description: str
    """Its description."""
    source: RecordSource
    """Where the readings were read (a snapshot)."""
    generated_at: str
    """When the report was made (UTC)."""
    characteristics: tuple[CharacteristicReport, ...]
    """Every characteristic with readings, all stations together, in spec order."""
    by_station: tuple[tuple[str, tuple[CharacteristicReport, ...]], ...] | None
    """(station, its characteristics) per station, when asked for."""

    def json(self) -> dict[str, Any]:
        """The report as a JSON document (see ``spc-report.schema.json``)."""
        stations = {s for c in self.characteristics for s in c.stations}
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "generator": f"inspect-station {__version__}",
            "generated_at": self.generated_at,
            "scope": self.scope.json(),
            "part": {
                "part_number": self.part_number,
                "revision": self.revision,
                "description": self.description,
            },
            "source": {
                "kind": self.source.kind,
                "description": self.source.description,
                "heads": [
                    {"station": s, "seq": seq, "hash": h}
                    for s, (seq, h) in sorted(self.source.heads.items())
                    if s in stations
                ],
            },
            "characteristics": [c.record() for c in self.characteristics],
            "stations": None
            if self.by_station is None
            else [
                {"station": s, "characteristics": [c.record() for c in chars]}
                for s, chars in self.by_station
            ],
        }

    def json_text(self) -> str:
        """The JSON document as text (UTF-8, indented)."""
        text = json.dumps(self.json(), ensure_ascii=False, indent=2)
        # Hostile text from a record never reaches a terminal raw; line ends are the layout's.
        if any(unsafe(c) and c != "\n" for c in text):
            text = "".join(f"\\u{ord(c):04x}" if unsafe(c) and c != "\n" else c for c in text)
        return text + "\n"
