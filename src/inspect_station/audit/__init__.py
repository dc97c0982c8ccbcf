"""The audit-readiness report: the questions an ISO 9001 / AS9100 / Part 11 auditor asks.

``run_audit`` reads a record source (a station's record or a central store) through named
queries (``store.audit``) and answers, one :class:`Section` each: measuring equipment (7.1.5.2),
nonconforming output (8.7), competence (7.2), the records themselves (chains, anchors,
shipping) and SPC alarms. Each :class:`Finding` names its clause, what is wrong, the records
(station, seq) behind it and the one command that shows them. ``inspect-station audit`` prints
it as a table, JSON (``audit.schema.json``) or HTML, and exits 0 only when there is nothing to
report.
"""

from __future__ import annotations

import datetime as dt

from inspect_station.audit.checks import SECTIONS, Context, Gauge, SyncFacts
from inspect_station.audit.model import AuditReport, Finding, Section
from inspect_station.audit.render import RENDERERS, schema
from inspect_station.clock import format_utc

__all__ = [
    "RENDERERS",
    "AuditReport",
    "Context",
    "Finding",
    "Gauge",
    "Section",
    "SyncFacts",
    "run_audit",
    "schema",
]


def run_audit(ctx: Context, since: dt.date | None = None) -> AuditReport:
    """Every section of the report over ``ctx.source``."""
    report = AuditReport(
        source=f"{ctx.source.kind}: {ctx.source.description}",
        generated_at=format_utc(ctx.now),
        since=since.isoformat() if since else None,
        heads=dict(ctx.source.heads),
    )
    report.sections = [section(ctx) for section in SECTIONS]
    return report
