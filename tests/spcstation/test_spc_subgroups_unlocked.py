"""A characteristic whose spec declares a subgroup size is charted and judged as X-bar/R before
any lock: subgroup means and ranges, limits from R-bar proposed from the first subgroups,
labelled "not locked" -- in the report and on the station's live chart (nothing alarms)."""

from __future__ import annotations

from decimal import Decimal

from spcstationkit import BASELINE, SPEC, kinds, measure_parts, session_of, spc_station

from inspect_station.records import LocalSource
from inspect_station.reports.spc import ReportScope, spc_report
from inspect_station.spc import exact
from inspect_station.spc.constants import constants

SUBGROUPS = SPEC.replace("[spc]\nbaseline = 10", "[spc]\nbaseline = 10\nsubgroup_size = 3")


def test_a_subgroup_spec_without_a_lock_is_charted_and_judged_as_x_bar_r(tmp_path):
    assert SUBGROUPS != SPEC
    service = spc_station(tmp_path, spec=SUBGROUPS)
    session = session_of(service)
    values = BASELINE * 3  # ten subgroups of three
    measure_parts(session, values)

    # The station's chart: subgroup means and ranges, limits proposed, not locked.
    chart = session.spc.chart("1")
    assert chart is not None and not chart.locked and chart.proposed is not None
    assert chart.subgroup_size == 3 and "X̄-R n=3" in chart.title and "not locked" in chart.title
    assert len(chart.points) == 10
    first = [Decimal(v) for v in values[:3]]
    assert chart.points[0].value == exact.CONTEXT.divide(sum(first), 3)
    assert chart.points[0].spread == max(first) - min(first)
    ranges = [max(values[i : i + 3]) for i in range(0, 30, 3)]
    r_bar = (
        sum(
            Decimal(max(values[i : i + 3], key=Decimal))
            - Decimal(min(values[i : i + 3], key=Decimal))
            for i in range(0, 30, 3)
        )
        / 10
    )
    assert ranges  # (the ranges above, as text)
    a2, d4 = constants(3).a2, constants(3).d4
    assert abs(chart.proposed.ucl - (chart.proposed.centre + a2 * r_bar)) < Decimal("0.002")
    assert abs(chart.proposed.range_ucl - d4 * r_bar) < Decimal("0.002")

    # A subgroup whose mean is beyond the proposed UCL: rule 1 on the X-bar chart, marked on
    # the chart; no alarm record, nothing held (the limits are not locked).
    measure_parts(session, ["10.20", "10.20", "10.20"])
    chart = session.spc.chart("1")
    assert chart.points[-1].value == Decimal("10.20") and chart.points[-1].alarmed
    assert "spc_hold" not in kinds(service) and "spc_violation" not in kinds(service)

    # The report: X-bar/R figures (sigma within from R-bar/d2), the same proposed limits,
    # labelled not locked, and rule 1 on the subgroup mean of the last three readings.
    report = spc_report(LocalSource(service.store), ReportScope(part_number="SPC-1"))
    c = next(c for c in report.characteristics if c.id == "1")
    assert c.capability.subgroup_size == 3 and c.limits is not None
    assert c.limits.chart == "xbar-r" and not c.locked
    assert c.limits_label == "limits derived from the first 30 readings (not locked)"
    assert (c.limits.ucl, c.limits.centre) == (chart.proposed.ucl, chart.proposed.centre)
    rule1 = [v for v in c.violations if (v.rule, v.chart) == ("1", "x")]
    assert rule1 and rule1[-1].point == 10 and len(rule1[-1].refs) == 3
    # Eleven subgroups (the last one's range is 0): sigma within = R-bar / d2(3).
    within = float(r_bar * 10 / 11) / float(constants(3).d2)
    assert c.capability.sigma_within == round(Decimal(within), c.capability.digits)
