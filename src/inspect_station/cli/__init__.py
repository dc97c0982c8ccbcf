"""The ``inspect-station`` command: thin click commands over the core.

Each capability owns one module in this package and adds its commands to ``main``.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import Any

import click

from inspect_station import __version__
from inspect_station.config import StationConfig, load_config
from inspect_station.errors import InspectStationError
from inspect_station.text import printable


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


class StationGroup(click.Group):
    """A click group that turns station errors into one sentence on stderr and exit code 2."""

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
                self._config = load_config(self.config_path)
        return self._config


pass_context = click.make_pass_decorator(Context)


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


def _register() -> None:
    """Import the command modules so they attach their commands to ``main``."""
    import importlib

    for name in (
        "core",
        "gauges",
        "station",
        "sync",
        "export",
        "review",
        "fai",
        "spc_report",
        "spc",
        "audit",
    ):
        try:
            importlib.import_module(f"inspect_station.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"inspect_station.cli.{name}":
                raise


_register()
