"""The vectorised replay (``spc.vector``) finds exactly what the reference ``replay`` finds.

Random series on a grid that lands on the centre line and every zone boundary, random limit
versions (centre, sigma, subgroup size, rule sets and run lengths, range chart, CUSUM/EWMA) and
random shifts: the same violations (rule, chart, point, first point, readings, sentence) in the
same order, the same newest points.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from propertykit import examples
from spckit import limits, series

from inspect_station.spc import CusumSettings, EwmaSettings, RuleSet, replay
from inspect_station.spc.vector import replay_series

pytest.importorskip("numpy")

RULE_SETS = st.builds(
    lambda preset, enabled, same, trend, alt, two_b, one_b, within, outside, rng: RuleSet(
        preset=preset,
        enabled=tuple(enabled),
        same_side=same,
        trend=trend,
        alternating=alt,
        beyond_two=(2, two_b),
        beyond_one=(min(4, one_b), one_b),
        within_one=within,
        outside_one=outside,
        range_chart=rng,
    ),
    st.sampled_from(["nelson", "western-electric", "aiag"]),
    st.sets(st.integers(1, 8), min_size=1),
    st.integers(5, 9),
    st.integers(5, 7),
    st.integers(8, 10),
    st.integers(2, 4),
    st.integers(4, 6),
    st.integers(8, 10),
    st.integers(5, 7),
    st.booleans(),
)


@st.composite
def cases(draw):
    n = draw(st.sampled_from([1, 1, 2, 3, 5]))
    centre = draw(st.sampled_from(["10.000", "0.000", "-3.250", "120.000"]))
    sigma = draw(st.sampled_from(["1.000", "0.250", "0.010"]))
    extra = {}
    if draw(st.booleans()):
        extra["cusum"] = CusumSettings(k=Decimal("0.5"), h=Decimal(draw(st.sampled_from([2, 4]))))
    if draw(st.booleans()):
        extra["ewma"] = EwmaSettings(lam=Decimal("0.2"), width=Decimal("2.5"))
    version = limits(
        centre=centre,
        sigma=sigma,
        subgroup_size=n,
        rules=draw(RULE_SETS),
        range_centre=str(Decimal("1.128") * Decimal(sigma)),
        range_ucl=str(Decimal(draw(st.sampled_from(["1.5", "3.685", "2"]))) * Decimal(sigma)),
        range_lcl=str(Decimal(draw(st.sampled_from(["0", "0.25"]))) * Decimal(sigma)),
        **extra,
    )
    s = Decimal(sigma)
    # z in sigma units on a grid of quarter sigmas: many points exactly on a boundary.
    steps = draw(st.lists(st.integers(-14, 14), min_size=0, max_size=160))
    shift_at = draw(st.integers(0, 160))
    shift = draw(st.integers(-6, 6))
    zs = [
        (Decimal(q) / 4 + (Decimal(shift) / 4 if i >= shift_at else 0)) * s
        for i, q in enumerate(steps)
    ]
    readings = series(*(format(z, "f") for z in zs), centre=centre)
    return version, readings


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.integers(0, 30))
def test_the_vectorised_replay_finds_exactly_what_the_monitor_finds(case, keep):
    version, readings = case
    reference = replay(readings, version)
    refs = [r for r, _ in readings]
    texts = [format(v, "f") for _, v in readings]
    result = replay_series(texts, refs, version, keep=keep)
    assert result.violations == reference.violations
    assert result.plotted == len(reference.points)
    assert result.pending == reference.pending
    assert result.points == (reference.points[-keep:] if keep else ())


def test_a_reading_on_a_boundary_is_judged_exactly_as_the_monitor_judges_it():
    # 13.000 is exactly the UCL: inside (not rule 1); 13.001 is beyond.
    version = limits()
    readings = series("3.000", "3.001", "-3.000", "-3.001")
    texts = [format(v, "f") for _, v in readings]
    result = replay_series(texts, [r for r, _ in readings], version)
    assert [(v.rule, v.point) for v in result.violations if (v.rule, v.chart) == ("1", "x")] == [
        ("1", 1),
        ("1", 3),
    ]
    assert result.violations == replay(readings, version).violations
