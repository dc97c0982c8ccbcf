"""``inspect-station spc``: the SPC command group, and its ``report`` command.

``spc_group`` is the group other SPC commands (the station's limit locks and alarms) attach
to; ``spc report`` is the capability report of a part or a lot, from a station's local record
(``--db``) or a central store over every station (``--central URL``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from inspect_station.cli import Context, emit, main, pass_context
from inspect_station.cli.export import record_source
from inspect_station.reports.spc import ReportScope, spc_report
from inspect_station.reports.spc_html import render_html
from inspect_station.reports.spc_text import render_table


@main.group("spc")
def spc_group() -> None:
    """Statistical process control: capability reports (and, at the station, limits, alarms)."""


def _since(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A --since date or time (UTC unless it names its zone) as the record writes times."""
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM:SS)."
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds") + "Z"


@spc_group.command("report")
@click.option("--lot", help="Report on this lot.")
@click.option("--part", "part_number", help="Report on this part number, over all its lots.")
@click.option(
    "--since",
    callback=_since,
    metavar="DATE",
    help="Only readings taken from this UTC date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SS) on.",
)
@click.option("--characteristic", help="Only this characteristic (its balloon id).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "html"]),
    default="table",
    show_default=True,
    help="table (terminal), json (see spc-report.schema.json), html (printable, SVG charts).",
)
@click.option(
    "--by-station",
    is_flag=True,
    help="Also report each station's readings on their own, side by side.",
)
@click.option(
    "--central", "central_url", metavar="URL", help="Read from this central store instead."
)
@click.option("--db", type=click.Path(path_type=Path, dir_okay=False), help="Local record file.")
@pass_context
def spc_report_command(
    ctx: Context,
    lot: str | None,
    part_number: str | None,
    since: str | None,
    characteristic: str | None,
    fmt: str,
    by_station: bool,
    central_url: str | None,
    db: Path | None,
) -> None:
    """Capability (Cp, Cpk, Pp, Ppk) and rule violations per characteristic of a lot or part.

    Superseded readings are left out, manual ones included and counted. Writes to standard
    output; exits 2 with one sentence when the lot or part is unknown or nothing was measured.
    """
    if (lot is None) == (part_number is None):
        raise click.UsageError("Give --lot LOT or --part PART_NUMBER (one of them).")
    scope = ReportScope(
        part_number=part_number, lot=lot, since=since, characteristic=characteristic
    )
    with record_source(ctx, db, central_url) as (source, _):
        report = spc_report(source, scope, by_station=by_station, no_cause=ctx.config.spc.no_cause)
    text = {"table": render_table, "json": lambda r: r.json_text(), "html": render_html}[fmt](
        report
    )
    emit(text.rstrip("\n"))
