"""Station commands: the station UI, the demo, review, users (add, list, set-pin, ...)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from inspect_station.cli import Context, main, open_store, pass_context, spec_skipped
from inspect_station.cli.pins import read_pin
from inspect_station.clock import wall_clock
from inspect_station.station import StationService
from inspect_station.store import LocalStore
from inspect_station.users import (
    FIRST_ADMIN_HINT,
    Actor,
    NotAuthorized,
    PinState,
    Role,
    UserDirectory,
    validate_pin,
)
from inspect_station.wiring import build_app, build_service

if TYPE_CHECKING:
    from inspect_station.records import RecordSource

_DB = click.option("--db", type=click.Path(path_type=Path, dir_okay=False), help="Local record.")
_AS = click.option(
    "--as",
    "actor_id",
    metavar="ADMIN_ID",
    help="The administrator making the change (their PIN is asked for). Not needed for the "
    "first user of an empty record, who becomes its administrator.",
)
_PIN_STDIN = click.option(
    "--pin-stdin",
    is_flag=True,
    help="Read PINs from standard input, one per line: first the PIN of --as, then the new "
    "user's PIN (where one is set).",
)


class _Pins:
    """PINs read from standard input (one per line, in order) or from hidden prompts."""

    def __init__(self, from_stdin: bool) -> None:
        self.from_stdin = from_stdin

    def actor(self, actor_id: str) -> str:
        """The PIN of the user making the change."""
        return read_pin(f"PIN of {actor_id}", from_stdin=self.from_stdin)

    def new(self, user_id: str) -> str:
        """A new PIN, typed twice at a prompt, checked before anyone is authenticated."""
        pin = read_pin(f"New PIN for {user_id}", from_stdin=self.from_stdin, confirm=True)
        validate_pin(pin)
        return pin


def _actor(
    users: UserDirectory, actor_id: str | None, pins: _Pins, new_pin_for: str | None = None
) -> tuple[Actor, str | None]:
    """The user named by --as, authenticated by PIN now (refused without --as), and the new PIN
    for ``new_pin_for`` if one is to be set: both PINs are read, and the new one checked,
    before the slow authentication."""
    if not actor_id:
        raise NotAuthorized(
            f"Station {users.store.station} already has users: give --as ADMIN_ID, an "
            "administrator, and that administrator's PIN."
        )
    actor_pin = pins.actor(actor_id)
    new_pin = pins.new(new_pin_for) if new_pin_for else None
    return users.authorize(actor_id, actor_pin), new_pin


@main.group()
def users() -> None:
    """Users of the station: administrators, inspectors, supervisors, automation cells."""


@users.command("add")
@click.argument("user_id")
@click.option("--name", required=True, help="Printed name (shown on signatures).")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=None,
    help="inspector (default), supervisor, admin, or cell (an automation cell: no PIN). The "
    "first user of an empty record is an admin.",
)
@click.option("--qualify", "patterns", multiple=True, help="Part-number pattern, e.g. BRK-*.")
@click.option("--badge", help="Badge code a scanner types instead of the user id.")
@_AS
@_PIN_STDIN
@_DB
@pass_context
def users_add(
    ctx: Context,
    user_id: str,
    name: str,
    role: str | None,
    patterns: tuple[str, ...],
    badge: str | None,
    actor_id: str | None,
    pin_stdin: bool,
    db: Path | None,
) -> None:
    """Add a user; its PIN is asked for and kept only in the local credential table."""
    pins = _Pins(pin_stdin)
    with open_store(ctx, db) as store:
        directory = UserDirectory(store)
        if directory.is_empty() and not actor_id:
            if role not in (None, Role.ADMIN.value):
                raise NotAuthorized(
                    f"{user_id} would be the first user of station {store.station}: the first "
                    "user is its administrator (--role admin), who then adds the others."
                )
            actor = directory.bootstrap(
                user_id, name, pins.new(user_id), qualifications=patterns, badge=badge
            )
            click.echo(
                f"Added administrator {actor.user.user_id} ({actor.user.name}), the first user "
                f"of station {store.station}."
            )
            return
        kind = Role(role or Role.INSPECTOR.value)
        actor, pin = _actor(directory, actor_id, pins, None if kind is Role.CELL else user_id)
        user = directory.add(
            user_id, name, kind, pin, by=actor, qualifications=patterns, badge=badge
        )
    click.echo(f"Added {user.role.value} {user.user_id} ({user.name}) by {actor.user.user_id}.")


@users.command("list")
@_DB
@pass_context
def users_list(ctx: Context, db: Path | None) -> None:
    """List users with role, state, PIN state and qualifications (reads only)."""
    path = db or ctx.config.db_path
    if not path.exists():
        click.echo(f"No users: there is no local record at {path} yet.")
        click.echo(f"Add the first administrator: {FIRST_ADMIN_HINT}.")
        return
    with LocalStore.open_readonly(path) as store:
        directory = UserDirectory(store)
        people = directory.all_users()
        pins = directory.pin_states()
    if not people:
        click.echo(f"No users yet at station {store.station}.")
        click.echo(f"Add the first administrator: {FIRST_ADMIN_HINT}.")
        return
    for u in people:
        state = "active" if u.active else "disabled"
        quals = ", ".join(u.qualifications) or "—"
        click.echo(
            f"{u.user_id:<16} {u.role.value:<10} {state:<8} {_pin_text(pins.get(u.user_id)):<22} "
            f"{u.name:<24} {quals}"
        )


def _pin_text(state: PinState | None) -> str:
    """A user's PIN state in a few words."""
    if state is None or state.state == "missing":
        return "PIN: none set"
    if state.state == "none":
        return "no PIN (cell)"
    if state.locked_until is not None:
        return f"locked until {wall_clock(state.locked_until)}"
    if state.state == "legacy":
        return "PIN: legacy, set again"
    return "PIN set"


