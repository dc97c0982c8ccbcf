"""One back-off for gauge ports and the shipper: exponential, capped, jittered or exact."""

from __future__ import annotations

import random

from inspect_station.backoff import Backoff
from inspect_station.gauges.reader import REOPEN


def test_a_gauge_port_is_retried_on_an_exact_schedule_that_stays_under_a_second():
    assert [REOPEN.delay(attempt) for attempt in range(7)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0]


def test_jitter_keeps_each_delay_in_the_upper_half_of_its_ceiling():
    backoff = Backoff(initial=0.5, maximum=4.0, factor=3.0)
    rng = random.Random(3)
    for attempt, ceiling in [(0, 0.5), (1, 1.5), (2, 4.0), (1000, 4.0)]:
        assert backoff.ceiling(attempt) == ceiling
        delays = {backoff.delay(attempt, rng) for _ in range(10)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays) and len(delays) == 10
