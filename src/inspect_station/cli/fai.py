"""``export fai``: the AS9102 Form 3 of one part, from the same records the lot exports read."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from inspect_station.cli import Context, pass_context
from inspect_station.cli.export import export_group, record_source
from inspect_station.export.fai import FORMATS, export_form3, load_form3, manifest_text, write_form3
from inspect_station.export.model import ExportError


def _file_name(serial: str) -> str:
    """A file name made from a serial number."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", serial).strip("._") or "part"


@export_group.command("fai")
@click.argument("serial")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="html (printable form), csv (one row per characteristic), xlsx (workbook laid out as "
    "the form). Default: the extension of --out if it is one of these, else html.",
)
@click.option("--lot", help="The lot the part was inspected in (needed if it was in several).")
@click.option(
    "--fair-number",
    help="FAI report number (default: PART-REVISION-SERIAL, marked as made up on the form).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="Output file (default: FAI-SERIAL.FORMAT here; '-' for standard output). A SHA-256 "
    "manifest is written next to it as OUT.sha256.",
)
@click.option(
    "--undeclared",
    is_flag=True,
    help="Write the form of a part the record does not declare a first article, as a draft "
    "(marked NOT DECLARED; not a FAIR). Without it such a part is refused.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
@click.option("--central", "central_url", metavar="URL", help="Read from this central store.")
@click.option("--db", type=click.Path(path_type=Path, dir_okay=False), help="Local record file.")
@pass_context
def export_fai_command(
    ctx: Context,
    serial: str,
    fmt: str | None,
    lot: str | None,
    fair_number: str | None,
    out: Path | None,
    force: bool,
    undeclared: bool,
    central_url: str | None,
    db: Path | None,
) -> None:
    """Write the AS9102 Rev C Form 3 (characteristic accountability) of part SERIAL.

    Every characteristic of the spec has a row; one without a recorded result is marked NOT
    MEASURED. A part the record does not declare a first article (record --first-article) is
    refused: an AS9102 report is the record of a first article, so a form of any other part is
    only written as a draft marked NOT DECLARED, with --undeclared. Exits 1 (after writing)
    if a chain the records come from does not verify.
    """
    if fmt is None:
        suffix = out.suffix.lower().lstrip(".") if out is not None else ""
        fmt = suffix if suffix in FORMATS else "html"
    with record_source(ctx, db, central_url) as (source, store):
        form = load_form3(
            source,
            serial,
            lot=lot,
            fair_number=fair_number,
            organisation=ctx.config.organisation,
            writer=store,
        )
        if not form.declared and not undeclared:
            raise ExportError(
                f"Part {form.serial} of lot {form.lot} is not declared a first article in the "
                "record (record --first-article); give --undeclared for a draft form."
            )
        if out is not None and str(out) == "-":
            state = write_form3(form, fmt, sys.stdout.buffer)
            text = manifest_text(form, fmt, "-", state.sha256.hexdigest(), state.size)
            click.echo(text, err=True, nl=False)
        else:
            path = out or Path(f"FAI-{_file_name(form.serial)}.{fmt}")
            result = export_form3(form, fmt, path, force=force)
            missing = sum(1 for r in form.rows if r.result == "NOT MEASURED")
            click.echo(
                f"Wrote {result.path} (Form 3 of {form.part_number} rev {form.revision} serial "
                f"{form.serial}, lot {form.lot}: {len(form.rows)} characteristics, "
                f"{missing} not measured, {result.size:,} bytes); SHA-256 {result.sha256} in "
                f"{result.manifest_path}."
            )
    # With --out - the export itself is on standard output: nothing else may go there (the
    # manifest on standard error already names each chain's verification).
    to_stdout = out is not None and str(out) == "-"
    for check in form.verification or []:
        if not (to_stdout and check.ok):
            click.echo(f"  chain {check.summary()}", err=not check.ok)
    if form.verification_text == "BROKEN":
        click.echo("Warning: a chain did not verify; the form says so.", err=True)
        sys.exit(1)
