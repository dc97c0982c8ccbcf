"""Lines of a stream in batches of what is already waiting: the reading side of group commit.

``record --stdin`` commits the lines that have arrived together in one transaction. A batch is
the next line (waited for if none is there) and every further complete line already readable
without blocking -- in this reader's buffer or in the pipe -- up to a limit. A lone line is a
batch of one at once: nothing waits for company. A partial line never holds a batch back; it
stays buffered until its newline arrives. A line longer than ``max_line`` bytes is given as
None and read past without ever holding more than ``max_line`` bytes of it.
"""

from __future__ import annotations

import io
import os
import select
from typing import BinaryIO

_CHUNK = 64 * 1024


class LineBatches:
    """Batches of (line number, bytes or None for an overlong line) from a binary stream."""

    def __init__(self, stream: BinaryIO, max_line: int, limit: int = 500) -> None:
        self._stream = stream
        self._fd: int | None
        try:
            # Read the descriptor itself (the stream's own buffer must not have been used).
            self._fd = stream.fileno()
        except (io.UnsupportedOperation, AttributeError, OSError, ValueError):
            self._fd = None  # an in-memory stream (tests): every byte is already there
        self._buffer = bytearray()
        self._max_line = max_line
        self._limit = limit
        self._eof = False
        self._skipping = False
        self._number = 0

    def __iter__(self) -> LineBatches:
        return self

    def __next__(self) -> list[tuple[int, bytes | None]]:
        """The next batch; StopIteration at the end of the stream."""
        lines = self._take(self._limit)
        while not lines and not self._eof:
            self._fill(block=True)
            lines = self._take(self._limit)
        while len(lines) < self._limit and self._fill(block=False):
            lines += self._take(self._limit - len(lines))
        if not lines and self._eof and (self._buffer or self._skipping):
            # The last line, without its newline.
            self._number += 1
            last = bytes(self._buffer)
            self._buffer.clear()
            lines.append((self._number, None if self._skipping else last))
            self._skipping = False
        if not lines:
            raise StopIteration
        return lines

    def _take(self, most: int) -> list[tuple[int, bytes | None]]:
        """Complete lines from the buffer (at most ``most``)."""
        out: list[tuple[int, bytes | None]] = []
        start = 0
        while len(out) < most:
            end = self._buffer.find(b"\n", start)
            if end < 0:
                break
            line = bytes(self._buffer[start : end + 1])
            start = end + 1
            self._number += 1
            if self._skipping:
                self._skipping = False
                out.append((self._number, None))
            elif len(line) > self._max_line:
                out.append((self._number, None))
            else:
                out.append((self._number, line))
        del self._buffer[:start]
        if len(self._buffer) > self._max_line and b"\n" not in self._buffer:
            # An overlong line without its end yet: keep nothing of it, skip to its newline.
            self._skipping = True
            self._buffer.clear()
        return out

    def _fill(self, *, block: bool) -> bool:
        """Read what is there (waiting for it only if ``block``); whether anything came."""
        if self._eof:
            return False
        if self._fd is None:
            read1 = getattr(self._stream, "read1", self._stream.read)
            data = read1(_CHUNK)
        else:
            if not block and not select.select([self._fd], [], [], 0)[0]:
                return False
            data = os.read(self._fd, _CHUNK)
        if not data:
            self._eof = True
            return False
        if self._skipping:  # inside an overlong line: drop it up to its newline
            end = data.find(b"\n")
            if end < 0:
                return True
            data = b"\n" + data[end + 1 :]  # the bare newline stands for the skipped line
        self._buffer += data
        return True
