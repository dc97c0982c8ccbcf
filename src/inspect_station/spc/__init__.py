"""Statistical process control, the pure core: charts, locked limits, rules, ARL, capability.

No I/O, no store, no UI: readings (a reference and an exact Decimal each) go in, limit versions,
plotted points, violations, capability figures and SVG text come out.

- ``config``: which rules and detectors apply (``SpcSettings``, ``RuleSet``), for a TOML section;
- ``limits``: ``derive_limits`` from a baseline, ``LimitVersion`` with its RFC 8785 hash;
- ``monitor``: ``Monitor`` fed one reading at a time, ``replay`` of a history ("what would have
  alarmed");
- ``rules`` / ``detectors``: the Nelson rules, CUSUM and EWMA, incremental;
- ``arl``: the in-control average run length of a rule set (alarm fatigue);
- ``capability``: Cp, Cpk, Pp, Ppk and an Anderson-Darling note;
- ``svg``: a printable control chart.
"""

from typing import TYPE_CHECKING

from inspect_station import imported_on_first_use

# Imported now: the function ``capability`` shares its name with its module, which would take
# the name back whenever the module is imported later.
from inspect_station.spc.capability import Capability, capability

if TYPE_CHECKING:
    from inspect_station.spc.arl import Arl, in_control_arl, limits_arl
    from inspect_station.spc.config import CusumSettings, EwmaSettings, RuleSet, SpcSettings
    from inspect_station.spc.errors import BaselineError, LimitsError, SpcError
    from inspect_station.spc.limits import (
        LimitVersion,
        derive_limits,
        in_force,
        limit_digits,
        select_baseline,
    )
    from inspect_station.spc.monitor import ChartPoint, Monitor, Replay, replay, replay_as_it_was
    from inspect_station.spc.rules import Violation
    from inspect_station.spc.svg import control_chart_svg

# Each name's module, imported on first use: the station's start needs only ``config`` (a part
# spec's [spc] section), not the monitor, the limits, ARL or the SVG chart.
_HOME = {
    "Arl": "arl",
    "in_control_arl": "arl",
    "limits_arl": "arl",
    "CusumSettings": "config",
    "EwmaSettings": "config",
    "RuleSet": "config",
    "SpcSettings": "config",
    "BaselineError": "errors",
    "LimitsError": "errors",
    "SpcError": "errors",
    "LimitVersion": "limits",
    "derive_limits": "limits",
    "in_force": "limits",
    "limit_digits": "limits",
    "select_baseline": "limits",
    "ChartPoint": "monitor",
    "Monitor": "monitor",
    "Replay": "monitor",
    "replay": "monitor",
    "replay_as_it_was": "monitor",
    "Violation": "rules",
    "control_chart_svg": "svg",
}

__getattr__ = imported_on_first_use(__name__, _HOME)


__all__ = [
    "Arl",
    "BaselineError",
    "Capability",
    "ChartPoint",
    "CusumSettings",
    "EwmaSettings",
    "LimitVersion",
    "LimitsError",
    "Monitor",
    "Replay",
    "RuleSet",
    "SpcError",
    "SpcSettings",
    "Violation",
    "capability",
    "control_chart_svg",
    "derive_limits",
    "in_control_arl",
    "in_force",
    "limit_digits",
    "limits_arl",
    "replay",
    "replay_as_it_was",
    "select_baseline",
]
