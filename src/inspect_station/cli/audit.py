"""``inspect-station audit``: the audit-readiness report of a station or a central store."""

from __future__ import annotations

import datetime as dt
import shlex
import sys
from pathlib import Path

import click

from inspect_station.audit import RENDERERS, Context, Gauge, run_audit
from inspect_station.audit.facts import central_facts, local_facts
from inspect_station.cli import Context as CliContext
from inspect_station.cli import main, pass_context
from inspect_station.cli.core import open_record
from inspect_station.cli.params import Count
from inspect_station.clock import utc_now
from inspect_station.errors import InspectStationError
from inspect_station.records import LocalSource, RecordSource
from inspect_station.sync.central import CentralSource, open_central
from inspect_station.text import printable


@main.command("audit")
@click.option("--db", type=click.Path(path_type=Path, dir_okay=False), help="Local record file.")
@click.option("--central", "central_url", metavar="URL", help="Audit this central store.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Only results, inspections and rejects from this date on (YYYY-MM-DD, UTC).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(RENDERERS)),
    default="table",
    show_default=True,
)
@click.option(
    "--stale-hours",
    type=Count(1, 24 * 366),
    default=24,
    show_default=True,
    help="Report a station not synced for longer than this.",
)
@click.option(
    "--full-verify",
    is_flag=True,
    help="Also check the anchors: the station's sync state, or every chain of a central store "
    "streamed back and checked against its history of acknowledged heads.",
)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write it here.")
@pass_context
def audit_command(
    ctx: CliContext,
    db: Path | None,
    central_url: str | None,
    since: dt.datetime | None,
    fmt: str,
    stale_hours: int,
    full_verify: bool,
    out: Path | None,
) -> None:
    """Answer an auditor's questions (ISO 9001 7.1.5.2, 8.7, 7.2; records; SPC) from the record.

    Each finding names its clause, what is wrong, the records (station:seq) and the command
    that shows them. Exit 0: nothing to report; 1: findings; 2: the record cannot be read.
    """
    if db and central_url:
        raise click.UsageError("Give --db or --central, not both.")
    now = utc_now()
    config = ctx.config
    gauges = [Gauge(a.asset, a.calibration_due) for a in config.gauge]
    common = {
        "today": now.date(),
        "now": now,
        "since": f"{since.date().isoformat()}T00:00:00.000000Z" if since else "",
        "warn_days": config.calibration_warning_days,
        "stale_hours": stale_hours,
    }
    if central_url:
        with open_central(central_url, create=False) as central:
            central_source = CentralSource(central)
            source: RecordSource = central_source
            where = f"--central {shlex.quote(central.url.display)}"
            audit = Context(source, where, gauges=gauges, **common)  # type: ignore[arg-type]
            audit.chains = central_source.verify(sorted(central_source.heads))
            audit.sync = central_facts(central, central_source.heads, full=full_verify)
            report = run_audit(audit, since.date() if since else None)
    else:
        with open_record(ctx, db) as store:
            local = LocalSource(store)
            where = f"--db {shlex.quote(str(store.path))}" if db else ""
            audit = Context(local, where, gauges=gauges, **common)  # type: ignore[arg-type]
            audit.chains = local.verify([store.station])
            audit.sync = local_facts(store, full=full_verify)
            report = run_audit(audit, since.date() if since else None)
    text = RENDERERS[fmt](report)
    if out is not None:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InspectStationError(
                f"Cannot write the report to {out}: {exc.strerror or exc}."
            ) from None
        click.echo(f"Wrote {out}: {len(report.findings)} finding(s).", err=True)
    else:
        click.echo(text if fmt != "table" else printable(text, keep="\n"), nl=False)
    sys.exit(1 if report.findings else 0)
