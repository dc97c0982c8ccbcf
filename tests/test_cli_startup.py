"""Starting the CLI: a command imports what it needs, ``--help`` imports none of the commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from inspect_station.cli import COMMANDS, load_command_modules, main

HEAVY = ("textual", "psycopg", "pydantic", "sqlite_utils", "numpy", "openpyxl")

PROBE = """
import json, sys
from inspect_station.cli import main
try:
    main(sys.argv[1:], prog_name="inspect-station")
except SystemExit:
    pass
roots = sorted({name.split(".")[0] for name in sys.modules})
mine = sorted(name for name in sys.modules if name.startswith("inspect_station"))
print(json.dumps({"roots": roots, "mine": mine}), file=sys.stderr)
"""


def loaded_by(*args: str) -> tuple[str, dict[str, list[str]]]:
    """Run the CLI with ``args`` in a fresh interpreter: its output and the modules it imported."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    return done.stdout, json.loads(done.stderr.strip().splitlines()[-1])


def test_help_imports_no_command_textual_psycopg_or_pydantic():
    output, modules = loaded_by("--help")
    assert "Commands:" in output and "verify" in output
    assert not set(HEAVY) & set(modules["roots"]), modules["roots"]
    assert not [m for m in modules["mine"] if m.startswith("inspect_station.cli.")]


def test_a_command_imports_its_own_module_only():
    output, modules = loaded_by("specs", "--help")
    assert "Part specs" in output
    commands = {m for m in modules["mine"] if m.startswith("inspect_station.cli.")}
    assert "inspect_station.cli.core" in commands
    assert not {"inspect_station.cli.audit", "inspect_station.cli.review"} & commands
    assert "textual" not in modules["roots"] and "psycopg" not in modules["roots"]


def test_help_lists_what_the_loaded_commands_say_of_themselves():
    lazy = CliRunner().invoke(main, ["--help"])
    load_command_modules()
    assert set(main.commands) == set(COMMANDS)
    for name, (_, short) in COMMANDS.items():
        command = main.commands[name]
        for limit in (40, 45, 80, 1000):
            expected = command.get_short_help_str(limit)
            assert click.Command(name, help=short).get_short_help_str(limit) == expected, name
    loaded = CliRunner().invoke(main, ["--help"])
    assert lazy.exit_code == loaded.exit_code == 0
    assert lazy.output == loaded.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_found_and_runs_its_help(name):
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: main {name}" in result.output


def test_an_unknown_command_is_one_usage_error():
    result = CliRunner().invoke(main, ["verfy"])
    assert result.exit_code == 2
    assert "No such command 'verfy'" in result.output


def test_every_module_that_adds_a_command_is_named_in_commands():
    package = Path(main.callback.__code__.co_filename).parent
    adding = {p.stem for p in package.glob("*.py") if "@main." in p.read_text(encoding="utf-8")}
    named = {module for modules, _ in COMMANDS.values() for module in modules}
    assert adding <= named, f"add {sorted(adding - named)} to cli.COMMANDS"
