"""Exports, manifests and reject lists under hostile conditions: a full or closed output, a
--force aimed at something that is not a regular file, and records that hold hostile text
(written by an older version, or by another station into the central store)."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hostilekit import unchecked_text
from lots import GOOD, RecordedLot, record_part

from inspect_station.cli import main
from inspect_station.text import unsafe

HOSTILE_LOT = "L\x1b[2J\u202e7"
HOSTILE_SERIAL = "P\x9b31m1"
HOSTILE_NOTE = "burr\x1b]0;owned\x07 \u2067here"


@pytest.fixture
def config(lot7: RecordedLot, tmp_path: Path) -> Path:
    """A station.toml for station TEST-1 whose record is the lot7 store."""
    path = tmp_path / "station.toml"
    path.write_text(f'station = "TEST-1"\ndb = "{lot7.store.path}"\n')
    return path


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """The real command in a subprocess (so stdout can be a real /dev/full)."""
    return subprocess.run(
        [sys.executable, "-m", "inspect_station", "--config", str(config), *args],
        capture_output=True,
        timeout=120,
    )


def verifies(config: Path) -> None:
    """The station's record still verifies."""
    result = cli(config, "verify")
    assert result.returncode == 0, result.stdout + result.stderr


def test_export_to_a_full_standard_output_is_one_sentence(config: Path):
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "inspect_station", "--config", str(config),
             "export", "lot", "L-7", "--format", "csv", "--out", "-"],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=120,
        )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        "Error: Standard output cannot take the export: No space left on device."
    ]
    verifies(config)


def test_export_to_a_closed_pipe_is_one_sentence(config: Path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspect_station", "--config", str(config),
         "export", "lot", "L-7", "--format", "json", "--out", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    proc.stdout.close()  # the reader went away before the first byte
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert err.decode().splitlines() == [
        "Error: Standard output cannot take the export: Broken pipe."
    ]


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()


def _link(path: Path) -> None:
    (path.parent / "elsewhere.csv").write_text("someone else's file")
    path.symlink_to(path.parent / "elsewhere.csv")


@pytest.mark.parametrize(
    ("make", "kind"),
    [(_fifo, "a named pipe"), (_socket, "a socket"), (_link, "a symbolic link")],
)
@pytest.mark.parametrize("which", ["lot.csv", "lot.csv.sha256"])
def test_force_replaces_only_a_regular_file(config: Path, tmp_path: Path, make, kind, which):
    out = tmp_path / "out" / "lot.csv"
    out.parent.mkdir()
    out.write_text("old export")
    target = out.parent / which
    if target != out:
        out.with_name("lot.csv.sha256").unlink(missing_ok=True)
    else:
        out.unlink()
    make(target)
    before = os.lstat(target)
    args = ["--config", str(config), "export", "lot", "L-7", "--out", str(out), "--force"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        f"Error: {target} is {kind}; an export replaces only a regular file."
    )
    after = os.lstat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode)
    assert after.st_ino == before.st_ino
    if kind == "a symbolic link":
        assert (tmp_path / "out" / "elsewhere.csv").read_text() == "someone else's file"
    if target != out:
        assert out.read_text() == "old export"  # nothing written when the manifest cannot be


def test_force_never_replaces_a_folder(config: Path, tmp_path: Path):
    (tmp_path / "lot.csv").mkdir()
    args = ["--config", str(config), "export", "lot", "L-7", "--out", str(tmp_path / "lot.csv")]
    result = CliRunner().invoke(main, [*args, "--force"])
    assert result.exit_code == 2
    assert "is a directory" in result.output
    assert (tmp_path / "lot.csv").is_dir()


def test_force_never_replaces_a_device_node(config: Path):
    result = CliRunner().invoke(
        main, ["--config", str(config), "export", "lot", "L-7", "--out", "/dev/null", "--force"]
    )
    assert result.exit_code == 2
    assert result.output.strip() == (
        "Error: /dev/null is a character device; an export replaces only a regular file."
    )
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)
    assert not Path("/dev/null.sha256").exists()


def test_force_replaces_a_regular_file_and_its_manifest(config: Path, tmp_path: Path):
    target = tmp_path / "lot.csv"
    target.write_text("old")
    (tmp_path / "lot.csv.sha256").write_text("old")
    args = ["--config", str(config), "export", "lot", "L-7", "--out", str(target), "--force"]
    assert CliRunner().invoke(main, args).exit_code == 0
    check = subprocess.run(
        ["sha256sum", "-c", "lot.csv.sha256"], cwd=tmp_path, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.fixture
def hostile(lot7: RecordedLot) -> RecordedLot:
    """A reject whose lot, serial and note hold terminal escapes and bidi controls, as a record
    written before texts were checked (or arriving from another station) could."""
    with unchecked_text():
        record_part(
            lot7.recorder,
            lot7.spec,
            HOSTILE_LOT,
            HOSTILE_SERIAL,
            {**GOOD, "1": "40.08"},
            defect="D01",
            note=HOSTILE_NOTE,
        )
    return lot7


def clean(data: bytes) -> None:
    """No character of ``data`` could drive a terminal."""
    text = data.decode("utf-8")
    assert not [c for c in text if unsafe(c) and c not in "\n\r"], text


def test_hostile_record_text_never_reaches_the_terminal(hostile: RecordedLot, config: Path):
    listing = cli(config, "rejects", "list", "--all")
    assert listing.returncode == 0, listing.stderr
    clean(listing.stdout)
    assert b"L\\x1b[2J\\u202e7" in listing.stdout  # shown, escaped, not hidden
    clean(cli(config, "rejects", "list", "--all", "--json").stdout)
    reject = hostile.reject_of(HOSTILE_SERIAL)
    for args in (["rejects", "show", reject], ["rejects", "show", reject, "--json"]):
        shown = cli(config, *args)
        assert shown.returncode == 0, shown.stderr
        clean(shown.stdout)
    streamed = cli(config, "export", "lot", HOSTILE_LOT, "--out", "-")
    assert streamed.returncode == 0, streamed.stderr
    clean(streamed.stderr)  # the manifest
    assert b"# lot: L\\x1b[2J\\u202e7;" in streamed.stderr
    verifies(config)


def test_a_manifest_of_hostile_records_is_clean_and_still_checks(
    hostile: RecordedLot, config: Path, tmp_path: Path
):
    out = tmp_path / "hostile.csv"
    written = cli(config, "export", "lot", HOSTILE_LOT, "--out", str(out))
    assert written.returncode == 0, written.stderr
    clean(written.stdout)
    clean((tmp_path / "hostile.csv.sha256").read_bytes())
    check = subprocess.run(
        ["sha256sum", "-c", "hostile.csv.sha256"], cwd=tmp_path, capture_output=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_an_output_name_with_controls_is_refused(config: Path, tmp_path: Path):
    result = CliRunner().invoke(
        main, ["--config", str(config), "export", "lot", "L-7", "--out", str(tmp_path / "a\x1bb")]
    )
    assert result.exit_code == 2
    assert "contains a control character (U+001B)" in result.output
    assert "\x1b" not in result.output
    assert list(tmp_path.glob("a*")) == []
