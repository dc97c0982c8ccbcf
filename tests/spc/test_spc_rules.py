"""The Nelson rules: each with a series that must trigger it and a near-miss that must not."""

from __future__ import annotations

from decimal import Decimal

import pytest
from spckit import limits, series

from inspect_station.spc import Monitor, RuleSet, SpcError, replay


def only(rule: int, **params: object) -> RuleSet:
    return RuleSet(enabled=[rule], range_chart=False, **params)


def fired(rule: int, zs: list[float], **params: object) -> list[tuple[str, int, tuple[str, ...]]]:
    result = replay(series(*zs), limits(rules=only(rule, **params)))
    return [(v.rule, v.point, v.refs) for v in result.violations]


ALT = [0.5 if i % 2 == 0 else -0.5 for i in range(40)]

CASES = [
    # rule, triggering series, near-miss series, index of the point that completes it
    (1, [0, 0, 3.001], [0, 0, 3.0, -3.0, 2.999], 2),
    (2, [0.5] * 9, [0.5] * 8 + [0] + [0.5] * 8, 8),
    (3, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.6, 0.7, 0.8, 0.9], 5),
    (4, ALT[:14], [*ALT[:13], 1.0, *ALT[:12]], 13),
    (5, [2.1, 0, 2.1], [2.1, 0, -2.1, 0, 0, 2.1, 2.0, 2.0], 2),
    (6, [1.1, 1.1, 0, 1.1, 1.1], [1.1, 1.1, 0, 0, 1.1, 1.1, 1.0, 1.0], 4),
    (7, [0.2 * ((-1) ** i) for i in range(15)], [0.2] * 14 + [1.5] + [0.2] * 14, 14),
    (8, [1.5 * ((-1) ** i) for i in range(8)], [1.5] * 7 + [0.5] + [-1.5] * 7, 7),
]


@pytest.mark.parametrize(
    ("rule", "trigger", "near", "at"), CASES, ids=[f"rule{c[0]}" for c in CASES]
)
def test_each_rule_fires_on_its_pattern_and_not_on_a_near_miss(rule, trigger, near, at):
    hits = fired(rule, trigger)
    assert [(r, p) for r, p, _ in hits] == [(str(rule), at)]
    assert fired(rule, near) == []


def test_a_violation_names_the_readings_of_its_pattern_and_says_what_happened():
    result = replay(series(*([0.5] * 9)), limits(rules=only(2)))
    (violation,) = result.violations
    assert violation.refs == tuple(f"r{i}" for i in range(1, 10))
    assert violation.sentence == (
        "Nelson rule 2: 9 points in a row on one side of the centre line (points 1 to 9, above)."
    )
    assert violation.record()["readings"] == [f"r{i}" for i in range(1, 10)]


def test_rule_5_reports_the_span_from_its_first_flagged_point():
    (violation,) = replay(series(0, 2.5, 0.3, 2.2), limits(rules=only(5))).violations
    assert violation.refs == ("r2", "r3", "r4")


def test_a_pattern_raises_one_alarm_and_a_continued_one_another():
    hits = fired(2, [0.5] * 18)
    assert [p for _, p, _ in hits] == [8, 17]


def test_run_lengths_are_configurable():
    assert [p for _, p, _ in fired(2, [0.5] * 7, same_side=7)] == [6]
    assert fired(2, [0.5] * 7) == []
    assert [p for _, p, _ in fired(5, [2.1, 0, 0, 2.1], beyond_two=[2, 4])] == [3]
    assert fired(5, [2.1, 0, 0, 2.1]) == []


def test_western_electric_preset_is_rules_1_5_6_and_eight_on_one_side():
    rules = RuleSet(preset="western-electric")
    assert rules.enabled == (1, 2, 5, 6)
    assert rules.same_side == 8
    result = replay(series(*([0.5] * 8)), limits(rules=rules))
    assert [v.rule for v in result.violations] == ["2"]


