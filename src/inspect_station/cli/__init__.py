"""The ``inspect-station`` command: thin click commands over the core.

Each capability owns one module in this package and adds its commands to ``main``.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from inspect_station import __version__
from inspect_station.errors import InspectStationError
from inspect_station.text import printable

if TYPE_CHECKING:
    from inspect_station.config import StationConfig
    from inspect_station.store import LocalStore


class OutputError(InspectStationError):
    """Standard output is closed or full, so what the command prints cannot be delivered."""


def silence_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def output_failed(exc: OSError, what: str = "the output") -> OutputError:
    """The one-sentence error for a failed write to standard output (stdout is silenced)."""
    silence_stdout()
    reason = exc.strerror or os.strerror(exc.errno or errno.EIO)
    return OutputError(f"Standard output cannot take {what}: {reason}.")


def emit(line: str) -> None:
    """Print one line to standard output and flush it now; OutputError if it cannot be."""
    try:
        click.echo(line)
        sys.stdout.flush()
    except OSError as exc:
        raise output_failed(exc) from None


_WHOLE_WRITE = 4096
"""Bytes a pipe takes in one indivisible write (POSIX PIPE_BUF is at least 512; Linux 4096)."""


def emit_lines(lines: list[str]) -> None:
    """Print lines to standard output in as few writes as keep every line whole: consecutive
    lines up to 4,096 bytes a write, each write flushed at once; OutputError if they cannot be.

    A write of that size to a pipe is all or nothing, so a reader sees only whole lines even if
    this process is killed between two writes (a lone longer line is one write of its own).
    """
    chunk: list[str] = []
    size = 0
    for line in lines:
        cost = (len(line) if line.isascii() else 4 * len(line)) + 1  # UTF-8: at most 4 a char
        if chunk and size + cost > _WHOLE_WRITE:
            emit("\n".join(chunk))
            chunk, size = [], 0
        chunk.append(line)
        size += cost
    if chunk:
        emit("\n".join(chunk))


class StationGroup(click.Group):
    """A click group that turns station errors into one sentence on stderr and exit code 2.

    Its commands are loaded when they are asked for (``COMMANDS`` names the modules that add
    them), so a command imports what it needs and ``--help`` imports none of them.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, loaded or not, sorted."""
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, its modules imported first (None for an unknown name)."""
        load_command_modules(cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help`` from each command's one-line help, importing none."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            if loaded is not None:
                if loaded.hidden:
                    continue
                rows.append((name, loaded.get_short_help_str(limit)))
            else:
                stand_in = click.Command(name, help=COMMANDS[name][1])
                rows.append((name, stand_in.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; report InspectStationError as one line, never a traceback."""
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()
            return result
        except InspectStationError as exc:
            # A message may quote what came in or out of a record: never a terminal control.
            click.echo(f"Error: {printable(exc.message)}", err=True)
            sys.exit(exc.exit_code)
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ENOSPC, errno.EIO, errno.EBADF):
                raise
            # Writing to a closed pipe or a full device (> /dev/full): one sentence, exit 2.
            error = output_failed(exc)
            click.echo(f"Error: {error.message}", err=True)
            sys.exit(error.exit_code)


class Context:
    """Shared state of one CLI invocation: where the configuration comes from."""

    def __init__(self, config_path: Path | None, demo: bool = False) -> None:
        self.config_path = config_path
        self.demo = demo
        """Whether the command acts on the demo station (``--demo``)."""
        self._config: StationConfig | None = None

    @property
    def config(self) -> StationConfig:
        """The station configuration, loaded on first use (the demo station's with --demo)."""
        if self._config is None:
            if self.demo:
                from inspect_station.demo import demo_config

                self._config = demo_config()
            else:
                from inspect_station.config import load_config

                self._config = load_config(self.config_path)
        return self._config


pass_context = click.make_pass_decorator(Context)


def open_store(ctx: Context, db: Path | None) -> LocalStore:
    """The local record named by --db or the configuration."""
    from inspect_station.store import LocalStore

    return LocalStore(db or ctx.config.db_path, ctx.config.station)


def spec_skipped(problem: str) -> None:
    """Report a spec file that was skipped (``file:line: reason``) on stderr."""
    click.echo(f"warning: {problem} (file skipped)", err=True)


@click.group(cls=StationGroup, invoke_without_command=True)
@click.version_option(__version__, prog_name="inspect-station")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="INSPECT_STATION_CONFIG",
    help="Station configuration file (default: station.toml in the user's config directory).",
)
@click.option(
    "--demo",
    "use_demo",
    is_flag=True,
    help="Act on the demo station: its configuration and the record `inspect-station demo` "
    "keeps (e.g. inspect-station --demo verify).",
)
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, use_demo: bool) -> None:
    """Shop-floor inspection station: gauges, part specs, PASS/FAIL and a tamper-evident record.

    Without a command, starts the station UI from its configuration.
    """
    given = ctx.get_parameter_source("config_path") is click.core.ParameterSource.COMMANDLINE
    if use_demo and given:
        raise click.UsageError("Give --config or --demo, not both.")
    ctx.obj = Context(None if use_demo else config_path, demo=use_demo)
    if ctx.invoked_subcommand is None:
        from inspect_station.cli.station import run_demo, run_station

        if use_demo:
            run_demo(None)
        else:
            run_station(ctx.obj)


COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "audit": (
        ("audit",),
        "Answer an auditor's questions (ISO 9001 7.1.5.2, 8.7, 7.2; records; SPC) from the record.",
    ),
    "central": (("sync",), "Central store: create or upgrade its schema, register stations."),
    "demo": (
        ("station",),
        "Run the station on embedded defaults: demo specs, simulated gauges, demo users.",
    ),
    "disposition": (
        ("review",),
        "Sign dispositions of rejects (supervisors; the PIN is asked again).",
    ),
    "export": (("export", "fai"), "Export the complete, verifiable record of a lot."),
    "gauges": (("gauges",), "Gauge profiles, serial ports, live readings and simulated gauges."),
    "record": (
        ("core",),
        "Record measurements headlessly: CHAR=VALUE[UNIT] ... or JSON lines with --stdin.",
    ),
    "rejects": (("review",), "Rejects awaiting disposition."),
    "review": (
        ("station",),
        "Supervisors: review rejects and sign dispositions (this station's record, --central or "
        "a --db copy).",
    ),
    "spc": (
        ("spc_report", "spc"),
        "Statistical process control: capability reports (and, at the station, limits, alarms).",
    ),
    "specs": (("core",), "Part specs: validate and list."),
    "sync": (
        ("sync",),
        "Ship the local record's unsynced records to the central store, in batches.",
    ),
    "trace": (("export",), "Trace results back to what produced them."),
    "users": (
        ("station",),
        "Users of the station: administrators, inspectors, supervisors, automation cells.",
    ),
    "verify": (
        ("core",),
        "Recompute the hash chain and projections and check them against their anchors.",
    ),
}
"""Every command of ``main``: the modules of this package that add it (imported, in this order,
when the command runs) and its one-line help for ``--help`` (a test checks it is the command's
own). Starting a command imports only what that command needs: ``--help`` imports none of them.
"""


def load_command_modules(*names: str) -> None:
    """Import the command modules that add the commands ``names`` (every command without names)."""
    import importlib

    wanted = names or tuple(COMMANDS)
    for name in wanted:
        modules = COMMANDS[name][0] if name in COMMANDS else ()
        for module in modules:
            try:
                importlib.import_module(f"inspect_station.cli.{module}")
            except ModuleNotFoundError as exc:
                if exc.name != f"inspect_station.cli.{module}":
                    raise
