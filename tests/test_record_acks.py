"""A group's acknowledgements leave in few writes, each of whole lines that a pipe takes whole.

``record --stdin`` acknowledges a committed group together (one flush per write, not per
line); a process killed between two writes must never leave half a line for the cell.
"""

from __future__ import annotations

import io

import pytest

from inspect_station.cli import emit_lines


class Writes(io.StringIO):
    """A text stdout that keeps what reached it at each flush."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[str] = []
        self._at = 0

    def flush(self) -> None:
        text = self.getvalue()
        if len(text) > self._at:
            self.flushed.append(text[self._at :])
            self._at = len(text)


@pytest.mark.parametrize(
    "lines",
    [
        [f'{{"id": "{n:036d}", "seq": {n}, "verdict": "pass"}}' for n in range(500)],
        ['{"serial": "' + "é" * 60 + f'", "seq": {n}}}' for n in range(300)],
        ["x" * 5000, "short", "y" * 4095, "z"],
        ["one"],
        [],
    ],
    ids=["ascii", "non-ascii", "overlong", "one", "none"],
)
def test_every_write_is_whole_lines_a_pipe_takes_at_once(monkeypatch, lines):
    out = Writes()
    monkeypatch.setattr("sys.stdout", out)
    emit_lines(lines)
    assert "".join(out.flushed) == "".join(f"{line}\n" for line in lines)
    for write in out.flushed:
        assert write.endswith("\n")
        data = write.encode("utf-8")
        assert len(data) <= 4096 or write.count("\n") == 1  # a longer line goes alone
    if len(lines) == 500:
        assert len(out.flushed) < 50  # not one write per line
