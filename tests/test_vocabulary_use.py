"""The record's words (verdicts, part results, dispositions) are compared as enum members.

``vocabulary.py`` holds Verdict, PartResult and Disposition as StrEnums: their members equal the
stored strings, so journal bodies and projections are unchanged, while a typo in code becomes an
AttributeError instead of a comparison that is silently never true.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import inspect_station
from inspect_station.recording import ManualSource, Recorder
from inspect_station.store import LocalStore
from inspect_station.vocabulary import Disposition, PartResult, Verdict

ROOT = Path(inspect_station.__file__).parent
WORDS = "|".join(re.escape(w) for w in [*Verdict, *PartResult, *Disposition])
# A bare word on either side of == / != or inside an `in (...)` / `in {...}` test.
BARE = re.compile(
    rf"""[=!]=\s*["']({WORDS})["']|["']({WORDS})["']\s*[=!]=|\bin\s*[(\[{{]\s*["']({WORDS})["']"""
)


def test_no_module_compares_a_record_word_as_a_bare_string():
    offenders = sorted(
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in ROOT.rglob("*.py")
        if path.name != "vocabulary.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if BARE.search(line)
    )
    assert offenders == []


def test_the_scan_sees_a_bare_comparison():
    assert BARE.search('if row["result"] == "reject":')
    assert BARE.search("ok = 'pass' != verdict")
    assert BARE.search('if d in ("scrap", "rework"):')
    assert not BARE.search("if row['result'] == PartResult.REJECT:")


def test_the_journal_still_writes_the_plain_words(db_path: Path, bracket):
    """A rejected part's records hold the same JSON text as before the enums."""
    with LocalStore(db_path, "WORDS-1") as store:
        recorder = Recorder(store)
        for char, value in [("1", "120.01"), ("2", "12.005"), ("3", "0.02"), ("4", "fail")]:
            recorder.measure(
                spec=bracket,
                lot="L1",
                serial="S1",
                inspector="ann",
                characteristic=char,
                value=value,
                source=ManualSource("test"),
                auto_close=True,
            )
        bodies = dict(store.conn.execute("SELECT kind, body FROM journal"))
    closed = bodies["inspection_closed"]
    assert '"result":"reject"' in closed
    assert json.loads(closed)["failed"] == ["4"]
    last = json.loads(bodies["measurement"])
    assert (last["verdict"], last["value"]) == ("fail", "fail")
