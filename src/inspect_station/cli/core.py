"""Core commands: specs check/list, record (headless), verify; the headless demo's parts."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import click

from inspect_station.cli import (
    Context,
    emit_lines,
    main,
    open_store,
    pass_context,
    spec_skipped,
)
from inspect_station.cli.linebatch import LineBatches
from inspect_station.cli.params import Count
from inspect_station.errors import InspectStationError, SpecError
from inspect_station.evaluate import split_value
from inspect_station.first_article import declare_first_article
from inspect_station.intake import MAX_LINE_BYTES, IntakeError, StdinItem, parse_line
from inspect_station.measuring.spc import SpcTracker
from inspect_station.recording import (
    GaugeSource,
    ManualSource,
    Measurement,
    MeasurementAck,
    Recorder,
    Source,
)
from inspect_station.sampling import MAX_LOT_SIZE
from inspect_station.spec import SpecFileError, SpecLibrary, load_spec
from inspect_station.spec.loader import spec_files
from inspect_station.store import LocalStore, Transaction, inspections
from inspect_station.text import check_id, check_line, printable, quote, safe_json
from inspect_station.users import UserDirectory, UserError, named_id


def open_record(ctx: Context, db: Path | None) -> LocalStore:
    """An existing local record to read, opened read-only as the station it belongs to: a --db
    file (a copy from any station) or the configured record. Never creates or changes a file."""
    path = db or ctx.config.db_path
    if db is None and ctx.demo and not path.exists():
        raise InspectStationError(
            f"There is no demo record yet at {path}: start `inspect-station demo` first."
        )
    return LocalStore.open_readonly(path)


def load_library(ctx: Context, specs: Iterable[Path] = ()) -> SpecLibrary:
    """Specs from --specs paths or the configuration; invalid files are reported on stderr."""
    paths = list(specs) or ctx.config.spec_paths
    library = SpecLibrary.load(paths)
    for problem in library.problems:
        spec_skipped(problem)
    return library


@main.group()
def specs() -> None:
    """Part specs: validate and list."""


@specs.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@pass_context
def specs_check(ctx: Context, paths: tuple[Path, ...]) -> None:
    """Validate spec files (default: the configured specs); print file:line: message per error."""
    files = spec_files(paths or ctx.config.spec_paths)
    if not files:
        raise SpecError("No spec files found.")
    problems = 0
    seen: dict[tuple[str, str], Path] = {}
    for path in files:
        try:
            spec = load_spec(path)
        except SpecFileError as exc:
            for line in exc.problems:
                click.echo(line)
            problems += len(exc.problems)
            continue
        key = (spec.part_number, spec.revision)
        if key in seen:
            click.echo(
                f"{path}:1: {spec.part_number} revision {spec.revision} is also in {seen[key]}"
            )
            problems += 1
            continue
        seen[key] = path
    if problems:
        click.echo(f"{problems} problem(s) in {len(files)} file(s).", err=True)
        sys.exit(1)
    click.echo(f"OK: {len(files)} spec file(s) valid.")


@specs.command("list")
@click.option("--specs", "spec_paths", multiple=True, type=click.Path(path_type=Path))
@pass_context
def specs_list(ctx: Context, spec_paths: tuple[Path, ...]) -> None:
    """List the spec revisions the station knows, with status and content hash."""
    library = load_library(ctx, spec_paths)
    for (_, _), spec in sorted(library.specs.items()):
        click.echo(
            f"{spec.part_number:<14} rev {spec.revision:<4} {spec.status.value:<9} "
            f"{spec.content_hash[:12]}  {len(spec.characteristic)} char  {spec.description}"
        )


def _source(ctx: Context, gauge: str | None, raw: bytes | None, reason: str | None) -> Source:
    if gauge:
        asset = ctx.config.asset(check_id(gauge, "gauge asset id"))
        return GaugeSource(asset, raw)
    return ManualSource(reason or "entered through the record command")


@main.command()
@click.option("--spec", "spec_ref", required=True, help="PART or PART@REV (a released revision).")
@click.option("--lot", required=True, help="Lot id.")
@click.option("--serial", help="Part serial (or per line with --stdin).")
@click.option(
    "--inspector",
    required=True,
    help="User id of the inspector: a known, active user qualified for the part (an automation "
    "cell is a user with role cell).",
)
@click.option("--db", type=click.Path(path_type=Path, dir_okay=False), help="Local record file.")
@click.option("--specs", "spec_paths", multiple=True, type=click.Path(path_type=Path))
@click.option("--gauge", help="Gauge asset the values came from (default: manual entry).")
@click.option("--manual-reason", help="Why the values were entered by hand.")
@click.option("--reason", help="Reason for a correction when a characteristic is re-measured.")
@click.option("--lot-size", type=Count(1, MAX_LOT_SIZE), help="Lot size, for the sampling plan.")
@click.option("--work-order", help="Work order of the lot.")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read JSON lines from standard input.")
@click.option(
    "--first-article",
    is_flag=True,
    help="Declare a first article (AS9102) before recording: the part --serial, or every part "
    "of the lot when no --serial is given. Recorded once; shown by export fai.",
)
@click.option("--fair-number", help="FAIR number of the first article declared.")
@click.argument("values", nargs=-1)
@pass_context
def record(
    ctx: Context,
    spec_ref: str,
    lot: str,
    serial: str | None,
    inspector: str,
    db: Path | None,
    spec_paths: tuple[Path, ...],
    gauge: str | None,
    manual_reason: str | None,
    reason: str | None,
    lot_size: int | None,
    work_order: str | None,
    from_stdin: bool,
    first_article: bool,
    fair_number: str | None,
    values: tuple[str, ...],
) -> None:
    """Record measurements headlessly: CHAR=VALUE[UNIT] ... or JSON lines with --stdin.

    Each measurement is acknowledged with one JSON line on stdout only after it is committed.
    A bad value is reported on stderr and skipped; the exit code is then 2.
    """
    if from_stdin and values:
        raise click.UsageError("Give CHAR=VALUE arguments or --stdin, not both.")
    if not from_stdin and not values:
        raise click.UsageError("Give at least one CHAR=VALUE, or --stdin.")
    # Text options are checked before anything is opened: nothing is recorded from a bad one.
    lot = check_id(lot, "lot")
    inspector = check_id(inspector, "inspector")
    if serial is not None:
        serial = check_id(serial, "serial")
    if manual_reason is not None:
        manual_reason = check_line(manual_reason, "manual entry reason")
    if reason is not None:
        reason = check_line(reason, "reason of the correction")
    if work_order is not None:
        work_order = check_id(work_order, "work order")
    if fair_number is not None:
        if not first_article:
            raise click.UsageError("--fair-number goes with --first-article.")
        fair_number = check_id(fair_number, "FAIR number")
    library = load_library(ctx, spec_paths)
    spec = library.get(spec_ref)
    failures = 0
    path = db or ctx.config.db_path
    if not path.exists():
        raise UserError(
            f"There is no user {named_id(inspector)} at station {ctx.config.station}: its "
            f"local record {path} does not exist yet; add users first (users add)."
        )
    with open_store(ctx, path) as store:
        UserDirectory(store).require_recorder(inspector, spec.part_number)
        recorder = Recorder(store)
        if first_article:
            recorder.open_lot(lot, spec, inspector, lot_size=lot_size, work_order=work_order)
            declared, new = declare_first_article(
                store, spec, lot, serial, inspector, fair_number=fair_number
            )
            click.echo(
                f"First article {'recorded' if new else 'already recorded'}: "
                f"{printable(declared.describe())}.",
                err=True,
            )
        spc = SpcTracker(store, spec)  # SPC judges each reading; an open alarm holds new parts

        def request(item: StdinItem) -> Measurement:
            part = item.serial or serial
            if not part:
                raise click.UsageError("no serial (give --serial or a serial per line)")
            text, unit = split_value(item.value)
            after, undo = spc.undoable_hook()
            return Measurement(
                spec=spec,
                lot=item.lot or lot,
                serial=part,
                inspector=inspector,
                characteristic=item.characteristic,
                value=text,
                unit=item.unit or unit,
                source=_source(
                    ctx,
                    item.gauge or gauge,
                    item.raw,
                    item.manual_reason or manual_reason,
                ),
                reason=item.reason or reason,
                auto_close=True,
                lot_size=lot_size,
                work_order=work_order,
                before=clear_for(check_id(item.lot or lot, "lot"), check_id(part, "serial")),
                after=after,
                rolled_back=undo,  # a refused line's reading judges none after it
            )

        def clear_for(part_lot: str, part: str) -> Callable[[Transaction], None]:
            """In the group's transaction: a new part waits while an SPC alarm is open."""

            def before(tx: Transaction) -> None:
                if inspections.latest_inspection(tx, part_lot, part) is None:
                    spc.require_clear(tx)

            return before

        def refuse(where: str, exc: InspectStationError | click.UsageError) -> None:
            nonlocal failures
            failures += 1
            message = exc.message if isinstance(exc, InspectStationError) else str(exc)
            click.echo(f"Error: {where}: {printable(message).rstrip('.')}.", err=True)

        def group(items: list[tuple[str, StdinItem | InspectStationError]]) -> None:
            """Record the measurements of a batch in one commit; then ack or refuse each."""
            requests: list[Measurement] = []
            # Each line's refusal, or None: its outcome comes from the group's commit.
            outcomes: list[tuple[str, InspectStationError | click.UsageError | None]] = []
            for where, item in items:
                if isinstance(item, InspectStationError):
                    outcomes.append((where, item))
                    continue
                try:
                    requests.append(request(item))
                except (InspectStationError, click.UsageError) as exc:
                    outcomes.append((where, exc))
                    continue
                outcomes.append((where, None))
            try:
                written = recorder.measure_many(requests)
            except BaseException:
                spc.forget()  # whatever the group fed the charts was rolled back with it
                raise
            alarms = {
                result.uuid: spc.outcome(result.uuid)
                for result in written
                if isinstance(result, MeasurementAck)
            }
            results = iter(written)
            acks: list[str] = []
            for where, outcome in outcomes:
                result = next(results) if outcome is None else outcome
                if isinstance(result, MeasurementAck):
                    alarm = alarms[result.uuid]
                    line = result.json()
                    acks.append(
                        safe_json(line if alarm is None else {**line, "spc_alarm": alarm.uuid})
                    )
                    if alarm is not None:
                        click.echo(f"Warning: {where}: {printable(alarm.sentence())}", err=True)
                else:
                    refuse(where, result)
            # All committed: the group's acknowledgements go out together, in order, in
            # writes of whole lines. If they cannot be delivered the stream stops here, so a
            # cell never goes on sending after a measurement it was not told about.
            emit_lines(acks)

        if from_stdin:
            # Group commit: the lines already waiting are recorded in one transaction, each
            # acknowledged after it; a lone line is committed at once.
            for batch in LineBatches(sys.stdin.buffer, MAX_LINE_BYTES):
                items: list[tuple[str, StdinItem | InspectStationError]] = []
                for number, data in batch:
                    where = f"stdin line {number}"
                    if data is not None and not data.strip():
                        continue
                    try:
                        if data is None:
                            raise IntakeError(f"the line is longer than {MAX_LINE_BYTES} bytes")
                        items.append((where, parse_line(data)))
                    except IntakeError as exc:
                        items.append((where, exc))
                group(items)
        else:
            # The arguments are all there at once: one group, one commit.
            args: list[tuple[str, StdinItem | InspectStationError]] = []
            for arg in values:
                char, sep, value = arg.partition("=")
                if not sep or not char.strip():
                    args.append((quote(arg, 60), IntakeError("expected CHAR=VALUE")))
                    continue
                args.append(
                    (
                        printable(f"{char.strip()}={value}")[:80],
                        StdinItem(characteristic=char.strip(), value=value),
                    )
                )
            group(args)
    if failures:
        sys.exit(2)


