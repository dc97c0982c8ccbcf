"""Review commands: rejects list/show, disposition sign/cosign/resolve.

Each reads from the station's local record (the configuration's, or a ``--db`` file copied
from any station) or, with ``--central URL``, from a central store across all stations.
Signatures are always written to this station's own local record, under its own station id.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from inspect_station.cli import Context, main, pass_context
from inspect_station.cli.core import open_record, open_store
from inspect_station.cli.pins import read_pin
from inspect_station.errors import InspectStationError
from inspect_station.records import LocalSource, RecordSource
from inspect_station.review.model import RejectFilter, SignaturePolicy
from inspect_station.review.service import Review
from inspect_station.review.views import RejectDetail
from inspect_station.spec.model import Kind
from inspect_station.store import LocalStore
from inspect_station.sync import open_source
from inspect_station.text import printable, safe_json
from inspect_station.vocabulary import Disposition

_DB = click.option(
    "--db", type=click.Path(path_type=Path, dir_okay=False), help="Local record file."
)
_CENTRAL = click.option(
    "--central", "central_url", metavar="URL", help="Read from this central store instead."
)
_AGE = re.compile(r"^ *([0-9]{1,6}) *([mhdw]) *$")


def parse_age(text: str | None) -> dt.timedelta | None:
    """'90m', '12h', '3d', '2w' as a timedelta; click.BadParameter otherwise."""
    if text is None:
        return None
    m = _AGE.match(text.lower())
    if not m:
        raise click.BadParameter(f"{text!r} is not an age such as 90m, 12h, 3d or 2w.")
    unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
    return dt.timedelta(**{unit: int(m.group(1))})


def _local_store(ctx: Context, db: Path | None, *, writing: bool = False) -> LocalStore:
    """The existing local record named by --db or the configuration.

    To read, a --db file opens as whichever station it belongs to (a copy from any station);
    to sign into it, it must be this station's own record.
    """
    if not writing:
        return open_record(ctx, db)
    path = db or ctx.config.db_path
    if not path.exists():
        raise InspectStationError(f"There is no local record at {path}.")
    return open_store(ctx, path)


def _review(ctx: Context, source: RecordSource, store: LocalStore | None) -> Review:
    """The review over ``source``; its signature policy comes only from station.toml."""
    return Review(
        source,
        store,
        policy=SignaturePolicy.from_config(ctx.config),
        warn_days=ctx.config.calibration_warning_days,
    )


@contextmanager
def _reviewing(
    ctx: Context, db: Path | None, central_url: str | None, *, writing: bool = False
) -> Iterator[Review]:
    """A review reading from the chosen source; signatures go to this station's own record.

    To only read, the station's own record is opened read-only (and need not exist).
    """
    if central_url:
        if db:
            raise click.UsageError("Give --db or --central, not both.")
        path = ctx.config.db_path
        with open_source(central_url) as source:
            if writing:
                with open_store(ctx, path) as store:
                    yield _review(ctx, source, store)
            elif path.exists():
                with LocalStore.open_readonly(path) as own:
                    yield _review(ctx, source, own)
            else:
                yield _review(ctx, source, None)
        return
    with _local_store(ctx, db, writing=writing) as store:
        yield _review(ctx, LocalSource(store), store)


@main.group("rejects")
def rejects_group() -> None:
    """Rejects awaiting disposition."""


@rejects_group.command("list")
@click.option("--lot", help="Only this lot.")
@click.option("--part", "part_number", help="Only this part number.")
@click.option("--station", help="Only rejects recorded at this station.")
@click.option("--older-than", help="Only rejects at least this old (90m, 12h, 3d, 2w).")
@click.option("--newer-than", help="Only rejects at most this old.")
@click.option("--all", "include_disposed", is_flag=True, help="Include disposed rejects.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@_CENTRAL
@_DB
@pass_context
def rejects_list(
    ctx: Context,
    lot: str | None,
    part_number: str | None,
    station: str | None,
    older_than: str | None,
    newer_than: str | None,
    include_disposed: bool,
    as_json: bool,
    central_url: str | None,
    db: Path | None,
) -> None:
    """List rejects awaiting disposition (or a second signature), oldest first."""
    flt = RejectFilter(
        lot=lot,
        part_number=part_number,
        station=station,
        older_than=parse_age(older_than),
        newer_than=parse_age(newer_than),
        include_disposed=include_disposed,
    )
    with _reviewing(ctx, db, central_url) as review:
        queue = review.queue(flt)
    if as_json:
        for item in queue:
            click.echo(safe_json(item.json()))
        return
    if not queue:
        click.echo("No rejects await disposition.")
        return
    for r in queue:
        hours = int(r.age.total_seconds() // 3600)
        age = f"{hours // 24}d{hours % 24:02d}h" if hours >= 24 else f"{hours}h"
        # Everything here comes from records (maybe another station's): never raw.
        click.echo(
            printable(
                f"{r.short_id}  {r.closed_at[:16].replace('T', ' ')}  {age:>6}  {r.station:<10} "
                f"{r.lot:<12} {r.part_number} {r.revision:<3} {r.serial:<12} "
                f"failed {','.join(r.failed) or '-':<6} {r.defect_code or '-':<5} "
                f"{r.status.value}"
            )
        )


def _print_detail(detail: RejectDetail) -> None:
    def echo(line: str) -> None:
        click.echo(printable(line))  # from records, maybe another station's: never raw

    s = detail.summary
    echo(f"Reject {s.reject}  ({s.status.value})")
    echo(
        f"  {s.part_number} rev {s.revision}, lot {s.lot}, part {s.serial}; station "
        f"{s.station}, inspector {s.inspector}, closed {s.closed_at}"
    )
    echo(f"  defect {s.defect_code or '-'}; note: {s.note or '-'}")
    if s.reinspection_of:
        echo(f"  re-inspection of reject {s.reinspection_of}")
    for m in detail.measurements:
        limits = f"[{m.lower or ''} .. {m.upper or ''}]" if m.kind == Kind.VARIABLE else ""
        over = f" {m.limit_broken} by {m.exceeds_by}" if m.limit_broken else ""
        gauge = (
            f" gauge {m.gauge_asset} (due {m.gauge_calibration_due}, "
            f"{m.calibration_now.value if m.calibration_now else '?'} now)"
            if m.gauge_asset
            else f" manual ({m.manual_reason})"
        )
        state = "" if m.current else " [superseded]"
        reason = f" correction: {m.reason}" if m.reason else ""
        echo(
            f"  #{m.characteristic:<3} {m.name or '':<24} {m.value} {m.unit or ''} {limits} "
            f"{m.verdict.upper()}{over};{gauge}; {m.inspector} {m.measured_at}{state}{reason}"
        )
    standing = detail.standing
    if standing.conflict:
        echo(
            f"  CONFLICTING DISPOSITIONS: {len(detail.dispositions)} were signed apart; none is "
            "in force until a supervisor signs which one stands (disposition resolve)."
        )
    for d in detail.dispositions:
        state = d.status.value
        if len(detail.dispositions) > 1:
            kept = standing.in_force
            state = "conflicting" if kept is None else ("in force" if d is kept else "set aside")
        echo(
            f"  disposition: {d.disposition.label} — {d.reason} ({state}); record "
            f"{d.uuid[:8]} at {d.station}:{d.seq}"
        )
        for sig in d.signatures:
            echo(f"    signed by {sig.name} ({sig.user_id}), {sig.meaning}, {sig.signed_at}")
    for r in detail.resolutions:
        sig = r.signature
        echo(
            f"  resolution: {r.kept[:8]} stands — {r.reason}; signed by {sig.name} "
            f"({sig.user_id}), {sig.meaning}, {sig.signed_at}"
        )
    for again in detail.reinspections:
        echo(f"  re-inspected {again.opened_at} at {again.station}: {again.result or 'open'}")
    echo(f"  content hash (what a signature binds): {detail.signed_hash}")


@rejects_group.command("show")
@click.argument("reject")
@click.option("--json", "as_json", is_flag=True, help="The detail as JSON.")
@_CENTRAL
@_DB
@pass_context
def rejects_show(
    ctx: Context, reject: str, as_json: bool, central_url: str | None, db: Path | None
) -> None:
    """Show a reject: every measurement of the part, its disposition and content hash."""
    with _reviewing(ctx, db, central_url) as review:
        detail = review.detail(reject)
    if as_json:
        click.echo(safe_json(detail.json(), indent=1))
    else:
        _print_detail(detail)


def _signing_pin(from_stdin: bool) -> str:
    """The signer's PIN, re-entered for this signature."""
    return read_pin("PIN (re-enter to sign)", from_stdin=from_stdin, err=False)


