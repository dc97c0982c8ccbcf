"""``record`` under hostile input: one sentence per bad line or argument, exit 2, the stream goes
on, nothing recorded that was not meant, and the record verifies afterwards."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from propertykit import examples
from userkit import PINS, add_users

from inspect_station.cli import main
from inspect_station.intake import MAX_LINE_BYTES, IntakeError, StdinItem, parse_line
from inspect_station.store import LocalStore

RECORD = ["record", "--spec", "BRK-1042", "--lot", "L1", "--inspector", "ann"]


@pytest.fixture
def db_path(db_path: Path) -> Path:
    """A station's record whose administrator added the inspector ann (every part)."""
    with LocalStore(db_path, os.uname().nodename) as store:
        add_users(store, [("ann", "Ann Lee", "inspector", PINS["ann"], ["*"])])
    return db_path


def head(db: Path) -> int:
    """The number of records in ``db`` now."""
    with LocalStore.open_existing(db) as store:
        return store.head()[0]


def run(*args: str | bytes, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run the real command as a cell would, with bytes in and out."""
    return subprocess.run(
        [sys.executable, "-m", "inspect_station", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def verified(db: Path) -> int:
    """The number of records in ``db`` after checking that its chain verifies (``verify`` run
    in this process: the record under test was written by the real command, in its own)."""
    result = CliRunner().invoke(main, ["verify", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return head(db)


def good(serial: str) -> bytes:
    """A line that must be acknowledged."""
    return json.dumps({"serial": serial, "characteristic": "3", "value": "0.01"}).encode()


BAD_LINES = {
    "unit is a number": b'{"serial":"X","characteristic":"3","value":"0.01","unit":5}',
    "unit is a list": b'{"serial":"X","characteristic":"3","value":"0.01","unit":["mm"]}',
    "manual_reason is a number": (
        b'{"serial":"X","characteristic":"3","value":"0.01","manual_reason":5}'
    ),
    "raw is a number": b'{"serial":"X","characteristic":"3","value":"0.01","raw":5}',
    "raw beyond a byte": b'{"serial":"X","characteristic":"3","value":"0.01","raw":"\\u0100"}',
    "lone surrogate in serial": b'{"serial":"X\\ud800","characteristic":"3","value":"0.01"}',
    "lone surrogate in lot": b'{"serial":"X","lot":"L\\udc80","characteristic":"3","value":"1"}',
    "invalid UTF-8 in a string": b'{"serial":"X\xff","characteristic":"3","value":"0.01"}',
    "deep nesting": b"[" * 30_000 + b"]" * 30_000,
    "exponent in text": b'{"serial":"X","characteristic":"3","value":"1e100"}',
    "huge JSON number": b'{"serial":"X","characteristic":"3","value":1e400}',
    "serial is an object": b'{"serial":{"a":1},"characteristic":"3","value":"0.01"}',
    "serial is true": b'{"serial":true,"characteristic":"3","value":"0.01"}',
    "characteristic is a number": b'{"serial":"X","characteristic":3,"value":"0.01"}',
    "key given twice": b'{"serial":"X","characteristic":"3","value":"0.01","value":"9"}',
    "unknown key": b'{"serial":"X","characteristic":"3","value":"0.01","valeu":"1"}',
    "NaN": b'{"serial":"X","characteristic":"3","value":NaN}',
    "not an object": b'["X","3","0.01"]',
    "Arabic digits": '{"serial":"X","characteristic":"3","value":"٠.٠١"}'.encode(),
    "fullwidth digits": '{"serial":"X","characteristic":"3","value":"０.０１"}'.encode(),
    "double sign": b'{"serial":"X","characteristic":"3","value":"++0.01"}',
    "digit separator": b'{"serial":"X","characteristic":"3","value":"0.0_1"}',
    "inner blank": b'{"serial":"X","characteristic":"3","value":"0.0 1"}',
    "61 digits": b'{"serial":"X","characteristic":"3","value":"0.' + b"0" * 58 + b'1"}',
    "escape in serial": b'{"serial":"X\\u001b[2J","characteristic":"3","value":"0.01"}',
    "bidi override in serial": b'{"serial":"X\\u202e","characteristic":"3","value":"0.01"}',
    "C1 control in lot": b'{"serial":"X","lot":"L\\u009b","characteristic":"3","value":"1"}',
    "10 MB line": b'{"serial":"X","characteristic":"3","value":"' + b"9" * 10_000_000 + b'"}',
}


def test_every_bad_line_is_one_short_sentence_and_the_next_good_line_is_acked(db_path: Path):
    lines = [good("S0")]
    for n, line in enumerate(BAD_LINES.values(), start=1):
        lines += [line, good(f"S{n}")]
    result = run(*RECORD, "--stdin", "--db", str(db_path), stdin=b"\n".join(lines) + b"\n")
    assert result.returncode == 2
    acks = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["serial"] for a in acks] == [f"S{n}" for n in range(len(BAD_LINES) + 1)]
    errors = result.stderr.decode("utf-8").splitlines()
    assert len(errors) == len(BAD_LINES), errors
    for (name, _), error, n in zip(BAD_LINES.items(), errors, range(2, 999, 2), strict=False):
        assert error.startswith(f"Error: stdin line {n}: "), (name, error)
        assert error.endswith("."), (name, error)
        assert len(error) < 260, (name, error)
        assert "\x1b" not in error and "\u202e" not in error and "\x9b" not in error
    assert "Traceback" not in result.stderr.decode()
    # Nothing but the good lines was recorded: one measurement and its part per good line.
    with LocalStore.open_existing(db_path) as store:
        serials = {r["serial"] for r in store.query("SELECT serial FROM measurements")}
    assert serials == {a["serial"] for a in acks}
    verified(db_path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["3=1e58"], "exponent is not allowed"),
        (["3=" + "1" * 59], "has 59 digits"),
        (["3=-" + "1" * 58 + ".5"], "has 59 digits"),
        (["3=١٢٠.٠٥"], "write digits as ASCII 0-9"),
        (["3=１２０.０５"], "write digits as ASCII 0-9"),
        (["3=++120.05"], "more than one sign"),
        (["3=1_20.05"], "digit separators"),
        (["3=12 0.05"], "blank inside"),
        (["3=\x1b[2J1"], "U+001B"),
        (["--lot-size", "9007199254740993", "3=0.01"], "not between 1 and 1,000,000,000"),
        (["--lot-size", "١٢٣", "3=0.01"], "write digits as ASCII 0-9"),
        (["--lot", b"L\xff", "3=0.01"], "not UTF-8"),
        (["--manual-reason", b"why\xfe", "3=0.01"], "not UTF-8"),
        (["--serial", "S\u202e1", "3=0.01"], "bidirectional control"),
    ],
)
def test_hostile_arguments_are_one_sentence_exit_2_and_nothing_recorded(
    db_path: Path, args: list, message: str
):
    base = [*RECORD, "--db", str(db_path)]
    if "--serial" not in args:
        base += ["--serial", "S1"]
    before = head(db_path)
    result = run(*base, *args)
    assert result.returncode == 2
    stderr = result.stderr.decode("utf-8")
    assert message in stderr, stderr
    assert "Traceback" not in stderr and "\x1b" not in stderr
    assert len([ln for ln in stderr.splitlines() if ln.startswith("Error")]) == 1
    assert verified(db_path) == before  # nothing recorded


def test_acks_that_cannot_be_written_stop_the_stream_with_a_sentence(db_path: Path):
    before = head(db_path)
    with open("/dev/full", "wb") as full:
        proc = subprocess.Popen(
            [sys.executable, "-m", "inspect_station", *RECORD, "--stdin", "--db", str(db_path)],
            stdin=subprocess.PIPE,
            stdout=full,
            stderr=subprocess.PIPE,
        )
        # One line; the process stops at its acknowledgement, with the pipe still open.
        proc.stdin.write(good("S0") + b"\n")
        proc.stdin.flush()
        assert proc.wait(timeout=60) == 2
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.write(b"\n".join(good(f"S{n}") for n in (1, 2)) + b"\n")
            proc.stdin.close()
        stderr = proc.stderr.read().decode()
        proc.stderr.close()
    assert stderr.strip().splitlines() == [
        "Error: Standard output cannot take the output: No space left on device."
    ]
    # spec, lot, part and the one measurement it could not acknowledge; no further line read
    assert verified(db_path) == before + 4


def test_lines_waiting_together_are_recorded_in_one_group(db_path: Path):
    """Group commit: lines sent at once are recorded and acknowledged together; whatever
    stopped the acknowledgements stops the stream after that group, never in the middle."""
    before = head(db_path)
    lines = b"\n".join(good(f"S{n}") for n in range(3)) + b"\n"
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "inspect_station", *RECORD, "--stdin", "--db", str(db_path)],
            input=lines,
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    assert result.returncode == 2
    # The lines the process had read when the first acknowledgement failed were committed
    # together (a prefix of the stream: one, two or all three parts), nothing half-written.
    assert verified(db_path) - before in (4, 6, 8)


def test_a_line_just_under_the_limit_is_read_and_one_over_is_refused():
    pad = " " * (MAX_LINE_BYTES - len(good("S")))
    assert parse_line(good("S") + pad.encode()).serial == "S"
    with pytest.raises(IntakeError, match="longer than"):
        parse_line(good("S") + pad.encode() + b" ")


def test_a_raw_frame_is_bytes_one_per_character():
    item = parse_line(
        b'{"characteristic":"1","value":"1.5","gauge":"CAL-1","raw":"01A+0001.500\\r\\u00ff"}'
    )
    assert item == StdinItem("1", "1.5", gauge="CAL-1", raw=b"01A+0001.500\r\xff")


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=5), kids, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=examples(1500), deadline=None)
@given(
    st.one_of(
        st.binary(max_size=80),
        st.dictionaries(st.sampled_from(["serial", "characteristic", "value", "unit", "raw",
                                         "reason", "gauge", "lot", "manual_reason", "x"]),
                        JSONISH, max_size=6).map(lambda d: json.dumps(d).encode()),
    )
)  # fmt: skip
def test_any_line_is_an_item_of_the_right_types_or_one_sentence(data: bytes):
    try:
        item = parse_line(data)
    except IntakeError as exc:
        assert "\n" not in exc.message and len(exc.message) < 300
        return
    assert isinstance(item.characteristic, str) and isinstance(item.value, str)
    for name in ("serial", "lot", "unit", "reason", "gauge", "manual_reason"):
        assert getattr(item, name) is None or isinstance(getattr(item, name), str)
    assert item.raw is None or isinstance(item.raw, bytes)