@main.command()
@click.option("--db", type=click.Path(path_type=Path, dir_okay=False), help="Local record file.")
@click.option(
    "--central",
    "central_url",
    metavar="URL",
    help="Alone: verify every station's chain in a central store. With --db: cross-check the "
    "record against the central store's copy of its chain.",
)
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    metavar="SEQ:HASH",
    help="A chain head printed on an export or certificate; the record must still hold it.",
)
@click.option(
    "--full/--incremental",
    default=True,
    show_default=True,
    help="Re-verify every record from seq 1 (the default), or only what is new since the last "
    "verified checkpoint (what exports do).",
)
@click.option(
    "--reset-checkpoint",
    is_flag=True,
    help="With --full: drop a checkpoint this record contradicts (a record restored from a "
    "backup) and start over from this full verification.",
)
@pass_context
def verify(
    ctx: Context,
    db: Path | None,
    central_url: str | None,
    anchors: tuple[str, ...],
    full: bool,
    reset_checkpoint: bool,
) -> None:
    """Recompute the hash chain and projections and check them against their anchors.

    A --db file may come from any station: it is verified as the station it belongs to, then
    against the heads its central stores acknowledged (its sync state), any --anchor, and with
    --central the central store's copy. Exit 1 at the first broken record or anchor.
    A full verification that finds everything in order records a checkpoint (seq and hash of
    the head) from which exports then verify only what is new.
    """
    if reset_checkpoint and not full:
        raise click.UsageError("--reset-checkpoint needs a full verification (--full).")
    from inspect_station.sync.verify import parse_anchor, verify_central, verify_record

    try:
        heads = [parse_anchor(text) for text in anchors]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--anchor") from None
    if central_url and db is None and not heads:
        sys.exit(verify_central(central_url, echo=click.echo))
    with open_record(ctx, db) as store:
        code = verify_record(
            store,
            central_url=central_url,
            anchors=heads,
            echo=click.echo,
            full=full,
            reset=reset_checkpoint,
        )
    if code:
        sys.exit(code)