@users.command("set-pin")
@click.argument("user_id")
@_AS
@_PIN_STDIN
@_DB
@pass_context
def users_set_pin(
    ctx: Context, user_id: str, actor_id: str | None, pin_stdin: bool, db: Path | None
) -> None:
    """Set a user's PIN: an administrator for anyone (this lifts a lock-out), or a user for
    themselves with --as their own id (never while locked out)."""
    pins = _Pins(pin_stdin)
    with open_store(ctx, db) as store:
        directory = UserDirectory(store)
        actor, pin = _actor(directory, actor_id, pins, user_id)
        directory.set_pin(user_id, pin or "", by=actor)
    click.echo(f"PIN of {user_id} set by {actor.user.user_id}.")


@users.command("qualify")
@click.argument("user_id")
@click.argument("patterns", nargs=-1)
@click.option("--remove", "removed", multiple=True, help="Pattern to take away.")
@_AS
@_PIN_STDIN
@_DB
@pass_context
def users_qualify(
    ctx: Context,
    user_id: str,
    patterns: tuple[str, ...],
    removed: tuple[str, ...],
    actor_id: str | None,
    pin_stdin: bool,
    db: Path | None,
) -> None:
    """Qualify a user for part-number patterns (BRK-*, SHF-220, *), or remove them."""
    if not patterns and not removed:
        raise click.UsageError("Give at least one pattern to add, or --remove PATTERN.")
    with open_store(ctx, db) as store:
        directory = UserDirectory(store)
        actor, _ = _actor(directory, actor_id, _Pins(pin_stdin))
        user = directory.qualify(user_id, patterns, removed, by=actor)
    click.echo(f"{user.user_id} is qualified for: {', '.join(user.qualifications) or 'nothing'}.")


@users.command("deactivate")
@click.argument("user_id")
@_AS
@_PIN_STDIN
@_DB
@pass_context
def users_deactivate(
    ctx: Context, user_id: str, actor_id: str | None, pin_stdin: bool, db: Path | None
) -> None:
    """Disable a user: they can no longer sign in, sign or record (their records stay)."""
    with open_store(ctx, db) as store:
        directory = UserDirectory(store)
        actor, _ = _actor(directory, actor_id, _Pins(pin_stdin))
        directory.set_active(user_id, False, by=actor)
    click.echo(f"{user_id} is disabled (by {actor.user.user_id}).")


