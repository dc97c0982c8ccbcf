"""Station commands: the station UI, the demo, users (add, list, set-pin, qualify)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from inspect_station.cli import Context, main, pass_context
from inspect_station.cli.core import open_store
from inspect_station.config import StationConfig
from inspect_station.errors import SpecError
from inspect_station.spec import SpecLibrary
from inspect_station.station import StationService
from inspect_station.store import LocalStore
from inspect_station.users import Role, UserDirectory

_DB = click.option("--db", type=click.Path(path_type=Path, dir_okay=False), help="Local record.")
_BY = click.option("--by", default="admin", show_default=True, help="Who makes the change.")


def _read_pin(from_stdin: bool) -> str:
    """A PIN from standard input (one line) or a hidden, confirmed prompt; never an argument."""
    if from_stdin:
        return sys.stdin.readline().strip()
    return click.prompt("PIN", hide_input=True, confirmation_prompt=True)


@main.group()
def users() -> None:
    """Users of the station: inspectors and supervisors."""


@users.command("add")
@click.argument("user_id")
@click.option("--name", required=True, help="Printed name (shown on signatures).")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), default="inspector", show_default=True
)
@click.option("--qualify", "patterns", multiple=True, help="Part-number pattern, e.g. BRK-*.")
@click.option("--badge", help="Badge code a scanner types instead of the user id.")
@click.option("--pin-stdin", is_flag=True, help="Read the PIN from standard input.")
@_DB
@_BY
@pass_context
def users_add(
    ctx: Context,
    user_id: str,
    name: str,
    role: str,
    patterns: tuple[str, ...],
    badge: str | None,
    pin_stdin: bool,
    db: Path | None,
    by: str,
) -> None:
    """Add a user; the PIN is asked for (or read from stdin) and stored only as a hash."""
    with open_store(ctx, db) as store:
        user = UserDirectory(store).add(
            user_id, name, role, _read_pin(pin_stdin), qualifications=patterns, badge=badge, by=by
        )
    click.echo(f"Added {user.role.value} {user.user_id} ({user.name}).")


@users.command("list")
@_DB
@pass_context
def users_list(ctx: Context, db: Path | None) -> None:
    """List users with role, qualifications and state."""
    with open_store(ctx, db) as store:
        people = UserDirectory(store).list()
    for u in people:
        state = "active" if u.active else "disabled"
        quals = ", ".join(u.qualifications) or "—"
        click.echo(f"{u.user_id:<16} {u.role.value:<10} {state:<8} {u.name:<24} {quals}")


@users.command("set-pin")
@click.argument("user_id")
@click.option("--pin-stdin", is_flag=True, help="Read the PIN from standard input.")
@_DB
@_BY
@pass_context
def users_set_pin(ctx: Context, user_id: str, pin_stdin: bool, db: Path | None, by: str) -> None:
    """Set a user's PIN (also lifts a lock-out after wrong PINs)."""
    with open_store(ctx, db) as store:
        UserDirectory(store).set_pin(user_id, _read_pin(pin_stdin), by=by)
    click.echo(f"PIN of {user_id} changed.")


@users.command("qualify")
@click.argument("user_id")
@click.argument("patterns", nargs=-1)
@click.option("--remove", "removed", multiple=True, help="Pattern to take away.")
@_DB
@_BY
@pass_context
def users_qualify(
    ctx: Context,
    user_id: str,
    patterns: tuple[str, ...],
    removed: tuple[str, ...],
    db: Path | None,
    by: str,
) -> None:
    """Qualify a user for part-number patterns (BRK-*, SHF-220, *), or remove them."""
    if not patterns and not removed:
        raise click.UsageError("Give at least one pattern to add, or --remove PATTERN.")
    with open_store(ctx, db) as store:
        user = UserDirectory(store).qualify(user_id, patterns, removed, by=by)
    click.echo(f"{user.user_id} is qualified for: {', '.join(user.qualifications) or 'nothing'}.")


def build_service(config: StationConfig, db: Path | None = None) -> StationService:
    """The station service for a configuration: its local record and its specs."""
    library = SpecLibrary.load(config.spec_paths)
    for problem in library.problems:
        click.echo(f"warning: {problem} (file skipped)", err=True)
    if not library.released():
        raise SpecError("No released part spec found; check the specs setting.")
    store = LocalStore(db or config.db_path, config.station)
    return StationService(config, store, library)


def run_station(ctx: Context) -> None:
    """Start the station UI on the configured gauges, specs and record."""
    from inspect_station.tui.app import StationApp

    service = build_service(ctx.config)
    try:
        StationApp(service).run()
    finally:
        service.store.close()


def demo_farewell(config_file: Path, db: Path, default_place: bool) -> str:
    """What the demo prints when it quits: where its record is and how to use it from the CLI."""
    lines = [
        f"The demo's record is {db}.",
        "Every command works on it with the demo's configuration, for example:",
        f"  inspect-station --config {config_file} verify",
        f"  inspect-station --config {config_file} trace gauge CAL-0042",
    ]
    if default_place:
        lines.append("  inspect-station --demo export lot LOT --format html   (the same, shorter)")
    return "\n".join(lines)


def run_demo(db: Path | None) -> None:
    """Start the station UI on simulated gauges, demo users and a demo record."""
    from inspect_station.demo import demo_config, demo_dir, ensure_demo_users, write_demo_config
    from inspect_station.gauges.simulator import SimulatorBank
    from inspect_station.tui.app import StationApp
    from inspect_station.tui.demo import DemoControls

    base = demo_dir(db.parent if db else None)
    (base / "ports").mkdir(parents=True, exist_ok=True)
    config = demo_config(base, db=db)
    config_file = write_demo_config(config)
    service = build_service(config)
    ensure_demo_users(service.users)
    with SimulatorBank(config) as bank:
        try:
            StationApp(service, demo=DemoControls(service, bank)).run()
        finally:
            service.store.close()
    click.echo(demo_farewell(config_file, config.db_path, default_place=db is None))


@main.command()
@click.option(
    "--central", "central_url", help="Review every station's rejects in this central store."
)
@pass_context
def review(ctx: Context, central_url: str | None) -> None:
    """Supervisors: review rejects and sign dispositions (this station's record, or --central).

    Dispositions are written to this terminal's own journal (its station id) and shipped to
    the central store like any other record.
    """
    from inspect_station.dispositions import Review, SignaturePolicy
    from inspect_station.export.source import CentralSource, LocalSource
    from inspect_station.sync import Shipper
    from inspect_station.tui.app import StationApp

    config = ctx.config
    service = build_service(config)
    source = CentralSource.open(central_url) if central_url else LocalSource(service.store)
    ship_to = config.central or central_url or config.central_url
    try:
        review_core = Review(
            source,
            service.store,
            service.users,
            SignaturePolicy.from_config(config),
            warn_days=config.calibration_warning_days,
        )
        StationApp(
            service,
            review=review_core,
            office=True,
            hub_factory=lambda _callback: None,
            shipper_factory=lambda: Shipper(service.store, ship_to),
        ).run()
    finally:
        source.close()
        service.store.close()