DEMO_PARTS = [
    ("DEMO-001", {"1": "120.03", "2": "12.008", "3": "0.012", "4": "pass"}),
    ("DEMO-002", {"1": "4.7283in", "2": "12.0165", "3": "0.031", "4": "pass"}),
    ("DEMO-003", {"1": "119.97", "2": "12.004", "3": "0.058", "4": "fail"}),
]


def run_headless_demo(db: Path, station: str) -> None:
    """Record three demo parts of BRK-1042 C and print each verdict, then verify the chain."""
    from inspect_station.demo import ensure_demo_users
    from inspect_station.locations import shipped_specs_dir

    spec = SpecLibrary.load([shipped_specs_dir()]).get("BRK-1042@C")
    with LocalStore(db, station) as store:
        ensure_demo_users(UserDirectory(store))
        recorder = Recorder(store)
        lot = f"DEMO-{store.head()[0] + 1:05d}"
        recorder.open_lot(lot, spec, "demo", lot_size=500, work_order="WO-DEMO")
        click.echo(f"{spec.part_number} rev {spec.revision} — {spec.description}; lot {lot}")
        for serial, values in DEMO_PARTS:
            for char, raw in values.items():
                value, unit = split_value(raw)
                ack = recorder.measure(
                    spec=spec,
                    lot=lot,
                    serial=serial,
                    inspector="demo",
                    characteristic=char,
                    value=value,
                    unit=unit,
                    source=ManualSource("headless demo"),
                    auto_close=True,
                )
                e = ack.evaluation
                ch = spec.get(char)
                name = ch.name if ch is not None else char
                verdict = "PASS" if e.passed else "FAIL"
                detail = f"{e.zone.value}" + (f", {e.limit} by {e.exceeds_by}" if e.limit else "")
                click.echo(f"  {serial}  #{char:<2} {name:<24} {raw:>10}  {verdict}  ({detail})")
            click.echo(f"  {serial}  → part {ack.result}")
        report = store.verify()
    click.echo(f"{db}: {report.summary()}")