@users.command("activate")
@click.argument("user_id")
@_AS
@_PIN_STDIN
@_DB
@pass_context
def users_activate(
    ctx: Context, user_id: str, actor_id: str | None, pin_stdin: bool, db: Path | None
) -> None:
    """Enable a disabled user again."""
    with open_store(ctx, db) as store:
        directory = UserDirectory(store)
        actor, _ = _actor(directory, actor_id, _Pins(pin_stdin))
        directory.set_active(user_id, True, by=actor)
    click.echo(f"{user_id} is enabled (by {actor.user.user_id}).")


def run_station(ctx: Context) -> None:
    """Start the station UI on the configured gauges, specs and record."""
    service = build_service(ctx.config, warn=spec_skipped)
    try:
        build_app(service).run()
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
    from inspect_station.tui.demo import DemoControls

    base = demo_dir(db.parent if db else None)
    (base / "ports").mkdir(parents=True, exist_ok=True)
    config = demo_config(base, db=db)
    config_file = write_demo_config(config)
    service = build_service(config, warn=spec_skipped)
    ensure_demo_users(service.users)
    with SimulatorBank(config) as bank:
        try:
            build_app(service, demo=DemoControls(service, bank)).run()
        finally:
            service.store.close()
    click.echo(demo_farewell(config_file, config.db_path, default_place=db is None))


@main.command()
@click.option("--db", type=click.Path(path_type=Path, dir_okay=False), help="Demo record file.")
@click.option("--headless", is_flag=True, help="Record demo parts and print verdicts, no UI.")
def demo(db: Path | None, headless: bool) -> None:
    """Run the station on embedded defaults: demo specs, simulated gauges, demo users."""
    if headless:
        from inspect_station.cli.core import run_headless_demo
        from inspect_station.locations import data_dir

        run_headless_demo(db or data_dir() / "demo" / "headless.db", "DEMO-STATION")
        return
    run_demo(db)


@main.command()
@click.option(
    "--central", "central_url", help="Review every station's rejects in this central store."
)
@click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Review the rejects of this record (a copy from any station), opened read-only.",
)
@pass_context
def review(ctx: Context, central_url: str | None, db: Path | None) -> None:
    """Supervisors: review rejects and sign dispositions (this station's record, --central or
    a --db copy).

    Dispositions are written to this terminal's own journal (its station id) and shipped to
    the central store like any other record; a --db file is only read, never changed.
    """
    if central_url and db:
        raise click.UsageError("Give --db or --central, not both.")
    service = build_service(ctx.config, warn=spec_skipped)
    try:
        with review_source(service.store, central_url, db) as source:
            build_app(**office_app_options(service, source, central_url)).run()
    finally:
        service.store.close()


@contextmanager
def review_source(
    own: LocalStore, central_url: str | None, db: Path | None
) -> Iterator[RecordSource]:
    """Where an office terminal reads rejects: a central store, a record opened read-only, or
    the terminal's own record."""
    from inspect_station.records import LocalSource
    from inspect_station.sync import open_source

    if central_url:
        with open_source(central_url) as central:
            yield central
    elif db is not None:
        with LocalStore.open_readonly(db) as copy:
            yield LocalSource(copy)
    else:
        yield LocalSource(own)


def office_app_options(
    service: StationService, source: RecordSource, central_url: str | None
) -> dict[str, Any]:
    """The build_app arguments of an office terminal reviewing ``source``."""
    from inspect_station.review.model import SignaturePolicy
    from inspect_station.review.service import Review
    from inspect_station.sync import Shipper

    config = service.config
    ship_to = config.central or central_url or config.central_url
    return {
        "service": service,
        "review": Review(
            source,
            service.store,
            service.users,
            SignaturePolicy.from_config(config),
            warn_days=config.calibration_warning_days,
        ),
        "office": True,
        "hub_factory": lambda _callback: None,
        "shipper_factory": lambda: Shipper(service.store, ship_to),
    }