def test_all_rules_together_report_every_pattern_a_point_completes():
    # 2.5 sigma then 3.5 sigma: rule 5 (2 of 3 beyond 2 sigma) and rule 1 at the same point.
    result = replay(series(0, 2.5, 3.5), limits(rules=RuleSet(range_chart=False)))
    assert sorted(v.rule for v in result.violations) == ["1", "5"]
    assert {v.point for v in result.violations} == {2}


def test_moving_range_chart_flags_a_jump_between_two_in_control_readings():
    # 2.5 then -2.5: each within the limits, the moving range 5.0 above 3.685.
    result = replay(series(2.5, -2.5), limits(rules=RuleSet(enabled=[1], range_chart=True)))
    (violation,) = result.violations
    assert (violation.chart, violation.rule, violation.refs) == ("range", "1", ("r1", "r2"))
    assert "moving range" in violation.sentence


def test_range_chart_with_a_positive_lower_limit_flags_too_little_spread():
    n = 7
    lim = limits(
        subgroup_size=n,
        rules=RuleSet(enabled=[1]),
        range_centre="2.704",
        range_ucl="5.203",
        range_lcl="0.206",
    )
    flat = [(f"r{i}", Decimal("10.000") + Decimal(i % 2) / 10) for i in range(n)]
    (violation,) = replay(flat, lim).violations
    assert violation.chart == "range"
    assert "below its lower limit" in violation.sentence


def test_subgroup_means_are_compared_exactly_not_through_a_rounded_division():
    # UCL 1.0002; the first subgroup's mean is exactly 1.0002 (a float mean says
    # 1.0002000000000002 and would raise a false alarm), the second's is above it.
    lim = limits(centre="0.9999", sigma="0.0001", subgroup_size=3, rules=only(1), digits=4)
    readings = [
        ("a", Decimal("1.0001")),
        ("b", Decimal("1.0002")),
        ("c", Decimal("1.0003")),
        ("d", Decimal("1.0001")),
        ("e", Decimal("1.0002")),
        ("f", Decimal("1.0004")),
    ]
    result = replay(readings, lim)
    assert [(v.point, v.refs) for v in result.violations] == [(1, ("d", "e", "f"))]
    assert result.points[0].value == Decimal("1.0002")


def test_monitor_plots_a_subgroup_only_when_it_is_complete():
    monitor = Monitor(limits(subgroup_size=2, rules=only(1)))
    assert monitor.feed("a", Decimal("10.0")) is None
    assert monitor.pending == 1
    point = monitor.feed("b", Decimal("10.4"))
    assert point is not None
    assert (point.index, point.refs, point.value, point.spread) == (
        0,
        ("a", "b"),
        Decimal("10.2"),
        Decimal("0.4"),
    )


@pytest.mark.parametrize("bad", [10.0, Decimal("NaN"), Decimal("Infinity"), "10.0"])
def test_monitor_refuses_a_value_that_is_not_an_exact_finite_decimal(bad):
    with pytest.raises(SpcError, match="not an exact finite decimal"):
        Monitor(limits()).feed("r1", bad)


def test_feeding_one_at_a_time_and_replaying_give_the_same_violations():
    zs = [0, 2.5, 2.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.2, -3.2, *([0.1] * 9)]
    lim = limits(rules=RuleSet())
    monitor = Monitor(lim)
    live = [v for ref, value in series(*zs) for v in monitor.feed(ref, value).violations]
    assert live == list(replay(series(*zs), lim).violations)
    assert {v.rule for v in live} >= {"1", "2", "3", "5"}


def test_the_same_history_replays_to_the_same_violations_after_a_round_trip_of_the_limits():
    lim = limits(rules=RuleSet())
    again = type(lim).from_body(lim.body(), lim.content_hash)
    zs = [((i * 37) % 11 - 5) / 2 for i in range(200)]
    assert replay(series(*zs), lim).violations == replay(series(*zs), again).violations