@main.group("disposition")
def disposition_group() -> None:
    """Sign dispositions of rejects (supervisors; the PIN is asked again)."""


@disposition_group.command("sign")
@click.argument("reject")
@click.option(
    "--disposition",
    "kind",
    required=True,
    type=click.Choice([d.value for d in Disposition]),
    help="What is done with the part.",
)
@click.option("--reason", required=True, help="Why (one line).")
@click.option("--regrade-to", help="For a regrade: the grade or part it now conforms to.")
@click.option("--user", "user_id", required=True, help="The supervisor signing.")
@click.option("--pin-stdin", is_flag=True, help="Read the PIN from standard input.")
@click.option("--expect-hash", help="Refuse unless the reject's content hash is this one.")
@_CENTRAL
@_DB
@pass_context
def disposition_sign(
    ctx: Context,
    reject: str,
    kind: str,
    reason: str,
    regrade_to: str | None,
    user_id: str,
    pin_stdin: bool,
    expect_hash: str | None,
    central_url: str | None,
    db: Path | None,
) -> None:
    """Dispose of REJECT and sign it electronically (21 CFR Part 11).

    Whether a second supervisor must co-sign comes from second_signer in station.toml, and is
    recorded with the disposition.
    """
    with _reviewing(ctx, db, central_url, writing=True) as review:
        info = review.sign(
            reject,
            kind,
            reason,
            user_id=user_id,
            pin=_signing_pin(pin_stdin),
            expected_hash=expect_hash,
            regrade_to=regrade_to,
        )
    sig = info.signatures[0]
    click.echo(
        printable(
            f"Signed: {info.disposition.label} of reject {info.reject[:8]} by {sig.name} "
            f"({sig.user_id}), {sig.meaning}, {sig.signed_at}; record {info.station}:{info.seq}."
        )
    )
    if not info.complete:
        click.echo("A second signature is required: inspect-station disposition cosign.")


