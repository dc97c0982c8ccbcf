"""``inspect-station gauges``: list, read, check, simulate and calibrate gauges (thin)."""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import sys
from pathlib import Path

import click

from inspect_station.calibration import CalibrationError, CalibrationResult, record_calibration
from inspect_station.cli import Context, main, pass_context
from inspect_station.cli.params import Count, Seconds
from inspect_station.config import GaugeAsset
from inspect_station.errors import InspectStationError
from inspect_station.gauges.codec import escape_bytes, normalize_value
from inspect_station.gauges.errors import PortError, ProfileError
from inspect_station.gauges.events import (
    ConnectedEvent,
    DisconnectedEvent,
    DroppedEvent,
    ErrorEvent,
    GaugeEvent,
    ReadingEvent,
)
from inspect_station.gauges.ports import list_serial_ports
from inspect_station.gauges.profile import (
    available_profiles,
    check_profiles,
    load_profile,
    parse_profile,
)
from inspect_station.gauges.reader import GaugeReader
from inspect_station.gauges.simulator import GaugeSimulator, default_link_dir, simulator_for
from inspect_station.store import LocalStore, calibrations
from inspect_station.units import normalize_unit


@main.group("gauges")
def gauges() -> None:
    """Gauge profiles, serial ports, live readings and simulated gauges."""


def assets_in_force(ctx: Context) -> list[GaugeAsset]:
    """The configured assets as the station's record of calibrations leaves them (read-only)."""
    assets = list(ctx.config.gauge)
    path = ctx.config.db_path
    if not assets or not path.exists():
        return assets
    store = LocalStore.open_readonly(path)
    try:
        return [a.in_force(calibrations.latest_of_asset(store, a.asset)) for a in assets]
    finally:
        store.close()


@gauges.command("list")
@pass_context
def list_gauges(ctx: Context) -> None:
    """Show the gauge profiles, the configured gauge assets and the serial ports seen."""
    config = ctx.config
    click.echo("Profiles:")
    for name, path in available_profiles(config.profile_paths).items():
        try:
            profile = parse_profile(path)
        except ProfileError as exc:  # listed, not fatal: `gauges check` explains
            click.echo(f"  {name:<18} INVALID: {exc}")
            continue
        mode = profile.protocol.mode
        click.echo(f"  {name:<18} {mode:<5} {profile.serial.describe():<11} {profile.description}")
    click.echo("Gauge assets:")
    if not config.gauge:
        click.echo("  none configured")
    today = dt.date.today()
    for asset in assets_in_force(ctx):
        status = asset.calibration_status(today, config.calibration_warning_days)
        channel = f" channel {asset.channel}" if asset.channel is not None else ""
        click.echo(
            f"  {asset.asset:<12} {asset.profile:<18} {asset.port}{channel}  calibration "
            f"{status.value} (due {asset.calibration_due.isoformat()})"
        )
    click.echo("Serial ports:")
    ports = list_serial_ports()
    if not ports:
        click.echo("  none found")
    for info in ports:
        facts = [info.usb_id or "not USB"]
        if info.serial_number:
            facts.append(f"serial {info.serial_number}")
        if info.location:
            facts.append(f"location {info.location}")
        click.echo(f"  {info.device:<16} {'  '.join(facts)}  {info.description}")
        for link in info.by_id:
            click.echo(f"    {link}")


def _reading_json(event: ReadingEvent) -> dict[str, object]:
    reading = event.reading
    return {
        "value": reading.value,
        "unit": reading.unit,
        "channel": reading.channel,
        "flag": reading.flag.value if reading.flag else None,
        "raw": escape_bytes(reading.raw),
        "received_at": event.received_at.isoformat().replace("+00:00", "Z"),
    }


def _dropped_json(event: DroppedEvent) -> dict[str, object]:
    return {
        "dropped": event.count,
        "error": "the output was not read fast enough",
        "received_at": event.at.isoformat().replace("+00:00", "Z"),
    }


def _error_json(event: ErrorEvent) -> dict[str, object]:
    return {
        "error": event.meaning or event.reason,
        "code": event.code,
        "kind": event.kind.value,
        "raw": escape_bytes(event.raw) if event.raw is not None else None,
        "received_at": event.at.isoformat().replace("+00:00", "Z"),
    }


READ_QUEUE = 1000
"""Most events ``gauges read`` holds while its output is not being read; more are dropped
(counted and reported), so a stalled pipe never makes the process grow."""


