"""The next part serial the station offers: counted on from the last, keeping its prefix."""

from __future__ import annotations

import pytest

from inspect_station.station import following_serial


@pytest.mark.parametrize(
    ("used", "offered"),
    [
        ([], "001"),
        (["001", "002"], "003"),
        (["SN-100"], "SN-101"),  # the prefix stays
        (["SN-099"], "SN-100"),  # the number grows
        (["A9"], "A10"),
        (["SN-100", "SN-101", "LABEL"], "SN-102"),  # an unnumbered serial is skipped
        (["SN-120", "SN-050"], "SN-051"),  # counts on from the last serial entered
        (["SN-050", "SN-120", "SN-050"], "SN-121"),  # a part inspected again does not count
        (["7", "8", "X-7"], "X-8"),
        (["X-1", "X-3", "X-2"], "X-4"),  # X-3 is taken: never offered twice
    ],
)
def test_following_serial(used: list[str], offered: str):
    assert following_serial(used) == offered
