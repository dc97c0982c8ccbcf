"""Long fuzzing of everything that enters the station (slow: at least 100,000 examples).

Each example throws hostile input at every door at once: a text at the number grammar, a
reading and limits at the judge (compared with an exact rational oracle), a byte string at
every shipped gauge profile's codec, and a line at ``record --stdin``'s reader. Run alone with
``pytest -m slow tests/test_fuzz_slow.py``; ``INSPECT_STATION_FUZZ_EXAMPLES`` changes the count.
"""

from __future__ import annotations

import os
import re
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent / "gauges"))
from gaugekit import SHIPPED_NAMES, shipped
from test_evaluate_exact import judge_and_compare

from inspect_station.gauges import DeviceError, FrameError, Notice, Reading, decode
from inspect_station.intake import IntakeError, parse_line
from inspect_station.numbers import MAX_DIGITS, NumberError, parse_number

EXAMPLES = int(os.environ.get("INSPECT_STATION_FUZZ_EXAMPLES", "100000"))
REFERENCE = re.compile(r" *[+-]?([0-9]+(\.[0-9]+)?|\.[0-9]+) *")
PROFILES = [shipped(name) for name in SHIPPED_NAMES]
GRAMMAR_ALPHABET = "0123456789+-.eE _,\u0661\uff11\x00\u202e"
JSON_VALUES = ['"1.5"', "1.5", "1e400", "null", "true", "[]", "{}", '"\\ud800"', '"٠.١"', '"+.5"']
UNITS = ["mm", "in", "um"]


class Source:
    """Test data decoded from the fuzzer's bytes (one hypothesis draw per example keeps a
    hundred thousand examples affordable; shrinking the bytes still simplifies the case)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def byte(self) -> int:
        """The next byte (0 once the input is used up)."""
        value = self.data[self.at] if self.at < len(self.data) else 0
        self.at += 1
        return value

    def pick(self, items):
        """One of ``items``."""
        return items[self.byte() % len(items)]

    def number(self, signed: bool = True, most: int = MAX_DIGITS) -> str:
        """A text of the grammar with up to ``most`` digits."""
        sign = self.pick(["", "+", "-"] if signed else ["", "+"])
        whole = "".join(str(self.byte() % 10) for _ in range(self.byte() % 17))
        frac = "".join(str(self.byte() % 10) for _ in range(self.byte() % 17))
        whole, frac = whole[:most], frac[: max(0, most - len(whole))]
        return sign + (whole or "0") + (f".{frac}" if frac else "")

    def text(self, alphabet: str, most: int = 24) -> str:
        """A text over ``alphabet``."""
        return "".join(self.pick(alphabet) for _ in range(self.byte() % most))

    def chunk(self, most: int) -> bytes:
        """Up to ``most`` raw bytes."""
        size = self.byte() % (most + 1)
        out = self.data[self.at : self.at + size]
        self.at += size
        return out

    def case(self):
        """A characteristic (limits one of four ways, maybe a guard band) and a reading."""
        s_unit = self.pick(UNITS)
        r_unit = s_unit if self.byte() % 2 else self.pick(UNITS)
        a, b = self.number(), self.number()
        lo, hi = sorted((a, b), key=Fraction)
        way = self.byte() % 4
        if way == 0:
            nominal, low, high = (self.number(signed=False) for _ in range(3))
            char = {"nominal": nominal, "tolerance": [f"-{low.lstrip('+')}", high]}
            lower = str(Fraction(nominal) - Fraction(low))
            upper = str(Fraction(nominal) + Fraction(high))
        elif way == 1:
            char, lower, upper = {"lower": lo, "upper": hi}, lo, hi
        elif way == 2:
            char, lower, upper = {"min": a}, a, None
        else:
            char, lower, upper = {"max": a}, None, a
        guard = None
        if self.byte() % 2:
            guard = self.number(signed=False, most=4)
            span = None if None in (lower, upper) else Fraction(upper) - Fraction(lower)
            if span is not None and 2 * Fraction(guard) >= span:
                guard = None
            else:
                char["decision"] = {"rule": "custom", "guard": guard}
        reading = self.number()
        limit = lower if lower is not None else upper
        if self.byte() % 3 == 0 and limit is not None and "/" not in limit:
            reading = limit
        return char, s_unit, reading, r_unit, (lower, upper, guard)


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)
@given(st.binary(max_size=160))
def test_every_door_under_fuzz(data: bytes):
    source = Source(data)
    # The grammar: exactly the reference language, read exactly, or one sentence.
    text = source.text(GRAMMAR_ALPHABET)
    try:
        value = parse_number(text)
    except NumberError as exc:
        assert "\n" not in exc.message
        assert not REFERENCE.fullmatch(text) or sum(c.isdigit() for c in text) > MAX_DIGITS
    else:
        assert REFERENCE.fullmatch(text) and Fraction(value) == Fraction(text.strip())
    # The judge: the verdict of an exact rational comparison.
    judge_and_compare(*source.case())
    # A gauge's codec: never raises, and a number only ever in the grammar.
    gauge = source.pick(PROFILES)
    decoded = decode(source.chunk(40) + gauge.terminator, gauge.codec)
    assert isinstance(decoded, Reading | DeviceError | FrameError | Notice)
    if isinstance(decoded, Reading):
        assert REFERENCE.fullmatch(decoded.value)
    # record --stdin: an item of the right types, or one short sentence.
    if source.byte() % 2:
        line = source.chunk(60)
    else:
        serial = source.text('ab\\"u0{}[]', 8)
        line = f'{{"serial":"{serial}","characteristic":"1","value":{source.pick(JSON_VALUES)}}}'
        line = line.encode("utf-8", "surrogatepass")
    try:
        item = parse_line(line)
    except IntakeError as exc:
        assert "\n" not in exc.message and len(exc.message) < 300
    else:
        assert isinstance(item.value, str) and isinstance(item.characteristic, str)