@gauges.command("read")
@click.option("--profile", "profile_name", required=True, help="Profile name or .toml file.")
@click.option("--port", required=True, help="Device path, pyserial URL or usb:VID:PID[:SERIAL].")
@click.option("--count", type=Count(1, 10**9), help="Stop after this many readings.")
@click.option(
    "--poll",
    type=Seconds(3600),
    help="Ask a poll gauge every SECONDS (default: the profile's interval, else 1; 0: never).",
)
@click.option(
    "--channel",
    "channels",
    type=Count(0, 99999),
    multiple=True,
    help="Multiplexer channel to poll (repeatable; default the first).",
)
@click.option("--unit", help="Unit of readings whose frame carries none (mm, in, um).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_context
def read(
    ctx: Context,
    profile_name: str,
    port: str,
    count: int | None,
    poll: float | None,
    channels: tuple[int, ...],
    unit: str | None,
    as_json: bool,
) -> None:
    """Print readings from a gauge as they arrive (Ctrl-C stops)."""
    profile = load_profile(profile_name, ctx.config.profile_paths)
    canonical_unit = normalize_unit(unit) if unit else None
    if unit and canonical_unit is None:
        raise click.BadParameter(f"unknown unit {unit!r}", param_hint="--unit")
    if poll is None:
        interval = float(profile.protocol.poll_interval) or 1.0
        poll = interval if profile.protocol.mode == "poll" else 0.0
    events: queue.Queue[GaugeEvent] = queue.Queue(maxsize=READ_QUEUE)
    reader = GaugeReader(port, profile, events=events, poll_interval=poll, channels=channels)
    reader.start(require_port=True)
    click.echo(
        f"Reading {profile.name} on {port} ({profile.serial.describe()}); Ctrl-C stops.", err=True
    )
    seen = 0
    try:
        while count is None or seen < count:
            try:
                event = events.get(timeout=0.5)
            except queue.Empty:
                continue
            if isinstance(event, ReadingEvent):
                seen += 1
                reading = event.reading.with_unit(canonical_unit)
                event = ReadingEvent(event.port, event.at, event.asset, reading, event.trace)
                if as_json:
                    click.echo(json.dumps(_reading_json(event)))
                else:
                    channel = f"ch{reading.channel} " if reading.channel is not None else ""
                    flag = f" ({reading.flag.value})" if reading.flag else ""
                    click.echo(
                        f"{event.received_at:%H:%M:%S.%f}"[:-3]
                        + f"  {channel}{reading.value} {reading.unit or ''}{flag}".rstrip()
                        + f"   [{escape_bytes(reading.raw)}]"
                    )
            elif isinstance(event, ErrorEvent):
                if as_json:
                    click.echo(json.dumps(_error_json(event)))
                else:
                    raw = f"   [{escape_bytes(event.raw)}]" if event.raw is not None else ""
                    click.echo(f"{event.at:%H:%M:%S.%f}"[:-3] + f"  error: {event.reason}{raw}")
            elif isinstance(event, DroppedEvent):
                if as_json:
                    click.echo(json.dumps(_dropped_json(event)))
                else:
                    click.echo(
                        f"{event.at:%H:%M:%S.%f}"[:-3] + f"  {event.count} events dropped: "
                        "the output was not read fast enough"
                    )
            elif isinstance(event, DisconnectedEvent):
                click.echo(f"Disconnected: {event.reason} Retrying.", err=True)
            elif isinstance(event, ConnectedEvent):
                click.echo(f"Connected to {event.device}.", err=True)
    except KeyboardInterrupt:
        pass
    finally:
        reader.close()
        if reader.dropped:
            click.echo(
                f"{reader.dropped} events were dropped because the output was not read fast "
                "enough.",
                err=True,
            )


@gauges.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, exists=True))
@pass_context
def check(ctx: Context, paths: tuple[Path, ...]) -> None:
    """Validate gauge profile files (default: every profile the station would use)."""
    targets = list(paths) or [p for p in ctx.config.profile_paths if p.exists()]
    checked, problems = check_profiles(targets)
    for problem in problems:
        click.echo(problem)
    if problems:
        click.echo(f"{len(problems)} problem(s) in {checked} profile file(s).", err=True)
        sys.exit(1)
    click.echo(f"{checked} profile file(s) valid.")


_SIM_HELP = (
    "Commands: Enter or 'p [VALUE] [CHANNEL]' press DATA, 'e [CODE]' error frame, "
    "'g' garbage, 's' silent on/off, 'u' unplug, 'r' replug, 'q' quit."
)


def _sim_command(sim: GaugeSimulator, line: str) -> str | None:
    """Carry out one console command; the text to print, or None to quit."""
    words = line.split()
    verb = words[0].lower() if words else "p"
    args = words[1:]
    if verb in ("q", "quit", "exit"):
        return None
    if verb in ("p", "press"):
        value = normalize_value(args[0]) if args else None
        channel = int(args[1]) if len(args) > 1 else None
        frame = sim.press(value, channel=channel)
        if frame is None:
            shown = sim.values[0] if value is None else value
            return f"display shows {shown}" if not sim.silent else "silent: nothing sent"
        return f"sent {escape_bytes(frame)}"
    if verb in ("e", "err", "error"):
        frame = sim.send_error(args[0] if args else None)
        return f"error frame {escape_bytes(frame)}" + (
            "" if sim.behaviour == "push" else " (next answer)"
        )
    if verb in ("g", "garbage"):
        frame = sim.send_garbage()
        return f"garbage {escape_bytes(frame)}"
    if verb in ("s", "silent"):
        sim.set_silent(not sim.silent)
        return "silent" if sim.silent else "talking again"
    if verb in ("u", "unplug"):
        sim.unplug()
        return "unplugged"
    if verb in ("r", "replug"):
        sim.replug()
        return f"plugged in: {sim.port} -> {sim.device}"
    return f"unknown command {verb!r}. {_SIM_HELP}"


