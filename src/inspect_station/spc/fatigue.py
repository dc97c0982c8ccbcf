"""Alarm fatigue: per characteristic, how many answered alarms found a real cause and how many
"no cause found", per rule -- the one computation ``spc alarms`` and ``spc report`` share.

Pure: rows of (part number, characteristic, rule, chart, alarm, cause) go in, one
``CauseTally`` per characteristic comes out. An alarm counts once per rule that fired in it;
an alarm not answered yet (cause None) is open and counts for no rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


def rule_label(rule: str, chart: str) -> str:
    """How a violated rule is named: '2', 'cusum', or '1 (range)' for the range chart."""
    return f"{rule} (range)" if chart == "range" else rule


@dataclass(frozen=True)
class CauseTally:
    """The answered alarms of one characteristic, by cause found."""

    alarms: int = 0
    """Alarms raised."""
    real_cause: int = 0
    """Alarms answered with an assignable cause."""
    no_cause: int = 0
    """Alarms answered "no cause found"."""
    open: int = 0
    """Alarms not answered yet."""
    by_rule: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Rule -> (alarms answered with a real cause, answered "no cause"), by rule label."""

    @property
    def only_no_cause(self) -> list[str]:
        """Rules that fired, were answered, and never found a real cause."""
        return [rule for rule, (real, none) in self.by_rule.items() if none and not real]

    def record(self) -> dict[str, Any]:
        """The counts as the report's JSON holds them."""
        return {
            "alarms": self.alarms,
            "real_cause": self.real_cause,
            "no_cause": self.no_cause,
            "open": self.open,
            "by_rule": {
                rule: {"real_cause": real, "no_cause": none}
                for rule, (real, none) in self.by_rule.items()
            },
            "rules_only_no_cause": self.only_no_cause,
        }


def tally_causes(
    rows: Iterable[Mapping[str, Any]], no_cause: str
) -> dict[tuple[str, str], CauseTally]:
    """(part number, characteristic) -> its tally, from violation rows with their alarm's
    answer cause (``part_number``, ``characteristic``, ``rule``, ``chart``, ``alarm``,
    ``cause``; an optional ``station`` tells alarms of different stations apart)."""
    alarms: dict[tuple[str, str], dict[Any, dict[str, Any]]] = {}
    for row in rows:
        key = (row["part_number"], row["characteristic"])
        entry = alarms.setdefault(key, {}).setdefault(
            (row.get("station"), row["alarm"]), {"cause": row["cause"], "rules": set()}
        )
        entry["rules"].add(rule_label(row["rule"], row["chart"]))
    out = {}
    for key, found in alarms.items():
        by_rule: dict[str, list[int]] = {}
        real = none = still_open = 0
        for entry in found.values():
            cause = entry["cause"]
            if cause is None:
                still_open += 1
                continue
            real_cause = cause != no_cause
            real += real_cause
            none += not real_cause
            for rule in entry["rules"]:
                counts = by_rule.setdefault(rule, [0, 0])
                counts[0 if real_cause else 1] += 1
        out[key] = CauseTally(
            len(found),
            real,
            none,
            still_open,
            {rule: (c[0], c[1]) for rule, c in sorted(by_rule.items())},
        )
    return out
