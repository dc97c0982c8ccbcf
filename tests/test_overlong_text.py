"""Text typed on the command line that is too long is one sentence and exit 2, never a traceback.

The type check (mypy, issue 12) found that the length check raised its error with the wrong
arguments, so every over-long id or reason ended in a TypeError traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from inspect_station.cli import main
from inspect_station.text import TextError, check_id, check_line

RECORD = ["record", "--spec", "BRK-1042", "--inspector", "ann"]


@pytest.mark.parametrize(
    ("option", "what", "limit"),
    [
        ("--lot", "lot", 64),
        ("--inspector", "inspector", 64),
        ("--serial", "serial", 64),
        ("--work-order", "work order", 64),
        ("--manual-reason", "manual entry reason", 500),
        ("--reason", "reason of the correction", 500),
    ],
)
def test_an_overlong_option_of_record_is_one_sentence_and_exit_2(
    tmp_path: Path, option: str, what: str, limit: int
):
    db = tmp_path / "station.db"
    args = [*RECORD, "--lot", "L1", "--db", str(db), option, "X" * (limit + 1), "1=25.00"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"Error: The {what} '{'X' * 19}…' is longer than {limit} characters.\n"
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not db.exists()


def test_text_at_the_limit_passes_and_one_more_character_is_refused():
    assert check_id("A" * 64, "lot") == "A" * 64
    with pytest.raises(TextError, match=r"^The lot 'A+…' is longer than 64 characters\.$"):
        check_id("A" * 65, "lot")
    with pytest.raises(TextError) as caught:
        check_line("n" * 501, "defect note")
    assert caught.value.reason == f"'{'n' * 19}…' is longer than 500 characters"