@disposition_group.command("resolve")
@click.argument("reject")
@click.option(
    "--keep",
    required=True,
    metavar="DISPOSITION",
    help="The disposition that stands: its record id (the first 8 characters will do).",
)
@click.option("--reason", required=True, help="Why that one stands (one line).")
@click.option("--user", "user_id", required=True, help="The supervisor signing.")
@click.option("--pin-stdin", is_flag=True, help="Read the PIN from standard input.")
@_CENTRAL
@_DB
@pass_context
def disposition_resolve(
    ctx: Context,
    reject: str,
    keep: str,
    reason: str,
    user_id: str,
    pin_stdin: bool,
    central_url: str | None,
    db: Path | None,
) -> None:
    """Sign which of REJECT's conflicting dispositions stands; the others stay, set aside."""
    with _reviewing(ctx, db, central_url, writing=True) as review:
        resolution = review.resolve_conflict(
            reject, keep, reason, user_id=user_id, pin=_signing_pin(pin_stdin)
        )
    sig = resolution.signature
    click.echo(
        f"Resolved: disposition {resolution.kept[:8]} of reject {resolution.reject[:8]} stands "
        f"({len(resolution.considered) - 1} set aside), signed by {sig.name} ({sig.user_id}), "
        f"{sig.meaning}, {sig.signed_at}; record {resolution.station}:{resolution.seq}."
    )


@disposition_group.command("cosign")
@click.argument("reject")
@click.option("--user", "user_id", required=True, help="The second supervisor.")
@click.option("--pin-stdin", is_flag=True, help="Read the PIN from standard input.")
@click.option("--expect-hash", help="Refuse unless the reject's content hash is this one.")
@_CENTRAL
@_DB
@pass_context
def disposition_cosign(
    ctx: Context,
    reject: str,
    user_id: str,
    pin_stdin: bool,
    expect_hash: str | None,
    central_url: str | None,
    db: Path | None,
) -> None:
    """Add the second signer's signature to the disposition of REJECT."""
    with _reviewing(ctx, db, central_url, writing=True) as review:
        info = review.cosign(
            reject, user_id=user_id, pin=_signing_pin(pin_stdin), expected_hash=expect_hash
        )
    sig = info.signatures[-1]
    click.echo(
        printable(
            f"Co-signed: {info.disposition.label} of reject {info.reject[:8]} by {sig.name} "
            f"({sig.user_id}), {sig.meaning}, {sig.signed_at}."
        )
    )


__all__ = ["parse_age"]
