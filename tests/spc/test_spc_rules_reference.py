"""The incremental rule engine equals a direct reading of the rules' definitions.

The reference below re-examines the whole window ending at each point (O(window) per point),
straight from the definitions in the README: strict "beyond", the centre line on neither side,
ties ending trends and alternations, and a rule forgetting the points up to one that fired.
Hypothesis feeds both the same series, with values on the zone boundaries and many ties.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st
from propertykit import examples
from spckit import limits, series

from inspect_station.spc import RuleSet, replay


def side(z: Decimal) -> int:
    return 1 if z > 0 else -1 if z < 0 else 0


def band(z: Decimal) -> int:
    a = abs(z)
    return 3 if a > 3 else 2 if a > 2 else 1 if a > 1 else 0


def reference(zs: list[Decimal], rules: RuleSet) -> list[tuple[str, int, int]]:
    """(rule, point, first) of every violation, by re-reading each window."""
    start = dict.fromkeys(range(1, 9), 0)
    out = []
    for i, z in enumerate(zs):
        for rule in rules.enabled:
            lo = start[rule]

            def last(k: int, lo: int = lo, i: int = i) -> list[Decimal] | None:
                return zs[i - k + 1 : i + 1] if i - k + 1 >= lo else None

            first = None
            if rule == 1 and band(z) == 3:
                first = i
            elif rule == 2 and (w := last(rules.same_side)):
                if side(w[0]) != 0 and all(side(v) == side(w[0]) for v in w):
                    first = i - rules.same_side + 1
            elif rule == 3 and (w := last(rules.trend)):
                steps = [side(b - a) for a, b in pairwise(w)]
                if steps[0] != 0 and all(s == steps[0] for s in steps):
                    first = i - rules.trend + 1
            elif rule == 4 and (w := last(rules.alternating)):
                steps = [side(b - a) for a, b in pairwise(w)]
                if all(s != 0 for s in steps) and all(s == -t for s, t in pairwise(steps)):
                    first = i - rules.alternating + 1
            elif rule in (5, 6):
                a, b = rules.beyond_two if rule == 5 else rules.beyond_one
                need = 2 if rule == 5 else 1
                flag = side(z) if band(z) >= need else 0
                window = list(range(max(lo, i - b + 1), i + 1))
                hits = [j for j in window if band(zs[j]) >= need and side(zs[j]) == flag]
                if flag and len(hits) >= a:
                    first = hits[0]
            elif rule == 7 and (w := last(rules.within_one)):
                if all(band(v) == 0 for v in w):
                    first = i - rules.within_one + 1
            elif rule == 8 and (w := last(rules.outside_one)) and all(band(v) >= 1 for v in w):
                first = i - rules.outside_one + 1
            if first is not None:
                out.append((str(rule), i, first))
                start[rule] = i + 1
    return out


values = st.lists(
    st.integers(min_value=-8, max_value=8).map(lambda k: Decimal(k) / 2), max_size=120
)
rule_sets = st.sampled_from(
    [
        RuleSet(range_chart=False),
        RuleSet(preset="western-electric", range_chart=False),
        RuleSet(preset="aiag", range_chart=False),
        RuleSet(
            range_chart=False,
            same_side=5,
            trend=5,
            alternating=8,
            beyond_two=[2, 4],
            beyond_one=[3, 3],
            within_one=8,
            outside_one=5,
        ),
    ]
)


@settings(max_examples=examples(300), deadline=None)
@given(zs=values, rules=rule_sets)
def test_incremental_rules_equal_the_definitions(zs, rules):
    result = replay(series(*zs, centre="0"), limits(centre="0", sigma="1", rules=rules))
    got = sorted((v.rule, v.point, v.first) for v in result.violations)
    assert got == sorted(reference(zs, rules))
    for v in result.violations:
        assert v.refs == tuple(f"r{j + 1}" for j in range(v.first, v.point + 1))
