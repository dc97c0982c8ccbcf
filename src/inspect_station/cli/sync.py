"""Sync commands: central init / add-station, and sync (one shot or --watch)."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

import click

from inspect_station.cli import Context, main, pass_context
from inspect_station.cli.core import open_store
from inspect_station.cli.params import Count
from inspect_station.clock import utc_now
from inspect_station.errors import InspectStationError
from inspect_station.sync import (
    DEFAULT_BATCH_SIZE,
    IngestResult,
    Shipper,
    ShipSummary,
    SyncState,
    SyncStatus,
    open_central,
)


@main.group()
def central() -> None:
    """Central store: create or upgrade its schema, register stations."""


@central.command("init")
@click.argument("url", required=False)
@pass_context
def central_init(ctx: Context, url: str | None) -> None:
    """Create or upgrade the schema of the central store URL (default: the configured one)."""
    with open_central(url or ctx.config.central_url) as store:
        applied = store.migrate()
        versions = store.applied_migrations()
        where = store.url.display
    for step in applied:
        click.echo(f"applied: {step}")
    state = "created or upgraded" if applied else "already up to date"
    click.echo(f"Central store {where} is {state} (schema {versions[-1] if versions else '-'}).")


@central.command("add-station")
@click.argument("url")
@click.argument("station")
@click.option("--role", help="Database role name (default: <database>_<station>, lower case).")
@click.option(
    "--new-password", is_flag=True, help="Issue a new password to the station's existing role."
)
def central_add_station(url: str, station: str, role: str | None, new_password: bool) -> None:
    """Create the PostgreSQL role STATION ships with; its password is printed once, here."""
    with open_central(url) as store:
        creds = store.add_station(station, role=role, new_password=new_password)
        where = store.url.display
    click.echo(f"Station {creds.station} may now ship to {where} as role {creds.role}.")
    click.echo(f"Password (shown once; it is not stored anywhere): {creds.password}")
    click.echo("Put this line in that station's station.toml:")
    click.echo(f'central = "{creds.url}"')


def _summary_line(summary: ShipSummary) -> str:
    if summary.inserted:
        rate = summary.inserted / summary.seconds if summary.seconds > 0 else 0.0
        skipped = f", {summary.skipped:,} already held" if summary.skipped else ""
        return (
            f"Shipped {summary.inserted:,} records of station {summary.station} to "
            f"{summary.central} in {summary.seconds:.1f} s ({rate:,.0f} records/s{skipped}); "
            f"it holds seq 1-{summary.head_seq}."
        )
    if summary.head_seq:
        return (
            f"Nothing to ship: {summary.central} already holds every record of station "
            f"{summary.station} (seq 1-{summary.head_seq})."
        )
    return f"Nothing to ship: station {summary.station} has no records yet."


def _status_line(status: SyncStatus) -> str:
    stamp = utc_now().astimezone().strftime("%H:%M:%S")
    return f"{stamp} {status.state.value}: {status.summary()}"


def _watch(shipper: Shipper) -> None:
    """Run the shipper until Ctrl-C (or SIGTERM), printing a line when its status changes."""
    stop = threading.Event()
    shown: list[tuple[object, float]] = [(None, 0.0)]  # (state and error shown, when)

    def on_status(status: SyncStatus) -> None:
        key = (status.state, status.last_error)
        now = time.monotonic()
        last_key, last_at = shown[0]
        progress = status.state is SyncState.SYNCING and now - last_at >= 5.0
        if key != last_key or progress:
            shown[0] = (key, now)
            click.echo(_status_line(status))

    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker = threading.Thread(target=shipper.run, args=(stop, on_status), name="sync-watch")
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.5)
    except KeyboardInterrupt:
        stop.set()
        worker.join()
    finally:
        signal.signal(signal.SIGTERM, previous)
    status = shipper.status()
    click.echo(
        f"Stopped: {status.unsynced:,} records unsynced, acknowledged up to seq {status.acked_seq}."
    )


@main.command("sync")
@click.option("--central", "central_url", help="Central store URL (default: the configured one).")
@click.option("--db", type=click.Path(path_type=Path, dir_okay=False), help="Local record file.")
@click.option("--watch", is_flag=True, help="Keep shipping new records until Ctrl-C.")
@click.option(
    "--batch-size",
    type=Count(1, 100_000),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Records per central transaction.",
)
@click.option(
    "--attempts",
    type=Count(1, 1000),
    default=5,
    show_default=True,
    help="Tries while the central store is unreachable, with back-off (not with --watch).",
)
@pass_context
def sync(
    ctx: Context,
    central_url: str | None,
    db: Path | None,
    watch: bool,
    batch_size: int,
    attempts: int,
) -> None:
    """Ship the local record's unsynced records to the central store, in batches."""
    path = db or ctx.config.db_path
    if not path.exists():
        raise InspectStationError(f"There is no local record at {path}.")
    with open_store(ctx, path) as store:
        shipper = Shipper(store, central_url or ctx.config.central_url, batch_size)
        if watch:
            _watch(shipper)
            return
        pending = shipper.status().unsynced
        with click.progressbar(
            length=max(pending, 1),
            label=f"Shipping to {shipper.url.display}",
            file=sys.stderr,
            show_pos=True,
        ) as bar:

            def progress(result: IngestResult) -> None:
                bar.update(result.received)

            summary = shipper.ship(progress, attempts=attempts)
    click.echo(_summary_line(summary))
    for reject in summary.conflicts:
        click.echo(
            f"Reject {reject[:8]} now has conflicting dispositions (signed apart at two "
            "terminals); both are kept, and nothing of it is in force until a supervisor signs "
            f"which one stands: inspect-station disposition resolve {reject[:8]} --central URL "
            "--keep DISPOSITION --reason ...",
            err=True,
        )
