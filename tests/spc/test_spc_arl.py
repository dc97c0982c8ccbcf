"""The in-control average run length: exact Markov chain vs published values and simulation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from spckit import limits

from inspect_station.spc import CusumSettings, RuleSet, in_control_arl, limits_arl
from inspect_station.spc.arl import _markov, _simulate, range_false_alarm


@pytest.mark.parametrize(
    ("rules", "published"),
    [
        # Champ & Woodall (1987), Technometrics 29(4), table 1: Shewhart chart with runs rules.
        (RuleSet(enabled=[1], range_chart=False), 370.40),
        (RuleSet(enabled=[1, 5], range_chart=False), 225.44),
        (RuleSet(enabled=[1, 6], range_chart=False), 166.05),
        (RuleSet(enabled=[1, 2], same_side=8, range_chart=False), 152.73),
        (RuleSet(enabled=[1, 5, 6], range_chart=False), 132.89),
        (RuleSet(preset="western-electric", range_chart=False), 91.75),
    ],
)
def test_markov_chain_reproduces_published_arl0(rules, published):
    arl = in_control_arl(rules)
    assert arl.method == "markov-chain"
    assert arl.points == pytest.approx(published, abs=0.01)


def test_the_exact_chain_and_a_simulation_of_the_rule_engine_agree():
    rules = RuleSet(enabled=[1, 2, 5, 6, 7, 8], range_chart=False)
    exact, _ = _markov(rules, 0.0)
    simulated, se, runs = _simulate(rules, 1, None, None, budget=250_000)
    assert runs > 1000
    assert abs(simulated - exact) < 4 * se


def test_r_chart_false_alarm_probability_for_subgroups_of_five():
    # Montgomery: with n = 5 the R chart's 3-sigma limits give alpha of about 0.0046.
    assert range_false_alarm(5) == pytest.approx(0.0046, abs=0.0001)


def test_xbar_r_arl_adds_the_range_chart_and_agrees_with_simulation():
    rules = RuleSet(preset="western-electric")
    arl = in_control_arl(rules, 5)
    assert arl.method == "markov-chain"
    assert arl.points < in_control_arl(RuleSet(preset="western-electric", range_chart=False)).points
    assert arl.readings == pytest.approx(5 * arl.points)
    simulated, se, _ = _simulate(rules, 5, None, None, budget=150_000)
    assert abs(simulated - arl.points) < 4 * se


def test_rules_outside_the_chain_are_simulated_deterministically():
    rules = RuleSet(enabled=[1, 3], range_chart=False)
    first = _simulate(rules, 1, None, None, budget=60_000)
    assert first == _simulate(rules, 1, None, None, budget=60_000)
    arl = in_control_arl(rules, budget=60_000)
    assert arl.method == "simulation" and arl.standard_error is not None
    # A trend rule only adds alarms: below rule 1 alone.
    assert arl.points < 370.4


def test_cusum_alone_has_the_published_arl0():
    # Montgomery, table 9.3: k = 1/2, h = 5 -> ARL0 = 465.
    arl = in_control_arl(
        RuleSet(enabled=[], range_chart=False),
        cusum=CusumSettings(k=Decimal("0.5"), h=Decimal(5)),
        budget=700_000,
    )
    assert abs(arl.points - 465) < 4 * arl.standard_error


def test_the_figure_is_told_as_a_sentence_and_recorded_as_strings():
    arl = in_control_arl(RuleSet(preset="western-electric", range_chart=False))
    assert arl.sentence() == (
        "With no real change, these rules raise a false alarm every 91.8 points on average "
        "(1.09 % of points; exact Markov chain)."
    )
    assert arl.record()["arl0_points"] == "91.75"
    assert arl.record()["method"] == "markov-chain"


def test_the_arl_of_a_limit_version_counts_everything_it_puts_in_force():
    xbar = limits(subgroup_size=5, rules=RuleSet(preset="western-electric"))
    assert limits_arl(xbar) == in_control_arl(RuleSet(preset="western-electric"), 5)
    assert limits_arl(xbar).readings == pytest.approx(5 * limits_arl(xbar).points)
    with_cusum = limits(
        rules=RuleSet(preset="western-electric", range_chart=False), cusum=CusumSettings()
    )
    arl = limits_arl(with_cusum, budget=40_000)
    assert arl.method == "simulation"
    assert arl.points < 91.75  # a CUSUM on top of the WE rules only adds false alarms


def test_settings_that_can_never_alarm_say_so_and_record_no_number():
    arl = in_control_arl(RuleSet(enabled=[], range_chart=False))
    assert arl.false_alarm_rate == 0.0
    assert arl.sentence() == (
        "With no rule, range chart or detector in force, these settings never alarm."
    )
    assert arl.record()["arl0_points"] is None
    assert arl.record()["false_alarm_rate"] == "0.000000"
