"""Which SPC settings apply to a characteristic: station defaults, then the spec, then its own.

Each level (``[spc]`` of station.toml, ``[spc]`` of the spec, ``[characteristic.spc]``)
overrides only the keys it names; a ``rules``, ``cusum`` or ``ewma`` table it names replaces
that table whole (a rule set is one unit: a preset and its overrides).
"""

from __future__ import annotations

from typing import Any

from inspect_station.spc.config import SpcSettings


def _named(settings: SpcSettings) -> dict[str, Any]:
    """The keys a level named explicitly, as validated values."""
    return {name: getattr(settings, name) for name in settings.model_fields_set}


def settings_for(
    defaults: SpcSettings,
    spec: SpcSettings | None = None,
    characteristic: SpcSettings | None = None,
) -> SpcSettings:
    """The settings in force for one characteristic, most specific level last."""
    merged: dict[str, Any] = {name: getattr(defaults, name) for name in SpcSettings.model_fields}
    for level in (spec, characteristic):
        if level is not None:
            merged.update(_named(level))
    return SpcSettings.model_validate(merged)