@gauges.command("simulate")
@click.argument("profile_name", metavar="PROFILE")
@click.option("--values", help="Comma-separated values shown on successive DATA presses.")
@click.option(
    "--link",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Stable port path to create (default: simulated-gauges/PROFILE in the data directory).",
)
@click.option(
    "--channel",
    "channels",
    type=Count(0, 99999),
    multiple=True,
    help="Channel(s) the simulated device serves (repeatable).",
)
@click.option(
    "--rfc2217",
    "tcp_port",
    type=Count(0, 65535),
    help="Serve rfc2217://127.0.0.1:PORT instead of a pseudo-terminal (carries DTR/RTS).",
)
@pass_context
def simulate(
    ctx: Context,
    profile_name: str,
    values: str | None,
    link: Path | None,
    channels: tuple[int, ...],
    tcp_port: int | None,
) -> None:
    """Simulate a gauge of PROFILE; commands on standard input press DATA, unplug, ..."""
    profile = load_profile(profile_name, ctx.config.profile_paths)
    value_list = None
    if values:
        try:
            value_list = [normalize_value(v) for v in values.split(",") if v.strip()]
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--values") from None
    if tcp_port is None and link is None:
        link = default_link_dir() / profile.name
    if link is not None and link.is_symlink() and os.path.exists(link):
        raise PortError(
            f"Port link {link} is in use by a running simulator; choose another with --link."
        )
    sim = simulator_for(
        profile, values=value_list, channels=channels or None, link=link, rfc2217=tcp_port
    )
    with sim:
        click.echo(f"Simulating {profile.name} on {sim.port} (now {sim.device}).")
        click.echo(_SIM_HELP)
        try:
            for line in sys.stdin:
                try:
                    out = _sim_command(sim, line)
                except (ValueError, InspectStationError) as exc:
                    out = f"cannot: {exc}"
                if out is None:
                    break
                click.echo(out)
        except KeyboardInterrupt:
            pass


@gauges.command("calibrate")
@click.argument("asset")
@click.option(
    "--result",
    type=click.Choice([r.value for r in CalibrationResult]),
    required=True,
    help="pass: fit for use until --due; fail: results since its last good calibration are "
    "suspect (inspect-station audit lists them).",
)
@click.option("--certificate", required=True, help="The calibration certificate's number.")
@click.option(
    "--due",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Next calibration due date (YYYY-MM-DD; a pass only).",
)
@click.option(
    "--on",
    "calibrated_on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Date of the calibration (YYYY-MM-DD; default: today, UTC).",
)
@click.option("--note", help="What was found, the laboratory, ...")
@click.option(
    "--as",
    "user_id",
    required=True,
    metavar="USER",
    help="The supervisor recording it (their PIN is asked for).",
)
@click.option("--pin-stdin", is_flag=True, help="Read the PIN from the first line of stdin.")
@click.option("--db", type=click.Path(path_type=Path, dir_okay=False), help="Local record file.")
@pass_context
def calibrate(
    ctx: Context,
    asset: str,
    result: str,
    certificate: str,
    due: dt.datetime | None,
    calibrated_on: dt.datetime | None,
    note: str | None,
    user_id: str,
    pin_stdin: bool,
    db: Path | None,
) -> None:
    """Record a calibration of gauge ASSET (pass or fail), signed by a supervisor's PIN."""
    from inspect_station.cli.core import open_store
    from inspect_station.cli.pins import read_pin
    from inspect_station.users import UserDirectory

    configured = {a.asset: a for a in ctx.config.gauge}
    path = db or ctx.config.db_path
    if not path.exists():
        raise CalibrationError(
            f"There is no local record at {path} yet: add users first (users add)."
        )
    pin = read_pin(f"PIN of {user_id}", from_stdin=pin_stdin)
    with open_store(ctx, path) as store:
        known = configured.get(asset)
        record = record_calibration(
            store,
            UserDirectory(store),
            asset=asset,
            result=result,
            certificate=certificate,
            user_id=user_id,
            pin=pin,
            calibrated_on=calibrated_on.date() if calibrated_on else None,
            due=due.date() if due else None,
            serial_number=known.serial_number if known else None,
            note=note,
        )
    body = record["body"]
    click.echo(
        f"Recorded calibration of {body['asset']}: {body['result'].upper()} on "
        f"{body['calibrated_on']}, certificate {body['certificate']}"
        + (f", next due {body['due']}" if body["due"] else "")
        + f" (seq {record['seq']}, signed by {body['signature']['name']})."
    )
    if body["result"] == CalibrationResult.FAIL:
        click.echo(
            f"Results taken with {body['asset']} since its last good calibration are suspect: "
            f"inspect-station audit lists them; trace gauge {body['asset']} shows them.",
            err=True,
        )
