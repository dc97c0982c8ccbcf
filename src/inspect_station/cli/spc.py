"""``inspect-station spc ...`` at the station: propose and lock control limits, list and answer
SPC alarms. Each command is a few lines over :class:`~inspect_station.measuring.spc_service.
SpcService`; PINs come from standard input (``--pin-stdin``) or a hidden prompt, never from an
argument.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from inspect_station.cli import Context, emit, pass_context
from inspect_station.cli.core import spec_skipped
from inspect_station.cli.export import record_source
from inspect_station.cli.pins import read_pin
from inspect_station.cli.spc_report import spc_group
from inspect_station.measuring.spc_service import (
    DECISIONS,
    AlarmView,
    Fatigue,
    Proposal,
    SpcService,
    SpcStationError,
    part_effect,
    read_alarms,
    read_fatigue,
)
from inspect_station.text import printable
from inspect_station.wiring import build_service

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def _service(ctx: Context) -> Iterator[SpcService]:
    """The station's SPC service over its own record."""
    service = build_service(ctx.config, warn=spec_skipped)
    try:
        yield SpcService(service)
    finally:
        service.store.close()


def _out(text: str) -> None:
    """One line to standard output, never a terminal control."""
    emit(printable(text))


@spc_group.group("limits")
def limits_group() -> None:
    """Control limits: computed from a baseline, shown, locked by a supervisor's signature."""


_BASELINE = [
    click.option(
        "--baseline",
        "first",
        type=click.IntRange(1, 1_000_000),
        help="The first N readings (default: the settings' baseline size).",
    ),
    click.option("--from", "start", help="First reading of the baseline (its id or prefix)."),
    click.option("--to", "end", help="Last reading of the baseline (its id or prefix)."),
    click.option("--reason", help="Why (required when limits are locked already)."),
]


def _baseline_options(func: F) -> F:
    """Add the baseline options to a command."""
    for option in reversed(_BASELINE):
        func = option(func)
    return func


def _propose(
    spc: SpcService,
    part: str,
    char: str,
    first: int | None,
    start: str | None,
    end: str | None,
    reason: str | None,
) -> Proposal:
    """The proposal the options ask for."""
    if first is not None and (start or end):
        raise click.UsageError("Give --baseline or --from/--to, not both.")
    return spc.propose(part, char, first=first, start=start, end=end, reason=reason)


@limits_group.command("propose")
@click.argument("part")
@click.argument("characteristic")
@_baseline_options
@click.option("--json", "as_json", is_flag=True, help="Print the proposal as JSON.")
@pass_context
def limits_propose(
    ctx: Context,
    part: str,
    characteristic: str,
    first: int | None,
    start: str | None,
    end: str | None,
    reason: str | None,
    as_json: bool,
) -> None:
    """Compute limits of PART's CHARACTERISTIC from a baseline; show what would have alarmed
    and the false-alarm rate of the rules in force. Nothing is recorded."""
    with _service(ctx) as spc:
        proposal = _propose(spc, part, characteristic, first, start, end, reason)
    if as_json:
        _out(json.dumps(proposal.json(), sort_keys=True))
        return
    for line in proposal.lines():
        _out(line)
    _out("Not locked: inspect-station spc limits lock ... --user SUPERVISOR")


@limits_group.command("lock")
@click.argument("part")
@click.argument("characteristic")
@_baseline_options
@click.option("--user", "user_id", required=True, help="The supervisor signing the lock.")
@click.option("--pin-stdin", is_flag=True, help="Read the PIN from standard input.")
@pass_context
def limits_lock(
    ctx: Context,
    part: str,
    characteristic: str,
    first: int | None,
    start: str | None,
    end: str | None,
    reason: str | None,
    user_id: str,
    pin_stdin: bool,
) -> None:
    """Lock limits of PART's CHARACTERISTIC computed from a baseline, signed by a supervisor
    (PIN re-entered); readings from now on are judged against them."""
    with _service(ctx) as spc:
        proposal = _propose(spc, part, characteristic, first, start, end, reason)
        for line in proposal.lines():
            click.echo(printable(line), err=True)
        pin = read_pin("PIN (re-enter to sign the lock)", from_stdin=pin_stdin)
        done = spc.lock(proposal, user_id=user_id, pin=pin)
    sig = done.record["body"]["signature"]
    lim = done.limits
    _out(
        f"Locked: {lim.part_number} #{lim.characteristic} limits version {lim.version} "
        f"(centre {lim.centre}, UCL {lim.ucl}, LCL {lim.lcl} {lim.unit}; hash "
        f"{lim.content_hash[:12]}…) by {sig['name']} ({sig['user_id']}), {sig['meaning']}, "
        f"effective {lim.effective_from}; record {done.record['station']}:{done.record['seq']}."
    )


@limits_group.command("show")
@click.argument("part")
@click.argument("characteristic")
@pass_context
def limits_show(ctx: Context, part: str, characteristic: str) -> None:
    """Every locked version of PART's CHARACTERISTIC, oldest first."""
    with _service(ctx) as spc:
        spec = spc.spec_for(part)
        ch = spc.characteristic(spec, characteristic)
        versions = spc.versions(spec.part_number, ch.id)
    if not versions:
        _out(f"{spec.part_number} #{ch.id}: limits not locked.")
    for v in versions:
        _out(
            f"v{v.version} from {v.effective_from}: centre {v.centre} UCL {v.ucl} LCL {v.lcl} "
            f"{v.unit}, {v.chart} n={v.subgroup_size}, baseline {v.baseline_count} readings, "
            f"rules {','.join(map(str, v.rules.enabled))}; {v.reason} ({v.content_hash[:12]}…)"
        )


