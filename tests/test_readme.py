"""The README's promises: CI runs its test command; its auditor script verifies a real record."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def code_blocks(language: str) -> list[str]:
    """The README's fenced code blocks in ``language``."""
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_ci_runs_the_readme_test_command():
    test_command = code_blocks("sh")[1].strip()
    assert "pytest" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_readme_starts_with_the_two_commands():
    first_two = code_blocks("sh")[:2]
    assert "inspect-station demo" in first_two[0]
    assert "pytest" in first_two[1]
    assert README.index("inspect-station demo") < README.index("## A short tour")


@pytest.fixture
def auditor_script(tmp_path: Path) -> Path:
    """The README's standard-library verification script, as a file."""
    script = next(b for b in code_blocks("python") if "hashlib" in b)
    path = tmp_path / "verify_chain.py"
    path.write_text(script)
    return path


def test_auditor_script_verifies_and_catches_tampering(auditor_script, recorded):
    store = recorded
    run = [sys.executable, str(auditor_script), str(store.path)]
    ok = subprocess.run(run, capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("OK: 8 records"), ok.stderr
    store.conn.execute("DROP TRIGGER journal_no_update")
    store.conn.execute("UPDATE journal SET ts = '2026-01-01T00:00:00.000000Z' WHERE seq = 5")
    broken = subprocess.run(run, capture_output=True, text=True)
    assert broken.returncode == 1 and "chain broken at seq 5" in broken.stderr


def test_readme_configuration_examples_load(tmp_path: Path):
    from inspect_station.config import load_config

    examples = [b for b in code_blocks("toml") if "station" in b or "[[gauge]]" in b]
    examples = [b for b in examples if not b.startswith("format = 1")]  # that one is a spec
    assert len(examples) >= 2
    for number, text in enumerate(examples):
        path = tmp_path / f"station{number}.toml"
        path.write_text(text)
        load_config(path)  # raises ConfigError with file:line if the README drifted


def test_readme_spec_example_is_valid(tmp_path: Path):
    from inspect_station.spec import load_spec

    text = next(b for b in code_blocks("toml") if b.startswith("format = 1"))
    path = tmp_path / "BRK-1042-C.toml"
    path.write_text(text)
    assert load_spec(path).part_number == "BRK-1042"
