"""What changed between two revisions of a part: shown to an inspector before first use."""

from __future__ import annotations

from dataclasses import dataclass

from inspect_station.spec.model import Characteristic, PartSpec


@dataclass(frozen=True)
class Change:
    """One difference between two revisions, in words an inspector understands."""

    kind: str
    """added, removed or changed."""
    characteristic: str | None
    """Balloon id, or None for a part-level change."""
    text: str
    """What changed, e.g. 'limits 119.90 … 120.10 mm → 119.92 … 120.08 mm'."""

    def record(self) -> dict[str, str | None]:
        """The change as written into the acknowledgement record."""
        return {"kind": self.kind, "characteristic": self.characteristic, "text": self.text}


def _limits(spec: PartSpec, ch: Characteristic) -> str:
    if ch.kind.value == "attribute":
        return f"attribute ({ch.method or 'pass/fail'})"
    lsl, usl = ch.limits
    unit = spec.unit_of(ch)
    low = "—" if lsl is None else str(lsl)
    high = "—" if usl is None else str(usl)
    return f"{low} … {high} {unit}"


def _facts(spec: PartSpec, ch: Characteristic) -> dict[str, str]:
    return {
        "name": ch.name,
        "limits": _limits(spec, ch),
        "class": ch.class_.value,
        "decision rule": ch.decision.describe(),
        "gauge": ch.gauge or "—",
        "resolution": str(ch.step) if ch.step is not None else "—",
        "reasonable range": "—" if ch.reasonable is None else "{} … {}".format(*ch.reasonable),
        "rounding": ch.rounding,
    }


def diff_specs(old: PartSpec, new: PartSpec) -> list[Change]:
    """Characteristics added, removed and changed (limits, rule, class, gauge ...) old → new."""
    changes: list[Change] = []
    if old.sampling != new.sampling:
        changes.append(
            Change(
                "changed",
                None,
                f"sampling level {old.sampling.level} AQL {old.sampling.aql} → "
                f"level {new.sampling.level} AQL {new.sampling.aql}",
            )
        )
    old_ids = {ch.id: ch for ch in old.characteristic}
    new_ids = {ch.id: ch for ch in new.characteristic}
    for ch in new.characteristic:
        if ch.id not in old_ids:
            changes.append(Change("added", ch.id, f"{ch.name}: {_limits(new, ch)}"))
            continue
        before, after = _facts(old, old_ids[ch.id]), _facts(new, ch)
        for key, value in after.items():
            if before[key] != value:
                changes.append(Change("changed", ch.id, f"{key} {before[key]} → {value}"))
    for ch in old.characteristic:
        if ch.id not in new_ids:
            changes.append(Change("removed", ch.id, f"{ch.name}: {_limits(old, ch)}"))
    return changes