def _alarm_line(view: AlarmView) -> str:
    """One alarm in one line."""
    r = view.row
    held = ", ".join(p["serial"] for p in r["parts"])
    head = (
        f"{r['uuid'][:8]} {r['station']} {r['held_at']} {r['part_number']} #{r['characteristic']} "
        f"rule {', '.join(r['rules'])} · held: {held}"
    )
    if view.open:
        return head + " · OPEN"
    parts = "; ".join(f"{p['serial']} {view.part_status(p)}" for p in r["decisions"] or [])
    return head + f" · answered {r['cause']}/{r['action']} by {r['answered_by']} · {parts}"


def _fatigue_line(f: Fatigue) -> str:
    """Alarm-fatigue figures of one characteristic in one line."""
    arl = "limits not locked" if f.arl is None else f.arl.sentence()
    line = (
        f"{f.part_number} #{f.characteristic}: {f.alarms} alarm(s): {f.real_cause} with a cause, "
        f"{f.no_cause} no cause found, {f.open} open. {arl}"
    )
    if f.only_no_cause:
        line += f" Rules that only ever found no cause: {', '.join(f.only_no_cause)}."
    return line


@spc_group.command("alarms")
@click.option("--open", "open_only", is_flag=True, help="Only alarms not answered yet.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Read this local record file (a copy from any station) instead of the station's.",
)
@click.option(
    "--central", "central_url", metavar="URL", help="Read from this central store instead."
)
@pass_context
def alarms(
    ctx: Context, open_only: bool, as_json: bool, db: Path | None, central_url: str | None
) -> None:
    """SPC alarms, the held parts' state and the alarm-fatigue figures per characteristic, of
    this station (or a --db file, or every station of a --central store); read-only."""
    with record_source(ctx, db, central_url) as (source, _):
        views = read_alarms(source, open_only=open_only)
        fatigue = read_fatigue(source, ctx.config.spc.no_cause)
    if as_json:
        _out(
            json.dumps(
                {
                    "alarms": [v.json() for v in views],
                    "characteristics": [f.json() for f in fatigue],
                },
                sort_keys=True,
            )
        )
        return
    if not views:
        _out("No open SPC alarms." if open_only else "No SPC alarms.")
    for view in views:
        _out(_alarm_line(view))
    for f in fatigue:
        _out(_fatigue_line(f))


def _overrides(parts: tuple[str, ...]) -> dict[str, str]:
    """``SERIAL=DECISION`` (or ``LOT:SERIAL=DECISION``) options as a mapping."""
    out: dict[str, str] = {}
    for item in parts:
        key, sep, decision = item.partition("=")
        if not sep or not key or decision not in DECISIONS:
            raise SpcStationError(
                f"--part {item[:60]!r} is not SERIAL=release, SERIAL=reinspect or SERIAL=reject."
            )
        out[key] = decision
    return out


@spc_group.command("answer")
@click.argument("alarm")
@click.option("--cause", required=True, help="Assignable-cause code (spc.causes of station.toml).")
@click.option(
    "--action", required=True, help="Corrective-action code (spc.actions of station.toml)."
)
@click.option("--note", required=True, help="What was found and done (one line).")
@click.option(
    "--held",
    type=click.Choice(DECISIONS),
    default="release",
    show_default=True,
    help="What happens to every held part.",
)
@click.option(
    "--part", "parts", multiple=True, help="One held part's own decision: SERIAL=reject, ..."
)
@click.option("--user", "user_id", required=True, help="Who answers (inspector or supervisor).")
@click.option(
    "--countersign",
    help="The supervisor counter-signing (a critical characteristic); their PIN is read next.",
)
@click.option("--pin-stdin", is_flag=True, help="Read the PIN(s) from standard input.")
@pass_context
def answer(
    ctx: Context,
    alarm: str,
    cause: str,
    action: str,
    note: str,
    held: str,
    parts: tuple[str, ...],
    user_id: str,
    countersign: str | None,
    pin_stdin: bool,
) -> None:
    """Answer SPC ALARM: cause, action, note, and what happens to the parts it holds."""
    decisions = _overrides(parts)
    with _service(ctx) as spc:
        spc.find_alarm(alarm)  # an unknown alarm is refused before any PIN is asked
        by = spc.authenticate(user_id, read_pin("PIN", from_stdin=pin_stdin))
        second = None
        if countersign:
            second = (countersign, read_pin(f"PIN of {countersign}", from_stdin=pin_stdin))
        record = spc.answer(
            alarm,
            cause=cause,
            action=action,
            note=note,
            by=by,
            decision=held,
            decisions=decisions,
            countersign=second,
            pin_confirmed=True,
        )
    body = record["body"]
    signed = f", counter-signed by {body['signature']['name']}" if body.get("signature") else ""
    _out(
        f"Answered SPC alarm {body['alarm'][:8]}: {body['cause']} / {body['action']} by "
        f"{body['answered_by']}{signed}; "
        + "; ".join(part_effect(p) for p in body["parts"])
        + f"; record {record['station']}:{record['seq']}."
    )
