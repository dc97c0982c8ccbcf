"""Traceability commands: export lot, trace gauge.

Each reads from the station's local record (the configuration's, or a ``--db`` file copied
from any station) or, with ``--central URL``, from a central store across all stations.
Signatures are always written to this station's own local record, under its own station id.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from inspect_station.cli import Context, main, output_failed, pass_context
from inspect_station.cli.core import open_record
from inspect_station.export.lot import (
    FORMATS,
    ExportError,
    ExportOptions,
    export_lot,
    load_lot,
    manifest_text,
    write_export,
)
from inspect_station.export.trace import (
    UnknownGauge,
    calibration_history,
    calibration_table,
    recorded_assets,
    trace_csv,
    trace_gauge,
    trace_json,
    trace_table,
)
from inspect_station.records import LocalSource, RecordSource
from inspect_station.store import LocalStore
from inspect_station.sync import open_source
from inspect_station.text import printable

_DB = click.option(
    "--db", type=click.Path(path_type=Path, dir_okay=False), help="Local record file."
)
_CENTRAL = click.option(
    "--central", "central_url", metavar="URL", help="Read from this central store instead."
)


@contextmanager
def record_source(
    ctx: Context, db: Path | None, central_url: str | None, *, full_verify: bool = False
) -> Iterator[tuple[RecordSource, LocalStore | None]]:
    """The source to read (central or local) and the local store, if one was opened."""
    if central_url:
        if db:
            raise click.UsageError("Give --db or --central, not both.")
        with open_source(central_url) as source:
            yield source, None
        return
    with open_record(ctx, db) as store:
        yield LocalSource(store, full_verify=full_verify), store


def _safe_name(lot: str) -> str:
    """A file name made from a lot id."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", lot).strip("._") or "lot"


# -- export -------------------------------------------------------------------------------


@main.group("export")
def export_group() -> None:
    """Export the complete, verifiable record of a lot."""


@export_group.command("lot")
@click.argument("lot")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="csv",
    show_default=True,
    help="csv (one row per measurement), json (nested, with a schema), dfq (AQDEF), "
    "html (certificate of conformance), qif (QIF 3.0 results).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="Output file (default: LOT.FORMAT here; '-' for standard output). A SHA-256 manifest "
    "is written next to it as OUT.sha256.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
@click.option(
    "--encoding",
    type=click.Choice(["cp1252", "utf-8"]),
    default=None,
    help="Encoding of a .dfq file (default cp1252, as Q-DAS writes it).",
)
@click.option(
    "--full-verify",
    is_flag=True,
    help="Re-verify the whole local chain, not only what is new since its last verified "
    "checkpoint.",
)
@_CENTRAL
@_DB
@pass_context
def export_lot_command(
    ctx: Context,
    lot: str,
    fmt: str,
    out: Path | None,
    force: bool,
    encoding: str | None,
    full_verify: bool,
    central_url: str | None,
    db: Path | None,
) -> None:
    """Write the complete record of LOT with the verification of its chains and a manifest.

    Exits 1 (after writing) if a chain the records come from does not verify.
    """
    if encoding and fmt != "dfq":
        raise click.UsageError("--encoding applies to --format dfq only.")
    options = ExportOptions(force=force, encoding=encoding, organisation=ctx.config.organisation)
    with record_source(ctx, db, central_url, full_verify=full_verify) as (source, store):
        if out is not None and str(out) == "-":
            data = load_lot(source, lot, writer=store)
            try:
                state = write_export(data, fmt, sys.stdout.buffer, options)
            except OSError as exc:  # a closed pipe, > /dev/full: a sentence, no manifest
                raise output_failed(exc, "the export") from None
            sha = state.sha256.hexdigest()
            click.echo(manifest_text(data, fmt, "-", sha, state.size), err=True, nl=False)
        else:
            path = out or Path(f"{_safe_name(lot)}.{fmt}")
            result = export_lot(source, lot, fmt, path, options, writer=store)
            data = result.data
            click.echo(
                printable(
                    f"Wrote {result.path} ({data.measurement_count} measurement records, "
                    f"{result.size:,} bytes); SHA-256 {result.sha256} in {result.manifest_path}."
                )
            )
    # With --out - the export itself is on standard output: nothing else may go there (the
    # manifest on standard error already names each chain's verification).
    to_stdout = out is not None and str(out) == "-"
    for check in data.verification or []:
        if not (to_stdout and check.ok):
            click.echo(printable(f"  chain {check.summary()}"), err=not check.ok)
    if data.verified is False:
        click.echo("Warning: a chain did not verify; the export says so.", err=True)
        sys.exit(1)


# -- trace --------------------------------------------------------------------------------


@main.group("trace")
def trace_group() -> None:
    """Trace results back to what produced them."""


@trace_group.command("gauge")
@click.argument("asset")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only results from this date on (YYYY-MM-DD, UTC).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@_CENTRAL
@_DB
@pass_context
def trace_gauge_command(
    ctx: Context,
    asset: str,
    since: dt.datetime | None,
    fmt: str,
    central_url: str | None,
    db: Path | None,
) -> None:
    """Every result taken with gauge ASSET (ISO 9001 7.1.5.2), with its part's result.

    Exits 0 with a note when the gauge took no results (since the date), and 3 when no gauge
    ASSET is configured at this station or named by any record read (a mistyped asset id).
    """
    with record_source(ctx, db, central_url) as (source, _):
        results = trace_gauge(source, asset, since.date() if since else None)
        recorded = recorded_assets(source) if not results else set()
        history = calibration_history(source, asset)
    if fmt == "table" and history:
        click.echo(printable(calibration_table(asset, history), keep="\n"), nl=False)
    if not results and history:
        recorded.add(asset)
    if not results:
        configured = {a.asset for a in ctx.config.gauge}
        if asset not in configured | recorded:
            known = ", ".join(sorted(configured | recorded)) or "none"
            raise UnknownGauge(
                f"There is no gauge asset {asset!r}: it is not configured at this station and "
                f"no record names it (known: {known})."
            )
        when = f" since {since.date().isoformat()}" if since else ""
        click.echo(printable(f"No results were taken with gauge {asset}{when}."), err=True)
        return
    text = {"table": trace_table, "csv": trace_csv, "json": trace_json}[fmt](results)
    click.echo(printable(text, keep="\r\n"), nl=False)


__all__ = ["ExportError"]
